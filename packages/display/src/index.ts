export { checkFrame } from './display.js';
export type { Display, Frame, InputEvent } from './display.js';
export { HeadlessDisplay } from './headless.js';
export { SdlDisplay, fitRect, type Rect, type SdlDisplayOptions } from './sdl.js';
export { encodePng, crc32 } from './png.js';
export * from './evdev.js';
