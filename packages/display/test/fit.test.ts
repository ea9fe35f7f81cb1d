import test from 'ava';
import { fitRect } from '../src/index.js';

test('fitRect centres the largest rectangle with the frame\'s aspect ratio', (t) => {
  t.deepEqual(fitRect(640, 480, 640, 480), { x: 0, y: 0, width: 640, height: 480 });
  t.deepEqual(fitRect(640, 480, 800, 400), { x: 133, y: 0, width: 533, height: 400 });
  t.deepEqual(fitRect(640, 480, 640, 960), { x: 0, y: 240, width: 640, height: 480 });
  t.deepEqual(fitRect(640, 480, 1280, 960), { x: 0, y: 0, width: 1280, height: 960 });
});
