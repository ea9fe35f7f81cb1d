/**
 * Exact byte layouts of the KVM structs the host passes through ioctls, and
 * their encoders/decoders. Offsets are keyed by the C field name so that
 * test/structs.test.ts can check every one against <linux/kvm.h> with offsetof.
 * Encoders write into `out` (e.g. a scratch page) when given, else a new Buffer.
 */

import type { DescriptorTable, LongModeSregs, MsrEntry, Regs, Segment } from '@kvmos/protocol';

export interface StructLayout {
  /** The C struct's tag, as in `struct <tag>`. */
  readonly struct: string;
  readonly size: number;
  /** C member designator (may be nested, e.g. `io.port`) -> byte offset. */
  readonly offsets: Readonly<Record<string, number>>;
}

export type { Regs, Segment, DescriptorTable, MsrEntry } from '@kvmos/protocol';

/** struct kvm_sregs: the long-mode state of the boot plan plus what KVM adds. */
export interface Sregs extends LongModeSregs {
  cr2: bigint; cr8: bigint;
  apicBase: bigint;
  interruptBitmap: [bigint, bigint, bigint, bigint];
}

export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export interface UserMemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: bigint;
  memorySize: bigint;
  userspaceAddr: bigint;
}

const REG_NAMES = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const satisfies readonly (keyof Regs)[];

export const REGS = {
  struct: 'kvm_regs',
  size: 144,
  offsets: {
    rax: 0, rbx: 8, rcx: 16, rdx: 24, rsi: 32, rdi: 40, rsp: 48, rbp: 56,
    r8: 64, r9: 72, r10: 80, r11: 88, r12: 96, r13: 104, r14: 112, r15: 120,
    rip: 128, rflags: 136,
  },
} as const satisfies StructLayout;

export const SEGMENT = {
  struct: 'kvm_segment',
  size: 24,
  offsets: {
    base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16,
    db: 17, s: 18, l: 19, g: 20, avl: 21, unusable: 22,
  },
} as const satisfies StructLayout;

export const DTABLE = {
  struct: 'kvm_dtable',
  size: 16,
  offsets: { base: 0, limit: 8 },
} as const satisfies StructLayout;

const SEGMENT_NAMES = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const satisfies readonly (keyof Sregs)[];

export const SREGS = {
  struct: 'kvm_sregs',
  size: 312,
  offsets: {
    cs: 0, ds: 24, es: 48, fs: 72, gs: 96, ss: 120, tr: 144, ldt: 168,
    gdt: 192, idt: 208,
    cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264,
    apic_base: 272, interrupt_bitmap: 280,
  },
} as const satisfies StructLayout;

export const MSRS = {
  struct: 'kvm_msrs',
  size: 8,
  offsets: { nmsrs: 0, entries: 8 },
} as const satisfies StructLayout;

export const MSR_ENTRY = {
  struct: 'kvm_msr_entry',
  size: 16,
  offsets: { index: 0, reserved: 4, data: 8 },
} as const satisfies StructLayout;

export const CPUID2 = {
  struct: 'kvm_cpuid2',
  size: 8,
  offsets: { nent: 0, entries: 8 },
} as const satisfies StructLayout;

export const CPUID_ENTRY2 = {
  struct: 'kvm_cpuid_entry2',
  size: 40,
  offsets: { function: 0, index: 4, flags: 8, eax: 12, ebx: 16, ecx: 20, edx: 24, padding: 28 },
} as const satisfies StructLayout;

export const USERSPACE_MEMORY_REGION = {
  struct: 'kvm_userspace_memory_region',
  size: 32,
  offsets: { slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24 },
} as const satisfies StructLayout;

export const ENABLE_CAP = {
  struct: 'kvm_enable_cap',
  size: 104,
  offsets: { cap: 0, flags: 4, args: 8, pad: 40 },
} as const satisfies StructLayout;

/** The kvm_run fields decodeExit reads (x86). */
export const RUN = {
  struct: 'kvm_run',
  size: 2352,
  offsets: {
    immediate_exit: 1,
    exit_reason: 8,
    'io.direction': 32,
    'io.size': 33,
    'io.port': 34,
    'io.count': 36,
    'io.data_offset': 40,
    'mmio.phys_addr': 32,
    'mmio.data': 40,
    'mmio.len': 48,
    'mmio.is_write': 52,
    'internal.suberror': 32,
    'internal.ndata': 36,
    'internal.data': 40,
    'fail_entry.hardware_entry_failure_reason': 32,
    'fail_entry.cpu': 40,
    'system_event.type': 32,
    'system_event.ndata': 36,
    'system_event.data': 40,
    // The exit union ends here: a run page shorter than this cannot be decoded.
    kvm_valid_regs: 288,
  },
} as const satisfies StructLayout;

/** Array lengths fixed by the header (checked by the test too). */
export const RUN_INTERNAL_DATA_LEN = 16;
export const RUN_SYSTEM_EVENT_DATA_LEN = 16;
export const RUN_MMIO_DATA_LEN = 8;

function target(size: number, out: Buffer | undefined): Buffer {
  if (!out) return Buffer.alloc(size);
  if (out.length < size) throw new RangeError(`buffer of ${out.length} bytes is too small for ${size}`);
  out.fill(0, 0, size); // padding and reserved fields must be zero
  return out;
}

function need(buf: Buffer, size: number, what: string): void {
  if (buf.length < size) throw new RangeError(`${what}: need ${size} bytes, got ${buf.length}`);
}

export function encodeRegs(r: Regs, out?: Buffer): Buffer {
  const b = target(REGS.size, out);
  for (const name of REG_NAMES) b.writeBigUInt64LE(r[name], REGS.offsets[name]);
  return b;
}

export function decodeRegs(b: Buffer): Regs {
  need(b, REGS.size, 'kvm_regs');
  const o = REGS.offsets;
  const u = (off: number): bigint => b.readBigUInt64LE(off);
  return {
    rax: u(o.rax), rbx: u(o.rbx), rcx: u(o.rcx), rdx: u(o.rdx),
    rsi: u(o.rsi), rdi: u(o.rdi), rsp: u(o.rsp), rbp: u(o.rbp),
    r8: u(o.r8), r9: u(o.r9), r10: u(o.r10), r11: u(o.r11),
    r12: u(o.r12), r13: u(o.r13), r14: u(o.r14), r15: u(o.r15),
    rip: u(o.rip), rflags: u(o.rflags),
  };
}

export function encodeSegment(s: Segment, b: Buffer, at: number): void {
  const o = SEGMENT.offsets;
  b.writeBigUInt64LE(s.base, at + o.base);
  b.writeUInt32LE(s.limit, at + o.limit);
  b.writeUInt16LE(s.selector, at + o.selector);
  b.writeUInt8(s.type, at + o.type);
  b.writeUInt8(s.present, at + o.present);
  b.writeUInt8(s.dpl, at + o.dpl);
  b.writeUInt8(s.db, at + o.db);
  b.writeUInt8(s.s, at + o.s);
  b.writeUInt8(s.l, at + o.l);
  b.writeUInt8(s.g, at + o.g);
  b.writeUInt8(s.avl, at + o.avl);
  b.writeUInt8(s.unusable, at + o.unusable);
}

export function decodeSegment(b: Buffer, at: number): Segment {
  const o = SEGMENT.offsets;
  return {
    base: b.readBigUInt64LE(at + o.base),
    limit: b.readUInt32LE(at + o.limit),
    selector: b.readUInt16LE(at + o.selector),
    type: b.readUInt8(at + o.type),
    present: b.readUInt8(at + o.present),
    dpl: b.readUInt8(at + o.dpl),
    db: b.readUInt8(at + o.db),
    s: b.readUInt8(at + o.s),
    l: b.readUInt8(at + o.l),
    g: b.readUInt8(at + o.g),
    avl: b.readUInt8(at + o.avl),
    unusable: b.readUInt8(at + o.unusable),
  };
}

function encodeDtable(t: DescriptorTable, b: Buffer, at: number): void {
  b.writeBigUInt64LE(t.base, at + DTABLE.offsets.base);
  b.writeUInt16LE(t.limit, at + DTABLE.offsets.limit);
}

function decodeDtable(b: Buffer, at: number): DescriptorTable {
  return { base: b.readBigUInt64LE(at + DTABLE.offsets.base), limit: b.readUInt16LE(at + DTABLE.offsets.limit) };
}

export function encodeSregs(s: Sregs, out?: Buffer): Buffer {
  const b = target(SREGS.size, out);
  const o = SREGS.offsets;
  for (const name of SEGMENT_NAMES) encodeSegment(s[name], b, o[name]);
  encodeDtable(s.gdt, b, o.gdt);
  encodeDtable(s.idt, b, o.idt);
  b.writeBigUInt64LE(s.cr0, o.cr0);
  b.writeBigUInt64LE(s.cr2, o.cr2);
  b.writeBigUInt64LE(s.cr3, o.cr3);
  b.writeBigUInt64LE(s.cr4, o.cr4);
  b.writeBigUInt64LE(s.cr8, o.cr8);
  b.writeBigUInt64LE(s.efer, o.efer);
  b.writeBigUInt64LE(s.apicBase, o.apic_base);
  s.interruptBitmap.forEach((w, i) => b.writeBigUInt64LE(w, o.interrupt_bitmap + 8 * i));
  return b;
}

export function decodeSregs(b: Buffer): Sregs {
  need(b, SREGS.size, 'kvm_sregs');
  const o = SREGS.offsets;
  const u = (off: number): bigint => b.readBigUInt64LE(off);
  const seg = (off: number): Segment => decodeSegment(b, off);
  return {
    cs: seg(o.cs), ds: seg(o.ds), es: seg(o.es), fs: seg(o.fs),
    gs: seg(o.gs), ss: seg(o.ss), tr: seg(o.tr), ldt: seg(o.ldt),
    gdt: decodeDtable(b, o.gdt),
    idt: decodeDtable(b, o.idt),
    cr0: u(o.cr0), cr2: u(o.cr2), cr3: u(o.cr3), cr4: u(o.cr4), cr8: u(o.cr8),
    efer: u(o.efer),
    apicBase: u(o.apic_base),
    interruptBitmap: [
      u(o.interrupt_bitmap), u(o.interrupt_bitmap + 8), u(o.interrupt_bitmap + 16), u(o.interrupt_bitmap + 24),
    ],
  };
}

export function msrsSize(n: number): number {
  return MSRS.size + n * MSR_ENTRY.size;
}

export function encodeMsrs(entries: readonly MsrEntry[], out?: Buffer): Buffer {
  const b = target(msrsSize(entries.length), out);
  b.writeUInt32LE(entries.length, MSRS.offsets.nmsrs);
  entries.forEach((e, i) => {
    const at = MSRS.offsets.entries + i * MSR_ENTRY.size;
    b.writeUInt32LE(e.index, at + MSR_ENTRY.offsets.index);
    b.writeBigUInt64LE(e.data, at + MSR_ENTRY.offsets.data);
  });
  return b;
}

/** Decodes the first `count` entries (default: nmsrs from the header). */
export function decodeMsrs(b: Buffer, count?: number): MsrEntry[] {
  need(b, MSRS.size, 'kvm_msrs');
  const n = count ?? b.readUInt32LE(MSRS.offsets.nmsrs);
  need(b, msrsSize(n), 'kvm_msrs entries');
  return Array.from({ length: n }, (_, i) => {
    const at = MSRS.offsets.entries + i * MSR_ENTRY.size;
    return { index: b.readUInt32LE(at + MSR_ENTRY.offsets.index), data: b.readBigUInt64LE(at + MSR_ENTRY.offsets.data) };
  });
}

export function cpuid2Size(n: number): number {
  return CPUID2.size + n * CPUID_ENTRY2.size;
}

export function encodeCpuid2(entries: readonly CpuidEntry[], out?: Buffer): Buffer {
  const b = target(cpuid2Size(entries.length), out);
  b.writeUInt32LE(entries.length, CPUID2.offsets.nent);
  const o = CPUID_ENTRY2.offsets;
  entries.forEach((e, i) => {
    const at = CPUID2.offsets.entries + i * CPUID_ENTRY2.size;
    b.writeUInt32LE(e.function, at + o.function);
    b.writeUInt32LE(e.index, at + o.index);
    b.writeUInt32LE(e.flags, at + o.flags);
    b.writeUInt32LE(e.eax, at + o.eax);
    b.writeUInt32LE(e.ebx, at + o.ebx);
    b.writeUInt32LE(e.ecx, at + o.ecx);
    b.writeUInt32LE(e.edx, at + o.edx);
  });
  return b;
}

export function decodeCpuid2(b: Buffer): CpuidEntry[] {
  need(b, CPUID2.size, 'kvm_cpuid2');
  const n = b.readUInt32LE(CPUID2.offsets.nent);
  need(b, cpuid2Size(n), 'kvm_cpuid2 entries');
  const o = CPUID_ENTRY2.offsets;
  return Array.from({ length: n }, (_, i) => {
    const at = CPUID2.offsets.entries + i * CPUID_ENTRY2.size;
    return {
      function: b.readUInt32LE(at + o.function),
      index: b.readUInt32LE(at + o.index),
      flags: b.readUInt32LE(at + o.flags),
      eax: b.readUInt32LE(at + o.eax),
      ebx: b.readUInt32LE(at + o.ebx),
      ecx: b.readUInt32LE(at + o.ecx),
      edx: b.readUInt32LE(at + o.edx),
    };
  });
}

export function encodeUserMemoryRegion(r: UserMemoryRegion, out?: Buffer): Buffer {
  const b = target(USERSPACE_MEMORY_REGION.size, out);
  const o = USERSPACE_MEMORY_REGION.offsets;
  b.writeUInt32LE(r.slot, o.slot);
  b.writeUInt32LE(r.flags, o.flags);
  b.writeBigUInt64LE(r.guestPhysAddr, o.guest_phys_addr);
  b.writeBigUInt64LE(r.memorySize, o.memory_size);
  b.writeBigUInt64LE(r.userspaceAddr, o.userspace_addr);
  return b;
}

export function decodeUserMemoryRegion(b: Buffer): UserMemoryRegion {
  need(b, USERSPACE_MEMORY_REGION.size, 'kvm_userspace_memory_region');
  const o = USERSPACE_MEMORY_REGION.offsets;
  return {
    slot: b.readUInt32LE(o.slot),
    flags: b.readUInt32LE(o.flags),
    guestPhysAddr: b.readBigUInt64LE(o.guest_phys_addr),
    memorySize: b.readBigUInt64LE(o.memory_size),
    userspaceAddr: b.readBigUInt64LE(o.userspace_addr),
  };
}

export const ENABLE_CAP_ARGS = 4;

export function encodeEnableCap(cap: number, args: readonly bigint[], out?: Buffer): Buffer {
  if (args.length > ENABLE_CAP_ARGS) throw new RangeError(`kvm_enable_cap takes at most ${ENABLE_CAP_ARGS} args`);
  const b = target(ENABLE_CAP.size, out);
  b.writeUInt32LE(cap, ENABLE_CAP.offsets.cap);
  args.forEach((a, i) => b.writeBigUInt64LE(a, ENABLE_CAP.offsets.args + 8 * i));
  return b;
}
