import { existsSync, readFileSync } from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import {
  ET_DYN,
  ET_EXEC,
  ElfError,
  PF_R,
  PF_W,
  PF_X,
  PT_INTERP,
  parseElf,
  type ElfImage,
} from '../src/index.js';
import { DATA, EHDR, PHDR, RODATA, TEXT, TEXT_VADDR, kernelElf, writeElf } from './elf-writer.js';

test('parses a kernel-like ELF: entry, program headers and segment bytes', (t) => {
  const image = parseElf(kernelElf());
  t.is(image.type, ET_EXEC);
  t.is(image.entry, TEXT_VADDR);
  t.is(image.interpreter, undefined);
  t.is(image.programHeaders.length, 3);
  t.deepEqual(
    image.loadSegments.map((s) => [s.flags, s.vaddr, s.paddr, s.memsz, [...s.data]]),
    [
      [PF_R | PF_X, TEXT_VADDR, 0x10_0000n, 2n, [...TEXT]],
      [PF_R, TEXT_VADDR + 0x1000n, 0x10_1000n, BigInt(RODATA.length), [...RODATA]],
      [PF_R | PF_W, TEXT_VADDR + 0x2000n, 0x10_2000n, 0x3000n, [...DATA]],
    ],
  );
});

test('parses from a view into a larger buffer', (t) => {
  const elf = kernelElf();
  const big = new Uint8Array(elf.length + 100);
  big.set(elf, 50);
  t.deepEqual(parseElf(big.subarray(50, 50 + elf.length)).entry, TEXT_VADDR);
});

test('keeps ET_DYN and PT_INTERP for the caller to judge', (t) => {
  const interp = new TextEncoder().encode('/lib64/ld-linux-x86-64.so.2\0');
  const image = parseElf(
    writeElf({
      type: ET_DYN,
      entry: 0x1000n,
      segments: [
        { type: PT_INTERP, flags: PF_R, vaddr: 0x200n, data: interp },
        { flags: PF_R | PF_X, vaddr: 0x1000n, data: TEXT },
      ],
    }),
  );
  t.is(image.type, ET_DYN);
  t.is(image.interpreter, '/lib64/ld-linux-x86-64.so.2');
  t.is(image.programHeaders[0]?.type, PT_INTERP);
  t.is(image.loadSegments.length, 1);
});

const HELLO = new URL('../../../../guest/target/kvmos/hello', import.meta.url);
test('parses the built guest/target/kvmos/hello', (t) => {
  t.true(
    existsSync(HELLO),
    `${HELLO.pathname} is missing: build the guest first (pnpm exec turbo run build --filter=@kvmos/guest, or bash guest/build.sh); turbo runs it before this package's tests`,
  );
  const image: ElfImage = parseElf(readFileSync(HELLO));
  t.is(image.type, ET_EXEC);
  t.true(image.loadSegments.length > 0);
});

type Edit = (b: Uint8Array, dv: DataView) => Uint8Array | void;
const PH0 = EHDR;
const PH1 = EHDR + PHDR;
const PH2 = EHDR + 2 * PHDR;

const malformed: [string, Edit, number, RegExp][] = [
  ['bad magic', (b) => void (b[1] = 0x46), 0, /^not an ELF file \(bad magic at offset 0\): pass the kernel image built by guest\//],
  ['an empty file', () => new Uint8Array(0), 0, /not an ELF file/],
  ['a 32-bit ELF', (b) => void (b[4] = 1), 4, /not a 64-bit ELF .*EI_CLASS at offset 4 is 1/],
  ['a big-endian ELF', (b) => void (b[5] = 2), 5, /not a little-endian ELF/],
  ['an unknown EI_VERSION', (b) => void (b[6] = 0), 6, /unknown ELF version/],
  ['the identification only', (b) => b.slice(0, 6), 6, /EI_VERSION at offset 6 is missing/],
  ['a truncated header', (b) => b.slice(0, 40), 40, /truncated ELF header: the file is 40 bytes, an ELF64 header needs 64/],
  ['an object file', (_, dv) => dv.setUint16(16, 1, true), 16, /ELF type 1 \(ET_REL, an object file\) at offset 16 is not loadable/],
  ['another machine', (_, dv) => dv.setUint16(18, 183, true), 18, /built for machine 183 .*not x86-64/],
  ['a bad e_version', (_, dv) => dv.setUint32(20, 2, true), 20, /e_version 2 at offset 20/],
  ['a bad e_ehsize', (_, dv) => dv.setUint16(52, 52, true), 52, /e_ehsize 52/],
  ['a bad e_phentsize', (_, dv) => dv.setUint16(54, 32, true), 54, /e_phentsize 32/],
  ['PN_XNUM', (_, dv) => dv.setUint16(56, 0xffff, true), 56, /PN_XNUM/],
  ['e_phoff past the end', (_, dv) => dv.setBigUint64(32, 0xffff_ffff_ffff_fff0n, true), 32, /program header table .* extends past the end/],
  ['e_phnum past the end', (_, dv) => dv.setUint16(56, 200, true), 32, /program header table \(200 entries/],
  ['no program headers', (_, dv) => dv.setUint16(56, 0, true), 56, /no PT_LOAD segment/],
  ['no PT_LOAD', (_, dv) => [PH0, PH1, PH2].forEach((at) => dv.setUint32(at, 4, true)), 56, /no PT_LOAD segment/],
  ['p_offset past the end', (_, dv) => dv.setBigUint64(PH1 + 8, 0x10_0000n, true), PH1 + 8, /program header 1: its file bytes .* extend past the end/],
  ['p_offset + p_filesz wrapping', (_, dv) => dv.setBigUint64(PH1 + 8, 0xffff_ffff_ffff_ffffn, true), PH1 + 8, /program header 1/],
  ['a truncated segment', (b) => b.slice(0, b.length - 2), PH2 + 8, /program header 2: .*truncated/],
  ['p_filesz > p_memsz', (_, dv) => dv.setBigUint64(PH1 + 40, 1n, true), PH1 + 32, /p_filesz 0x12 exceeds p_memsz 0x1/],
  ['p_vaddr + p_memsz wrapping', (_, dv) => dv.setBigUint64(PH2 + 40, 1n << 62n, true), PH2 + 40, /past the end of the 64-bit address space/],
  ['overlapping segments', (_, dv) => dv.setBigUint64(PH2 + 16, TEXT_VADDR + 0x1010n, true), PH2 + 16, /PT_LOAD segments overlap: program header 1 .* and program header 2/],
  ['an entry outside every segment', (_, dv) => dv.setBigUint64(24, 0x40_0000n, true), 24, /entry point 0x400000 .* not inside an executable PT_LOAD/],
  ['an entry in a non-executable segment', (_, dv) => dv.setBigUint64(24, TEXT_VADDR + 0x2000n, true), 24, /not inside an executable/],
  ['an entry just past the text', (_, dv) => dv.setBigUint64(24, TEXT_VADDR + 2n, true), 24, /not inside an executable/],
  ['two PT_INTERP', (_, dv) => [PH1, PH2].forEach((at) => dv.setUint32(at, PT_INTERP, true)), PH2, /more than one PT_INTERP/],
];

for (const [what, edit, offset, message] of malformed) {
  test(`rejects ${what} at offset ${offset}`, (t) => {
    const elf = kernelElf();
    const bytes = edit(elf, new DataView(elf.buffer)) ?? elf;
    const e = t.throws(() => parseElf(bytes), { instanceOf: ElfError });
    t.is(e?.offset, offset);
    t.regex(e?.message ?? '', message);
  });
}

/** parseElf must never throw anything but ElfError, and its offsets point into the file. */
function parsesOrElfError(bytes: Uint8Array): boolean {
  try {
    parseElf(bytes);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > bytes.length) {
      throw new Error(`offset ${e.offset} outside a ${bytes.length}-byte file`);
    }
  }
  return true;
}

test('random bytes: a value or ElfError, nothing else', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), parsesOrElfError), { numRuns: 2000 });
  // Random bytes almost never pass the magic; start from a valid identification too.
  const ident = kernelElf().subarray(0, 16);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => parsesOrElfError(Uint8Array.from([...ident, ...tail]))),
    { numRuns: 2000 },
  );
  t.pass();
});

test('mutated and truncated valid ELF: a value or ElfError, nothing else', (t) => {
  const valid = kernelElf();
  const headers = EHDR + 3 * PHDR;
  const edit = fc.oneof(
    // Mostly the headers, where every field is read.
    fc.tuple(fc.integer({ min: 0, max: headers - 1 }), fc.integer({ min: 0, max: 255 })),
    fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })),
  );
  // Fields set to extremes, where overflow bugs hide.
  const word = fc.tuple(
    fc.integer({ min: 0, max: headers - 8 }),
    fc.constantFrom(0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffffn, TEXT_VADDR, 56n, 64n),
  );
  fc.assert(
    fc.property(
      fc.array(edit, { maxLength: 6 }),
      fc.array(word, { maxLength: 3 }),
      fc.option(fc.integer({ min: 0, max: valid.length }), { nil: undefined }),
      (edits, words, cut) => {
        const b = Uint8Array.from(valid);
        const dv = new DataView(b.buffer);
        for (const [at, v] of edits) b[at] = v;
        for (const [at, v] of words) dv.setBigUint64(at, v, true);
        return parsesOrElfError(cut === undefined ? b : b.subarray(0, cut));
      },
    ),
    { numRuns: 5000 },
  );
  t.pass();
});
