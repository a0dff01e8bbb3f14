import { outputView, snippets, tensorFromText } from '../../web/model-form';

const numbers = { name: 'numbers', datatype: 'FP32', shape: [-1, -1] };

describe('the model page’s form', () => {
  it('reads numbers separated by commas or spaces, as one row of a two-dimensional input', () => {
    expect(tensorFromText(numbers, '1, 2 3.5')).toEqual({
      tensor: { name: 'numbers', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3.5] },
    });
  });

  it('reads a nested JSON array with its shape', () => {
    expect(tensorFromText(numbers, '[[1, 2], [3, 4]]')).toEqual({
      tensor: { name: 'numbers', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
    });
  });

  it('reads text one element per line, and booleans', () => {
    expect(tensorFromText({ name: 't', datatype: 'BYTES', shape: [-1] }, 'hello\nworld')).toEqual({
      tensor: { name: 't', datatype: 'BYTES', shape: [2], data: ['hello', 'world'] },
    });
    expect(tensorFromText({ name: 'b', datatype: 'BOOL', shape: [-1] }, 'true false')).toEqual({
      tensor: { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] },
    });
  });

  it.each([
    ['', 'numbers: give a value'],
    ['1, x', 'numbers: "x" is not a FP32 value'],
    ['[[1, 2], [3]]', 'numbers: every row must have the same length'],
    ['[1, 2', 'numbers: this is not a JSON array'],
  ])('says what is wrong with %j', (text, problem) => {
    expect(tensorFromText(numbers, text)).toEqual({ problem });
  });

  it('refuses a fraction for an integer type', () => {
    expect(tensorFromText({ name: 'n', datatype: 'INT32', shape: [-1] }, '1.5')).toEqual({
      problem: 'n: "1.5" is not a INT32 value',
    });
  });
});

describe('an output as the page shows it', () => {
  it('is lines of text, a table of rows, or JSON', () => {
    expect(outputView({ name: 't', datatype: 'BYTES', shape: [2], data: ['a', 'b'] })).toEqual({
      kind: 'text',
      lines: ['a', 'b'],
    });
    expect(outputView({ name: 'n', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] })).toEqual({
      kind: 'table',
      rows: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(outputView({ name: 'n', datatype: 'FP32', shape: [2, 1, 2], data: [1, 2, 3, 4] })).toEqual({ kind: 'json' });
  });
});

describe('the snippets', () => {
  it('stop at the first error and quote the input safely', () => {
    const { curl, python, javascript } = snippets('http://h', 'echo', { text: "it's" });
    expect(curl).toContain('set -euo pipefail');
    expect(curl).toContain('jq -er .token');
    expect(curl).toContain(`'{"model":"echo","input":{"text":"it'\\''s"}}'`);
    expect(python).toContain('raise_for_status()');
    expect(javascript).toContain('if (!response.ok) throw');
  });
});
