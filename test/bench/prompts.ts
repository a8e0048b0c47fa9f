/**
 * Varied prompts for the soak: a replayed prompt keeps every cache in the
 * gateway warm and tiny (the tokenizer's merge cache, the prompt-part
 * counts), so memory looks flatter than under real traffic. These are
 * deterministic (seeded), every user message is new, and their words are
 * made of syllables, so many are not single tokens and fill the tokenizer's
 * cache as unfamiliar text does. A few long system prompts repeat, as they
 * do across a real project's requests.
 */
import { seededRandom } from '../helpers/seeded-random.js';
const SYLLABLES = ['ka', 'lo', 'mi', 'zu', 'ter', 'vos', 'pra', 'nex', 'dul', 'qui', 'sha', 'rin', 'bo', 'tek', 'fy', 'gor', 'wel', 'ju', 'sta', 'xo'];
const SYSTEM_PROMPTS = [
  'You are a helpful assistant for a logistics company. Answer briefly and cite the shipment id when one is given.',
  'You are a code reviewer. Point out bugs first, then style; keep every remark to one sentence.',
  'You translate customer messages into plain English and keep names, numbers and product codes unchanged.',
];


const WORDS = { min: 20, max: 80 };

/** How the soak picks its prompts: a new one every request, or the scenarios' one replayed. */
export type PromptMode = 'varied' | 'fixed';

export const PROMPT_MODES: readonly PromptMode[] = ['varied', 'fixed'];

/** One phrase for the reports, from the same constants the generator uses. */
export const describePrompts = (mode: PromptMode): string =>
  mode === 'varied'
    ? `a new user message of ${WORDS.min}–${WORDS.max} made-up words every request, one of ${SYSTEM_PROMPTS.length} system prompts (test/bench/prompts.ts)`
    : 'the same prompt every request';

export interface Prompt {
  system: string;
  user: string;
}

/** An endless sequence of prompts; the same seed gives the same sequence. */
export function variedPrompts(seed = 1): () => Prompt {
  const next = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const word = () => {
    let w = '';
    for (let n = 1 + Math.floor(next() * 3); n > 0; n--) w += pick(SYLLABLES);
    return w;
  };
  return () => {
    const words: string[] = [];
    for (let n = WORDS.min + Math.floor(next() * (WORDS.max - WORDS.min)); n > 0; n--) words.push(word());
    return { system: pick(SYSTEM_PROMPTS), user: `${words.join(' ')}?` };
  };
}
