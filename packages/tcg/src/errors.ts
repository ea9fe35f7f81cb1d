/**
 * Errors of the TCG back end: what was being done (`call`), what happened,
 * and what to do (`hint`). Only the CLI turns them into one line and an exit code.
 */
export class TcgError extends Error {
  constructor(
    readonly call: string,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(`${call}: ${detail}${hint ? ` (${hint})` : ''}`);
    this.name = 'TcgError';
  }
}

/** QEMU could not be started, or stopped on its own: its exit status and the end of its stderr. */
export class QemuError extends TcgError {
  constructor(
    detail: string,
    readonly stderr: string,
    hint?: string,
  ) {
    super('qemu-system-x86_64', detail + (stderr ? `: ${lastLines(stderr)}` : ''), hint);
    this.name = 'QemuError';
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}
