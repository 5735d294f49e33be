// mount(2) and umount2(2) flags (include/uapi/linux/fs.h, sys/mount.h).

export const MS_RDONLY = 1;
export const MS_NOSUID = 1 << 1;
export const MS_NODEV = 1 << 2;
export const MS_NOEXEC = 1 << 3;
export const MS_SYNCHRONOUS = 1 << 4;
export const MS_REMOUNT = 1 << 5;
export const MS_MANDLOCK = 1 << 6;
export const MS_DIRSYNC = 1 << 7;
export const MS_NOATIME = 1 << 10;
export const MS_NODIRATIME = 1 << 11;
export const MS_BIND = 1 << 12;
export const MS_MOVE = 1 << 13;
export const MS_REC = 1 << 14;
export const MS_SILENT = 1 << 15;
export const MS_POSIXACL = 1 << 16;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_KERNMOUNT = 1 << 22;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;
export const MS_MGC_VAL = 0xc0ed0000;
export const MS_MGC_MSK = 0xffff0000;

// umount2(2) flags.
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;
