/** A VM fd: memory slots, capabilities and vCPU creation. */
import { DeviceFd } from './device.js';
import { KvmError, hintFor } from './errors.js';
import { KVM_CREATE_IRQCHIP, KVM_CREATE_VCPU, KVM_ENABLE_CAP, KVM_SET_USER_MEMORY_REGION } from './ioctls.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE, mmap, sysClose } from './libc.js';
import type { GuestMemory } from './memory.js';
import { ENABLE_CAP, USERSPACE_MEMORY_REGION, encodeEnableCap, encodeUserMemoryRegion } from './structs.js';
import { Vcpu } from './vcpu.js';

export class Vm {
  readonly #dev: DeviceFd;
  readonly #vcpuMmapSize: number;

  /** @internal Made by Kvm.createVm(). */
  constructor(fd: number, vcpuMmapSize: number) {
    this.#dev = new DeviceFd(fd, 'Vm');
    this.#vcpuMmapSize = vcpuMmapSize;
  }

  /** Maps all of `memory` at guest-physical `guestPhysAddr` in memory slot `slot`. */
  setUserMemoryRegion(slot: number, guestPhysAddr: number, memory: GuestMemory, flags = 0): void {
    if (!Number.isSafeInteger(guestPhysAddr) || guestPhysAddr < 0) {
      throw new RangeError(`guest physical address must be a non-negative integer, got ${guestPhysAddr}`);
    }
    const name = 'KVM_SET_USER_MEMORY_REGION';
    const buf = this.#dev.scratch(USERSPACE_MEMORY_REGION.size, name);
    encodeUserMemoryRegion(
      { slot, flags, guestPhysAddr: BigInt(guestPhysAddr), memorySize: BigInt(memory.size), userspaceAddr: memory.hostAddr },
      buf,
    );
    this.#dev.ioctlScratch(name, KVM_SET_USER_MEMORY_REGION);
  }

  /**
   * KVM_CREATE_IRQCHIP: an in-kernel 8259 PIC pair and IOAPIC, and a local
   * APIC for every vCPU created afterwards (at 0xfee00000, its timer at
   * KVM's 1 GHz APIC bus clock). With it, `hlt` waits inside KVM for an
   * interrupt instead of exiting. Must come before the first vCPU.
   */
  createIrqchip(): void {
    this.#dev.ioctl('KVM_CREATE_IRQCHIP', KVM_CREATE_IRQCHIP, 0);
  }

  /** Creates vCPU `id` and maps its kvm_run area. */
  createVcpu(id = 0): Vcpu {
    const fd = this.#dev.ioctl('KVM_CREATE_VCPU', KVM_CREATE_VCPU, id);
    const run = mmap(this.#vcpuMmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    if ('errno' in run) {
      sysClose(fd);
      throw new KvmError('mmap (vCPU kvm_run)', run.errno, hintFor('mmap', run.errno));
    }
    return new Vcpu(fd, run);
  }

  /** KVM_ENABLE_CAP on the VM, with up to 4 arguments. */
  enableCap(cap: number, args: bigint[] = []): void {
    const buf = this.#dev.scratch(ENABLE_CAP.size, 'KVM_ENABLE_CAP');
    encodeEnableCap(cap, args, buf);
    this.#dev.ioctlScratch('KVM_ENABLE_CAP', KVM_ENABLE_CAP);
  }

  /** Closes the VM fd; vCPUs and memory are closed/freed on their own. */
  close(): void {
    this.#dev.close();
  }
}
