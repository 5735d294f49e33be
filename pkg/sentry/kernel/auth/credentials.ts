// Credentials: gVisor's pkg/sentry/kernel/auth/credentials.go.

import { CAP_SETGID, CAP_SETUID, type Capability } from '../../../abi/linux/capability';
import * as syserror from '../../../syserror/syserror';
import { AllCapabilities, capabilitySetHas, type CapabilitySet, type TaskCapabilities } from './capability_set';
import { idOk, NobodyKGID, NobodyKUID, RootKGID, RootKUID, type GID, type KGID, type KUID, type UID } from './id';
import { newRootUserNamespace, rootUserNamespace, UserNamespace } from './user_namespace';

/**
 * Credentials contains information required to authorize privileged
 * operations in a user namespace.
 */
export class Credentials {
  // Real/effective/saved user/group IDs in the root user namespace. None of
  // these should ever be NoID.
  realKUID: KUID = NobodyKUID;
  effectiveKUID: KUID = NobodyKUID;
  savedKUID: KUID = NobodyKUID;
  realKGID: KGID = NobodyKGID;
  effectiveKGID: KGID = NobodyKGID;
  savedKGID: KGID = NobodyKGID;

  // Filesystem user/group IDs are not implemented. "... setfsuid() is
  // nowadays unneeded and should be avoided in new applications (likewise
  // for setfsgid(2))." - setfsuid(2)

  /**
   * Supplementary groups used by set/getgroups.
   *
   * extraKGIDs arrays are immutable (never mutated in place), allowing
   * multiple Credentials with the same extraKGIDs to share the same array.
   */
  extraKGIDs: readonly KGID[] = [];

  // The capability sets applicable to this set of credentials.
  permittedCaps: CapabilitySet = 0;
  inheritableCaps: CapabilitySet = 0;
  effectiveCaps: CapabilitySet = 0;
  boundingCaps: CapabilitySet = 0;
  // Ambient capabilities are not introduced until Linux 4.3.

  /**
   * keepCaps is the flag for PR_SET_KEEPCAPS which allow capabilities to be
   * maintained after a switch from root user to non-root user via setuid().
   */
  keepCaps = false;

  /** The user namespace associated with the owner of the credentials. */
  userNamespace: UserNamespace;

  constructor(userNamespace: UserNamespace) {
    this.userNamespace = userNamespace;
  }

  /** fork generates an identical copy of a set of credentials. */
  fork(): Credentials {
    const nc = new Credentials(this.userNamespace);
    Object.assign(nc, this); // Copy-by-value; this is legal for all fields.
    return nc;
  }

  /**
   * inGroup returns true if c is in group kgid. Compare Linux's
   * kernel/groups.c:in_group_p().
   */
  inGroup(kgid: KGID): boolean {
    if (this.effectiveKGID === kgid) return true;
    for (const extraKGID of this.extraKGIDs) {
      if (extraKGID === kgid) return true;
    }
    return false;
  }

  /** hasCapabilityIn returns true if c has capability cp in ns. */
  hasCapabilityIn(cp: Capability, ns: UserNamespace): boolean {
    for (;;) {
      // "1. A process has a capability inside a user namespace if it is a
      // member of that namespace and it has the capability in its effective
      // capability set." - user_namespaces(7)
      if (this.userNamespace === ns) return capabilitySetHas(this.effectiveCaps, cp);
      // "3. ... A process that resides in the parent of the user namespace
      // and whose effective user ID matches the owner of the namespace has
      // all capabilities in the namespace."
      if (this.userNamespace === ns.parent && this.effectiveKUID === ns.owner) return true;
      // "2. If a process has a capability in a user namespace, then it has
      // that capability in all child (and further removed descendant)
      // namespaces as well."
      if (ns.parent === null) return false;
      ns = ns.parent;
    }
  }

  /** hasCapability returns true if c has capability cp in its user namespace. */
  hasCapability(cp: Capability): boolean {
    return this.hasCapabilityIn(cp, this.userNamespace);
  }

  /**
   * useUID checks that c can use uid in its user namespace, then translates
   * it to the root user namespace. Throws EINVAL (unmapped) or EPERM.
   *
   * The checks useUID does are common, but you should verify that it's doing
   * exactly what you want.
   */
  useUID(uid: UID): KUID {
    // uid must be mapped.
    const kuid = this.userNamespace.mapToKUID(uid);
    if (!idOk(kuid)) throw syserror.EINVAL;
    // If c has CAP_SETUID, then it can use any UID in its user namespace.
    if (this.hasCapability(CAP_SETUID)) return kuid;
    // Otherwise, c must already have the UID as its real, effective, or saved
    // set-user-ID.
    if (kuid === this.realKUID || kuid === this.effectiveKUID || kuid === this.savedKUID) return kuid;
    throw syserror.EPERM;
  }

  /**
   * useGID checks that c can use gid in its user namespace, then translates
   * it to the root user namespace. Throws EINVAL (unmapped) or EPERM.
   */
  useGID(gid: GID): KGID {
    const kgid = this.userNamespace.mapToKGID(gid);
    if (!idOk(kgid)) throw syserror.EINVAL;
    if (this.hasCapability(CAP_SETGID)) return kgid;
    if (kgid === this.realKGID || kgid === this.effectiveKGID || kgid === this.savedKGID) return kgid;
    throw syserror.EPERM;
  }

  /**
   * setUID translates the provided uid to the root user namespace and
   * updates c's uids to it. This performs no permissions or capabilities
   * checks, the caller is responsible for ensuring the calling context is
   * permitted to modify c. Throws EINVAL if uid is unmapped.
   */
  setUID(uid: UID): void {
    const kuid = this.userNamespace.mapToKUID(uid);
    if (!idOk(kuid)) throw syserror.EINVAL;
    this.realKUID = kuid;
    this.effectiveKUID = kuid;
    this.savedKUID = kuid;
  }

  /**
   * setGID translates the provided gid to the root user namespace and
   * updates c's gids to it. This performs no permissions or capabilities
   * checks. Throws EINVAL if gid is unmapped.
   */
  setGID(gid: GID): void {
    const kgid = this.userNamespace.mapToKGID(gid);
    if (!idOk(kgid)) throw syserror.EINVAL;
    this.realKGID = kgid;
    this.effectiveKGID = kgid;
    this.savedKGID = kgid;
  }
}

/**
 * newAnonymousCredentials returns a set of credentials with no capabilities
 * in any user namespace.
 */
export function newAnonymousCredentials(): Credentials {
  // Create a new root user namespace. Since the new namespace's owner is
  // KUID 0 and the returned credentials have non-zero KUID/KGID, the
  // returned credentials do not have any capabilities in the new namespace.
  // Since the new namespace is not part of any existing user namespace
  // hierarchy, the returned credentials do not have any capabilities in any
  // other namespace.
  return new Credentials(newRootUserNamespace());
}

/**
 * newRootCredentials returns a set of credentials with KUID and KGID 0 (i.e.
 * global root) in user namespace ns (default: the shared root namespace).
 */
export function newRootCredentials(ns: UserNamespace = rootUserNamespace()): Credentials {
  // It's correct for the inheritable capability set to be initially empty
  // (gVisor's capabilities test checks for this property).
  const c = new Credentials(ns);
  c.realKUID = c.effectiveKUID = c.savedKUID = RootKUID;
  c.realKGID = c.effectiveKGID = c.savedKGID = RootKGID;
  c.permittedCaps = AllCapabilities;
  c.effectiveCaps = AllCapabilities;
  c.boundingCaps = AllCapabilities;
  return c;
}

/**
 * newUserCredentials returns a set of credentials based on the given UID,
 * GIDs, and capabilities in a given namespace. If capabilities is not given,
 * root (kuid 0) gets all capabilities and any other user none, as after
 * setresuid + setresgid from newRootCredentials.
 */
export function newUserCredentials(
  kuid: KUID,
  kgid: KGID,
  extraKGIDs: readonly KGID[] = [],
  capabilities?: TaskCapabilities,
  ns: UserNamespace = rootUserNamespace(),
): Credentials {
  const creds = newRootCredentials(ns);

  // Set the UID.
  creds.realKUID = creds.effectiveKUID = creds.savedKUID = kuid;

  // Set GID.
  creds.realKGID = creds.effectiveKGID = creds.savedKGID = kgid;

  // Set additional GIDs.
  creds.extraKGIDs = [...extraKGIDs];

  // Set capabilities.
  if (capabilities !== undefined) {
    creds.permittedCaps = capabilities.permittedCaps;
    creds.effectiveCaps = capabilities.effectiveCaps;
    creds.boundingCaps = capabilities.boundingCaps;
    creds.inheritableCaps = capabilities.inheritableCaps;
    // TODO (as gVisor): support ambient capabilities.
  } else {
    // If no capabilities are specified, grant capabilities consistent with
    // setresuid + setresgid from newRootCredentials to the given uid and gid.
    if (kuid === RootKUID) {
      creds.permittedCaps = AllCapabilities;
      creds.effectiveCaps = AllCapabilities;
    } else {
      creds.permittedCaps = 0;
      creds.effectiveCaps = 0;
    }
    creds.boundingCaps = AllCapabilities;
  }
  return creds;
}
