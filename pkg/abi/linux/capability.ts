// Capabilities: gVisor's pkg/abi/linux/capability.go.
//
// Differs from gVisor at dbe41765, whose list ends at CAP_AUDIT_READ (37):
// this is the full list of Linux's include/uapi/linux/capability.h (5.9+),
// so CAP_LAST_CAP is CAP_CHECKPOINT_RESTORE (40).

/** A Capability represents the ability to perform a privileged operation. */
export type Capability = number;

// Capabilities defined by Linux. Taken from the kernel's
// include/uapi/linux/capability.h. See capabilities(7) or that file for more
// detailed capability descriptions.
export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_FSETID = 4;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_LINUX_IMMUTABLE = 9;
export const CAP_NET_BIND_SERVICE = 10;
export const CAP_NET_BROADCAST = 11;
export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;
export const CAP_IPC_LOCK = 14;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_MODULE = 16;
export const CAP_SYS_RAWIO = 17;
export const CAP_SYS_CHROOT = 18;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_PACCT = 20;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_BOOT = 22;
export const CAP_SYS_NICE = 23;
export const CAP_SYS_RESOURCE = 24;
export const CAP_SYS_TIME = 25;
export const CAP_SYS_TTY_CONFIG = 26;
export const CAP_MKNOD = 27;
export const CAP_LEASE = 28;
export const CAP_AUDIT_WRITE = 29;
export const CAP_AUDIT_CONTROL = 30;
export const CAP_SETFCAP = 31;
export const CAP_MAC_OVERRIDE = 32;
export const CAP_MAC_ADMIN = 33;
export const CAP_SYSLOG = 34;
export const CAP_WAKE_ALARM = 35;
export const CAP_BLOCK_SUSPEND = 36;
export const CAP_AUDIT_READ = 37;
export const CAP_PERFMON = 38;
export const CAP_BPF = 39;
export const CAP_CHECKPOINT_RESTORE = 40;

/**
 * CAP_LAST_CAP is the highest-numbered capability.
 * Search for "CAP_LAST_CAP" to find other places that need to change.
 */
export const CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE;

const capabilityNames: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** capabilityOk returns true if cp is a supported capability (gVisor: Capability.Ok). */
export function capabilityOk(cp: Capability): boolean {
  return Number.isInteger(cp) && cp >= 0 && cp <= CAP_LAST_CAP;
}

/** capabilityString returns the capability name (gVisor: Capability.String). */
export function capabilityString(cp: Capability): string {
  return capabilityOk(cp) ? capabilityNames[cp]! : `unknown capability ${cp}`;
}
