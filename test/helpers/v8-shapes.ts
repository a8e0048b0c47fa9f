import { setFlagsFromString } from 'node:v8';

// V8's own answers about object shapes; the flag only has to be on when these are compiled.
setFlagsFromString('--allow-natives-syntax');

/** True when V8 gave both objects the same hidden class. */
export const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** False for an object V8 keeps in dictionary (slow) mode. */
export const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
