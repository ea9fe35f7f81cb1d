import test from 'ava';
import { execFileSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng, type Frame } from '../src/index.js';

/** A frame of pseudo-random pixels with a stride wider than its rows (padding bytes set to junk). */
function noise(width: number, height: number, stride = width * 4 + 12): Frame {
  const pixels = new Uint8Array(stride * height);
  let s = 12345;
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    pixels[i] = s >>> 24;
  }
  return { width, height, stride, pixels };
}

/** The frame's pixels as PNG's RGB rows should hold them. */
function expectedRgb(f: Frame): Buffer {
  const out = Buffer.alloc(f.width * f.height * 3);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const i = y * f.stride + x * 4, o = (y * f.width + x) * 3;
      out[o] = f.pixels[i + 2]!;
      out[o + 1] = f.pixels[i + 1]!;
      out[o + 2] = f.pixels[i]!;
    }
  }
  return out;
}

/** A small PNG reader for what encodePng writes: checks every CRC and undoes filter type 0. */
function decode(png: Buffer): { width: number; height: number; rgb: Buffer } {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('no PNG signature');
  let at = 8, width = 0, height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (png.readUInt32BE(at + 8 + len) !== crc32(png.subarray(at + 4, at + 8 + len))) throw new Error(`bad CRC in ${type}`);
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2 || data[10] !== 0 || data[11] !== 0 || data[12] !== 0) throw new Error('not 8-bit RGB');
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  if (types[0] !== 'IHDR' || types.at(-1) !== 'IEND') throw new Error(`chunks ${types.join(',')}`);
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    if (raw[row] !== 0) throw new Error(`row ${y} has filter ${raw[row]}`);
    raw.copy(rgb, y * width * 3, row + 1, row + 1 + width * 3);
  }
  return { width, height, rgb };
}

test('crc32 gives the standard check value', (t) => {
  t.is(crc32(Buffer.from('123456789')), 0xcbf43926);
  t.is(crc32(Buffer.from('IEND')), 0xae426082); // the CRC every PNG ends with
});

test('round trip: the decoded PNG has the frame pixels as RGB', (t) => {
  const f = noise(37, 23);
  const png = decode(encodePng(f));
  t.is(png.width, 37);
  t.is(png.height, 23);
  t.true(png.rgb.equals(expectedRgb(f)));
});

test('a 640x480 frame encodes and decodes exactly', (t) => {
  const f = noise(640, 480, 640 * 4);
  t.true(decode(encodePng(f)).rgb.equals(expectedRgb(f)));
});

test('an independent reader (Python zlib) accepts the PNG and reads the same pixels', (t) => {
  const f = noise(50, 31);
  const script = `
import struct, sys, zlib
d = sys.stdin.buffer.read()
assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'signature'
i, idat = 8, b''
while i < len(d):
    n, typ = struct.unpack('>I4s', d[i:i+8])
    body = d[i+8:i+8+n]
    assert struct.unpack('>I', d[i+8+n:i+12+n])[0] == zlib.crc32(typ + body), 'crc ' + typ.decode()
    if typ == b'IHDR': w, h, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
    if typ == b'IDAT': idat += body
    i += 12 + n
assert (depth, colour, interlace) == (8, 2, 0)
raw = zlib.decompress(idat)
row = 1 + w * 3
sys.stdout.buffer.write(b''.join(raw[y*row+1:(y+1)*row] for y in range(h)))
`;
  const out = execFileSync('python3', ['-c', script], { input: encodePng(f) });
  t.true(out.equals(expectedRgb(f)));
});

test('rejects a frame that does not fit its pixels', (t) => {
  t.throws(() => encodePng({ width: 10, height: 10, stride: 40, pixels: new Uint8Array(100) }), { instanceOf: RangeError });
});
