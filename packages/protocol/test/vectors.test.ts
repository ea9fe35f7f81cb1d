import test from 'ava';
import {
  BOOT_INFO_MAGIC,
  BOOT_INFO_VERSION,
  ProtocolError,
  MAILBOX_MAGIC,
  decodeBootInfo,
  decodeConsoleWrite,
  decodeMailbox,
  encodeMailbox,
  type Mailbox,
  decodeFaultReport,
  encodeBootInfo,
  encodeConsoleWrite,
  encodeFaultReport,
  type BootInfo,
  type ConsoleFd,
  type ConsoleWrite,
  type FaultReport,
  decodeTty,
  encodeTty,
  type Tty,
  type TtyOp,
  decodeFsRequest,
  encodeFsRequest,
  type FsRequest,
  type FsOp,
  decodeHostStat,
  encodeHostStat,
  type HostStat,
  decodeHostStatfs,
  encodeHostStatfs,
  type HostStatfs,
} from '../src/index.js';
import { fromHex, int, readVectors, toHex, type ValidCase } from './vector-file.js';

function fieldMap(c: ValidCase): Map<string, string> {
  return new Map(c.fields.filter(([k]) => k !== 'segment' && k !== 'event'));
}

function get(m: Map<string, string>, key: string): string {
  const v = m.get(key);
  if (v === undefined) throw new Error(`missing field ${key}`);
  return v;
}

function bootInfoOf(c: ValidCase): BootInfo {
  const m = fieldMap(c);
  const n = (k: string): number => Number(int(get(m, k)));
  const b = (k: string): bigint => int(get(m, k));
  return {
    ramSize: b('ramSize'),
    freeMemoryStart: b('freeMemoryStart'),
    initramfsAddr: b('initramfsAddr'),
    initramfsSize: b('initramfsSize'),
    cmdlineAddr: b('cmdlineAddr'),
    cmdlineSize: b('cmdlineSize'),
    framebufferAddr: b('framebufferAddr'),
    framebufferWidth: n('framebufferWidth'),
    framebufferHeight: n('framebufferHeight'),
    framebufferStride: n('framebufferStride'),
    framebufferFormat: n('framebufferFormat'),
    mailboxAddr: b('mailboxAddr'),
    bootTimeNs: b('bootTimeNs'),
    randomSeed: fromHex(get(m, 'randomSeed')),
    flags: b('flags'),
    argsAddr: b('argsAddr'),
    argsSize: b('argsSize'),
    ttyRows: n('ttyRows'),
    ttyCols: n('ttyCols'),
  };
}

function consoleWriteOf(c: ValidCase): ConsoleWrite {
  const m = fieldMap(c);
  const segments = c.fields
    .filter(([k]) => k === 'segment')
    .map(([, v]) => {
      const [addr, len] = v.split(' ');
      return { addr: int(addr ?? ''), len: int(len ?? '') };
    });
  return { fd: Number(int(get(m, 'fd'))) as ConsoleFd, result: int(get(m, 'result')), segments };
}

function faultReportOf(c: ValidCase): FaultReport {
  const m = fieldMap(c);
  const b = (k: string): bigint => int(get(m, k));
  return {
    vector: b('vector'),
    errorCode: b('errorCode'),
    rip: b('rip'),
    cs: b('cs'),
    rflags: b('rflags'),
    rsp: b('rsp'),
    ss: b('ss'),
    cr2: b('cr2'),
    cr3: b('cr3'),
    messageAddr: b('messageAddr'),
    messageLen: b('messageLen'),
  };
}

function ttyOf(c: ValidCase): Tty {
  const m = fieldMap(c);
  const n = (k: string): number => Number(int(get(m, k)));
  return {
    op: n('op') as TtyOp,
    action: n('action'),
    result: int(get(m, 'result')),
    timeoutMs: int(get(m, 'timeoutMs')),
    termios: { iflag: n('iflag'), oflag: n('oflag'), cflag: n('cflag'), lflag: n('lflag'), line: n('line'), cc: fromHex(get(m, 'cc')) },
  };
}

function fsRequestOf(c: ValidCase): FsRequest {
  const m = fieldMap(c);
  const n = (k: string): number => Number(int(get(m, k)));
  const b = (k: string): bigint => int(get(m, k));
  return {
    op: n('op') as FsOp, mount: n('mount'), result: b('result'), pathAddr: b('pathAddr'), pathLen: n('pathLen'),
    path2Len: n('path2Len'), path2Addr: b('path2Addr'), bufAddr: b('bufAddr'), bufLen: b('bufLen'), offset: b('offset'),
    flags: n('flags'), mode: n('mode'),
  };
}

function hostStatOf(c: ValidCase): HostStat {
  const m = fieldMap(c);
  const n = (k: string): number => Number(int(get(m, k)));
  const b = (k: string): bigint => int(get(m, k));
  return {
    ino: b('ino'), dev: b('dev'), rdev: b('rdev'), size: b('size'), blocks: b('blocks'), blksize: n('blksize'), mode: n('mode'),
    nlink: n('nlink'), uid: n('uid'), gid: n('gid'), atimeSec: b('atimeSec'), atimeNsec: b('atimeNsec'),
    mtimeSec: b('mtimeSec'), mtimeNsec: b('mtimeNsec'), ctimeSec: b('ctimeSec'), ctimeNsec: b('ctimeNsec'),
  };
}

function hostStatfsOf(c: ValidCase): HostStatfs {
  const m = fieldMap(c);
  const b = (k: string): bigint => int(get(m, k));
  return {
    type: b('type'), bsize: b('bsize'), blocks: b('blocks'), bfree: b('bfree'), bavail: b('bavail'), files: b('files'),
    ffree: b('ffree'), fsid: b('fsid'), namelen: b('namelen'), frsize: b('frsize'), flags: b('flags'),
  };
}

function mailboxOf(c: ValidCase): Mailbox {
  const m = fieldMap(c);
  const events = c.fields
    .filter(([k]) => k === 'event')
    .map(([, v]) => {
      const [type, code, value] = v.split(' ').map(Number);
      return { type: type ?? NaN, code: code ?? NaN, value: value ?? NaN };
    });
  return { frame: int(get(m, 'frame')), timeNs: int(get(m, 'timeNs')), flags: Number(int(get(m, 'flags'))), events };
}

const structs = [
  {
    file: 'boot_info.vec',
    fieldsOf: bootInfoOf,
    encode: (v: unknown) => encodeBootInfo(v as BootInfo),
    decode: decodeBootInfo,
    // Fields the file lists but the decoded value leaves implied.
    implied: (c: ValidCase) => {
      const m = fieldMap(c);
      return int(get(m, 'magic')) === BigInt(BOOT_INFO_MAGIC) && int(get(m, 'version')) === BigInt(BOOT_INFO_VERSION);
    },
  },
  {
    file: 'console_write.vec',
    fieldsOf: consoleWriteOf,
    encode: (v: unknown) => encodeConsoleWrite(v as ConsoleWrite),
    decode: decodeConsoleWrite,
    implied: (c: ValidCase) => int(get(fieldMap(c), 'count')) === BigInt(consoleWriteOf(c).segments.length),
  },
  {
    file: 'fault_report.vec',
    fieldsOf: faultReportOf,
    encode: (v: unknown) => encodeFaultReport(v as FaultReport),
    decode: decodeFaultReport,
    implied: () => true,
  },
  {
    file: 'tty.vec',
    fieldsOf: ttyOf,
    encode: (v: unknown) => encodeTty(v as Tty),
    decode: decodeTty,
    implied: () => true,
  },
  {
    file: 'fs_request.vec',
    fieldsOf: fsRequestOf,
    encode: (v: unknown) => encodeFsRequest(v as FsRequest),
    decode: decodeFsRequest,
    implied: () => true,
  },
  {
    file: 'fs_stat.vec',
    fieldsOf: hostStatOf,
    encode: (v: unknown) => encodeHostStat(v as HostStat),
    decode: decodeHostStat,
    implied: () => true,
  },
  {
    file: 'fs_statfs.vec',
    fieldsOf: hostStatfsOf,
    encode: (v: unknown) => encodeHostStatfs(v as HostStatfs),
    decode: decodeHostStatfs,
    implied: () => true,
  },
  {
    file: 'mailbox.vec',
    fieldsOf: mailboxOf,
    encode: (v: unknown) => encodeMailbox(v as Mailbox),
    decode: decodeMailbox,
    implied: (c: ValidCase) =>
      int(get(fieldMap(c), 'magic')) === BigInt(MAILBOX_MAGIC) && int(get(fieldMap(c), 'eventCount')) === BigInt(mailboxOf(c).events.length),
  },
];

for (const s of structs) {
  const { valid, invalid } = readVectors(s.file);

  test(`${s.file} has valid and invalid cases`, (t) => {
    t.true(valid.length >= 3);
    t.true(invalid.length >= 3);
  });

  for (const c of valid) {
    test(`${s.file} ${c.name}: encodes to its bytes and decodes back`, (t) => {
      const value = s.fieldsOf(c);
      t.true(s.implied(c));
      t.is(toHex(s.encode(value)), toHex(c.bytes));
      t.deepEqual(s.decode(c.bytes), value);
    });
  }

  for (const c of invalid) {
    test(`${s.file} invalid ${c.name}: rejected naming ${c.error}`, (t) => {
      const e = t.throws(() => s.decode(c.bytes), { instanceOf: ProtocolError });
      t.is(e?.field, c.error);
    });
  }
}
