import { Cancellation } from '../../../contract/cancel-signal.js';
import { countPromptTokensExact } from '../../../tokens/count-tokens.js';
import { permittedModel } from '../../admission/admit.js';
import type { Catalogue } from '../../catalogue/catalogue.js';
import type { PermissionStore } from '../../permissions/permission-store.js';
import type { RequestContext } from '../../request-context.js';
import type { Dispatcher } from '../../routing/dispatcher.js';
import { validate } from '../../validate.js';
import { countTokensRequestSchema } from './messages-request.js';
import { promptToChat } from './to-chat.js';

/** How long an upstream count may take before the gateway's own count answers instead. */
const UPSTREAM_COUNT_MS = 10_000;

export interface CountedTokens {
  input_tokens: number;
  /** `exact`: the routed Anthropic upstream counted; `estimate`: the gateway's tokenizer did. */
  source: 'exact' | 'estimate';
}

/**
 * POST /v1/messages/count_tokens: the count of the Anthropic upstream that
 * serves the model when there is one, else the gateway's tokenizer over the
 * chat request the body translates to. Needs a key allowed the model; free,
 * as upstream, so neither metered nor billed.
 */
export async function countMessageTokens(
  deps: { catalogue: Catalogue; permissions: PermissionStore; dispatcher: Dispatcher },
  ctx: RequestContext,
  body: unknown,
): Promise<CountedTokens> {
  const req = validate(countTokensRequestSchema, body);
  const model = await permittedModel(deps, ctx, req.model, 'messages');
  const chat = promptToChat(req);
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
    if (exact !== undefined) return { input_tokens: exact, source: 'exact' };
  } finally {
    clearTimeout(timer);
    stopOnGone();
  }
  return { input_tokens: await countPromptTokensExact(chat.messages, chat.tools), source: 'estimate' };
}
