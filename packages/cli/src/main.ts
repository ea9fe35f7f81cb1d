#!/usr/bin/env node
/** The `kvmos` command: the only place errors become one line and an exit code. */
import { readFileSync } from 'node:fs';
import { normalizeArgv, parseCommand, usage } from './args.js';
import { describeError } from './errors.js';
import { APP_GUESTS, appInitramfs, imagePath, readImage } from './images.js';
import { Machine } from './machine.js';
import { execUsage, parseExecCommand } from './linux-exec/command.js';
import { prepareExec, runExec } from './linux-exec/run.js';
import { runDisplay } from './display/run.js';

async function main(typed: string[]): Promise<number> {
  const argv = normalizeArgv(typed);
  // Until parsing succeeds, a -v anywhere asks for details of a failure.
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    if (argv[0] === 'linux-exec' || argv[0] === 'exec') {
      const exec = parseExecCommand(argv.slice(1), process.env);
      if (exec.kind === 'help') {
        process.stdout.write(execUsage() + '\n');
        return 0;
      }
      verbose = exec.verbose;
      if (exec.display) {
        // A program that draws: the linux-exec kernel with a screen.
        const r = await runDisplay({ image: prepareExec(exec, process.env), verbose, display: exec.display });
        if (verbose) process.stderr.write(`kvmos: ${exec.program}: exit status ${r.exitCode} after ${r.frames} frames, ${r.exits} VM exits\n`);
        return r.exitCode;
      }
      return runExec(exec, process.env, (t) => {
        if (verbose) process.stderr.write(`kvmos: ${exec.program}: ${t.exits} VM exits; boot ${t.bootMs.toFixed(2)} ms, run ${t.runMs.toFixed(2)} ms\n`);
      });
    }
    const cmd = parseCommand(argv);
    if (cmd.kind === 'help') {
      process.stdout.write(usage() + '\n');
      return 0;
    }
    if (cmd.kind === 'version') {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`kvmos ${pkg.version}\n`);
      return 0;
    }
    verbose = cmd.verbose;
    const path = cmd.kernelPath ?? imagePath(cmd.guest ?? '');
    // torus, paint: their program goes in the initramfs.
    const app = cmd.kernelPath === undefined && cmd.guest !== undefined && APP_GUESTS.has(cmd.guest) ? cmd.guest : undefined;
    if (cmd.display) {
      const t0 = process.hrtime.bigint();
      const kernel = readImage(path, cmd.kernelPath === undefined);
      const initramfs = app !== undefined ? appInitramfs(app) : undefined;
      const r = await runDisplay({
        image: {
          kernel,
          ramSize: cmd.ramSize,
          cmdline: cmd.cmdline,
          ...(initramfs !== undefined && { initramfs }),
          ...(cmd.accel !== undefined && { accel: cmd.accel }),
        },
        verbose,
        display: cmd.display,
      });
      if (verbose) {
        process.stderr.write(`kvmos: ${path}: exit code ${r.exitCode} after ${r.frames} frames, ${r.exits} VM exits; ${ms(process.hrtime.bigint() - t0)}\n`);
      }
      return r.exitCode;
    }
    const t0 = process.hrtime.bigint();
    const machine = Machine.boot({
      kernel: readImage(path, cmd.kernelPath === undefined),
      ramSize: cmd.ramSize,
      cmdline: cmd.cmdline,
      verbose,
      ...(cmd.accel !== undefined && { accel: cmd.accel }),
    });
    const t1 = process.hrtime.bigint();
    try {
      const result = machine.run();
      const t2 = process.hrtime.bigint();
      if (verbose) {
        process.stderr.write(
          `kvmos: ${path}: exit code ${result.exitCode} after ${result.exits} VM exits; ` +
            `boot ${ms(t1 - t0)}, run ${ms(t2 - t1)}\n`,
        );
      }
      return result.exitCode;
    } finally {
      machine.close();
    }
  } catch (e) {
    const { line, exitCode } = describeError(e, verbose);
    process.stderr.write(`kvmos: ${line}\n`);
    return exitCode;
  }
}

function ms(ns: bigint): string {
  return `${(Number(ns) / 1e6).toFixed(2)} ms`;
}

// A closed stderr (its reader gone: EPIPE) loses our lines; it must not turn into a crash.
process.stderr.on('error', () => {});
process.exitCode = await main(process.argv.slice(2));
