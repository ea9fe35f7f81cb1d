/*
 * File mappings the way a dynamic loader makes them (glibc's ld.so, musl's):
 * the whole span of a library reserved with one mapping of the file, its
 * segments mapped over it with MAP_FIXED at their file offsets, a writable
 * private data segment whose last file page is zeroed past the file's bytes
 * and followed by anonymous bss, RELRO made read-only with mprotect, parts
 * unmapped; and mprotect of the pages of a library that is really mapped
 * (the C library's: in the program itself when it is static); mincore
 * (glibc's grep asks it) on anonymous and file pages; a touch past the
 * end of a mapped file (SIGBUS, BUS_ADRERR; EFAULT for the kernel).
 *
 * big.txt is 10000 bytes of "line NNNN\n": page 1 starts with "line 0409"
 * cut in the middle, page 2 holds 1808 bytes. Readable and writable are
 * probed through the kernel (memory.c explains readable() and writable()).
 */
#include "conformance.h"
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#define PAGE 4096L
#ifndef MAP_DENYWRITE
#define MAP_DENYWRITE 0x0800
#endif

static int hello_fd;

static void probe(const char *what, void *p)
{
	const char *r = readable(p);
	const char *w = writable_by(hello_fd, p);
	say("  %s: %s, %s", what, r, w);
}

#define ADDR(var, expr) do { errno = 0; var = (char *)(expr); if ((long)var == -1) say("%s = -1 %s", #expr, errname(errno)); else say("%s = ok", #expr); } while (0)

static void test_loader_pattern(void)
{
	char *base, *p;
	say("-- a library mapped as a loader maps it");
	int fd = S(open, "big.txt", O_RDONLY | O_CLOEXEC);
	char head[64];
	T(S(pread64, fd, head, sizeof head, 0));
	/* The reservation: the whole span (4 pages, one more than the file),
	 * backed by the file, no access. */
	ADDR(base, S(mmap, 0, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_DENYWRITE, fd, 0));
	if ((long)base == -1)
		return;
	say("  page aligned: %s", yesno(((long)base & (PAGE - 1)) == 0));
	probe("the reservation", base);
	/* The first segment (read-only) over the first page. */
	TL("mmap(base, PAGE, PROT_READ, MAP_FIXED, fd, 0) == base",
	   S(mmap, base, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, 0) == (long)base);
	quoted("  page 0", base, 20);
	/* "Text": page 1 of the file at base + 1 page, read + execute. */
	TL("mmap(base + 1 page, PAGE, PROT_READ | PROT_EXEC, MAP_FIXED, fd, PAGE) == base + 1 page",
	   S(mmap, base + PAGE, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, PAGE) == (long)(base + PAGE));
	quoted("  page 1", base + PAGE, 20);
	T(S(lseek, fd, 0, SEEK_CUR)); /* neither pread nor mmap moves it */
	/* Data: the file's last page, private and writable. */
	TL("mmap(base + 2 pages, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED, fd, 2 * PAGE) == base + 2 pages",
	   S(mmap, base + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, 2 * PAGE) == (long)(base + 2 * PAGE));
	p = base + 2 * PAGE;
	quoted("  page 2", p, 20);
	quoted("  page 2, the file's last bytes", p + 1800, 8);
	say("  past the end of the file, zero: %s", yesno(all_zero(p + 1808, PAGE - 1808)));
	/* What the loader does for bss inside the last file page: clears it. */
	memset(p + 1000, 0, PAGE - 1000);
	say("  cleared from 1000 on: %s", yesno(all_zero(p + 1000, PAGE - 1000)));
	memcpy(p, "DATA", 4);
	char buf[8];
	T(S(pread64, fd, buf, 4, 2 * PAGE));
	quoted("  the file is unchanged", buf, 4);
	quoted("  the private copy changed", p, 8);
	/* bss beyond the file: anonymous, over the last page of the reservation. */
	TL("mmap(base + 3 pages, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_ANONYMOUS) == base + 3 pages",
	   S(mmap, base + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) == (long)(base + 3 * PAGE));
	say("  bss is zero: %s", yesno(all_zero(base + 3 * PAGE, PAGE)));
	/* RELRO: read-only after relocation; the bytes stay. */
	T(S(mprotect, p, PAGE, PROT_READ));
	probe("data after mprotect(PROT_READ)", p + 8);
	quoted("  data kept", p, 8);
	probe("page 0", base + 8);
	probe("page 1 (text)", base + PAGE + 8);
	probe("bss", base + 3 * PAGE + 8);
	/* Unmapping a part leaves the rest as it was. */
	T(S(munmap, base + PAGE, PAGE));
	probe("page 1 after munmap", base + PAGE);
	quoted("  page 0 still", base, 10);
	quoted("  page 2 still", p, 8);
	/* A segment mapped again over a hole and over a mapping. */
	TL("mmap(base + 1 page, 2 pages, PROT_READ, MAP_FIXED, fd, 0) == base + 1 page",
	   S(mmap, base + PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == (long)(base + PAGE));
	quoted("  page 1 now the file's page 0", base + PAGE, 10);
	quoted("  page 2 now the file's page 1", base + 2 * PAGE, 10);
	/* Unmapping all of it, then the range is free. */
	T(S(munmap, base, 4 * PAGE));
	probe("after munmap of the span", base + 2 * PAGE);
	TL("mmap(base, 4 pages, MAP_FIXED_NOREPLACE) == base",
	   S(mmap, base, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0) == (long)base);
	quoted("  again", base, 10);
	T(S(munmap, base, 4 * PAGE));
	/* Offsets must be page aligned; a mapping may start inside the file. */
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 100));
	ADDR(p, S(mmap, 0, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE));
	quoted("  from offset 4096", p, 20);
	quoted("  its second page", p + PAGE, 20);
	say("  past the end of the file in its second page, zero: %s", yesno(all_zero(p + PAGE + 1808, PAGE - 1808)));
	T(S(munmap, p, 2 * PAGE));
	S(close, fd);
}

static int twice(int x) { return 2 * x; }

static void test_library_pages(void)
{
	say("-- mprotect of the C library's pages");
	/* strerror's text is in the C library's read-only data. */
	const char *msg = strerror(EINVAL);
	char *page = (char *)((unsigned long)msg & ~(PAGE - 1));
	probe("its read-only data", (char *)msg);
	T(S(mprotect, page, PAGE, PROT_READ | PROT_WRITE));
	char saved = page[0];
	page[0] = saved ^ 1;
	say("  written after mprotect(PROT_READ | PROT_WRITE): %s", yesno(page[0] == (char)(saved ^ 1)));
	page[0] = saved;
	T(S(mprotect, page, PAGE, PROT_READ));
	say("  strerror(EINVAL) = %s", strerror(EINVAL));
	say("  readable again, not writable: %s", yesno(strcmp(readable(msg), "readable") == 0 && strcmp(writable_by(hello_fd, (void *)msg), "EFAULT") == 0));
	/* Its code: the page of a function it exports, made read+exec again
	 * (what a loader's RELRO and text handling leaves), still callable. */
	char *code = (char *)((unsigned long)(void *)&strlen & ~(PAGE - 1));
	T(S(mprotect, code, PAGE, PROT_READ | PROT_EXEC));
	say("  strlen still runs: %ld", (long)strlen("four"));
	/* And the program's own text, unaligned and aligned. */
	char *own = (char *)((unsigned long)(void *)&twice & ~(PAGE - 1));
	T(S(mprotect, own + 1, PAGE, PROT_READ | PROT_EXEC));
	T(S(mprotect, own, PAGE, PROT_READ | PROT_EXEC));
	int (*volatile f)(int) = twice;
	say("  own code still runs: %d", f(21));
}

static void test_mincore(void)
{
	unsigned char v[4];
	char *p;
	say("-- mincore");
	ADDR(p, S(mmap, 0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	/* Its neighbours read-only: a mapping of their own, so that no kernel
	 * maps them along with the page written (fault-around). */
	S(mprotect, p, PAGE, PROT_READ);
	S(mprotect, p + 2 * PAGE, PAGE, PROT_READ);
	p[PAGE] = 1;
	memset(v, 0xee, sizeof v);
	T(S(mincore, p, 3 * PAGE, v));
	say("  anonymous, the middle page written: %d %d %d, the rest of the vector untouched: %s", v[0] & 1, v[1] & 1, v[2] & 1, yesno(v[3] == 0xee));
	T(S(mincore, p + 1, PAGE, v));
	T(S(mincore, p, PAGE + 1, v));
	T(S(mincore, p, 0, v));
	T(S(mincore, p, PAGE, BAD_KERNEL));
	T(S(mincore, 0xffffffff80000000UL, PAGE, v));
	T(S(munmap, p + 2 * PAGE, PAGE));
	T(S(mincore, p, 3 * PAGE, v));
	S(munmap, p, 2 * PAGE);
	/* A file's pages are in memory once read (natively: the page cache). */
	int fd = S(open, "big.txt", O_RDONLY);
	char buf[4096];
	while (S(read, fd, buf, sizeof buf) > 0)
		;
	ADDR(p, S(mmap, 0, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	memset(v, 0xee, sizeof v);
	T(S(mincore, p, 3 * PAGE, v));
	say("  file pages: %d %d %d", v[0] & 1, v[1] & 1, v[2] & 1);
	S(munmap, p, 3 * PAGE);
	S(close, fd);
}

static sigjmp_buf back;
static volatile siginfo_t caught;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	caught = *si;
	siglongjmp(back, 1);
}

/* Reads p[0]: "read" or the signal it raised, with its code and address. */
static void touch(const char *what, volatile char *p)
{
	memset((void *)&caught, 0, sizeof caught);
	if (sigsetjmp(back, 1) == 0) {
		(void)p[0];
		say("  %s: read", what);
	} else {
		say("  %s: signal %d, si_code %d, si_addr is the address: %s", what, caught.si_signo, caught.si_code, yesno(caught.si_addr == (void *)p));
	}
}

static void test_past_the_end(void)
{
	char *p;
	say("-- past the end of a mapped file");
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, 0);
	sigaction(SIGSEGV, &sa, 0);
	int fd = S(open, "big.txt", O_RDONLY);
	/* 10000 bytes: pages 0-2 hold the file, 3 and 4 are past its end. */
	ADDR(p, S(mmap, 0, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	touch("page 2 (the file's last)", p + 2 * PAGE + 100);
	touch("page 3 (past the end)", p + 3 * PAGE);
	touch("page 4", p + 4 * PAGE + 8);
	say("  the kernel reading page 3: %s", readable(p + 3 * PAGE));
	T(S(pread64, fd, p + 4 * PAGE, 1, 0));
	/* Wholly past the end: every page. */
	char *q;
	ADDR(q, S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 4 * PAGE));
	touch("a mapping at offset 16384", q);
	S(munmap, q, PAGE);
	/* Anonymous bss over it (what a loader does): zero, no signal. */
	TL("mmap(p + 3 pages, 2 pages, MAP_FIXED | MAP_ANONYMOUS) == p + 3 pages",
	   S(mmap, p + 3 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) == (long)(p + 3 * PAGE));
	touch("page 3 now", p + 3 * PAGE);
	S(munmap, p, 5 * PAGE);
	S(close, fd);
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
}

int main(void)
{
	begin("mmapfile");
	hello_fd = S(open, "hello.txt", O_RDONLY);
	test_loader_pattern();
	test_library_pages();
	test_mincore();
	test_past_the_end();
	say("== end");
	return 0;
}
