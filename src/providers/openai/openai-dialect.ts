import type { ChatRequest } from '../../contract/chat-request.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import { ProviderError } from '../../contract/provider.js';

/**
 * How an OpenAI-wire upstream spells the output cap and the gateway's `think`
 * and `deepsearch` switches. The wire format is shared; these are not.
 */
export interface OpenAIDialect {
  /** The provider this dialect is, as the registry lists it. */
  info: ProviderInfo;
  /** Name used in error messages. */
  label: string;
  /** The one output-cap field the upstream is sent. */
  capField: 'max_completion_tokens' | 'max_tokens';
  /** Extra body fields for `think: true`. */
  think(req: ChatRequest): Record<string, unknown>;
  /** Extra body fields for `deepsearch: true`; throws when the upstream cannot search. */
  deepsearch(req: ChatRequest): Record<string, unknown>;
}

const reasoningEffortMedium = (req: ChatRequest): Record<string, unknown> =>
  req.reasoning_effort ? {} : { reasoning_effort: 'medium' };

const webSearchOptions = (req: ChatRequest): Record<string, unknown> =>
  'web_search_options' in req && req.web_search_options ? {} : { web_search_options: {} };

// OpenAI deprecated max_tokens, and its reasoning models refuse it:
// max_completion_tokens bounds reasoning and answer together.
export const openaiDialect: OpenAIDialect = {
  info: {
    id: 'openai',
    displayName: 'OpenAI',
    // Base URLs as each provider's official SDK takes them: OpenAI's includes `/v1`.
    defaultBaseUrl: 'https://api.openai.com/v1',
    seedEnv: 'OPENAI_API_KEY',
    capabilities: { embeddings: true },
  },
  label: 'openai',
  capField: 'max_completion_tokens',
  think: reasoningEffortMedium,
  deepsearch: webSearchOptions,
};

/**
 * Any other server speaking the OpenAI wire format (vLLM, Ollama, Together, …).
 * max_tokens is the field they all read; Ollama's list of supported fields has
 * no max_completion_tokens.
 */
export const openaiCompatibleDialect: OpenAIDialect = {
  // No official endpoint: every key names its server.
  info: { id: 'openai-compatible', displayName: 'OpenAI-compatible server', defaultBaseUrl: undefined, seedEnv: undefined, capabilities: { embeddings: true } },
  label: 'openai-compatible upstream',
  capField: 'max_tokens',
  think: reasoningEffortMedium,
  deepsearch: webSearchOptions,
};

// DeepSeek takes max_tokens only, switches thinking with its own `thinking`
// object (api-docs.deepseek.com, "Thinking Mode") and has no web search on its API.
export const deepseekDialect: OpenAIDialect = {
  info: { id: 'deepseek', displayName: 'DeepSeek', defaultBaseUrl: 'https://api.deepseek.com', seedEnv: 'DEEPSEEK_API_KEY', capabilities: { embeddings: false } },
  label: 'deepseek',
  capField: 'max_tokens',
  think: () => ({ thinking: { type: 'enabled' } }),
  deepsearch: () => {
    throw new ProviderError('deepsearch is not supported by deepseek', 'client', undefined, undefined, 400);
  },
};
