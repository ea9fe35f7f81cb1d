export * from './errors.js';
export * from './elf.js';
export * from './page-tables.js';
export * from './gdt.js';
export * from './cpu-state.js';
export * from './boot-plan.js';
export { buildCpio, CpioError, type CpioEntry } from './cpio.js';
