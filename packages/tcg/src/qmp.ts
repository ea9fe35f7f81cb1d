/**
 * A synchronous QMP client over two pipes (QEMU's stdin and stdout): the
 * host's run loop blocks, as it does in KVM_RUN, so the monitor is read
 * with poll and read, never through the event loop.
 */
import { readSync, writeSync } from 'node:fs';
import { poll, POLLIN, POLLHUP, POLLERR } from '@kvmos/kvm';

export interface QmpMessage {
  QMP?: unknown;
  event?: string;
  data?: Record<string, unknown>;
  return?: unknown;
  error?: { class: string; desc: string };
}

export class QmpPipe {
  #pending = '';
  #closed = false;
  /** Events read while waiting for a reply, oldest first. */
  readonly events: QmpMessage[] = [];

  constructor(
    private readonly inFd: number,
    readonly outFd: number,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Reads what is available without blocking (after poll said so); false at end of file. */
  pump(): boolean {
    const buf = Buffer.alloc(65536);
    let n: number;
    try {
      n = readSync(this.outFd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as { code?: string }).code === 'EAGAIN' || (e as { code?: string }).code === 'EINTR') return true;
      throw e;
    }
    if (n === 0) {
      this.#closed = true;
      return false;
    }
    this.#pending += buf.toString('utf8', 0, n);
    return true;
  }

  /** The next complete message already read, if any. */
  next(): QmpMessage | undefined {
    for (;;) {
      const nl = this.#pending.indexOf('\n');
      if (nl < 0) return undefined;
      const line = this.#pending.slice(0, nl).trim();
      this.#pending = this.#pending.slice(nl + 1);
      if (!line) continue;
      try {
        return JSON.parse(line) as QmpMessage;
      } catch {
        // QEMU writes only JSON here; a torn or foreign line is skipped.
      }
    }
  }

  /** Waits up to `timeoutMs` for the next message; undefined on timeout or end of file. */
  read(timeoutMs: number): QmpMessage | undefined {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.next();
      if (m) return m;
      if (this.#closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      const [revents] = poll([this.outFd], Math.min(left, 1000));
      if ((revents ?? 0) & (POLLIN | POLLHUP | POLLERR)) this.pump();
    }
  }

  /** Sends a command and returns its reply; events seen meanwhile go to `events`. */
  command(execute: string, args?: Record<string, unknown>, timeoutMs = 10_000): QmpMessage | undefined {
    if (this.#closed) return undefined;
    const line = JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n';
    try {
      writeSync(this.inFd, line);
    } catch {
      return undefined;
    }
    for (;;) {
      const m = this.read(timeoutMs);
      if (!m) return undefined;
      if (m.event) this.events.push(m);
      else if (m.return !== undefined || m.error) return m;
    }
  }
}

/** Whether the CPU sits in `hlt` with interrupts off: nothing can ever wake it. */
export function haltedForGood(text: string): boolean {
  const hlt = /\bHLT=(\d)/.exec(text);
  const rfl = /\bRFL=([0-9a-f]+)/.exec(text);
  return hlt?.[1] === '1' && rfl !== null && (Number.parseInt(rfl[1]!, 16) & 0x200) === 0;
}

/** The registers a crash report needs, from `info registers` (QEMU's x86 dump). */
export function parseInfoRegisters(text: string): { rip: bigint; rsp: bigint; cs: number; cr2: bigint; cr3: bigint } | undefined {
  const reg = (name: string): bigint | undefined => {
    const m = new RegExp(`\\b${name}=([0-9a-f]+)`).exec(text);
    return m ? BigInt(`0x${m[1]}`) : undefined;
  };
  const cs = /^CS =([0-9a-f]{4})/m.exec(text);
  const rip = reg('RIP'), rsp = reg('RSP'), cr2 = reg('CR2'), cr3 = reg('CR3');
  if (rip === undefined || rsp === undefined || cr2 === undefined || cr3 === undefined || !cs) return undefined;
  return { rip, rsp, cs: Number.parseInt(cs[1]!, 16), cr2, cr3 };
}
