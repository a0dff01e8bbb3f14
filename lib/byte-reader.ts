/** The bytes ended before a reader had what it asked for. */
export class BytesEndedEarly extends Error {
  constructor(
    readonly wanted: number,
    readonly had: number,
  ) {
    super(`the bytes ended ${wanted - had} byte(s) early`);
  }
}

/**
 * Reads a stream of bytes (a request body, a model's answer) in parts of known sizes, in order,
 * without holding more than the piece at hand: a binary inference body is a header of N bytes,
 * then each tensor's bytes.
 */
export class ByteReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private held: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes read from the source so far. */
  received = 0;

  constructor(bytes: AsyncIterable<Uint8Array>) {
    this.source = bytes[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const piece = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.received += piece.length;
    this.held = this.held.length === 0 ? piece : Buffer.concat([this.held, piece]);
    return true;
  }

  /** The next `count` bytes, whole (for a header: keep `count` small). */
  async readExactly(count: number): Promise<Buffer> {
    while (this.held.length < count) {
      if (!(await this.pull())) throw new BytesEndedEarly(count, this.held.length);
    }
    const bytes = this.held.subarray(0, count);
    this.held = this.held.subarray(count);
    return bytes;
  }

  /** The next `count` bytes, piece by piece as they come. Throws BytesEndedEarly if they end first. */
  async *take(count: number): AsyncIterable<Buffer> {
    let left = count;
    while (left > 0) {
      if (this.held.length === 0 && !(await this.pull())) throw new BytesEndedEarly(count, count - left);
      const piece = this.held.subarray(0, left);
      this.held = this.held.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  /** How many bytes are left after what was taken (reads them to the end, keeping none). */
  async countRest(): Promise<number> {
    const rest = this.held.length;
    this.held = Buffer.alloc(0);
    const before = this.received;
    while (await this.pull()) this.held = Buffer.alloc(0);
    return rest + (this.received - before);
  }
}
