/**
 * The packages as a stranger gets them: `pnpm pack` every package, install
 * the tarballs into an empty project outside the checkout with `npm
 * install --offline` (no workspace, no registry: ffi-rs, its Linux binary
 * and ws are packed from this checkout's node_modules; the optional
 * @kmamal/sdl is left out, as on a machine without it), then use them:
 * @kvmos/loader alone plans a boot, and the installed `kvmos` runs the
 * guests it ships (dist/guests) with no checkout and no Rust.
 */
import test from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagePath } from '../src/images.js';

const packages = fileURLToPath(new URL('../../../', import.meta.url));
const LIBRARIES = ['protocol', 'loader', 'kvm', 'tcg', 'display'];

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status} ${String(r.error ?? '')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A dependency's directory as pnpm installed it (the real path, so its own dependencies resolve beside it). */
function installed(name: string, from: string): string {
  return dirname(realpathSync(createRequire(join(from, 'package.json')).resolve(`${name}/package.json`)));
}

const root = mkdtempSync(join(tmpdir(), 'kvmos-pack-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

test('packed tarballs install offline into an empty project: the loader alone plans a boot, kvmos runs hello', (t) => {
  t.timeout(600_000);
  const tarballs = join(root, 'tarballs');
  const project = join(root, 'project');
  mkdirSync(tarballs);
  mkdirSync(project);

  for (const p of [...LIBRARIES, 'cli']) ok(run('pnpm', ['pack', '--pack-destination', tarballs], join(packages, p)), `pnpm pack ${p}`);
  const cliDir = join(packages, 'cli');
  const ffi = installed('ffi-rs', cliDir);
  const deps = [ffi, installed(`@yuuang/ffi-rs-${process.platform}-${process.arch}-gnu`, ffi), installed('ws', cliDir)];
  for (const d of deps) ok(run('npm', ['pack', '--silent', d], tarballs), `npm pack ${d}`);

  // Only runtime files: dist .js and .d.ts, README, LICENSE, package.json.
  const loader = readdirSync(tarballs).find((f) => f.startsWith('kvmos-loader-'))!;
  const listed = ok(run('tar', ['tzf', loader], tarballs), 'tar').trim().split('\n');
  t.deepEqual(listed.filter((f) => !/^package\/(dist\/src\/[\w-]+\.(js|d\.ts)|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/.test(f)), []);
  t.true(listed.includes('package/dist/src/index.js'));

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stranger', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  ok(run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...files], project), 'npm install');

  // Nothing from this checkout: no KVMOS_GUEST_DIR, and no NODE_PATH
  // (pnpm's bin shims set it to the workspace's packages, @kmamal/sdl among them).
  const env = { ...process.env };
  delete env.KVMOS_GUEST_DIR;
  delete env.NODE_PATH;

  // (1) @kvmos/loader on its own.
  writeFileSync(
    join(project, 'plan.mjs'),
    `import { readFileSync } from 'node:fs';
import { planBoot } from '@kvmos/loader';
const plan = planBoot({ kernel: readFileSync(process.argv[2]), bootTimeNs: 0n, randomSeed: new Uint8Array(32) });
console.log(\`entry 0x\${plan.entry.toString(16)} cr3 0x\${plan.sregs.cr3.toString(16)}\`);
`,
  );
  const plan = ok(run(process.execPath, ['plan.mjs', imagePath('hello')], project, env), 'plan.mjs');
  t.regex(plan, /^entry 0xffffffff8[0-9a-f]{7} cr3 0x10000\n$/);

  // (2) The installed command, with the guests it ships.
  const kvmos = join(project, 'node_modules', '.bin', 'kvmos');
  const hello = run(kvmos, ['hello', '--exit-code', '3'], project, env);
  t.is(hello.status, 3, hello.stderr);
  t.is(hello.stdout, 'Hello from the kvmos kernel in ring 0!\nsqrt(3*3 + 4*4) = 5\n');
  const exec = run(kvmos, ['exec', '/bin/busybox', 'echo', 'installed'], project, env);
  t.is(exec.status, 0, exec.stderr);
  t.is(exec.stdout, 'installed\n');
  const torus = run(kvmos, ['torus', '--headless', '--frames', '3', '--record', 'out/'], project, env);
  t.is(torus.status, 0, torus.stderr);
  t.deepEqual(readdirSync(join(project, 'out')).sort(), ['frame-00000.png', 'frame-00001.png', 'frame-00002.png']);

  // No @kmamal/sdl: a window is refused in one line that says what to do.
  const window = run(kvmos, ['torus', '--window', '--frames', '1'], project, { ...env, DISPLAY: ':0' });
  t.is(window.status, 69);
  t.regex(window.stderr, /^kvmos: cannot open a window: @kmamal\/sdl is not installed .*npm install @kmamal\/sdl/);
});
