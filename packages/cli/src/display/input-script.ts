/**
 * Input scripts (`kvmos ... --input FILE`): timed evdev events replayed
 * into the mailbox, so a recording is reproducible without a user.
 *
 * One event a line:
 *
 *     <frame> <type> <code> <value>      # a comment
 *
 * - frame: the frame whose mailbox carries the event, 1 or more (frame 0 is
 *   drawn before any input can arrive), lines in non-decreasing order. The
 *   guest sees the event while it draws that frame, so the recording's
 *   `frame-NNNNN.png` already shows its effect.
 * - type: EV_SYN, EV_KEY, EV_REL, EV_ABS, or a number.
 * - code: a name of that type (SYN_REPORT; KEY_A .. KEY_Z, KEY_1, KEY_ESC,
 *   KEY_SPACE ... and BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA;
 *   REL_X, REL_Y, REL_WHEEL, REL_HWHEEL; ABS_X, ABS_Y), or a number.
 * - value: a 32-bit integer (EV_KEY: 1 press, 0 release, 2 repeat; EV_ABS:
 *   framebuffer pixels).
 *
 * Numbers are decimal or 0x-hex. `#` starts a comment; blank lines are
 * ignored. The events of a frame form one report: an `EV_SYN SYN_REPORT 0`
 * is added after them unless the frame's last line is one.
 */
import { readFileSync } from 'node:fs';
import {
  ABS_X, ABS_Y, BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY,
  REL_HWHEEL, REL_WHEEL, REL_X, REL_Y, SYN_REPORT, type InputEvent,
} from '@kvmos/display';
import { InputFileError, InputScriptError } from '../errors.js';

// Maps, not objects: a name like 'toString' must not find Object.prototype's.
const TYPES = new Map(Object.entries({ EV_SYN, EV_KEY, EV_REL, EV_ABS }));

/** Code names by event type. */
const CODES = new Map<number, Map<string, number>>([
  [EV_SYN, new Map(Object.entries({ SYN_REPORT }))],
  [EV_KEY, new Map([
    ...Object.entries(KEY).map(([name, code]): [string, number] => [`KEY_${name}`, code]),
    ...Object.entries({ BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA }),
  ])],
  [EV_REL, new Map(Object.entries({ REL_X, REL_Y, REL_WHEEL, REL_HWHEEL }))],
  [EV_ABS, new Map(Object.entries({ ABS_X, ABS_Y }))],
]);

function typeName(type: number): string {
  for (const [name, t] of TYPES) if (t === type) return name;
  return String(type);
}

/** The events of a script by frame. */
export class InputScript {
  constructor(private readonly byFrame: ReadonlyMap<number, readonly InputEvent[]>) {}

  /** Events for frame `n` (none for most frames). */
  eventsAt(n: number): readonly InputEvent[] {
    return this.byFrame.get(n) ?? [];
  }

  /** Frames that have events, in order. */
  get frames(): number[] {
    return [...this.byFrame.keys()];
  }
}

/** Parses a script; `path` names it in errors (`path:line: what`). */
export function parseInputScript(text: string, path: string): InputScript {
  const byFrame = new Map<number, InputEvent[]>();
  let lastFrame = 0;
  text.split('\n').forEach((raw, i) => {
    const error = (what: string) => new InputScriptError(path, i + 1, what);
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0) return;
    if (fields.length !== 4) {
      throw error(`expected "<frame> <type> <code> <value>", got ${fields.length} field${fields.length === 1 ? '' : 's'}`);
    }
    const [frameText, typeText, codeText, valueText] = fields as [string, string, string, string];

    const frame = /^\d+$/.test(frameText) ? Number(frameText) : NaN;
    if (!Number.isSafeInteger(frame)) throw error(`frame '${frameText}' is not a whole number`);
    if (frame === 0) throw error('frame 0 is drawn before any input can arrive: the first frame input reaches is 1');
    if (frame < lastFrame) throw error(`frame ${frame} comes after frame ${lastFrame}: keep the lines in frame order`);
    lastFrame = frame;

    const type = TYPES.get(typeText) ?? parseNumber(typeText, 0, 0xffff);
    if (type === undefined) throw error(`unknown event type '${typeText}' (${[...TYPES.keys()].join(', ')} or a number 0..0xffff)`);
    const code = codeFor(type, codeText);
    if (typeof code === 'string') throw error(code);
    const value = parseNumber(valueText, -0x8000_0000, 0x7fff_ffff);
    if (value === undefined) throw error(`value '${valueText}' is not a 32-bit integer`);

    let events = byFrame.get(frame);
    if (!events) byFrame.set(frame, (events = []));
    events.push({ type, code, value });
  });
  for (const events of byFrame.values()) {
    const last = events.at(-1);
    if (!(last?.type === EV_SYN && last.code === SYN_REPORT)) events.push({ type: EV_SYN, code: SYN_REPORT, value: 0 });
  }
  return new InputScript(byFrame);
}

/** The code a name or number stands for with this type, or what is wrong with it. */
function codeFor(type: number, text: string): number | string {
  const names = CODES.get(type);
  const named = names?.get(text);
  if (named !== undefined) return named;
  const n = parseNumber(text, 0, 0xffff);
  if (n !== undefined) return n;
  for (const [t, codes] of CODES) {
    if (codes.has(text)) return `${text} is an ${typeName(t)} code, not ${typeName(type)}`;
  }
  const known =
    type === EV_KEY ? 'a Linux KEY_ name such as KEY_A or KEY_ESC, BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA'
    : names ? [...names.keys()].join(', ')
    : 'no names for this type';
  return `unknown ${typeName(type)} code '${text}' (${known}; or a number 0..0xffff)`;
}

/** A decimal or 0x-hex integer in [min, max], or undefined. */
function parseNumber(text: string, min: number, max: number): number | undefined {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (!m) return undefined;
  const n = (m[1] === '-' ? -1 : 1) * Number(m[2]);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Reads and parses a script file; a missing or unreadable file is an InputFileError. */
export function readInputScript(path: string): InputScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new InputFileError(path, 'no such file', 'check the --input path');
    if (code === 'EISDIR') throw new InputFileError(path, 'is a directory', 'pass an input script file');
    throw new InputFileError(path, `cannot read (${code ?? String(e)})`, 'check the --input path');
  }
  return parseInputScript(text, path);
}
