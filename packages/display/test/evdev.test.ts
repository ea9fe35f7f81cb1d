import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ABS_X, ABS_Y, BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY,
  BROWSER_KEY_CODES, REL_HWHEEL, REL_WHEEL, SDL_SCANCODES, SYN_REPORT, browserButtonEvents, browserKeyEvents,
  browserWheelEvents, buttonEvents, keyEvents, linuxButtonFromBrowserButton, linuxButtonFromSdlButton,
  linuxKeyFromBrowserCode, linuxKeyFromSdlScancode, positionEvents, wheelEvents,
} from '../src/index.js';

const SYN = { type: EV_SYN, code: SYN_REPORT, value: 0 };

test('event type and code constants are Linux\'s', (t) => {
  t.deepEqual([EV_SYN, EV_KEY, EV_REL, EV_ABS], [0, 1, 2, 3]);
  t.deepEqual([BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA], [0x110, 0x111, 0x112, 0x113, 0x114]);
  t.deepEqual([REL_HWHEEL, REL_WHEEL, ABS_X, ABS_Y], [6, 8, 0, 1]);
  t.deepEqual([KEY.ESC, KEY.A, KEY.Z, KEY.ENTER, KEY.SPACE, KEY.LEFTSHIFT, KEY.F1, KEY.F12, KEY.UP], [1, 30, 44, 28, 57, 42, 59, 88, 103]);
});

test('our Linux key codes agree with <linux/input-event-codes.h>', (t) => {
  // The C compiler reads the kernel header; each KEY_<name> must equal ours.
  const names = Object.keys(KEY);
  const src = `#include <linux/input-event-codes.h>\n#include <stdio.h>\nint main(void){${names
    .map((n) => `printf("%d\\n", KEY_${n});`)
    .join('')}return 0;}\n`;
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-keys-'));
  execFileSync('cc', ['-x', 'c', '-o', join(dir, 'keys'), '-'], { input: src });
  const values = execFileSync(join(dir, 'keys')).toString().trim().split('\n').map(Number);
  rmSync(dir, { recursive: true });
  t.deepEqual(Object.fromEntries(names.map((n, i) => [n, values[i]])), { ...KEY });
});

test('SDL scancodes map to Linux keys by physical position', (t) => {
  const cases: [number, number][] = [
    [4, KEY.A], [29, KEY.Z], [30, KEY['1']], [39, KEY['0']], [40, KEY.ENTER], [41, KEY.ESC],
    [44, KEY.SPACE], [58, KEY.F1], [69, KEY.F12], [82, KEY.UP], [224, KEY.LEFTCTRL], [230, KEY.RIGHTALT],
  ];
  for (const [sdl, linux] of cases) t.is(linuxKeyFromSdlScancode(sdl), linux, `SDL scancode ${sdl}`);
  t.is(linuxKeyFromSdlScancode(0), undefined);
  t.is(linuxKeyFromSdlScancode(286), undefined);
});

test('the table has no duplicate SDL scancode and no unknown Linux code', (t) => {
  const scancodes = SDL_SCANCODES.map(([, s]) => s);
  t.is(new Set(scancodes).size, scancodes.length);
  const known = new Set<number>(Object.values(KEY));
  for (const [name, , linux] of SDL_SCANCODES) t.true(known.has(linux), name);
});

test('the table\'s SDL numbers are the ones @kmamal/sdl reports', (t) => {
  // Loading @kmamal/sdl initializes SDL; the dummy video driver needs no display.
  const out = execFileSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('@kmamal/sdl').keyboard.SCANCODE))"], {
    env: { ...process.env, SDL_VIDEODRIVER: 'dummy' },
  });
  const sdl = JSON.parse(out.toString()) as Record<string, number>;
  for (const [name, scancode] of SDL_SCANCODES) t.is(sdl[name], scancode, name);
});

test('keys: press, repeat and release, each closed by SYN_REPORT', (t) => {
  t.deepEqual(keyEvents(4, 'down'), [{ type: EV_KEY, code: KEY.A, value: 1 }, SYN]);
  t.deepEqual(keyEvents(4, 'repeat'), [{ type: EV_KEY, code: KEY.A, value: 2 }, SYN]);
  t.deepEqual(keyEvents(4, 'up'), [{ type: EV_KEY, code: KEY.A, value: 0 }, SYN]);
  t.deepEqual(keyEvents(9999, 'down'), []);
});

test('mouse buttons: SDL 1..5 are left, middle, right, side, extra', (t) => {
  t.deepEqual([1, 2, 3, 4, 5].map(linuxButtonFromSdlButton), [BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA]);
  t.deepEqual(buttonEvents(3, true), [{ type: EV_KEY, code: BTN_RIGHT, value: 1 }, SYN]);
  t.deepEqual(buttonEvents(1, false), [{ type: EV_KEY, code: BTN_LEFT, value: 0 }, SYN]);
  t.deepEqual(buttonEvents(9, true), []);
});

test('pointer position is absolute, in framebuffer pixels', (t) => {
  t.deepEqual(positionEvents(10, 20), [{ type: EV_ABS, code: ABS_X, value: 10 }, { type: EV_ABS, code: ABS_Y, value: 20 }, SYN]);
});

test('wheel: up and right are positive, flipped devices are negated, nothing for no motion', (t) => {
  t.deepEqual(wheelEvents(0, 1, false), [{ type: EV_REL, code: REL_WHEEL, value: 1 }, SYN]);
  t.deepEqual(wheelEvents(-2, 0, false), [{ type: EV_REL, code: REL_HWHEEL, value: -2 }, SYN]);
  t.deepEqual(wheelEvents(1, 1, true), [
    { type: EV_REL, code: REL_WHEEL, value: -1 },
    { type: EV_REL, code: REL_HWHEEL, value: -1 },
    SYN,
  ]);
  t.deepEqual(wheelEvents(0, 0, false), []);
});

/**
 * KeyboardEvent.code values and SDL scancodes both name USB HID keyboard
 * usages (UI Events "code" spec, SDL_scancode.h): the same physical key
 * must give the same Linux key either way.
 */
const BROWSER_TO_SDL: Record<string, string> = {
  ...Object.fromEntries('ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').map((c) => [`Key${c}`, c])),
  ...Object.fromEntries('0123456789'.split('').map((d) => [`Digit${d}`, d])),
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`F${i + 1}`, `F${i + 1}`])),
  ...Object.fromEntries('0123456789'.split('').map((d) => [`Numpad${d}`, `KP_${d}`])),
  Enter: 'RETURN', Escape: 'ESCAPE', Backspace: 'BACKSPACE', Tab: 'TAB', Space: 'SPACE', Minus: 'MINUS', Equal: 'EQUALS',
  BracketLeft: 'LEFTBRACKET', BracketRight: 'RIGHTBRACKET', Backslash: 'BACKSLASH', Semicolon: 'SEMICOLON',
  Quote: 'APOSTROPHE', Backquote: 'GRAVE', Comma: 'COMMA', Period: 'PERIOD', Slash: 'SLASH', CapsLock: 'CAPSLOCK',
  PrintScreen: 'PRINTSCREEN', ScrollLock: 'SCROLLLOCK', Pause: 'PAUSE', Insert: 'INSERT', Home: 'HOME', PageUp: 'PAGEUP',
  Delete: 'DELETE', End: 'END', PageDown: 'PAGEDOWN', ArrowRight: 'RIGHT', ArrowLeft: 'LEFT', ArrowDown: 'DOWN', ArrowUp: 'UP',
  NumLock: 'NUMLOCKCLEAR', NumpadDivide: 'KP_DIVIDE', NumpadMultiply: 'KP_MULTIPLY', NumpadSubtract: 'KP_MINUS',
  NumpadAdd: 'KP_PLUS', NumpadEnter: 'KP_ENTER', NumpadDecimal: 'KP_PERIOD', NumpadEqual: 'KP_EQUALS',
  IntlBackslash: 'NONUSBACKSLASH', ContextMenu: 'APPLICATION', Power: 'POWER',
  AudioVolumeMute: 'MUTE', AudioVolumeUp: 'VOLUMEUP', AudioVolumeDown: 'VOLUMEDOWN',
  VolumeMute: 'MUTE', VolumeUp: 'VOLUMEUP', VolumeDown: 'VOLUMEDOWN',
  ControlLeft: 'LCTRL', ShiftLeft: 'LSHIFT', AltLeft: 'LALT', MetaLeft: 'LGUI', OSLeft: 'LGUI',
  ControlRight: 'RCTRL', ShiftRight: 'RSHIFT', AltRight: 'RALT', MetaRight: 'RGUI', OSRight: 'RGUI',
};

test('browser key codes give the Linux key SDL gives for the same physical key', (t) => {
  const sdlLinux = new Map(SDL_SCANCODES.map(([name, , linux]) => [name, linux]));
  t.is(BROWSER_KEY_CODES.length, new Set(BROWSER_KEY_CODES.map(([code]) => code)).size, 'no code twice');
  for (const [code, linux] of BROWSER_KEY_CODES) {
    const sdl = BROWSER_TO_SDL[code];
    t.not(sdl, undefined, `${code} has an SDL scancode`);
    t.is(sdlLinux.get(sdl!), linux, `${code} = SDL ${sdl}`);
  }
  t.deepEqual(Object.keys(BROWSER_TO_SDL).sort(), BROWSER_KEY_CODES.map(([code]) => code).sort());
  t.is(linuxKeyFromBrowserCode('KeyA'), KEY.A);
  t.is(linuxKeyFromBrowserCode('constructor'), undefined);
  t.is(linuxKeyFromBrowserCode(''), undefined);
});

test('browser keys, buttons and wheel as evdev reports', (t) => {
  t.deepEqual(browserKeyEvents('Escape', 'down'), [{ type: EV_KEY, code: KEY.ESC, value: 1 }, SYN]);
  t.deepEqual(browserKeyEvents('Escape', 'repeat'), [{ type: EV_KEY, code: KEY.ESC, value: 2 }, SYN]);
  t.deepEqual(browserKeyEvents('Escape', 'up'), [{ type: EV_KEY, code: KEY.ESC, value: 0 }, SYN]);
  t.deepEqual(browserKeyEvents('Unidentified', 'down'), []);
  t.deepEqual([0, 1, 2, 3, 4].map(linuxButtonFromBrowserButton), [BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA]);
  t.deepEqual(browserButtonEvents(2, true), [{ type: EV_KEY, code: BTN_RIGHT, value: 1 }, SYN]);
  t.deepEqual(browserButtonEvents(5, true), []);
  // A browser's deltaY > 0 scrolls down (the wheel turned towards the user): Linux's REL_WHEEL < 0.
  t.deepEqual(browserWheelEvents(0, 1), [{ type: EV_REL, code: REL_WHEEL, value: -1 }, SYN]);
  t.deepEqual(browserWheelEvents(2, -3), [{ type: EV_REL, code: REL_WHEEL, value: 3 }, { type: EV_REL, code: REL_HWHEEL, value: 2 }, SYN]);
  t.deepEqual(browserWheelEvents(0, 0), []);
});
