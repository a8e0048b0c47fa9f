// What an upstream base URL may hold: a scheme, a host, a port and a path.
// Credentials belong in the key's secret, which is encrypted and never shown;
// a user:pass@ in the URL would be shown to every viewer and written to the
// audit log. A query or fragment has no place in a base the adapters append
// paths to (`…/v1?x=1` + `/chat/completions` is no URL anyone meant).

/** Why `text` is no base URL, as the end of "Invalid value for 'baseUrl': …"; undefined when it is one. */
export function baseUrlProblem(text: string): string | undefined {
  // The URL parser reads a backslash as `/`: `https://a.example\@b.example` goes to a.example, not b.
  if (/[\s\u0000-\u001f\u007f\\]/.test(text)) return 'must not contain spaces, backslashes or control characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an http(s) URL such as https://api.openai.com/v1';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL such as https://api.openai.com/v1';
  // Checked on the text too: the parser reads `https://@host` as no user at all.
  if (url.username !== '' || url.password !== '' || authority(text).includes('@')) {
    return 'must not contain a user name or password (user:pass@): put the credential in the secret';
  }
  if (text.includes('?')) return 'must not contain a query (?…): the gateway appends the API path to it';
  if (text.includes('#')) return 'must not contain a fragment (#…)';
  return undefined;
}

/**
 * A stored base URL as it may be shown: rows saved before the rules above
 * were enforced may carry credentials or a query (a `?key=` is a secret too),
 * so those parts are replaced, never echoed.
 */
export function maskBaseUrl(stored: string | null): string | null {
  if (stored === null || baseUrlProblem(stored) === undefined) return stored;
  let url: URL;
  try {
    url = new URL(stored);
  } catch {
    return '[redacted]';
  }
  const user = url.username !== '' || url.password !== '' || authority(stored).includes('@') ? '[redacted]@' : '';
  const query = stored.includes('?') ? '?[redacted]' : '';
  const fragment = stored.includes('#') ? '#[redacted]' : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}${query}${fragment}`;
}

/** What stands between `scheme://` and the path, as written. */
function authority(text: string): string {
  const start = text.indexOf('//');
  if (start < 0) return '';
  const rest = text.slice(start + 2);
  const end = rest.search(/[/\\?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}
