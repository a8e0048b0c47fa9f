// Token counts for reservations, for test mode and for upstreams that report
// no usage. o200k_base (GPT-4o family) is the reference tokenizer; for other
// providers it is an estimate, which is why reservations add a margin.
//
// Counting runs on the event loop only within a small budget of work per
// request (EXACT_WORK_BUDGET): a prompt that needs more is estimated by a
// sound upper bound for admission and reservation, and counted exactly, where
// an exact count is still needed, on a worker thread (count-pool.ts).
import { LRUCache } from 'lru-cache';
import type { ChatMessage, FunctionTool } from '../contract/chat-request.js';
import { countTokensInWorker } from './count-pool.js';
import { countTokens, countTokensWithin, type WorkBudget } from './o200k.js';

// OpenAI's documented framing overhead per message and per reply.
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
// Low-detail image cost; a worst-case high-detail image is priced by the upstream, settled later.
const TOKENS_PER_IMAGE = 85;

/**
 * Counting work allowed on the event loop per request, in o200k.ts's units
 * (about a character of prose): ~8,000 characters of prose, or ~250 of text
 * that must be merged (random words, CJK, base64), stay within a few
 * milliseconds on a busy 2-vCPU host, while a 4 MB prompt took seconds.
 */
export const EXACT_WORK_BUDGET = 8_192;

export const countTextTokens = (text: string): number => (text.length === 0 ? 0 : countTokens(text));

// A chat resends its whole history every turn, and system prompts and tool
// lists repeat across requests: prompt parts are counted once and remembered
// (bounded by total characters held). Short parts are cheaper to count again.
const CACHE_FROM_CHARS = 64;
const promptPartCounts = new LRUCache<string, number>({ maxSize: 4_000_000, sizeCalculation: (_count, text) => text.length });

/**
 * The walk over a prompt's parts, shared by the exact and the estimated
 * count. Counting is synchronous, so one walk at a time uses this state: no
 * allocation for a prompt that is counted within the budget.
 */
const walk = {
  budget: { left: 0 } as WorkBudget,
  /** Parts left uncounted (over the budget); their bytes stand in for their tokens. */
  uncounted: undefined as string[] | undefined,
  uncountedBytes: 0,
  /** False for countPromptTokens: count everything, whatever it costs. */
  budgeted: false,
};

function countedPart(text: string): number {
  if (!walk.budgeted) return countTokens(text);
  const count = countTokensWithin(text, walk.budget);
  if (count >= 0) return count;
  // UTF-8 bytes bound o200k's tokens: every token is at least one byte of
  // the text (special-token strings are text here, see o200k.ts).
  const bytes = Buffer.byteLength(text, 'utf8');
  (walk.uncounted ??= []).push(text);
  walk.uncountedBytes += bytes;
  return bytes;
}

function promptPartTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length < CACHE_FROM_CHARS) return countedPart(text);
  let count = promptPartCounts.get(text);
  if (count !== undefined) return count;
  const uncountedBefore = walk.uncountedBytes;
  count = countedPart(text);
  if (walk.uncountedBytes === uncountedBefore) promptPartCounts.set(text, count);
  return count;
}

function contentTokens(content: ChatMessage['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return promptPartTokens(content);
  let total = 0;
  for (const part of content) {
    if (part.type === 'text') total += promptPartTokens(part.text);
    else if (part.type === 'refusal') total += promptPartTokens(part.refusal);
    else if (part.type === 'image_url') total += TOKENS_PER_IMAGE;
    else total += promptPartTokens(JSON.stringify(part));
  }
  return total;
}

function promptTokens(messages: ChatMessage[], tools: FunctionTool[] | null | undefined): number {
  let total = TOKENS_PER_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + contentTokens(message.content);
    if ('name' in message && typeof message.name === 'string') total += promptPartTokens(message.name);
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) {
        total += promptPartTokens(call.function.name) + promptPartTokens(call.function.arguments);
      }
    }
  }
  if (tools && tools.length > 0) total += promptPartTokens(JSON.stringify(tools));
  return total;
}

function startWalk(budgeted: boolean): void {
  walk.budgeted = budgeted;
  walk.budget.left = EXACT_WORK_BUDGET;
  walk.uncounted = undefined;
  walk.uncountedBytes = 0;
}

/** The exact count, on the event loop whatever it costs: for small, known texts only. */
export function countPromptTokens(messages: ChatMessage[], tools?: FunctionTool[] | null): number {
  startWalk(false);
  return promptTokens(messages, tools);
}

/**
 * What admission, reservation and rate limits go by: the exact count when it
 * fits in the event loop's budget (small prompts, and parts counted before),
 * else the UTF-8 bytes of the parts left uncounted in place of their tokens,
 * an upper bound.
 */
export function estimatePromptTokens(messages: ChatMessage[], tools?: FunctionTool[] | null): number {
  startWalk(true);
  return promptTokens(messages, tools);
}

/**
 * The exact count: a number when it fits in the budget, else a promise of
 * the count made on a worker thread (then remembered, so the next turn of the
 * same conversation is counted on the loop).
 */
export function countPromptTokensExact(messages: ChatMessage[], tools?: FunctionTool[] | null): number | Promise<number> {
  startWalk(true);
  const total = promptTokens(messages, tools);
  const uncounted = walk.uncounted;
  if (!uncounted) return total;
  return countRest(total - walk.uncountedBytes, uncounted, walk.uncountedBytes);
}

/** Texts (embedding inputs) as estimatePromptTokens counts a prompt. */
export function estimateTextsTokens(texts: string[]): number {
  startWalk(true);
  let total = 0;
  for (const text of texts) total += text.length === 0 ? 0 : countedPart(text);
  return total;
}

/** Texts (embedding inputs) as countPromptTokensExact counts a prompt. */
export function countTextsTokensExact(texts: string[]): number | Promise<number> {
  const total = estimateTextsTokens(texts);
  const uncounted = walk.uncounted;
  if (!uncounted) return total;
  return countRest(total - walk.uncountedBytes, uncounted, walk.uncountedBytes);
}

async function countRest(counted: number, texts: string[], bytes: number): Promise<number> {
  let counts: number[];
  try {
    counts = await countTokensInWorker(texts);
  } catch {
    // No worker to count with (too much waiting, or it failed): the upper bound stands.
    return counted + bytes;
  }
  let total = counted;
  for (let i = 0; i < texts.length; i++) {
    total += counts[i]!;
    if (texts[i]!.length >= CACHE_FROM_CHARS) promptPartCounts.set(texts[i]!, counts[i]!);
  }
  return total;
}
