/** A request's tokens by kind, as its usage row records them. */
export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Part of promptTokens written to the provider's prompt cache, 5-minute and 1-hour TTLs. */
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
}
