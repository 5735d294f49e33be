// IDs: gVisor's pkg/sentry/kernel/auth/id.go.
//
// Differs from gVisor: Go gives UID, GID, KUID and KGID distinct uint32
// types; here they are number aliases (so the type checker does not keep
// them apart), and Go's methods (uid.Ok(), kuid.In(ns)) are functions.

import type { UserNamespace } from './user_namespace';

/** UID is a user ID in an unspecified user namespace. */
export type UID = number;

/** GID is a group ID in an unspecified user namespace. */
export type GID = number;

// In the root user namespace, user/group IDs have a 1-to-1 relationship with
// the users/groups they represent. In other user namespaces, this is not the
// case; for example, two different unmapped users may both "have" the
// overflow UID. This means that it is generally only valid to compare user
// and group IDs in the root user namespace. We assign distinct names,
// KUID/KGID, to such IDs to emphasize this distinction. ("k" is for "key", as
// in "unique key".)

/** KUID is a user ID in the root user namespace. */
export type KUID = number;

/** KGID is a group ID in the root user namespace. */
export type KGID = number;

/**
 * NoID is uint32(-1). -1 is consistently used as a special value, in Linux
 * and by extension in the auth package, to mean "no ID":
 *
 * - ID mapping returns -1 if the ID is not mapped.
 *
 * - Most set*id() syscalls accept -1 to mean "do not change this ID".
 */
export const NoID = 0xffffffff;

/**
 * OverflowUID is the default value of /proc/sys/kernel/overflowuid. The
 * "overflow UID" is usually used when translating a user ID between
 * namespaces fails because the ID is not mapped.
 */
export const OverflowUID: UID = 65534;

/** OverflowGID is the group equivalent to OverflowUID. */
export const OverflowGID: GID = 65534;

/** NobodyKUID is the user ID usually reserved for the least privileged user "nobody". */
export const NobodyKUID: KUID = 65534;

/** NobodyKGID is the group equivalent to NobodyKUID. */
export const NobodyKGID: KGID = 65534;

/** RootKUID is the user ID usually used for the most privileged user "root". */
export const RootKUID: KUID = 0;

/** RootKGID is the group equivalent to RootKUID. */
export const RootKGID: KGID = 0;

/** RootUID is the root user. */
export const RootUID: UID = 0;

/** RootGID is the root group. */
export const RootGID: GID = 0;

/** idOk returns true if id (a UID, GID, KUID or KGID) is not -1 (gVisor: UID.Ok and friends). */
export function idOk(id: number): boolean {
  return id !== NoID;
}

/** uidOrOverflow returns uid if it is valid and the overflow UID otherwise. */
export function uidOrOverflow(uid: UID): UID {
  return idOk(uid) ? uid : OverflowUID;
}

/** gidOrOverflow returns gid if it is valid and the overflow GID otherwise. */
export function gidOrOverflow(gid: GID): GID {
  return idOk(gid) ? gid : OverflowGID;
}

/** kuidIn translates kuid into user namespace ns; NoID if unmapped (gVisor: KUID.In). */
export function kuidIn(kuid: KUID, ns: UserNamespace): UID {
  return ns.mapFromKUID(kuid);
}

/** kgidIn translates kgid into user namespace ns; NoID if unmapped (gVisor: KGID.In). */
export function kgidIn(kgid: KGID, ns: UserNamespace): GID {
  return ns.mapFromKGID(kgid);
}
