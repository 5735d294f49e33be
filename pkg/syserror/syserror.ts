// Package syserror holds one shared LinuxError value per Linux errno, as
// gVisor's pkg/syserror (and pkg/errors/linuxerr after it) does. Errors are
// compared by identity (`err === syserror.ENOENT`), never by message.
//
// Differs from gVisor: Go returns errors as values; here they are thrown
// (DESIGN decision 2). The values are created once, so a throw allocates
// nothing but the unwinding.

import { Errno, ErrnoName, errnoMessages, errnoName } from '../abi/linux/errors';

/** LinuxError is a Linux errno carried as a thrown value. */
export class LinuxError extends Error {
  readonly errno: number;
  readonly code: string;

  constructor(errno: number) {
    super(errnoMessages.get(errno) ?? `errno ${errno}`);
    this.errno = errno;
    this.code = errnoName(errno);
    this.name = 'LinuxError';
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

const byNumber = new Map<number, LinuxError>();
for (const num of Object.values(Errno)) byNumber.set(num, new LinuxError(num));

function get(name: ErrnoName): LinuxError {
  return byNumber.get(Errno[name])!;
}

/**
 * fromErrno returns the shared LinuxError for a (positive) errno number. An
 * unknown number gets a fresh value of its own, cached, so identity still
 * holds for it.
 */
export function fromErrno(errno: number): LinuxError {
  let e = byNumber.get(errno);
  if (e === undefined) {
    e = new LinuxError(errno);
    byNumber.set(errno, e);
  }
  return e;
}

/** isLinuxError narrows an unknown caught value. */
export function isLinuxError(err: unknown): err is LinuxError {
  return err instanceof LinuxError;
}

/**
 * fromNodeError maps an error thrown by Node's fs, net or child_process to
 * its LinuxError, where it enters the project (DESIGN decision 2): a known
 * `code` such as "ENOENT" wins, then a negative `errno`, and EIO when the
 * error carries neither.
 */
export function fromNodeError(err: unknown): LinuxError {
  if (err instanceof LinuxError) return err;
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code in Errno) return get(code as ErrnoName);
    const errno = (err as { errno?: unknown }).errno;
    if (typeof errno === 'number' && errno !== 0) return fromErrno(Math.abs(errno));
  }
  return EIO;
}

/**
 * errnoOf returns the errno of an error for the syscall boundary: the
 * LinuxError's number, or EIO's for anything else (which would be a bug).
 */
export function errnoOf(err: unknown): number {
  return fromNodeError(err).errno;
}

export const EPERM = get('EPERM');
export const ENOENT = get('ENOENT');
export const ESRCH = get('ESRCH');
export const EINTR = get('EINTR');
export const EIO = get('EIO');
export const ENXIO = get('ENXIO');
export const E2BIG = get('E2BIG');
export const ENOEXEC = get('ENOEXEC');
export const EBADF = get('EBADF');
export const ECHILD = get('ECHILD');
export const EAGAIN = get('EAGAIN');
export const ENOMEM = get('ENOMEM');
export const EACCES = get('EACCES');
export const EFAULT = get('EFAULT');
export const ENOTBLK = get('ENOTBLK');
export const EBUSY = get('EBUSY');
export const EEXIST = get('EEXIST');
export const EXDEV = get('EXDEV');
export const ENODEV = get('ENODEV');
export const ENOTDIR = get('ENOTDIR');
export const EISDIR = get('EISDIR');
export const EINVAL = get('EINVAL');
export const ENFILE = get('ENFILE');
export const EMFILE = get('EMFILE');
export const ENOTTY = get('ENOTTY');
export const ETXTBSY = get('ETXTBSY');
export const EFBIG = get('EFBIG');
export const ENOSPC = get('ENOSPC');
export const ESPIPE = get('ESPIPE');
export const EROFS = get('EROFS');
export const EMLINK = get('EMLINK');
export const EPIPE = get('EPIPE');
export const EDOM = get('EDOM');
export const ERANGE = get('ERANGE');
export const EDEADLK = get('EDEADLK');
export const ENAMETOOLONG = get('ENAMETOOLONG');
export const ENOLCK = get('ENOLCK');
export const ENOSYS = get('ENOSYS');
export const ENOTEMPTY = get('ENOTEMPTY');
export const ELOOP = get('ELOOP');
export const ENOMSG = get('ENOMSG');
export const ENODATA = get('ENODATA');
export const EPROTO = get('EPROTO');
export const EBADMSG = get('EBADMSG');
export const EOVERFLOW = get('EOVERFLOW');
export const EBADFD = get('EBADFD');
export const EILSEQ = get('EILSEQ');
export const ENOTSOCK = get('ENOTSOCK');
export const EMSGSIZE = get('EMSGSIZE');
export const EPROTOTYPE = get('EPROTOTYPE');
export const EOPNOTSUPP = get('EOPNOTSUPP');
export const EAFNOSUPPORT = get('EAFNOSUPPORT');
export const EADDRINUSE = get('EADDRINUSE');
export const ECONNABORTED = get('ECONNABORTED');
export const ECONNRESET = get('ECONNRESET');
export const ENOBUFS = get('ENOBUFS');
export const EISCONN = get('EISCONN');
export const ENOTCONN = get('ENOTCONN');
export const ETIMEDOUT = get('ETIMEDOUT');
export const ECONNREFUSED = get('ECONNREFUSED');
export const ESTALE = get('ESTALE');
export const EREMOTEIO = get('EREMOTEIO');
export const EDQUOT = get('EDQUOT');
export const ECANCELED = get('ECANCELED');

// gVisor's named aliases.
export const ErrWouldBlock = EAGAIN;
export const ErrInterrupted = EINTR;
export const ENOTSUP = EOPNOTSUPP;
