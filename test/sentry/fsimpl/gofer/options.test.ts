// Mount options of the "9p" filesystem (gVisor's GetFilesystem and
// getFDFromMountOptionsMap; Linux's v9fs for the standard ones).

import test from 'ava';
import { InteropMode, parseFilesystemOptions } from '../../../../pkg/sentry/fsimpl/gofer';
import * as vfs from '../../../../pkg/sentry/vfs';
import { LinuxError } from '../../../../pkg/syserror/syserror';

function parse(data: string, source = ''): ReturnType<typeof parseFilesystemOptions> | string {
  try {
    return parseFilesystemOptions(vfs.genericParseMountOptions(data), source);
  } catch (err) {
    if (err instanceof LinuxError) return err.code;
    throw err;
  }
}

const ok = (v: ReturnType<typeof parse>): Exclude<ReturnType<typeof parse>, string> => {
  if (typeof v === 'string') throw new Error(`unexpected ${v}`);
  return v;
};

test('connection: trans=fd with equal rfdno/wfdno, or a unix:/tcp: address as source or server=', (t) => {
  t.is(ok(parse('trans=fd,rfdno=5,wfdno=5')).address, 'fd:5,5');
  t.is(ok(parse('', 'unix:/tmp/g.sock')).address, 'unix:/tmp/g.sock');
  t.is(ok(parse('server=tcp:127.0.0.1:5640')).address, 'tcp:127.0.0.1:5640');
  const bad: Array<[string, string]> = [
    ['', ''], ['trans=tcp', ''], ['trans=fd', ''], ['trans=fd,rfdno=5', ''], ['trans=fd,rfdno=5,wfdno=6', ''],
    ['trans=fd,rfdno=x,wfdno=x', ''], ['server=/no/kind', ''], ['server=tcp:host', ''],
    ['server=unix:/a,trans=fd,rfdno=1,wfdno=1', ''],
  ];
  for (const [data, source] of bad) t.is(parse(data, source), 'EINVAL', data);
});

test('cache= policies and the interop modes they select (gVisor)', (t) => {
  const cases: Array<[string, InteropMode, boolean]> = [
    ['', InteropMode.Exclusive, false],
    ['cache=fscache', InteropMode.Exclusive, false],
    ['cache=fscache_writethrough', InteropMode.Writethrough, false],
    ['cache=remote_revalidating', InteropMode.Shared, false],
    ['cache=none', InteropMode.Shared, true],
  ];
  for (const [data, mode, special] of cases) {
    const o = ok(parse(data, 'unix:/s'));
    t.is(o.interop, mode, data);
    t.is(o.regularFilesUseSpecialFileFD, special, data);
  }
  t.is(parse('cache=loose', 'unix:/s'), 'EINVAL');
});

test('aname, msize, version, dfltuid/dfltgid, dentry_cache_limit, flags; unknown options are EINVAL', (t) => {
  const o = ok(parse('aname=/srv,msize=65536,version=9P2000.L,dfltuid=7,dfltgid=8,dentry_cache_limit=5,force_page_cache,overlayfs_stale_read', 'unix:/s'));
  t.is(o.aname, '/srv');
  t.is(o.msize, 65536);
  t.is(o.version, '9P2000.L');
  t.is(o.dfltuid, 7);
  t.is(o.dfltgid, 8);
  t.is(o.maxCachedDentries, 5);
  t.true(o.forcePageCache);
  t.true(o.overlayfsStaleRead);
  const d = ok(parse('', 'unix:/s'));
  t.is(d.aname, '/');
  t.is(d.msize, 1024 * 1024);
  t.is(d.version, '9P2000.L.Google.13');
  t.is(d.dfltuid, 4294967294);
  t.is(d.maxCachedDentries, 1000);
  for (const bad of ['msize=x', 'dfltuid=-1', 'dentry_cache_limit=lots', 'bogus=1', 'nosuchflag']) {
    t.is(parse(bad, 'unix:/s'), 'EINVAL', bad);
  }
});
