export * from './layout.js';
export * from './errors.js';
export * from './boot-info.js';
export * from './hypercalls.js';
export * from './cmdline.js';
