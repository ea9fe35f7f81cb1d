/** Assembles small ELF64 x86-64 files for tests: header, program headers, then segment bytes. */
import { KERNEL_BASE, KERNEL_IMAGE_ADDR } from '@kvmos/protocol';
import { ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD } from '../src/index.js';

export interface SegmentSpec {
  type?: number;
  flags: number;
  vaddr: bigint;
  /** Defaults to vaddr - KERNEL_BASE for kernel addresses, else vaddr. */
  paddr?: bigint;
  data: Uint8Array;
  /** Defaults to data.length. */
  memsz?: bigint;
}

export interface ElfSpec {
  type?: number;
  entry: bigint;
  segments: SegmentSpec[];
}

export const EHDR = 64;
export const PHDR = 56;

export function writeElf(spec: ElfSpec): Uint8Array {
  const dataStart = EHDR + spec.segments.length * PHDR;
  const total = dataStart + spec.segments.reduce((n, s) => n + s.data.length, 0);
  const bytes = new Uint8Array(total);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, spec.type ?? ET_EXEC, true);
  dv.setUint16(18, 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, spec.entry, true);
  dv.setBigUint64(32, BigInt(EHDR), true);
  dv.setUint16(52, EHDR, true);
  dv.setUint16(54, PHDR, true);
  dv.setUint16(56, spec.segments.length, true);
  let offset = dataStart;
  spec.segments.forEach((s, i) => {
    const at = EHDR + i * PHDR;
    const paddr = s.paddr ?? (s.vaddr >= KERNEL_BASE ? s.vaddr - KERNEL_BASE : s.vaddr);
    dv.setUint32(at, s.type ?? PT_LOAD, true);
    dv.setUint32(at + 4, s.flags, true);
    dv.setBigUint64(at + 8, BigInt(offset), true);
    dv.setBigUint64(at + 16, s.vaddr, true);
    dv.setBigUint64(at + 24, paddr, true);
    dv.setBigUint64(at + 32, BigInt(s.data.length), true);
    dv.setBigUint64(at + 40, s.memsz ?? BigInt(s.data.length), true);
    dv.setBigUint64(at + 48, 0x1000n, true);
    bytes.set(s.data, offset);
    offset += s.data.length;
  });
  return bytes;
}

export const TEXT_VADDR = KERNEL_BASE + BigInt(KERNEL_IMAGE_ADDR);
/** `out dx, eax; hlt` */
export const TEXT = Uint8Array.from([0xef, 0xf4]);
export const RODATA = new TextEncoder().encode('hello from ring 0\n');
export const DATA = Uint8Array.from([1, 2, 3, 4]);

/** Laid out as guest/kernel/link.ld does: text, rodata, then data followed by bss. */
export function kernelSpec(): ElfSpec {
  return {
    entry: TEXT_VADDR,
    segments: [
      { flags: PF_R | PF_X, vaddr: TEXT_VADDR, data: TEXT },
      { flags: PF_R, vaddr: TEXT_VADDR + 0x1000n, data: RODATA },
      { flags: PF_R | PF_W, vaddr: TEXT_VADDR + 0x2000n, data: DATA, memsz: 0x3000n },
    ],
  };
}

export function kernelElf(): Uint8Array {
  return writeElf(kernelSpec());
}
