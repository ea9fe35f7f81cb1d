export { TcgMachine, defaultRomPath, QEMU_HINT, type TcgOptions } from './machine.js';
export { TcgError, QemuError } from './errors.js';
export { buildAccelBoot, PLAN, PLAN_VERSION, MAX_MSRS } from './boot-area.js';
export { qemuArgs, findOnPath, QEMU_BINARY, CHILD_FD } from './qemu.js';
export { parseInfoRegisters } from './qmp.js';
