// Package auth implements an access control model that is a subset of Linux's:
// gVisor's pkg/sentry/kernel/auth.
//
// The auth package supports two kinds of access controls: user/group IDs and
// capabilities. Each resource in the security model is associated with a user
// namespace; "privileged" operations check that the operator's credentials
// have the required user/group IDs or capabilities within the user namespace
// of accessed resources.
//
// Differs from gVisor: only the root user namespace exists here (the
// filesystem slice has no clone(CLONE_NEWUSER), no /proc/[pid]/uid_map), so
// ID mapping is the identity; the names are gVisor's so that child
// namespaces can be added without changing callers.

export * from './id';
export * from './capability_set';
export * from './user_namespace';
export * from './credentials';
export * from './context';
