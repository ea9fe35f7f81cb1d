/**
 * `kvmos <guest>` with a screen: headless in this thread, or a window or a
 * web page (--web) with the vCPU in a worker thread (window.ts). The
 * options' files, and the web page's address, are checked before the
 * guest boots.
 */
import { SdlDisplay, WebDisplay, WebDisplayError, hostPort, type Display } from '@kvmos/display';
import type { DisplayCommand, WebAddress } from '../args.js';
import { DisplayUnavailableError } from '../errors.js';
import { Machine, type BootOptions, type RunResult } from '../machine.js';
import { readInputScript } from './input-script.js';
import { SCREEN_GEOMETRY } from './channel.js';
import { FrameSession } from './session.js';
import { FRAME_PERIOD_MS, runInWorker } from './window.js';

/**
 * What a run with a screen boots: the kernel and what it is given (for
 * torus and paint the initramfs with their program, for linux-exec also
 * the args block and flags). The screen itself is the run's to add.
 */
export type GuestImage = Pick<BootOptions, 'kernel' | 'ramSize' | 'cmdline' | 'initramfs' | 'args' | 'flags' | 'accel' | 'mounts'>;

export interface DisplayRun {
  image: GuestImage;
  verbose: boolean;
  display: DisplayCommand;
}

/** How long a guest may take to exit after its window was closed (or stop pressed on its web page). */
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
  let web: WebDisplay | undefined;
  try {
    if (display.headless) {
      result = runHeadless(run, session);
    } else {
      if (display.web !== undefined) {
        web = await startWeb(display.web);
        // The warning first: the address, the line people act on, comes last.
        if (!web.loopbackOnly) {
          process.stderr.write(
            `kvmos: warning: ${hostPort(web.host, web.port)} can be reached from other machines, and the link is not encrypted (http, ws): ` +
              'whoever can see the traffic gets the token, the screen and the keyboard; prefer 127.0.0.1 and ssh -L\n',
          );
        }
        process.stderr.write(`kvmos: open ${web.url} to see the screen\n`);
      }
      const page = web;
      const r = await runInWorker({
        image: run.image,
        verbose: run.verbose,
        fixedTime: display.fixedTime,
        geometry: SCREEN_GEOMETRY,
        session,
        openDisplay: page ? (onClose) => attachWeb(page, onClose) : openWindow,
        periodMs: FRAME_PERIOD_MS,
        quitGraceMs: QUIT_GRACE_MS,
      });
      if (r.stopped && run.verbose) {
        process.stderr.write(`kvmos: the guest did not exit within ${QUIT_GRACE_MS} ms of ${web ? 'the stop' : 'the window closing'}; stopped it\n`);
      }
      result = { exitCode: r.exitCode, exits: r.exits, frames: r.frames };
    }
  } catch (e) {
    // The error line must not land on the progress line.
    session.endProgress();
    throw e;
  } finally {
    // Also when the guest never booted: the pages learn that it has stopped.
    web?.close();
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

/** Serves the screen's web page; a port in use or an address that is not this machine's is one line (exit 69). */
async function startWeb(address: WebAddress): Promise<WebDisplay> {
  try {
    return await WebDisplay.start(address);
  } catch (e) {
    if (!(e instanceof WebDisplayError)) throw e;
    const hint = e.code === 'EADDRINUSE' ? 'pick another port, or 0 for a free one'
      : e.code === 'EACCES' ? 'ports below 1024 need privileges: pick a higher one, or 0 for a free one'
        : 'give an address of this machine, e.g. 127.0.0.1 (the default) or 0.0.0.0 for all';
    throw new DisplayUnavailableError(`${e.message} - ${hint}`);
  }
}

/** The web page becomes the run's screen once the guest has booted; stop may have been pressed already. */
function attachWeb(web: WebDisplay, onClose: () => void): Display {
  web.onClose = onClose;
  if (web.closed) onClose();
  return web;
}
