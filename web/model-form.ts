/**
 * The model page's pure parts: the OIP tensors a form's fields make (from the model's declared
 * inputs), the call an OpenAI model's form makes, what an output shows as, and the same request
 * as curl, Python and JavaScript.
 */

/** A tensor as the catalog declares it (-1: any size). */
export type TensorSpec = { name: string; datatype: string; shape: number[] };
export type Tensor = {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: Record<string, unknown>;
};

const integerTypes = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** A nested JSON array's shape and its values in order; null when it is not rectangular. */
function shapeOf(value: unknown): { shape: number[]; data: unknown[] } | null {
  if (!Array.isArray(value)) return { shape: [], data: [value] };
  if (value.length === 0) return { shape: [0], data: [] };
  const parts = value.map(shapeOf);
  const first = parts[0];
  if (!first || parts.some((p) => p === null || p.shape.join() !== first.shape.join())) return null;
  return { shape: [value.length, ...first.shape], data: parts.flatMap((p) => p!.data) };
}

/**
 * The tensor a field's text makes: BYTES one string per line; BOOL `true`/`false`; numbers
 * separated by commas or spaces, or a JSON array (nested for more dimensions). A flat list goes
 * in as one row when the model declares two dimensions. The problem, said for a person, when
 * the text does not fit.
 */
export function tensorFromText(spec: TensorSpec, text: string): { tensor: Tensor } | { problem: string } {
  const { name, datatype } = spec;
  if (text.trim() === '') return { problem: `${name}: give a value` };
  let read: { shape: number[]; data: unknown[] } | null;
  if (datatype === 'BYTES') {
    const lines = text.split('\n');
    read = { shape: [lines.length], data: lines };
  } else if (text.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { problem: `${name}: this is not a JSON array` };
    }
    read = shapeOf(parsed);
    if (!read) return { problem: `${name}: every row must have the same length` };
  } else {
    const items = text.trim().split(/[\s,]+/);
    read = { shape: [items.length], data: items };
  }
  const data: unknown[] = [];
  for (const item of read.data) {
    const value = convert(datatype, item);
    if (value === undefined) return { problem: `${name}: "${String(item)}" is not a ${datatype} value` };
    data.push(value);
  }
  const shape = read.shape.length === 1 && spec.shape.length === 2 ? [1, read.shape[0]!] : read.shape;
  return { tensor: { name, datatype, shape, data } };
}

function convert(datatype: string, item: unknown): unknown {
  if (datatype === 'BYTES') return String(item);
  if (datatype === 'BOOL') {
    if (item === true || item === 'true') return true;
    if (item === false || item === 'false') return false;
    return undefined;
  }
  const number = typeof item === 'number' ? item : Number(item);
  if (typeof item === 'string' && item.trim() === '') return undefined;
  if (!Number.isFinite(number)) return undefined;
  if (integerTypes.has(datatype) && !Number.isInteger(number)) return undefined;
  return number;
}

/** What an output tensor shows as: images, text lines, a table of rows, or JSON for the rest. */
export function outputView(
  tensor: Tensor,
):
  | { kind: 'images'; sources: string[] }
  | { kind: 'text'; lines: string[] }
  | { kind: 'table'; rows: unknown[][] }
  | { kind: 'json' } {
  const data = Array.isArray(tensor.data) ? tensor.data.flat(Infinity) : [];
  if (tensor.datatype === 'BYTES') {
    const sources = imageSources(data, tensor.parameters?.content_type);
    return sources ? { kind: 'images', sources } : { kind: 'text', lines: data.map(String) };
  }
  if (tensor.shape.length === 1) return { kind: 'table', rows: [data] };
  if (tensor.shape.length === 2 && tensor.shape[1]! > 0) {
    const width = tensor.shape[1]!;
    const rows: unknown[][] = [];
    for (let i = 0; i < data.length; i += width) rows.push(data.slice(i, i + width));
    return { kind: 'table', rows };
  }
  return { kind: 'json' };
}

/** Bytes per element of each fixed-size datatype (domain/binary-tensors.ts says the same; a test keeps them equal). */
export const elementBytes: Record<string, number> = {
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

/**
 * How a file goes up as a tensor's upload (docs/payloads.md): for BYTES the whole file is one
 * element (its 4-byte little-endian length goes first, the `prefix`); for a fixed-size datatype
 * the file is the values themselves, little-endian. A flat tensor goes in as one row when the
 * model declares two dimensions. The problem, said for a person, when the file cannot be one.
 */
export function fileTensor(
  spec: TensorSpec,
  size: number,
): { shape: number[]; prefix: Uint8Array } | { problem: string } {
  const { name, datatype } = spec;
  if (size === 0) return { problem: `${name}: the file is empty` };
  const asRow = (count: number) => (spec.shape.length === 2 ? [1, count] : [count]);
  if (datatype === 'BYTES') {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, size, true);
    return { shape: asRow(1), prefix };
  }
  const bytes = elementBytes[datatype];
  if (!bytes) return { problem: `${name}: a file cannot give ${datatype} values` };
  if (size % bytes !== 0) {
    return {
      problem: `${name}: ${datatype} values take ${bytes} bytes each, and ${size} bytes is not a whole number of them`,
    };
  }
  return { shape: asRow(size / bytes), prefix: new Uint8Array(0) };
}

/** The first characters of an image file in base64, by type. */
const imageSignatures: [string, string][] = [
  ['iVBORw0KGgo', 'image/png'],
  ['/9j/', 'image/jpeg'],
  ['R0lGOD', 'image/gif'],
  ['UklGR', 'image/webp'],
];
const imageDataUrl = /^data:image\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+$/;

/**
 * A BYTES output's elements as images' addresses (data: URLs), when it says it holds images: a
 * content type `image/…`, MLServer's `pil_image` (base64 of the file, its type from its first
 * bytes), or elements that are data:image URLs already. Null when any element is not one.
 */
function imageSources(data: unknown[], contentType: unknown): string[] | null {
  if (data.length === 0 || !data.every((item) => typeof item === 'string')) return null;
  const items = data as string[];
  if (items.every((item) => imageDataUrl.test(item))) return items;
  const base64 = items.every((item) => /^[A-Za-z0-9+/=]+$/.test(item));
  if (!base64 || typeof contentType !== 'string') return null;
  if (/^image\/[a-z0-9.+-]+$/.test(contentType)) return items.map((item) => `data:${contentType};base64,${item}`);
  if (contentType !== 'pil_image') return null;
  const sources = items.map((item) => {
    const type = imageSignatures.find(([signature]) => item.startsWith(signature))?.[1];
    return type ? `data:${type};base64,${item}` : null;
  });
  return sources.every((source) => source !== null) ? (sources as string[]) : null;
}

/**
 * The call an OpenAI model's form makes: one user message, streamed so its tokens show as they
 * come, up to `maxTokens` (empty: the model's own limit).
 */
export function chatCall(
  prompt: string,
  maxTokens: string,
  modelLimit: number | null,
): { input: unknown } | { problems: string[] } {
  const problems: string[] = [];
  if (prompt.trim() === '') problems.push('Message: write something for the model to answer');
  const tokens = maxTokens.trim() === '' ? null : Number(maxTokens);
  if (tokens !== null && (!Number.isInteger(tokens) || tokens < 1))
    problems.push('Most tokens: a whole number, 1 or more');
  else if (tokens !== null && modelLimit !== null && tokens > modelLimit) {
    problems.push(`Most tokens: this model answers with at most ${modelLimit}`);
  }
  if (problems.length) return { problems };
  return {
    input: {
      url: '/v1/chat/completions',
      body: { messages: [{ role: 'user', content: prompt }], stream: true, ...(tokens ? { max_tokens: tokens } : {}) },
    },
  };
}

/** The text of an OpenAI answer (a chat message's content or a completion's text); null for other results. */
export function openAiText(result: unknown): string | null {
  const choice = (result as { choices?: { message?: { content?: unknown }; text?: unknown }[] } | null)?.choices?.[0];
  const text = choice?.message?.content ?? choice?.text;
  return typeof text === 'string' ? text : null;
}

/**
 * The same request from a terminal or a program: an anonymous session, the submission, and a
 * long poll for its end. Each stops at the first error (curl's --fail-with-body, `set -e`, and
 * the programs' status checks), rather than passing a `null` token along.
 */
export function snippets(origin: string, model: string, input: unknown, files: string[] = []) {
  const body = JSON.stringify({ model, input });
  // A file goes up first; the snippet names where its upload's id goes.
  const uploads = files.map(
    (name) => `upload ${name} first (docs/payloads.md, "Uploads") and put its id for $PAYLOAD_${name}`,
  );
  const curl = `${uploads.map((line) => `# ${line}\n`).join('')}set -euo pipefail
TOKEN=$(curl -sS --fail-with-body -X POST ${origin}/api/sessions/anonymous | jq -er .token)
ID=$(curl -sS --fail-with-body ${origin}/api/requests -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -d '${body.replaceAll("'", "'\\''")}' | jq -er .id)
curl -sS --fail-with-body "${origin}/api/requests/$ID?wait=60" -H "Authorization: Bearer $TOKEN" | jq
# cancel: curl -sS --fail-with-body -X POST ${origin}/api/requests/$ID/cancel -H "Authorization: Bearer $TOKEN"`;
  const python = `${uploads.map((line) => `# ${line}\n`).join('')}import httpx

base = "${origin}"
token = httpx.post(f"{base}/api/sessions/anonymous").raise_for_status().json()["token"]
auth = {"Authorization": f"Bearer {token}"}
request = httpx.post(f"{base}/api/requests", headers=auth, json=${body}).raise_for_status().json()
ended = httpx.get(f"{base}/api/requests/{request['id']}", params={"wait": 60}, headers=auth, timeout=70)
print(ended.raise_for_status().json())`;
  const javascript = `${uploads.map((line) => `// ${line}\n`).join('')}const base = '${origin}';
const call = async (path, init = {}) => {
  const response = await fetch(base + path, init);
  if (!response.ok) throw new Error(\`\${path}: \${response.status} \${await response.text()}\`);
  return response.json();
};
const { token } = await call('/api/sessions/anonymous', { method: 'POST' });
const headers = { Authorization: \`Bearer \${token}\`, 'Content-Type': 'application/json' };
const { id } = await call('/api/requests', { method: 'POST', headers, body: JSON.stringify(${body}) });
console.log(await call(\`/api/requests/\${id}?wait=60\`, { headers }));`;
  return { curl, python, javascript };
}
