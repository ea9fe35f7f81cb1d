export * from './layout.js';
export * from './errors.js';
export * from './boot-info.js';
export * from './hypercalls.js';
export * from './cmdline.js';
export * from './exec-hypercalls.js';
export * from './args-block.js';
export * from './mailbox.js';
