/**
 * The model page's pure parts: the OIP tensors a form's fields make (from the model's declared
 * inputs), what an output tensor shows as, and the same request as curl, Python and JavaScript.
 */

/** A tensor as the catalog declares it (-1: any size). */
export type TensorSpec = { name: string; datatype: string; shape: number[] };
export type Tensor = { name: string; datatype: string; shape: number[]; data: unknown[] };

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

/** What an output tensor shows as: text lines, a table of rows, or JSON for the rest. */
export function outputView(
  tensor: Tensor,
): { kind: 'text'; lines: string[] } | { kind: 'table'; rows: unknown[][] } | { kind: 'json' } {
  const data = Array.isArray(tensor.data) ? tensor.data.flat(Infinity) : [];
  if (tensor.datatype === 'BYTES') return { kind: 'text', lines: data.map(String) };
  if (tensor.shape.length === 1) return { kind: 'table', rows: [data] };
  if (tensor.shape.length === 2 && tensor.shape[1]! > 0) {
    const width = tensor.shape[1]!;
    const rows: unknown[][] = [];
    for (let i = 0; i < data.length; i += width) rows.push(data.slice(i, i + width));
    return { kind: 'table', rows };
  }
  return { kind: 'json' };
}

/**
 * The same request from a terminal or a program: an anonymous session, the submission, and a
 * long poll for its end. Each stops at the first error (curl's --fail-with-body, `set -e`, and
 * the programs' status checks), rather than passing a `null` token along.
 */
export function snippets(origin: string, model: string, input: unknown) {
  const body = JSON.stringify({ model, input });
  const curl = `set -euo pipefail
TOKEN=$(curl -sS --fail-with-body -X POST ${origin}/api/sessions/anonymous | jq -er .token)
ID=$(curl -sS --fail-with-body ${origin}/api/requests -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -d '${body.replaceAll("'", "'\\''")}' | jq -er .id)
curl -sS --fail-with-body "${origin}/api/requests/$ID?wait=60" -H "Authorization: Bearer $TOKEN" | jq
# cancel: curl -sS --fail-with-body -X POST ${origin}/api/requests/$ID/cancel -H "Authorization: Bearer $TOKEN"`;
  const python = `import httpx

base = "${origin}"
token = httpx.post(f"{base}/api/sessions/anonymous").raise_for_status().json()["token"]
auth = {"Authorization": f"Bearer {token}"}
request = httpx.post(f"{base}/api/requests", headers=auth, json=${body}).raise_for_status().json()
ended = httpx.get(f"{base}/api/requests/{request['id']}", params={"wait": 60}, headers=auth, timeout=70)
print(ended.raise_for_status().json())`;
  const javascript = `const base = '${origin}';
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
