/**
 * linux-exec's args block (docs/protocol.md): `u32 argc, u32 envc`, then
 * argc + envc NUL-terminated strings. The kernel copies it onto the new
 * program's stack as argv and envp.
 */
import { ARGS_MAX } from './layout.js';
import { ProtocolError } from './errors.js';
import { requireSize, view } from './binary.js';

export interface ProgramArgs {
  argv: string[];
  envp: string[];
}

export function encodeArgsBlock({ argv, envp }: ProgramArgs): Uint8Array {
  if (argv.length === 0) throw new ProtocolError('argc', 'a program needs at least argv[0]');
  const enc = new TextEncoder();
  const strings = [...argv, ...envp].map((s, i) => {
    if (s.includes('\0')) throw new ProtocolError(i < argv.length ? 'argv' : 'envp', `${JSON.stringify(s)} contains NUL`);
    return enc.encode(s);
  });
  envp.forEach((e) => {
    if (!e.includes('=')) throw new ProtocolError('envp', `${JSON.stringify(e)} is not KEY=VALUE`);
  });
  const size = 8 + strings.reduce((n, s) => n + s.length + 1, 0);
  if (size > ARGS_MAX) {
    throw new ProtocolError('size', `arguments and environment take ${size} bytes; at most ${ARGS_MAX} fit (like Linux's E2BIG)`);
  }
  const out = new Uint8Array(size);
  const dv = view(out);
  dv.setUint32(0, argv.length, true);
  dv.setUint32(4, envp.length, true);
  let at = 8;
  for (const s of strings) {
    out.set(s, at);
    at += s.length + 1;
  }
  return out;
}

export function decodeArgsBlock(bytes: Uint8Array): ProgramArgs {
  requireSize(bytes, 8, 'args block');
  if (bytes.length > ARGS_MAX) throw new ProtocolError('size', `${bytes.length} exceeds ${ARGS_MAX}`);
  const dv = view(bytes);
  const argc = dv.getUint32(0, true);
  const envc = dv.getUint32(4, true);
  if (argc === 0) throw new ProtocolError('argc', 'a program needs at least argv[0]');
  const dec = new TextDecoder('utf-8', { fatal: false });
  const strings: string[] = [];
  let at = 8;
  for (let i = 0; i < argc + envc; i++) {
    const end = bytes.indexOf(0, at);
    if (end < 0) throw new ProtocolError(i < argc ? 'argv' : 'envp', `string ${i} has no NUL before the end`);
    strings.push(dec.decode(bytes.subarray(at, end)));
    at = end + 1;
  }
  return { argv: strings.slice(0, argc), envp: strings.slice(argc) };
}
