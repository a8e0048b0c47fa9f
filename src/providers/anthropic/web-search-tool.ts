import { z } from 'zod';
import type { ChatRequest } from '../../contract/chat-request.js';

const webSearchOptions = z.looseObject({ search_context_size: z.enum(['low', 'medium', 'high']).optional() });
const MAX_USES = { low: 1, medium: 5, high: 10 } as const;

/** `deepsearch: true` or OpenAI's `web_search_options` as Anthropic's server-side web_search tool. */
export function webSearchTool(req: ChatRequest): Record<string, unknown> | undefined {
  const raw = (req as Record<string, unknown>).web_search_options;
  if (!req.deepsearch && raw == null) return undefined;
  const options = webSearchOptions.safeParse(raw ?? {});
  const size = options.success ? options.data.search_context_size : undefined;
  return { type: 'web_search_20250305', name: 'web_search', ...(size ? { max_uses: MAX_USES[size] } : {}) };
}
