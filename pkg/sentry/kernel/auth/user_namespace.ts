// UserNamespace: gVisor's pkg/sentry/kernel/auth/user_namespace.go and the
// mapping half of id_map.go.
//
// Differs from gVisor: only the root user namespace is supported (see
// auth.ts), whose "dummy" maps are the identity over [0, 2^32-1) ("0 0
// 4294967295" in /proc/self/uid_map). So the idMapSets, SetUIDMap/SetGIDMap
// and NewChildUserNamespace are not ported; mapping a UID/GID is the
// identity, with NoID mapping to NoID.

import { NoID, type GID, type KGID, type KUID, type UID } from './id';

/** A UserNamespace represents a user namespace. See user_namespaces(7) for details. */
export class UserNamespace {
  /**
   * parent is this namespace's parent. If this is the root namespace, parent
   * is null. The parent pointer is immutable.
   */
  readonly parent: UserNamespace | null = null;

  /** owner is the effective UID of the namespace's creator in the root namespace. owner is immutable. */
  readonly owner: KUID = 0;

  /** root returns the root of the user namespace tree containing ns. */
  root(): UserNamespace {
    let ns: UserNamespace = this;
    while (ns.parent !== null) ns = ns.parent;
    return ns;
  }

  /** mapFromKUID translates kuid, a UID in the root namespace, to a UID in ns. */
  mapFromKUID(kuid: KUID): UID {
    return kuid;
  }

  /** mapFromKGID translates kgid, a GID in the root namespace, to a GID in ns. */
  mapFromKGID(kgid: KGID): GID {
    return kgid;
  }

  /** mapToKUID translates uid, a UID in ns, to a UID in the root namespace. */
  mapToKUID(uid: UID): KUID {
    return uid === NoID ? NoID : uid;
  }

  /** mapToKGID translates gid, a GID in ns, to a GID in the root namespace. */
  mapToKGID(gid: GID): KGID {
    return gid === NoID ? NoID : gid;
  }
}

/**
 * newRootUserNamespace returns a UserNamespace that is appropriate for a
 * system's root user namespace.
 */
export function newRootUserNamespace(): UserNamespace {
  return new UserNamespace();
}

// defaultRootUserNamespace is the namespace newRootCredentials and
// newUserCredentials use when given none (the kernel's root namespace).
let defaultRootUserNamespace: UserNamespace | undefined;

/** rootUserNamespace returns the shared root user namespace. */
export function rootUserNamespace(): UserNamespace {
  defaultRootUserNamespace ??= newRootUserNamespace();
  return defaultRootUserNamespace;
}
