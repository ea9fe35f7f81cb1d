/**
 * Linux evdev codes (<linux/input-event-codes.h>) and the translation of
 * SDL's and a browser's keyboard and mouse input into them.
 */
import type { InputEvent } from './display.js';

export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;
export const EV_ABS = 0x03;

export const SYN_REPORT = 0;

export const REL_X = 0x00;
export const REL_Y = 0x01;
export const REL_HWHEEL = 0x06;
export const REL_WHEEL = 0x08;

export const ABS_X = 0x00;
export const ABS_Y = 0x01;

export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
export const BTN_SIDE = 0x113;
export const BTN_EXTRA = 0x114;

/** Key values of EV_KEY events. */
export const KEY_RELEASED = 0;
export const KEY_PRESSED = 1;
export const KEY_REPEATED = 2;

/** Linux key codes of a standard PC keyboard. */
export const KEY = {
  ESC: 1, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11,
  MINUS: 12, EQUAL: 13, BACKSPACE: 14, TAB: 15,
  Q: 16, W: 17, E: 18, R: 19, T: 20, Y: 21, U: 22, I: 23, O: 24, P: 25,
  LEFTBRACE: 26, RIGHTBRACE: 27, ENTER: 28, LEFTCTRL: 29,
  A: 30, S: 31, D: 32, F: 33, G: 34, H: 35, J: 36, K: 37, L: 38,
  SEMICOLON: 39, APOSTROPHE: 40, GRAVE: 41, LEFTSHIFT: 42, BACKSLASH: 43,
  Z: 44, X: 45, C: 46, V: 47, B: 48, N: 49, M: 50,
  COMMA: 51, DOT: 52, SLASH: 53, RIGHTSHIFT: 54, KPASTERISK: 55, LEFTALT: 56, SPACE: 57, CAPSLOCK: 58,
  F1: 59, F2: 60, F3: 61, F4: 62, F5: 63, F6: 64, F7: 65, F8: 66, F9: 67, F10: 68,
  NUMLOCK: 69, SCROLLLOCK: 70,
  KP7: 71, KP8: 72, KP9: 73, KPMINUS: 74, KP4: 75, KP5: 76, KP6: 77, KPPLUS: 78,
  KP1: 79, KP2: 80, KP3: 81, KP0: 82, KPDOT: 83,
  '102ND': 86, F11: 87, F12: 88,
  KPENTER: 96, RIGHTCTRL: 97, KPSLASH: 98, SYSRQ: 99, RIGHTALT: 100,
  HOME: 102, UP: 103, PAGEUP: 104, LEFT: 105, RIGHT: 106, END: 107, DOWN: 108, PAGEDOWN: 109,
  INSERT: 110, DELETE: 111, MUTE: 113, VOLUMEDOWN: 114, VOLUMEUP: 115, POWER: 116, KPEQUAL: 117,
  PAUSE: 119, LEFTMETA: 125, RIGHTMETA: 126, COMPOSE: 127,
} as const;

/**
 * SDL scancodes (USB HID keyboard usages; named as in SDL_scancode.h without
 * the SDL_SCANCODE_ prefix) with their number and the Linux key code the
 * kernel's HID driver gives the same physical key.
 */
export const SDL_SCANCODES: readonly (readonly [name: string, scancode: number, linux: number])[] = [
  ['A', 4, KEY.A], ['B', 5, KEY.B], ['C', 6, KEY.C], ['D', 7, KEY.D], ['E', 8, KEY.E],
  ['F', 9, KEY.F], ['G', 10, KEY.G], ['H', 11, KEY.H], ['I', 12, KEY.I], ['J', 13, KEY.J],
  ['K', 14, KEY.K], ['L', 15, KEY.L], ['M', 16, KEY.M], ['N', 17, KEY.N], ['O', 18, KEY.O],
  ['P', 19, KEY.P], ['Q', 20, KEY.Q], ['R', 21, KEY.R], ['S', 22, KEY.S], ['T', 23, KEY.T],
  ['U', 24, KEY.U], ['V', 25, KEY.V], ['W', 26, KEY.W], ['X', 27, KEY.X], ['Y', 28, KEY.Y],
  ['Z', 29, KEY.Z],
  ['1', 30, KEY['1']], ['2', 31, KEY['2']], ['3', 32, KEY['3']], ['4', 33, KEY['4']], ['5', 34, KEY['5']],
  ['6', 35, KEY['6']], ['7', 36, KEY['7']], ['8', 37, KEY['8']], ['9', 38, KEY['9']], ['0', 39, KEY['0']],
  ['RETURN', 40, KEY.ENTER], ['ESCAPE', 41, KEY.ESC], ['BACKSPACE', 42, KEY.BACKSPACE], ['TAB', 43, KEY.TAB],
  ['SPACE', 44, KEY.SPACE], ['MINUS', 45, KEY.MINUS], ['EQUALS', 46, KEY.EQUAL],
  ['LEFTBRACKET', 47, KEY.LEFTBRACE], ['RIGHTBRACKET', 48, KEY.RIGHTBRACE], ['BACKSLASH', 49, KEY.BACKSLASH],
  ['NONUSHASH', 50, KEY.BACKSLASH], ['SEMICOLON', 51, KEY.SEMICOLON], ['APOSTROPHE', 52, KEY.APOSTROPHE],
  ['GRAVE', 53, KEY.GRAVE], ['COMMA', 54, KEY.COMMA], ['PERIOD', 55, KEY.DOT], ['SLASH', 56, KEY.SLASH],
  ['CAPSLOCK', 57, KEY.CAPSLOCK],
  ['F1', 58, KEY.F1], ['F2', 59, KEY.F2], ['F3', 60, KEY.F3], ['F4', 61, KEY.F4], ['F5', 62, KEY.F5],
  ['F6', 63, KEY.F6], ['F7', 64, KEY.F7], ['F8', 65, KEY.F8], ['F9', 66, KEY.F9], ['F10', 67, KEY.F10],
  ['F11', 68, KEY.F11], ['F12', 69, KEY.F12],
  ['PRINTSCREEN', 70, KEY.SYSRQ], ['SCROLLLOCK', 71, KEY.SCROLLLOCK], ['PAUSE', 72, KEY.PAUSE],
  ['INSERT', 73, KEY.INSERT], ['HOME', 74, KEY.HOME], ['PAGEUP', 75, KEY.PAGEUP], ['DELETE', 76, KEY.DELETE],
  ['END', 77, KEY.END], ['PAGEDOWN', 78, KEY.PAGEDOWN],
  ['RIGHT', 79, KEY.RIGHT], ['LEFT', 80, KEY.LEFT], ['DOWN', 81, KEY.DOWN], ['UP', 82, KEY.UP],
  ['NUMLOCKCLEAR', 83, KEY.NUMLOCK], ['KP_DIVIDE', 84, KEY.KPSLASH], ['KP_MULTIPLY', 85, KEY.KPASTERISK],
  ['KP_MINUS', 86, KEY.KPMINUS], ['KP_PLUS', 87, KEY.KPPLUS], ['KP_ENTER', 88, KEY.KPENTER],
  ['KP_1', 89, KEY.KP1], ['KP_2', 90, KEY.KP2], ['KP_3', 91, KEY.KP3], ['KP_4', 92, KEY.KP4], ['KP_5', 93, KEY.KP5],
  ['KP_6', 94, KEY.KP6], ['KP_7', 95, KEY.KP7], ['KP_8', 96, KEY.KP8], ['KP_9', 97, KEY.KP9], ['KP_0', 98, KEY.KP0],
  ['KP_PERIOD', 99, KEY.KPDOT], ['NONUSBACKSLASH', 100, KEY['102ND']], ['APPLICATION', 101, KEY.COMPOSE],
  ['POWER', 102, KEY.POWER], ['KP_EQUALS', 103, KEY.KPEQUAL],
  ['MUTE', 127, KEY.MUTE], ['VOLUMEUP', 128, KEY.VOLUMEUP], ['VOLUMEDOWN', 129, KEY.VOLUMEDOWN],
  ['LCTRL', 224, KEY.LEFTCTRL], ['LSHIFT', 225, KEY.LEFTSHIFT], ['LALT', 226, KEY.LEFTALT], ['LGUI', 227, KEY.LEFTMETA],
  ['RCTRL', 228, KEY.RIGHTCTRL], ['RSHIFT', 229, KEY.RIGHTSHIFT], ['RALT', 230, KEY.RIGHTALT], ['RGUI', 231, KEY.RIGHTMETA],
];

const keyBySdlScancode = new Map(SDL_SCANCODES.map(([, scancode, linux]) => [scancode, linux]));

/** The Linux key code for an SDL scancode, or undefined for keys without one here. */
export function linuxKeyFromSdlScancode(scancode: number): number | undefined {
  return keyBySdlScancode.get(scancode);
}

/** SDL mouse buttons (SDL_BUTTON_LEFT = 1 ... SDL_BUTTON_X2 = 5) as Linux BTN_ codes. */
const buttonBySdlButton = new Map([[1, BTN_LEFT], [2, BTN_MIDDLE], [3, BTN_RIGHT], [4, BTN_SIDE], [5, BTN_EXTRA]]);

export function linuxButtonFromSdlButton(button: number): number | undefined {
  return buttonBySdlButton.get(button);
}

const syn: InputEvent = { type: EV_SYN, code: SYN_REPORT, value: 0 };

export type KeyState = 'down' | 'repeat' | 'up';

/** EV_KEY `code` (a key or button) as one evdev report; [] for undefined (unmapped). */
function keyReport(code: number | undefined, state: KeyState): InputEvent[] {
  if (code === undefined) return [];
  const value = state === 'up' ? KEY_RELEASED : state === 'down' ? KEY_PRESSED : KEY_REPEATED;
  return [{ type: EV_KEY, code, value }, syn];
}

/** A key press, repeat or release as one evdev report; [] for an unmapped key. */
export function keyEvents(scancode: number, state: KeyState): InputEvent[] {
  return keyReport(linuxKeyFromSdlScancode(scancode), state);
}

/** A mouse button press or release as one evdev report; [] for an unmapped button. */
export function buttonEvents(button: number, pressed: boolean): InputEvent[] {
  return keyReport(linuxButtonFromSdlButton(button), pressed ? 'down' : 'up');
}

/** An absolute pointer position (framebuffer pixels) as one evdev report. */
export function positionEvents(x: number, y: number): InputEvent[] {
  return [{ type: EV_ABS, code: ABS_X, value: x }, { type: EV_ABS, code: ABS_Y, value: y }, syn];
}

/**
 * A wheel step as one evdev report. SDL and Linux agree on direction (dy > 0
 * away from the user, dx > 0 to the right) unless SDL says the device is
 * flipped ("natural" scrolling), in which case SDL's values are negated.
 */
export function wheelEvents(dx: number, dy: number, flipped: boolean): InputEvent[] {
  const sign = flipped ? -1 : 1;
  const out: InputEvent[] = [];
  if (dy !== 0) out.push({ type: EV_REL, code: REL_WHEEL, value: sign * dy });
  if (dx !== 0) out.push({ type: EV_REL, code: REL_HWHEEL, value: sign * dx });
  if (out.length > 0) out.push(syn);
  return out;
}

/**
 * A browser's KeyboardEvent.code values (UI Events KeyboardEvent code
 * values: physical keys, named after the US layout) with the Linux key code
 * of the same physical key. Some keys have an older name too (Firefox).
 */
export const BROWSER_KEY_CODES: readonly (readonly [code: string, linux: number])[] = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').map((c) => [`Key${c}`, KEY[c as keyof typeof KEY]] as const),
  ...'0123456789'.split('').map((d) => [`Digit${d}`, KEY[d as keyof typeof KEY]] as const),
  ['Enter', KEY.ENTER], ['Escape', KEY.ESC], ['Backspace', KEY.BACKSPACE], ['Tab', KEY.TAB], ['Space', KEY.SPACE],
  ['Minus', KEY.MINUS], ['Equal', KEY.EQUAL], ['BracketLeft', KEY.LEFTBRACE], ['BracketRight', KEY.RIGHTBRACE],
  ['Backslash', KEY.BACKSLASH], ['Semicolon', KEY.SEMICOLON], ['Quote', KEY.APOSTROPHE], ['Backquote', KEY.GRAVE],
  ['Comma', KEY.COMMA], ['Period', KEY.DOT], ['Slash', KEY.SLASH], ['CapsLock', KEY.CAPSLOCK],
  ['F1', KEY.F1], ['F2', KEY.F2], ['F3', KEY.F3], ['F4', KEY.F4], ['F5', KEY.F5], ['F6', KEY.F6],
  ['F7', KEY.F7], ['F8', KEY.F8], ['F9', KEY.F9], ['F10', KEY.F10], ['F11', KEY.F11], ['F12', KEY.F12],
  ['PrintScreen', KEY.SYSRQ], ['ScrollLock', KEY.SCROLLLOCK], ['Pause', KEY.PAUSE],
  ['Insert', KEY.INSERT], ['Home', KEY.HOME], ['PageUp', KEY.PAGEUP], ['Delete', KEY.DELETE], ['End', KEY.END], ['PageDown', KEY.PAGEDOWN],
  ['ArrowRight', KEY.RIGHT], ['ArrowLeft', KEY.LEFT], ['ArrowDown', KEY.DOWN], ['ArrowUp', KEY.UP],
  ['NumLock', KEY.NUMLOCK], ['NumpadDivide', KEY.KPSLASH], ['NumpadMultiply', KEY.KPASTERISK],
  ['NumpadSubtract', KEY.KPMINUS], ['NumpadAdd', KEY.KPPLUS], ['NumpadEnter', KEY.KPENTER],
  ['Numpad1', KEY.KP1], ['Numpad2', KEY.KP2], ['Numpad3', KEY.KP3], ['Numpad4', KEY.KP4], ['Numpad5', KEY.KP5],
  ['Numpad6', KEY.KP6], ['Numpad7', KEY.KP7], ['Numpad8', KEY.KP8], ['Numpad9', KEY.KP9], ['Numpad0', KEY.KP0],
  ['NumpadDecimal', KEY.KPDOT], ['NumpadEqual', KEY.KPEQUAL], ['IntlBackslash', KEY['102ND']],
  ['ContextMenu', KEY.COMPOSE], ['Power', KEY.POWER],
  ['AudioVolumeMute', KEY.MUTE], ['AudioVolumeUp', KEY.VOLUMEUP], ['AudioVolumeDown', KEY.VOLUMEDOWN],
  ['VolumeMute', KEY.MUTE], ['VolumeUp', KEY.VOLUMEUP], ['VolumeDown', KEY.VOLUMEDOWN],
  ['ControlLeft', KEY.LEFTCTRL], ['ShiftLeft', KEY.LEFTSHIFT], ['AltLeft', KEY.LEFTALT], ['MetaLeft', KEY.LEFTMETA], ['OSLeft', KEY.LEFTMETA],
  ['ControlRight', KEY.RIGHTCTRL], ['ShiftRight', KEY.RIGHTSHIFT], ['AltRight', KEY.RIGHTALT], ['MetaRight', KEY.RIGHTMETA], ['OSRight', KEY.RIGHTMETA],
];

const keyByBrowserCode = new Map<string, number>(BROWSER_KEY_CODES);

/** The Linux key code for a KeyboardEvent.code, or undefined for keys without one here. */
export function linuxKeyFromBrowserCode(code: string): number | undefined {
  return keyByBrowserCode.get(code);
}

/** MouseEvent.button (0 main, 1 middle, 2 secondary, 3 back, 4 forward) as Linux BTN_ codes. */
const buttonByBrowserButton = new Map([[0, BTN_LEFT], [1, BTN_MIDDLE], [2, BTN_RIGHT], [3, BTN_SIDE], [4, BTN_EXTRA]]);

export function linuxButtonFromBrowserButton(button: number): number | undefined {
  return buttonByBrowserButton.get(button);
}

/** A browser key press, repeat or release (KeyboardEvent.code) as one evdev report; [] for an unmapped key. */
export function browserKeyEvents(code: string, state: KeyState): InputEvent[] {
  return keyReport(linuxKeyFromBrowserCode(code), state);
}

/** A browser mouse button (MouseEvent.button) press or release as one evdev report; [] for an unmapped button. */
export function browserButtonEvents(button: number, pressed: boolean): InputEvent[] {
  return keyReport(linuxButtonFromBrowserButton(button), pressed ? 'down' : 'up');
}

/**
 * Wheel steps in a browser's direction (WheelEvent: deltaY > 0 scrolls
 * down, towards the user; deltaX > 0 to the right) as one evdev report.
 * Linux's REL_WHEEL is positive away from the user, so dy is negated.
 */
export function browserWheelEvents(dx: number, dy: number): InputEvent[] {
  return wheelEvents(dx, -dy, false);
}
