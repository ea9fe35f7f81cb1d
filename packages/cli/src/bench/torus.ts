/**
 * Torus benchmark (`pnpm bench`): the spinning torus at 640x480 in the
 * guest against the very same rasterizer (guest/apps/gfx) compiled for the
 * host, side by side in one run, as medians of several runs. Writes
 * bench/results/torus.{json,md} with the goals next to the numbers.
 *
 * - native: `guest/apps/target/release/torus-bench --frames N` (one
 *   process, rendering into memory; prints its frames per second);
 * - guest: `kvmos torus --headless --fixed-time` in this process, timed
 *   doorbell to doorbell over N steady-state frames (boot and the first
 *   WARMUP frames, which fault in the program's memory, excluded); with
 *   the host's share of each frame (doorbell exit -> frame handed to the
 *   sink -> mailbox written, the guest free to resume) and KVM's own
 *   counters per frame (VM exits, instructions emulated in ring 0);
 * - qemu-user: the same torus-bench under `qemu-x86_64-static -cpu qemu64`,
 *   QEMU's user-mode emulation with the TCG engine and CPU model that
 *   qemu-system-x86_64 gives the guest on TCG (qemu-user's own default is
 *   `max`): steady state as the time of WARMUP + N frames minus that of
 *   WARMUP frames (translation of the code excluded, as the guest's warm-up);
 *   guest / qemu-user is the TCG goal (>= 0.9): ring 3 in the guest as fast
 *   as the same engine runs it without a kernel or a machine around it;
 * - torus-bench in the guest: the same program linked statically (cargo,
 *   crt-static, into a temporary target directory) under `kvmos exec`,
 *   steady state the same way: identical ring-3 code in the machine and
 *   under qemu-user, so what the machine itself costs is seen apart from
 *   any difference between the torus app and torus-bench;
 * - window: `kvmos torus` with a real SDL window on a private X server
 *   (Xvfb), paced to 60 frames/s as the command is: frames shown per
 *   second over a few seconds. Xvfb has no real vertical sync, so this
 *   measures the pacing and the host's window path, not a monitor.
 *
 * Environment: KVMOS_BENCH_TORUS_RUNS (default 7), KVMOS_BENCH_TORUS_FRAMES
 * (default 600), KVMOS_BENCH_TORUS_WINDOW_S (default 5; 0 skips the window).
 * Every row names the accelerator that ran it (KVMOS_ACCEL, else auto).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RAM_SIZE } from '@kvmos/protocol';
import { SdlDisplay, type Display, type Frame } from '@kvmos/display';
import { startXvfb, type Xvfb } from '@kvmos/test-support';
import { Machine } from '../machine.js';
import { appInitramfs, imagePath, readImage } from '../images.js';
import { SCREEN_GEOMETRY } from '../display/channel.js';
import { FrameSession } from '../display/session.js';
import { FRAME_PERIOD_MS, runInWorker } from '../display/window.js';
import { accelLine, detectAccel, median, quantile } from './stats.js';

const RUNS = Number(process.env.KVMOS_BENCH_TORUS_RUNS ?? 7);
const FRAMES = Number(process.env.KVMOS_BENCH_TORUS_FRAMES ?? 600);
const WINDOW_S = Number(process.env.KVMOS_BENCH_TORUS_WINDOW_S ?? 5);
/** Frames before the guest's timing starts: the first ones fault in the depth buffer and the program. */
const WARMUP = 60;
const GOAL_RATIO = 0.95;
/** On TCG: the guest against the same engine in user mode. */
const GOAL_QEMU_RATIO = 0.9;
const QEMU_USER = 'qemu-x86_64-static';
const QEMU_CPU = 'qemu64';
const GOAL_HOST_US = 1000;
const GOAL_WINDOW_FPS = 60;

const resultsDir = fileURLToPath(new URL('../../../../../bench/results/', import.meta.url));
const torusBench = fileURLToPath(new URL('../../../../../guest/apps/target/release/torus-bench', import.meta.url));
const appsDir = fileURLToPath(new URL('../../../../../guest/apps/', import.meta.url));
// The command as installed (package.json bin): the bundle.
const cliMain = fileURLToPath(new URL('../../bundle/kvmos.js', import.meta.url));
const geometry = SCREEN_GEOMETRY;

function progress(what: string, i: number, of: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${what}: ${i}/${of}`);
  if (i === of) process.stderr.write(process.stderr.isTTY ? '\n' : `${what}: ${of} runs\n`);
}

/** torus-bench's frames per second for `frames` frames at 640x480. */
function native(frames: number): number {
  const r = spawnSync(torusBench, ['--frames', String(frames), '--size', `${geometry.width}x${geometry.height}`], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${torusBench} failed (build it: bash guest/apps/build.sh): ${r.error?.message ?? r.stderr}`);
  }
  const out = JSON.parse(r.stdout) as { fps: number; width: number; height: number };
  if (out.width !== geometry.width || out.height !== geometry.height) throw new Error(`torus-bench rendered ${out.width}x${out.height}`);
  return out.fps;
}

/** torus-bench's seconds for `frames` frames under qemu-user. */
function qemuUserSeconds(frames: number): number {
  const r = spawnSync(QEMU_USER, ['-cpu', QEMU_CPU, torusBench, '--frames', String(frames), '--size', `${geometry.width}x${geometry.height}`], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${QEMU_USER} torus-bench failed: ${r.error?.message ?? r.stderr}`);
  const out = JSON.parse(r.stdout) as { fps: number };
  return frames / out.fps;
}

/** Steady-state frames per second under qemu-user: (WARMUP + frames) minus WARMUP frames, each one process. */
function qemuUser(frames: number): number {
  return frames / (qemuUserSeconds(WARMUP + frames) - qemuUserSeconds(WARMUP));
}

/**
 * torus-bench linked statically (kvmos runs static programs), built by
 * cargo into a temporary target directory with the flags of
 * guest/apps/.cargo/config.toml plus crt-static; or why not.
 */
function staticTorusBench(): string | { skipped: string } {
  const target = join(tmpdir(), 'kvmos-bench-torus-static');
  const r = spawnSync('cargo', ['build', '--release', '--quiet', '-p', 'torus-bench', '--target', 'x86_64-unknown-linux-gnu', '--target-dir', target], {
    cwd: appsDir,
    encoding: 'utf8',
    env: { ...process.env, RUSTFLAGS: '-C relocation-model=static -C target-feature=+crt-static' },
  });
  if (r.error || r.status !== 0) return { skipped: `cargo could not build a static torus-bench: ${r.error?.message ?? r.stderr.trim().split('\n')[0]}` };
  return join(target, 'x86_64-unknown-linux-gnu', 'release', 'torus-bench');
}

/** The static torus-bench's seconds for `frames` frames in a kvmos guest (`kvmos exec`, whole process). */
function guestBenchSeconds(bench: string, frames: number): number {
  const r = spawnSync(process.execPath, [cliMain, 'exec', bench, '--frames', String(frames), '--size', `${geometry.width}x${geometry.height}`], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`kvmos exec torus-bench failed: ${r.error?.message ?? r.stderr}`);
  return frames / (JSON.parse(r.stdout) as { fps: number }).fps;
}

function guestBench(bench: string, frames: number): number {
  return frames / (guestBenchSeconds(bench, WARMUP + frames) - guestBenchSeconds(bench, WARMUP));
}

interface GuestRun {
  fps: number;
  /** Host time of each measured doorbell, ns. */
  hostNs: number[];
  /** The accelerator's counters over the measured frames, per frame (KVM: per-vCPU statistics; TCG: exits, doorbell bytes). */
  perFrame: Record<string, number>;
}

const KVM_COUNTERS = ['exits', 'insn_emulation', 'pf_taken', 'tlb_flush'];
const TCG_COUNTERS = ['exits', 'doorbell_bytes'];
const accel = detectAccel();
const a = accel.accel;
const COUNTERS = a === 'kvm' ? KVM_COUNTERS : TCG_COUNTERS;
const qemuAvailable = spawnSync(QEMU_USER, ['--version']).status === 0;
// Only where it is the comparison that matters (TCG) and qemu-user runs.
const staticBench = a === 'tcg' && qemuAvailable ? staticTorusBench() : { skipped: a === 'tcg' ? `${QEMU_USER} is not installed` : 'measured on TCG only' };

/** `kvmos torus --headless --fixed-time`, in this thread; frames WARMUP .. WARMUP + frames timed. */
function guest(kernel: Uint8Array, initramfs: Uint8Array, frames: number): GuestRun {
  const last = WARMUP + frames;
  const hostNs: number[] = [];
  let t0 = 0n;
  let t1 = 0n;
  let s0: Map<string, bigint> | undefined;
  let s1: Map<string, bigint> | undefined;
  let measuring = false;
  // The sink reads the machine's counters: it runs only once boot has returned.
  const m: Machine = Machine.boot({
    kernel,
    initramfs,
    ramSize: DEFAULT_RAM_SIZE,
    cmdline: '',
    display: {
      fixedTime: true,
      onHostTime: (ns) => {
        if (measuring) hostNs.push(ns);
      },
      sink: {
        // Frame n is finished: its doorbell rang. Frames WARMUP .. last - 1 are timed.
        frame: (_frame, n) => {
          if (n === WARMUP) {
            s0 = m.vcpuStats();
            t0 = process.hrtime.bigint();
            measuring = true;
          } else if (n === last) {
            t1 = process.hrtime.bigint();
            s1 = m.vcpuStats();
            measuring = false;
          }
          return { events: [], quit: n >= last };
        },
      },
    },
  });
  try {
    const r = m.run();
    if (r.exitCode !== 0 || r.frames !== last + 1) throw new Error(`torus: exit ${r.exitCode} after ${r.frames} frames`);
  } finally {
    m.close();
  }
  const perFrame: Record<string, number> = {};
  for (const k of COUNTERS) {
    const a = s0?.get(k);
    const b = s1?.get(k);
    if (a !== undefined && b !== undefined) perFrame[k] = Number(b - a) / frames;
  }
  return { fps: frames / (Number(t1 - t0) / 1e9), hostNs, perFrame };
}

interface WindowResult {
  display: string;
  seconds: number;
  frames: number;
  fps: number;
  /** Time between two frames shown, ms. */
  periodMs: { median: number; p10: number; p90: number };
  /** The main thread's SdlDisplay.show() per frame, ms. */
  showMs: { median: number; p90: number };
}

/** `kvmos torus` with a window on a private Xvfb, paced like the command; frames shown per second. */
async function windowed(kernel: Uint8Array, initramfs: Uint8Array): Promise<WindowResult | string> {
  let xvfb: Xvfb;
  try {
    xvfb = await startXvfb(800, 600);
  } catch (e) {
    return `not measured: ${(e as Error).message}`;
  }
  process.env.DISPLAY = xvfb.display;
  delete process.env.SDL_VIDEODRIVER;
  delete process.env.WAYLAND_DISPLAY;

  const total = Math.max(2, Math.round(WINDOW_S * 60));
  const skip = Math.min(30, total >> 2);
  const session = FrameSession.open({ frames: total });
  const shown: number[] = [];
  const showMs: number[] = [];
  const show = session.show.bind(session);
  session.show = (frame: Frame, n: number) => {
    shown.push(performance.now());
    show(frame, n);
  };
  const openDisplay = (onClose: () => void): Display => {
    const d = new SdlDisplay({ onClose, requireScreen: true });
    const draw = d.show.bind(d);
    d.show = (frame: Frame) => {
      const t = performance.now();
      draw(frame);
      showMs.push(performance.now() - t);
    };
    return d;
  };
  const r = await runInWorker({
    image: { kernel, ramSize: DEFAULT_RAM_SIZE, cmdline: '', initramfs },
    verbose: false,
    fixedTime: false,
    geometry,
    session,
    openDisplay,
    periodMs: FRAME_PERIOD_MS,
    quitGraceMs: 1000,
  });
  // SDL (loaded by now) keeps its X connection until the process exits: stop the server after SDL's exit handler.
  xvfb.stopAtExit();
  if (r.exitCode !== 0) throw new Error(`torus in a window: exit ${r.exitCode}`);
  const steady = shown.slice(skip);
  const periods = steady.slice(1).map((t, i) => t - steady[i]!);
  const seconds = (steady[steady.length - 1]! - steady[0]!) / 1000;
  return {
    display: `Xvfb ${xvfb.display}`,
    seconds,
    frames: steady.length - 1,
    fps: (steady.length - 1) / seconds,
    periodMs: { median: median(periods), p10: quantile(periods, 0.1), p90: quantile(periods, 0.9) },
    showMs: { median: median(showMs.slice(skip)), p90: quantile(showMs.slice(skip), 0.9) },
  };
}

const kernel = readImage(imagePath('torus'), true);
const initramfs = appInitramfs('torus');
if (!existsSync(torusBench)) throw new Error(`${torusBench} is missing: build it with bash guest/apps/build.sh (pnpm build does)`);

process.stderr.write(`torus: ${RUNS} runs of ${FRAMES} frames at ${geometry.width}x${geometry.height}, native, ${qemuAvailable ? `${QEMU_USER} -cpu ${QEMU_CPU}, ` : ''}then guest (${a})\n`);
const nativeFps: number[] = [];
const qemuFps: number[] = [];
const guestRuns: GuestRun[] = [];
const ratios: number[] = [];
const qemuRatios: number[] = [];
const benchInGuestFps: number[] = [];
const benchInGuestRatios: number[] = [];
for (let i = 1; i <= RUNS; i++) {
  // Side by side: each guest run right after a native (and qemu-user) one, the ratio per pair.
  const n = native(FRAMES);
  const q = qemuAvailable ? qemuUser(FRAMES) : undefined;
  const g = guest(kernel, initramfs, FRAMES);
  nativeFps.push(n);
  guestRuns.push(g);
  ratios.push(g.fps / n);
  if (q !== undefined) {
    qemuFps.push(q);
    qemuRatios.push(g.fps / q);
    if (typeof staticBench === 'string') {
      const b = guestBench(staticBench, FRAMES);
      benchInGuestFps.push(b);
      benchInGuestRatios.push(b / q);
    }
  }
  progress(`torus native + ${qemuAvailable ? 'qemu-user + ' : ''}guest`, i, RUNS);
}
const guestFps = guestRuns.map((g) => g.fps);
const hostUs = guestRuns.flatMap((g) => g.hostNs).map((ns) => ns / 1000);
const perFrame: Record<string, number> = {};
for (const k of COUNTERS) {
  const xs = guestRuns.map((g) => g.perFrame[k]).filter((x): x is number => x !== undefined);
  if (xs.length) perFrame[k] = median(xs);
}
const window = WINDOW_S > 0 ? await windowed(kernel, initramfs) : 'not measured (KVMOS_BENCH_TORUS_WINDOW_S=0)';

const ratio = median(ratios);
const qemuRatio = qemuRatios.length ? median(qemuRatios) : undefined;
const benchInGuestRatio = benchInGuestRatios.length ? median(benchInGuestRatios) : undefined;
const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const host = { medianUs: median(hostUs), p10Us: quantile(hostUs, 0.1), p90Us: quantile(hostUs, 0.9), samples: hostUs.length };
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  runs: RUNS,
  frames: FRAMES,
  warmupFrames: WARMUP,
  width: geometry.width,
  height: geometry.height,
  accel: a,
  accelFallback: accel.fallback,
  loadavg: load,
};
const nativeMs = 1000 / median(nativeFps);
const guestMs = 1000 / median(guestFps);
const result = {
  ...meta,
  goals: { ratio: GOAL_RATIO, qemuUserRatio: GOAL_QEMU_RATIO, hostUs: GOAL_HOST_US, windowFps: GOAL_WINDOW_FPS },
  native: { accel: 'native', fps: median(nativeFps), samples: nativeFps },
  qemuUser: qemuRatio === undefined
    ? `not measured: ${QEMU_USER} is not installed (Debian qemu-user-static)`
    : { accel: 'qemu-user TCG', command: `${QEMU_USER} -cpu ${QEMU_CPU} torus-bench`, fps: median(qemuFps), samples: qemuFps },
  guest: { accel: a, fps: median(guestFps), samples: guestFps, perFrame },
  ratio: { median: ratio, samples: ratios },
  qemuUserRatio: qemuRatio === undefined ? undefined : { median: qemuRatio, samples: qemuRatios },
  torusBenchInGuest: typeof staticBench === 'string'
    ? { accel: a, command: 'kvmos exec torus-bench (static)', fps: median(benchInGuestFps), samples: benchInGuestFps, ratioToQemuUser: { median: benchInGuestRatio, samples: benchInGuestRatios } }
    : `not measured: ${staticBench.skipped}`,
  hostPerFrame: host,
  window,
};
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}/torus.json`, JSON.stringify(result, null, 2) + '\n');

const met = (ok: boolean) => (ok ? 'met' : '**not met**');
const f1 = (x: number) => x.toFixed(1);
const qemuMs = qemuFps.length ? 1000 / median(qemuFps) : undefined;
const onKvm = a === 'kvm';
const rows = [
  '| what | accel | measured | goal | |',
  '| --- | --- | ---: | ---: | --- |',
  `| native: torus-bench, frames/s (${f1(nativeMs * 1000)} us a frame) | native | ${f1(median(nativeFps))} | | |`,
  qemuMs === undefined
    ? `| qemu-user: ${QEMU_USER} -cpu ${QEMU_CPU} torus-bench | qemu-user TCG | not measured: ${QEMU_USER} is not installed | | |`
    : `| qemu-user: \`${QEMU_USER} -cpu ${QEMU_CPU}\` torus-bench, steady-state frames/s (${f1(qemuMs * 1000)} us a frame) | qemu-user TCG | ${f1(median(qemuFps))} | | |`,
  `| guest: kvmos torus --headless --fixed-time, frames/s (${f1(guestMs * 1000)} us a frame) | ${a} | ${f1(median(guestFps))} | | |`,
  `| guest / native (median of the ${RUNS} pairs) | ${a} vs native | ${ratio.toFixed(3)} | ${onKvm ? `>= ${GOAL_RATIO}` : `(KVM's goal, >= ${GOAL_RATIO}; not one for a software CPU)`} | ${onKvm ? met(ratio >= GOAL_RATIO) : ''} |`,
  ...(qemuRatio === undefined
    ? []
    : [`| guest / qemu-user (median of the ${RUNS} pairs; the same TCG engine and CPU model, one in a machine with a kernel, one in user mode) | ${a} vs qemu-user TCG | ${qemuRatio.toFixed(3)} | ${onKvm ? '' : `>= ${GOAL_QEMU_RATIO}`} | ${onKvm ? '' : met(qemuRatio >= GOAL_QEMU_RATIO)} |`]),
  ...(benchInGuestRatio === undefined
    ? []
    : [
        `| torus-bench in the guest: \`kvmos exec\` of the same program linked statically, steady-state frames/s (${f1(1e6 / median(benchInGuestFps))} us a frame) | ${a} | ${f1(median(benchInGuestFps))} | | |`,
        `| torus-bench in the guest / qemu-user (median of the ${RUNS} pairs; identical ring-3 code: what the machine costs) | ${a} vs qemu-user TCG | ${benchInGuestRatio.toFixed(3)} | >= ${GOAL_QEMU_RATIO} | ${met(benchInGuestRatio >= GOAL_QEMU_RATIO)} |`,
      ]),
  onKvm || qemuMs === undefined
    ? `| what the guest adds to a frame: guest - native frame time | ${a} | ${f1((guestMs - nativeMs) * 1000)} us | <= ${f1(nativeMs * 1000 * (1 / GOAL_RATIO - 1))} us | |`
    : `| what the guest adds to a frame: guest - qemu-user frame time | ${a} | ${f1((guestMs - qemuMs) * 1000)} us | <= ${f1(qemuMs * 1000 * (1 / GOAL_QEMU_RATIO - 1))} us | |`,
  `| host time per frame, headless: doorbell exit -> frame to the sink -> mailbox written, guest resumes (median; p10 ${f1(host.p10Us)}, p90 ${f1(host.p90Us)}) | ${a} | ${f1(host.medianUs)} us | < ${GOAL_HOST_US} us | ${met(host.medianUs < GOAL_HOST_US)} |`,
  typeof window === 'string'
    ? `| window: frames shown per second | ${a} | ${window} | >= ${GOAL_WINDOW_FPS} | |`
    : `| window (SDL on ${window.display}, paced to 60/s): frames shown per second over ${f1(window.seconds)} s (period median ${window.periodMs.median.toFixed(2)} ms, p10 ${window.periodMs.p10.toFixed(2)}, p90 ${window.periodMs.p90.toFixed(2)}) | ${a} | ${f1(window.fps)} | >= ${GOAL_WINDOW_FPS} | ${met(window.fps >= GOAL_WINDOW_FPS * 0.99)} |`,
  ...(typeof window === 'string' ? [] : [`| window: SdlDisplay.show() per frame on the main thread (median; p90 ${window.showMs.p90.toFixed(2)} ms) | ${a} | ${window.showMs.median.toFixed(2)} ms | | |`]),
].join('\n');
const counters = Object.entries(perFrame).map(([k, v]) => `| ${k} | ${a} | ${f1(v)} |`).join('\n');
const md = `# torus benchmark

${meta.date}, Node ${meta.node}, ${meta.cpu} (${cpus().length} CPUs, load average ${load} at the end); ${RUNS} runs of ${FRAMES} frames at ${geometry.width}x${geometry.height} (guest and qemu-user: after ${WARMUP} warm-up frames, boot excluded), medians.
${accelLine(accel)}${qemuMs === undefined ? '' : ` qemu-user is \`${QEMU_USER} -cpu ${QEMU_CPU}\`: qemu-user's default CPU model is \`max\`, qemu-system-x86_64's (which runs the guest on TCG) is qemu64, so \`-cpu ${QEMU_CPU}\` makes it the same engine and the same CPU; its frames/s is the steady state, (${WARMUP} + ${FRAMES} frames) minus (${WARMUP} frames), two processes.`}${typeof staticBench === 'string' ? '' : ` torus-bench in the guest: not measured (${staticBench.skipped}).`}

${rows}

Where the guest's time goes, per frame (${onKvm ? "KVM's per-vCPU counters" : "TCG's counters: exits are hypercalls (the frame's doorbell and console/screen calls), doorbell_bytes the bytes QEMU passed on the doorbell pipe; KVM's per-vCPU statistics (insn_emulation, pf_taken, tlb_flush) do not exist on TCG and are not measured"} over the timed frames):

| counter | accel | per frame |
| --- | --- | ---: |
${counters}

${onKvm
  ? `A guest frame is the render, in ring 3 at native speed, plus what the
frame loop asks of the kernel: \`clock_gettime\` stays in ring 3 (the
vDSO); the read of /dev/input/event0 and FBIOPAN_DISPLAY are system calls.
On PVM (docs/platform.md) each system call costs ~17 us of transitions
(three VM exits) plus ~0.75 us for every instruction the kernel runs in
emulated ring 0 (\`insn_emulation\` above), and the doorbell adds a VM
exit to the host.`
  : `On TCG a guest frame is the render, in ring 3, translated by QEMU as
qemu-user translates it, plus what the frame loop asks of the kernel: the
read of /dev/input/event0 and FBIOPAN_DISPLAY are system calls that stay
inside QEMU (translated ring-0 code), and the frame's doorbell is a
hypercall to the host (the slot handshake, see linux-exec.md). What the
machine adds over qemu-user: the guest's page tables (a softmmu TLB lookup
on every load and store, where qemu-user adds a constant to the address),
the kernel's work, and the hypercall.`} Xvfb has no real vertical sync: the window's rate is
kvmos's own 60 frames/s pacing.
`;
writeFileSync(`${resultsDir}/torus.md`, md);
process.stdout.write(md + `\nwritten to ${resultsDir}torus.{json,md}\n`);
