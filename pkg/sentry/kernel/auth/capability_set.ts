// CapabilitySet: gVisor's pkg/sentry/kernel/auth/capability_set.go.
//
// Differs from gVisor: Go's CapabilitySet is a uint64 bitset. JS bitwise
// operators work on 32 bits and CAP_LAST_CAP is 40, so a CapabilitySet is a
// non-negative integer number below 2^41 (exact in a double), and the Go
// expressions `CapabilitySetOf(cp) & set != 0`, `a | b`, `a &^ b` are the
// functions capabilitySetHas, capabilitySetUnion, capabilitySetDifference.

import { CAP_LAST_CAP, type Capability } from '../../../abi/linux/capability';

/** A CapabilitySet is a set of capabilities implemented as a bitset. 0 contains no capabilities. */
export type CapabilitySet = number;

const two32 = 0x100000000;

function lo(cs: CapabilitySet): number {
  return cs >>> 0; // ToUint32 is the low 32 bits of an integer below 2^53.
}

function hi(cs: CapabilitySet): number {
  return Math.floor(cs / two32) >>> 0;
}

function make(h: number, l: number): CapabilitySet {
  return (h >>> 0) * two32 + (l >>> 0);
}

/** capabilitySetOf returns a CapabilitySet containing only the given capability. */
export function capabilitySetOf(cp: Capability): CapabilitySet {
  return 2 ** cp;
}

/** capabilitySetOfMany returns a CapabilitySet containing the given capabilities. */
export function capabilitySetOfMany(cps: readonly Capability[]): CapabilitySet {
  let cs = 0;
  for (const cp of cps) cs = capabilitySetUnion(cs, capabilitySetOf(cp));
  return cs;
}

/** AllCapabilities is a CapabilitySet containing all valid capabilities. */
export const AllCapabilities: CapabilitySet = capabilitySetOf(CAP_LAST_CAP + 1) - 1;

/** capabilitySetHas returns true if cs contains cp (Go: CapabilitySetOf(cp)&cs != 0). */
export function capabilitySetHas(cs: CapabilitySet, cp: Capability): boolean {
  if (cp < 32) return ((lo(cs) >>> cp) & 1) === 1;
  return ((hi(cs) >>> (cp - 32)) & 1) === 1;
}

/** capabilitySetUnion returns a | b. */
export function capabilitySetUnion(a: CapabilitySet, b: CapabilitySet): CapabilitySet {
  return make(hi(a) | hi(b), lo(a) | lo(b));
}

/** capabilitySetIntersect returns a & b. */
export function capabilitySetIntersect(a: CapabilitySet, b: CapabilitySet): CapabilitySet {
  return make(hi(a) & hi(b), lo(a) & lo(b));
}

/** capabilitySetDifference returns a &^ b. */
export function capabilitySetDifference(a: CapabilitySet, b: CapabilitySet): CapabilitySet {
  return make(hi(a) & ~hi(b), lo(a) & ~lo(b));
}

/**
 * TaskCapabilities represents all the capability sets for a task. Each of
 * these sets is explained in greater detail in capabilities(7).
 */
export interface TaskCapabilities {
  /** permittedCaps is a limiting superset for the effective capabilities that the thread may assume. */
  permittedCaps: CapabilitySet;
  /** inheritableCaps is a set of capabilities preserved across an execve(2). */
  inheritableCaps: CapabilitySet;
  /** effectiveCaps is the set of capabilities used by the kernel to perform permission checks for the thread. */
  effectiveCaps: CapabilitySet;
  /** boundingCaps is a limiting superset for the capabilities that a thread can add to its inheritable set using capset(2). */
  boundingCaps: CapabilitySet;
  /** ambientCaps is a set of capabilities that are preserved across an execve(2) of a program that is not privileged. */
  ambientCaps: CapabilitySet;
}
