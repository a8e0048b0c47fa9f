import { Cancellation } from '../../../contract/cancel-signal.js';
import { countPromptTokensExact } from '../../../tokens/count-tokens.js';
import { permittedModel } from '../../admission/admit.js';
import type { Catalogue } from '../../catalogue/catalogue.js';
import { GatewayError } from '../../errors.js';
import type { PermissionStore } from '../../permissions/permission-store.js';
import type { RequestContext } from '../../request-context.js';
import type { Dispatcher } from '../../routing/dispatcher.js';
import { validate } from '../../validate.js';
import { countTokensSchema } from './generate-request.js';
import { geminiToChat } from './to-chat.js';

/** How long an upstream count may take before the gateway's own count answers instead. */
const UPSTREAM_COUNT_MS = 10_000;

export interface CountedGeminiTokens {
  totalTokens: number;
  /** `exact`: an upstream that serves the model counted (Gemini, Anthropic); `estimate`: the gateway's tokenizer did. */
  source: 'exact' | 'estimate';
}

/**
 * `countTokens`: the count of an upstream serving the model that counts
 * (Gemini's own countTokens, Anthropic's count_tokens), else the gateway's
 * tokenizer over the chat request the contents translate to. Needs a key
 * allowed the model; free, as upstream, so neither metered nor billed.
 */
export async function countGeminiTokens(
  deps: { catalogue: Catalogue; permissions: PermissionStore; dispatcher: Dispatcher },
  ctx: RequestContext,
  body: unknown,
): Promise<CountedGeminiTokens> {
  const req = validate(countTokensSchema, body);
  const model = await permittedModel(deps, ctx, req.model, 'generate_content');
  const contents = req.generateContentRequest ?? (req.contents ? { contents: req.contents } : undefined);
  if (!contents) throw new GatewayError('invalid_request', "Missing required parameter: 'contents' (or 'generateContentRequest').", { param: 'contents' });
  const chat = geminiToChat({ ...contents, model: req.model, stream: false });
  const signal = new Cancellation();
  const stopOnGone = ctx.client.onGone(() => signal.abort(new Error('client gone')));
  const timer = setTimeout(() => signal.abort(new Error('count timed out')), UPSTREAM_COUNT_MS);
  try {
    const exact = await deps.dispatcher.countTokens(model, chat, {
      requestId: ctx.requestId,
      signal,
      test: ctx.key.mode === 'test',
      ...(ctx.hints ? { hints: ctx.hints } : {}),
    });
    if (exact !== undefined) return { totalTokens: exact, source: 'exact' };
  } finally {
    clearTimeout(timer);
    stopOnGone();
  }
  return { totalTokens: await countPromptTokensExact(chat.messages, chat.tools), source: 'estimate' };
}
