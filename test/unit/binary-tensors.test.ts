import {
  BinaryTensorError,
  binaryParts,
  bytesElementsChecker,
  decodeTensor,
  encodeTensor,
  headerByteCount,
  parseBinaryHeader,
} from '../../domain/binary-tensors';

const bytesOf = (typed: ArrayBufferView) => new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);

describe('binary tensors', () => {
  it.each([
    ['INT8', new Int8Array([-128, 0, 127])],
    ['UINT8', new Uint8Array([0, 255, 7])],
    ['INT16', new Int16Array([-32768, 1, 32767])],
    ['UINT16', new Uint16Array([0, 65535, 9])],
    ['INT32', new Int32Array([-(2 ** 31), 5, 2 ** 31 - 1])],
    ['UINT32', new Uint32Array([0, 2 ** 32 - 1, 3])],
    ['FP32', new Float32Array([Math.fround(0.1), -3.5, Infinity])],
    ['FP64', new Float64Array([0.1, -1e300, Number.MIN_VALUE])],
    ['INT64', new BigInt64Array([-(2n ** 53n) + 1n, 0n, 2n ** 53n - 1n])],
    ['UINT64', new BigUint64Array([0n, 2n ** 53n - 1n, 42n])],
  ] as const)('%s round-trips bit-exact through JSON numbers', (datatype, typed) => {
    const bytes = bytesOf(typed);
    const data = decodeTensor('x', datatype, [3], bytes);
    expect(Buffer.from(encodeTensor(datatype, data))).toEqual(Buffer.from(bytes));
  });

  it('FP16 and BF16: every bit pattern but NaN payloads round-trips', () => {
    for (const datatype of ['FP16', 'BF16'] as const) {
      const all = new Uint16Array(65536).map((_, i) => i);
      const data = decodeTensor('x', datatype, [65536], bytesOf(all));
      const back = new Uint16Array(encodeTensor(datatype, data).buffer);
      const nan = (bits: number) =>
        datatype === 'FP16'
          ? (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0
          : (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;
      const differing = [...all].filter((bits, i) => back[i] !== bits && !nan(bits));
      expect(differing).toEqual([]);
    }
  });

  it('FP16 rounds to the nearest half, ties to even', () => {
    const encoded = (value: number) => new Uint16Array(encodeTensor('FP16', [value]).buffer)[0];
    expect(encoded(1 + 2 ** -11)).toBe(0x3c00); // half-way between 1 and the next half: to even (1)
    expect(encoded(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(encoded(70000)).toBe(0x7c00);
  });

  it('BOOL and BYTES', () => {
    expect(decodeTensor('b', 'BOOL', [2], new Uint8Array([1, 0]))).toEqual([true, false]);
    const encoded = encodeTensor('BYTES', ['héllo', '']);
    expect(decodeTensor('s', 'BYTES', [2], encoded)).toEqual(['héllo', '']);
  });

  it.each([
    [
      'a size that does not fit the shape',
      () => decodeTensor('x', 'FP32', [2], new Uint8Array(7)),
      'BINARY_DATA_SIZE_MISMATCH',
    ],
    [
      'a BYTES length past the end',
      () => decodeTensor('s', 'BYTES', [1], new Uint8Array([9, 0, 0, 0, 1])),
      'BINARY_BYTES_MALFORMED',
    ],
    [
      'a BYTES element with no length',
      () => decodeTensor('s', 'BYTES', [2], new Uint8Array([0, 0, 0, 0, 1])),
      'BINARY_BYTES_MALFORMED',
    ],
    [
      'BYTES that are not UTF-8',
      () => decodeTensor('s', 'BYTES', [1], new Uint8Array([1, 0, 0, 0, 0xff])),
      'BYTES_NOT_UTF8',
    ],
    ['a header length that is not a number', () => headerByteCount('-1'), 'INVALID_INFERENCE_HEADER_LENGTH'],
    ['a header that is not JSON', () => parseBinaryHeader(Buffer.from('{x}')), 'MALFORMED_JSON'],
    [
      'a binary_data_size that is not its shape times its datatype',
      () =>
        binaryParts(
          { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 7 } }] },
          'inputs',
        ),
      'BINARY_DATA_SIZE_MISMATCH',
    ],
    [
      'BYTES elements whose last length runs past the data, fed in pieces',
      () => {
        const checker = bytesElementsChecker('s', [1]);
        checker.feed(new Uint8Array([3, 0]));
        checker.feed(new Uint8Array([0, 0, 97]));
        checker.end();
      },
      'BINARY_BYTES_MALFORMED',
    ],
    [
      'fewer BYTES elements than the shape holds',
      () => {
        const checker = bytesElementsChecker('s', [2]);
        checker.feed(new Uint8Array([1, 0, 0, 0, 97]));
        checker.end();
      },
      'BINARY_BYTES_MALFORMED',
    ],
  ])('refuses %s with a code', (_what, read, code) => {
    expect(read).toThrow(BinaryTensorError);
    try {
      read();
    } catch (error) {
      expect((error as BinaryTensorError).code).toBe(code);
    }
  });
});

describe('BYTES elements checked as their bytes pass', () => {
  it('takes elements whatever pieces they come in', () => {
    const checker = bytesElementsChecker('s', [2]);
    const bytes = [2, 0, 0, 0, 104, 105, 0, 0, 0, 0];
    for (const byte of bytes) checker.feed(new Uint8Array([byte]));
    expect(() => checker.end()).not.toThrow();
  });
});
