// Device special files and anonymous device numbers (gVisor's device.go).

import type { Context } from '../../context';
import * as syserror from '../../syserror/syserror';
import type { Dentry } from './dentry';
import type { FileDescription } from './file_description';
import type { Mount } from './mount';
import type { OpenOptions } from './options';
import type { VirtualFilesystem } from './vfs';

/** DeviceKind indicates whether a device is a block or character device. */
export type DeviceKind = 0 | 1;

/** BlockDevice indicates a block device. */
export const BlockDevice: DeviceKind = 0;
/** CharDevice indicates a character device. */
export const CharDevice: DeviceKind = 1;

/** deviceKindString returns "block" or "character". */
export function deviceKindString(kind: DeviceKind): string {
  return kind === BlockDevice ? 'block' : 'character';
}

/** A Device backs device special files. */
export interface Device {
  /**
   * open returns a FileDescription representing this device. A reference is
   * taken on the returned FileDescription.
   */
  open(ctx: Context, mnt: Mount, d: Dentry, opts: OpenOptions): Promise<FileDescription>;
}

/** registeredDevice is an entry of VirtualFilesystem.devices. */
export interface registeredDevice {
  dev: Device;
  opts: RegisterDeviceOptions;
}

/** RegisterDeviceOptions contains options to VirtualFilesystem.registerDevice(). */
export interface RegisterDeviceOptions {
  /** groupName is the name shown for this device registration in /proc/devices. */
  groupName?: string;
}

function devKey(kind: DeviceKind, major: number, minor: number): string {
  return `${kind}:${major}:${minor}`;
}

/**
 * registerDevice registers the given Device in vfs with the given major and
 * minor device numbers. It throws EEXIST if the numbers are taken.
 */
export function registerDevice(vfs: VirtualFilesystem, kind: DeviceKind, major: number, minor: number, dev: Device, opts: RegisterDeviceOptions): void {
  const key = devKey(kind, major, minor);
  if (vfs.devices.has(key)) {
    vfs.log(`${deviceKindString(kind)} device number (${major}, ${minor}) is already registered`);
    throw syserror.EEXIST;
  }
  vfs.devices.set(key, { dev, opts: { ...opts } });
}

/**
 * openDeviceSpecialFile returns a FileDescription representing the given
 * device, or throws ENXIO if no device is registered there.
 */
export function openDeviceSpecialFile(
  vfs: VirtualFilesystem, ctx: Context, mnt: Mount, d: Dentry, kind: DeviceKind, major: number, minor: number, opts: OpenOptions,
): Promise<FileDescription> {
  const rd = vfs.devices.get(devKey(kind, major, minor));
  if (rd === undefined) return Promise.reject(syserror.ENXIO);
  return rd.dev.open(ctx, mnt, d, opts);
}

/** getAnonBlockDevMinor allocates and returns an unused minor device number for an "anonymous" block device with major number UNNAMED_MAJOR. */
export function getAnonBlockDevMinor(vfs: VirtualFilesystem): number {
  let minor = vfs.anonBlockDevMinorNext;
  const maxDevMinor = (1 << 20) - 1;
  while (minor < maxDevMinor) {
    if (!vfs.anonBlockDevMinor.has(minor)) {
      vfs.anonBlockDevMinor.add(minor);
      vfs.anonBlockDevMinorNext = minor + 1;
      return minor;
    }
    minor++;
  }
  throw syserror.EMFILE;
}

/** putAnonBlockDevMinor deallocates a minor device number returned by a previous call to getAnonBlockDevMinor. */
export function putAnonBlockDevMinor(vfs: VirtualFilesystem, minor: number): void {
  vfs.anonBlockDevMinor.delete(minor);
  if (minor < vfs.anonBlockDevMinorNext) vfs.anonBlockDevMinorNext = minor;
}
