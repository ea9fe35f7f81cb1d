/**
 * Guest-controlled text on its way to a terminal (log lines, panic and
 * fault messages, strings in --trace lines): bounded work and nothing the
 * terminal would act on. Control characters (C0, DEL, C1) and the Unicode
 * line, paragraph and bidirectional-override characters are shown as
 * `\x..` / `\u....`, so a guest can neither send escape sequences nor
 * start a line of its own (a forged `kvmos:` line).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function escapeGuestText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Unknown system call numbers, each reported once, with bounded memory and
 * output: at most `cap` distinct numbers get a line; calls beyond that are
 * only counted, for one "and N more" line at the end (`summary`).
 */
export class UnknownSyscallReport {
  private readonly seen = new Set<number>();
  private more = 0;
  private readonly moreNumbers = new Set<number>();

  constructor(readonly cap = 64) {}

  /** The line to print for a call of `nr`, or undefined (already reported, or over the cap). */
  note(nr: number, describe: (nr: number) => string): string | undefined {
    if (this.seen.has(nr)) return undefined;
    if (this.seen.size < this.cap) {
      this.seen.add(nr);
      return describe(nr);
    }
    // Over the cap: count numbers not seen, remembering at most `cap` more of them.
    if (this.moreNumbers.has(nr)) return undefined;
    if (this.moreNumbers.size < this.cap) this.moreNumbers.add(nr);
    this.more++;
    return undefined;
  }

  /** Calls of unreported numbers over the cap (each number counted once while fewer than `cap` of them were seen). */
  get unreported(): number {
    return this.more;
  }

  /** The one closing line, when calls went unreported. */
  summary(): string | undefined {
    if (this.more === 0) return undefined;
    return `kvmos: ... and ${this.more} more calls of unimplemented system calls (only the first ${this.cap} numbers are reported)`;
  }
}
