/**
 * A validating ELF64 (x86-64, little-endian) executable parser. Every size
 * and offset is checked before it is read, so any input either parses or
 * throws ElfError. General on purpose: ET_EXEC and ET_DYN both parse (the
 * kernel loader accepts only ET_EXEC; Linux programs may be either).
 */
import { ElfError } from './errors.js';

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
/** e_phnum value meaning "the real count is elsewhere" (more than 65534). */
const PN_XNUM = 0xffff;
const U64_LIMIT = 1n << 64n;

const TYPE_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL, an object file', 4: 'ET_CORE, a core dump' };

/** One program header. File offset and size are numbers: they are checked to lie in the file. */
export interface ProgramHeader {
  type: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
  offset: number;
  filesz: number;
  vaddr: bigint;
  paddr: bigint;
  memsz: bigint;
  align: bigint;
}

/** A PT_LOAD header with its file bytes (a view into the parsed buffer). */
export interface LoadSegment extends ProgramHeader {
  data: Uint8Array;
}

export interface ElfImage {
  /** ET_EXEC or ET_DYN. */
  type: number;
  entry: bigint;
  programHeaders: ProgramHeader[];
  /** The PT_LOAD segments, in file order. */
  loadSegments: LoadSegment[];
  /** The PT_INTERP path (a dynamically linked program), if any. */
  interpreter: string | undefined;
}

export function parseElf(bytes: Uint8Array): ElfImage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkIdent(bytes);
  if (bytes.length < ELF_HEADER_SIZE) {
    throw new ElfError(
      `truncated ELF header: the file is ${bytes.length} bytes, an ELF64 header needs ${ELF_HEADER_SIZE}; the file is cut short, rebuild or copy it again`,
      bytes.length,
    );
  }
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) {
    const name = TYPE_NAMES[type] ?? 'unknown';
    throw new ElfError(
      `ELF type ${type} (${name}) at offset 16 is not loadable: link an executable (ET_EXEC or ET_DYN)`,
      16,
    );
  }
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) {
    throw new ElfError(
      `built for machine ${machine} (e_machine at offset 18), not x86-64 (${EM_X86_64}): build for an x86_64 target`,
      18,
    );
  }
  const version = dv.getUint32(20, true);
  if (version !== 1) {
    throw new ElfError(`e_version ${version} at offset 20 is not 1 (EV_CURRENT): the file is corrupt`, 20);
  }
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const ehsize = dv.getUint16(52, true);
  if (ehsize !== ELF_HEADER_SIZE) {
    throw new ElfError(`e_ehsize ${ehsize} at offset 52 is not ${ELF_HEADER_SIZE}: the file is corrupt`, 52);
  }
  const phentsize = dv.getUint16(54, true);
  if (phentsize !== PROGRAM_HEADER_SIZE) {
    throw new ElfError(
      `e_phentsize ${phentsize} at offset 54 is not ${PROGRAM_HEADER_SIZE}: the file is corrupt`,
      54,
    );
  }
  const phnum = dv.getUint16(56, true);
  if (phnum === PN_XNUM) {
    throw new ElfError(`e_phnum is PN_XNUM (offset 56): more than 65534 program headers are not supported`, 56);
  }
  if (phoff + BigInt(phnum * PROGRAM_HEADER_SIZE) > BigInt(bytes.length)) {
    throw new ElfError(
      `the program header table (${phnum} entries at e_phoff 0x${phoff.toString(16)}, offset 32) extends past the end of the ${bytes.length}-byte file: the file is truncated or corrupt`,
      32,
    );
  }

  const programHeaders: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    programHeaders.push(readProgramHeader(dv, Number(phoff) + i * PROGRAM_HEADER_SIZE, i));
  }
  const headerOffset = (i: number): number => Number(phoff) + i * PROGRAM_HEADER_SIZE;

  const loadSegments: LoadSegment[] = [];
  programHeaders.forEach((ph, i) => {
    if (ph.type !== PT_LOAD) return;
    if (BigInt(ph.filesz) > ph.memsz) {
      throw new ElfError(
        `PT_LOAD (program header ${i}): p_filesz 0x${ph.filesz.toString(16)} exceeds p_memsz 0x${ph.memsz.toString(16)}: the file is corrupt`,
        headerOffset(i) + 32,
      );
    }
    if (ph.vaddr + ph.memsz > U64_LIMIT || ph.paddr + ph.memsz > U64_LIMIT) {
      throw new ElfError(
        `PT_LOAD (program header ${i}): p_memsz 0x${ph.memsz.toString(16)} runs past the end of the 64-bit address space: the file is corrupt`,
        headerOffset(i) + 40,
      );
    }
    loadSegments.push({ ...ph, data: bytes.subarray(ph.offset, ph.offset + ph.filesz) });
  });
  if (loadSegments.length === 0) {
    throw new ElfError('no PT_LOAD segment (e_phnum at offset 56): nothing to load; link an executable', 56);
  }
  checkOverlaps(programHeaders, headerOffset);

  const inExecutable = loadSegments.some(
    (s) => (s.flags & PF_X) !== 0 && entry >= s.vaddr && entry < s.vaddr + s.memsz,
  );
  if (!inExecutable) {
    throw new ElfError(
      `entry point 0x${entry.toString(16)} (e_entry at offset 24) is not inside an executable PT_LOAD segment: check the linker script's ENTRY and that its section is executable`,
      24,
    );
  }

  return { type, entry, programHeaders, loadSegments, interpreter: readInterpreter(bytes, programHeaders, headerOffset) };
}

function checkIdent(bytes: Uint8Array): void {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError(
      'not an ELF file (bad magic at offset 0): pass the kernel image built by guest/, e.g. guest/target/kvmos/hello',
      0,
    );
  }
  const ident: [number, number, string][] = [
    [4, 2, 'not a 64-bit ELF (EI_CLASS at offset 4 is {v}, want 2 = ELFCLASS64): build for an x86_64 target'],
    [5, 1, 'not a little-endian ELF (EI_DATA at offset 5 is {v}, want 1 = ELFDATA2LSB): build for an x86_64 target'],
    [6, 1, 'unknown ELF version (EI_VERSION at offset 6 is {v}, want 1): the file is corrupt'],
  ];
  for (const [offset, want, message] of ident) {
    const v = bytes[offset];
    if (v !== want) {
      const shown = v === undefined ? 'missing' : String(v);
      throw new ElfError(message.replace('{v}', shown), offset);
    }
  }
}

function readProgramHeader(dv: DataView, at: number, index: number): ProgramHeader {
  const offset = dv.getBigUint64(at + 8, true);
  const filesz = dv.getBigUint64(at + 32, true);
  if (offset + filesz > BigInt(dv.byteLength)) {
    throw new ElfError(
      `program header ${index}: its file bytes [0x${offset.toString(16)}, +0x${filesz.toString(16)}) extend past the end of the ${dv.byteLength}-byte file: the file is truncated or corrupt`,
      at + 8,
    );
  }
  return {
    type: dv.getUint32(at, true),
    flags: dv.getUint32(at + 4, true),
    offset: Number(offset),
    filesz: Number(filesz),
    vaddr: dv.getBigUint64(at + 16, true),
    paddr: dv.getBigUint64(at + 24, true),
    memsz: dv.getBigUint64(at + 40, true),
    align: dv.getBigUint64(at + 48, true),
  };
}

/** Two PT_LOADs sharing a virtual byte would load one over the other. */
function checkOverlaps(headers: ProgramHeader[], headerOffset: (i: number) => number): void {
  const loads = headers
    .map((ph, i) => ({ ph, i }))
    .filter(({ ph }) => ph.type === PT_LOAD && ph.memsz > 0n)
    .sort((a, b) => (a.ph.vaddr < b.ph.vaddr ? -1 : a.ph.vaddr > b.ph.vaddr ? 1 : 0));
  for (let k = 1; k < loads.length; k++) {
    const prev = loads[k - 1];
    const next = loads[k];
    if (prev && next && next.ph.vaddr < prev.ph.vaddr + prev.ph.memsz) {
      const later = Math.max(prev.i, next.i);
      throw new ElfError(
        `PT_LOAD segments overlap: program header ${prev.i} [0x${prev.ph.vaddr.toString(16)}, +0x${prev.ph.memsz.toString(16)}) and program header ${next.i} [0x${next.ph.vaddr.toString(16)}, +0x${next.ph.memsz.toString(16)}): fix the linker script so segments do not share addresses`,
        headerOffset(later) + 16,
      );
    }
  }
}

function readInterpreter(
  bytes: Uint8Array,
  headers: ProgramHeader[],
  headerOffset: (i: number) => number,
): string | undefined {
  const interps = headers.map((ph, i) => ({ ph, i })).filter(({ ph }) => ph.type === PT_INTERP);
  const [first, second] = interps;
  if (second) {
    throw new ElfError(`more than one PT_INTERP (program header ${second.i}): the file is corrupt`, headerOffset(second.i));
  }
  if (!first) return undefined;
  const path = bytes.subarray(first.ph.offset, first.ph.offset + first.ph.filesz);
  const nul = path.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? path : path.subarray(0, nul));
}
