import type { InferenceRequest, InferenceResponse, InferenceTensor } from '../../../domain/inference-protocol';

/** An OIP datatype: FP32, INT64, BYTES… */
export type Datatype = InferenceTensor['datatype'];

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A tensor as the client takes and gives it: row-major data and a shape. */
export interface Tensor {
  datatype: Datatype;
  shape: number[];
  /** Typed by datatype: FP32 a Float32Array, INT64 a BigInt64Array, BOOL booleans, BYTES text. FP16 and BF16 come as Float32Array. */
  data: TypedArray | number[] | boolean[] | string[];
}

type Nested<T> = T | readonly Nested<T>[];

/**
 * What an input may be: a Tensor; a typed array (its datatype from its type, shape `[length]`);
 * text (BYTES); booleans (BOOL); or numbers (FP64: a JavaScript number is a double), nested
 * arrays giving the shape. `tensor()` sets the shape and datatype of anything else.
 */
export type TensorLike = Tensor | TypedArray | Nested<string> | Nested<number> | Nested<boolean>;

const typedDatatypes: [new (length: number) => TypedArray, Datatype][] = [
  [Float32Array, 'FP32'],
  [Float64Array, 'FP64'],
  [Int8Array, 'INT8'],
  [Int16Array, 'INT16'],
  [Int32Array, 'INT32'],
  [BigInt64Array, 'INT64'],
  [Uint8Array, 'UINT8'],
  [Uint16Array, 'UINT16'],
  [Uint32Array, 'UINT32'],
  [BigUint64Array, 'UINT64'],
];
const arrayOf = new Map(typedDatatypes.map(([array, datatype]) => [datatype, array]));

/** A tensor of `data` with this shape (and datatype: else from the data). */
export function tensor(data: Tensor['data'], shape: number[], datatype?: Datatype): Tensor {
  return { datatype: datatype ?? datatypeOf(data), shape, data };
}

function datatypeOf(data: Tensor['data']): Datatype {
  const typed = typedDatatypes.find(([array]) => data instanceof array);
  if (typed) return typed[1];
  if (typeof data[0] === 'string') return 'BYTES';
  if (typeof data[0] === 'boolean') return 'BOOL';
  return 'FP64';
}

function isTensor(value: TensorLike): value is Tensor {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Array.isArray(value);
}

/** The shape and row-major elements of nested arrays, refused when ragged. */
function flattened(name: string, value: Nested<string | number | boolean>): { shape: number[]; data: unknown[] } {
  if (!Array.isArray(value)) return { shape: [1], data: [value] };
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const data = (value as unknown[]).flat(shape.length - 1);
  if (data.length !== shape.reduce((product, size) => product * size, 1) || data.some(Array.isArray)) {
    throw new TypeError(`${name}: nested arrays must be rectangular`);
  }
  return { shape, data };
}

/** `value` as a Tensor. */
export function asTensor(name: string, value: TensorLike): Tensor {
  if (isTensor(value)) return value.datatype ? value : tensor(value.data, value.shape);
  if (ArrayBuffer.isView(value)) return tensor(value, [value.length]);
  const { shape, data } = flattened(name, value);
  return tensor(data as Tensor['data'], shape);
}

/** Bytes per element of each datatype a typed array holds. */
const elementBytes = (datatype: Datatype): number => arrayOf.get(datatype)?.prototype.BYTES_PER_ELEMENT ?? 0;

/** A tensor JSON cannot carry exactly: 64-bit integers past 2^53, or floats that are NaN or infinite. */
function jsonLoses(value: Tensor): boolean {
  if (value.data instanceof BigInt64Array || value.data instanceof BigUint64Array) {
    return value.data.some(
      (element) => element > BigInt(Number.MAX_SAFE_INTEGER) || -element > BigInt(Number.MAX_SAFE_INTEGER),
    );
  }
  if (value.data instanceof Float32Array || value.data instanceof Float64Array) {
    return value.data.some((element) => !Number.isFinite(element));
  }
  return false;
}

/** Past this, a typed array goes as an upload of its bytes rather than as JSON numbers. */
export const uploadFrom = 64 * 1024;

/**
 * The input of an inference request from named inputs, and the bytes of those that go as uploads
 * (a typed array JSON would lose, or one of `uploadFrom` bytes or more), by input name: their
 * tensors name the upload once it is made (`named()`).
 */
export function inferenceInput(inputs: Record<string, TensorLike>): {
  tensors: InferenceTensor[];
  uploads: Map<string, Uint8Array>;
} {
  const tensors: InferenceTensor[] = [];
  const uploads = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(inputs)) {
    const made = asTensor(name, value);
    const typed = ArrayBuffer.isView(made.data) && elementBytes(made.datatype) > 0 ? made.data : null;
    if (typed && (typed.byteLength >= uploadFrom || jsonLoses(made))) {
      // Elements are little-endian in an upload, as they are in memory on every machine Node runs on.
      uploads.set(name, new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
      tensors.push({ name, datatype: made.datatype, shape: made.shape });
    } else {
      const data = typed ? Array.from(typed as ArrayLike<number | bigint>, (element) => Number(element)) : made.data;
      tensors.push({ name, datatype: made.datatype, shape: made.shape, data: data as unknown[] });
    }
  }
  return { tensors, uploads };
}

/** The request's input once its uploads are made: each uploaded tensor names its payload. */
export function named(tensors: InferenceTensor[], payloadIds: Map<string, string>): InferenceRequest {
  return {
    inputs: tensors.map((input) => {
      const id = payloadIds.get(input.name);
      return id ? { ...input, parameters: { ...input.parameters, payload: id } } : input;
    }),
  };
}

/** An output tensor from its JSON `data` (BYTES as text, BOOL as booleans, numbers typed by datatype). */
export function fromJson(output: InferenceTensor): Tensor {
  const data = output.data ?? [];
  const elements = data.flat(output.shape.length) as unknown[];
  if (output.datatype === 'BYTES') return tensor(elements.map(String), output.shape, 'BYTES');
  if (output.datatype === 'BOOL') return tensor(elements.map(Boolean), output.shape, 'BOOL');
  const Array_ = arrayOf.get(output.datatype) ?? Float32Array; // FP16 and BF16: a float32 holds each exactly
  const typed = new Array_(elements.length);
  const wide = typed instanceof BigInt64Array || typed instanceof BigUint64Array;
  elements.forEach((element, index) => (typed[index] = wide ? BigInt(element as number) : (element as number)));
  return tensor(typed, output.shape, output.datatype);
}

/** An output tensor from its bytes as an upload lays them out (little-endian; BYTES length-prefixed). */
export function fromBytes(output: Pick<InferenceTensor, 'datatype' | 'shape'>, bytes: Uint8Array): Tensor {
  if (output.datatype === 'BYTES') {
    const texts: string[] = [];
    const decoder = new TextDecoder();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at + 4 <= bytes.byteLength;) {
      const length = view.getUint32(at, true);
      texts.push(decoder.decode(bytes.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    return tensor(texts, output.shape, 'BYTES');
  }
  if (output.datatype === 'BOOL') return tensor(Array.from(bytes, Boolean), output.shape, 'BOOL');
  if (output.datatype === 'FP16' || output.datatype === 'BF16') return halfFloats(output, bytes);
  const Array_ = arrayOf.get(output.datatype)!;
  const copy = bytes.slice(); // aligned, as a typed array's view must be
  return tensor(
    new (Array_ as unknown as new (buffer: ArrayBuffer) => TypedArray)(copy.buffer),
    output.shape,
    output.datatype,
  );
}

/** FP16 or BF16 elements as a Float32Array (which holds each exactly). */
function halfFloats(output: Pick<InferenceTensor, 'datatype' | 'shape'>, bytes: Uint8Array): Tensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const floats = new Float32Array(bytes.byteLength / 2);
  const bits = new DataView(new ArrayBuffer(4));
  for (let index = 0; index < floats.length; index++) {
    const half = view.getUint16(index * 2, true);
    if (output.datatype === 'BF16') {
      bits.setUint32(0, half << 16);
      floats[index] = bits.getFloat32(0);
    } else {
      const exponent = (half >> 10) & 0x1f;
      const fraction = half & 0x3ff;
      const magnitude =
        exponent === 0
          ? fraction * 2 ** -24
          : exponent === 31
            ? fraction
              ? NaN
              : Infinity
            : (1 + fraction / 1024) * 2 ** (exponent - 15);
      floats[index] = half & 0x8000 ? -magnitude : magnitude;
    }
  }
  return tensor(floats, output.shape, output.datatype);
}

/** The outputs of an OIP result by name (those whose bytes must be read are `payloadOutputs`). */
export type Outputs = Record<string, Tensor>;

/**
 * Outputs kept as payloads whose JSON is missing (too large to come inline) or may not be exact
 * (64-bit integers): the client reads their bytes.
 */
export function payloadOutputs(result: InferenceResponse): { name: string; payload: string }[] {
  return result.outputs.flatMap((output) => {
    const payload = output.parameters?.payload;
    const inexact = output.datatype === 'INT64' || output.datatype === 'UINT64';
    return typeof payload === 'string' && (output.data === undefined || inexact)
      ? [{ name: output.name, payload }]
      : [];
  });
}
