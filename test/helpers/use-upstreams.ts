import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Emulator } from '../emulators/index.js';
import { type StartOptions, startGateway, type TestGateway } from './start-gateway.js';

/**
 * A gateway and `count` emulators for the tests of a file or describe,
 * started before them and closed after them. The getter throws if read
 * before beforeAll has run.
 */
function useGatewayWith(count: number, startEmulator: () => Promise<Emulator>, gateway: StartOptions): () => { gw: TestGateway; emulators: Emulator[] } {
  let started: { gw: TestGateway; emulators: Emulator[] } | undefined;
  beforeAll(async () => {
    const [gw, ...emulators] = await Promise.all([startGateway(gateway), ...Array.from({ length: count }, () => startEmulator())]);
    started = { gw: gw as TestGateway, emulators: emulators as Emulator[] };
  });
  afterAll(async () => {
    await started?.gw.close();
    for (const e of started?.emulators ?? []) await e.close();
  });
  return () => {
    if (!started) throw new Error('The gateway and emulators start in beforeAll: read them inside a test or hook.');
    return started;
  };
}

/** A gateway and one emulator for a file's tests; read the getters inside tests and hooks. */
export function useUpstream(startEmulator: () => Promise<Emulator>, gateway: StartOptions = {}): { readonly gw: TestGateway; readonly emulator: Emulator } {
  const get = useGatewayWith(1, startEmulator, gateway);
  return {
    get gw() {
      return get().gw;
    },
    get emulator() {
      return get().emulators[0]!;
    },
  };
}

export interface TwoUpstreams {
  readonly gw: TestGateway;
  /** The emulator whose keys a test routes first. */
  readonly a: Emulator;
  /** The emulator a request fails over to. */
  readonly b: Emulator;
}

/**
 * A gateway and two emulators of one wire for the tests of a file or
 * describe, the emulators reset before each test. Read the getters inside
 * tests and hooks; a beforeAll registered after this call sees them started.
 */
export function useTwoUpstreams(startEmulator: () => Promise<Emulator>, gateway: StartOptions = {}): TwoUpstreams {
  const get = useGatewayWith(2, startEmulator, gateway);
  beforeEach(() => {
    for (const e of get().emulators) e.reset();
  });
  return {
    get gw() {
      return get().gw;
    },
    get a() {
      return get().emulators[0]!;
    },
    get b() {
      return get().emulators[1]!;
    },
  };
}
