import { ByteReader, BytesEndedEarly } from '../../lib/byte-reader';
import { inPiecesOf } from '../../lib/payload-store';

async function* pieces(...sizes: number[]) {
  let next = 0;
  for (const size of sizes) {
    yield Buffer.from(Array.from({ length: size }, () => next++ % 256));
  }
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('inPiecesOf', () => {
  it('regroups pieces of any size into pieces of the size asked, the bytes in order', async () => {
    const regrouped = await all(inPiecesOf(4, pieces(3, 1, 9, 2)));
    expect(regrouped.map((piece) => piece.length)).toEqual([4, 4, 4, 3]);
    expect([...Buffer.concat(regrouped)]).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });
});

describe('ByteReader', () => {
  it('reads a header whole, then parts piece by piece, then counts what is left', async () => {
    const reader = new ByteReader(pieces(2, 5, 3));
    expect([...(await reader.readExactly(3))]).toEqual([0, 1, 2]);
    expect([...Buffer.concat(await all(reader.take(4)))]).toEqual([3, 4, 5, 6]);
    expect(await reader.countRest()).toBe(3);
  });

  it('says how far it got when the bytes end early', async () => {
    const reader = new ByteReader(pieces(2, 2));
    await expect(all(reader.take(6))).rejects.toEqual(expect.any(BytesEndedEarly));
    await expect(new ByteReader(pieces(1)).readExactly(2)).rejects.toMatchObject({ wanted: 2, had: 1 });
  });
});
