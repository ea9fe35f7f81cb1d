/**
 * Pure decoding of a vCPU's kvm_run mapping after KVM_RUN. Every offset and
 * length taken from the page is checked against the buffer, so a corrupt page
 * yields an ExitDecodeError instead of a read outside it.
 */
import {
  KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT,
  KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN, KVM_EXIT_SYSTEM_EVENT,
} from './constants.js';
import { ExitDecodeError } from './errors.js';
import type { Exit } from '@kvmos/protocol';
import { RUN, RUN_INTERNAL_DATA_LEN, RUN_MMIO_DATA_LEN, RUN_SYSTEM_EVENT_DATA_LEN } from './structs.js';

export type { Exit } from '@kvmos/protocol';

function u64s(run: Buffer, at: number, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => run.readBigUInt64LE(at + 8 * i));
}

export function decodeExit(run: Buffer): Exit {
  const o = RUN.offsets;
  if (run.length < o.kvm_valid_regs) {
    throw new ExitDecodeError(-1, `run page of ${run.length} bytes is shorter than its ${o.kvm_valid_regs}-byte header`);
  }
  const code = run.readUInt32LE(o.exit_reason);
  switch (code) {
    case KVM_EXIT_IO: {
      const dir = run.readUInt8(o['io.direction']);
      const size = run.readUInt8(o['io.size']);
      const count = run.readUInt32LE(o['io.count']);
      const offset = run.readBigUInt64LE(o['io.data_offset']);
      if (dir !== KVM_EXIT_IO_IN && dir !== KVM_EXIT_IO_OUT) throw new ExitDecodeError(code, `bad io direction ${dir}`);
      if (size !== 1 && size !== 2 && size !== 4) throw new ExitDecodeError(code, `bad io size ${size}`);
      const len = size * count;
      if (offset + BigInt(len) > BigInt(run.length)) {
        throw new ExitDecodeError(code, `io data [${offset}, +${len}) is outside the ${run.length}-byte run mapping`);
      }
      const at = Number(offset);
      return {
        reason: 'io',
        direction: dir === KVM_EXIT_IO_IN ? 'in' : 'out',
        port: run.readUInt16LE(o['io.port']),
        size,
        count,
        data: run.subarray(at, at + len),
      };
    }
    case KVM_EXIT_MMIO: {
      const len = run.readUInt32LE(o['mmio.len']);
      if (len > RUN_MMIO_DATA_LEN) throw new ExitDecodeError(code, `mmio len ${len} is over ${RUN_MMIO_DATA_LEN}`);
      return {
        reason: 'mmio',
        physAddr: run.readBigUInt64LE(o['mmio.phys_addr']),
        len,
        isWrite: run.readUInt8(o['mmio.is_write']) !== 0,
        data: run.subarray(o['mmio.data'], o['mmio.data'] + len),
      };
    }
    case KVM_EXIT_HLT:
      return { reason: 'hlt' };
    case KVM_EXIT_SHUTDOWN:
      return { reason: 'shutdown' };
    case KVM_EXIT_INTERNAL_ERROR: {
      const ndata = run.readUInt32LE(o['internal.ndata']);
      if (ndata > RUN_INTERNAL_DATA_LEN) throw new ExitDecodeError(code, `internal.ndata ${ndata} is over ${RUN_INTERNAL_DATA_LEN}`);
      return {
        reason: 'internal-error',
        suberror: run.readUInt32LE(o['internal.suberror']),
        data: u64s(run, o['internal.data'], ndata),
      };
    }
    case KVM_EXIT_FAIL_ENTRY:
      return {
        reason: 'fail-entry',
        hardwareEntryFailureReason: run.readBigUInt64LE(o['fail_entry.hardware_entry_failure_reason']),
        cpu: run.readUInt32LE(o['fail_entry.cpu']),
      };
    case KVM_EXIT_SYSTEM_EVENT: {
      const ndata = run.readUInt32LE(o['system_event.ndata']);
      if (ndata > RUN_SYSTEM_EVENT_DATA_LEN) {
        throw new ExitDecodeError(code, `system_event.ndata ${ndata} is over ${RUN_SYSTEM_EVENT_DATA_LEN}`);
      }
      return {
        reason: 'system-event',
        type: run.readUInt32LE(o['system_event.type']),
        flags: u64s(run, o['system_event.data'], ndata),
      };
    }
    default:
      return { reason: 'unknown', code };
  }
}
