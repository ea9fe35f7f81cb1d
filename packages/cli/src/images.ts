/**
 * Where the guest images are: `guest/build.sh` writes each kernel ELF to
 * guest/target/kvmos/<name>; the package ships copies in dist/guests/.
 * KVMOS_GUEST_DIR points elsewhere.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { buildCpio } from '@kvmos/loader';
import { InputFileError } from './errors.js';

/** The guests this command knows by name, with a line for --help. */
export const GUESTS: Record<string, string> = {
  hello: 'a greeting from ring 0, then sqrt(3*3 + 4*4) computed with SSE in ring 3',
  'linux-exec': 'runs a static Linux program in ring 3: kvmos linux-exec --help',
  fbtest: 'a display test pattern: a square follows the pointer, C changes its colour',
  torus: 'a spinning shaded torus drawn in ring 3 by a Linux program through /dev/fb0',
  paint: 'paint with the mouse (a Linux program in ring 3: /dev/fb0, /dev/input/event0)',
};

/** Guests that draw: they get a screen (a window, or --headless) without asking. */
export const DISPLAY_GUESTS: ReadonlySet<string> = new Set(['fbtest', 'torus', 'paint']);

/**
 * Guests that run one ring-3 Linux program, `/bin/<name>` of their
 * initramfs, built by guest/apps/build.sh to guest/target/kvmos/apps/<name>.
 */
export const APP_GUESTS: ReadonlySet<string> = new Set(['torus', 'paint']);

/** The initramfs of an app guest: `/bin/<name>` (mode 0755) from the apps build. */
export function appInitramfs(name: string): Uint8Array {
  const path = join(guestDir(), 'apps', name);
  const full = resolve(path);
  let data: Uint8Array;
  try {
    data = readFileSync(full);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new InputFileError(full, 'no such file', 'build the ring-3 apps first: bash guest/apps/build.sh (or pnpm build)');
    }
    throw new InputFileError(full, `cannot read (${code ?? String(e)})`, 'check the path');
  }
  return buildCpio([
    { kind: 'dir', path: 'bin', mode: 0o755 },
    { kind: 'file', path: `bin/${name}`, data, mode: 0o755 },
  ]);
}

/**
 * KVMOS_GUEST_DIR if set; else, in a checkout, guest/target/kvmos/ (what
 * guest/build.sh last built, so a rebuilt kernel is used at once); else the
 * images the package ships in dist/guests/ (copied there by
 * scripts/bundle.mjs: an installed `kvmos` needs no checkout and no Rust).
 * dist/src/images.js and dist/bundle/kvmos.js sit at the same depth, so
 * both find the same directories.
 */
export function guestDir(): string {
  if (process.env.KVMOS_GUEST_DIR !== undefined) return process.env.KVMOS_GUEST_DIR;
  const checkout = fileURLToPath(new URL('../../../../guest/target/kvmos/', import.meta.url));
  const shipped = fileURLToPath(new URL('../guests/', import.meta.url));
  return existsSync(checkout) || !existsSync(shipped) ? checkout : shipped;
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
