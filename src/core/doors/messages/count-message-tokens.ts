import { permittedModel } from '../../admission/admit.js';
import type { Catalogue } from '../../catalogue/catalogue.js';
import type { PermissionStore } from '../../permissions/permission-store.js';
import type { RequestContext } from '../../request-context.js';
import type { Dispatcher } from '../../routing/dispatcher.js';
import { validate } from '../../validate.js';
import { countChatTokens } from '../count-chat-tokens.js';
import { countTokensRequestSchema } from './messages-request.js';
import { promptToChat } from './to-chat.js';

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
  const { tokens, source } = await countChatTokens(deps.dispatcher, ctx, model, promptToChat(req));
  return { input_tokens: tokens, source };
}
