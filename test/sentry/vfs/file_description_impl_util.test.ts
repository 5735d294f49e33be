// DynamicBytesFileDescriptionImpl and the FileDescription defaults (gVisor's
// file_description_impl_util_test.go: TestGenCountFD, TestWritable).

import test from 'ava';
import type { Context } from '../../../pkg/context';
import { O_RDONLY, O_RDWR, O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, SEEK_CUR, SEEK_END, SEEK_SET } from '../../../pkg/abi/linux/file';
import { newStatx, type Statx } from '../../../pkg/abi/linux/stat';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';
import { newEnv, type Env } from './harness';

// genCount's contents are the number of times it has been generated.
class genCount implements vfs.DynamicBytesSource {
  count = 0;
  async generate(_ctx: Context): Promise<string> {
    this.count++;
    return `${this.count}`;
  }
}

class storeData implements vfs.WritableDynamicBytesSource {
  constructor(public data: string) {}
  async generate(_ctx: Context): Promise<string> {
    return this.data;
  }
  async write(_ctx: Context, src: Buffer, _offset: number): Promise<number> {
    this.data = src.toString();
    return 0;
  }
}

// testFD is a read-only FileDescriptionImpl representing a regular file.
class testFD extends vfs.DynamicBytesFileDescriptionImpl {
  readonly vfsfd = new vfs.FileDescription();
  release(_ctx: Context): void {}
  async stat(_ctx: Context, _opts: vfs.StatOptions): Promise<Statx> {
    // Note that Statx.mask == 0 in the return value.
    return newStatx();
  }
  async setStat(_ctx: Context, _opts: vfs.SetStatOptions): Promise<void> {
    throw syserror.EPERM;
  }
}

function newTestFD(e: Env, statusFlags: number, data: vfs.DynamicBytesSource): vfs.FileDescription {
  const vd = e.vfsObj.newAnonVirtualDentry('genCountFD');
  const fd = new testFD();
  fd.vfsfd.init(fd, statusFlags, vd.mount(), vd.dentry(), {});
  fd.setDataSource(data);
  vd.decRef(e.ctx);
  return fd.vfsfd;
}

test('TestGenCountFD: contents are regenerated on seek and on pread at a new offset', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const fd = newTestFD(e, O_RDWR, new genCount());
  t.teardown(() => fd.decRef(e.ctx));
  const buf = Buffer.alloc(2);
  // The first read causes generate to be called to fill the FD's buffer.
  t.is(await fd.read(e.ctx, buf), 1);
  t.is(buf.toString('latin1', 0, 1), '1');
  // A second read without seeking is still at EOF.
  t.is(await fd.read(e.ctx, buf), 0);
  // Seeking to the beginning of the file causes it to be regenerated.
  t.is(await fd.seek(e.ctx, 0, SEEK_SET), 0);
  t.is(await fd.read(e.ctx, buf), 1);
  t.is(buf.toString('latin1', 0, 1), '2');
  // pread at the beginning of the file also causes it to be regenerated.
  t.is(await fd.pread(e.ctx, buf, 0), 1);
  t.is(buf.toString('latin1', 0, 1), '3');
  // write and pwrite fail.
  await t.throwsAsync(fd.write(e.ctx, buf), { is: syserror.EIO });
  await t.throwsAsync(fd.pwrite(e.ctx, buf, 0), { is: syserror.EIO });
  // seq_lseek rejects SEEK_END and negative offsets.
  await t.throwsAsync(fd.seek(e.ctx, 0, SEEK_END), { is: syserror.EINVAL });
  await t.throwsAsync(fd.seek(e.ctx, -5, SEEK_CUR), { is: syserror.EINVAL });
});

test('TestWritable: writes go to a WritableDynamicBytesSource', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const src = new storeData('init');
  const fd = newTestFD(e, O_RDWR, src);
  t.teardown(() => fd.decRef(e.ctx));
  const buf = Buffer.alloc(10);
  t.is(await fd.read(e.ctx, buf), 4);
  t.is(buf.toString('latin1', 0, 4), 'init');
  await fd.pwrite(e.ctx, Buffer.from('write'), 0);
  t.is(await fd.pread(e.ctx, buf, 0), 5);
  t.is(buf.toString('latin1', 0, 5), 'write');
  t.is(await fd.seek(e.ctx, 0, SEEK_SET), 0);
  await fd.write(e.ctx, Buffer.from('write2'));
  t.is(await fd.pread(e.ctx, buf, 0), 6);
  t.is(buf.toString('latin1', 0, 6), 'write2');
});

test('FileDescription: access mode gates I/O (EBADF); status flags drop creation flags', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const fd = newTestFD(e, O_RDONLY | O_NONBLOCK | 0o100 /* O_CREAT */, new genCount());
  t.teardown(() => fd.decRef(e.ctx));
  t.true(fd.isReadable());
  t.false(fd.isWritable());
  t.is(fd.statusFlags(), O_RDONLY | O_NONBLOCK);
  await t.throwsAsync(fd.write(e.ctx, Buffer.from('x')), { is: syserror.EBADF });
  await t.throwsAsync(fd.allocate(e.ctx, 0, 0, 1), { is: syserror.EBADF });
  // F_SETFL: settable flags only; O_DIRECT needs allowDirectIO.
  await fd.setStatusFlags(e.ctx, e.creds, O_APPEND);
  t.is(fd.statusFlags(), O_RDONLY | O_APPEND);
  await t.throwsAsync(fd.setStatusFlags(e.ctx, e.creds, O_DIRECT), { is: syserror.EINVAL });
  // O_NOATIME needs STATX_UID from stat (testFD gives none): EPERM.
  await t.throwsAsync(fd.setStatusFlags(e.ctx, e.creds, O_NOATIME), { is: syserror.EPERM });
});

test('FileDescriptionDefaultImpl: Linux defaults for missing file_operations', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const fd = newTestFD(e, O_RDWR, new genCount());
  t.teardown(() => fd.decRef(e.ctx));
  const impl = fd.impl;
  await t.throwsAsync(impl.iterDirents(e.ctx, vfs.iterDirentsCallbackFunc(() => undefined)), { is: syserror.ENOTDIR });
  await t.throwsAsync(impl.sync(e.ctx), { is: syserror.EINVAL });
  await t.throwsAsync(impl.ioctl(e.ctx, 0, 0), { is: syserror.ENOTTY });
  await t.throwsAsync(impl.statFS(e.ctx), { is: syserror.ENOSYS });
  await t.throwsAsync(impl.allocate(e.ctx, 0, 0, 1), { is: syserror.ENODEV });
  await t.throwsAsync(impl.getXattr(e.ctx, { name: 'user.x', size: 0 }), { is: syserror.ENOTSUP });
  await t.throwsAsync(impl.lockBSD(e.ctx, fd, 0, false), { is: syserror.ENOLCK });
  // FileDescription.listXattr hides ENOTSUP as Linux does.
  t.deepEqual(await fd.listXattr(e.ctx, 0), []);
  t.is(fd.readiness(0xff), 1 | 4);
});
