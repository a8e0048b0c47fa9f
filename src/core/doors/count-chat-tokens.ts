import { Cancellation } from '../../contract/cancel-signal.js';
import type { ChatRequest } from '../../contract/chat-request.js';
import { countPromptTokensExact } from '../../tokens/count-tokens.js';
import type { CatalogueModel } from '../catalogue/catalogue.js';
import type { RequestContext } from '../request-context.js';
import type { Dispatcher } from '../routing/dispatcher.js';

/** How long an upstream count may take before the gateway's own count answers instead. */
const UPSTREAM_COUNT_MS = 10_000;

export interface CountedChatTokens {
  tokens: number;
  /** `exact`: an upstream that serves the model counted (Anthropic, Gemini); `estimate`: the gateway's tokenizer did. */
  source: 'exact' | 'estimate';
}

/**
 * The token-count endpoints of the Messages and Gemini doors: the count of an
 * upstream serving the model that counts, else the gateway's tokenizer over
 * the chat request the body translates to. Free, as upstream: neither
 * metered nor billed; the door has checked the key may use the model.
 */
export async function countChatTokens(dispatcher: Dispatcher, ctx: RequestContext, model: CatalogueModel, chat: ChatRequest): Promise<CountedChatTokens> {
  const signal = new Cancellation();
  const stopOnGone = ctx.client.onGone(() => signal.abort(new Error('client gone')));
  const timer = setTimeout(() => signal.abort(new Error('count timed out')), UPSTREAM_COUNT_MS);
  try {
    const exact = await dispatcher.countTokens(model, chat, {
      requestId: ctx.requestId,
      signal,
      test: ctx.key.mode === 'test',
      ...(ctx.hints ? { hints: ctx.hints } : {}),
    });
    if (exact !== undefined) return { tokens: exact, source: 'exact' };
  } finally {
    clearTimeout(timer);
    stopOnGone();
  }
  return { tokens: await countPromptTokensExact(chat.messages, chat.tools), source: 'estimate' };
}
