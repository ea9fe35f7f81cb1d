/**
 * Where the guest images are: `guest/build.sh` writes each kernel ELF to
 * guest/target/kvmos/<name>. KVMOS_GUEST_DIR points elsewhere.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { InputFileError } from './errors.js';

/** The guests this command knows by name, with a line for --help. */
export const GUESTS: Record<string, string> = {
  hello: 'a greeting from ring 0, then sqrt(3*3 + 4*4) computed with SSE in ring 3',
  'linux-exec': 'runs a static Linux program in ring 3: kvmos linux-exec --help',
};

export function guestDir(): string {
  return process.env.KVMOS_GUEST_DIR ?? fileURLToPath(new URL('../../../../guest/target/kvmos/', import.meta.url));
}

export function imagePath(name: string): string {
  return join(guestDir(), name);
}

/** Reads a kernel image, turning every failure into an InputFileError that says what to do. */
/** `named`: the path came from a guest name, so a missing file means an unbuilt guest. */
export function readImage(path: string, named = false): Uint8Array {
  const full = resolve(path);
  try {
    const st = statSync(full);
    if (!st.isFile()) throw new InputFileError(full, 'not a regular file', 'pass a kernel ELF image');
    return readFileSync(full);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new InputFileError(
        full,
        'no such file',
        named ? 'build the guests first: pnpm build (or bash guest/build.sh)' : 'check the path',
      );
    }
    if (code === 'EACCES') throw new InputFileError(full, 'permission denied', 'make it readable');
    throw new InputFileError(full, `cannot read (${code ?? String(e)})`, 'check the path');
  }
}
