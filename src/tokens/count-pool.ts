// Worker threads that count tokens off the event loop, for prompts over the
// loop's budget (count-tokens.ts). Started on first use, at most MAX_WORKERS,
// unref'd (they never keep the process alive), and each ends after IDLE_MS
// without work, taking its tokenizer's memory with it.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CountJob, CountResult } from './count-worker.js';

/** Two: one very large prompt does not hold up every other count, and the host has two cores. */
export const MAX_WORKERS = 2;
const IDLE_MS = 30_000;
/** Characters waiting beyond which a count is refused (the caller keeps its upper bound). */
const MAX_QUEUED_CHARS = 64 * 1024 * 1024;

interface Pending {
  job: CountJob;
  chars: number;
  resolve(counts: number[]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The compiled gateway (dist/server) runs count-worker.js as it is; from the
 * TypeScript sources (tsx, vitest) the worker registers tsx's loader first.
 */
function startWorker(): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./count-worker.js', self));
  const tsxDir = new URL('.', pathToFileURL(createRequire(self).resolve('tsx/package.json')));
  const loader = new URL('dist/esm/api/index.mjs', tsxDir).href;
  const entry = new URL('./count-worker.ts', self).href;
  return new Worker(`import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, {
    eval: true,
  });
}

/** The text's UTF-16 bytes in memory of their own (not Buffer's shared pool), so they can be transferred. */
function utf16(text: string): Uint8Array {
  const bytes = Buffer.allocUnsafeSlow(text.length * 2);
  bytes.write(text, 'utf16le');
  return bytes;
}

class CountPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #queuedChars = 0;
  #nextId = 0;
  #closing = false;

  count(texts: string[]): Promise<number[]> {
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (this.#queuedChars + chars > MAX_QUEUED_CHARS) {
      return Promise.reject(new Error('token counting is busy: too much text waiting to be counted'));
    }
    this.#closing = false;
    return new Promise((resolve, reject) => {
      this.#queue.push({ job: { id: this.#nextId++, texts: texts.map(utf16) }, chars, resolve, reject });
      this.#queuedChars += chars;
      this.#pump();
    });
  }

  /** Ends idle workers now and busy ones once the queue is empty; a later count starts them again. */
  close(): void {
    this.#closing = true;
    for (const slot of [...this.#slots]) if (!slot.busy) this.#end(slot);
  }

  /** Workers alive now (for tests). */
  get size(): number {
    return this.#slots.length;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => !s.busy) ?? (this.#slots.length < MAX_WORKERS ? this.#spawn() : undefined);
      if (!slot) return;
      const pending = this.#queue.shift()!;
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.busy = pending;
      slot.worker.postMessage(pending.job, pending.job.texts.map((bytes) => bytes.buffer as ArrayBuffer));
    }
  }

  #spawn(): Slot {
    const worker = startWorker();
    worker.unref();
    const slot: Slot = { worker, busy: undefined, idleTimer: undefined };
    worker.on('message', (result: CountResult) => {
      const pending = slot.busy;
      if (!pending || pending.job.id !== result.id) return;
      slot.busy = undefined;
      this.#queuedChars -= pending.chars;
      if ('counts' in result) pending.resolve(result.counts);
      else pending.reject(new Error(`token count failed: ${result.error}`));
      this.#idle(slot);
    });
    const fail = (error: Error) => {
      this.#remove(slot);
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending) {
        this.#queuedChars -= pending.chars;
        pending.reject(error);
      }
      this.#pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`token count worker exited (${code})`)));
    this.#slots.push(slot);
    return slot;
  }

  #idle(slot: Slot): void {
    this.#pump();
    if (slot.busy) return;
    if (this.#closing && this.#queue.length === 0) {
      this.#end(slot);
      return;
    }
    slot.idleTimer = setTimeout(() => this.#end(slot), IDLE_MS);
    slot.idleTimer.unref();
  }

  #end(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    this.#remove(slot);
    void slot.worker.terminate();
  }

  #remove(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }
}

/** One pool per process, like the tokenizer it holds a copy of per worker. */
export const tokenCountPool = new CountPool();

export const countTokensInWorker = (texts: string[]): Promise<number[]> => tokenCountPool.count(texts);
