import { Writable } from 'node:stream';
import { createLogger } from '../../src/create-logger.js';

/** The process's own logger (createLogger) writing into memory, for tests that read what was logged. */
export function capturedLogger(level = 'debug') {
  const lines: string[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      lines.push(...parts.filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}
