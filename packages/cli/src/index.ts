export { Machine, type BootOptions, type RunResult } from './machine.js';
export { handleExit, type Action, type GuestStop } from './exit-handler.js';
export { decodeHypercall, type Hypercall, type GuestMemoryReader } from './hypercalls.js';
export { normalizeArgv, parseCommand, parseRamMiB, usage } from './args.js';
export * from './errors.js';
