// The o200k_base encoding of gpt-tokenizer (its encoder, its split regex, its
// special tokens), with the merge ranks read from the package's own copy of
// OpenAI's o200k_base.tiktoken instead of its 2.4 MB JavaScript module of
// string literals. Same ranks (test/core/tokens-o200k.test.ts compares them
// with the module's, entry by entry), so the same counts; but V8 does not
// keep that module's source (4 MB as a two-byte string), its chunk arrays
// and their literal boilerplates alive for the life of the process, nor the
// parser's memory for it: ~10 MB less live heap and less resident memory.
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';

const TIKTOKEN_FILE = createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken');

/**
 * The ranks as gpt-tokenizer's bpeRanks modules hold them: index = rank,
 * value = the token as a string when its bytes are valid UTF-8 (and do not
 * start with a byte order mark, which its TextDecoder would drop), else the
 * bytes. The file has one `base64(token) rank` per line.
 */
export function readO200kRanks(file: string = TIKTOKEN_FILE): Array<string | number[]> {
  const text = readFileSync(file, 'latin1');
  const ranks: Array<string | number[]> = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const bytes = Buffer.from(text.slice(start, space), 'base64');
      const rank = Number(text.slice(space + 1, end));
      if (!Number.isInteger(rank) || rank < 0) throw new Error(`${file}: bad rank on a line near offset ${start}`);
      const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
      ranks[rank] = !bom && isUtf8(bytes) ? bytes.toString('utf8') : Array.from(bytes);
    }
    start = end + 1;
  }
  return ranks;
}

/**
 * gpt-tokenizer remembers the tokens of every split piece that is not a
 * token itself, up to 100,000 pieces: under varied prompts that is ~13 MB of
 * heap that lives as long as the process (measured over 30 M characters of
 * source and docs), which a benchmark replaying one prompt never shows.
 * 10,000 keeps ~3.4 MB at the same counting speed (within this machine's
 * noise); whole prompt parts that repeat are cached in count-tokens.ts.
 */
export const MERGE_CACHE_PIECES = 10_000;

export const o200k = GptEncoding.getEncodingApi('o200k_base', () => readO200kRanks());
o200k.setMergeCacheSize(MERGE_CACHE_PIECES);
export const { countTokens, encode, decode } = o200k;
