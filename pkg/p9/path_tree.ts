// Port of gVisor pkg/p9/path_tree.go (commit dbe41765): the tree of paths
// that the server's fids point to, shared by every connection, so that a
// rename or an unlink can find (and update or mark deleted) every fid below
// the renamed or removed name.

import { RWMutex } from '../sync/rwmutex';
import type { fidRef } from './server';

/**
 * pathNode is a single node in a path traversal.
 *
 * These are shared by all fidRefs that point to the same path.
 *
 * Lock ordering:
 *   opMu
 *
 *   Two different pathNodes may only be locked if Server.renameMu is held for
 *   write, in which case they can be acquired in any order.
 *
 * Differs from gVisor: there is no childMu. JavaScript runs the body of each
 * method below without interleaving (none of them awaits), so the maps are
 * never seen half-updated; childMu only guarded against other threads.
 */
export class pathNode {
  /**
   * opMu synchronizes high-level, semantic operations, such as the
   * simultaneous creation and deletion of a file. It is held across the
   * await of the File call, so it is an async RWMutex.
   *
   * opMu does not directly protect any fields in pathNode.
   */
  readonly opMu = new RWMutex();

  /** childNodes maps child path component names to their pathNode. */
  readonly childNodes = new Map<string, pathNode>();

  /** childRefs maps child path component names to all of their references. */
  readonly childRefs = new Map<string, Set<fidRef>>();

  /** childRefNames maps child references back to their path component name. */
  readonly childRefNames = new Map<fidRef, string>();

  /**
   * deleted is set when the name this node stands for has been removed
   * (unlinked, or replaced by a rename). From later gVisor (65a26689c),
   * which needs it for Tmultigetattr's walk.
   */
  deleted = false;

  /** forEachChildRef calls fn for each child reference. */
  forEachChildRef(fn: (ref: fidRef, name: string) => void): void {
    // Snapshot first: fn may (through renameChildTo) change the maps.
    const all: Array<[fidRef, string]> = [];
    for (const [name, m] of this.childRefs) {
      for (const ref of m) all.push([ref, name]);
    }
    for (const [ref, name] of all) fn(ref, name);
  }

  /** forEachChildNode calls fn for each child pathNode. */
  forEachChildNode(fn: (pn: pathNode) => void): void {
    for (const pn of [...this.childNodes.values()]) fn(pn);
  }

  /** pathNodeFor returns the path node for the given name, or a new one. */
  pathNodeFor(name: string): pathNode {
    let pn = this.childNodes.get(name);
    if (pn === undefined) {
      // Create a new pathNode for shared use.
      pn = newPathNode();
      this.childNodes.set(name, pn);
    }
    return pn;
  }

  /**
   * nameFor returns the name for the given fidRef.
   *
   * Precondition: addChild is called for ref before nameFor.
   */
  nameFor(ref: fidRef): string {
    const n = this.childRefNames.get(ref);
    if (n === undefined) {
      // This should not happen, don't proceed.
      throw new Error('p9: pathNode.nameFor: expected name for fidRef, none found');
    }
    return n;
  }

  /**
   * addChildLocked adds a child reference to p.
   *
   * Precondition: As addChild. (gVisor: plus childMu is locked for write;
   * here the same as addChild, kept for the shape of renameChildTo.)
   */
  addChildLocked(ref: fidRef, name: string): void {
    const n = this.childRefNames.get(ref);
    if (n !== undefined) {
      // This should not happen, don't proceed.
      throw new Error(`p9: pathNode.addChild: unexpected fidRef with path ${JSON.stringify(n)}, wanted ${JSON.stringify(name)}`);
    }
    this.childRefNames.set(ref, name);
    let m = this.childRefs.get(name);
    if (m === undefined) {
      m = new Set();
      this.childRefs.set(name, m);
    }
    m.add(ref);
  }

  /**
   * addChild adds a child reference to p.
   *
   * Precondition: ref may only be added once at a time.
   */
  addChild(ref: fidRef, name: string): void {
    this.addChildLocked(ref, name);
  }

  /**
   * removeChild removes the given child.
   *
   * This applies only to an individual fidRef, which is not required to exist.
   */
  removeChild(ref: fidRef): void {
    // This ref may not exist anymore. This can occur, e.g., in unlink,
    // where a removeWithName removes the ref, and then a DecRef on the ref
    // attempts to remove again.
    const name = this.childRefNames.get(ref);
    if (name !== undefined) {
      const m = this.childRefs.get(name);
      if (m === undefined) {
        // This should not happen, don't proceed.
        throw new Error(`p9: pathNode.removeChild: name ${JSON.stringify(name)} missing from childRefs`);
      }
      m.delete(ref);
      if (m.size === 0) this.childRefs.delete(name);
    }
    this.childRefNames.delete(ref);
  }

  /**
   * addPathNodeFor adds an existing pathNode as the node for name.
   *
   * Preconditions: newName does not exist.
   */
  addPathNodeFor(name: string, pn: pathNode): void {
    if (this.childNodes.has(name)) {
      throw new Error(`p9: pathNode.addPathNodeFor: unexpected pathNode with path ${JSON.stringify(name)}`);
    }
    this.childNodes.set(name, pn);
  }

  /**
   * removeWithName removes all references with the given name.
   *
   * The provided function is executed after reference removal. The only
   * method it may (transitively) call on this pathNode is addChildLocked.
   *
   * If a child pathNode for name exists, it is removed from this pathNode and
   * returned by this function. Any operations on the removed tree must use
   * this value.
   */
  removeWithName(name: string, fn: (ref: fidRef) => void): pathNode | undefined {
    const m = this.childRefs.get(name);
    if (m !== undefined) {
      for (const ref of [...m]) {
        m.delete(ref);
        this.childRefNames.delete(ref);
        fn(ref);
      }
      // fn may have re-added refs under name (a rename within the same
      // directory to the same name is short-circuited by the handlers, so
      // this is only the empty set left behind).
      if (m.size === 0 && this.childRefs.get(name) === m) this.childRefs.delete(name);
    }

    // Return the original path node, if it exists.
    const origPathNode = this.childNodes.get(name);
    this.childNodes.delete(name);
    return origPathNode;
  }

  /** size reports the number of child refs and nodes (tests, leak checks). */
  size(): { refs: number; nodes: number } {
    return { refs: this.childRefNames.size, nodes: this.childNodes.size };
  }
}

/** newPathNode returns an empty pathNode. */
export function newPathNode(): pathNode {
  return new pathNode();
}
