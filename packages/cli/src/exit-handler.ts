/**
 * What to do about one VM exit, as a pure function (Firecracker's
 * `handle_kvm_exit`): tests feed it made-up exits and fake memory, no KVM.
 * The run loop (machine.ts) performs the returned action.
 */
import type { Exit } from '@kvmos/kvm';
import { decodeHypercall, type GuestMemoryReader, type Hypercall } from './hypercalls.js';
import { GuestRequestError } from './errors.js';

export type Action =
  | { kind: 'hypercall'; call: Hypercall }
  /** The guest cannot go on; `why` is one line, `where` says what to look at. */
  | { kind: 'stop'; error: GuestStop };

export type GuestStop =
  | { type: 'bad-request'; message: string }
  | { type: 'halted' }
  | { type: 'shutdown' }
  | { type: 'internal-error'; suberror: number }
  | { type: 'fail-entry'; reason: bigint }
  | { type: 'mmio'; physAddr: bigint; isWrite: boolean; len: number }
  | { type: 'unexpected-exit'; what: string };

export function handleExit(exit: Exit, memory: GuestMemoryReader): Action {
  switch (exit.reason) {
    case 'io': {
      if (exit.direction !== 'out' || exit.size !== 4 || exit.count !== 1) {
        return stopBadRequest(
          `${exit.direction === 'in' ? 'read from' : 'write to'} port 0x${exit.port.toString(16)} ` +
            `(size ${exit.size}, count ${exit.count}): kvmos hypercalls are single 32-bit outs`,
        );
      }
      try {
        return { kind: 'hypercall', call: decodeHypercall(exit.port, exit.data.readUInt32LE(0), memory) };
      } catch (e) {
        if (e instanceof GuestRequestError) return stopBadRequest(e.message);
        throw e;
      }
    }
    case 'hlt':
      return { kind: 'stop', error: { type: 'halted' } };
    case 'shutdown':
      return { kind: 'stop', error: { type: 'shutdown' } };
    case 'internal-error':
      return { kind: 'stop', error: { type: 'internal-error', suberror: exit.suberror } };
    case 'fail-entry':
      return { kind: 'stop', error: { type: 'fail-entry', reason: exit.hardwareEntryFailureReason } };
    case 'mmio':
      return {
        kind: 'stop',
        error: { type: 'mmio', physAddr: exit.physAddr, isWrite: exit.isWrite, len: exit.len },
      };
    case 'system-event':
      return { kind: 'stop', error: { type: 'unexpected-exit', what: `system event ${exit.type}` } };
    case 'deadline':
      // Machine.run turns this into a GuestTimeoutError before it gets here.
      return { kind: 'stop', error: { type: 'unexpected-exit', what: 'the run deadline' } };
    case 'unknown':
      return { kind: 'stop', error: { type: 'unexpected-exit', what: `exit reason ${exit.code}` } };
  }
}

function stopBadRequest(message: string): Action {
  return { kind: 'stop', error: { type: 'bad-request', message } };
}
