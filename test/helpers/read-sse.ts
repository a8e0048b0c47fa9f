import { createParser } from 'eventsource-parser';

/** Every `data:` payload of an SSE response, in order, parsed with a real SSE parser. */
export async function readSse(res: Response): Promise<string[]> {
  const events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  const decoder = new TextDecoder();
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(part, { stream: true }));
  return events;
}
