/** Reading back what display's encodePng writes (8-bit RGB, filter type 0), and looking at fbtest's frames. */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface Rgb {
  width: number;
  height: number;
  /** 3 bytes a pixel, rows back to back. */
  rgb: Buffer;
}

export function readPng(path: string): Rgb {
  const png = readFileSync(path);
  let at = 8, width = 0, height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2) throw new Error(`${path}: not 8-bit RGB`);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    if (raw[y * (width * 3 + 1)] !== 0) throw new Error(`${path}: row ${y} uses a filter`);
    raw.copy(rgb, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return { width, height, rgb };
}

export function pixel(img: Rgb, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 3;
  return [img.rgb[o]!, img.rgb[o + 1]!, img.rgb[o + 2]!];
}

/** fbtest's palette, in the order C steps through it. */
export const PALETTE: [number, number, number][] = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255], [255, 255, 255], [255, 128, 0],
];

/** The frame number fbtest writes into the first 4 pixels (byte k of it as pixel k's grey level). */
export function frameCounter(img: Rgb): number {
  let n = 0;
  for (let k = 3; k >= 0; k--) {
    const [r, g, b] = pixel(img, k, 0);
    if (r !== g || g !== b) throw new Error(`counter pixel ${k} is not grey: ${r},${g},${b}`);
    n = n * 256 + r;
  }
  return n;
}

/** Where fbtest's square is: the bounding box of non-black pixels outside the counter, and its colour. */
export function findSquare(img: Rgb): { x: number; y: number; width: number; height: number; colour: [number, number, number]; pixels: number } | undefined {
  let minX = Infinity, minY = Infinity, maxX = -1, maxY = -1, count = 0;
  let colour: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (y === 0 && x < 4) continue;
      const p = pixel(img, x, y);
      if (p[0] === 0 && p[1] === 0 && p[2] === 0) continue;
      count++;
      colour = p;
      minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
  }
  if (count === 0) return undefined;
  return { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1, colour, pixels: count };
}
