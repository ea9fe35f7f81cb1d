export { checkFrame } from './display.js';
export type { Display, Frame, InputEvent } from './display.js';
export { HeadlessDisplay } from './headless.js';
export { SdlDisplay, fitRect, type Rect, type SdlDisplayOptions } from './sdl.js';
export {
  WebDisplay, WebDisplayError, parseMessage, hostPort, WEB_FRAME_HEADER_BYTES, WEB_FRAME_XRGB8888, WEB_SOCKET_PATH,
  WEB_MAX_MESSAGE, WEB_MAX_WHEEL_STEPS, WEB_MAX_PAYLOAD, WEB_MAX_VIEWERS, WEB_MAX_QUEUED_EVENTS, WEB_MAX_MESSAGES_PER_FRAME,
  isLoopback, type WebDisplayOptions, type WebMessage, type WebRoleMessage,
} from './web.js';
export { webPage } from './web-page.js';
export { encodePng, crc32 } from './png.js';
export * from './evdev.js';
