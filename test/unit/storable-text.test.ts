import { findUnstorableText } from '../../domain/storable-text';

describe('text the database can store', () => {
  it('accepts ordinary text, emoji (a surrogate pair) included, and non-text values', () => {
    expect(findUnstorableText({ a: ['héllo', 'party 🎉'], b: 1, c: null, d: true })).toBeNull();
  });

  it('finds a NUL and says where it is', () => {
    expect(findUnstorableText({ inputs: [{ data: ['ok', 'a\u0000b'] }] })).toEqual({
      path: 'inputs[0].data[1]',
      problem: 'a NUL character',
    });
  });

  it('finds lone surrogates, high or low, and at either end', () => {
    for (const text of ['\ud800', 'a\ud800b', '\udc00x', 'x\udbff']) {
      expect(findUnstorableText(text)).toEqual({ path: '', problem: 'a lone UTF-16 surrogate' });
    }
  });

  it('checks object keys too', () => {
    expect(findUnstorableText({ 'bad\u0000key': 1 })).toEqual({ path: 'bad\u0000key', problem: 'a NUL character' });
  });
});
