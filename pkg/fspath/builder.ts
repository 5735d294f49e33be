// Builder: gVisor's pkg/fspath/builder.go.
//
// Differs from gVisor: Go grows a byte buffer from its end towards its start
// to avoid copies; JS strings are immutable and V8 concatenation builds ropes
// cheaply, so the Builder keeps the accumulated pathname as a string. The
// API and its semantics are gVisor's.

/**
 * Builder is similar to strings.Builder, but is used to produce pathnames
 * given path components in reverse order (from leaf to root). This is useful
 * in the common case where a filesystem is represented by a tree of named
 * nodes, and the path to a given node must be produced by walking upward from
 * that node to a given root.
 */
export class Builder {
  private buf = '';
  private needSep = false;

  /** reset resets the Builder to be empty. */
  reset(): void {
    this.buf = '';
    this.needSep = false;
  }

  /** len returns the number of accumulated code units. */
  len(): number {
    return this.buf.length;
  }

  /**
   * prependComponent prepends the given path component to b's buffer. A path
   * separator is automatically inserted if appropriate.
   */
  prependComponent(pc: string): void {
    if (this.needSep) this.prependByte('/');
    this.prependString(pc);
    this.needSep = true;
  }

  /** prependString prepends the given string to b's buffer. */
  prependString(str: string): void {
    this.buf = str + this.buf;
  }

  /** prependByte prepends the given character to b's buffer. */
  prependByte(c: string): void {
    this.buf = c + this.buf;
  }

  /** appendString appends the given string to b's buffer. */
  appendString(str: string): void {
    this.buf += str;
  }

  /** toString returns the accumulated string. */
  toString(): string {
    return this.buf;
  }
}
