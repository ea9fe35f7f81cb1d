/** PNG encoding of frames (for screenshots and recordings): 8-bit RGB, no interlace. */
import { deflateSync } from 'node:zlib';
import { checkFrame, type Frame } from './display.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG (and zlib, and gzip) compute it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes an XRGB8888 frame (bytes B, G, R, X) as a PNG file. */
export function encodePng(frame: Frame): Buffer {
  checkFrame(frame);
  const { width, height, stride, pixels } = frame;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  // compression 0 (deflate), filter method 0, interlace 0 (none): already 0

  const rowBytes = 1 + width * 3;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    let src = y * stride;
    let dst = y * rowBytes + 1; // raw[y * rowBytes] = 0: filter type None
    for (let x = 0; x < width; x++, src += 4, dst += 3) {
      raw[dst] = pixels[src + 2]!;
      raw[dst + 1] = pixels[src + 1]!;
      raw[dst + 2] = pixels[src]!;
    }
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
