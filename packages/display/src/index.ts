export type { Display, Frame, InputEvent } from './display.js';
export { HeadlessDisplay } from './headless.js';
