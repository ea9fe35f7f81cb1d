/** handleExit is pure: made-up exits and a fake RAM, no /dev/kvm. */
import test from 'ava';
import fc from 'fast-check';
import type { Exit } from '@kvmos/kvm';
import { encodeConsoleWrite, encodeCopy, encodeFaultReport, encodeLog, encodeTrace, encodeTty, PORT, TTY_OP } from '@kvmos/protocol';
import { handleExit, type GuestMemoryReader } from '../src/index.js';

function fakeRam(size = 1 << 20): GuestMemoryReader & { buf: Buffer } {
  const buf = Buffer.alloc(size);
  return {
    buf,
    size,
    view(addr: number, len: number) {
      if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > size) {
        throw new RangeError(`fake RAM: ${addr}+${len}`);
      }
      return buf.subarray(addr, addr + len);
    },
  };
}

function out(port: number, value: number): Exit {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value >>> 0);
  return { reason: 'io', direction: 'out', port, size: 4, count: 1, data };
}

test('exit port: the code', (t) => {
  t.deepEqual(handleExit(out(PORT.exit, 7), fakeRam()), { kind: 'hypercall', call: { kind: 'exit', code: 7 } });
});

test('console write: gathers the segments, in order, from RAM', (t) => {
  const ram = fakeRam();
  ram.buf.write('hello, ', 0x5000);
  ram.buf.write('world\n', 0x9000);
  ram.buf.set(encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: 0x5000n, len: 7n }, { addr: 0x9000n, len: 6n }] }), 0x2000);
  const a = handleExit(out(PORT.console, 0x2000), ram);
  if (a.kind !== 'hypercall' || a.call.kind !== 'console') return t.fail(JSON.stringify(a));
  t.is(a.call.fd, 1);
  t.is(Buffer.concat(a.call.chunks).toString(), 'hello, world\n');
  t.is(a.call.resultAddr, 0x2008);
});

test('console write with a segment outside RAM is refused, not read', (t) => {
  const ram = fakeRam();
  ram.buf.set(encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: BigInt(ram.size - 4), len: 8n }] }), 0x2000);
  const a = handleExit(out(PORT.console, 0x2000), ram);
  t.is(a.kind, 'stop');
  if (a.kind === 'stop' && a.error.type === 'bad-request') t.regex(a.error.message, /console/);
  else t.fail(JSON.stringify(a));
});

test('a request struct that is itself outside RAM is refused', (t) => {
  const a = handleExit(out(PORT.console, 0xffff_fff8), fakeRam());
  t.like(a, { kind: 'stop', error: { type: 'bad-request' } });
});

test('fault report with its message', (t) => {
  const ram = fakeRam();
  ram.buf.write('boom', 0x3000);
  ram.buf.set(
    encodeFaultReport({
      vector: 256n, errorCode: 0n, rip: 0xffffffff80101000n, cs: 0x10n, rflags: 2n, rsp: 0x1000n, ss: 0x18n,
      cr2: 0n, cr3: 0x10000n, messageAddr: 0x3000n, messageLen: 4n,
    }),
    0x2000,
  );
  const a = handleExit(out(PORT.fault, 0x2000), ram);
  t.like(a, { kind: 'hypercall', call: { kind: 'fault', message: 'boom' } });
});

test('unknown port, in, and odd sizes stop the guest with the port named', (t) => {
  t.like(handleExit(out(0x1234, 1), fakeRam()), { kind: 'stop', error: { type: 'bad-request' } });
  const inExit: Exit = { reason: 'io', direction: 'in', port: 0x60, size: 1, count: 1, data: Buffer.alloc(1) };
  const a = handleExit(inExit, fakeRam());
  if (a.kind === 'stop' && a.error.type === 'bad-request') t.regex(a.error.message, /0x60/);
  else t.fail();
  const byteOut: Exit = { reason: 'io', direction: 'out', port: PORT.exit, size: 1, count: 1, data: Buffer.alloc(1) };
  t.like(handleExit(byteOut, fakeRam()), { kind: 'stop', error: { type: 'bad-request' } });
});

test('every other exit stops the guest with its kind', (t) => {
  const ram = fakeRam();
  t.like(handleExit({ reason: 'hlt' }, ram), { kind: 'stop', error: { type: 'halted' } });
  t.like(handleExit({ reason: 'shutdown' }, ram), { kind: 'stop', error: { type: 'shutdown' } });
  t.like(handleExit({ reason: 'internal-error', suberror: 1, data: [] }, ram), { kind: 'stop', error: { type: 'internal-error', suberror: 1 } });
  t.like(handleExit({ reason: 'mmio', physAddr: 0xfee00000n, len: 4, isWrite: true, data: Buffer.alloc(8) }, ram), { kind: 'stop', error: { type: 'mmio' } });
  t.like(handleExit({ reason: 'unknown', code: 99 }, ram), { kind: 'stop', error: { type: 'unexpected-exit' } });
});

test('property: any port write with any value either decodes or stops; never throws', (t) => {
  const ram = fakeRam(1 << 16);
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(PORT), 0x3f8), fc.nat(0xffff_ffff), fc.uint8Array({ maxLength: 256 }), (port, value, junk) => {
      ram.buf.fill(0);
      ram.buf.set(junk, value % ram.size > ram.size - 256 ? 0 : value % ram.size);
      const a = handleExit(out(port, value), ram);
      return a.kind === 'hypercall' || a.kind === 'stop';
    }),
  );
  t.pass();
});

test('copy: both ranges must be in RAM; zero-fill ignores src', (t) => {
  const ram = fakeRam();
  ram.buf.set(encodeCopy({ dst: 0x8000n, src: 0x9000n, len: 16n, flags: 0n }), 0x2000);
  t.deepEqual(handleExit(out(PORT.copy, 0x2000), ram), { kind: 'hypercall', call: { kind: 'copy', dst: 0x8000, src: 0x9000, len: 16 } });
  ram.buf.set(encodeCopy({ dst: 0x8000n, src: 0xffff_ffff_0000n, len: 16n, flags: 1n }), 0x2000);
  t.deepEqual(handleExit(out(PORT.copy, 0x2000), ram), { kind: 'hypercall', call: { kind: 'copy', dst: 0x8000, src: undefined, len: 16 } });
  ram.buf.set(encodeCopy({ dst: BigInt(ram.size - 8), src: 0n, len: 16n, flags: 0n }), 0x2000);
  t.like(handleExit(out(PORT.copy, 0x2000), ram), { kind: 'stop', error: { type: 'bad-request' } });
  ram.buf.set(encodeCopy({ dst: 0n, src: 0xffff_ffff_ffff_fff0n, len: 0x20n, flags: 0n }), 0x2000);
  t.like(handleExit(out(PORT.copy, 0x2000), ram), { kind: 'stop', error: { type: 'bad-request' } });
});

test('consoleRead and random take fd 0 only', (t) => {
  const ram = fakeRam();
  ram.buf.set(encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: 0x8000n, len: 4n }] }), 0x2000);
  t.like(handleExit(out(PORT.consoleRead, 0x2000), ram), { kind: 'stop', error: { type: 'bad-request' } });
  const req = encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: 0x8000n, len: 4n }] });
  req[0] = 0;
  ram.buf.set(req, 0x2000);
  const a = handleExit(out(PORT.random, 0x2000), ram);
  if (a.kind !== 'hypercall' || a.call.kind !== 'random') return t.fail(JSON.stringify(a));
  t.is(a.call.chunks[0]?.length, 4);
});

test('log, trace and unknownSyscall decode; a log message outside RAM is refused', (t) => {
  const ram = fakeRam();
  ram.buf.write('Segmentation fault', 0x6000);
  ram.buf.set(encodeLog({ kind: 1, len: 18, addr: 0x6000n }), 0x2000);
  t.like(handleExit(out(PORT.log, 0x2000), ram), { kind: 'hypercall', call: { kind: 'log', logKind: 1, message: 'Segmentation fault' } });
  ram.buf.set(encodeLog({ kind: 1, len: 18, addr: BigInt(ram.size - 4) }), 0x2000);
  t.like(handleExit(out(PORT.log, 0x2000), ram), { kind: 'stop', error: { type: 'bad-request' } });
  ram.buf.set(encodeTrace({ nr: 39n, args: [0n, 0n, 0n, 0n, 0n, 0n], result: 1n }), 0x2000);
  t.like(handleExit(out(PORT.trace, 0x2000), ram), { kind: 'hypercall', call: { kind: 'trace', trace: { nr: 39n, result: 1n } } });
  t.deepEqual(handleExit(out(PORT.unknownSyscall, 444), ram), { kind: 'hypercall', call: { kind: 'unknownSyscall', nr: 444 } });
});

test('tty decodes its request with the result address; bad ones and unaligned or outside RAM are refused', (t) => {
  const ram = fakeRam();
  const termios = { iflag: 0x500, oflag: 5, cflag: 0xbf, lflag: 0x8a30, line: 0, cc: new Uint8Array(19).fill(1) };
  ram.buf.set(encodeTty({ op: TTY_OP.setModes, action: 2, result: 0n, timeoutMs: 0n, termios }), 0x2000);
  t.like(handleExit(out(PORT.tty, 0x2000), ram), {
    kind: 'hypercall',
    call: { kind: 'tty', resultAddr: 0x2008, tty: { op: 0, action: 2, termios: { lflag: 0x8a30 } } },
  });
  ram.buf.set(encodeTty({ op: TTY_OP.waitInput, action: 0, result: 0n, timeoutMs: -1n, termios: { ...termios, cc: new Uint8Array(19) } }), 0x2000);
  t.like(handleExit(out(PORT.tty, 0x2000), ram), { kind: 'hypercall', call: { kind: 'tty', tty: { op: 1, timeoutMs: -1n } } });
  ram.buf.writeUInt32LE(3, 0x2004); // waitInput with an action
  t.like(handleExit(out(PORT.tty, 0x2000), ram), { kind: 'stop', error: { type: 'bad-request' } });
  t.like(handleExit(out(PORT.tty, 0x2004), ram), { kind: 'stop', error: { type: 'bad-request' } });
  t.like(handleExit(out(PORT.tty, ram.size - 32), ram), { kind: 'stop', error: { type: 'bad-request' } });
});
