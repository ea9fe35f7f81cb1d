/**
 * A guest with a window: the Machine runs in a worker thread (worker.ts) so
 * that KVM_RUN never blocks Node's event loop; this thread shows its frames,
 * paced to the display, and sends input and quit back (channel.ts).
 *
 *   worker: guest rings -> copy framebuffer -> notify -> Atomics.wait ............... -> mailbox -> guest draws on
 *   main:          ... waitAsync wakes -> copy -> wait for the next 1/60 s tick -> reply + notify -> show the copy
 *
 * Closing the window sets quit in the next reply; a guest that has not
 * exited a second later is stopped (exit status 0 either way).
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { GuestMemory } from '@kvmos/kvm';
import type { Display } from '@kvmos/display';
import { DescribedError } from '../errors.js';
import { MainEnd, createChannelBuffer, type FrameGeometry } from './channel.js';
import type { FrameSession } from './session.js';
import type { GuestImage } from './run.js';
import type { WorkerData, WorkerMessage } from './worker.js';

export const FRAME_PERIOD_MS = 1000 / 60;

export interface WindowRunOptions {
  image: GuestImage;
  verbose: boolean;
  fixedTime: boolean;
  geometry: FrameGeometry;
  session: FrameSession;
  /** Opens the display once the guest has booted (so a bad kernel never flashes a window). */
  openDisplay: (onClose: () => void) => Display;
  /** Shortest time between two frames in ms (FRAME_PERIOD_MS); 0: as fast as the guest goes. */
  periodMs: number;
  /** How long a guest may take to exit after the window closed before its vCPU is stopped. */
  quitGraceMs: number;
  /** Collect the host time of each doorbell (benchmarks). */
  measure?: boolean;
}

export interface WindowRunResult {
  exitCode: number;
  exits: number;
  frames: number;
  /** The guest did not exit after the window closed and was stopped. */
  stopped: boolean;
  hostTimesNs: number[] | undefined;
}

type Outcome = Extract<WorkerMessage, { kind: 'done' | 'failed' }> | { kind: 'exited'; code: number };

/**
 * ffi-rs and threads: a worker that used it crashes the process when it
 * ends unless this thread loaded it too (the addon would be unloaded with
 * the worker), and its library table is a global without a lock, written
 * by the first open() of a library: that must happen here, before any
 * worker can race it. A one-page mmap/munmap does both.
 */
function loadFfiHere(): void {
  GuestMemory.allocate(4096).free();
}

/** The end of the last run started: runs take turns (see runInWorker). */
let previous: Promise<unknown> = Promise.resolve();

/**
 * Runs a guest in a vCPU worker. One at a time per process: ffi-rs corrupts
 * the heap now and then when worker threads that use it start and end
 * concurrently (seen in tests: free() aborts while a worker isolate is
 * torn down). The command only ever has one; tests and benchmarks queue.
 */
export function runInWorker(opts: WindowRunOptions): Promise<WindowRunResult> {
  const run = previous.then(() => runOne(opts));
  previous = run.catch(() => {});
  return run;
}

async function runOne(opts: WindowRunOptions): Promise<WindowRunResult> {
  loadFfiHere();
  const buffer = createChannelBuffer(opts.geometry);
  const channel = new MainEnd(buffer, opts.geometry);
  const data: WorkerData = {
    image: opts.image,
    verbose: opts.verbose,
    fixedTime: opts.fixedTime,
    buffer,
    geometry: opts.geometry,
    measure: opts.measure ?? false,
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: data,
    // Inherited flags, except one a worker refuses (node --input-type=module -e ...).
    execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
  });
  // The thread is gone (isolate torn down), not just done: the next run may start.
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  let tid: number | undefined;
  let onBooted: () => void = () => {};
  const booted = new Promise<'booted'>((resolve) => (onBooted = () => resolve('booted')));
  let settled: Outcome | undefined;
  const outcome = new Promise<Outcome>((resolve) => {
    const settle = (o: Outcome) => {
      settled ??= o;
      resolve(settled);
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'booted') {
        tid = m.tid;
        onBooted();
      } else settle(m);
    });
    worker.on('error', (e) => settle({ kind: 'failed', line: `internal error in the vCPU thread: ${e.message}`, exitCode: 70 }));
    worker.on('exit', (code) => settle({ kind: 'exited', code }));
  });

  let stopping: Promise<void> | undefined;
  /** Ends the worker even while the guest computes inside KVM_RUN. */
  const stopWorker = (): Promise<void> => (stopping ??= kill(worker, () => tid, outcome));

  if ((await Promise.race([booted, outcome])) !== 'booted') {
    await exited;
    return finish(await outcome, false);
  }

  let display: Display;
  let closed = false;
  let stoppedAfterClose = false;
  let wake: (() => void) | undefined;
  try {
    display = opts.openDisplay(() => {
      if (closed) return;
      closed = true;
      wake?.();
      const grace = setTimeout(() => {
        stoppedAfterClose = settled === undefined;
        void stopWorker();
      }, opts.quitGraceMs);
      void outcome.then(() => clearTimeout(grace));
    });
  } catch (e) {
    channel.abort();
    await exited;
    throw e;
  }

  try {
    channel.start();
    let lastReply = -Infinity;
    // This thread's copy of the frame: it is shown (and recorded) after the
    // reply, while the guest draws the next one into the channel. Showing
    // first would hold the guest for the whole render (~15 ms in an SDL
    // window on Xvfb, see bench/results/display.md).
    const frame = { ...opts.geometry, pixels: new Uint8Array(channel.frame.pixels.length) };
    for (;;) {
      const n = await Promise.race([channel.nextFrame(), outcome]);
      if (typeof n !== 'number') break;
      frame.pixels.set(channel.frame.pixels);
      // Pacing: the guest waits in the doorbell until the next tick, so it
      // can never ring faster than the display shows.
      const delay = lastReply + opts.periodMs - performance.now();
      if (delay > 0 && !closed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      channel.reply(opts.session.reply(n, display.takeInput(), closed || display.closed));
      lastReply = performance.now();
      // A closed window gets no more frames (the guest may draw one after quit).
      if (!closed && !display.closed) display.show(frame);
      opts.session.show(frame, n);
    }
  } finally {
    if (settled === undefined) await stopWorker();
    display.close();
    await exited;
  }
  return finish(await outcome, stoppedAfterClose);

  function finish(o: Outcome, stopped: boolean): WindowRunResult {
    if (o.kind === 'failed') throw new DescribedError(o.line, o.exitCode);
    if (o.kind === 'done') return { exitCode: o.exitCode, exits: o.exits, frames: o.frames, stopped: false, hostTimesNs: o.hostTimesNs };
    if (stopped) return { exitCode: 0, exits: 0, frames: opts.session.framesShown, stopped: true, hostTimesNs: undefined };
    throw new DescribedError(`internal error: the vCPU thread ended without a result (exit code ${o.code})`, 70);
  }
}

/**
 * worker.terminate() takes effect only when the thread runs JavaScript, and
 * a guest computing without VM exits keeps it inside the KVM_RUN ioctl. A
 * signal sent to that thread makes KVM_RUN return (EINTR), and the
 * termination happens before the run loop re-enters the guest. kill(2)
 * with a thread's id prefers that thread; SIGUSR2 gets a no-op handler so
 * it cannot end the process.
 */
async function kill(worker: Worker, tid: () => number | undefined, ended: Promise<unknown>): Promise<void> {
  const ignore = () => {};
  process.on('SIGUSR2', ignore);
  let done = false;
  void ended.then(() => (done = true));
  void worker.terminate();
  for (let i = 0; !done; i++) {
    const t = tid();
    // Only while it is still a thread of this process: a thread id is never reused while the thread lives.
    if (t !== undefined && existsSync(`/proc/self/task/${t}`)) {
      try {
        process.kill(t, 'SIGUSR2');
      } catch {
        // Gone between the check and the kill.
      }
    }
    await Promise.race([ended, new Promise((r) => setTimeout(r, i < 100 ? 10 : 100))]);
  }
  process.off('SIGUSR2', ignore);
}
