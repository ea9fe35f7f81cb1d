/** The KVM system fd (/dev/kvm): capabilities, supported CPUID, VM creation. */
import { KVM_API_VERSION } from './constants.js';
import { DeviceFd } from './device.js';
import { E2BIG, KvmError, KvmOpenError, openHint } from './errors.js';
import {
  KVM_CHECK_EXTENSION, KVM_CREATE_VM, KVM_GET_API_VERSION, KVM_GET_SUPPORTED_CPUID, KVM_GET_VCPU_MMAP_SIZE,
} from './ioctls.js';
import { O_CLOEXEC, O_RDWR, sysOpen } from './libc.js';
import { CPUID2, cpuid2Size, decodeCpuid2, type CpuidEntry } from './structs.js';
import { Vm } from './vm.js';

// KVM_MAX_CPUID_ENTRIES in arch/x86/include/asm/kvm_host.h: growing past it is pointless.
const MAX_CPUID_ENTRIES = 256;

export class Kvm {
  readonly #dev: DeviceFd;

  private constructor(fd: number) {
    this.#dev = new DeviceFd(fd, 'Kvm');
  }

  /** Opens the KVM device and checks its API version. */
  static open(path = '/dev/kvm'): Kvm {
    const r = sysOpen(path, O_RDWR | O_CLOEXEC);
    if (r.value < 0) throw new KvmOpenError(`open(${path})`, r.errno, openHint(path, r.errno));
    const kvm = new Kvm(r.value);
    try {
      kvm.apiVersion();
    } catch (e) {
      kvm.close();
      throw e;
    }
    return kvm;
  }

  /** KVM_GET_API_VERSION; throws unless it is the only stable version, 12. */
  apiVersion(): number {
    const v = this.#dev.ioctl('KVM_GET_API_VERSION', KVM_GET_API_VERSION);
    if (v !== KVM_API_VERSION) {
      throw new KvmError('KVM_GET_API_VERSION', 0, 'this kernel\'s KVM is too old or unusual to be supported', `API version ${v}, expected ${KVM_API_VERSION}`);
    }
    return v;
  }

  /** Size of each vCPU's kvm_run mapping. */
  vcpuMmapSize(): number {
    return this.#dev.ioctl('KVM_GET_VCPU_MMAP_SIZE', KVM_GET_VCPU_MMAP_SIZE);
  }

  /** KVM_CHECK_EXTENSION: 0 when the capability is missing, else a capability-specific value. */
  checkExtension(cap: number): number {
    return this.#dev.ioctl('KVM_CHECK_EXTENSION', KVM_CHECK_EXTENSION, cap);
  }

  /** The CPUID leaves KVM can present to a guest; KVM says E2BIG until the buffer is big enough. */
  supportedCpuid(): CpuidEntry[] {
    for (let capacity = 64; ; capacity *= 2) {
      const buf = this.#dev.scratch(cpuid2Size(capacity), 'KVM_GET_SUPPORTED_CPUID');
      buf.fill(0, 0, cpuid2Size(capacity));
      buf.writeUInt32LE(capacity, CPUID2.offsets.nent);
      try {
        this.#dev.ioctlScratch('KVM_GET_SUPPORTED_CPUID', KVM_GET_SUPPORTED_CPUID);
        return decodeCpuid2(buf);
      } catch (e) {
        if (!(e instanceof KvmError && e.errno === E2BIG) || capacity >= MAX_CPUID_ENTRIES) throw e;
      }
    }
  }

  createVm(): Vm {
    const mmapSize = this.vcpuMmapSize();
    const fd = this.#dev.ioctl('KVM_CREATE_VM', KVM_CREATE_VM, 0);
    return new Vm(fd, mmapSize);
  }

  /** Closes /dev/kvm; VMs made from it stay usable and are closed on their own. */
  close(): void {
    this.#dev.close();
  }
}
