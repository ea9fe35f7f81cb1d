import test from 'ava';
import { HeadlessDisplay } from '../src/index.js';

test('keeps a copy of the last frame, not a view the guest can change', (t) => {
  const d = new HeadlessDisplay();
  const pixels = new Uint8Array(2 * 2 * 4).fill(7);
  d.show({ width: 2, height: 2, stride: 8, pixels });
  pixels.fill(9);
  t.is(d.frames, 1);
  t.is(d.last?.pixels[0], 7);
});

test('rejects a frame larger than its pixel buffer', (t) => {
  const d = new HeadlessDisplay();
  t.throws(() => d.show({ width: 4, height: 4, stride: 16, pixels: new Uint8Array(10) }), { instanceOf: RangeError });
});

test('hands out injected input once, in order', (t) => {
  const d = new HeadlessDisplay();
  d.inject([{ type: 1, code: 30, value: 1 }, { type: 1, code: 30, value: 0 }]);
  t.deepEqual(d.takeInput().map((e) => e.value), [1, 0]);
  t.deepEqual(d.takeInput(), []);
});
