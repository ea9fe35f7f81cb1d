/**
 * The CPU back ends: --accel and KVMOS_ACCEL, the machine state at entry
 * on the accelerator `auto` picks, and what only the TCG back end has (the
 * slot transport under hostile requests, stale translated code, QEMU as a
 * child that never outlives the host and leaves nothing behind). Where both
 * accelerators exist, the same guest runs on both and must agree.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { bootSregs, CR0, CR4, EFER } from '@kvmos/loader';
import { DIRECT_MAP_BASE, HYPERCALL_DOORBELL_PORT, HYPERCALL_SLOT_ADDR } from '@kvmos/protocol';
import { accelChoice, parseAccel } from '../src/accel.js';
import { UsageError } from '../src/errors.js';
import { imagePath } from '../src/images.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-accel-'));

function kvmAvailable(): string | undefined {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
const noKvm = kvmAvailable();
/** What `auto` picks on this machine. */
const AUTO = noKvm === undefined ? 'kvm' : 'tcg';
const onTcg = AUTO === 'tcg';

function kvmos(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test(`guests in this run boot on ${AUTO} (auto${noKvm ? ': /dev/kvm cannot be opened' : ''})`, (t) => {
  const r = kvmos(['hello', '--verbose']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, onTcg ? /running on TCG, QEMU's software CPU: KVM is not available \(open\(\/dev\/kvm\)/ : /running on KVM/);
});

test('--accel and KVMOS_ACCEL: the option wins, then the variable, then auto; anything else is a usage error', (t) => {
  t.is(accelChoice(undefined, {}), 'auto');
  t.is(accelChoice(undefined, { KVMOS_ACCEL: 'tcg' }), 'tcg');
  t.is(accelChoice('kvm', { KVMOS_ACCEL: 'tcg' }), 'kvm');
  t.is(parseAccel('auto', '--accel'), 'auto');
  t.throws(() => parseAccel('hvf', '--accel'), { instanceOf: UsageError, message: /--accel must be one of auto, kvm, tcg, got 'hvf'/ });
  t.throws(() => accelChoice(undefined, { KVMOS_ACCEL: 'xen' }), { instanceOf: UsageError, message: /KVMOS_ACCEL/ });
  const r = kvmos(['hello', '--accel', 'hvf']);
  t.is(r.status, 64);
  t.regex(r.stderr, /^kvmos: --accel must be one of auto, kvm, tcg, got 'hvf' \(see kvmos --help\)\n$/);
  const e = kvmos(['exec', '--accel=nope', 'true']);
  t.is(e.status, 64, e.stderr);
});

(noKvm ? test : test.skip)(`--accel kvm without /dev/kvm: one line, exit 69, hints for VMs and containers and --accel tcg${noKvm ? '' : ' (skipped: this machine has /dev/kvm)'}`, (t) => {
  const r = kvmos(['hello', '--accel', 'kvm']);
  t.is(r.status, 69);
  t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /open\(\/dev\/kvm\): ENOENT .*nested virtualization.*--device \/dev\/kvm.*--accel tcg/);
});

/** The entry line hello prints with report=entry-state. */
function entryState(accel: string): Record<string, bigint> {
  const r = kvmos(['hello', '--accel', accel, '--cmdline', 'report=entry-state']);
  if (r.status !== 0) throw new Error(`hello on ${accel} failed (${r.status}): ${r.stderr}`);
  const m = /^entry: cr0=(0x[0-9a-f]+) cr3=(0x[0-9a-f]+) cr4=(0x[0-9a-f]+) efer=(0x[0-9a-f]+) cs=(0x[0-9a-f]+)$/m.exec(r.stdout);
  if (!m) throw new Error(`no entry line in:\n${r.stdout}`);
  return { cr0: BigInt(m[1]!), cr3: BigInt(m[2]!), cr4: BigInt(m[3]!), efer: BigInt(m[4]!), cs: BigInt(m[5]!) };
}

test(`the kernel sees the documented machine state at entry on ${AUTO}: CR0, CR3, CR4, EFER, CS as the loader plans them`, (t) => {
  const planned = bootSregs();
  const seen = entryState(AUTO);
  t.deepEqual(seen, { cr0: planned.cr0, cr3: planned.cr3, cr4: planned.cr4, efer: planned.efer, cs: BigInt(planned.cs.selector) });
  // And the plan is what docs/protocol.md says.
  t.is(planned.cr0, CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG);
  t.is(planned.cr4, CR4.PAE | CR4.OSFXSR | CR4.OSXMMEXCPT);
  t.is(planned.efer, EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE);
});

(noKvm ? test.skip : test)(`both accelerators: the same guests give the same output and entry state${noKvm ? ' (skipped: needs /dev/kvm for the KVM side)' : ''}`, (t) => {
  t.deepEqual(entryState('tcg'), entryState('kvm'));
  const onBoth = (args: string[]) => ['kvm', 'tcg'].map((a) => kvmos([args[0]!, '--accel', a, ...args.slice(1)]));
  for (const args of [['hello', '--exit-code', '5'], ['exec', 'busybox', 'sh', '-c', 'echo $((6*7)); ls / | wc -l']]) {
    const [k, q] = onBoth(args);
    t.deepEqual({ status: q!.status, stdout: q!.stdout }, { status: k!.status, stdout: k!.stdout }, args.join(' '));
  }
  const frames = (a: string) => {
    const out = join(tmp, `torus-${a}.png`);
    const r = kvmos(['torus', '--accel', a, '--headless', '--fixed-time', '--frames', '30', '--screenshot', out]);
    t.is(r.status, 0, r.stderr);
    return readFileSync(out);
  };
  t.true(frames('kvm').equals(frames('tcg')), 'frame 30 of a fixed-time torus is the same bytes on both');
});

/**
 * The hello image with `code` as its first instruction: a kernel that
 * talks to the host through the slot transport with nothing of its own set up.
 */
function kernelWithEntry(name: string, code: Buffer): string {
  const elf = Buffer.from(readFileSync(imagePath('hello')));
  const entry = elf.readBigUInt64LE(24);
  const phoff = Number(elf.readBigUInt64LE(32));
  const phnum = elf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * 56;
    const vaddr = elf.readBigUInt64LE(ph + 16);
    const filesz = elf.readBigUInt64LE(ph + 32);
    if (elf.readUInt32LE(ph) === 1 && entry >= vaddr && entry + BigInt(code.length) <= vaddr + filesz) {
      code.copy(elf, Number(elf.readBigUInt64LE(ph + 8) + (entry - vaddr)));
      const f = join(tmp, name);
      writeFileSync(f, elf);
      return f;
    }
  }
  throw new Error('no segment holds the entry');
}

/** x86-64 code: fill the HypercallSlot with {port, value, seq} and ring the doorbell `rings` times, then spin. */
function slotRequest(port: number, value: number, seq: number, rings = 1): Buffer {
  const slot = DIRECT_MAP_BASE + BigInt(HYPERCALL_SLOT_ADDR);
  const movabsRax = Buffer.alloc(10);
  movabsRax.writeUInt16LE(0xb848, 0); // movabs rax, imm64
  movabsRax.writeBigUInt64LE(slot, 2);
  const movDword = (disp: number, imm: number): Buffer => {
    const b = Buffer.from([0xc7, 0x40, disp, 0, 0, 0, 0]); // mov dword [rax+disp8], imm32
    b.writeUInt32LE(imm >>> 0, 3);
    return b;
  };
  const movDx = Buffer.from([0x66, 0xba, HYPERCALL_DOORBELL_PORT & 0xff, HYPERCALL_DOORBELL_PORT >> 8]); // mov dx, port
  const outDxAl = Buffer.from([0xee]);
  const spin = Buffer.from([0xeb, 0xfe]); // jmp $
  return Buffer.concat([movabsRax, movDword(0, port), movDword(4, value), movDword(8, seq), movDx, ...Array<Buffer>(rings).fill(outDxAl), spin]);
}

(onTcg ? test : test.skip)(`TCG transport: a request that points outside RAM is refused like on KVM: one line, exit 70${onTcg ? '' : ' (skipped: auto picks KVM here; run with KVMOS_ACCEL=tcg)'}`, (t) => {
  const f = kernelWithEntry('slot-bad-pointer', slotRequest(0x401, 0xffff_fff0, 1));
  const r = kvmos(['--kernel', f, '--accel', 'tcg']);
  t.is(r.status, 70, r.stderr);
  t.regex(r.stderr, /^kvmos: bad guest request: bad console request at guest-physical 0xfffffff0: .* in ring 0 at RIP 0x[0-9a-f]+ .*a kernel bug: the host refused it\n$/);
});

(onTcg ? test : test.skip)(`TCG transport: an unknown port, and a port beyond 16 bits, are refused${onTcg ? '' : ' (skipped: auto picks KVM here)'}`, (t) => {
  for (const [port, shown] of [[0x1234, '0x1234'], [0x12_3456, '0x123456']] as const) {
    const r = kvmos(['--kernel', kernelWithEntry(`slot-port-${port}`, slotRequest(port, 0, 1, 3)), '--accel', 'tcg']);
    t.is(r.status, 70, r.stderr);
    t.regex(r.stderr, new RegExp(`bad guest request: write to unknown port ${shown}`));
  }
});

(onTcg ? test : test.skip)(`TCG transport: rings without a new request are ignored; the exit request ends the guest with its code${onTcg ? '' : ' (skipped: auto picks KVM here)'}`, (t) => {
  const r = kvmos(['--kernel', kernelWithEntry('slot-exit', slotRequest(0x400, 42, 7, 5)), '--accel', 'tcg']);
  t.is(r.status, 42, r.stderr);
  t.is(r.stderr, '');
});

function compileMusl(name: string): string {
  const out = join(tmp, name);
  const r = spawnSync('musl-gcc', ['-static', '-O1', '-o', out, fileURLToPath(new URL(`../../test/tcg/${name}.c`, import.meta.url))], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`musl-gcc ${name}.c failed (install musl-tools): ${r.error?.message ?? r.stderr}`);
  return out;
}

test(`stale code: two programs exec'd in turn into the same frames, 40 times each, always run their own text (${AUTO})`, (t) => {
  const a = compileMusl('stale-a');
  const b = compileMusl('stale-b');
  const r = kvmos(['exec', '--file', `${a}:/bin/a`, '--file', `${b}:/bin/b`, 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 40 ]; do /bin/a; /bin/b; i=$((i+1)); done']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'AB'.repeat(40), `guest stderr:\n${r.stderr}`);
});

/** QEMU processes whose environment carries `tag` (they inherit the host's). */
function qemusTagged(tag: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'latin1').startsWith('/usr/bin/qemu-system') && !readFileSync(`/proc/${d}/cmdline`, 'latin1').includes('qemu-system-x86_64')) continue;
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(`KVMOS_TEST_TAG=${tag}`)) pids.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

async function waitGone(tag: string, ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = qemusTagged(tag);
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function leftovers(): string[] {
  return ['/dev/shm', tmpdir()].flatMap((d) => readdirSync(d).filter((f) => /^(kvmos-guest|qmp|hc-|tcgprobe)/.test(f)).map((f) => join(d, f)));
}

for (const [how, args, signal, expectStatus] of [
  ['the guest exits', ['hello', '--exit-code', '4'], undefined, 4],
  ['the guest panics', ['hello', '--cmdline', 'crash=panic'], undefined, 70],
  ['the guest triple-faults', ['--kernel', 'ud2-at-entry'], undefined, 70],
  ['the host gets SIGTERM', ['exec', 'busybox', 'sleep', '30'], 'SIGTERM', undefined],
  ['the host gets Ctrl-C (SIGINT)', ['exec', 'busybox', 'sleep', '30'], 'SIGINT', undefined],
  ['the host is killed (SIGKILL)', ['exec', 'busybox', 'sleep', '30'], 'SIGKILL', undefined],
] as const) {
  (onTcg ? test : test.skip)(`QEMU never outlives the host and leaves no file when ${how}${onTcg ? '' : ' (skipped: auto picks KVM here)'}`, async (t) => {
    const before = new Set(leftovers());
    const tag = randomUUID();
    const argv = args[0] === '--kernel' ? ['--kernel', kernelWithEntry(args[1], Buffer.from([0x0f, 0x0b]))] : [...args];
    // The option right after the command: exec's options end at its PROGRAM.
    argv.splice(argv[0] === '--kernel' ? 2 : 1, 0, '--accel', 'tcg');
    const child = spawn(process.execPath, [cli, ...argv], { env: { ...process.env, KVMOS_TEST_TAG: tag }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    if (signal) {
      // Signal once QEMU runs the guest (its process exists).
      const end = Date.now() + 30_000;
      while (qemusTagged(tag).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      t.true(qemusTagged(tag).length > 0, 'QEMU was started');
      await new Promise((r) => setTimeout(r, 300));
      child.kill(signal);
    }
    const status = await exited;
    if (expectStatus !== undefined) t.is(status, expectStatus, stderr);
    t.deepEqual(await waitGone(tag, 5_000), [], `QEMU still running after the host ended (${how})`);
    t.deepEqual(leftovers().filter((f) => !before.has(f)), []);
  });
}

test('--accel tcg without QEMU: one line naming the package to install, exit 69', (t) => {
  const r = kvmos(['hello', '--accel', 'tcg'], { PATH: '/nonexistent' });
  t.is(r.status, 69, r.stderr);
  t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^kvmos: qemu-system-x86_64: qemu-system-x86_64 was not found on PATH \(install QEMU's x86 system emulator \(Debian\/Ubuntu: apt-get install qemu-system-x86\)\)\n$/);
});

test(`a kernel that halts with interrupts off is reported, not waited for (${AUTO}): one line, exit 70`, (t) => {
  const r = kvmos(['--kernel', kernelWithEntry('cli-hlt', Buffer.from([0xfa, 0xf4]))]);
  t.is(r.status, 70, r.stderr);
  t.regex(r.stderr, /^kvmos: the guest halted without exiting in ring 0 at RIP 0x[0-9a-f]+ .*the kernel must end with the exit hypercall\n$/);
});
