/**
 * The benchmark's OpenAI-compatible upstream: `POST /v1/chat/completions`,
 * non-stream JSON or SSE (role chunk, N content chunks, finish chunk, usage
 * chunk, `[DONE]`). As cheap as a real upstream can be, so the numbers
 * measure what sits in front of it.
 *
 * Env: PORT (0 = any), MOCK_LATENCY_MS (fixed delay before the response
 * head), MOCK_CHUNKS (content chunks per stream), MOCK_CHUNK_DELAY_MS
 * (pause between stream chunks). Prints `BENCH_READY <port>` once listening.
 */
import { createServer, type ServerResponse } from 'node:http';

const PORT = Number(process.env.PORT ?? 0);
const LATENCY_MS = Number(process.env.MOCK_LATENCY_MS ?? 0);
const CHUNKS = Math.max(1, Number(process.env.MOCK_CHUNKS ?? 20));
const CHUNK_DELAY_MS = Number(process.env.MOCK_CHUNK_DELAY_MS ?? 0);
const CREATED = Math.floor(Date.now() / 1000);
const PROMPT_TOKENS = 12;
const WORD = 'bench ';

interface Replies {
  json: string;
  frames: string[];
}

// Pre-serialised per model name: the mock spends its time on the socket, not on JSON.
const cache = new Map<string, Replies>();

function replies(model: string): Replies {
  let r = cache.get(model);
  if (r) return r;
  const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: CHUNKS, total_tokens: PROMPT_TOKENS + CHUNKS };
  const json = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: WORD.repeat(CHUNKS).trim(), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
  });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model, choices, ...extra })}\n\n`;
  const frames = [chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])];
  for (let i = 0; i < CHUNKS; i++) frames.push(chunk([{ index: 0, delta: { content: WORD }, logprobs: null, finish_reason: null }]));
  frames.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  frames.push(chunk([], { usage }));
  frames.push('data: [DONE]\n\n');
  r = { json, frames };
  cache.set(model, r);
  return r;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function streamFrames(res: ServerResponse, frames: string[]): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  if (CHUNK_DELAY_MS <= 0) {
    for (const frame of frames) res.write(frame);
    res.end();
    return;
  }
  for (const frame of frames) {
    if (res.destroyed) return;
    res.write(frame);
    await sleep(CHUNK_DELAY_MS);
  }
  res.end();
}

function reply(res: ServerResponse, raw: string): void {
  let body: { model?: unknown; stream?: unknown };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error', param: null, code: null } }));
    return;
  }
  const r = replies(typeof body.model === 'string' ? body.model : 'bench-upstream');
  if (body.stream === true) {
    void streamFrames(res, r.frames);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.json) });
  res.end(r.json);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
    return;
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (piece: string) => (raw += piece));
  req.on('end', () => {
    if (LATENCY_MS > 0) setTimeout(() => reply(res, raw), LATENCY_MS);
    else reply(res, raw);
  });
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

// A deep accept queue: the many-streams scenario opens 1,000 connections at once.
server.listen({ port: PORT, host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`BENCH_READY ${typeof address === 'object' && address ? address.port : PORT}\n`);
});

// Nothing to flush: stop at once.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
