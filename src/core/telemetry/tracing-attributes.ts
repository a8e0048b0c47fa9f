// Attribute names the spans carry. The HTTP ones are stable and come from
// @opentelemetry/semantic-conventions; the GenAI ones are still incubating
// there (and marked as moving to their own repository), so, as the package
// advises for incubating names, they are copied here rather than imported.

export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

/** The gateway's own attributes, in its own namespace. */
export const GATEWAY = {
  requestId: 'llm_gateway.request.id',
  projectId: 'llm_gateway.project.id',
  cost: 'llm_gateway.cost',
  upstreamKeyId: 'llm_gateway.upstream_key.id',
  attempt: 'llm_gateway.attempt',
  outcome: 'llm_gateway.attempt.outcome',
  reservedCost: 'llm_gateway.reservation.cost',
  reservationHolder: 'llm_gateway.reservation.holder',
  batchSize: 'llm_gateway.settlement.batch_size',
} as const;

/**
 * The GenAI convention's well-known `gen_ai.provider.name` for a provider
 * id. An OpenAI-compatible upstream is `openai`: the convention names the
 * wire protocol a client speaks when it cannot know the system behind it.
 */
export function genAiProviderName(provider: string): string {
  switch (provider) {
    case 'gemini':
      return 'gcp.gemini';
    case 'openai-compatible':
      return 'openai';
    default:
      return provider;
  }
}
