// Upstream error messages may echo the key we sent (OpenAI's 401 prints a
// masked one; others are less careful). Clients see these messages, so keys
// and anything that looks like one are removed, and the length is bounded.

const KEY_LIKE = [
  /\bsk-[A-Za-z0-9_*-]{6,}/g, // OpenAI, DeepSeek, Anthropic (sk-ant-…)
  /\bAIza[0-9A-Za-z_-]{10,}/g, // Google API keys
];

const MAX_LENGTH = 500;

export function safeUpstreamMessage(message: string, apiKey: string): string {
  let out = message;
  if (apiKey.length >= 4) out = out.split(apiKey).join('[redacted]');
  for (const pattern of KEY_LIKE) out = out.replace(pattern, '[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH)}…` : out;
}
