/**
 * The host side of the frame doorbell (docs/protocol.md, "The screen"),
 * apart from KVM: given views of the framebuffer and the mailbox page, it
 * hands each finished frame to a sink and writes the sink's input and the
 * time into the mailbox. Machine calls it; tests drive it with plain arrays.
 */
import {
  FRAME_PERIOD_NS,
  MAILBOX_FLAG_QUIT,
  MAILBOX_MAX_EVENTS,
  encodeMailboxInto,
} from '@kvmos/protocol';
import { EV_SYN, SYN_REPORT, type Frame, type InputEvent } from '@kvmos/display';

/** What the host answers to a frame: input for the next one, and whether the guest must quit. */
export interface FrameReply {
  events: readonly InputEvent[];
  quit: boolean;
}

/** Where a guest's frames go: a recorder, a window (through a worker), a benchmark. */
export interface FrameSink {
  /**
   * Frame `n` (0 = the first) is finished. `frame.pixels` is a view of guest
   * RAM, valid only during the call: copy what you keep. The reply is what
   * the guest finds in the mailbox while it draws frame `n + 1`.
   */
  frame(frame: Frame, n: number): FrameReply;
}

/** The mailbox time: `fixed` (exactly frame * FRAME_PERIOD_NS) or a monotonic clock in ns since boot. */
export type FrameClock = { fixed: true } | { fixed: false; sinceBootNs: () => bigint };

export type DoorbellOutcome =
  /** The mailbox is written: let the guest run on. */
  | 'resume'
  /** The guest rang again after it was told to quit: stop it (exit 0). */
  | 'quit-ignored';

export class Screen {
  private shown = 0;
  private quitSent = false;
  /** Input that did not fit in one mailbox, for the next frames. */
  private backlog: InputEvent[] = [];

  constructor(
    private readonly framebuffer: Frame,
    private readonly mailbox: Uint8Array,
    private readonly sink: FrameSink,
    private readonly clock: FrameClock,
  ) {}

  /** Frames shown so far. */
  get frames(): number {
    return this.shown;
  }

  /** The mailbox before the first run: frame 0, time 0, no input, so the guest can read it before its first doorbell. */
  reset(): void {
    this.shown = 0;
    this.quitSent = false;
    this.backlog = [];
    encodeMailboxInto(this.mailbox, { frame: 0n, timeNs: 0n, flags: 0, events: [] });
  }

  doorbell(): DoorbellOutcome {
    // One frame of grace after quit ("finish the frame and exit"); a guest
    // that rings again is not listening.
    if (this.quitSent) return 'quit-ignored';
    const reply = this.sink.frame(this.framebuffer, this.shown);
    this.shown++;
    if (reply.quit) this.quitSent = true;
    for (const e of reply.events) this.backlog.push(e);
    const events = takeReports(this.backlog, MAILBOX_MAX_EVENTS);
    const frame = BigInt(this.shown);
    encodeMailboxInto(this.mailbox, {
      frame,
      timeNs: this.clock.fixed ? frame * BigInt(FRAME_PERIOD_NS) : this.clock.sinceBootNs(),
      flags: this.quitSent ? MAILBOX_FLAG_QUIT : 0,
      events,
    });
    return 'resume';
  }
}

/**
 * Removes and returns the oldest events of `queue` that fit in `max`,
 * ending at a SYN_REPORT when one fits, so a report is never split across
 * two frames unless it alone is longer than `max`.
 */
export function takeReports(queue: InputEvent[], max: number): InputEvent[] {
  if (queue.length <= max) return queue.splice(0, queue.length);
  let end = max;
  for (let i = max - 1; i >= 0; i--) {
    const e = queue[i]!;
    if (e.type === EV_SYN && e.code === SYN_REPORT) {
      end = i + 1;
      break;
    }
  }
  return queue.splice(0, end);
}
