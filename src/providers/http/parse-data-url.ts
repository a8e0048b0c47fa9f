/** A base64 `data:` URL split into its media type and payload, or undefined for anything else. */
export function parseBase64DataUrl(url: string): { mediaType: string; data: string } | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma).split(';');
  if (!meta.includes('base64')) return undefined;
  const mediaType = meta[0] || 'application/octet-stream';
  return { mediaType: mediaType.toLowerCase(), data: url.slice(comma + 1) };
}

export const isHttpUrl = (url: string): boolean => /^https?:\/\//i.test(url);
