/**
 * The mailbox page (docs/protocol.md, "The screen"): the host writes the
 * input since the last frame and the time for the next one while the vCPU
 * is stopped at the doorbell.
 */
import { MAILBOX_EVENT_SIZE, MAILBOX_HEADER_SIZE, MAILBOX_MAGIC, MAILBOX_MAX_EVENTS, PAGE_SIZE } from './layout.js';
import { ProtocolError } from './errors.js';
import { hex, requireSize, setU32, setU64, view } from './binary.js';

/** A Linux evdev event as the mailbox carries it (no timestamp: the frame's time is the event time). */
export interface EvdevEvent {
  type: number;
  code: number;
  value: number;
}

export interface Mailbox {
  frame: bigint;
  timeNs: bigint;
  flags: number;
  events: EvdevEvent[];
}

/** Writes a mailbox into `page` (at least MAILBOX_HEADER_SIZE + events); returns the bytes used. */
export function encodeMailboxInto(page: Uint8Array, m: Mailbox): number {
  if (m.events.length > MAILBOX_MAX_EVENTS) {
    throw new ProtocolError('eventCount', `${m.events.length} events do not fit; at most ${MAILBOX_MAX_EVENTS}`);
  }
  const size = MAILBOX_HEADER_SIZE + m.events.length * MAILBOX_EVENT_SIZE;
  requireSize(page, size, 'mailbox');
  const dv = view(page);
  dv.setUint32(0, MAILBOX_MAGIC, true);
  setU32(dv, 4, m.events.length, 'eventCount');
  setU64(dv, 8, m.frame, 'frame');
  setU64(dv, 16, m.timeNs, 'timeNs');
  setU32(dv, 24, m.flags, 'flags');
  dv.setUint32(28, 0, true);
  m.events.forEach((e, i) => {
    const at = MAILBOX_HEADER_SIZE + i * MAILBOX_EVENT_SIZE;
    if (!Number.isInteger(e.type) || e.type < 0 || e.type > 0xffff) throw new ProtocolError('events', `type ${e.type} is not a u16`);
    if (!Number.isInteger(e.code) || e.code < 0 || e.code > 0xffff) throw new ProtocolError('events', `code ${e.code} is not a u16`);
    if (!Number.isInteger(e.value) || e.value < -0x8000_0000 || e.value > 0x7fff_ffff) throw new ProtocolError('events', `value ${e.value} is not an i32`);
    dv.setUint16(at, e.type, true);
    dv.setUint16(at + 2, e.code, true);
    dv.setInt32(at + 4, e.value, true);
  });
  return size;
}

export function encodeMailbox(m: Mailbox): Uint8Array {
  const out = new Uint8Array(MAILBOX_HEADER_SIZE + m.events.length * MAILBOX_EVENT_SIZE);
  encodeMailboxInto(out, m);
  return out;
}

export function decodeMailbox(bytes: Uint8Array): Mailbox {
  requireSize(bytes, MAILBOX_HEADER_SIZE, 'mailbox');
  const dv = view(bytes);
  const magic = dv.getUint32(0, true);
  if (magic !== MAILBOX_MAGIC) throw new ProtocolError('magic', `${hex(magic)} is not ${hex(MAILBOX_MAGIC)} ("mbox")`);
  const count = dv.getUint32(4, true);
  if (count > MAILBOX_MAX_EVENTS) throw new ProtocolError('eventCount', `${count} exceeds ${MAILBOX_MAX_EVENTS}`);
  requireSize(bytes, MAILBOX_HEADER_SIZE + count * MAILBOX_EVENT_SIZE, `mailbox with ${count} events`);
  const events: EvdevEvent[] = [];
  for (let i = 0; i < count; i++) {
    const at = MAILBOX_HEADER_SIZE + i * MAILBOX_EVENT_SIZE;
    events.push({ type: dv.getUint16(at, true), code: dv.getUint16(at + 2, true), value: dv.getInt32(at + 4, true) });
  }
  return { frame: dv.getBigUint64(8, true), timeNs: dv.getBigUint64(16, true), flags: dv.getUint32(24, true), events };
}

// The whole mailbox fits its page.
if (MAILBOX_HEADER_SIZE + MAILBOX_MAX_EVENTS * MAILBOX_EVENT_SIZE > PAGE_SIZE) throw new Error('mailbox layout exceeds a page');
