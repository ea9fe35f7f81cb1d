/*
 * The system call ABI itself: across a `syscall` instruction the kernel
 * changes rax (the result), rcx (the address of the next instruction) and
 * r11 (RFLAGS at the syscall) and nothing else: every other general
 * register, all of xmm0..xmm15, and the red zone below rsp keep their
 * values. Checked for a plain call (getpid), a failing one (close of a bad
 * fd), one that sleeps (nanosleep {0, 0}) and an unknown number (ENOSYS).
 */
#include "conformance.h"
#include <time.h>

struct regs {
	/* in the order probe() stores them: the reverse of its pushes */
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	unsigned char xmm[16][16];
	unsigned long after; /* address of the instruction after syscall */
	unsigned long rflags; /* RFLAGS just before syscall */
	unsigned char redzone[128];
};

unsigned char xmm_in[16][16];
unsigned char redzone_in[128];

/* probe(struct regs *out, long nr, long rdi): rdi is the syscall's first
 * argument, the other registers get patterns (0x0101.. * register number). */
void probe(struct regs *out, long nr, long arg0);
__asm__(
	".text\n"
	".globl probe\n"
	"probe:\n"
	"  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"  push %rdi\n" /* out */
	"  mov %rsi, %rax\n"
	"  mov %rdx, %rdi\n"
	"  movabs $0x0202020202020202, %rsi\n"
	"  movabs $0x0303030303030303, %rdx\n"
	"  movabs $0x0404040404040404, %rbx\n"
	"  movabs $0x0505050505050505, %rbp\n"
	"  movabs $0x0808080808080808, %r8\n"
	"  movabs $0x0909090909090909, %r9\n"
	"  movabs $0x1010101010101010, %r10\n"
	"  movabs $0x1212121212121212, %r12\n"
	"  movabs $0x1313131313131313, %r13\n"
	"  movabs $0x1414141414141414, %r14\n"
	"  movabs $0x1515151515151515, %r15\n"
	"  movabs $0x1111111111111111, %r11\n"
	"  movabs $0x0c0c0c0c0c0c0c0c, %rcx\n"
	"  movdqu xmm_in+0(%rip), %xmm0\n movdqu xmm_in+16(%rip), %xmm1\n movdqu xmm_in+32(%rip), %xmm2\n movdqu xmm_in+48(%rip), %xmm3\n"
	"  movdqu xmm_in+64(%rip), %xmm4\n movdqu xmm_in+80(%rip), %xmm5\n movdqu xmm_in+96(%rip), %xmm6\n movdqu xmm_in+112(%rip), %xmm7\n"
	"  movdqu xmm_in+128(%rip), %xmm8\n movdqu xmm_in+144(%rip), %xmm9\n movdqu xmm_in+160(%rip), %xmm10\n movdqu xmm_in+176(%rip), %xmm11\n"
	"  movdqu xmm_in+192(%rip), %xmm12\n movdqu xmm_in+208(%rip), %xmm13\n movdqu xmm_in+224(%rip), %xmm14\n movdqu xmm_in+240(%rip), %xmm15\n"
	"  pushfq\n"
	"  popq probe_rflags(%rip)\n"
	"  syscall\n"
	"probe_after:\n"
	"  push %rax\n push %rbx\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n push %rbp\n push %r8\n"
	"  push %r9\n push %r10\n push %r11\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"  mov 120(%rsp), %rax\n" /* out */
	"  xor %rcx, %rcx\n"
	"1:\n"
	"  mov (%rsp,%rcx,8), %rdx\n"
	"  mov %rdx, (%rax,%rcx,8)\n"
	"  inc %rcx\n"
	"  cmp $15, %rcx\n"
	"  jne 1b\n"
	"  movdqu %xmm0, 120(%rax)\n movdqu %xmm1, 136(%rax)\n movdqu %xmm2, 152(%rax)\n movdqu %xmm3, 168(%rax)\n"
	"  movdqu %xmm4, 184(%rax)\n movdqu %xmm5, 200(%rax)\n movdqu %xmm6, 216(%rax)\n movdqu %xmm7, 232(%rax)\n"
	"  movdqu %xmm8, 248(%rax)\n movdqu %xmm9, 264(%rax)\n movdqu %xmm10, 280(%rax)\n movdqu %xmm11, 296(%rax)\n"
	"  movdqu %xmm12, 312(%rax)\n movdqu %xmm13, 328(%rax)\n movdqu %xmm14, 344(%rax)\n movdqu %xmm15, 360(%rax)\n"
	"  lea probe_after(%rip), %rcx\n"
	"  mov %rcx, 376(%rax)\n"
	"  mov probe_rflags(%rip), %rcx\n"
	"  mov %rcx, 384(%rax)\n"
	"  add $128, %rsp\n" /* 15 registers + out */
	"  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"  ret\n"
	".data\n"
	"probe_rflags: .quad 0\n"
	".text\n");

/* probe_redzone(unsigned char out[128], long nr, long rdi): fills the 128
 * bytes below rsp from redzone_in, makes the call, copies them to out. */
void probe_redzone(unsigned char *out, long nr, long arg0);
__asm__(
	".text\n"
	".globl probe_redzone\n"
	"probe_redzone:\n"
	"  mov %rdi, %r8\n" /* out */
	"  mov %rsi, %rax\n"
	"  mov %rdx, %rdi\n"
	"  xor %rcx, %rcx\n"
	"1:\n"
	"  lea redzone_in(%rip), %rdx\n"
	"  movzbl (%rdx,%rcx), %edx\n"
	"  mov %dl, -128(%rsp,%rcx)\n"
	"  inc %rcx\n"
	"  cmp $128, %rcx\n"
	"  jne 1b\n"
	"  syscall\n"
	"  xor %rcx, %rcx\n"
	"2:\n"
	"  movzbl -128(%rsp,%rcx), %edx\n"
	"  mov %dl, (%r8,%rcx)\n"
	"  inc %rcx\n"
	"  cmp $128, %rcx\n"
	"  jne 2b\n"
	"  ret\n");

static void check(const char *what, long nr, long arg0)
{
	struct regs r;
	unsigned char red[128];
	char changed[256] = "";

	memset(&r, 0, sizeof r);
	probe(&r, nr, arg0);
#define REG(name, want) \
	if (r.name != (want)) strcat(changed, " " #name);
	REG(rdi, (unsigned long)arg0);
	REG(rsi, 0x0202020202020202UL);
	REG(rdx, 0x0303030303030303UL);
	REG(rbx, 0x0404040404040404UL);
	REG(rbp, 0x0505050505050505UL);
	REG(r8, 0x0808080808080808UL);
	REG(r9, 0x0909090909090909UL);
	REG(r10, 0x1010101010101010UL);
	REG(r12, 0x1212121212121212UL);
	REG(r13, 0x1313131313131313UL);
	REG(r14, 0x1414141414141414UL);
	REG(r15, 0x1515151515151515UL);
	for (int i = 0; i < 16; i++)
		if (memcmp(r.xmm[i], xmm_in[i], 16)) {
			char n[8];
			snprintf(n, sizeof n, " xmm%d", i);
			strcat(changed, n);
		}
	say("%s: rax %s, rcx = next instruction: %s, r11 = rflags: %s, changed:%s", what,
	    (long)r.rax < 0 && (long)r.rax > -4096 ? errname(-(long)r.rax) : r.rax > 0 ? ">0" : "0", yesno(r.rcx == r.after),
	    yesno(r.r11 == r.rflags), changed[0] ? changed : " nothing");
	memset(red, 0, sizeof red);
	probe_redzone(red, nr, arg0);
	say("  red zone kept: %s", yesno(memcmp(red, redzone_in, 128) == 0));
}

int main(void)
{
	begin("abi");
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			xmm_in[i][j] = (unsigned char)(0xa0 + i + 7 * j);
	for (int i = 0; i < 128; i++)
		redzone_in[i] = (unsigned char)(0x5a ^ i);
	static struct timespec zero;
	check("getpid", SYS_getpid, 0x0101010101010101L);
	check("gettid", SYS_gettid, 0x0101010101010101L);
	check("close(99)", SYS_close, 0x7eadbeef00000063L);
	check("nanosleep({0, 0})", SYS_nanosleep, (long)&zero);
	check("unknown 1000", 1000, 0x0101010101010101L);
	say("== end");
	return 0;
}
