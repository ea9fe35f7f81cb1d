export * from './constants.js';
export * from './ioctls.js';
export * from './structs.js';
export { KvmError, KvmOpenError, GuestMemoryError, ExitDecodeError, errnoName } from './errors.js';
export { decodeExit, type Exit } from './exits.js';
export { GuestMemory } from './memory.js';
export { Kvm } from './system.js';
export { Vm } from './vm.js';
export { Vcpu } from './vcpu.js';
export { TCGETS, TCSETS, TCSETSW, TCSETSF, ttyGetAttr, ttySetAttr, ttyWindowSize, waitReadable } from './tty.js';
export {
  MFD_CLOEXEC, O_CLOEXEC, POLLERR, POLLHUP, POLLIN, ftruncate, memfdCreate, pipe2, poll, sysClose, type SysResult,
} from './libc.js';
/** The file system calls of the host's directory server (cli's host-fs.ts). */
export * as fsCalls from './fs-calls.js';
export { KvmMachine, type KvmBootOptions } from './machine.js';
export { APIC_DEFAULT_PHYS_BASE, ramLeavesApicPage, tryIrqchip, type Irqchip } from './irqchip.js';
