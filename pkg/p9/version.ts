// Port of gVisor pkg/p9/version.go: the "9P2000.L.Google.N" version strings
// and the predicates saying which extension each version brings.
//
// Differs from gVisor at dbe41765: highestSupportedVersion is 13, adding
// Tmultigetattr (gVisor commit 276ff149a).

/**
 * highestSupportedVersion is the highest supported version X in a version
 * string of the format 9P2000.L.Google.X.
 *
 * Clients are expected to start requesting this version number and to
 * continuously decrement it until a Tversion request succeeds.
 */
export const highestSupportedVersion = 13;

/**
 * lowestSupportedVersion is the lowest supported version X in a version
 * string of the format 9P2000.L.Google.X.
 *
 * Clients are free to send a Tversion request at a version below this value
 * but are expected to encounter an Rlerror in response.
 */
export const lowestSupportedVersion = 0;

/**
 * baseVersion is the base version of 9P that this package must always
 * support. It is equivalent to 9P2000.L.Google.0.
 */
export const baseVersion = '9P2000.L';

/**
 * HighestVersionString returns the highest possible version string that a
 * client may request or a server may support.
 */
export function HighestVersionString(): string {
  return versionString(highestSupportedVersion);
}

/** highestVersionString is HighestVersionString in this port's lowerCamelCase. */
export const highestVersionString = HighestVersionString;

/**
 * parseVersion parses a Tversion version string into a numeric version number
 * if the version string is supported by p9. Otherwise returns [0, false].
 *
 * From Tversion(9P): "Version strings are defined such that, if the client
 * string contains one or more period characters, the initial substring up to
 * but not including any single period in the version string defines a
 * version of the protocol."
 *
 * p9 intentionally diverges from this and always requires that the version
 * string start with 9P2000.L to express that it is always compatible with
 * 9P2000.L. The only supported versions extensions are of the format
 * 9p2000.L.Google.X where X is an ever increasing version counter.
 *
 * Version 9P2000.L.Google.0 implies 9P2000.L.
 *
 * New versions must always be a strict superset of 9P2000.L. A version
 * increase must define a predicate representing the feature extension
 * introduced by that version.
 */
export function parseVersion(str: string): [number, boolean] {
  // Special case the base version which lacks the ".Google.X" suffix. This
  // version always means version 0.
  if (str === baseVersion) return [0, true];
  const substr = str.split('.');
  if (substr.length !== 4) return [0, false];
  if (substr[0] !== '9P2000' || substr[1] !== 'L' || substr[2] !== 'Google' || substr[3].length === 0) {
    return [0, false];
  }
  // strconv.ParseUint(s, 10, 32): decimal digits only, no sign, at most
  // 2^32-1.
  if (!/^[0-9]+$/.test(substr[3])) return [0, false];
  const version = Number(substr[3]);
  if (!Number.isSafeInteger(version) || version > 0xffffffff) return [0, false];
  return [version, true];
}

/** versionString formats a p9 version number into a Tversion version string. */
export function versionString(version: number): string {
  // Special case the base version so that clients expecting this string
  // instead of the 9P2000.L.Google.0 equivalent get it. This is important
  // for backwards compatibility with legacy servers that check for exactly
  // the baseVersion and allow nothing else.
  if (version === 0) return baseVersion;
  return `9P2000.L.Google.${version}`;
}

/**
 * versionSupportsTflushf returns true if version v supports the Tflushf
 * message. This predicate must be checked by clients before attempting to make
 * a Tflushf request. If this predicate returns false, then clients may safely
 * no-op.
 */
export function versionSupportsTflushf(v: number): boolean {
  return v >= 1;
}

/**
 * versionSupportsTwalkgetattr returns true if version v supports the
 * Twalkgetattr message. This predicate must be checked by clients before
 * attempting to make a Twalkgetattr request.
 */
export function versionSupportsTwalkgetattr(v: number): boolean {
  return v >= 2;
}

/**
 * versionSupportsTucreation returns true if version v supports the Tucreation
 * messages (Tucreate, Tusymlink, Tumkdir, Tumknod). This predicate must be
 * checked by clients before attempting to make a Tucreation request. If
 * Tucreation messages are not supported, their non-UID supporting
 * counterparts (Tlcreate, Tsymlink, Tmkdir, Tmknod) should be used.
 */
export function versionSupportsTucreation(v: number): boolean {
  return v >= 3;
}

/**
 * versionSupportsConnect returns true if version v supports the Tlconnect
 * message. This predicate must be checked by clients before attempting to make
 * a Tlconnect request. If Tlconnect messages are not supported, Tlopen should
 * be used.
 */
export function versionSupportsConnect(v: number): boolean {
  return v >= 4;
}

/**
 * versionSupportsAnonymous returns true if version v supports Tlconnect with
 * the AnonymousSocket mode. This predicate must be checked by clients before
 * attempting to use the AnonymousSocket Tlconnect mode.
 */
export function versionSupportsAnonymous(v: number): boolean {
  return v >= 5;
}

/**
 * versionSupportsMultiUser returns true if version v supports multi-user fake
 * directory permissions and ID values.
 */
export function versionSupportsMultiUser(v: number): boolean {
  return v >= 6;
}

/** versionSupportsTallocate returns true if version v supports Allocate(). */
export function versionSupportsTallocate(v: number): boolean {
  return v >= 7;
}

/**
 * versionSupportsFlipcall returns true if version v supports IPC channels
 * from the flipcall package. Note that these must be negotiated, but this
 * version string indicates that such a facility exists.
 */
export function versionSupportsFlipcall(v: number): boolean {
  return v >= 8;
}

/**
 * versionSupportsOpenTruncateFlag returns true if version v supports passing
 * the OpenTruncate flag to Tlopen.
 */
export function versionSupportsOpenTruncateFlag(v: number): boolean {
  return v >= 9;
}

/**
 * versionSupportsGetSetXattr returns true if version v supports the Tgetxattr
 * and Tsetxattr messages.
 */
export function versionSupportsGetSetXattr(v: number): boolean {
  return v >= 10;
}

/**
 * versionSupportsListRemoveXattr returns true if version v supports the
 * Tlistxattr and Tremovexattr messages.
 */
export function versionSupportsListRemoveXattr(v: number): boolean {
  return v >= 11;
}

/**
 * versionSupportsTsetattrclunk returns true if version v supports the
 * Tsetattrclunk message.
 */
export function versionSupportsTsetattrclunk(v: number): boolean {
  return v >= 12;
}

/**
 * versionSupportsTmultiGetAttr returns true if version v supports the
 * TmultiGetAttr message (gVisor commit 276ff149a).
 */
export function versionSupportsTmultiGetAttr(v: number): boolean {
  return v >= 13;
}

/** versionSupportsMultiGetAttr is versionSupportsTmultiGetAttr (the contract's name). */
export const versionSupportsMultiGetAttr = versionSupportsTmultiGetAttr;
