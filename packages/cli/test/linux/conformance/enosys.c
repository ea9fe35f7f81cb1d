/*
 * Unknown system call numbers return -1 ENOSYS, leave the arguments alone
 * and the program keeps running. The numbers are ones Linux x86-64 has never
 * used (400: in the hole 387..423 kept for 32-bit calls; 512: the first
 * x32 number, without the x32 bit; 1000 and beyond: past the end).
 * (Not 335, the other hole: on the PVM hosts of this project it raises
 * SIGILL natively.)
 *
 * kvmos reports each unknown number once on stderr ("kvmos: the program
 * called ..."): the harness allows those lines for this program only.
 */
#include "conformance.h"

static long raw(long nr, long a)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a) : "rcx", "r11", "memory");
	return ret;
}

int main(void)
{
	begin("enosys");
	T(syscall(400));
	T(syscall(512));
	T(syscall(1000));
	T(syscall(1000, 1, 2, 3, 4, 5, 6));
	T(syscall(100000));
	T(syscall(0x7fffffffL));
	T(syscall(-1L));
	T(syscall(1000)); /* again: still ENOSYS */
	say("raw: rax = %ld", raw(1000, 0));
	say("raw: rax = %ld", raw(-1L, 0));
	/* A known call right after: the dispatch still works. */
	T(S(write, 1, "still running\n", 14));
	POS(S(getpid));
	say("== end");
	return 0;
}
