// Two Linux rules the conformance suite found missing (both checked on the
// host kernel, ext4 and tmpfs):
// - getdents64 on a directory that has been removed is ENOENT
//   (fs/readdir.c iterate_dir: IS_DEADDIR), whatever the filesystem;
// - a bare namespace prefix ("user.") names no attribute: EINVAL
//   (fs/xattr.c xattr_resolve_name), after the permission checks.
import test from 'ava';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { Errno } from '../../../../pkg/abi/linux/errors';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY } from '../../../../pkg/abi/linux/file';

async function newTask() {
  const k = await Kernel.create({ root: { fsType: 'tmpfs', options: 'mode=0777' } });
  const t = await k.newTask();
  return { k, t };
}

test('getdents64 of a removed directory is ENOENT (iterate_dir, IS_DEADDIR)', async (t) => {
  const { k, t: task } = await newTask();
  t.is(await task.sys.mkdir('/d', 0o755), 0);
  const fd = await task.sys.open('/d', O_RDONLY | O_DIRECTORY);
  t.true(fd >= 0);
  const buf = Buffer.alloc(4096);
  t.true((await task.sys.getdents64(fd, buf, buf.length)) > 0, 'a live directory lists . and ..');
  t.is(await task.sys.rmdir('/d'), 0);
  t.is(await task.sys.getdents64(fd, buf, buf.length), -Errno.ENOENT);
  t.is(await task.sys.close(fd), 0);
  await k.release();
});

test('getdents64 of a directory replaced by rename is ENOENT', async (t) => {
  const { k, t: task } = await newTask();
  t.is(await task.sys.mkdir('/a', 0o755), 0);
  t.is(await task.sys.mkdir('/b', 0o755), 0);
  const fd = await task.sys.open('/b', O_RDONLY | O_DIRECTORY);
  t.is(await task.sys.rename('/a', '/b'), 0);
  const buf = Buffer.alloc(4096);
  t.is(await task.sys.getdents64(fd, buf, buf.length), -Errno.ENOENT);
  t.is(await task.sys.close(fd), 0);
  await k.release();
});

test('xattr name "user." or "trusted." alone is EINVAL (xattr_resolve_name)', async (t) => {
  const { k, t: task } = await newTask();
  const fd = await task.sys.open('/f', O_CREAT | O_WRONLY, 0o644);
  t.true(fd >= 0);
  const v = Buffer.from('v');
  t.is(await task.sys.setxattr('/f', 'user.', v, 1, 0), -Errno.EINVAL);
  t.is(await task.sys.setxattr('/f', 'trusted.', v, 1, 0), -Errno.EINVAL);
  t.is(await task.sys.getxattr('/f', 'user.', Buffer.alloc(8), 8), -Errno.EINVAL);
  t.is(await task.sys.removexattr('/f', 'user.'), -Errno.EINVAL);
  t.is(await task.sys.setxattr('/f', 'user.x', v, 1, 0), 0, 'a real name still works');
  t.is(await task.sys.close(fd), 0);
  await k.release();
});
