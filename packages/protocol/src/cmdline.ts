/**
 * The kernel command line: UTF-8 words separated by spaces, each `key=value`
 * or a bare word, at most CMDLINE_MAX bytes, no NUL (its length travels in
 * BootInfo.cmdlineSize instead).
 */
import { ProtocolError } from './errors.js';
import { CMDLINE_MAX } from './layout.js';

export interface CmdlineWord {
  key: string;
  /** The text after the first `=`, or undefined for a bare word. */
  value: string | undefined;
}

/** The bytes the host writes at CMDLINE_ADDR. */
export function encodeCmdline(cmdline: string): Uint8Array {
  const bytes = new TextEncoder().encode(cmdline);
  checkCmdline(bytes);
  return bytes;
}

/** The words of an encoded command line, in order (repeated keys are kept). */
export function parseCmdline(bytes: Uint8Array): CmdlineWord[] {
  checkCmdline(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProtocolError('cmdline', 'is not valid UTF-8');
  }
  return text
    .split(' ')
    .filter((w) => w !== '')
    .map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? { key: w, value: undefined } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
    });
}

function checkCmdline(bytes: Uint8Array): void {
  if (bytes.byteLength > CMDLINE_MAX) {
    throw new ProtocolError('cmdline', `is ${bytes.byteLength} bytes, more than the ${CMDLINE_MAX} allowed`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ProtocolError('cmdline', `contains a NUL byte at offset ${nul}`);
}
