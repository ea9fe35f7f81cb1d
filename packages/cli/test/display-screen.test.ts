/**
 * The doorbell's host logic without KVM: what Screen writes into the
 * mailbox, how input is split across frames, what the session answers, the
 * display options, and the doorbell's argument check.
 */
import test from 'ava';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FRAME_PERIOD_NS, MAILBOX_ADDR, MAILBOX_FLAG_QUIT, MAILBOX_MAGIC, MAILBOX_MAX_EVENTS, PAGE_SIZE, PORT, decodeMailbox,
} from '@kvmos/protocol';
import { ABS_X, EV_ABS, EV_KEY, EV_SYN, KEY, SYN_REPORT, type Frame, type InputEvent } from '@kvmos/display';
import { Screen, takeReports, type FrameReply, type FrameSink } from '../src/display/screen.js';
import { FrameSession, frameFileName } from '../src/display/session.js';
import { parseInputScript } from '../src/display/input-script.js';
import { decodeHypercall } from '../src/hypercalls.js';
import { parseCommand } from '../src/args.js';
import { GuestRequestError, OutputFileError, UsageError, describeError } from '../src/errors.js';

const syn: InputEvent = { type: EV_SYN, code: SYN_REPORT, value: 0 };
const key = (value: number): InputEvent => ({ type: EV_KEY, code: KEY.C, value });

function fb(): Frame {
  return { width: 4, height: 2, stride: 16, pixels: new Uint8Array(32) };
}

/** A sink that replies from a list and remembers what it saw. */
function scripted(replies: FrameReply[]): FrameSink & { seen: number[]; firstPixel: number[] } {
  const seen: number[] = [];
  const firstPixel: number[] = [];
  return {
    seen,
    firstPixel,
    frame(frame, n) {
      seen.push(n);
      firstPixel.push(frame.pixels[0]!);
      return replies[n] ?? { events: [], quit: false };
    },
  };
}

test('reset: the mailbox before the first run is frame 0, time 0, no input, no quit', (t) => {
  const page = new Uint8Array(PAGE_SIZE).fill(0xee);
  new Screen(fb(), page, scripted([]), { fixed: true }).reset();
  t.deepEqual(decodeMailbox(page), { frame: 0n, timeNs: 0n, flags: 0, events: [] });
  t.is(new DataView(page.buffer).getUint32(0, true), MAILBOX_MAGIC);
});

test('each doorbell hands the framebuffer to the sink and writes frame, fixed time and input', (t) => {
  const page = new Uint8Array(PAGE_SIZE);
  const pixels = fb();
  const sink = scripted([{ events: [key(1), syn], quit: false }, { events: [], quit: false }]);
  const screen = new Screen(pixels, page, sink, { fixed: true });
  screen.reset();
  pixels.pixels[0] = 7;
  t.is(screen.doorbell(), 'resume');
  t.deepEqual(decodeMailbox(page), { frame: 1n, timeNs: BigInt(FRAME_PERIOD_NS), flags: 0, events: [key(1), syn] });
  pixels.pixels[0] = 8;
  t.is(screen.doorbell(), 'resume');
  t.deepEqual(decodeMailbox(page), { frame: 2n, timeNs: 2n * BigInt(FRAME_PERIOD_NS), flags: 0, events: [] });
  t.deepEqual(sink.seen, [0, 1]);
  t.deepEqual(sink.firstPixel, [7, 8], 'a view of the framebuffer, not an old copy');
  t.is(screen.frames, 2);
});

test('without fixed time the mailbox has the clock since boot', (t) => {
  const page = new Uint8Array(PAGE_SIZE);
  let now = 5n;
  const screen = new Screen(fb(), page, scripted([]), { fixed: false, sinceBootNs: () => (now += 1000n) });
  screen.reset();
  screen.doorbell();
  t.is(decodeMailbox(page).timeNs, 1005n);
  screen.doorbell();
  t.is(decodeMailbox(page).timeNs, 2005n);
});

test('quit: set in the mailbox; a guest that rings once more is stopped without another frame', (t) => {
  const page = new Uint8Array(PAGE_SIZE);
  const sink = scripted([{ events: [], quit: false }, { events: [], quit: true }]);
  const screen = new Screen(fb(), page, sink, { fixed: true });
  screen.reset();
  screen.doorbell();
  t.is(decodeMailbox(page).flags, 0);
  t.is(screen.doorbell(), 'resume');
  t.is(decodeMailbox(page).flags, MAILBOX_FLAG_QUIT);
  t.is(screen.doorbell(), 'quit-ignored');
  t.deepEqual(sink.seen, [0, 1]);
  t.is(screen.frames, 2);
});

test('input that does not fit one mailbox waits for the next frames, whole reports at a time', (t) => {
  const page = new Uint8Array(PAGE_SIZE);
  const report = [{ type: EV_ABS, code: ABS_X, value: 0 }, syn]; // 2 events
  const many = Array.from({ length: 300 }, (_, i) => [{ ...report[0]!, value: i }, syn]).flat(); // 600 events
  const screen = new Screen(fb(), page, scripted([{ events: many, quit: false }]), { fixed: true });
  screen.reset();
  screen.doorbell();
  const first = decodeMailbox(page).events;
  t.is(first.length, MAILBOX_MAX_EVENTS); // 254 whole reports
  t.deepEqual(first.at(-1), syn);
  screen.doorbell();
  const second = decodeMailbox(page).events;
  t.is(second.length, 600 - MAILBOX_MAX_EVENTS);
  t.deepEqual([...first, ...second], many);
});

test('takeReports: batches of at most max, in order, ending at a SYN_REPORT when one fits', (t) => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (isSyn, max) => {
      const events = isSyn.map((s, i) => (s ? syn : { type: EV_KEY, code: i, value: 1 }));
      const queue = [...events];
      const out: InputEvent[] = [];
      while (queue.length > 0) {
        const before = queue.length;
        const batch = takeReports(queue, max);
        if (batch.length === 0 || batch.length > max || queue.length !== before - batch.length) return false;
        // All of it if it fits; else cut after the last SYN that fits, or at max when none does.
        if (before <= max && queue.length !== 0) return false;
        if (before > max && (batch.includes(syn) ? batch.at(-1) !== syn : batch.length !== max)) return false;
        out.push(...batch);
      }
      t.deepEqual(out, events);
      return true;
    }),
  );
});

test('session: quit after --frames, or once closed; script events for the next frame after live ones', (t) => {
  const script = parseInputScript('2 EV_KEY KEY_C 1\n', 's');
  const s = FrameSession.open({ frames: 3, script });
  t.deepEqual(s.reply(0, [], false), { events: [], quit: false });
  t.deepEqual(s.reply(1, [key(0), syn], false), { events: [key(0), syn, key(1), syn], quit: false });
  t.deepEqual(s.reply(2, [], false), { events: [], quit: true }, 'frame 3 would be the fourth');
  t.true(FrameSession.open({}).reply(0, [], true).quit);
  t.false(FrameSession.open({}).reply(1_000_000, [], false).quit);
});

test('session: records each frame as a PNG and saves the last one as the screenshot', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kvmos-session-')), 'new', 'dir');
  const shot = join(dir, '..', 'last.png');
  const s = FrameSession.open({ recordDir: dir, screenshot: shot });
  t.true(existsSync(dir), 'the record directory is created up front');
  const f = fb();
  s.show(f, 0);
  f.pixels.fill(0xff);
  s.show(f, 1);
  f.pixels.fill(0); // the guest draws on: the screenshot is a copy
  s.finish();
  t.deepEqual(readdirSync(dir), [frameFileName(0), frameFileName(1)]);
  t.is(frameFileName(12), 'frame-00012.png');
  t.is(frameFileName(123456), 'frame-123456.png');
  t.deepEqual(readFileSync(shot), readFileSync(join(dir, frameFileName(1))));
});

test('session: outputs that cannot be written are refused before the run, one line, exit 73', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-session-'));
  const e = t.throws(() => FrameSession.open({ recordDir: join('/proc/version', 'x') }), { instanceOf: OutputFileError });
  t.regex(e.message, /cannot record here \(ENOTDIR\)/);
  t.is(describeError(e).exitCode, 73);
  t.throws(() => FrameSession.open({ screenshot: join(dir, 'no', 'such', 'dir.png') }), { instanceOf: OutputFileError, message: /ENOENT/ });
  t.throws(() => FrameSession.open({ screenshot: dir }), { instanceOf: OutputFileError, message: /is a directory/ });
  t.throws(() => FrameSession.open({ screenshot: join(dir, 'x.png') }).finish(), { instanceOf: OutputFileError, message: /no frame to save/ });
});

test('the doorbell takes 0; any other value is a bad request', (t) => {
  const memory = { size: MAILBOX_ADDR + PAGE_SIZE, view: () => Buffer.alloc(0) };
  t.deepEqual(decodeHypercall(PORT.doorbell, 0, memory), { kind: 'doorbell' });
  t.throws(() => decodeHypercall(PORT.doorbell, 1, memory), { instanceOf: GuestRequestError, message: /must be 0/ });
});

test('display options: display guests get a window by default, others only when asked', (t) => {
  t.like(parseCommand(['fbtest']), { display: { headless: false, fixedTime: false, frames: undefined } });
  t.like(parseCommand(['hello']), { display: undefined });
  t.like(parseCommand(['hello', '--headless']), { display: { headless: true } });
  t.like(parseCommand(['--kernel', 'k', '--window']), { display: { headless: false } });
  t.like(parseCommand(['fbtest', '--headless', '--fixed-time', '--frames', '10', '--record', 'd', '--screenshot', 's.png', '--input', 'i']), {
    display: { headless: true, fixedTime: true, frames: 10, record: 'd', screenshot: 's.png', input: 'i' },
  });
  for (const argv of [['fbtest', '--window', '--headless'], ['fbtest', '--frames', '0'], ['fbtest', '--frames', 'x'], ['fbtest', '--record', '']]) {
    t.throws(() => parseCommand(argv), { instanceOf: UsageError }, argv.join(' '));
  }
});

test('session: a progress line while recording, a few updates a second, ended by the summary or a newline', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-progress-'));
  const out: string[] = [];
  const s = FrameSession.open({ frames: 3, recordDir: dir, progress: (text) => out.push(text) });
  for (let n = 0; n < 3; n++) s.show(fb(), n);
  t.is(out.length, 1, 'throttled');
  t.is(out[0], '\r\x1b[Kkvmos: recording frame 1/3');
  s.finish();
  t.is(out.at(-1), `\r\x1b[Kkvmos: recorded 3 frames to ${dir}\n`);
  const failing = FrameSession.open({ recordDir: dir, progress: (text) => out.push(text) });
  failing.show(fb(), 0);
  failing.endProgress();
  t.is(out.at(-1), '\n', 'an error after this starts on its own line');
  failing.endProgress();
  t.is(out.at(-1), '\n');
  t.is(out.filter((o) => o === '\n').length, 1, 'only once');
});
