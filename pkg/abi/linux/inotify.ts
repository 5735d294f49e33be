// inotify(7) constants and struct inotify_event layout, as gVisor's
// pkg/abi/linux/inotify.go defines them.

// Inotify events observable by userspace.
export const IN_ACCESS = 0x00000001;
export const IN_MODIFY = 0x00000002;
export const IN_ATTRIB = 0x00000004;
export const IN_CLOSE_WRITE = 0x00000008;
export const IN_CLOSE_NOWRITE = 0x00000010;
export const IN_OPEN = 0x00000020;
export const IN_MOVED_FROM = 0x00000040;
export const IN_MOVED_TO = 0x00000080;
export const IN_CREATE = 0x00000100;
export const IN_DELETE = 0x00000200;
export const IN_DELETE_SELF = 0x00000400;
export const IN_MOVE_SELF = 0x00000800;
export const IN_ALL_EVENTS = 0x00000fff;

// Inotify control events (always sent, never part of a watch's mask).
export const IN_UNMOUNT = 0x00002000;
export const IN_Q_OVERFLOW = 0x00004000;
export const IN_IGNORED = 0x00008000;
export const IN_ISDIR = 0x40000000;

// Flags of inotify_add_watch(2).
export const IN_ONLYDIR = 0x01000000;
export const IN_DONT_FOLLOW = 0x02000000;
export const IN_EXCL_UNLINK = 0x04000000;
export const IN_MASK_CREATE = 0x10000000;
export const IN_MASK_ADD = 0x20000000;
export const IN_ONESHOT = 0x80000000;

// Convenience combinations.
export const IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
export const IN_MOVE = IN_MOVED_FROM | IN_MOVED_TO;

// Flags of inotify_init1(2).
export const IN_CLOEXEC = 0x00080000;
export const IN_NONBLOCK = 0x00000800;

/** ALL_INOTIFY_BITS is every bit inotify_add_watch(2) accepts in its mask. */
export const ALL_INOTIFY_BITS =
  (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR | IN_ONLYDIR |
    IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT) >>> 0;

/** SizeOfInotifyEvent is sizeof(struct inotify_event) without its name. */
export const SizeOfInotifyEvent = 16;

/**
 * Default value of /proc/sys/fs/inotify/max_queued_events: past it Linux
 * queues one IN_Q_OVERFLOW event and drops further events.
 */
export const InotifyMaxQueuedEvents = 16384;

/** InotifyEvent is a decoded struct inotify_event. */
export interface InotifyEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
}

/**
 * parseInotifyEvents decodes the bytes a read(2) of an inotify fd returns:
 * wd[4] mask[4] cookie[4] len[4] name[len] (NUL-padded), little endian.
 */
export function parseInotifyEvents(buf: Uint8Array): InotifyEvent[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: InotifyEvent[] = [];
  let off = 0;
  while (off + SizeOfInotifyEvent <= b.length) {
    const wd = b.readInt32LE(off);
    const mask = b.readUInt32LE(off + 4);
    const cookie = b.readUInt32LE(off + 8);
    const len = b.readUInt32LE(off + 12);
    off += SizeOfInotifyEvent;
    let name = '';
    if (len > 0) {
      const raw = b.subarray(off, Math.min(off + len, b.length));
      const nul = raw.indexOf(0);
      name = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
      off += len;
    }
    out.push({ wd, mask, cookie, name });
  }
  return out;
}
