/**
 * Display benchmark (part of `pnpm bench`): what a frame costs the host,
 * from the guest's doorbell VM exit to the mailbox written and the guest
 * free to run on, as medians over many frames of fbtest.
 *
 * - headless: the sink is the session without outputs (no PNG encoded);
 * - window path: the frame is copied into the shared channel, the main
 *   thread wakes and replies at once (unpaced), showing it nowhere; with
 *   DISPLAY set, again with a real SDL window showing it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { SdlDisplay, encodePng, type Display, type Frame } from '@kvmos/display';
import { Machine } from '../machine.js';
import { imagePath, readImage } from '../images.js';
import { SCREEN_GEOMETRY } from '../display/channel.js';
import { FrameSession } from '../display/session.js';
import { runInWorker } from '../display/window.js';
import type { AcceleratorName } from '@kvmos/protocol';
import { accelLine, median, quantile } from './stats.js';

const FRAMES = Number(process.env.KVMOS_BENCH_FRAMES ?? 2000);
const RAM = 256 << 20;
const geometry = SCREEN_GEOMETRY;

export interface DisplayRow {
  name: string;
  /** 'kvm' or 'tcg' for guest rows, 'host' for host-only work (PNG encoding). */
  accel: string;
  samples: number;
  medianUs: number;
  p10Us: number;
  p90Us: number;
}

function row(name: string, accel: string, ns: number[]): DisplayRow {
  const us = ns.map((n) => n / 1000);
  return { name, accel, samples: us.length, medianUs: median(us), p10Us: quantile(us, 0.1), p90Us: quantile(us, 0.9) };
}

/** Host time per doorbell, and the doorbell-to-doorbell period, headless in this thread. */
function headless(kernel: Uint8Array): { host: number[]; period: number[] } {
  const host: number[] = [];
  const period: number[] = [];
  const session = FrameSession.open({ frames: FRAMES });
  let last = 0n;
  const m = Machine.boot({
    kernel,
    ramSize: RAM,
    display: {
      fixedTime: true,
      onHostTime: (ns) => host.push(ns),
      sink: {
        frame: (frame, n) => {
          const now = process.hrtime.bigint();
          if (n > 0) period.push(Number(now - last));
          last = now;
          session.show(frame, n);
          return session.reply(n, [], false);
        },
      },
    },
  });
  try {
    const r = m.run();
    if (r.exitCode !== 0 || r.frames !== FRAMES) throw new Error(`fbtest: exit ${r.exitCode} after ${r.frames} frames`);
  } finally {
    m.close();
  }
  return { host, period };
}

/** Shows nothing: what remains is the channel between the threads. */
const nullDisplay = (): Display => ({ show: () => {}, takeInput: () => [], closed: false, close: () => {} });

async function windowPath(kernel: Uint8Array, openDisplay: () => Display): Promise<number[]> {
  const r = await runInWorker({
    image: { kernel, ramSize: RAM, cmdline: '' },
    verbose: false,
    fixedTime: true,
    geometry,
    session: FrameSession.open({ frames: FRAMES }),
    openDisplay,
    periodMs: 0,
    quitGraceMs: 1000,
    measure: true,
  });
  if (r.exitCode !== 0 || !r.hostTimesNs) throw new Error(`fbtest in a worker: exit ${r.exitCode}`);
  return r.hostTimesNs;
}

function pngEncode(): number[] {
  const frame: Frame = { ...geometry, pixels: new Uint8Array(geometry.stride * geometry.height) };
  // Black with one 16x16 square, like fbtest's frames (compression depends on content).
  for (let y = 100; y < 116; y++) frame.pixels.fill(0xff, y * geometry.stride + 400 * 4, y * geometry.stride + 416 * 4);
  const out: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    encodePng(frame);
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

export async function benchDisplay(resultsDir: string, accel: { accel: AcceleratorName; fallback: string | undefined }): Promise<string> {
  const a = accel.accel;
  const kernel = readImage(imagePath('fbtest'), true);
  process.stderr.write(`display: ${FRAMES} frames of fbtest, headless, then through the window worker\n`);
  const h = headless(kernel);
  const w = await windowPath(kernel, nullDisplay);
  // With a display server (DISPLAY): the same through a real SDL window.
  const sdl = process.env.DISPLAY ? await windowPath(kernel, () => new SdlDisplay()) : undefined;
  const rows = [
    row('headless: host time per frame (doorbell exit -> sink -> mailbox written)', a, h.host),
    row('window path, no display: host time per frame (doorbell exit -> copy to the channel -> main thread wakes, replies -> mailbox written), unpaced', a, w),
    ...(sdl ? [row(`window path, SDL window on DISPLAY=${process.env.DISPLAY}, unpaced: a guest faster than the display waits for the previous frame's render, which waits for vsync`, a, sdl)] : []),
    row(`headless: doorbell to doorbell (fbtest drawing in ring 0${a === 'tcg' ? ', TCG-translated' : ''} + host)`, a, h.period),
    row('encodePng of one 640x480 frame (what --record adds per frame)', 'host (no guest)', pngEncode()),
  ];
  const meta = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', frames: FRAMES, accel: a, accelFallback: accel.fallback, loadavg: loadavg().map((x) => x.toFixed(2)).join(' ') };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}/display.json`, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
  const table = [
    '| what | accel | samples | median us | p10 us | p90 us |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.accel} | ${r.samples} | ${r.medianUs.toFixed(1)} | ${r.p10Us.toFixed(1)} | ${r.p90Us.toFixed(1)} |`),
  ].join('\n');
  const md = `# display benchmark\n\n${meta.date}, Node ${meta.node}, ${meta.cpu} (${cpus().length} CPUs, load average ${meta.loadavg} at the end), ${FRAMES} frames of fbtest (--fixed-time).\n${accelLine(accel)}\n\n${table}\n`;
  writeFileSync(`${resultsDir}/display.md`, md);
  return md;
}
