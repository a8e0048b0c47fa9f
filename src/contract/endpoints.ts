// The doors a metered request can come through. One usage row names its own,
// and admission checks the model's kind against it.

export const ENDPOINTS = ['chat', 'embeddings', 'responses', 'messages', 'generate_content', 'embed_content'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** The path a client used for each door, for error messages. */
export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: '/v1/chat/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
  messages: '/v1/messages',
  generate_content: '/v1beta/models/{model}:generateContent',
  embed_content: '/v1beta/models/{model}:embedContent',
};

/** Which kind of catalogue model a door serves. */
export const endpointModelKind = (endpoint: Endpoint): 'chat' | 'embedding' =>
  endpoint === 'embeddings' || endpoint === 'embed_content' ? 'embedding' : 'chat';
