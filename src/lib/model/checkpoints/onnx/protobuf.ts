/**
 * A minimal Protocol Buffers writer: just what an ONNX file needs (varints, 64-bit ints,
 * floats, strings, bytes and nested messages). Output is a list of chunks, so multi-megabyte
 * weight blobs are never copied into one growing array.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  private byte(b: number): void {
    this.pending.push(b);
    this.size++;
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
    this.size += bytes.byteLength;
  }

  /** Unsigned varint of a non-negative integer or bigint; negatives take 10 bytes (two's complement). */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      this.byte(b);
    } while (v !== 0n);
  }

  private tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.raw(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.byteLength);
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, inner: ProtoWriter): this {
    this.tag(field, 2);
    this.varint(inner.size);
    inner.flush();
    for (const c of inner.chunks) this.raw(c);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}
