import { permittedModel } from '../../admission/admit.js';
import type { Catalogue } from '../../catalogue/catalogue.js';
import { GatewayError } from '../../errors.js';
import type { PermissionStore } from '../../permissions/permission-store.js';
import type { RequestContext } from '../../request-context.js';
import type { Dispatcher } from '../../routing/dispatcher.js';
import { validate } from '../../validate.js';
import { countChatTokens } from '../count-chat-tokens.js';
import { countTokensSchema } from './generate-request.js';
import { geminiToChat } from './to-chat.js';

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
  const { tokens, source } = await countChatTokens(deps.dispatcher, ctx, model, chat);
  return { totalTokens: tokens, source };
}
