export * from './x11.js';
