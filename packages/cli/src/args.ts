/** Command-line parsing for `kvmos`: pure, so tests can feed it argv. */
import { parseArgs } from 'node:util';
import { DEFAULT_RAM_SIZE, FRAMEBUFFER_HEIGHT, FRAMEBUFFER_WIDTH } from '@kvmos/protocol';
import { UsageError } from './errors.js';
import { ACCEL_USAGE, parseAccel, type AccelChoice } from './accel.js';
import { DISPLAY_GUESTS, GUESTS } from './images.js';

export interface Command {
  kind: 'run';
  /** A named guest (GUESTS) or undefined with `kernelPath`. */
  guest: string | undefined;
  kernelPath: string | undefined;
  cmdline: string;
  ramSize: number;
  verbose: boolean;
  /** --accel, when given (else KVMOS_ACCEL, else auto: accel.ts). */
  accel: AccelChoice | undefined;
  /** The screen: for display guests, or when a display option is given. */
  display: DisplayCommand | undefined;
}

/** Where --web serves the screen. */
export interface WebAddress {
  host: string;
  /** 0: a free port, picked when the server starts. */
  port: number;
}

export interface DisplayCommand {
  /** No window: run in-process as fast as the guest goes. */
  headless: boolean;
  /** A web page instead of a window (--web [HOST:]PORT); absent otherwise. */
  web?: WebAddress;
  /** Ask the guest to quit after this many frames. */
  frames: number | undefined;
  /** Directory for frame-00000.png ... */
  record: string | undefined;
  /** PNG file for the last frame. */
  screenshot: string | undefined;
  /** Input script to replay. */
  input: string | undefined;
  fixedTime: boolean;
}

export type Parsed = Command | { kind: 'help' } | { kind: 'version' };

/**
 * The argument list as typed, without one leading `--`: `pnpm --filter cli
 * start -- --help` hands the script its `--`. `kvmos run GUEST` is `kvmos
 * GUEST`, and `kvmos help [exec]` is `kvmos [exec] --help`.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  let a = argv[0] === '--' ? argv.slice(1) : [...argv];
  if (a[0] === 'run') a = a.slice(1);
  if (a[0] === 'help') {
    const sub = a[1];
    return sub === 'exec' || sub === 'linux-exec' ? [sub, '--help'] : ['--help'];
  }
  return a;
}

/** --ram MIB, for guests and exec alike: an even number of MiB from 64 to 4096. */
export function parseRamMiB(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--ram takes a whole number of MiB, not '${text}'`);
  const n = Number(text);
  if (n < 64 || n > 4096 || n % 2 !== 0) throw new UsageError(`--ram must be an even number of MiB from 64 to 4096, not ${n}`);
  return n;
}

/** The display options' lines of --help (kvmos <guest> and kvmos exec share them). */
export const DISPLAY_OPTIONS_USAGE = `  --window          show the ${FRAMEBUFFER_WIDTH}x${FRAMEBUFFER_HEIGHT} screen in a window, at most 60 frames/s (the default);
                    closing it asks the guest to quit
  --headless        no window: run as fast as the guest draws
  --web [HOST:]PORT show the screen in a web page instead of a window, at most 60 frames/s:
                    serves http://HOST:PORT/?token=... (HOST defaults to 127.0.0.1, this
                    machine only; PORT 0 picks a free one) and prints that address: the token
                    is random for each run and required. Up to 8 browser tabs: the first
                    drives (input, its stop button asks the guest to quit), the others watch.
                    A HOST other machines can reach gets a warning: the link is not encrypted
  --frames N        ask the guest to quit after N frames (stopped if it draws one more)
  --record DIR      write every frame to DIR/frame-00000.png, frame-00001.png ...
  --screenshot FILE write the last frame to FILE (PNG)
  --input FILE      replay input from FILE: one event a line, <frame> <type> <code> <value>,
                    names or numbers, # comments; e.g. "12 EV_ABS ABS_X 100", "15 EV_KEY KEY_C 1".
                    The guest sees frame F's events while it draws frame F (F >= 1); each
                    frame's events end with EV_SYN SYN_REPORT (added if missing)
  --fixed-time      the guest's clock advances exactly 1/60 s a frame: runs repeat bit for bit`;

export function usage(): string {
  const names = Object.entries(GUESTS)
    .map(([n, d]) => `  ${n.padEnd(12)} ${d}`)
    .join('\n');
  return `Usage: kvmos [run] <guest> [options]
       kvmos --kernel FILE [options]
       kvmos exec [options] PROGRAM [ARGS...]   (kvmos exec --help)

Boots a kvmos guest on /dev/kvm, or on QEMU's software CPU where there is
no KVM. The host enters the kernel directly in 64-bit long mode: the first
instruction the kernel sees is its own, with no firmware before it.

Guests (shipped in the package; in a checkout built by guest/build.sh into guest/target/kvmos/):
${names}

Options:
  --kernel FILE     boot this kernel ELF image instead of a named guest
  --exit-code N     ask the guest to exit with N (0-255; hello passes it from ring 3)
  --cmdline TEXT    more kernel command-line words (key=value ...)
  --ram MIB         guest RAM in MiB (default ${DEFAULT_RAM_SIZE / 1024 / 1024})
${ACCEL_USAGE}

Display (for guests that draw: ${[...DISPLAY_GUESTS].join(', ')}; any of these gives other guests a screen):
${DISPLAY_OPTIONS_USAGE}
  -v, --verbose     host messages and timings on stderr
  -h, --help        show this help (also: kvmos help)
  -V, --version     show the version

Exit status: the guest's own exit code; otherwise 64 bad usage, 65 bad
kernel image or input script, 66 missing file, 69 KVM, QEMU or display
unavailable, 70 the guest crashed, 73 cannot write an output file.

In the window: torus: drag with the left button to orbit, the wheel zooms,
space stops and restarts the spin; paint: hold the left button to draw, C
changes the colour, space clears; Q or Esc quits both, as does closing the
window.

Examples:
  kvmos torus                  a window with the spinning torus
  kvmos torus --headless --frames 180 --record frames/ --screenshot torus.png
  kvmos torus --web 8080       the torus in a browser: open the http://127.0.0.1:8080/?token=... printed
  kvmos paint --headless --fixed-time --frames 160 --input docs/images/paint.input --screenshot paint.png
  kvmos exec busybox echo hi   run a static Linux program (kvmos linux-exec --help)
  kvmos hello                  print a greeting from ring 0 and a sqrt from ring 3
  kvmos hello --exit-code 7; echo $?
  kvmos fbtest                 a window: the square follows the mouse, C changes its colour
  pnpm --filter cli start -- torus   from a checkout (a leading -- is ignored)`;
}

export function parseCommand(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        kernel: { type: 'string' },
        'exit-code': { type: 'string' },
        cmdline: { type: 'string' },
        ram: { type: 'string' },
        window: { type: 'boolean' },
        headless: { type: 'boolean' },
        web: { type: 'string' },
        frames: { type: 'string' },
        record: { type: 'string' },
        screenshot: { type: 'string' },
        input: { type: 'string' },
        'fixed-time': { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        accel: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const [guest, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (guest !== undefined && values.kernel !== undefined) {
    throw new UsageError('give a guest name or --kernel FILE, not both');
  }
  if (guest === undefined && values.kernel === undefined) throw new UsageError('which guest? e.g. kvmos hello');
  if (guest !== undefined && !(guest in GUESTS)) {
    throw new UsageError(`unknown guest '${guest}' (known: ${Object.keys(GUESTS).join(', ')}; or --kernel FILE)`);
  }

  const words: string[] = [];
  if (values['exit-code'] !== undefined) {
    words.push(`exit_code=${parseIntOption('--exit-code', values['exit-code'], 0, 255)}`);
  }
  if (values.cmdline !== undefined) words.push(values.cmdline);
  const ramMiB = values.ram === undefined ? DEFAULT_RAM_SIZE / 1024 / 1024 : parseRamMiB(values.ram);

  const display = displayCommand(values, guest !== undefined && DISPLAY_GUESTS.has(guest));

  return {
    kind: 'run',
    guest,
    kernelPath: values.kernel,
    cmdline: words.join(' '),
    ramSize: ramMiB * 1024 * 1024,
    verbose: values.verbose ?? false,
    accel: values.accel === undefined ? undefined : parseAccel(values.accel, '--accel'),
    display,
  };
}

/** node:util parseArgs's messages in this command's words (exec's: linux-exec/command.ts). */
function parseArgsMessage(e: Error & { code?: string }): string {
  const unknown = /^Unknown option '([^']+)'/.exec(e.message);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) return `unknown option '${unknown[1]}'`;
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(e.message);
  if (missing) return `${missing[1]} needs a value`;
  return e.message;
}

/** The display options as parsed, before checking. */
export interface DisplayValues {
  window?: boolean | undefined;
  headless?: boolean | undefined;
  web?: string | undefined;
  frames?: string | undefined;
  record?: string | undefined;
  screenshot?: string | undefined;
  input?: string | undefined;
  'fixed-time'?: boolean | undefined;
}

/** The screen asked for by the display options; none unless one is given or `always`. */
export function displayCommand(values: DisplayValues, always: boolean): DisplayCommand | undefined {
  const screens = [values.window && '--window', values.headless && '--headless', values.web !== undefined && '--web'].filter(Boolean);
  if (screens.length > 1) throw new UsageError(`give --window or --headless or --web, not ${screens.join(' and ')}`);
  const asked =
    values.window || values.headless || values['fixed-time'] ||
    [values.web, values.frames, values.record, values.screenshot, values.input].some((v) => v !== undefined);
  if (!asked && !always) return undefined;
  return {
    headless: values.headless ?? false,
    ...(values.web !== undefined && { web: parseWebAddress(values.web) }),
    frames: values.frames === undefined ? undefined : parseIntOption('--frames', values.frames, 1, 100_000_000),
    record: nonEmpty('--record', values.record),
    screenshot: nonEmpty('--screenshot', values.screenshot),
    input: nonEmpty('--input', values.input),
    fixedTime: values['fixed-time'] ?? false,
  };
}

/**
 * --web's `[HOST:]PORT`: `8080`, `127.0.0.1:0`, `localhost:8080`,
 * `0.0.0.0:8080` (every address), `[::1]:8080`.
 */
export function parseWebAddress(text: string): WebAddress {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`--web takes [HOST:]PORT (PORT 0..65535, 0 picks a free one), e.g. 8080 or 127.0.0.1:0, not '${text}'`);
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

function nonEmpty(name: string, text: string | undefined): string | undefined {
  if (text === '') throw new UsageError(`${name} needs a path`);
  return text;
}

function parseIntOption(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} takes a whole number, not '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${n}`);
  return n;
}
