import { countPromptTokensExact } from '../../../tokens/count-tokens.js';
import { permittedModel } from '../../admission/admit.js';
import type { Catalogue } from '../../catalogue/catalogue.js';
import { GatewayError } from '../../errors.js';
import type { PermissionStore } from '../../permissions/permission-store.js';
import type { RequestContext } from '../../request-context.js';
import { validate } from '../../validate.js';
import { countTokensSchema } from './generate-request.js';
import { geminiToChat } from './to-chat.js';

/**
 * `countTokens`: the gateway's own tokenizer over the chat request the
 * contents translate to (an estimate of what the routed upstream will
 * count). Needs a key allowed the model; not metered or billed.
 */
export async function countGeminiTokens(
  deps: { catalogue: Catalogue; permissions: PermissionStore },
  ctx: RequestContext,
  body: unknown,
): Promise<{ totalTokens: number }> {
  const req = validate(countTokensSchema, body);
  await permittedModel(deps, ctx, req.model, 'generate_content');
  const contents = req.generateContentRequest ?? (req.contents ? { contents: req.contents } : undefined);
  if (!contents) throw new GatewayError('invalid_request', "Missing required parameter: 'contents' (or 'generateContentRequest').", { param: 'contents' });
  const chat = geminiToChat({ ...contents, model: req.model, stream: false });
  return { totalTokens: await countPromptTokensExact(chat.messages, chat.tools) };
}
