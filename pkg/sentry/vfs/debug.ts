// checkInvariants enables expensive consistency checks (gVisor's debug.go).

import createDebug from 'debug';

/** checkInvariants is true to enable additional precondition checks. */
export const checkInvariants = false;

/** log is the package's logger (namespace gvisor:vfs). */
export const log = createDebug('gvisor:vfs');
