// fileData needs a mimeType; an http URL only has its extension to go on.
const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

export function guessMimeType(url: string, fallback = 'image/jpeg'): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL: use it as it is.
  }
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return BY_EXTENSION[ext] ?? fallback;
}
