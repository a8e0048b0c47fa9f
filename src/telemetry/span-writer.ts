import type { AttributeValue, Attributes } from '@opentelemetry/api';

// The bytes of an OTLP Span, written straight into a slab: what the
// transformer's ProtobufWriter and attribute serializer write, byte for
// byte (test/core/otlp-protobuf.test.ts holds them to it), in fewer steps.
// A span's tags are constants, an attribute's key field is written once per
// key and then copied, a string is written as it is checked for ASCII, and
// lengths are reserved and fixed up afterwards, shifting the bytes only
// when a message turns out longer than its reserved length can say (a span
// of over 16 KB, an attribute of over 127 bytes).

/** A run of bytes spans are written into, one after another; grows (copying) when a span outgrows it. */
export class Slab {
  bytes: Buffer;
  pos = 0;

  constructor(size: number) {
    // Unzeroed: every byte handed on is written first.
    this.bytes = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    const needed = this.pos + n;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.bytes.copy(bigger, 0, 0, this.pos);
    this.bytes = bigger;
  }
}

/** Bytes a varint of `value` (0 to 2^32 - 1) takes. */
function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** A non-negative 32-bit varint at `at`; returns the position after it. */
function varintAt(bytes: Buffer, at: number, value: number): number {
  while (value > 0x7f) {
    bytes[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[at++] = value;
  return at;
}

/** A varint, as the transformer writes any number: 32-bit values directly, the rest (negatives in ten bytes) as 64-bit. */
export function writeVarint(s: Slab, value: number): void {
  s.room(10);
  if (value >= 0 && value <= 0xffffffff) {
    s.pos = varintAt(s.bytes, s.pos, value >>> 0);
    return;
  }
  const abs = Math.abs(value);
  let low = abs >>> 0;
  let high = (abs / 0x100000000) >>> 0;
  if (value < 0) {
    low = ~low >>> 0;
    high = ~high >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
  const bytes = s.bytes;
  let pos = s.pos;
  while (high > 0 || low > 0x7f) {
    bytes[pos++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  bytes[pos++] = low & 0x7f;
  s.pos = pos;
}

/** A field's tag, as its one byte: (field << 3) | wire type, for fields below 16. */
export function writeTag(s: Slab, tag: number): void {
  s.room(1);
  s.bytes[s.pos++] = tag;
}

/** Opens a length-delimited field whose length is expected to fit one byte: returns where the length goes. */
export function open(s: Slab): number {
  s.room(1);
  return s.pos++;
}

/** Writes the length of the field opened at `at`, moving its bytes on when the length needs more than the one byte reserved. */
export function close(s: Slab, at: number): void {
  const length = s.pos - at - 1;
  if (length < 0x80) {
    s.bytes[at] = length;
    return;
  }
  const size = varintSize(length);
  s.room(size - 1);
  s.bytes.copyWithin(at + size, at + 1, s.pos);
  s.pos += size - 1;
  varintAt(s.bytes, at, length);
}

/** Opens a length-delimited field two bytes are reserved for (a span: longer than 127 bytes, shorter than 16 KB, as a rule). */
export function openWide(s: Slab): number {
  s.room(2);
  const at = s.pos;
  s.pos += 2;
  return at;
}

export function closeWide(s: Slab, at: number): void {
  const length = s.pos - at - 2;
  const bytes = s.bytes;
  if (length >= 0x80 && length < 0x4000) {
    bytes[at] = (length & 0x7f) | 0x80;
    bytes[at + 1] = length >>> 7;
    return;
  }
  const size = varintSize(length);
  if (size > 2) s.room(size - 2);
  s.bytes.copyWithin(at + size, at + 2, s.pos);
  s.pos += size - 2;
  varintAt(s.bytes, at, length);
}

/** A string field's length and UTF-8 bytes. */
export function writeString(s: Slab, str: string): void {
  const length = str.length;
  if (length < 0x80) {
    // ASCII, checked while it is written: one byte of length, one byte a character.
    s.room(length + 1);
    const bytes = s.bytes;
    const at = s.pos;
    let pos = at + 1;
    for (let i = 0; i < length; i++) {
      const code = str.charCodeAt(i);
      if (code > 0x7f) {
        writeUtf8(s, str);
        return;
      }
      bytes[pos++] = code;
    }
    bytes[at] = length;
    s.pos = pos;
    return;
  }
  writeUtf8(s, str);
}

function writeUtf8(s: Slab, str: string): void {
  const length = Buffer.byteLength(str, 'utf8');
  s.room(length + 5);
  s.pos = varintAt(s.bytes, s.pos, length);
  s.pos += s.bytes.write(str, s.pos, length, 'utf8');
}

/** Raw bytes (already a field's tag, length and content). */
function writeRaw(s: Slab, raw: Uint8Array): void {
  s.room(raw.length);
  s.bytes.set(raw, s.pos);
  s.pos += raw.length;
}

/** A bytes field's length and content. */
export function writeBytes(s: Slab, raw: Uint8Array): void {
  s.room(raw.length + 5);
  s.pos = varintAt(s.bytes, s.pos, raw.length);
  writeRaw(s, raw);
}

/** A bytes field from a hex id (a trace or span id): its length and the bytes the hex says. */
export function writeHexId(s: Slab, hex: string): void {
  const length = hex.length >>> 1;
  if (length >= 0x80 || hex.length & 1) {
    writeBytes(s, Buffer.from(hex, 'hex'));
    return;
  }
  s.room(length + 1);
  const bytes = s.bytes;
  let pos = s.pos;
  bytes[pos++] = length;
  for (let i = 0; i < hex.length; i += 2) bytes[pos++] = HEX_PAIRS[(hex.charCodeAt(i) << 7) | hex.charCodeAt(i + 1)] ?? 0;
  s.pos = pos;
}

/** Each pair of hex digits' byte, by (first character code << 7 | second). */
const HEX_PAIRS = new Uint8Array(128 * 128);
{
  const digits = '0123456789abcdefABCDEF';
  const value = (c: string) => parseInt(c, 16);
  for (const a of digits) for (const b of digits) HEX_PAIRS[(a.charCodeAt(0) << 7) | b.charCodeAt(0)] = (value(a) << 4) | value(b);
}

/** Little-endian fixed32. */
export function writeFixed32(s: Slab, value: number): void {
  s.room(4);
  s.pos = s.bytes.writeUInt32LE(value >>> 0, s.pos);
}

/** Little-endian fixed64 from its two halves (the transformer's writeHrTimeAsFixed64 calls it so). */
export function writeFixed64(s: Slab, low: number, high: number): void {
  s.room(8);
  const bytes = s.bytes;
  const at = bytes.writeUInt32LE(low >>> 0, s.pos);
  s.pos = bytes.writeUInt32LE(high >>> 0, at);
}

/** Each attribute key's KeyValue.key field (tag, length, UTF-8), written once. */
const KEY_FIELDS = new Map<string, Uint8Array>();
/** Keys are the gateway's own names, a bounded set; past this many the rest are written each time. */
const MAX_KEY_FIELDS = 1024;

function keyField(key: string): Uint8Array | undefined {
  let field = KEY_FIELDS.get(key);
  if (field === undefined && KEY_FIELDS.size < MAX_KEY_FIELDS) {
    const s = new Slab(key.length * 3 + 6);
    s.bytes[s.pos++] = 0x0a;
    writeString(s, key);
    field = Uint8Array.from(s.bytes.subarray(0, s.pos));
    KEY_FIELDS.set(key, field);
  }
  return field;
}

/** Attributes as repeated KeyValue in field `tag` (a tag byte: field < 16, length-delimited), in the transformer's order and encoding. */
export function writeAttributes(s: Slab, attributes: Attributes, tag: number): void {
  for (const key in attributes) if (Object.hasOwn(attributes, key)) writeKeyValue(s, tag, key, attributes[key]);
}

/** One KeyValue message in field `tag`: its key (the field written once per key), then its AnyValue. */
function writeKeyValue(s: Slab, tag: number, key: string, value: AttributeValue | undefined): void {
  writeTag(s, tag);
  const kv = open(s);
  const field = keyField(key);
  if (field) writeRaw(s, field);
  else {
    writeTag(s, 0x0a);
    writeString(s, key);
  }
  // KeyValue.value (2): an AnyValue.
  writeTag(s, 0x12);
  const at = open(s);
  writeAnyValue(s, value);
  close(s, at);
  close(s, kv);
}

function writeAnyValue(s: Slab, value: AttributeValue | null | undefined | Record<string, unknown>): void {
  s.room(1);
  switch (typeof value) {
    case 'string':
      s.bytes[s.pos++] = 0x0a; // string_value (1)
      writeString(s, value);
      return;
    case 'boolean':
      s.bytes[s.pos++] = 0x10; // bool_value (2)
      writeVarint(s, value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
        s.bytes[s.pos++] = 0x18; // int_value (3)
        writeVarint(s, value);
        return;
      }
      s.bytes[s.pos++] = 0x21; // double_value (4)
      s.room(8);
      s.pos = s.bytes.writeDoubleLE(value, s.pos);
      return;
  }
  if (value instanceof Uint8Array) {
    s.bytes[s.pos++] = 0x3a; // bytes_value (7)
    writeBytes(s, value);
    return;
  }
  if (Array.isArray(value)) {
    s.bytes[s.pos++] = 0x2a; // array_value (5): ArrayValue.values (1), each an AnyValue
    const array = open(s);
    for (const item of value) {
      writeTag(s, 0x0a);
      const at = open(s);
      writeAnyValue(s, item);
      close(s, at);
    }
    close(s, array);
    return;
  }
  if (typeof value === 'object' && value !== null) {
    s.bytes[s.pos++] = 0x32; // kvlist_value (6): KeyValueList.values (1), each a KeyValue
    const list = open(s);
    for (const key in value) if (Object.hasOwn(value, key)) writeKeyValue(s, 0x0a, key, (value as Record<string, AttributeValue>)[key]);
    close(s, list);
  }
  // Anything else (null, undefined): an empty AnyValue, as the transformer writes it.
}
