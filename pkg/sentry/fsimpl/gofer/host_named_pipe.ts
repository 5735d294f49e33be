// Named pipes on the server: gVisor's
// pkg/sentry/fsimpl/gofer/host_named_pipe.go.
//
// Differs from gVisor: gVisor receives a host fd for an opened named pipe
// and, for a blocking O_RDONLY open, polls it with tee(2) until a writer
// appears (blockUntilNonblockingPipeHasWriter). Node cannot receive host fds,
// so a named pipe on the server is opened and used through its 9P handle
// (Tlopen, then Tread/Twrite, which the server performs on its own
// non-blocking fd): a blocking O_WRONLY open still retries while the server
// answers ENXIO (no reader yet), as gVisor does, but a blocking O_RDONLY open
// returns at once instead of waiting for a writer, and a read with no writer
// returns end of file or EAGAIN as the server's non-blocking read does.

import { sleep, type Context } from '../../../context';

/** namedPipeOpenCheckIntervalMs is gVisor's 100ms between open checks. */
const namedPipeOpenCheckIntervalMs = 100;

/**
 * sleepBetweenNamedPipeOpenChecks waits before the next open attempt; it
 * throws EINTR if ctx is interrupted.
 */
export function sleepBetweenNamedPipeOpenChecks(ctx: Context): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const p = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, namedPipeOpenCheckIntervalMs);
  });
  return sleep(ctx, p, () => clearTimeout(timer));
}
