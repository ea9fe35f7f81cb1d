/*
 * kvmos's vDSO: what a process may do without entering the kernel (ring 0
 * is emulated on PVM: a system call costs ~100 us there). Linux's ABI:
 * the kernel maps this shared object into every process and passes its
 * address as AT_SYSINFO_EHDR; libcs (glibc, musl) and ulib look its
 * symbols up, version LINUX_2.6, and fall back to the system call when a
 * symbol is missing.
 *
 * The kernel's data for it (the "vvar" page, kernel/src/dev/vdso.rs) is
 * mapped read-only one page below the image, so the code finds it from
 * __ehdr_start (the image's first byte) without any relocation:
 *   offset 0  u32 clock_mode  0: no clock here (use the system call);
 *                             1: the frame clock of the display
 *   offset 8  u64 frame_ns    that clock's time, in ns
 * The kernel writes it only while user code is not running (one CPU, no
 * preemption in ring 3), so no sequence count is needed.
 */
	.intel_syntax noprefix

	.set VVAR, -4096
	.set VVAR_CLOCK_MODE, VVAR + 0
	.set VVAR_FRAME_NS, VVAR + 8
	.set CLOCK_MODE_FRAME, 1
	/* CLOCK_MONOTONIC, _RAW, _COARSE, CLOCK_BOOTTIME, _ALARM: the clocks
	 * the frame clock stands for (kernel/src/syscall/time.rs, `now`). */
	.set FRAME_CLOCKS, (1 << 1) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 9)
	.set SYS_clock_gettime, 228

	.text
/* int __vdso_clock_gettime(clockid_t clock, struct timespec *ts):
 * 0, or the system call's result (-errno). */
	.globl __vdso_clock_gettime
	.type __vdso_clock_gettime, @function
	.balign 16
__vdso_clock_gettime:
	lea rax, [rip + __ehdr_start]
	cmp dword ptr [rax + VVAR_CLOCK_MODE], CLOCK_MODE_FRAME
	jne 1f
	cmp edi, 31
	ja 1f
	mov ecx, FRAME_CLOCKS
	bt ecx, edi
	jnc 1f
	mov rax, qword ptr [rax + VVAR_FRAME_NS]
	xor edx, edx
	mov ecx, 1000000000
	div rcx
	mov qword ptr [rsi], rax
	mov qword ptr [rsi + 8], rdx
	xor eax, eax
	ret
1:	mov eax, SYS_clock_gettime
	syscall
	ret
	.size __vdso_clock_gettime, . - __vdso_clock_gettime

	.weak clock_gettime
	.type clock_gettime, @function
	.set clock_gettime, __vdso_clock_gettime

	.section .note.GNU-stack, "", @progbits
