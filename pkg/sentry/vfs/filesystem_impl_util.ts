// Helpers for FilesystemImpls (gVisor's filesystem_impl_util.go).

import { NAME_MAX } from '../../abi/linux/file';
import { newStatfs, type Statfs } from '../../abi/linux/stat';

/** PageSize is usermem.PageSize. */
export const PageSize = 4096;

/**
 * genericParseMountOptions parses a comma-separated list of options of the
 * form "key" or "key=value", where neither key nor value contain commas, and
 * returns it as a map. If str contains duplicate keys, then the last value
 * wins. For example:
 *
 * str = "key0=value0,key1,key2=value2,key0=value3" -> {'key0':'value3','key1':'','key2':'value2'}
 *
 * genericParseMountOptions is not appropriate if values may contain commas,
 * e.g. in the case of the mpol mount option for tmpfs(5).
 */
export function genericParseMountOptions(str: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const opt of str.split(',')) {
    if (opt.length > 0) {
      const i = opt.indexOf('=');
      if (i >= 0) m.set(opt.slice(0, i), opt.slice(i + 1));
      else m.set(opt, '');
    }
  }
  return m;
}

/**
 * genericStatFS returns a statfs struct filled with the common fields for a
 * general filesystem. This is analogous to Linux's
 * fs/libfs.c:simple_statfs().
 */
export function genericStatFS(fsMagic: number): Statfs {
  const s = newStatfs();
  s.type = fsMagic;
  s.blockSize = PageSize;
  s.nameLength = NAME_MAX;
  return s;
}
