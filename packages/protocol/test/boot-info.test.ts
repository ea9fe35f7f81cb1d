import test from 'ava';
import { BOOT_INFO_SIZE, ProtocolError, decodeBootInfo, encodeBootInfo, type BootInfo } from '../src/index.js';

const info: BootInfo = {
  ramSize: 0x1000_0000n,
  freeMemoryStart: 0x200_0000n,
  initramfsAddr: 0n,
  initramfsSize: 0n,
  cmdlineAddr: 0x4000n,
  cmdlineSize: 0n,
  framebufferAddr: 0n,
  framebufferWidth: 0,
  framebufferHeight: 0,
  framebufferStride: 0,
  framebufferFormat: 0,
  mailboxAddr: 0n,
  bootTimeNs: 0n,
  randomSeed: new Uint8Array(32),
  flags: 0n,
  argsAddr: 0x8000n,
  argsSize: 24n,
  ttyRows: 24,
  ttyCols: 80,
};

test('decodes from a larger buffer (the boot info page) and copies the seed', (t) => {
  const page = new Uint8Array(4096);
  page.set(encodeBootInfo(info));
  const decoded = decodeBootInfo(page);
  t.deepEqual(decoded, info);
  page[96] = 1;
  t.is(decoded.randomSeed[0], 0);
});

test('encodes to 160 bytes and refuses a seed that is not 32 bytes', (t) => {
  t.is(encodeBootInfo(info).length, BOOT_INFO_SIZE);
  const e = t.throws(() => encodeBootInfo({ ...info, randomSeed: new Uint8Array(31) }), { instanceOf: ProtocolError });
  t.is(e?.field, 'randomSeed');
});

test('refuses u32 fields that are not u32', (t) => {
  for (const framebufferWidth of [-1, 0x1_0000_0000, 1.5, NaN]) {
    const e = t.throws(() => encodeBootInfo({ ...info, framebufferWidth }), { instanceOf: ProtocolError });
    t.is(e?.field, 'framebufferWidth');
  }
});

test('the window size is two u16s at 152 and 154', (t) => {
  const bytes = encodeBootInfo({ ...info, ttyRows: 0x1234, ttyCols: 0xfffe });
  t.deepEqual([...bytes.subarray(152, 156)], [0x34, 0x12, 0xfe, 0xff]);
  for (const ttyRows of [-1, 0x1_0000, 2.5]) {
    const e = t.throws(() => encodeBootInfo({ ...info, ttyRows }), { instanceOf: ProtocolError });
    t.is(e?.field, 'ttyRows');
  }
});

test('ignores reserved bytes, so a later version may use them', (t) => {
  const bytes = encodeBootInfo(info);
  bytes[159] = 0xff;
  t.deepEqual(decodeBootInfo(bytes), info);
});
