/**
 * The plan the ROM applies: offsets shared with rom/rom.S, the ROM's
 * header, and the trampoline tables, checked as plain data (no QEMU).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ACCEL_BOOT_ADDR, ACCEL_BOOT_SIZE, BOOT_PAGE_TABLES_ADDR, DIRECT_MAP_BASE, type BootState, type LongModeSregs, type Segment,
} from '@kvmos/protocol';
import { buildAccelBoot, MAX_MSRS, MSR_FS_BASE, MSR_GS_BASE, PLAN, PLAN_VERSION } from '../src/boot-area.js';
import { defaultRomPath } from '../src/machine.js';
import { TcgError } from '../src/errors.js';

const romSource = readFileSync(fileURLToPath(new URL('../../rom/rom.S', import.meta.url)), 'utf8');

function seg(selector: number): Segment {
  return { base: 0n, limit: 0xfffff, selector, type: 3, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 };
}

function state(over: Partial<BootState> = {}): BootState {
  const sregs: LongModeSregs = {
    cs: { ...seg(0x10), type: 11, l: 1, db: 0 }, ds: seg(0x18), es: seg(0x18), fs: seg(0x18), gs: seg(0x18), ss: seg(0x18),
    tr: { ...seg(0x40), type: 11, s: 0 }, ldt: { ...seg(0), unusable: 1 },
    gdt: { base: DIRECT_MAP_BASE + 0x3000n, limit: 63 }, idt: { base: 0n, limit: 0 },
    cr0: 0x80010033n, cr3: BigInt(BOOT_PAGE_TABLES_ADDR), cr4: 0x620n, efer: 0xd01n,
  };
  const regs = {
    rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0x1000n, rsp: 0xffff_ffff_8008_0000n, rbp: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0xffff_ffff_8010_0000n, rflags: 2n,
  };
  return { ramSize: 64 << 20, writes: [], regs, sregs, msrs: [{ index: 0xc000_0081, data: 0x0023_0010n << 32n }], ...over };
}

/** `.set NAME, VALUE` of rom.S. */
function romSymbol(name: string): number {
  const m = new RegExp(`\\.set ${name},\\s*(0x[0-9a-fA-F]+|\\d+)`).exec(romSource);
  if (!m) throw new Error(`rom.S has no .set ${name}`);
  return Number(m[1]);
}

test('the ROM and boot-area.ts agree on every plan offset and on where the plan is', (t) => {
  t.is(romSymbol('PLAN'), ACCEL_BOOT_ADDR);
  const names: [string, keyof typeof PLAN][] = [
    ['P_CR0', 'cr0'], ['P_CR3', 'cr3'], ['P_CR4', 'cr4'], ['P_EFER', 'efer'], ['P_RIP', 'rip'], ['P_RSP', 'rsp'],
    ['P_GDTR', 'gdtr'], ['P_IDTR', 'idtr'], ['P_CS', 'cs'], ['P_DS', 'ds'], ['P_ES', 'es'], ['P_SS', 'ss'],
    ['P_FS', 'fs'], ['P_GS', 'gs'], ['P_TR', 'tr'], ['P_RDI', 'rdi'], ['P_RFLAGS', 'rflags'], ['P_TCR3', 'trampolineCr3'],
    ['P_STUB_VA', 'stubVa'], ['P_STUB_PA', 'stubPa'], ['P_NMSR', 'msrCount'], ['P_MSRS', 'msrs'], ['P_STACK', 'stackTop'],
  ];
  for (const [sym, key] of names) t.is(romSymbol(sym), PLAN[key], sym);
});

test('the built ROM is 64 KiB with its header (magic, plan version, plan address) and a jump at the reset vector', (t) => {
  const rom = readFileSync(defaultRomPath());
  t.is(rom.length, 65536);
  t.is(rom.toString('latin1', 0, 8), 'kvmosROM');
  t.is(rom.readUInt32LE(8), PLAN_VERSION);
  t.is(rom.readUInt32LE(12), ACCEL_BOOT_ADDR);
  // 0xFFF0: a short or near jmp (0xeb / 0xe9) to the 16-bit start.
  t.true(rom[0xfff0] === 0xeb || rom[0xfff0] === 0xe9);
});

test('the plan carries the boot state: CRs, EFER without LMA, selectors, RIP/RSP/RDI/RFLAGS, MSRs with the FS/GS bases', (t) => {
  const s = state();
  const { addr, bytes } = buildAccelBoot(s);
  t.is(addr, ACCEL_BOOT_ADDR);
  t.is(bytes.length, ACCEL_BOOT_SIZE);
  const b = Buffer.from(bytes);
  t.is(b.readBigUInt64LE(PLAN.cr0), s.sregs.cr0);
  t.is(b.readBigUInt64LE(PLAN.cr3), s.sregs.cr3);
  t.is(b.readBigUInt64LE(PLAN.cr4), s.sregs.cr4);
  t.is(b.readBigUInt64LE(PLAN.efer), 0x901n, 'LMA is the CPU\'s to set');
  t.is(b.readBigUInt64LE(PLAN.rip), s.regs.rip);
  t.is(b.readBigUInt64LE(PLAN.rsp), s.regs.rsp);
  t.is(b.readBigUInt64LE(PLAN.rdi), s.regs.rdi);
  t.is(b.readBigUInt64LE(PLAN.rflags), 2n);
  t.is(b.readUInt16LE(PLAN.gdtr), 63);
  t.is(b.readBigUInt64LE(PLAN.gdtr + 2), DIRECT_MAP_BASE + 0x3000n);
  t.is(b.readUInt16LE(PLAN.cs), 0x10);
  t.is(b.readUInt16LE(PLAN.ss), 0x18);
  t.is(b.readUInt16LE(PLAN.tr), 0, 'the boot GDT has no TSS descriptor: TR is left to the kernel');
  t.is(b.readUInt32LE(PLAN.msrCount), 3);
  t.deepEqual(
    [0, 1, 2].map((i) => [b.readUInt32LE(PLAN.msrs + i * 16), b.readBigUInt64LE(PLAN.msrs + i * 16 + 8)]),
    [[0xc000_0081, 0x0023_0010n << 32n], [MSR_FS_BASE, 0n], [MSR_GS_BASE, 0n]],
  );
});

/** Walks the trampoline tables in the plan bytes like the CPU would (4-level, 2 MiB leaves). */
function translate(bytes: Uint8Array, cr3: bigint, va: bigint): bigint | undefined {
  const b = Buffer.from(bytes);
  let table = cr3;
  for (const level of [4, 3, 2]) {
    const idx = Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
    const off = Number(table) - ACCEL_BOOT_ADDR + idx * 8;
    if (off < 0 || off + 8 > b.length) return undefined;
    const e = b.readBigUInt64LE(off);
    if ((e & 1n) === 0n) return undefined;
    if (level === 2) return (e & 0x000f_ffff_ffe0_0000n) | (va & 0x1f_ffffn);
    table = e & 0x000f_ffff_ffff_f000n;
  }
  return undefined;
}

test('the trampoline tables map the ROM and low RAM 1:1 and the stub through the direct map, nothing else', (t) => {
  const { bytes } = buildAccelBoot(state());
  const b = Buffer.from(bytes);
  const cr3 = b.readBigUInt64LE(PLAN.trampolineCr3);
  t.is(translate(bytes, cr3, 0xffff_fff0n), 0xffff_fff0n);
  t.is(translate(bytes, cr3, BigInt(ACCEL_BOOT_ADDR)), BigInt(ACCEL_BOOT_ADDR));
  const stubVa = b.readBigUInt64LE(PLAN.stubVa);
  t.is(translate(bytes, cr3, stubVa), BigInt(b.readUInt32LE(PLAN.stubPa)));
  t.is(stubVa, DIRECT_MAP_BASE + BigInt(b.readUInt32LE(PLAN.stubPa)));
  t.is(translate(bytes, cr3, DIRECT_MAP_BASE + 0x3000n), 0x3000n, 'the boot GDT, for lgdt and the selector loads');
  t.is(translate(bytes, cr3, 0x20_0000n), undefined);
  t.is(translate(bytes, cr3, 0xffff_ffff_8010_0000n), undefined);
  const stubPa = b.readUInt32LE(PLAN.stubPa);
  t.true(stubPa >= ACCEL_BOOT_ADDR && stubPa < ACCEL_BOOT_ADDR + ACCEL_BOOT_SIZE, 'the stub stays inside ACCEL_BOOT');
});

test('a state the ROM cannot apply is refused with what and why', (t) => {
  const s = state();
  t.throws(() => buildAccelBoot({ ...s, regs: { ...s.regs, rsi: 1n } }), { instanceOf: TcgError, message: /rsi .* only RIP, RSP, RDI and RFLAGS/ });
  t.throws(() => buildAccelBoot({ ...s, msrs: Array.from({ length: MAX_MSRS }, (_, i) => ({ index: 0x100 + i, data: 0n })) }), { instanceOf: TcgError, message: /MSRs/ });
  t.throws(() => buildAccelBoot({ ...s, msrs: [{ index: 0xc000_0080, data: 0n }] }), { instanceOf: TcgError, message: /EFER/ });
  t.throws(() => buildAccelBoot({ ...s, sregs: { ...s.sregs, ds: { ...s.sregs.ds, base: 0x1000n } } }), { instanceOf: TcgError, message: /flat/ });
});
