// Package fspath provides efficient tools for working with file paths in
// Linux-compatible filesystem implementations.
//
// Differs from gVisor: pathnames are JS strings, not byte strings. Each
// UTF-16 code unit stands for itself; '/' is the only separator, so a
// component never splits inside a non-ASCII character. Callers that hold raw
// bytes may decode them as latin1 (one code unit per byte) to keep byte
// lengths exact (e.g. for NAME_MAX); this package does not require it.

const pathSep = '/';

/**
 * parse parses a pathname as described by path_resolution(7), except that
 * empty pathnames will be parsed successfully to a Path for which
 * path.absolute === path.dir === path.hasComponents() === false. (This is
 * necessary to support AT_EMPTY_PATH.)
 */
export function parse(pathname: string): Path {
  if (pathname.length === 0) {
    return new Path(terminal, false, false);
  }
  // Skip leading path separators.
  let i = 0;
  while (pathname[i] === pathSep) {
    i++;
    if (i === pathname.length) {
      // pathname consists entirely of path separators.
      return new Path(terminal, true, true);
    }
  }
  // Skip trailing path separators. This is required by Iterator.next. This
  // loop is guaranteed to terminate with j >= 0 because otherwise the
  // pathname would consist entirely of path separators, so we would have
  // returned above.
  let j = pathname.length - 1;
  while (pathname[j] === pathSep) {
    j--;
  }
  // Find the end of the first path component.
  let firstEnd = i + 1;
  while (firstEnd !== pathname.length && pathname[firstEnd] !== pathSep) {
    firstEnd++;
  }
  return new Path(
    new Iterator(pathname.slice(i, j + 1), firstEnd - i),
    i !== 0,
    j !== pathname.length - 1,
  );
}

/**
 * Path contains the information contained in a pathname string.
 *
 * Path is immutable. new Path() is equivalent to parse(""), i.e. the empty
 * path.
 */
export class Path {
  /**
   * begin is an iterator to the first path component in the relative part of
   * the path.
   *
   * Path doesn't store information about path components after the first
   * since this would require allocation.
   */
  readonly begin: Iterator;

  /**
   * If true, the path is absolute, such that lookup should begin at the
   * filesystem root. If false, the path is relative, such that where lookup
   * begins is unspecified.
   */
  readonly absolute: boolean;

  /**
   * If true, the pathname contains trailing path separators, so the last
   * path component must exist and resolve to a directory.
   */
  readonly dir: boolean;

  constructor(begin: Iterator = terminal, absolute = false, dir = false) {
    this.begin = begin;
    this.absolute = absolute;
    this.dir = dir;
  }

  /**
   * toString returns a pathname string equivalent to p. Note that the
   * returned string is not necessarily equal to the string p was parsed from;
   * in particular, redundant path separators will not be present.
   */
  toString(): string {
    let b = this.absolute ? pathSep : '';
    let sep = false;
    for (let pit = this.begin; pit.ok(); pit = pit.next()) {
      if (sep) b += pathSep;
      b += pit.string();
      sep = true;
    }
    // Don't return "//" for parse("/").
    if (this.dir && this.begin.ok()) b += pathSep;
    return b;
  }

  /** hasComponents returns true if p contains a non-zero number of path components. */
  hasComponents(): boolean {
    return this.begin.ok();
  }
}

/**
 * An Iterator represents either a path component in a Path or a terminal
 * iterator indicating that the end of the path has been reached.
 *
 * Iterator is immutable. new Iterator() is valid, and represents a terminal
 * iterator.
 */
export class Iterator {
  /**
   * partialPathname is a substring of the original pathname beginning at the
   * start of the represented path component and ending immediately after the
   * end of the last path component in the pathname. If partialPathname is
   * empty, the Iterator is terminal.
   *
   * See "parse: partial pathnames" in test/fspath/fspath.test.ts for a worked
   * example.
   */
  readonly partialPathname: string;

  /**
   * end is the offset into partialPathname of the first code unit after the
   * end of the represented path component.
   */
  readonly end: number;

  constructor(partialPathname = '', end = 0) {
    this.partialPathname = partialPathname;
    this.end = end;
  }

  /** ok returns true if it is not terminal. */
  ok(): boolean {
    return this.partialPathname.length !== 0;
  }

  /**
   * string returns the path component represented by it.
   *
   * Preconditions: it.ok().
   */
  string(): string {
    return this.partialPathname.slice(0, this.end);
  }

  /** toString is string(), so that template literals print the component. */
  toString(): string {
    return this.string();
  }

  /**
   * next returns an iterator to the path component after it. If it is the
   * last component in the path, next returns a terminal iterator.
   *
   * Preconditions: it.ok().
   */
  next(): Iterator {
    const p = this.partialPathname;
    if (this.end === p.length) {
      // End of the path.
      return terminal;
    }
    // Skip path separators. Since parse trims trailing path separators, if we
    // aren't at the end of the path, there is definitely another path
    // component.
    let i = this.end + 1;
    while (p[i] === pathSep) i++;
    const nextPartialPathname = p.slice(i);
    // Find the end of this path component.
    let nextEnd = 1;
    while (nextEnd < nextPartialPathname.length && nextPartialPathname[nextEnd] !== pathSep) {
      nextEnd++;
    }
    return new Iterator(nextPartialPathname, nextEnd);
  }

  /**
   * nextOk is equivalent to it.next().ok(), but is faster.
   *
   * Preconditions: it.ok().
   */
  nextOk(): boolean {
    return this.end !== this.partialPathname.length;
  }
}

// terminal is the shared terminal Iterator (gVisor's zero Iterator{}).
const terminal = new Iterator();
