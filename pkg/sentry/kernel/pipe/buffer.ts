// byteQueue: the byte queue behind a Pipe (gVisor: pkg/buffer.View, the
// part pipes use: Size, Append, ReadAt, TrimFront).

/** byteQueue is a FIFO of bytes held as a list of chunks. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset of the first unread byte in chunks[0]
  private n = 0;

  /** size returns the number of queued bytes. */
  size(): number {
    return this.n;
  }

  /** append copies src (up to count bytes) to the end of the queue. */
  append(src: Uint8Array, count: number = src.length): void {
    if (count === 0) return;
    this.chunks.push(Uint8Array.prototype.slice.call(src, 0, count));
    this.n += count;
  }

  /**
   * readInto copies up to dst.length queued bytes into dst and, unless peek,
   * removes them from the queue. Returns the number of bytes copied.
   */
  readInto(dst: Uint8Array, peek = false): number {
    let want = Math.min(dst.length, this.n);
    let done = 0;
    let ci = 0;
    let off = this.head;
    while (want > 0) {
      const c = this.chunks[ci]!;
      const k = Math.min(want, c.length - off);
      dst.set(c.subarray(off, off + k), done);
      done += k;
      want -= k;
      off += k;
      if (off === c.length) {
        ci++;
        off = 0;
      }
    }
    if (!peek) this.trimFront(done);
    return done;
  }

  /** trimFront removes the first count bytes. Preconditions: count <= size(). */
  trimFront(count: number): void {
    this.n -= count;
    while (count > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (count < left) {
        this.head += count;
        return;
      }
      count -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
