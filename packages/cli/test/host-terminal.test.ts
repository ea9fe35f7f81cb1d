import test from 'ava';
import { SignalHelper, hostModes, pollTimeout, sttyString, waitFor } from '../src/host-terminal.js';

const cc = Uint8Array.from([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0]);
const linuxPty = { iflag: 0x500, oflag: 5, cflag: 0xbf, lflag: 0x8a3b, line: 0, cc };

test('sttyString is what `stty -g` prints for a fresh Linux pty', (t) => {
  t.is(sttyString(linuxPty), '500:5:bf:8a3b:3:1c:7f:15:4:0:1:0:11:13:1a:0:12:f:17:16:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0');
});

test("hostModes takes the program's modes and keeps the host's line settings", (t) => {
  const host = { ...linuxPty, cflag: 0x4bf, line: 0 };
  const raw = { ...linuxPty, iflag: 0x100, lflag: 0x8a30, cflag: 0x1234, line: 7, cc: new Uint8Array(19) };
  t.deepEqual(hostModes(host, raw), { ...raw, cflag: 0x4bf, line: 0 });
});

test("pollTimeout: a guest's 64-bit wait fits poll's int: -1 stays for ever, longer waits are cut, never wrapped", (t) => {
  t.is(pollTimeout(-1n), -1);
  t.is(pollTimeout(0n), 0);
  t.is(pollTimeout(250n), 250);
  t.is(pollTimeout(0x7fff_ffffn), 0x7fff_ffff);
  t.is(pollTimeout(0x8000_0000n), 0x7fff_ffff);
  t.is(pollTimeout(0x7fff_ffff_ffff_ffffn), 0x7fff_ffff);
});

test('waitFor: a poll a signal ends early is polled again for the time left; a timeout and input end it', (t) => {
  // A fake clock: each poll "takes" what it is given, or 30 ms when a signal cuts it short.
  let clock = 0;
  const polls: number[] = [];
  const interrupted = (inputAt: number) => (ms: number): boolean => {
    polls.push(ms);
    const took = ms < 0 ? 30 : Math.min(ms, 30);
    clock += took;
    return clock >= inputAt;
  };
  t.false(waitFor(100, interrupted(Infinity), () => clock));
  t.deepEqual(polls, [100, 70, 40, 10]);
  t.is(clock, 100);

  clock = 0;
  polls.length = 0;
  t.true(waitFor(-1, interrupted(95), () => clock), 'for ever: until input');
  t.deepEqual(polls, [-1, -1, -1, -1]);

  polls.length = 0;
  t.false(waitFor(0, interrupted(Infinity), () => clock), 'a look polls once');
  t.deepEqual(polls, [0]);
});

test('SignalHelper reports the terminal signals it gets (bit sig - 1), each once, and ends when closed', async (t) => {
  const helper = SignalHelper.start();
  if (!helper) return t.fail('the helper did not start');
  const pid = helper.pid;
  if (pid === undefined) return t.fail('no pid');
  try {
    t.is(helper.take(), 0n);
    t.false(helper.hasPending());
    for (const s of ['SIGINT', 'SIGTSTP', 'SIGQUIT'] as const) process.kill(pid, s);
    const want = (1n << 1n) | (1n << 2n) | (1n << 19n);
    let got = 0n;
    const end = Date.now() + 10_000;
    while (got !== want && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      got |= helper.take();
    }
    t.is(got, want, 'SIGINT, SIGQUIT and SIGTSTP');
    t.is(helper.take(), 0n, 'taken once');
    t.notThrows(() => process.kill(pid, 0), 'still running: it neither ended nor stopped on them');
  } finally {
    helper.close();
  }
  const end = Date.now() + 5_000;
  let alive = true;
  while (alive && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
  }
  t.false(alive, 'closed: the helper is gone');
});
