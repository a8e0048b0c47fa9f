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
import { mergeLongPiece, type RankOf } from './long-piece-merge.js';

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

/**
 * Pieces longer than this (UTF-16 units) are merged by mergeLongPiece and
 * not remembered: gpt-tokenizer's own merge is quadratic in a piece's bytes,
 * and its merge cache bounds pieces by number, not size, so a few long pieces
 * would hold megabytes each. Below it the library's merge is as fast.
 */
export const LONG_PIECE_CHARS = 128;

/** The parts of gpt-tokenizer's (TypeScript-private) core that are used or replaced here. */
interface BytePairCore {
  bytePairEncode(piece: string): number[];
  getBpeRankFromBytes(bytes: Uint8Array): number | undefined;
  encodeNative(text: string, allowedSpecial?: Set<string>): number[];
  countNative(text: string, allowedSpecial?: Set<string>): number;
  getBpeRankFromString(piece: string): number | undefined;
  tokenSplitRegex: RegExp;
}

export const o200k = GptEncoding.getEncodingApi('o200k_base', () => readO200kRanks());
o200k.setMergeCacheSize(MERGE_CACHE_PIECES);

const core = (o200k as unknown as { bytePairEncodingCoreProcessor?: Partial<BytePairCore> }).bytePairEncodingCoreProcessor;
if (!core || typeof core.bytePairEncode !== 'function' || typeof core.getBpeRankFromBytes !== 'function' || typeof core.countNative !== 'function' || typeof core.encodeNative !== 'function' || typeof core.getBpeRankFromString !== 'function' || !(core.tokenSplitRegex instanceof RegExp)) {
  throw new Error('gpt-tokenizer: its byte-pair core is not the one o200k.ts was written for (see package.json for the pinned version)');
}
const bpe = core as BytePairCore;
const shortPieceEncode = bpe.bytePairEncode.bind(bpe);
const rankOf: RankOf = (bytes) => bpe.getBpeRankFromBytes(bytes);
const utf8 = new TextEncoder();
bpe.bytePairEncode = (piece) => (piece.length <= LONG_PIECE_CHARS ? shortPieceEncode(piece) : mergeLongPiece(utf8.encode(piece), rankOf));

// Special tokens (`<|endoftext|>`...) in a prompt are text to the upstream, as
// they are to OpenAI's API; gpt-tokenizer's defaults throw on them instead.
// Their text is at least as many bytes as its tokens, like any other text.
export const countTokens = (text: string): number => bpe.countNative(text);
export const encode = (text: string): number[] => bpe.encodeNative(text);
export const { decode } = o200k;

/** Work left for counting on the event loop; counting spends it. */
export interface WorkBudget {
  left: number;
}

/**
 * What counting costs, in units of one character of a piece that is a token
 * itself: each piece costs PIECE_WORK more (the split pattern's match and a
 * lookup), and each character of a piece that must be merged costs
 * MERGE_WORK_PER_CHAR. The ratios are those measured on this tokenizer for
 * prose, random words, code, CJK and punctuation runs.
 */
export const PIECE_WORK = 4;
export const MERGE_WORK_PER_CHAR = 32;

/**
 * countTokens, piece by piece, while the budget lasts: the count, or -1 once
 * the text would overspend it (the budget is then spent). Every character
 * costs at least one unit, so a text longer than the budget is refused before
 * the split pattern runs over it; a piece is charged before it is merged.
 */
export function countTokensWithin(text: string, budget: WorkBudget): number {
  if (text.length > budget.left) {
    budget.left = 0;
    return -1;
  }
  let tokens = 0;
  for (const match of text.matchAll(bpe.tokenSplitRegex)) {
    const piece = match[0];
    if (bpe.getBpeRankFromString(piece) !== undefined) {
      budget.left -= PIECE_WORK + piece.length;
      tokens++;
    } else {
      budget.left -= PIECE_WORK + piece.length * MERGE_WORK_PER_CHAR;
      if (budget.left < 0) break;
      tokens += bpe.bytePairEncode(piece).length;
    }
    if (budget.left < 0) break;
  }
  if (budget.left < 0) {
    budget.left = 0;
    return -1;
  }
  return tokens;
}
