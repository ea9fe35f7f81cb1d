/*
 * The kvmos TCG ROM (QEMU `-bios`, 64 KiB, linked at 0xFFFF0000).
 *
 * There is no firmware: this ROM only applies the boot plan that the host
 * wrote into guest RAM at PLAN (ACCEL_BOOT_ADDR) before QEMU started, and
 * jumps to the kernel's entry. The host (packages/tcg/src/boot-area.ts)
 * wrote, next to the plan, trampoline page tables and the stub copied
 * below. The steps, from the reset vector:
 *
 *   16-bit real mode   load this ROM's own flat GDT, set CR0.PE
 *   32-bit protected   CR4, trampoline CR3, EFER (LME...), then the plan's
 *                      CR0 (PG on): long mode, compatibility submode. The
 *                      trampoline tables map this ROM and the first 2 MiB
 *                      of RAM 1:1, and the direct map's first 2 MiB
 *   64-bit             the plan's GDTR and IDTR, DS/ES/SS/FS/GS, MSRs
 *                      (STAR, FS/GS bases...), TR; then a far return to
 *                      the plan's CS at the stub (through the direct map)
 *   stub (in RAM)      the plan's CR3 (the ROM is not mapped there, the
 *                      stub is), RSP, RFLAGS, then `ret` to the kernel
 *
 * The plan's layout (offsets from PLAN) is checked by the host's tests
 * against boot-area.ts; the header at the ROM's start names the plan's
 * address and version so the host can refuse a ROM that does not match.
 */
    .set PLAN,      0x80000
    .set P_CR0,     0x00
    .set P_CR3,     0x08
    .set P_CR4,     0x10
    .set P_EFER,    0x18
    .set P_RIP,     0x20
    .set P_RSP,     0x28
    .set P_GDTR,    0x30    /* u16 limit, u64 base at +2 */
    .set P_IDTR,    0x40
    .set P_CS,      0x50
    .set P_DS,      0x52
    .set P_ES,      0x54
    .set P_SS,      0x56
    .set P_FS,      0x58
    .set P_GS,      0x5a
    .set P_TR,      0x5c
    .set P_RDI,     0x60
    .set P_RFLAGS,  0x68
    .set P_TCR3,    0x70    /* physical address of the trampoline PML4 */
    .set P_STUB_VA, 0x78    /* where the stub runs (mapped by both tables) */
    .set P_STUB_PA, 0x80    /* u32: where this ROM copies the stub */
    .set P_NMSR,    0x84    /* u32 */
    .set P_MSRS,    0x88    /* {u32 index, u32 pad, u64 value}[P_NMSR] */
    .set P_STACK,   0x1000  /* the ROM's own stack grows down from PLAN+P_STACK */

    .text
    .globl _start
_start:
header:
    .ascii "kvmosROM"
    .long 1                 /* plan version */
    .long PLAN

    .balign 8
rom_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff    /* 0x08: 32-bit code, flat */
    .quad 0x00af9b000000ffff    /* 0x10: 64-bit code */
    .quad 0x00cf93000000ffff    /* 0x18: data, flat */
rom_gdt_end:
rom_gdtr:
    .word rom_gdt_end - rom_gdt - 1
    .long rom_gdt

/* The stub, copied into RAM (P_STUB_PA) and run at P_STUB_VA with
   rax = CR3, rdx = RSP, rcx = RFLAGS, rbx = RIP, rdi = BootInfo. */
stub:
    movq %rax, %cr3
    movq %rdx, %rsp
    pushq %rcx
    popfq
    pushq %rbx
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    ret
stub_end:

    .org 0xF000
    .code16
start16:
    cli
    cld
    lgdtl %cs:(rom_gdtr - _start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $start32

    .code32
start32:
    movl $0x18, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    /* the stub goes into RAM first: after the switch to the plan's CR3
       only RAM is mapped */
    movl $stub, %esi
    movl PLAN+P_STUB_PA, %edi
    movl $(stub_end - stub), %ecx
    rep movsb
    movl PLAN+P_CR4, %eax
    movl %eax, %cr4
    movl PLAN+P_TCR3, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    movl PLAN+P_EFER, %eax
    movl PLAN+P_EFER+4, %edx
    wrmsr
    movl PLAN+P_CR0, %eax
    movl %eax, %cr0
    ljmpl $0x10, $start64

    .code64
start64:
    movl $(PLAN+P_STACK), %esp
    lgdt PLAN+P_GDTR
    lidt PLAN+P_IDTR
    movw PLAN+P_DS, %ax
    movw %ax, %ds
    movw PLAN+P_ES, %ax
    movw %ax, %es
    movw PLAN+P_SS, %ax
    movw %ax, %ss
    movw PLAN+P_FS, %ax
    movw %ax, %fs
    movw PLAN+P_GS, %ax
    movw %ax, %gs
    movl PLAN+P_NMSR, %esi
    movl $(PLAN+P_MSRS), %ebx
1:  testl %esi, %esi
    jz 2f
    movl (%rbx), %ecx
    movl 8(%rbx), %eax
    movl 12(%rbx), %edx
    wrmsr
    addl $16, %ebx
    decl %esi
    jmp 1b
2:  movzwl PLAN+P_TR, %eax
    testl %eax, %eax
    jz 3f
    ltr %ax
3:  movq PLAN+P_CR3, %rax
    movq PLAN+P_RSP, %rdx
    movq PLAN+P_RFLAGS, %rcx
    movq PLAN+P_RIP, %rbx
    movq PLAN+P_RDI, %rdi
    movzwq PLAN+P_CS, %rsi
    pushq %rsi
    pushq PLAN+P_STUB_VA
    lretq

    .org 0xFFF0
    .code16
reset_vector:               /* the CPU starts here: CS base 0xFFFF0000, IP 0xFFF0 */
    jmp start16
    .org 0x10000, 0xf4
