import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** Random bytes drawn at once: crypto's call costs microseconds whatever the size, so it is made rarely (every ~80 requests). */
const POOL_BYTES = 4096;
/** Bytes turned into hex at once: 32 span ids; every id is a slice of this string, which lives as long as its ids. */
const CHUNK_BYTES = 256;
const ZERO_SPAN_ID = '0'.repeat(16);
const ZERO_TRACE_ID = '0'.repeat(32);

/**
 * Trace and span ids cut from a pool of random hex. A traced request takes
 * five ids; the SDK's RandomIdGenerator makes each with its own
 * Buffer-to-hex call, which inside a busy gateway costs more than the
 * rest of drawing the span. Here the bytes are crypto's, drawn 4 KB at a
 * time, turned into hex 256 bytes at a time, and each id is a slice.
 */
export class PooledIdGenerator implements IdGenerator {
  readonly #bytes = Buffer.allocUnsafe(POOL_BYTES);
  /** Where the next chunk starts in #bytes (POOL_BYTES: draw again). */
  #byte = POOL_BYTES;
  #hex = '';
  #at = 0;

  generateTraceId(): string {
    return this.#next(32, ZERO_TRACE_ID);
  }

  generateSpanId(): string {
    return this.#next(16, ZERO_SPAN_ID);
  }

  #next(chars: number, zero: string): string {
    for (;;) {
      if (this.#at + chars > this.#hex.length) this.#refill();
      const id = this.#hex.slice(this.#at, this.#at + chars);
      this.#at += chars;
      // All zeros is not a valid id (W3C trace context): draw again.
      if (id !== zero) return id;
    }
  }

  #refill(): void {
    if (this.#byte === POOL_BYTES) {
      randomFillSync(this.#bytes);
      this.#byte = 0;
    }
    this.#hex = this.#bytes.toString('hex', this.#byte, this.#byte + CHUNK_BYTES);
    this.#byte += CHUNK_BYTES;
    this.#at = 0;
  }
}
