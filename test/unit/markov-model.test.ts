import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildChain, embed, generate } from '../../models/markov/chain';

const chain = buildChain(readFileSync(path.resolve(__dirname, '../../models/markov/declaration.txt'), 'utf8'));
const words = (prompt: string, seed: number, count: number) => {
  const out: string[] = [];
  for (const word of generate(chain, prompt, seed)) {
    out.push(word);
    if (out.length === count) break;
  }
  return out;
};

describe('the Markov demo model', () => {
  it('says the same words for the same prompt and seed, so a stream generated again retraces itself', () => {
    expect(words('We hold these', 0, 30)).toEqual(words('We hold these', 0, 30));
    expect(words('We hold these', 0, 30)).not.toEqual(words('We hold these', 1, 30));
  });

  it('continues the prompt from its last two words when the text has them', () => {
    expect(words('We hold these', 0, 2)).toEqual(['truths', 'to']);
  });

  it('gives unit-length embeddings of the size asked', () => {
    const vector = embed('Life, Liberty and the pursuit of Happiness', 16);
    expect(vector).toHaveLength(16);
    expect(Math.hypot(...vector)).toBeCloseTo(1);
  });
});
