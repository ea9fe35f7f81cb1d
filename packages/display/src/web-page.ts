/**
 * The page WebDisplay serves: HTML, CSS and JavaScript in one string, no
 * build step, nothing fetched from elsewhere. It shows the frames in a
 * canvas scaled to fit the window with the aspect kept (CSS object-fit,
 * nearest-neighbour), and sends the pointer, buttons, wheel and keys over
 * the WebSocket (web.ts has the protocol). The page keeps the token of its
 * address (`?token=`) and presents it on the WebSocket's.
 */

const SCRIPT = String.raw`
'use strict';
const HEADER = 16;
const canvas = document.getElementById('screen');
const ctx = canvas.getContext('2d', { alpha: false });
const status = document.getElementById('status');
const stop = document.getElementById('stop');
let image = null;
let pending = null;      // the newest frame received, not drawn yet
let scheduled = false;
let frames = 0;
let open = false;
let drives = true;
const held = new Set();  // KeyboardEvent.code values down
const buttons = new Set();

const token = new URLSearchParams(location.search).get('token') || '';
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?token=' + encodeURIComponent(token));
ws.binaryType = 'arraybuffer';
// Acknowledgements always; input only from the page that drives (the server ignores the others').
const send = (m) => { if (open && (drives || m.type === 'ack')) ws.send(JSON.stringify(m)); };

ws.onopen = () => { open = true; status.textContent = 'connected, waiting for a frame'; };
ws.onclose = (e) => {
  open = false;
  stop.disabled = true;
  status.textContent = e.reason || (frames ? 'disconnected: the guest has stopped' : 'cannot connect to kvmos');
  document.body.classList.add('ended');
};
ws.onmessage = (e) => {
  if (typeof e.data === 'string') {
    let m = null;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    if (m && m.type === 'role') {
      drives = m.role === 'driver';
      stop.disabled = !drives || !open;
      status.textContent = drives ? 'connected: this page drives' : 'watching: another page drives';
    }
    return;
  }
  if (!(e.data instanceof ArrayBuffer) || e.data.byteLength < HEADER) return;
  pending = e.data;
  if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
};

// Drawn at the browser's pace: a hidden tab draws nothing, acknowledges
// nothing, and so is sent nothing until it shows again.
function draw() {
  scheduled = false;
  const buf = pending;
  pending = null;
  if (buf === null) return;
  const head = new DataView(buf, 0, HEADER);
  const n = head.getUint32(0, true), w = head.getUint32(4, true), h = head.getUint32(8, true);
  if (head.getUint32(12, true) === 0 && w > 0 && h > 0 && buf.byteLength >= HEADER + w * h * 4) {
    if (canvas.width !== w || canvas.height !== h || image === null) {
      canvas.width = w;
      canvas.height = h;
      image = ctx.createImageData(w, h);
    }
    // XRGB8888 (bytes B, G, R, X) to RGBA, a 32-bit word at a time (little-endian).
    const src = new Uint32Array(buf, HEADER, w * h);
    const dst = new Uint32Array(image.data.buffer);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      dst[i] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
    }
    ctx.putImageData(image, 0, 0);
    frames++;
    if ((frames & 31) === 1) status.textContent = 'frame ' + n + ', ' + w + 'x' + h + (drives ? '' : ', watching: another page drives');
  }
  send({ type: 'ack' });
}

function where(e) {
  const r = canvas.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top, w: Math.max(1, r.width), h: Math.max(1, r.height) };
}

canvas.addEventListener('pointermove', (e) => send(Object.assign({ type: 'move' }, where(e))));
canvas.addEventListener('pointerdown', (e) => {
  canvas.focus();
  canvas.setPointerCapture(e.pointerId);
  buttons.add(e.button);
  send(Object.assign({ type: 'button', button: e.button, down: true }, where(e)));
  e.preventDefault();
});
canvas.addEventListener('pointerup', (e) => {
  buttons.delete(e.button);
  send(Object.assign({ type: 'button', button: e.button, down: false }, where(e)));
  e.preventDefault();
});
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

// Wheel: whole steps; a mouse notch is about 100 pixels (or 3 lines), a
// touchpad's small deltas add up.
let wheelX = 0, wheelY = 0;
const steps = (v) => (Math.abs(v) >= 40 ? Math.sign(v) * Math.max(1, Math.round(Math.abs(v) / 100)) : 0);
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const unit = e.deltaMode === 1 ? 100 / 3 : e.deltaMode === 2 ? 800 : 1;
  wheelX += e.deltaX * unit;
  wheelY += e.deltaY * unit;
  const dx = steps(wheelX), dy = steps(wheelY);
  if (dx) wheelX = 0;
  if (dy) wheelY = 0;
  if (dx || dy) send({ type: 'wheel', dx: Math.max(-100, Math.min(100, dx)), dy: Math.max(-100, Math.min(100, dy)) });
}, { passive: false });

// Keys go to the guest while the page has the focus, except to the stop button.
const browserKeys = new Set(['F5', 'F11', 'F12']);
window.addEventListener('keydown', (e) => {
  if (e.target === stop || !e.code) return;
  held.add(e.code);
  send({ type: 'key', code: e.code, down: true, repeat: e.repeat });
  if (!browserKeys.has(e.code) && !e.ctrlKey && !e.metaKey) e.preventDefault();
});
window.addEventListener('keyup', (e) => {
  if (!e.code || !held.has(e.code)) return;
  held.delete(e.code);
  send({ type: 'key', code: e.code, down: false });
  if (!browserKeys.has(e.code)) e.preventDefault();
});
// Keys and buttons let go while the page had no focus would stay down in the guest.
window.addEventListener('blur', () => {
  for (const code of held) send({ type: 'key', code, down: false });
  held.clear();
});
canvas.addEventListener('lostpointercapture', () => {
  for (const button of buttons) send({ type: 'button', button, down: false });
  buttons.clear();
});

stop.addEventListener('click', () => {
  send({ type: 'stop' });
  stop.disabled = true;
  status.textContent = 'stopping the guest';
});
canvas.focus();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvmos</title>
<style>
  html, body { margin: 0; height: 100%; background: #000; color: #bbb; font: 14px system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { display: flex; gap: 1em; align-items: center; padding: 4px 8px; background: #161616; }
  header b { color: #eee; }
  #screen { flex: 1 1 0; min-height: 0; width: 100%; object-fit: contain; image-rendering: pixelated; outline: none; cursor: crosshair; touch-action: none; }
  body.ended #screen { opacity: 0.4; }
</style>
</head>
<body>
<header><b>kvmos</b><button id="stop" type="button" title="ask the guest to quit">stop</button><span id="status">connecting</span></header>
<canvas id="screen" width="640" height="480" tabindex="0"></canvas>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** The page, as served at /. */
export function webPage(): string {
  return PAGE;
}
