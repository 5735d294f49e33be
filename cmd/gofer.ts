#!/usr/bin/env node
// gofer serves a host directory over 9P2000.L (gVisor's runsc/cmd/gofer.go
// and runServers, reduced to what this project needs): one attach point per
// connection, every host access confined to --root by pkg/fsgofer.
//
//   gofer --root DIR --listen unix:/path.sock | tcp:127.0.0.1:PORT [--ro] [--msize N] [--no-donate]
//   gofer --root DIR --fd N [--ro] [--msize N] [--no-donate]
//
// Logs go through debug (DEBUG=gvisor:fsgofer,gvisor:p9).

import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { logger } from '../pkg/context/context';
import { Config, newAttachPoint, openProcSelfFD } from '../pkg/fsgofer/fsgofer';
import { Server } from '../pkg/p9/server';
import type { Attacher } from '../pkg/p9/file';
import { Address, formatAddress, parseAddress } from '../pkg/p9/transport';

const log = logger('gvisor:fsgofer');

const usage = `usage:
  gofer --root DIR --listen ADDRESS [--ro] [--msize N] [--no-donate]
  gofer --root DIR --fd N [--ro] [--msize N] [--no-donate]

Serve the host directory DIR over 9P2000.L. A client can reach nothing
outside DIR: every access is relative to an open directory and never
follows a symlink. Modes are stored as the client sends them, set-user-ID
and set-group-ID bits included (as diod does; the client applies Linux's
rules): where host users run programs from DIR, keep it on a nosuid mount.

options:
  --root DIR         the directory to serve (required)
  --listen ADDRESS   unix:/path.sock, tcp:HOST:PORT (port 0: any free port)
                     or fd:N (an inherited listening socket); serves any
                     number of clients, each with its own attach
  --fd N             serve one connection on the inherited socket fd N and
                     exit when that client goes away
  --ro               read-only: every mutation fails with EROFS
  --msize N          largest 9P message the gofer agrees to, in bytes
                     (4096 to 1048576, the default)
  --no-donate        never give a client the host fd of an opened regular
                     file (by default a client on a unix: address that asks
                     for an fd channel gets one, and reads and writes such
                     files directly; otherwise data goes by Tread/Twrite)
  -h, --help         this text

On --listen, the address actually bound is printed on stdout as
"listening ADDRESS" once the gofer accepts connections.

examples:
  gofer --root /srv/data --listen unix:/tmp/gofer.sock
  gofer --root /srv/data --listen tcp:127.0.0.1:5640 --ro
  DEBUG=gvisor:fsgofer gofer --root "$PWD" --listen tcp:127.0.0.1:0
  gofer --root /srv/data --fd 3      # spawned with a socketpair end as fd 3
  gofer --root /srv/data --listen unix:/tmp/gofer.sock --no-donate
`;

class UsageError extends Error {}

interface options {
  root: string;
  address: Address;
  /** single is --fd: one connection on an inherited connected socket. */
  single: boolean;
  conf: Config;
  msize: number;
}

function parse(argv: string[]): options | null {
  let values: { root?: string; listen?: string; fd?: string; ro?: boolean; msize?: string; 'no-donate'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        listen: { type: 'string' },
        fd: { type: 'string' },
        ro: { type: 'boolean' },
        msize: { type: 'string' },
        'no-donate': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) return null;
  if (values.root === undefined) throw new UsageError('--root is required');
  if ((values.listen === undefined) === (values.fd === undefined)) {
    throw new UsageError('exactly one of --listen and --fd is required');
  }
  let address: Address;
  if (values.fd !== undefined) {
    if (!/^[0-9]+$/.test(values.fd)) throw new UsageError(`--fd ${values.fd}: not a file descriptor number`);
    address = { kind: 'fd', readFD: Number(values.fd), writeFD: Number(values.fd) };
  } else {
    try {
      address = parseAddress(values.listen!);
    } catch (e) {
      throw new UsageError(`--listen ${values.listen}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let msize = 1 << 20;
  if (values.msize !== undefined) {
    if (!/^[0-9]+$/.test(values.msize) || Number(values.msize) < 4096 || Number(values.msize) > 1 << 20) {
      throw new UsageError(`--msize ${values.msize}: want a number of bytes from 4096 to 1048576`);
    }
    msize = Number(values.msize);
  }
  return {
    root: path.resolve(values.root),
    address,
    single: values.fd !== undefined,
    conf: { roMount: values.ro === true, noDonate: values['no-donate'] === true },
    msize,
  };
}

function fail(msg: string, code: number): never {
  process.stderr.write(`gofer: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let opts: options | null;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n\n${usage}`, 2);
    throw e;
  }
  if (opts === null) {
    process.stdout.write(usage);
    return;
  }
  const { address, single, conf, msize } = opts;
  // The operator's path may go through symlinks (e.g. /tmp on some hosts):
  // resolve them once here; fsgofer opens the root itself with O_NOFOLLOW.
  let root: string;
  try {
    root = fs.realpathSync(opts.root);
  } catch {
    fail(`--root ${opts.root}: no such file or directory`, 1);
  }

  // fsgofer should run with a umask of 0, because we want to preserve file
  // modes exactly as sent by the sandbox, which will have applied its own umask.
  process.umask(0);
  openProcSelfFD();

  // Every Tattach gets an attach point of its own, as runServers gives each
  // io FD its own (gVisor's attach point accepts one Attach): two clients,
  // or one client attaching twice, never share fsgofer state.
  const attacher: Attacher = {
    attach: () => newAttachPoint(root, conf).attach(),
  };
  const server = new Server(attacher, { maxMessageSize: msize, donateFDs: conf.noDonate !== true });
  log.infof('serving %s (ro=%s, msize<=%d) on %s', root, conf.roMount, msize, formatAddress(address));

  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.infof('%s: stopping', sig);
    server.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (single && address.kind === 'fd') {
    // One client: the gofer ends when it goes away.
    try {
      await server.handleFD(address.readFD);
    } catch (e) {
      fail(`--fd ${address.readFD}: ${e instanceof Error ? e.message : String(e)}`, 1);
    }
    log.infof('client went away: exiting');
    await server.close();
    process.exit(0);
  }

  let listener: net.Server;
  try {
    listener = await server.listen(address);
  } catch (e) {
    fail(`--listen ${formatAddress(address)}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  let bound = address;
  const a = listener.address();
  if (address.kind === 'tcp' && a !== null && typeof a === 'object') bound = { kind: 'tcp', host: address.host, port: a.port };
  if (address.kind === 'unix') {
    // Remove the socket file when the gofer exits (SIGTERM included).
    process.on('exit', () => fs.rmSync(address.path, { force: true }));
  }
  process.stdout.write(`listening ${formatAddress(bound)}\n`);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e), 1));
