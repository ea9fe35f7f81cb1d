/**
 * KVM ioctl numbers, computed like <asm-generic/ioctl.h> does so each one shows
 * its direction and argument size; test/structs.test.ts checks them against
 * the kernel header.
 */
import { CPUID2, ENABLE_CAP, MSRS, REGS, SREGS, USERSPACE_MEMORY_REGION } from './structs.js';

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

// Multiplications instead of shifts: dir << 30 would overflow into the sign bit.
function ioc(dir: number, type: number, nr: number, size: number): number {
  return dir * 2 ** 30 + size * 2 ** 16 + type * 2 ** 8 + nr;
}
export const _IO = (type: number, nr: number): number => ioc(IOC_NONE, type, nr, 0);
export const _IOR = (type: number, nr: number, size: number): number => ioc(IOC_READ, type, nr, size);
export const _IOW = (type: number, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size);
export const _IOWR = (type: number, nr: number, size: number): number =>
  ioc(IOC_READ | IOC_WRITE, type, nr, size);

export const KVMIO = 0xae;

// System ioctls (on /dev/kvm).
export const KVM_GET_API_VERSION = _IO(KVMIO, 0x00);
export const KVM_CREATE_VM = _IO(KVMIO, 0x01);
export const KVM_CHECK_EXTENSION = _IO(KVMIO, 0x03);
export const KVM_GET_VCPU_MMAP_SIZE = _IO(KVMIO, 0x04);
// The size is the header only: the entries follow it (a flexible array).
export const KVM_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, CPUID2.size);

// VM ioctls.
export const KVM_CREATE_VCPU = _IO(KVMIO, 0x41);
export const KVM_SET_USER_MEMORY_REGION = _IOW(KVMIO, 0x46, USERSPACE_MEMORY_REGION.size);
export const KVM_ENABLE_CAP = _IOW(KVMIO, 0xa3, ENABLE_CAP.size);
/** An in-kernel PIC, IOAPIC and a local APIC per vCPU; before any vCPU exists. */
export const KVM_CREATE_IRQCHIP = _IO(KVMIO, 0x60);

// vCPU ioctls.
export const KVM_RUN = _IO(KVMIO, 0x80);
export const KVM_GET_REGS = _IOR(KVMIO, 0x81, REGS.size);
export const KVM_SET_REGS = _IOW(KVMIO, 0x82, REGS.size);
export const KVM_GET_SREGS = _IOR(KVMIO, 0x83, SREGS.size);
export const KVM_SET_SREGS = _IOW(KVMIO, 0x84, SREGS.size);
export const KVM_GET_MSRS = _IOWR(KVMIO, 0x88, MSRS.size);
export const KVM_SET_MSRS = _IOW(KVMIO, 0x89, MSRS.size);
export const KVM_SET_CPUID2 = _IOW(KVMIO, 0x90, CPUID2.size);
/** struct kvm_mp_state is one u32. */
export const KVM_GET_MP_STATE = _IOR(KVMIO, 0x98, 4);
/** A vCPU's binary statistics fd (KVM_CAP_BINARY_STATS_FD, Linux 5.14). */
export const KVM_GET_STATS_FD = _IO(KVMIO, 0xce);
