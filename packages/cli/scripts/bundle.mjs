// Bundles the compiled command (dist/src) into dist/bundle/: kvmos.js (the
// `kvmos` command) and worker.js (the vCPU thread of the window). Node
// loads one file instead of about forty modules, which takes a third off
// the command's start-up (bench/results/linux-exec.md). Both files sit at
// the same depth as dist/src/*.js, so the paths the code finds relative to
// import.meta.url (the guests, package.json) are the same. ffi-rs and
// @kmamal/sdl stay packages: they load native code; so does ws (the web
// screen's WebSocket server, CommonJS with optional native add-ons), which
// @kvmos/display loads only when a web screen starts.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ffi-rs', '@kmamal/sdl', 'ws'],
  sourcemap: 'linked',
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['dist/src/main.js'], outfile: 'dist/bundle/kvmos.js' });
await build({ ...common, entryPoints: ['dist/src/display/worker.js'], outfile: 'dist/bundle/worker.js' });

// The TCG back end finds its ROM beside its own module (../rom.bin): in the
// bundle that is dist/rom.bin.
import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
const tcgEntry = createRequire(import.meta.url).resolve('@kvmos/tcg');
copyFileSync(join(dirname(tcgEntry), '..', 'rom.bin'), 'dist/rom.bin');

// The guest images ship in the package (dist/guests/, found by
// src/images.ts), so an installed kvmos runs them with no checkout and no
// Rust toolchain. Unbuilt guests (no guest/target/kvmos) are left out with a
// warning: the command still builds, and says how to build them.
import { cpSync, existsSync, rmSync } from 'node:fs';
const guests = new URL('../../../guest/target/kvmos/', import.meta.url);
const shipped = ['hello', 'linux-exec', 'fbtest', 'torus', 'paint', 'apps/torus', 'apps/paint'];
rmSync('dist/guests', { recursive: true, force: true });
const missing = shipped.filter((name) => !existsSync(new URL(name, guests)));
if (missing.length > 0) {
  console.warn(`bundle: guest images missing (${missing.join(', ')}): build them with bash guest/build.sh; dist/guests/ left out`);
} else {
  for (const name of shipped) cpSync(new URL(name, guests), join('dist/guests', name));
}
