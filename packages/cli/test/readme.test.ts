/**
 * The README's commands, run as printed: every line of its ```sh blocks
 * (trailing `# comments` stripped, `\` continuations joined) runs with
 * `bash -c` and must exit 0, and print what the README says it prints.
 * Commands that cannot run in a test are listed in SKIPPED with the
 * reason and show up as skipped tests, so a new README command runs by
 * default and a broken example fails the suite. The window commands run
 * under a private X server (Xvfb) until their window shows and is closed;
 * `--web` runs until it prints its address, then is killed.
 *
 * Commands that write files (frames/, paint.png, shot.png) or read ones
 * the README assumes (./site, ./my-fb-program) run from a scratch
 * directory inside the checkout (pnpm still finds the workspace, and the
 * `start` script runs kvmos from the caller's directory), with the
 * inputs they need copied or made there.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWindow, requestClose, startXvfb, waitFor, type Xvfb } from '@kvmos/test-support';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

/** Every command line of the README's ```sh blocks. */
function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inSh = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) {
      inSh = !inSh && /^```sh\s*$/.test(line);
      pending = '';
      continue;
    }
    if (!inSh) continue;
    const code = line.replace(/\s+#\s.*$/, '').trimEnd();
    if (code.endsWith('\\')) {
      pending += code.slice(0, -1).trim() + ' ';
      continue;
    }
    const full = (pending + code.trim()).trim();
    pending = '';
    if (full !== '') commands.push(full);
  }
  return commands;
}

const commands = readmeCommands(readFileSync(join(repo, 'README.md'), 'utf8'));

/** Commands that cannot run here, with why. */
const SKIPPED: Record<string, string> = {
  './demo.sh': 'installs packages and opens a window; its headless path is the same command as torus --headless',
  './test.sh': 'this is the suite',
  'pnpm bench': 'long (minutes): the benchmarks themselves',
  'pnpm fuzz': 'long (100,000 inputs a target); fuzz.test.ts runs the fuzzers with a few thousand',
};

interface Expect {
  /** Run from the scratch directory, made ready by this. */
  scratch?: (dir: string) => void;
  stdout?: RegExp;
  stderr?: RegExp;
  check?: (dir: string) => string | undefined;
  /** Serves until stopped: passes once stdout matches `stdout`, then is killed. */
  serves?: boolean;
  /** Opens a window: runs under a private X server (Xvfb) until its window shows, which is then closed; exits 0. */
  window?: boolean;
}

const EXPECT: Record<string, Expect> = {
  'pnpm --filter cli start torus': { window: true },
  'pnpm --filter cli start paint': { window: true },
  'pnpm --filter cli start torus --web 8080': { serves: true, stdout: /http:\/\/127\.0\.0\.1:8080\/\?token=[\w-]{8,}/ },
  'pnpm --filter cli start torus --headless --frames 300 --record frames/': {
    scratch: () => {},
    check: (dir) => {
      const n = readdirSync(join(dir, 'frames')).filter((f) => f.endsWith('.png')).length;
      return n === 300 ? undefined : `frames/ holds ${n} PNGs, not 300`;
    },
  },
  'pnpm --filter cli start paint --headless --fixed-time --frames 160 --input docs/images/paint.input --screenshot paint.png': {
    scratch: (dir) => {
      mkdirSync(join(dir, 'docs/images'), { recursive: true });
      copyFileSync(join(repo, 'docs/images/paint.input'), join(dir, 'docs/images/paint.input'));
    },
    // "bit for bit": the picture in the README.
    check: (dir) =>
      readFileSync(join(dir, 'paint.png')).equals(readFileSync(join(repo, 'docs/images/paint.png'))) ? undefined : 'paint.png differs from docs/images/paint.png',
  },
  'pnpm --filter cli start hello': { stdout: /Hello from the kvmos kernel in ring 0!\nsqrt\(3\*3 \+ 4\*4\) = 5\n/ },
  'pnpm --filter cli start hello --exit-code 7; echo $?': { stdout: /\n7\n$/ },
  'pnpm --filter cli start -- --help': { stdout: /Usage: kvmos[\s\S]*Exit status/i },
  'pnpm --filter cli start exec busybox echo hello from ring 3': { stdout: /^hello from ring 3$/m },
  "echo 'b a c' | pnpm --silent --filter cli start exec busybox tr ' ' '\\n' | sort": { stdout: /^a\nb\nc\n$/ },
  'pnpm --filter cli start exec --dir ./site:/www busybox ls -l /www': {
    scratch: (dir) => {
      mkdirSync(join(dir, 'site'));
      writeFileSync(join(dir, 'site/index.html'), '<h1>hello</h1>\n');
    },
    stdout: /index\.html/,
  },
  "pnpm --filter cli start exec busybox sh -c 'ls -l /bin | wc -l; echo $(uname -s)'": { stdout: /^\s*\d+\nLinux\n$/m },
  'pnpm --filter cli start exec --trace busybox true': { stderr: /^exit_group\(0\) = 0$/m },
  'pnpm --filter cli start exec /bin/ls -l /': { stdout: /^lrwxrwxrwx .* bin -> usr\/bin$/m },
  'pnpm --filter cli start exec python3 -c \'import json; print(json.dumps({"ok": True}))\'': { stdout: /^\{"ok": true\}$/m },
  'mkdir -p out && pnpm --filter cli start exec --ro-bind ./docs /docs --bind ./out /out tar -C /docs -cf /out/docs.tar .': {
    scratch: (dir) => {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs/notes.txt'), 'notes\n');
    },
    check: (dir) => {
      const list = spawnSync('tar', ['-tf', join(dir, 'out/docs.tar')], { encoding: 'utf8' });
      return list.stdout.split('\n').includes('./notes.txt') ? undefined : `out/docs.tar lists ${JSON.stringify(list.stdout)} (${list.stderr})`;
    },
  },
  'pnpm --filter cli start exec --headless --frames 60 --screenshot shot.png ./my-fb-program': {
    scratch: (dir) => copyFileSync(join(repo, 'guest/target/kvmos/apps/torus'), join(dir, 'my-fb-program')),
    check: (dir) => (existsSync(join(dir, 'shot.png')) ? undefined : 'no shot.png'),
  },
  'pnpm --filter cli start -- exec --help': { stdout: /Exit status[\s\S]*Examples:/ },
};

const scratchRoot = join(repo, 'tmp');
mkdirSync(scratchRoot, { recursive: true });
const scratchDirs: string[] = [];
let xvfb: Xvfb | undefined;
test.after.always(() => {
  xvfb?.stop();
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(scratchRoot, 'readme-'));
  scratchDirs.push(dir);
  return dir;
}

test('the README has commands, and every listed command is still in it', (t) => {
  t.true(commands.length >= 15, commands.join('\n'));
  for (const c of [...Object.keys(SKIPPED), ...Object.keys(EXPECT)]) t.true(commands.includes(c), `not in the README any more: ${c}`);
});

for (const command of commands) {
  if (SKIPPED[command] !== undefined) {
    test.skip(`README: ${command} (skipped: ${SKIPPED[command]})`, () => {});
    continue;
  }
  const expect = EXPECT[command] ?? {};
  test.serial(`README: ${command}`, async (t) => {
    t.timeout(180_000);
    const cwd = expect.scratch ? scratch() : repo;
    expect.scratch?.(cwd);
    if (expect.serves || expect.window) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (expect.window) {
        xvfb ??= await startXvfb();
        env.DISPLAY = xvfb.display;
        delete env.SDL_VIDEODRIVER;
        delete env.WAYLAND_DISPLAY;
      }
      const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      let exited: number | null | undefined;
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exited = code))));
      const kill = (): void => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      t.teardown(kill);
      const alive = (): void => {
        if (exited !== undefined) throw new Error(`exited ${exited} before it was ready:\n${out}`);
      };
      if (expect.serves) {
        await waitFor('the printed address', () => {
          alive();
          return expect.stdout!.test(out) ? true : undefined;
        }, 80_000);
        t.regex(out, expect.stdout!);
        kill();
        return;
      }
      const display = xvfb!.display;
      const id = await waitFor('the kvmos window', async () => {
        alive();
        return findWindow(display, 'kvmos');
      }, 80_000);
      await requestClose(display, id);
      t.is(await exit, 0, out);
      return;
    }
    const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', timeout: 170_000 });
    const shown = `exit ${r.status} ${String(r.error ?? '')}\n${r.stdout}\n${r.stderr}`;
    t.is(r.status, 0, shown);
    if (expect.stdout) t.regex(r.stdout, expect.stdout, shown);
    if (expect.stderr) t.regex(r.stderr, expect.stderr, shown);
    const problem = expect.check?.(cwd);
    t.is(problem, undefined, shown);
  });
}
