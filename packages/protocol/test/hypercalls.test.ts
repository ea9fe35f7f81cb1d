import test from 'ava';
import {
  CONSOLE_WRITE_HEADER_SIZE,
  ProtocolError,
  checkRange,
  decodeConsoleWriteHeader,
  decodeConsoleWriteSegments,
  encodeConsoleWrite,
  encodeFaultReport,
  exceptionName,
  type FaultReport,
} from '../src/index.js';

test('exceptionName names CPU exceptions, panics and the rest', (t) => {
  t.is(exceptionName(14), '#PF page fault');
  t.is(exceptionName(13), '#GP general protection fault');
  t.is(exceptionName(6), '#UD invalid opcode');
  t.is(exceptionName(256), 'kernel panic');
  t.is(exceptionName(15), 'reserved vector 15');
  t.is(exceptionName(40), 'unknown vector 40');
});

test('checkRange accepts ranges inside RAM, up to its last byte', (t) => {
  t.notThrows(() => checkRange(0n, 4096n, 4096));
  t.notThrows(() => checkRange(4095n, 1n, 4096));
  t.notThrows(() => checkRange(4096n, 0n, 4096));
});

test('checkRange rejects ranges leaving RAM, including u64 wrap-around', (t) => {
  for (const [addr, len] of [
    [4096n, 1n],
    [4095n, 2n],
    [0n, 4097n],
    [0xffff_ffff_ffff_ffffn, 2n],
    [1n, 0xffff_ffff_ffff_ffffn],
    [-1n, 1n],
    [0n, -1n],
  ] as const) {
    const e = t.throws(() => checkRange(addr, len, 4096), { instanceOf: ProtocolError });
    t.is(e?.field, 'range');
  }
});

test('the header and the segments decode separately, as the host reads them', (t) => {
  const bytes = encodeConsoleWrite({
    fd: 2,
    result: -5n,
    segments: [
      { addr: 0x5000n, len: 3n },
      { addr: 0x6000n, len: 4n },
    ],
  });
  const header = decodeConsoleWriteHeader(bytes.subarray(0, CONSOLE_WRITE_HEADER_SIZE));
  t.deepEqual(header, { fd: 2, count: 2, result: -5n });
  t.deepEqual(decodeConsoleWriteSegments(bytes.subarray(CONSOLE_WRITE_HEADER_SIZE), header.count), [
    { addr: 0x5000n, len: 3n },
    { addr: 0x6000n, len: 4n },
  ]);
  t.is(t.throws(() => decodeConsoleWriteSegments(bytes, 0), { instanceOf: ProtocolError })?.field, 'count');
});

test('encoders refuse values that do not fit instead of wrapping them', (t) => {
  const seg = [{ addr: 0n, len: 1n }];
  t.is(
    t.throws(() => encodeConsoleWrite({ fd: 1, result: 1n << 63n, segments: seg }), { instanceOf: ProtocolError })
      ?.field,
    'result',
  );
  t.is(
    t.throws(() => encodeConsoleWrite({ fd: 1, result: 0n, segments: [{ addr: -1n, len: 0n }] }), {
      instanceOf: ProtocolError,
    })?.field,
    'segments',
  );
  const report: FaultReport = {
    vector: 14n,
    errorCode: 0n,
    rip: 1n << 64n,
    cs: 0n,
    rflags: 0n,
    rsp: 0n,
    ss: 0n,
    cr2: 0n,
    cr3: 0n,
    messageAddr: 0n,
    messageLen: 0n,
  };
  t.is(t.throws(() => encodeFaultReport(report), { instanceOf: ProtocolError })?.field, 'rip');
});
