import test from 'ava';
import fc from 'fast-check';
import {
  ARGS_MAX, ProtocolError, decodeArgsBlock, decodeCopy, decodeLog, decodeTrace, decodeIoVecHeader,
  encodeArgsBlock, encodeClock, encodeCopy, encodeLog, encodeTrace, encodeConsoleWrite,
} from '../src/index.js';

test('Copy round-trips and refuses unknown flags', (t) => {
  const c = { dst: 0x1000n, src: 0x2000_0000n, len: 4096n, flags: 1n };
  t.deepEqual(decodeCopy(encodeCopy(c)), c);
  const bad = encodeCopy({ ...c, flags: 2n });
  t.throws(() => decodeCopy(bad), { instanceOf: ProtocolError, message: /flags/ });
});

test('Clock is two little-endian u64', (t) => {
  t.deepEqual([...encodeClock({ realtimeNs: 1n, monotonicNs: 0x0102n })], [1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]);
});

test('Trace round-trips with a negative result', (t) => {
  const tr = { nr: 2n, args: [1n, 2n, 3n, 4n, 5n, 0xffff_ffff_ffff_ffffn], result: -2n };
  t.deepEqual(decodeTrace(encodeTrace(tr)), tr);
});

test('Log: kind and length are checked', (t) => {
  t.deepEqual(decodeLog(encodeLog({ kind: 1, len: 12, addr: 0x5000n })), { kind: 1, len: 12, addr: 0x5000n });
  t.throws(() => decodeLog(encodeLog({ kind: 1, len: 4097, addr: 0n })), { message: /len/ });
  const b = encodeLog({ kind: 1, len: 1, addr: 0n });
  b[0] = 7;
  t.throws(() => decodeLog(b), { message: /kind/ });
});

test('IoVec header: each port names the fds it accepts', (t) => {
  const req = encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: 0n, len: 1n }] });
  t.is(decodeIoVecHeader(req, [1, 2]).fd, 1);
  t.throws(() => decodeIoVecHeader(req, [0]), { instanceOf: ProtocolError, message: /fd: 1 is not 0/ });
});

test('args block round-trips argv and envp, UTF-8 included', (t) => {
  const a = { argv: ['busybox', 'echo', 'héllo wörld', ''], envp: ['PATH=/bin', 'EMPTY='] };
  t.deepEqual(decodeArgsBlock(encodeArgsBlock(a)), a);
});

test('args block: refuses NUL, no argv[0], non KEY=VALUE env, and E2BIG', (t) => {
  t.throws(() => encodeArgsBlock({ argv: ['a\0b'], envp: [] }), { message: /NUL/ });
  t.throws(() => encodeArgsBlock({ argv: [], envp: [] }), { message: /argv\[0\]/ });
  t.throws(() => encodeArgsBlock({ argv: ['a'], envp: ['NOEQUALS'] }), { message: /KEY=VALUE/ });
  t.throws(() => encodeArgsBlock({ argv: ['a', 'x'.repeat(ARGS_MAX)], envp: [] }), { message: /E2BIG/ });
});

test('property: decoders of the new structs return a value or throw ProtocolError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      for (const decode of [decodeCopy, decodeTrace, decodeLog, decodeArgsBlock]) {
        try {
          decode(bytes);
        } catch (e) {
          if (!(e instanceof ProtocolError)) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});
