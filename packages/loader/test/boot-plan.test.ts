import { existsSync, readFileSync } from 'node:fs';
import test from 'ava';
import {
  ARGS_ADDR,
  ARGS_MAX,
  BOOT_FLAG_FIXED_TIME,
  BOOT_GDT_ADDR,
  BOOT_INFO_ADDR,
  BOOT_PAGE_TABLES_ADDR,
  CMDLINE_ADDR,
  CMDLINE_MAX,
  DEFAULT_RAM_SIZE,
  FRAMEBUFFER_ADDR,
  INITRAMFS_ADDR,
  KERNEL_BASE,
  MAILBOX_ADDR,
  decodeBootInfo,
  encodeArgsBlock,
  parseCmdline,
} from '@kvmos/protocol';
import {
  BootPlanError,
  ET_DYN,
  ElfError,
  PF_R,
  PF_W,
  PF_X,
  bootMsrs,
  bootSregs,
  planBoot,
  type BootPlanOptions,
  type BootPlan,
} from '../src/index.js';
import { DATA, RODATA, TEXT, TEXT_VADDR, kernelElf, kernelSpec, writeElf, type ElfSpec } from './elf-writer.js';

const MiB = 2 ** 20;
const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const base: BootPlanOptions = { kernel: kernelElf(), bootTimeNs: 1_700_000_000_000_000_000n, randomSeed: seed };

function at(plan: BootPlan, what: string): { addr: number; data: Uint8Array } {
  const w = plan.writes.find((x) => x.what === what);
  if (!w) throw new Error(`no write '${what}' in ${plan.writes.map((x) => x.what).join(', ')}`);
  return w;
}

test('a default boot: kernel segments, tables, GDT, boot info and vCPU state', (t) => {
  const plan = planBoot({ ...base, cmdline: 'exit_code=7' });
  t.is(plan.ramSize, DEFAULT_RAM_SIZE);
  t.is(plan.entry, TEXT_VADDR);
  t.is(plan.regs.rip, TEXT_VADDR);
  t.deepEqual(plan.sregs, bootSregs());
  t.deepEqual(plan.msrs, bootMsrs());
  // File bytes only: bss is the zeroed RAM after them.
  t.deepEqual(
    plan.writes.filter((w) => w.what.startsWith('kernel')).map((w) => [w.addr, [...w.data], w.what]),
    [
      [0x10_0000, [...TEXT], 'kernel segment at 0xffffffff80100000 (r-x)'],
      [0x10_1000, [...RODATA], 'kernel segment at 0xffffffff80101000 (r--)'],
      [0x10_2000, [...DATA], 'kernel segment at 0xffffffff80102000 (rw-)'],
    ],
  );
  t.is(at(plan, 'boot page tables').addr, BOOT_PAGE_TABLES_ADDR);
  t.is(at(plan, 'boot GDT').addr, BOOT_GDT_ADDR);
  const info = at(plan, 'boot info');
  t.is(info.addr, BOOT_INFO_ADDR);
  t.deepEqual(decodeBootInfo(info.data), plan.bootInfo);
  t.like(plan.bootInfo, {
    ramSize: BigInt(DEFAULT_RAM_SIZE),
    freeMemoryStart: BigInt(INITRAMFS_ADDR),
    initramfsAddr: 0n,
    initramfsSize: 0n,
    cmdlineAddr: BigInt(CMDLINE_ADDR),
    cmdlineSize: 11n,
    framebufferAddr: 0n,
    mailboxAddr: 0n,
    bootTimeNs: 1_700_000_000_000_000_000n,
    flags: 0n,
  });
  t.deepEqual(plan.bootInfo.randomSeed, seed);
  const cmdline = at(plan, 'command line');
  t.is(cmdline.addr, CMDLINE_ADDR);
  t.deepEqual(parseCmdline(cmdline.data), [{ key: 'exit_code', value: '7' }]);
});

test('writes do not overlap and stay inside RAM', (t) => {
  const plan = planBoot({ ...base, cmdline: 'x'.repeat(CMDLINE_MAX), initramfs: new Uint8Array(3 * MiB + 1), ramSize: 64 * MiB });
  const ranges = plan.writes.map((w) => [w.addr, w.addr + w.data.length, w.what] as const).sort((a, b) => a[0] - b[0]);
  ranges.forEach(([start, end, what], i) => {
    t.true(start >= 0x1000 && end <= plan.ramSize, what);
    const next = ranges[i + 1];
    if (next) t.true(end <= next[0], `${what} overlaps ${next[2]}`);
  });
});

test('initramfs: placed at INITRAMFS_ADDR, free memory starts at the next 2 MiB', (t) => {
  const initramfs = new Uint8Array(3 * MiB + 1).fill(7);
  const plan = planBoot({ ...base, initramfs });
  t.is(at(plan, 'initramfs').addr, INITRAMFS_ADDR);
  t.is(at(plan, 'initramfs').data, initramfs);
  t.like(plan.bootInfo, {
    initramfsAddr: BigInt(INITRAMFS_ADDR),
    initramfsSize: BigInt(initramfs.length),
    freeMemoryStart: BigInt(INITRAMFS_ADDR + 4 * MiB),
  });
  t.is(planBoot({ ...base, initramfs: new Uint8Array(2 * MiB) }).bootInfo.freeMemoryStart, BigInt(INITRAMFS_ADDR + 2 * MiB));
});

test('framebuffer and flags', (t) => {
  const plan = planBoot({ ...base, framebuffer: { width: 640, height: 480 }, flags: BOOT_FLAG_FIXED_TIME });
  t.like(plan.bootInfo, {
    framebufferAddr: BigInt(FRAMEBUFFER_ADDR),
    framebufferWidth: 640,
    framebufferHeight: 480,
    framebufferStride: 2560,
    framebufferFormat: 1,
    mailboxAddr: BigInt(MAILBOX_ADDR),
    flags: 1n,
  });
  t.notThrows(() => planBoot({ ...base, framebuffer: { width: 2048, height: 2048 } }));
});

test('is pure: the same inputs give the same plan', (t) => {
  const opts = { ...base, cmdline: 'a=b', initramfs: new Uint8Array(10) };
  t.deepEqual(planBoot(opts), planBoot(opts));
});

function withSegments(edit: (spec: ElfSpec) => void): Uint8Array {
  const spec = kernelSpec();
  edit(spec);
  return writeElf(spec);
}

const rejected: [string, Partial<BootPlanOptions>, RegExp][] = [
  ['too little RAM', { ramSize: 32 * MiB }, /RAM size 33554432 bytes \(32 MiB\) is not supported: choose 64 to 4096 MiB, a multiple of 2 MiB/],
  ['too much RAM', { ramSize: 8192 * MiB }, /not supported/],
  ['RAM not a multiple of 2 MiB', { ramSize: 65 * MiB }, /65 MiB\) is not supported/],
  ['a fractional RAM size', { ramSize: 64.5 * MiB }, /not supported/],
  ['a short random seed', { randomSeed: new Uint8Array(16) }, /randomSeed is 16 bytes; pass exactly 32/],
  ['a negative boot time', { bootTimeNs: -1n }, /bootTimeNs -1 does not fit in a u64/],
  ['flags beyond u64', { flags: 1n << 64n }, /flags .* does not fit/],
  [
    'a position-independent kernel',
    { kernel: writeElf({ ...kernelSpec(), type: ET_DYN }) },
    /^kernel must be ET_EXEC, linked at a fixed address/,
  ],
  [
    'a segment below the kernel image region',
    { kernel: withSegments((s) => s.segments.push({ flags: PF_R, vaddr: KERNEL_BASE + 0x8_0000n, data: DATA })) },
    /kernel segment at vaddr 0xffffffff80080000, paddr 0x80000, 0x4 bytes lies outside the kernel image region \[0x100000, 0x1000000\)/,
  ],
  [
    'bss running past the kernel image region',
    { kernel: withSegments((s) => s.segments.push({ flags: PF_R | PF_W, vaddr: KERNEL_BASE + 0xff_f000n, data: DATA, memsz: 0x1001n })) },
    /lies outside the kernel image region/,
  ],
  [
    'a kernel linked in the lower half',
    {
      kernel: writeElf({
        entry: 0x10_0000n,
        segments: [{ flags: PF_R | PF_X, vaddr: 0x10_0000n, data: TEXT }],
      }),
    },
    /vaddr must be KERNEL_BASE \(0xffffffff80000000\) \+ paddr/,
  ],
  [
    'vaddr and paddr disagreeing',
    { kernel: withSegments((s) => s.segments[1] && (s.segments[1].paddr = 0x20_0000n)) },
    /vaddr must be KERNEL_BASE/,
  ],
  ['an initramfs larger than RAM', { ramSize: 64 * MiB, initramfs: new Uint8Array(32 * MiB + 1) }, /the initramfs \(33554433 bytes at 0x2000000\) does not fit in 64 MiB of RAM: give the guest at least 66 MiB/],
  ['a command line over CMDLINE_MAX', { cmdline: 'x'.repeat(CMDLINE_MAX + 1) }, /kernel command line is 16385 bytes, more than the 16384 allowed/],
  ['a command line with NUL', { cmdline: 'a\0' }, /kernel command line contains a NUL byte at offset 1/],
  ['a framebuffer over FRAMEBUFFER_MAX', { framebuffer: { width: 2049, height: 2048 } }, /framebuffer 2049x2048 does not fit/],
  ['an empty framebuffer', { framebuffer: { width: 0, height: 480 } }, /framebuffer 0x480 does not fit/],
];

for (const [what, opts, message] of rejected) {
  test(`rejects ${what}`, (t) => {
    t.throws(() => planBoot({ ...base, ...opts }), { instanceOf: BootPlanError, message });
  });
}

test('a file that is not an ELF image is an ElfError', (t) => {
  t.throws(() => planBoot({ ...base, kernel: new Uint8Array(100) }), { instanceOf: ElfError, message: /not an ELF file/ });
});

const HELLO = new URL('../../../../guest/target/kvmos/hello', import.meta.url);
test('plans the built guest/target/kvmos/hello', (t) => {
  t.true(
    existsSync(HELLO),
    `${HELLO.pathname} is missing: build the guest first (pnpm exec turbo run build --filter=@kvmos/guest, or bash guest/build.sh); turbo runs it before this package's tests`,
  );
  const plan = planBoot({ ...base, kernel: readFileSync(HELLO) });
  t.true(plan.entry >= TEXT_VADDR);
});

test('the args block goes to ARGS_ADDR and BootInfo points at it', (t) => {
  const args = encodeArgsBlock({ argv: ['prog', 'x'], envp: ['A=1'] });
  const plan = planBoot({ kernel: kernelElf(), bootTimeNs: 0n, randomSeed: new Uint8Array(32), args });
  t.is(plan.bootInfo.argsAddr, BigInt(ARGS_ADDR));
  t.is(plan.bootInfo.argsSize, BigInt(args.length));
  const w = plan.writes.find((x) => x.addr === ARGS_ADDR);
  t.deepEqual(w?.data, args);
  t.throws(() => planBoot({ kernel: kernelElf(), bootTimeNs: 0n, randomSeed: new Uint8Array(32), args: new Uint8Array(ARGS_MAX + 1) }), { instanceOf: BootPlanError });
});
