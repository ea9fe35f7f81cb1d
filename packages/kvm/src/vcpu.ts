/** A vCPU fd with its kvm_run mapping: registers, MSRs, CPUID, and running. */
import { DeviceFd } from './device.js';
import { decodeExit, type Exit } from './exits.js';
import { KvmError } from './errors.js';
import {
  KVM_GET_MSRS, KVM_GET_REGS, KVM_GET_SREGS, KVM_RUN, KVM_SET_CPUID2, KVM_SET_MSRS, KVM_SET_REGS, KVM_SET_SREGS,
} from './ioctls.js';
import { munmap, type Mapping } from './libc.js';
import {
  REGS, SREGS, cpuid2Size, decodeMsrs, decodeRegs, decodeSregs, encodeCpuid2, encodeMsrs, encodeRegs, encodeSregs,
  msrsSize, type CpuidEntry, type MsrEntry, type Regs, type Sregs,
} from './structs.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

export class Vcpu {
  readonly #dev: DeviceFd;
  #run: Mapping | undefined;

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

  /** Runs the guest until it exits to the host (EINTR is retried) and decodes why. */
  run(): Exit {
    this.#dev.ioctl('KVM_RUN', KVM_RUN);
    // The fd was open for the ioctl, so the run mapping is too (close() drops both).
    return decodeExit((this.#run as Mapping).buffer);
  }

  /** Unmaps kvm_run and closes the fd; idempotent. Exit data views must not be used after this. */
  close(): void {
    if (this.#run) {
      munmap(this.#run);
      this.#run = undefined;
    }
    this.#dev.close();
  }
}
