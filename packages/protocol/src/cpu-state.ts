/**
 * The vCPU state both CPU back ends consume, declared once: the loader
 * builds it as plain data (boot plan), the KVM back end passes it to
 * KVM_SET_REGS / KVM_SET_SREGS / KVM_SET_MSRS, and the TCG back end writes
 * it where its ROM applies it. docs/protocol.md, "Machine state at entry".
 */

/** The general-purpose registers, RIP and RFLAGS. */
export interface Regs {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint;
  rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint;
  r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** A segment register with its hidden part (KVM's struct kvm_segment). */
export interface Segment {
  base: bigint;
  /** In bytes, already scaled by the granularity bit. */
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

export interface DescriptorTable {
  base: bigint;
  limit: number;
}

/** The system registers a long-mode entry sets. */
export interface LongModeSregs {
  cs: Segment; ds: Segment; es: Segment; fs: Segment;
  gs: Segment; ss: Segment; tr: Segment; ldt: Segment;
  gdt: DescriptorTable;
  idt: DescriptorTable;
  cr0: bigint; cr3: bigint; cr4: bigint;
  efer: bigint;
}

export interface MsrEntry {
  index: number;
  data: bigint;
}

/**
 * Where a stopped guest was, as crash reports print it: both back ends can
 * read these (KVM from the vCPU, TCG from QEMU's monitor).
 */
export interface CpuLocation {
  rip: bigint;
  rsp: bigint;
  cs: number;
  cr2: bigint;
  cr3: bigint;
}
