// The client side of bench:payloads: binary infers of FP32 tensors, sent a piece at a time and
// read as they come (nothing kept whole but the tensor sent). Run as a process of its own for
// the 64 MB case, so that the API process's RSS is the API's alone:
//   node --import tsx test/bench/payload-client.ts <url> <token> <bytes>   → {"size","sha256"}
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A binary infer of one FP32 tensor, its bytes sent a piece at a time from `bytes` (never copied whole). */
function binaryInfer(bytes: Buffer) {
  const count = bytes.length / 4;
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [count], parameters: { binary_data_size: bytes.length } }],
      outputs: [{ name: 'x', parameters: { binary_data: true } }],
    }),
  );
  return {
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
      'content-length': String(header.length + bytes.length),
    },
    body: async function* () {
      yield header;
      for (let at = 0; at < bytes.length; at += 256 * 1024) yield bytes.subarray(at, at + 256 * 1024);
    },
  };
}

/** Sends a binary infer and reads the answer as it comes: its status, size and the output's SHA-256 (nothing kept). */
export async function inferAndHash(url: string, bytes: Buffer, headers: Record<string, string> = {}) {
  const asked = binaryInfer(bytes);
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...asked.headers, ...headers },
    body: asked.body() as unknown as BodyInit,
    duplex: 'half',
  } as RequestInit);
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const headerLength = Number(response.headers.get('inference-header-content-length'));
  const hash = createHash('sha256');
  let seen = 0;
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
    const from = Math.max(0, headerLength - seen);
    if (from < piece.length) hash.update(piece.subarray(from));
    seen += piece.length;
  }
  return { size: seen - headerLength, sha256: hash.digest('hex') };
}

export function floats(bytes: number): Buffer {
  const values = new Float32Array(bytes / 4);
  for (let i = 0; i < values.length; i++) values[i] = Math.fround(Math.sin(i) * 1e6);
  return Buffer.from(values.buffer);
}

if (require.main === module && process.argv[2] === 'serve') {
  // The floor's server: `bytes` to whoever asks, then its port on stdout.
  const data = floats(Number(process.argv[3]));
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-length': String(data.length) });
    response.end(data);
  });
  server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else if (require.main === module && process.argv[2] === 'receive') {
  // The floor's receiver: prints its RSS before and at its peak.
  const rss = () => process.memoryUsage().rss;
  let peak = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const before = rss();
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
  void receiveOnly(process.argv[3]!).then(() => {
    clearInterval(sampler);
    console.log(JSON.stringify({ before, peak }));
  });
} else if (require.main === module) {
  const [url, token, bytes] = process.argv.slice(2) as [string, string, string];
  inferAndHash(url, floats(Number(bytes)), { authorization: `Bearer ${token}` }).then(
    (answer) => console.log(JSON.stringify(answer)),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}

/**
 * The floor: a process that only receives `bytes` over HTTP, as fast as it comes, from a server
 * in another process (`url`), and reads it through fetch as the worker reads a model's answer.
 * Its RSS growth is what Node itself takes to receive that much.
 */
export async function receiveOnly(url: string): Promise<number> {
  let seen = 0;
  for await (const piece of (await fetch(url)).body as unknown as AsyncIterable<Uint8Array>) seen += piece.length;
  return seen;
}
