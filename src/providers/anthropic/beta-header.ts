/** The request header a Messages-door client's betas arrive in (CallContext.hints). */
export const ANTHROPIC_BETA_HINT = 'anthropic-beta';

// Betas that change how a request is read or streamed, not what it costs or
// whose credentials it needs: passed on. Others (1M context, priced above the
// catalogue's price; OAuth, for subscription tokens an upstream key is not)
// are dropped, so an upstream never bills or authenticates past what the
// gateway accounts for.
const PASSED = ['interleaved-thinking-', 'fine-grained-tool-streaming-', 'token-efficient-tools-', 'prompt-caching-', 'extended-cache-ttl-', 'output-128k-', 'claude-code-', 'context-management-'];

/** The `anthropic-beta` value to send upstream for what the client sent, if any survives. */
export function passedBetas(sent: string | undefined): string | undefined {
  if (!sent) return undefined;
  const kept = sent
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => PASSED.some((prefix) => beta.startsWith(prefix)));
  return kept.length > 0 ? kept.join(',') : undefined;
}
