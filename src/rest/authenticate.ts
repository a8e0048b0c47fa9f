import type { FastifyRequest } from 'fastify';

const headerValue = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
};

/**
 * The credential a client presented: `Authorization: Bearer`, `x-api-key`
 * (OpenAI-style tools and Anthropic's SDK), `x-goog-api-key` (Google's GenAI
 * SDK), or the `api_key` / `key` query parameter (Google's REST examples).
 * A key in the URL is never logged: Fastify's request logging is off, and
 * error messages quote the path without its query.
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const header = headerValue(request, 'x-api-key') ?? headerValue(request, 'x-goog-api-key');
  if (header) return header;
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.api_key ?? query?.key;
  return typeof fromQuery === 'string' && fromQuery ? fromQuery : undefined;
}
