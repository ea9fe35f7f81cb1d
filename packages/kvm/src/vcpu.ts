/** A vCPU fd with its kvm_run mapping: registers, MSRs, CPUID, and running. */
import { closeSync, readSync } from 'node:fs';
import { DeviceFd } from './device.js';
import { decodeExit, type Exit } from './exits.js';
import { KvmError } from './errors.js';
import { KVM_MP_STATE_HALTED } from './constants.js';
import {
  KVM_GET_MP_STATE, KVM_GET_MSRS, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_STATS_FD, KVM_RUN, KVM_SET_CPUID2, KVM_SET_MSRS, KVM_SET_REGS, KVM_SET_SREGS,
} from './ioctls.js';
import { munmap, type Mapping } from './libc.js';
import {
  REGS, SREGS, cpuid2Size, decodeMsrs, decodeRegs, decodeSregs, encodeCpuid2, encodeMsrs, encodeRegs, encodeSregs,
  msrsSize, type CpuidEntry, type MsrEntry, type Regs, type Sregs,
} from './structs.js';

const hex = (n: number): string => `0x${n.toString(16)}`;
/** sizeof(struct kvm_mp_state): one u32. */
const MP_STATE_SIZE = 4;
const RFLAGS_IF = 1n << 9n;

export class Vcpu {
  readonly #dev: DeviceFd;
  #run: Mapping | undefined;
  #stats: { fd: number; dataOffset: number; scalars: { name: string; offset: number }[] } | undefined;

  /** @internal Made by Vm.createVcpu(). */
  constructor(fd: number, run: Mapping) {
    this.#dev = new DeviceFd(fd, 'Vcpu');
    this.#run = run;
  }

  getRegs(): Regs {
    const buf = this.#dev.scratch(REGS.size, 'KVM_GET_REGS');
    this.#dev.ioctlScratch('KVM_GET_REGS', KVM_GET_REGS);
    return decodeRegs(buf);
  }

  setRegs(r: Regs): void {
    encodeRegs(r, this.#dev.scratch(REGS.size, 'KVM_SET_REGS'));
    this.#dev.ioctlScratch('KVM_SET_REGS', KVM_SET_REGS);
  }

  getSregs(): Sregs {
    const buf = this.#dev.scratch(SREGS.size, 'KVM_GET_SREGS');
    this.#dev.ioctlScratch('KVM_GET_SREGS', KVM_GET_SREGS);
    return decodeSregs(buf);
  }

  setSregs(s: Sregs): void {
    encodeSregs(s, this.#dev.scratch(SREGS.size, 'KVM_SET_SREGS'));
    this.#dev.ioctlScratch('KVM_SET_SREGS', KVM_SET_SREGS);
  }

  /** KVM_SET_MSRS returns how many it set, stopping at the first it rejects: name that one. */
  setMsrs(entries: MsrEntry[]): void {
    if (entries.length === 0) return;
    encodeMsrs(entries, this.#dev.scratch(msrsSize(entries.length), 'KVM_SET_MSRS'));
    const n = this.#dev.ioctlScratch('KVM_SET_MSRS', KVM_SET_MSRS);
    const bad = entries[n];
    if (bad) {
      throw new KvmError(
        'KVM_SET_MSRS', 0,
        'the MSR is not supported by this KVM or the value is invalid for it',
        `MSR ${hex(bad.index)} (value 0x${bad.data.toString(16)}) was rejected`,
      );
    }
  }

  getMsrs(indices: number[]): MsrEntry[] {
    if (indices.length === 0) return [];
    const buf = this.#dev.scratch(msrsSize(indices.length), 'KVM_GET_MSRS');
    encodeMsrs(indices.map((index) => ({ index, data: 0n })), buf);
    const n = this.#dev.ioctlScratch('KVM_GET_MSRS', KVM_GET_MSRS);
    const bad = indices[n];
    if (bad !== undefined) {
      throw new KvmError('KVM_GET_MSRS', 0, 'the MSR is not supported by this KVM', `MSR ${hex(bad)} could not be read`);
    }
    return decodeMsrs(buf, indices.length);
  }

  /** KVM_SET_CPUID2; start from Kvm.supportedCpuid(). */
  setCpuid(entries: CpuidEntry[]): void {
    encodeCpuid2(entries, this.#dev.scratch(cpuid2Size(entries.length), 'KVM_SET_CPUID2'));
    this.#dev.ioctlScratch('KVM_SET_CPUID2', KVM_SET_CPUID2);
  }

  /**
   * Runs the guest until it exits to the host and decodes why. EINTR (a
   * signal, e.g. KvmMachine's alarm) is retried, unless `deadlineMs`
   * (performance.now() time) has passed, then `{ reason: 'deadline' }`, or
   * `onInterrupt()` returns an exit, then that one.
   */
  run(deadlineMs?: number, onInterrupt?: () => Exit | undefined): Exit {
    if (deadlineMs !== undefined && performance.now() >= deadlineMs) return { reason: 'deadline' };
    let stopped: Exit | undefined;
    const stop = (): boolean => {
      stopped = deadlineMs !== undefined && performance.now() >= deadlineMs ? { reason: 'deadline' } : onInterrupt?.();
      return stopped !== undefined;
    };
    if (this.#dev.ioctlUnless('KVM_RUN', KVM_RUN, stop) === undefined) return stopped as Exit;
    // The fd was open for the ioctl, so the run mapping is too (close() drops both).
    return decodeExit((this.#run as Mapping).buffer);
  }

  /** KVM_GET_MP_STATE: runnable, halted (in `hlt`, with an in-kernel irqchip), ... */
  mpState(): number {
    const buf = this.#dev.scratch(MP_STATE_SIZE, 'KVM_GET_MP_STATE');
    this.#dev.ioctlScratch('KVM_GET_MP_STATE', KVM_GET_MP_STATE);
    return buf.readUInt32LE(0);
  }

  /**
   * Whether the vCPU sits in `hlt` with interrupts off, which nothing here
   * can end (no NMI or INIT is ever sent). Only with an in-kernel irqchip:
   * without one a `hlt` is an exit and the vCPU is never left halted.
   */
  haltedForGood(): boolean {
    return this.mpState() === KVM_MP_STATE_HALTED && (this.getRegs().rflags & RFLAGS_IF) === 0n;
  }

  /**
   * KVM's counters for this vCPU (KVM_GET_STATS_FD; e.g. `exits`,
   * `io_exits`, `insn_emulation`, `pf_taken`, `tlb_flush`): every scalar
   * statistic by name, read now. The stats fd is opened on first use and
   * closed with the vCPU. Histograms are left out.
   */
  stats(): Map<string, bigint> {
    this.#stats ??= this.#openStats();
    const { fd, dataOffset, scalars } = this.#stats;
    const end = Math.max(0, ...scalars.map((s) => s.offset + 8));
    const data = Buffer.alloc(end);
    readExactly(fd, data, dataOffset);
    return new Map(scalars.map((s) => [s.name, data.readBigUInt64LE(s.offset)]));
  }

  #openStats(): { fd: number; dataOffset: number; scalars: { name: string; offset: number }[] } {
    const fd = this.#dev.ioctl('KVM_GET_STATS_FD', KVM_GET_STATS_FD);
    try {
      // struct kvm_stats_header: flags, name_size, num_desc, id_offset, desc_offset, data_offset (u32 each).
      const header = Buffer.alloc(24);
      readExactly(fd, header, 0);
      const nameSize = header.readUInt32LE(4);
      const count = header.readUInt32LE(8);
      const descOffset = header.readUInt32LE(16);
      const dataOffset = header.readUInt32LE(20);
      // struct kvm_stats_desc: flags u32, exponent s16, size u16, offset u32, bucket_size u32, name[name_size].
      const descSize = 16 + nameSize;
      const descs = Buffer.alloc(descSize * count);
      readExactly(fd, descs, descOffset);
      const scalars: { name: string; offset: number }[] = [];
      for (let i = 0; i < count; i++) {
        const d = descs.subarray(i * descSize, (i + 1) * descSize);
        if (d.readUInt16LE(6) !== 1) continue;
        const name = d.subarray(16).toString('latin1');
        const nul = name.indexOf('\0');
        scalars.push({ name: nul < 0 ? name : name.slice(0, nul), offset: d.readUInt32LE(8) });
      }
      return { fd, dataOffset, scalars };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Unmaps kvm_run and closes the fd; idempotent. Exit data views must not be used after this. */
  close(): void {
    if (this.#stats) {
      closeSync(this.#stats.fd);
      this.#stats = undefined;
    }
    if (this.#run) {
      munmap(this.#run);
      this.#run = undefined;
    }
    this.#dev.close();
  }
}

function readExactly(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new KvmError('KVM_GET_STATS_FD', 0, 'the statistics file ended early', `read at ${position + done}`);
    done += n;
  }
}
