import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Request bodies up to this many UTF-16 units go to undici as one string,
 * which it encodes to UTF-8 in one go; longer ones (a prompt of megabytes)
 * are encoded in slices of this size by utf8Slices.
 */
export const UTF8_SLICE_CHARS = 256 * 1024;

/**
 * A long text's UTF-8 bytes, a slice per turn of the event loop as the
 * socket takes them: encoding megabytes at once holds every other request
 * up for as long. Send it with its `Buffer.byteLength` as content-length.
 */
export const utf8Stream = (text: string): Readable => Readable.from(utf8Slices(text), { objectMode: false });

export async function* utf8Slices(text: string): AsyncGenerator<Buffer, void, undefined> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + UTF8_SLICE_CHARS, text.length);
    // Never between the two halves of a surrogate pair: each alone would be sent as U+FFFD.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield Buffer.from(text.slice(start, end), 'utf8');
    start = end;
    if (start < text.length) await nextTurn();
  }
}
