import test from 'ava';
import fc from 'fast-check';
import {
  KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT,
  KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN, KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_RESET,
} from '../src/constants.js';
import { ExitDecodeError } from '../src/errors.js';
import { decodeExit } from '../src/exits.js';
import { RUN } from '../src/structs.js';

const o = RUN.offsets;
const PIO_OFFSET = 4096; // where KVM puts port I/O data: the page after kvm_run

function page(reason: number, size = 3 * 4096): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(reason, o.exit_reason);
  return b;
}

function io(dir: number, size: number, port: number, count: number, offset: bigint, len?: number): Buffer {
  const b = page(KVM_EXIT_IO, len);
  b.writeUInt8(dir, o['io.direction']);
  b.writeUInt8(size, o['io.size']);
  b.writeUInt16LE(port, o['io.port']);
  b.writeUInt32LE(count, o['io.count']);
  b.writeBigUInt64LE(offset, o['io.data_offset']);
  return b;
}

test('io out: port, size, count and a zero-copy data view', (t) => {
  const b = io(KVM_EXIT_IO_OUT, 4, 0x400, 1, BigInt(PIO_OFFSET));
  b.writeUInt32LE(42, PIO_OFFSET);
  const e = decodeExit(b);
  if (e.reason !== 'io') return t.fail(e.reason);
  t.like(e, { direction: 'out', port: 0x400, size: 4, count: 1 });
  t.is(e.data.readUInt32LE(0), 42);
  t.is(e.data.length, 4);
  t.is(e.data.buffer, b.buffer, 'data shares memory with the run page');
});

test('io in: writing data answers into the run page; rep count multiplies length', (t) => {
  const b = io(KVM_EXIT_IO_IN, 2, 0x60, 3, BigInt(PIO_OFFSET));
  const e = decodeExit(b);
  if (e.reason !== 'io') return t.fail(e.reason);
  t.is(e.direction, 'in');
  t.is(e.data.length, 6);
  e.data.writeUInt16LE(0xbeef, 4);
  t.is(b.readUInt16LE(PIO_OFFSET + 4), 0xbeef);
});

test('io data reaching exactly the end of the mapping is accepted', (t) => {
  const b = io(KVM_EXIT_IO_OUT, 4, 1, 2, BigInt(3 * 4096 - 8));
  const e = decodeExit(b);
  t.is(e.reason, 'io');
});

test('bad io fields give ExitDecodeError, not an out-of-range read', (t) => {
  const bad: [string, Buffer][] = [
    ['offset past the end', io(KVM_EXIT_IO_OUT, 4, 1, 1, 3n * 4096n - 3n)],
    ['huge offset', io(KVM_EXIT_IO_OUT, 1, 1, 1, 2n ** 64n - 1n)],
    ['count beyond the page', io(KVM_EXIT_IO_OUT, 4, 1, 0xffff_ffff, BigInt(PIO_OFFSET))],
    ['offset in a 4096-byte page', io(KVM_EXIT_IO_OUT, 1, 1, 1, 4096n, 4096)],
    ['size 3', io(KVM_EXIT_IO_OUT, 3, 1, 1, BigInt(PIO_OFFSET))],
    ['direction 2', io(2, 1, 1, 1, BigInt(PIO_OFFSET))],
  ];
  for (const [what, b] of bad) {
    const err = t.throws(() => decodeExit(b), { instanceOf: ExitDecodeError }, what);
    t.is(err?.exitReason, KVM_EXIT_IO);
  }
});

test('mmio: address, length, direction and data view', (t) => {
  const b = page(KVM_EXIT_MMIO);
  b.writeBigUInt64LE(0xfee0_0000n, o['mmio.phys_addr']);
  b.writeUInt32LE(4, o['mmio.len']);
  b.writeUInt8(1, o['mmio.is_write']);
  b.writeUInt32LE(0x1234, o['mmio.data']);
  const e = decodeExit(b);
  if (e.reason !== 'mmio') return t.fail(e.reason);
  t.like(e, { physAddr: 0xfee0_0000n, len: 4, isWrite: true });
  t.is(e.data.readUInt32LE(0), 0x1234);
  b.writeUInt32LE(9, o['mmio.len']);
  t.throws(() => decodeExit(b), { instanceOf: ExitDecodeError });
});

test('hlt, shutdown and unknown', (t) => {
  t.deepEqual(decodeExit(page(KVM_EXIT_HLT)), { reason: 'hlt' });
  t.deepEqual(decodeExit(page(KVM_EXIT_SHUTDOWN)), { reason: 'shutdown' });
  t.deepEqual(decodeExit(page(99)), { reason: 'unknown', code: 99 });
});

test('internal error: suberror and ndata words', (t) => {
  const b = page(KVM_EXIT_INTERNAL_ERROR);
  b.writeUInt32LE(1, o['internal.suberror']);
  b.writeUInt32LE(2, o['internal.ndata']);
  b.writeBigUInt64LE(7n, o['internal.data']);
  b.writeBigUInt64LE(8n, o['internal.data'] + 8);
  t.deepEqual(decodeExit(b), { reason: 'internal-error', suberror: 1, data: [7n, 8n] });
  b.writeUInt32LE(17, o['internal.ndata']);
  t.throws(() => decodeExit(b), { instanceOf: ExitDecodeError });
});

test('fail entry and system event', (t) => {
  const f = page(KVM_EXIT_FAIL_ENTRY);
  f.writeBigUInt64LE(0x80000021n, o['fail_entry.hardware_entry_failure_reason']);
  f.writeUInt32LE(3, o['fail_entry.cpu']);
  t.deepEqual(decodeExit(f), { reason: 'fail-entry', hardwareEntryFailureReason: 0x80000021n, cpu: 3 });

  const s = page(KVM_EXIT_SYSTEM_EVENT);
  s.writeUInt32LE(KVM_SYSTEM_EVENT_RESET, o['system_event.type']);
  s.writeUInt32LE(1, o['system_event.ndata']);
  s.writeBigUInt64LE(5n, o['system_event.data']);
  t.deepEqual(decodeExit(s), { reason: 'system-event', type: KVM_SYSTEM_EVENT_RESET, flags: [5n] });
  s.writeUInt32LE(1000, o['system_event.ndata']);
  t.throws(() => decodeExit(s), { instanceOf: ExitDecodeError });
});

test('a page shorter than the kvm_run header is refused', (t) => {
  t.throws(() => decodeExit(Buffer.alloc(100)), { instanceOf: ExitDecodeError });
  t.throws(() => decodeExit(Buffer.alloc(0)), { instanceOf: ExitDecodeError });
});

test('property: random pages decode or throw ExitDecodeError, views stay inside the page', (t) => {
  const reasons = fc.constantFrom(
    KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_INTERNAL_ERROR,
    KVM_EXIT_FAIL_ENTRY, KVM_EXIT_SYSTEM_EVENT, 0, 99,
  );
  // Mostly-random bytes, with the exit reason forced to interesting values half the time.
  const pages = fc
    .tuple(
      fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
      fc.option(reasons),
      fc.option(fc.integer({ min: 0, max: 4200 })),
      fc.option(fc.integer({ min: 0, max: 64 })),
    )
    .map(([bytes, reason, offset, count]) => {
      const b = Buffer.from(bytes);
      if (reason !== null) b.writeUInt32LE(reason, o.exit_reason);
      if (offset !== null) b.writeBigUInt64LE(BigInt(offset), o['io.data_offset']);
      if (count !== null) b.writeUInt32LE(count, o['io.count']);
      return b;
    });
  fc.assert(
    fc.property(pages, (b) => {
      let e;
      try {
        e = decodeExit(b);
      } catch (err) {
        t.true(err instanceof ExitDecodeError, String(err));
        return;
      }
      if ('data' in e && Buffer.isBuffer(e.data)) {
        t.is(e.data.buffer, b.buffer);
        t.true(e.data.byteOffset >= b.byteOffset && e.data.byteOffset + e.data.length <= b.byteOffset + b.length);
      }
    }),
    { numRuns: 2000 },
  );
});
