import { elementBytes as domainElementBytes } from '../../domain/binary-tensors';
import {
  chatCall,
  elementBytes,
  fileTensor,
  openAiText,
  outputView,
  snippets,
  tensorFromText,
} from '../../web/model-form';

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

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

describe('an image output', () => {
  const bytes = (data: string[], parameters?: Record<string, unknown>) => ({
    name: 'image',
    datatype: 'BYTES',
    shape: [data.length],
    data,
    ...(parameters ? { parameters } : {}),
  });

  it('shows as images when its content type says image/…, with that type', () => {
    expect(outputView(bytes([png], { content_type: 'image/png' }))).toEqual({
      kind: 'images',
      sources: [`data:image/png;base64,${png}`],
    });
  });

  it('takes MLServer’s pil_image, its type read from the file’s first bytes', () => {
    expect(outputView(bytes([png, '/9j/4AAQ'], { content_type: 'pil_image' }))).toEqual({
      kind: 'images',
      sources: [`data:image/png;base64,${png}`, 'data:image/jpeg;base64,/9j/4AAQ'],
    });
  });

  it('takes data:image URLs as they are', () => {
    expect(outputView(bytes([`data:image/png;base64,${png}`]))).toEqual({
      kind: 'images',
      sources: [`data:image/png;base64,${png}`],
    });
  });

  it('stays text when an element is not an image, or nothing says it is one', () => {
    expect(outputView(bytes([png, 'hello'], { content_type: 'pil_image' })).kind).toBe('text');
    expect(outputView(bytes([png])).kind).toBe('text');
    expect(outputView(bytes(['<svg onload=alert(1)>'], { content_type: 'image/svg+xml' })).kind).toBe('text');
  });
});

describe('an OpenAI model’s form', () => {
  it('makes a streamed chat call with one user message', () => {
    expect(chatCall('We hold these', '60', 100)).toEqual({
      input: {
        url: '/v1/chat/completions',
        body: { messages: [{ role: 'user', content: 'We hold these' }], stream: true, max_tokens: 60 },
      },
    });
    expect(chatCall('Hi', '', null)).toEqual({
      input: { url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'Hi' }], stream: true } },
    });
  });

  it('says what is wrong with the message or the token limit', () => {
    expect(chatCall(' ', '0', null)).toEqual({
      problems: ['Message: write something for the model to answer', 'Most tokens: a whole number, 1 or more'],
    });
    expect(chatCall('Hi', '500', 256)).toEqual({ problems: ['Most tokens: this model answers with at most 256'] });
  });

  it('reads the answer’s text from a chat completion or a completion', () => {
    expect(openAiText({ choices: [{ message: { role: 'assistant', content: 'truths' } }] })).toBe('truths');
    expect(openAiText({ choices: [{ text: 'self-evident' }] })).toBe('self-evident');
    expect(openAiText({ outputs: [] })).toBeNull();
  });
});

describe('a file for an input', () => {
  it('is raw little-endian values for a numeric type, one row for a two-dimensional input', () => {
    expect(fileTensor(numbers, 12)).toEqual({ shape: [1, 3], prefix: new Uint8Array(0) });
    expect(fileTensor({ name: 'x', datatype: 'INT64', shape: [-1] }, 16)).toEqual({
      shape: [2],
      prefix: new Uint8Array(0),
    });
  });

  it('is one BYTES element, its length first', () => {
    expect(fileTensor({ name: 't', datatype: 'BYTES', shape: [-1] }, 258)).toEqual({
      shape: [1],
      prefix: new Uint8Array([2, 1, 0, 0]),
    });
  });

  it('says what is wrong with a file that cannot be the tensor', () => {
    expect(fileTensor(numbers, 10)).toEqual({
      problem: 'numbers: FP32 values take 4 bytes each, and 10 bytes is not a whole number of them',
    });
    expect(fileTensor(numbers, 0)).toEqual({ problem: 'numbers: the file is empty' });
  });

  it('knows each datatype’s size as the server does', () => {
    expect(elementBytes).toEqual(domainElementBytes);
  });
});

describe('the snippets', () => {
  it('say where an uploaded file’s id goes', () => {
    const { curl, javascript } = snippets('http://h', 'echo', { inputs: [] }, ['numbers']);
    expect(curl.split('\n')[0]).toBe(
      '# upload numbers first (docs/payloads.md, "Uploads") and put its id for $PAYLOAD_numbers',
    );
    expect(javascript.startsWith('// upload numbers first')).toBe(true);
  });

  it('stop at the first error and quote the input safely', () => {
    const { curl, python, javascript } = snippets('http://h', 'echo', { text: "it's" });
    expect(curl).toContain('set -euo pipefail');
    expect(curl).toContain('jq -er .token');
    expect(curl).toContain(`'{"model":"echo","input":{"text":"it'\\''s"}}'`);
    expect(python).toContain('raise_for_status()');
    expect(javascript).toContain('if (!response.ok) throw');
  });
});
