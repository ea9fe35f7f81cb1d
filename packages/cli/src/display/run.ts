/**
 * `kvmos <guest>` with a screen: headless in this thread, or a window with
 * the vCPU in a worker thread (window.ts). The options' files are checked
 * before the guest boots.
 */
import { FRAMEBUFFER_HEIGHT, FRAMEBUFFER_WIDTH } from '@kvmos/protocol';
import { SdlDisplay, type Display } from '@kvmos/display';
import type { DisplayCommand } from '../args.js';
import { DisplayUnavailableError } from '../errors.js';
import { Machine, type BootOptions, type RunResult } from '../machine.js';
import { readInputScript } from './input-script.js';
import { FrameSession } from './session.js';
import { FRAME_PERIOD_MS, runInWorker } from './window.js';

/**
 * What a run with a screen boots: the kernel and what it is given (for
 * torus and paint the initramfs with their program, for linux-exec also
 * the args block and flags). The screen itself is the run's to add.
 */
export type GuestImage = Pick<BootOptions, 'kernel' | 'ramSize' | 'cmdline' | 'initramfs' | 'args' | 'flags'>;

export interface DisplayRun {
  image: GuestImage;
  verbose: boolean;
  display: DisplayCommand;
}

/** How long a guest may take to exit after its window was closed. */
export const QUIT_GRACE_MS = 1000;

export async function runDisplay(run: DisplayRun): Promise<RunResult> {
  const { display } = run;
  const session = FrameSession.open({
    ...(display.frames !== undefined && { frames: display.frames }),
    ...(display.record !== undefined && { recordDir: display.record }),
    ...(display.screenshot !== undefined && { screenshot: display.screenshot }),
    ...(display.input !== undefined && { script: readInputScript(display.input) }),
    ...(process.stderr.isTTY && { progress: (text: string) => void process.stderr.write(text) }),
  });
  let result: RunResult;
  try {
    if (display.headless) {
      result = runHeadless(run, session);
    } else {
      const r = await runInWorker({
        image: run.image,
        verbose: run.verbose,
        fixedTime: display.fixedTime,
        geometry: { width: FRAMEBUFFER_WIDTH, height: FRAMEBUFFER_HEIGHT, stride: FRAMEBUFFER_WIDTH * 4 },
        session,
        openDisplay: openWindow,
        periodMs: FRAME_PERIOD_MS,
        quitGraceMs: QUIT_GRACE_MS,
      });
      if (r.stopped && run.verbose) process.stderr.write(`kvmos: the guest did not exit within ${QUIT_GRACE_MS} ms of the window closing; stopped it\n`);
      result = { exitCode: r.exitCode, exits: r.exits, frames: r.frames };
    }
  } catch (e) {
    // The error line must not land on the progress line.
    session.endProgress();
    throw e;
  }
  session.finish();
  return result;
}

/** In this thread, as fast as the guest draws: frames go straight from guest RAM to the session. */
export function runHeadless(run: Omit<DisplayRun, 'display'> & { display: Pick<DisplayCommand, 'fixedTime'> }, session: FrameSession): RunResult {
  const machine = Machine.boot({
    ...run.image,
    verbose: run.verbose,
    display: {
      sink: {
        frame: (frame, n) => {
          session.show(frame, n);
          return session.reply(n, [], false);
        },
      },
      fixedTime: run.display.fixedTime,
    },
  });
  try {
    return machine.run();
  } finally {
    machine.close();
  }
}

function openWindow(onClose: () => void): Display {
  const env = process.env;
  // Checked before SDL loads: its Wayland probe would print noise first.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY && !env.SDL_VIDEODRIVER) {
    throw new DisplayUnavailableError('cannot open a window: no display (DISPLAY and WAYLAND_DISPLAY are not set) - run with --headless, or set DISPLAY');
  }
  try {
    return new SdlDisplay({ onClose, requireScreen: true });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^SdlDisplay: /, '');
    throw new DisplayUnavailableError(`cannot open a window: ${why} - or run with --headless`);
  }
}
