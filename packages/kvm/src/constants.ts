/**
 * KVM constants the host uses, named as in <linux/kvm.h> (checked against it
 * by test/structs.test.ts).
 */

export const KVM_API_VERSION = 12;

// kvm_run.exit_reason
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HYPERCALL = 3;
export const KVM_EXIT_DEBUG = 4;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;

// kvm_run.io.direction
export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

// kvm_run.internal.suberror
export const KVM_INTERNAL_ERROR_EMULATION = 1;
export const KVM_INTERNAL_ERROR_SIMUL_EX = 2;
export const KVM_INTERNAL_ERROR_DELIVERY_EV = 3;

// kvm_run.system_event.type
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
export const KVM_SYSTEM_EVENT_RESET = 2;
export const KVM_SYSTEM_EVENT_CRASH = 3;

// kvm_mp_state.mp_state
export const KVM_MP_STATE_RUNNABLE = 0;
export const KVM_MP_STATE_HALTED = 3;

// kvm_userspace_memory_region.flags
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
export const KVM_MEM_READONLY = 2;

// Capabilities (KVM_CHECK_EXTENSION / KVM_ENABLE_CAP).
export const KVM_CAP_IRQCHIP = 0;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_EXT_CPUID = 7;
export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_IMMEDIATE_EXIT = 136;
export const KVM_CAP_X86_TRIPLE_FAULT_EVENT = 218;
