/** Command-line parsing for `kvmos`: pure, so tests can feed it argv. */
import { parseArgs } from 'node:util';
import { DEFAULT_RAM_SIZE } from '@kvmos/protocol';
import { UsageError } from './errors.js';
import { GUESTS } from './images.js';

export interface Command {
  kind: 'run';
  /** A named guest (GUESTS) or undefined with `kernelPath`. */
  guest: string | undefined;
  kernelPath: string | undefined;
  cmdline: string;
  ramSize: number;
  verbose: boolean;
}

export type Parsed = Command | { kind: 'help' } | { kind: 'version' };

export function usage(): string {
  const names = Object.entries(GUESTS)
    .map(([n, d]) => `  ${n.padEnd(12)} ${d}`)
    .join('\n');
  return `Usage: kvmos <guest> [options]
       kvmos --kernel FILE [options]

Boots a kvmos guest on /dev/kvm. The host enters the kernel directly in
64-bit long mode: the first instruction the virtual CPU runs is the kernel's.

Guests (built by guest/build.sh into guest/target/kvmos/):
${names}

Options:
  --kernel FILE     boot this kernel ELF image instead of a named guest
  --exit-code N     ask the guest to exit with N (0-255; hello passes it from ring 3)
  --cmdline TEXT    more kernel command-line words (key=value ...)
  --ram MIB         guest RAM in MiB (default ${DEFAULT_RAM_SIZE / 1024 / 1024})
  -v, --verbose     host messages and timings on stderr
  -h, --help        show this help
  --version         show the version

Exit status: the guest's own exit code; otherwise 64 bad usage, 65 bad
kernel image, 66 missing file, 69 KVM unavailable, 70 the guest crashed.

Examples:
  kvmos exec busybox echo hi   run a static Linux program (kvmos linux-exec --help)
  kvmos hello                  print a greeting from ring 0 and a sqrt from ring 3
  kvmos hello --exit-code 7; echo $?
  pnpm --filter cli start hello`;
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
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
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
  const ramMiB = values.ram === undefined ? DEFAULT_RAM_SIZE / 1024 / 1024 : parseIntOption('--ram', values.ram, 64, 4096);
  if (ramMiB % 2 !== 0) throw new UsageError('--ram must be a multiple of 2 MiB');

  return {
    kind: 'run',
    guest,
    kernelPath: values.kernel,
    cmdline: words.join(' '),
    ramSize: ramMiB * 1024 * 1024,
    verbose: values.verbose ?? false,
  };
}

function parseIntOption(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} takes a whole number, not '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${n}`);
  return n;
}
