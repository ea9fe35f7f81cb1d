import test from 'ava';
import { GuestMemoryError } from '../src/errors.js';
import { GuestMemory } from '../src/memory.js';

const SIZE = 64 * 1024;

test('allocate: zero-filled, size checked', (t) => {
  const m = GuestMemory.allocate(SIZE);
  t.is(m.size, SIZE);
  t.true(m.read(0, SIZE).every((b) => b === 0));
  t.true(m.hostAddr > 0n && m.hostAddr % 4096n === 0n);
  m.free();
  for (const bad of [0, -4096, 100, 4097, Number.NaN, 1.5 * 4096]) {
    t.throws(() => GuestMemory.allocate(bad), { instanceOf: RangeError }, String(bad));
  }
});

test('contains: bounds for any numbers', (t) => {
  const m = GuestMemory.allocate(SIZE);
  t.teardown(() => m.free());
  t.true(m.contains(0, SIZE));
  t.true(m.contains(SIZE - 1, 1));
  t.true(m.contains(SIZE, 0), 'an empty range at the end is inside');
  t.true(m.contains(0, 0));
  const outside: [number, number][] = [
    [SIZE, 1], [SIZE - 1, 2], [-1, 1], [0, -1], [-1, 0], [0, SIZE + 1],
    [Number.NaN, 1], [0, Number.NaN], [Infinity, 0], [0, Infinity], [-Infinity, 1],
    [0.5, 1], [0, 0.5], [Number.MAX_SAFE_INTEGER, 1], [1, Number.MAX_SAFE_INTEGER],
    [2 ** 64, 0], [SIZE + 1, -1],
  ];
  for (const [a, l] of outside) t.false(m.contains(a, l), `${a}, ${l}`);
});

test('accessors throw GuestMemoryError outside, with addr, len and size', (t) => {
  const m = GuestMemory.allocate(SIZE);
  t.teardown(() => m.free());
  const e = t.throws(() => m.view(SIZE - 2, 4), { instanceOf: GuestMemoryError });
  t.like(e, { addr: SIZE - 2, len: 4, size: SIZE });
  t.throws(() => m.readU32(SIZE - 3), { instanceOf: GuestMemoryError });
  t.throws(() => m.readU64(-8), { instanceOf: GuestMemoryError });
  t.throws(() => m.writeU64(SIZE - 7, 1n), { instanceOf: GuestMemoryError });
  t.throws(() => m.writeU32(Number.NaN, 1), { instanceOf: GuestMemoryError });
  t.throws(() => m.write(SIZE - 1, new Uint8Array(2)), { instanceOf: GuestMemoryError });
  t.throws(() => m.read(2 ** 53, 1), { instanceOf: GuestMemoryError });
  t.is(m.view(SIZE, 0).length, 0);
});

test('read/write and little-endian integers at the end of memory', (t) => {
  const m = GuestMemory.allocate(SIZE);
  t.teardown(() => m.free());
  m.writeU64(SIZE - 8, 0x1122_3344_5566_7788n);
  t.is(m.readU64(SIZE - 8), 0x1122_3344_5566_7788n);
  t.is(m.readU32(SIZE - 8), 0x5566_7788);
  m.writeU32(0, 0xdead_beef);
  t.deepEqual([...m.read(0, 4)], [0xef, 0xbe, 0xad, 0xde]);
  m.write(100, Buffer.from('hello'));
  t.is(m.read(100, 5).toString(), 'hello');
});

test('view is zero-copy, read is a copy', (t) => {
  const m = GuestMemory.allocate(SIZE);
  t.teardown(() => m.free());
  const v = m.view(0x100, 16);
  v[0] = 0xaa;
  t.is(m.readU32(0x100) & 0xff, 0xaa);
  m.writeU32(0x104, 7);
  t.is(v.readUInt32LE(4), 7);
  const c = m.read(0x100, 16);
  c[0] = 0;
  t.is(v[0], 0xaa);
});

test('free: later use throws, free is idempotent', (t) => {
  const m = GuestMemory.allocate(SIZE);
  m.free();
  m.free();
  t.throws(() => m.view(0, 1), { instanceOf: GuestMemoryError, message: /free/ });
  t.throws(() => m.readU32(0), { instanceOf: GuestMemoryError });
  t.throws(() => m.write(0, new Uint8Array(1)), { instanceOf: GuestMemoryError });
  t.throws(() => m.hostAddr, { instanceOf: GuestMemoryError });
});
