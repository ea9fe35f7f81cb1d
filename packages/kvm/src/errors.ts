/** Errors that say which call failed, with which errno, and what to do about it. */

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 9: 'EBADF',
  11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST',
  19: 'ENODEV', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 28: 'ENOSPC',
  38: 'ENOSYS', 95: 'EOPNOTSUPP',
};

export const EINTR = 4;
export const E2BIG = 7;
export const EBADF = 9;

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** A failed KVM call. `ioctl` names the call, `errno` is 0 when KVM returned a bad value rather than failing. */
export class KvmError extends Error {
  readonly ioctl: string;
  readonly errno: number;
  readonly hint: string;

  constructor(ioctl: string, errno: number, hint: string, detail?: string) {
    const what = detail ?? (errno ? `${errnoName(errno)} (errno ${errno})` : 'failed');
    super(`${ioctl}: ${what}${hint ? ` - ${hint}` : ''}`);
    this.name = new.target.name;
    this.ioctl = ioctl;
    this.errno = errno;
    this.hint = hint;
  }
}

/** Opening /dev/kvm failed (or it is not a usable KVM). */
export class KvmOpenError extends KvmError {}

/** An access outside a GuestMemory, or after it was freed. */
export class GuestMemoryError extends Error {
  readonly addr: number;
  readonly len: number;
  readonly size: number;

  constructor(message: string, addr: number, len: number, size: number) {
    super(message);
    this.name = 'GuestMemoryError';
    this.addr = addr;
    this.len = len;
    this.size = size;
  }
}

/** A kvm_run page whose fields are inconsistent (e.g. I/O data outside the page). */
export class ExitDecodeError extends Error {
  readonly exitReason: number;

  constructor(exitReason: number, message: string) {
    super(`kvm_run (exit reason ${exitReason}): ${message}`);
    this.name = 'ExitDecodeError';
    this.exitReason = exitReason;
  }
}

// What to do, per ioctl and errno; the errno-only table is the fallback.
const IOCTL_HINTS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  KVM_SET_USER_MEMORY_REGION: {
    22: 'guest address, size and host address must be 4 KiB aligned and the slot below KVM_CAP_NR_MEMSLOTS',
    17: 'the region overlaps another memory slot',
  },
  KVM_SET_SREGS: {
    22: 'inconsistent control registers or segments (e.g. CR0.PG without CR0.PE, EFER.LMA without LME and CR0.PG, or a 64-bit CS with db=1)',
  },
  KVM_SET_REGS: { 22: 'invalid register values' },
  KVM_SET_CPUID2: {
    7: 'too many CPUID entries (KVM takes at most 256)',
    22: 'CPUID entries KVM cannot accept: start from Kvm.supportedCpuid()',
  },
  KVM_GET_SUPPORTED_CPUID: { 7: 'more CPUID entries than the buffer holds' },
  KVM_CREATE_VCPU: {
    17: 'a vCPU with this id already exists in the VM',
    22: 'the vCPU id is above KVM_CAP_NR_VCPUS or KVM cannot run this CPU',
  },
  KVM_CREATE_IRQCHIP: {
    17: 'the VM already has an irqchip',
    22: 'a vCPU already exists (the irqchip must come first) or this KVM cannot emulate one',
  },
  KVM_CREATE_VM: { 12: 'not enough memory for a VM', 24: 'out of file descriptors' },
  KVM_RUN: {
    14: 'guest memory could not be accessed: a memory slot points at host memory that is no longer mapped (GuestMemory freed?)',
    22: 'the vCPU state is invalid for entry: check sregs (CR0/CR4/EFER, segments)',
  },
  KVM_ENABLE_CAP: { 22: 'the capability is not supported or its arguments are invalid: check Kvm.checkExtension() first' },
};

const ERRNO_HINTS: Readonly<Record<number, string>> = {
  9: 'the file descriptor is closed: the object was closed before this call',
  12: 'out of memory',
  14: 'a pointer passed to KVM is not mapped',
  22: 'KVM rejected the arguments',
  24: 'out of file descriptors: close unused VMs and vCPUs',
  25: 'this ioctl is not supported by this kernel (or the fd is not a KVM fd)',
};

export function hintFor(ioctl: string, errno: number): string {
  return IOCTL_HINTS[ioctl]?.[errno] ?? ERRNO_HINTS[errno] ?? '';
}

/** The hint for a failed open of the KVM device. */
export function openHint(path: string, errno: number): string {
  switch (errno) {
    case 13:
    case 1:
      return `${path}: permission denied - add your user to the kvm group (sudo usermod -aG kvm $USER) and log in again, or use --accel tcg`;
    case 2:
    case 19:
    case 6:
      return (
        `${path} does not exist: KVM is not available - enable virtualization (VT-x/AMD-V) in the firmware and load kvm_intel or kvm_amd (modprobe kvm_intel); ` +
        'in a VM, turn on nested virtualization; in a container, pass the device (docker run --device /dev/kvm); ' +
        "or run on QEMU's software CPU, which works everywhere: --accel tcg"
      );
    case 16:
      return `${path} is busy: another hypervisor (e.g. VirtualBox) may hold the virtualization extensions`;
    default:
      return `could not open ${path}`;
  }
}
