// The shapes of GET /api/usage and GET /api/usage/requests/:id
// (src/rest/routes/project-usage.ts).

export interface Counts {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: string;
}

export interface UsageRecord {
  id: string;
  model: string;
  endpoint: 'chat' | 'embeddings' | 'responses' | 'messages' | 'generate_content' | 'embed_content';
  status: 'reserved' | 'ok' | 'error' | 'aborted' | 'rejected';
  http_status: number | null;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  /** Parts of prompt_tokens: read from the prompt cache, and written to it (5-minute, 1-hour TTL). */
  cached_tokens: number;
  cache_write_tokens?: number;
  cache_write_1h_tokens?: number;
  reasoning_tokens: number;
  cost: string;
  latency_ms: number | null;
  ttft_ms: number | null;
  stream: boolean;
  test: boolean;
  created_at: string;
  settled_at: string | null;
}

export interface ProjectUsage {
  project: { id: string; name: string; currency: string; balance: string; reserved: string; available: string };
  key: {
    id: string;
    name: string;
    prefix: string;
    last4: string;
    mode: 'live' | 'test';
    spent: string;
    spent_total: string;
    spend_limit: string | null;
    spend_limit_period: 'total' | 'monthly';
    remaining_limit: string | null;
    expires_at: string | null;
    created_at: string | null;
  };
  range: string;
  bucket_seconds: number;
  totals: Counts;
  series: (Counts & { t: string })[];
  by_model: (Counts & { model: string })[];
  recent: UsageRecord[];
}
