// The slice of autocannon 8's programmatic API the benchmark uses (the
// package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface AutocannonClient extends EventEmitter {
    on(event: 'request' | 'done' | 'reset' | 'timeout', listener: () => void): this;
    on(event: 'body', listener: (chunk: Buffer) => void): this;
    on(event: 'headers', listener: (info: { statusCode: number }) => void): this;
    on(event: 'response', listener: (statusCode: number, bytes: number, durationMs: number) => void): this;
  }

  export interface AutocannonOptions {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Each request in turn; `setupRequest` may rewrite it (here: a new body every time). */
    requests?: Array<{ setupRequest?: <R extends { body?: string | Buffer }>(req: R) => R }>;
    connections?: number;
    pipelining?: number;
    /** Seconds. */
    duration?: number;
    amount?: number;
    /** Seconds. */
    timeout?: number;
    workers?: number;
    setupClient?: (client: AutocannonClient) => void;
    verifyBody?: (body: string) => boolean;
    expectBody?: string;
  }

  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    [percentile: string]: number;
  }

  export interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
    throughput: Histogram;
  }

  export interface Instance extends EventEmitter {
    on(event: 'response', listener: (client: AutocannonClient, statusCode: number, bytes: number, durationMs: number) => void): this;
    on(event: 'reqError', listener: (error: Error) => void): this;
    on(event: 'done', listener: (result: AutocannonResult) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    stop(): void;
  }

  function autocannon(options: AutocannonOptions, callback?: (err: Error | null, result: AutocannonResult) => void): Instance;
  export default autocannon;
}
