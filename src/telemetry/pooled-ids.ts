import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** Random bytes drawn at once: 32 span ids' worth. */
const POOL_BYTES = 256;
const ZERO_SPAN_ID = '0'.repeat(16);
const ZERO_TRACE_ID = '0'.repeat(32);

/**
 * Trace and span ids cut from a pool of random hex. A traced request takes
 * five ids; the SDK's RandomIdGenerator makes each with its own
 * Buffer-to-hex call, which inside a busy gateway costs more than the
 * rest of drawing the span. Here one call turns 256 random bytes
 * (crypto's, not Math.random's) into hex, and each id is a slice of it.
 */
export class PooledIdGenerator implements IdGenerator {
  readonly #bytes = Buffer.allocUnsafe(POOL_BYTES);
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
      if (this.#at + chars > this.#hex.length) {
        randomFillSync(this.#bytes);
        this.#hex = this.#bytes.toString('hex');
        this.#at = 0;
      }
      const id = this.#hex.slice(this.#at, this.#at + chars);
      this.#at += chars;
      // All zeros is not a valid id (W3C trace context): draw again.
      if (id !== zero) return id;
    }
  }
}
