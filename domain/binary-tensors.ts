import { z } from 'zod';
import type { tensorDatatype } from './inference-protocol';

/**
 * The Open Inference Protocol's binary tensor data extension, as Triton and KServe speak it: a
 * body is a JSON header of `Inference-Header-Content-Length` bytes, then each binary tensor's
 * bytes in the order the header lists them (`parameters.binary_data_size`). Elements are
 * little-endian, row-major; a BYTES element is a 4-byte little-endian length and its bytes.
 * Pure: bytes in, JSON tensors out, and back.
 */

export type Datatype = z.infer<typeof tensorDatatype>;

/** Why a binary body cannot be read: a code and a message for the caller (400). */
export class BinaryTensorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const elementBytes: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  FP16: 2,
  BF16: 2,
  INT32: 4,
  UINT32: 4,
  FP32: 4,
  INT64: 8,
  UINT64: 8,
  FP64: 8,
};

const elementCount = (shape: number[]) => shape.reduce((product, size) => product * size, 1);

/** IEEE 754 half precision, exactly (every half is a double). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Rounds half-way cases to the even integer, as IEEE 754 rounds. */
function roundToEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The half nearest `value` (ties to even); exact for a value that came from a half. */
function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs < 2 ** -14) return sign | roundToEven(abs / 2 ** -24); // subnormal (or the smallest normal, rounded up)
  let exponent = Math.floor(Math.log2(abs));
  if (2 ** exponent > abs) exponent -= 1;
  if (2 ** (exponent + 1) <= abs) exponent += 1;
  let mantissa = roundToEven((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent + 15 >= 0x1f) return sign | 0x7c00; // too large: Infinity
  return sign | ((exponent + 15) << 10) | mantissa;
}

/** bfloat16: the upper half of a float32, exactly. */
const bfloatToNumber = (bits: number) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;
function numberToBfloat(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  const rounded = bits + 0x7fff + ((bits >> 16) & 1); // ties to even
  return (rounded >>> 16) & 0xffff;
}

/** 64-bit integers as JSON numbers, which are exact up to 2^53: past that, a coded error, never a rounded number. */
function int64(view: DataView, at: number, signed: boolean): number {
  const value = Number(signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true));
  if (!Number.isSafeInteger(value)) {
    throw new BinaryTensorError(
      'INT64_NOT_EXACT_IN_JSON',
      `${value} is past 2^53, which a JSON number cannot hold exactly`,
    );
  }
  return value;
}

/** A binary tensor's elements, flat, as JSON data. */
export function decodeTensor(name: string, datatype: Datatype, shape: number[], bytes: Uint8Array): unknown[] {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return decodeBytes(name, count, bytes);
  const size = elementBytes[datatype];
  if (bytes.length !== count * size) {
    throw new BinaryTensorError(
      'BINARY_DATA_SIZE_MISMATCH',
      `input ${name}: binary_data_size ${bytes.length} is not ${count} ${datatype} element(s) of ${size} byte(s) (shape [${shape.join(', ')}])`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (datatype) {
      case 'BOOL':
        data[i] = view.getUint8(at) !== 0;
        break;
      case 'INT8':
        data[i] = view.getInt8(at);
        break;
      case 'UINT8':
        data[i] = view.getUint8(at);
        break;
      case 'INT16':
        data[i] = view.getInt16(at, true);
        break;
      case 'UINT16':
        data[i] = view.getUint16(at, true);
        break;
      case 'FP16':
        data[i] = halfToNumber(view.getUint16(at, true));
        break;
      case 'BF16':
        data[i] = bfloatToNumber(view.getUint16(at, true));
        break;
      case 'INT32':
        data[i] = view.getInt32(at, true);
        break;
      case 'UINT32':
        data[i] = view.getUint32(at, true);
        break;
      case 'FP32':
        data[i] = view.getFloat32(at, true);
        break;
      case 'INT64':
        data[i] = int64(view, at, true);
        break;
      case 'UINT64':
        data[i] = int64(view, at, false);
        break;
      case 'FP64':
        data[i] = view.getFloat64(at, true);
        break;
    }
  }
  return data;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBytes(name: string, count: number, bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) {
      throw new BinaryTensorError(
        'BINARY_BYTES_MALFORMED',
        `input ${name}: element ${i} has no length prefix (the data ends at byte ${bytes.length})`,
      );
    }
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) {
      throw new BinaryTensorError(
        'BINARY_BYTES_MALFORMED',
        `input ${name}: element ${i} says ${length} bytes, past the end of its data`,
      );
    }
    try {
      data.push(utf8.decode(bytes.subarray(at + 4, at + 4 + length)));
    } catch {
      throw new BinaryTensorError(
        'BYTES_NOT_UTF8',
        `input ${name}: element ${i} is not UTF-8 text, which is all Podium keeps of a BYTES element`,
      );
    }
    at += 4 + length;
  }
  if (at !== bytes.length) {
    throw new BinaryTensorError(
      'BINARY_BYTES_MALFORMED',
      `input ${name}: ${bytes.length - at} byte(s) after its ${count} element(s)`,
    );
  }
  return data;
}

/** JSON data (nested or flat) as a binary tensor's bytes. */
export function encodeTensor(datatype: Datatype, data: unknown[]): Uint8Array {
  const flat = data.flat(Infinity);
  if (datatype === 'BYTES') {
    const pieces = flat.map((value) => Buffer.from(String(value), 'utf8'));
    const out = Buffer.alloc(pieces.reduce((sum, piece) => sum + 4 + piece.length, 0));
    let at = 0;
    for (const piece of pieces) {
      out.writeUInt32LE(piece.length, at);
      piece.copy(out, at + 4);
      at += 4 + piece.length;
    }
    return out;
  }
  const size = elementBytes[datatype];
  const out = new Uint8Array(flat.length * size);
  const view = new DataView(out.buffer);
  flat.forEach((value, i) => {
    const at = i * size;
    const number = Number(value);
    switch (datatype) {
      case 'BOOL':
        view.setUint8(at, value ? 1 : 0);
        break;
      case 'INT8':
        view.setInt8(at, number);
        break;
      case 'UINT8':
        view.setUint8(at, number);
        break;
      case 'INT16':
        view.setInt16(at, number, true);
        break;
      case 'UINT16':
        view.setUint16(at, number, true);
        break;
      case 'FP16':
        view.setUint16(at, numberToHalf(number), true);
        break;
      case 'BF16':
        view.setUint16(at, numberToBfloat(number), true);
        break;
      case 'INT32':
        view.setInt32(at, number, true);
        break;
      case 'UINT32':
        view.setUint32(at, number, true);
        break;
      case 'FP32':
        view.setFloat32(at, number, true);
        break;
      case 'INT64':
        view.setBigInt64(at, BigInt(Math.trunc(number)), true);
        break;
      case 'UINT64':
        view.setBigUint64(at, BigInt(Math.trunc(number)), true);
        break;
      case 'FP64':
        view.setFloat64(at, number, true);
        break;
    }
  });
  return out;
}

/** An `Inference-Header-Content-Length` as a byte count; a coded error when it is not one. */
export function headerByteCount(headerLength: string): number {
  if (!/^\d{1,10}$/.test(headerLength.trim())) {
    throw new BinaryTensorError(
      'INVALID_INFERENCE_HEADER_LENGTH',
      `Inference-Header-Content-Length "${headerLength.slice(0, 20)}" is not a byte count`,
    );
  }
  return Number(headerLength);
}

/** A binary body's first bytes, as the JSON header they must be. */
export function parseBinaryHeader(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new BinaryTensorError(
      'MALFORMED_JSON',
      `The first ${bytes.byteLength} bytes (Inference-Header-Content-Length) are not JSON`,
    );
  }
}

const binaryTensors = z.array(
  z.looseObject({
    name: z.string(),
    datatype: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
);

/** A tensor whose bytes follow the header: where it is in the list, and how many bytes. */
export type BinaryPart = { index: number; name: string; datatype: Datatype; shape: number[]; size: number };

/**
 * Which of a header's tensors (`inputs` of a request, `outputs` of a response) come in binary
 * after it, in order, with their sizes checked against shape and datatype. What the header
 * still needs is checked as any JSON request is.
 */
export function binaryParts(header: unknown, list: 'inputs' | 'outputs'): BinaryPart[] {
  const parsed = z.looseObject({ [list]: binaryTensors }).safeParse(header);
  if (!parsed.success) {
    throw new BinaryTensorError('VALIDATION_FAILED', `The header is not JSON with ${list} (name, datatype, shape)`);
  }
  const tensors = parsed.data[list] as z.infer<typeof binaryTensors>;
  return tensors.flatMap((tensor, index) => {
    const size = tensor.parameters?.binary_data_size;
    if (size === undefined) return [];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new BinaryTensorError('BINARY_DATA_SIZE_MISMATCH', `${tensor.name}: binary_data_size must be a byte count`);
    }
    if (!(tensor.datatype in elementBytes) && tensor.datatype !== 'BYTES') {
      throw new BinaryTensorError('VALIDATION_FAILED', `${tensor.name}: ${tensor.datatype} is not an OIP datatype`);
    }
    const part = { index, name: tensor.name, datatype: tensor.datatype as Datatype, shape: tensor.shape, size };
    checkTensorSize(part, size);
    return [part];
  });
}

/** Bytes that cannot hold a tensor of this shape and datatype: a coded error. BYTES vary, so any count may. */
export function checkTensorSize(tensor: { name: string; datatype: Datatype; shape: number[] }, size: number): void {
  if (tensor.datatype === 'BYTES') return;
  const expected = elementCount(tensor.shape) * elementBytes[tensor.datatype];
  if (size !== expected) {
    throw new BinaryTensorError(
      'BINARY_DATA_SIZE_MISMATCH',
      `${tensor.name}: ${size} byte(s) do not hold a ${tensor.datatype} tensor of shape [${tensor.shape.join(', ')}] (${expected} bytes)`,
    );
  }
}

/**
 * Checks a BYTES tensor's elements as its bytes pass, a piece at a time: each a 4-byte
 * little-endian length and that many bytes, as many elements as the shape holds.
 */
export function bytesElementsChecker(name: string, shape: number[]) {
  const wanted = elementCount(shape);
  let elements = 0;
  let prefix: number[] = []; // the length prefix read so far
  let left = 0; // bytes of the current element still to come
  const malformed = (why: string) => new BinaryTensorError('BINARY_BYTES_MALFORMED', `${name}: ${why}`);
  return {
    feed(piece: Uint8Array) {
      let at = 0;
      while (at < piece.length) {
        if (left > 0) {
          const step = Math.min(left, piece.length - at);
          left -= step;
          at += step;
          continue;
        }
        prefix.push(piece[at]!);
        at += 1;
        if (prefix.length === 4) {
          left = (prefix[0]! | (prefix[1]! << 8) | (prefix[2]! << 16)) + prefix[3]! * 2 ** 24;
          prefix = [];
          elements += 1;
          if (elements > wanted) throw malformed(`more than the ${wanted} element(s) its shape holds`);
        }
      }
    },
    end() {
      if (prefix.length > 0 || left > 0) throw malformed('its last element runs past its data');
      if (elements !== wanted) throw malformed(`${elements} element(s), where its shape holds ${wanted}`);
    },
  };
}

/** Which outputs the caller wants as binary: all (`binary_data_output`), or those it names with `binary_data`. */
export function binaryOutputsWanted(request: {
  parameters?: Record<string, unknown>;
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}): (name: string) => boolean {
  const all = request.parameters?.binary_data_output === true;
  const named = new Map((request.outputs ?? []).map((output) => [output.name, output.parameters?.binary_data]));
  return (name) => (named.has(name) ? named.get(name) === true : all);
}

/**
 * The request as the model is asked it: without the binary extension's parameters, since Podium
 * speaks JSON to the model and answers in binary itself.
 */
export function withoutBinaryParameters<
  T extends {
    parameters?: Record<string, unknown>;
    outputs?: { name: string; parameters?: Record<string, unknown> }[];
  },
>(request: T): T {
  const strip = (parameters: Record<string, unknown> | undefined, key: string) => {
    if (!parameters || !(key in parameters)) return parameters;
    const { [key]: _dropped, ...rest } = parameters;
    return Object.keys(rest).length > 0 ? rest : undefined;
  };
  const parameters = strip(request.parameters, 'binary_data_output');
  const outputs = request.outputs?.map((output) => {
    const kept = strip(output.parameters, 'binary_data');
    return kept ? { ...output, parameters: kept } : { name: output.name };
  });
  const { parameters: _p, outputs: _o, ...rest } = request;
  return { ...rest, ...(parameters ? { parameters } : {}), ...(outputs ? { outputs } : {}) } as T;
}

/**
 * A response with the wanted outputs in binary: a JSON header (those outputs without `data`, with
 * `binary_data_size`) and their bytes after it; null when none is wanted.
 */
export function binaryResponse(
  response: { outputs: { name: string; datatype: string; data: unknown[]; parameters?: Record<string, unknown> }[] },
  wanted: (name: string) => boolean,
): { body: Buffer; headerLength: number } | null {
  if (!response.outputs.some((output) => wanted(output.name))) return null;
  const binaries: Uint8Array[] = [];
  const outputs = response.outputs.map((output) => {
    if (!wanted(output.name)) return output;
    const bytes = encodeTensor(output.datatype as Datatype, output.data);
    binaries.push(bytes);
    const { data: _data, ...rest } = output;
    return { ...rest, parameters: { ...output.parameters, binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  return { body: Buffer.concat([header, ...binaries]), headerLength: header.length };
}

/** A binary part's bytes as they pass, its BYTES elements checked on the way (others pass as they are). */
export async function* checkedPart<T extends Uint8Array>(part: BinaryPart, bytes: AsyncIterable<T>): AsyncIterable<T> {
  if (part.datatype !== 'BYTES') return yield* bytes;
  const checker = bytesElementsChecker(part.name, part.shape);
  for await (const piece of bytes) {
    checker.feed(piece);
    yield piece;
  }
  checker.end();
}
