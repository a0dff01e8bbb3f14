/**
 * Where payloads' bytes live (docs/payloads.md): PostgreSQL (db/payload-chunks.ts) or an
 * S3-compatible bucket (lib/s3-payload-store.ts). A payload's row (db/payloads.ts) names the
 * store that holds it; the store knows only ids and bytes.
 */
export interface PayloadStore {
  /** `postgres`, or `s3://bucket/prefix`: what a payload row records as its store. */
  readonly name: string;
  /**
   * Writes a payload's bytes as they come, a bounded piece at a time, and returns how many
   * there were. When the bytes fail (a client gone halfway), what was written is removed and
   * the error is thrown.
   */
  write(id: string, bytes: AsyncIterable<Uint8Array>): Promise<number>;
  /** A payload's bytes, in pieces. */
  read(id: string): AsyncIterable<Uint8Array>;
  /** Removes payloads' bytes; ids with none are fine (so retention may run again). */
  remove(ids: readonly string[]): Promise<void>;
}

/** A payload's bytes in one buffer: for a tensor turned into JSON, which needs it whole anyway. */
export async function readPayloadWhole(store: PayloadStore, id: string): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of store.read(id)) pieces.push(piece);
  return Buffer.concat(pieces);
}

/**
 * Pieces as they come, regrouped into pieces of `size` bytes (the last may be shorter). Whole
 * pieces are views of what came, not copies (Node's streams never reuse a buffer they handed
 * out); only what straddles two pieces is copied.
 */
export async function* inPiecesOf(size: number, bytes: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of bytes) {
    let rest = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (pendingBytes > 0) {
      const take = Math.min(size - pendingBytes, rest.length);
      pending.push(rest.subarray(0, take));
      pendingBytes += take;
      rest = rest.subarray(take);
      if (pendingBytes < size) continue;
      yield Buffer.concat(pending, size);
      pending = [];
      pendingBytes = 0;
    }
    while (rest.length >= size) {
      yield rest.subarray(0, size);
      rest = rest.subarray(size);
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
