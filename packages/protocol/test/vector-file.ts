/** Reads the shared vector files (format: the header comment of each file). */
import { readFileSync } from 'node:fs';

export interface ValidCase {
  name: string;
  /** `[field, value]` in file order; `segment` lines keep their two numbers as text. */
  fields: [string, string][];
  bytes: Uint8Array;
}

export interface InvalidCase {
  name: string;
  bytes: Uint8Array;
  error: string;
}

/** Tests run from dist/test/, the vectors live in the package's vectors/. */
const VECTORS = new URL('../../vectors/', import.meta.url);

export function readVectors(file: string): { valid: ValidCase[]; invalid: InvalidCase[] } {
  const valid: ValidCase[] = [];
  const invalid: InvalidCase[] = [];
  let current: { kind: 'case' | 'invalid'; name: string; fields: [string, string][] } | undefined;
  let bytes: Uint8Array | undefined;
  let error: string | undefined;
  const lines = readFileSync(new URL(file, VECTORS), 'utf8').split('\n');
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (key === 'case' || key === 'invalid') {
      if (current) throw new Error(`${where}: ${key} before end`);
      current = { kind: key, name: rest, fields: [] };
      bytes = undefined;
      error = undefined;
    } else if (!current) {
      throw new Error(`${where}: ${key} outside a case`);
    } else if (key === 'bytes') {
      bytes = fromHex(rest, where);
    } else if (key === 'error') {
      error = rest;
    } else if (key === 'end') {
      if (!bytes) throw new Error(`${where}: case without bytes`);
      if (current.kind === 'case') valid.push({ name: current.name, fields: current.fields, bytes });
      else {
        if (error === undefined) throw new Error(`${where}: invalid case without error`);
        invalid.push({ name: current.name, bytes, error });
      }
      current = undefined;
    } else {
      current.fields.push([key, rest]);
    }
  });
  if (current) throw new Error(`${file}: last case has no end`);
  return { valid, invalid };
}

/** A field value as the file writes it: decimal, 0x-hex, or negative decimal. */
export function int(text: string): bigint {
  if (!/^(0x[0-9a-f]+|-?[0-9]+)$/.test(text)) throw new Error(`not an integer: ${text}`);
  return BigInt(text);
}

export function fromHex(text: string, where = 'hex'): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`${where}: not lowercase hex bytes`);
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
