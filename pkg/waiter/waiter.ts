// Package waiter provides the implementation of a wait queue, where waiters
// can be enqueued to be notified when an event of interest happens (gVisor's
// pkg/waiter, the part the filesystem slice needs).
//
// Differs from gVisor: a goroutine blocks on a channel registered through an
// Entry; here a blocking operation awaits waitFor(), which registers an
// Entry whose callback settles a Promise, and rejects with EINTR when the
// Context's AbortSignal aborts.

import type { Context } from '../context';
import * as syserror from '../syserror/syserror';

/** EventMask represents io events as used in the poll() syscall. */
export type EventMask = number;

// Events that waiters can wait on. The meaning is the same as those in the
// poll() syscall.
export const EventIn: EventMask = 0x01; // POLLIN
export const EventPri: EventMask = 0x02; // POLLPRI
export const EventOut: EventMask = 0x04; // POLLOUT
export const EventErr: EventMask = 0x08; // POLLERR
export const EventHUp: EventMask = 0x10; // POLLHUP
export const EventRdNorm: EventMask = 0x0040; // POLLRDNORM
export const EventWrNorm: EventMask = 0x0100; // POLLWRNORM

export const allEvents: EventMask = 0x1f | EventRdNorm | EventWrNorm;
export const ReadableEvents: EventMask = EventIn | EventRdNorm;
export const WritableEvents: EventMask = EventOut | EventWrNorm;

/** EntryCallback provides a notify callback. */
export interface EntryCallback {
  /** callback is called when one of the events the entry registered for happens. */
  callback(e: Entry, mask: EventMask): void;
}

/** Entry represents a waiter that can be added to a wait queue. */
export class Entry {
  /** mask is the set of events this entry is registered for (set by Queue.eventRegister). */
  mask: EventMask = 0;

  constructor(readonly callback: EntryCallback) {}
}

/**
 * Waitable contains the methods that need to be implemented by waitable
 * objects.
 */
export interface Waitable {
  /**
   * readiness returns what the object is currently ready for. If it's not
   * ready for a desired purpose, the caller may use eventRegister and
   * eventUnregister to get notifications once the object becomes ready.
   */
  readiness(mask: EventMask): EventMask;

  /** eventRegister registers the given waiter entry to receive notifications when an event occurs that makes the object ready for at least one of the events in mask. */
  eventRegister(e: Entry, mask: EventMask): void;

  /** eventUnregister unregisters a waiter entry previously registered with eventRegister(). */
  eventUnregister(e: Entry): void;
}

/**
 * Queue represents the wait queue where waiters can be added and notifiers
 * can notify them when events happen.
 */
export class Queue {
  private readonly list = new Set<Entry>();

  /** eventRegister adds a waiter to the wait queue; the waiter will be notified when at least one of the events specified in mask happens. */
  eventRegister(e: Entry, mask: EventMask): void {
    e.mask = mask;
    this.list.add(e);
  }

  /** eventUnregister removes the given waiter entry from the wait queue. */
  eventUnregister(e: Entry): void {
    this.list.delete(e);
  }

  /** notify notifies all waiters in the queue whose masks have at least one bit in common with the notification mask. */
  notify(mask: EventMask): void {
    for (const e of [...this.list]) {
      if ((mask & e.mask) !== 0) e.callback.callback(e, mask);
    }
  }

  /** events returns the set of events being waited on. */
  events(): EventMask {
    let ret = 0;
    for (const e of this.list) ret |= e.mask;
    return ret;
  }

  /** isEmpty returns if the wait queue is empty or not. */
  isEmpty(): boolean {
    return this.list.size === 0;
  }
}

/**
 * waitFor resolves when w becomes ready for one of the events in mask (it
 * may already be), and rejects with EINTR if ctx's signal aborts first. It
 * is the Promise form of gVisor's "register an entry, check readiness,
 * block on the channel" pattern.
 */
export function waitFor(ctx: Context, w: Waitable, mask: EventMask): Promise<void> {
  if (w.readiness(mask) !== 0) return Promise.resolve();
  const signal = ctx.signal;
  if (signal?.aborted) return Promise.reject(syserror.EINTR);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      w.eventUnregister(entry);
      reject(syserror.EINTR);
    };
    const entry = new Entry({
      callback: () => {
        w.eventUnregister(entry);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
    });
    w.eventRegister(entry, mask);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
