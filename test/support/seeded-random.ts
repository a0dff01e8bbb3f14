/**
 * A seeded generator of numbers in [0, 1) (mulberry32), so a failure can be replayed. In 32-bit
 * integer arithmetic: the linear congruential one the tests used before multiplied past 2^53,
 * lost precision, and fell into short cycles.
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
