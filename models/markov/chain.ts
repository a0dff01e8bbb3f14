// A word-level Markov chain of order two: deterministic for a given prompt and seed, so that a
// stream cut by a crash and generated again says the same words. Erasable TypeScript only: it
// runs under plain Node 24, as the other demo models do.

export type Chain = { next: Map<string, string[]>; starts: string[] };

const stateOf = (first: string, second: string) => `${first} ${second}`;

export function buildChain(text: string): Chain {
  const words = text.split(/\s+/).filter(Boolean);
  const next = new Map<string, string[]>();
  const starts: string[] = [];
  for (let i = 0; i + 2 < words.length; i++) {
    const state = stateOf(words[i]!, words[i + 1]!);
    const followers = next.get(state) ?? [];
    followers.push(words[i + 2]!);
    next.set(state, followers);
    if (i === 0 || /[.;:]$/.test(words[i - 1]!)) starts.push(state);
  }
  return { next, starts };
}

/** mulberry32: a small, well-mixed PRNG; its whole state is one 32-bit number. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a of the text: the seed a prompt gives. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * Words that continue the prompt: from its last two words when the text has them, else from a
 * sentence start the seed picks. Ends early ('stop') where the text ends.
 */
export function* generate(chain: Chain, prompt: string, seed: number): Generator<string, 'stop', undefined> {
  const pick = random(hashOf(prompt) ^ seed);
  const words = prompt.split(/\s+/).filter(Boolean);
  const last = words.length >= 2 ? stateOf(words.at(-2)!, words.at(-1)!) : '';
  let state = chain.next.has(last) ? last : chain.starts[Math.floor(pick() * chain.starts.length)]!;
  if (state !== last) {
    for (const word of state.split(' ')) yield word;
  }
  for (;;) {
    const followers = chain.next.get(state);
    if (!followers) return 'stop';
    const word = followers[Math.floor(pick() * followers.length)]!;
    yield word;
    state = stateOf(state.split(' ')[1]!, word);
  }
}

/** How many tokens a text is, for usage: its words. */
export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** A deterministic embedding: the words hashed into `dimensions` signed buckets, unit length. */
export function embed(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    const hash = hashOf(word);
    vector[hash % dimensions]! += hash & 0x100 ? 1 : -1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
