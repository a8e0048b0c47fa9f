// Byte-pair merging of one pre-split piece in O(n log n).
//
// gpt-tokenizer merges a piece by scanning every pair for the lowest rank and
// splicing arrays once per merge: O(n²) in the piece's bytes. A piece is a run
// the split pattern does not cut (letters of a script without spaces, a run of
// punctuation, a line of base64), so a few KB of such text held the event loop
// for seconds and a 4 MB one for hours. This merges the same pairs in the same
// order (lowest rank first, the leftmost among equals) with a heap over
// (rank, start) and a linked list of parts, so it gives the same tokens.

/** The rank of a byte string, or undefined when it is not a token. */
export type RankOf = (bytes: Uint8Array) => number | undefined;

// A heap entry is rank * 2^32 + start: ranks are below 2^21 and pieces below
// 2^32 bytes, so it stays an exact double and orders by rank, then position.
const POSITION = 2 ** 32;

export function mergeLongPiece(piece: Uint8Array, rankOf: RankOf): number[] {
  const n = piece.length;
  if (n === 0) return [];
  // Part i spans [i, next[i]); prev links back; -1 means none.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  // The rank of the pair starting at part i, -1 when it is not a token or the part is gone.
  const pairRank = new Float64Array(n);
  const heap: number[] = [];
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  const rankPair = (i: number): void => {
    const second = next[i]!;
    if (second >= n) {
      pairRank[i] = -1;
      return;
    }
    const rank = rankOf(piece.subarray(i, next[second]!));
    pairRank[i] = rank ?? -1;
    if (rank !== undefined) push(heap, rank * POSITION + i);
  };
  for (let i = 0; i < n; i++) rankPair(i);
  while (heap.length > 0) {
    const top = pop(heap);
    const start = top % POSITION;
    const rank = (top - start) / POSITION;
    // A stale entry: the pair at start has merged or changed since it was pushed.
    if (pairRank[start] !== rank) continue;
    const gone = next[start]!;
    const after = next[gone]!;
    next[start] = after;
    pairRank[gone] = -1;
    if (after < n) prev[after] = start;
    rankPair(start);
    if (prev[start]! >= 0) rankPair(prev[start]!);
  }
  const tokens: number[] = [];
  for (let i = 0; i < n; i = next[i]!) {
    const rank = rankOf(piece.subarray(i, next[i]!));
    if (rank === undefined) throw new Error(`The byte-pair encoding does not contain a value for bytes ${i}-${next[i]!} of a piece`);
    tokens.push(rank);
  }
  return tokens;
}

function push(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function pop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  const size = heap.length;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) break;
    const right = left + 1;
    const child = right < size && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
