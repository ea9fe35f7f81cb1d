/*
 * Shared helpers of the kvmos syscall conformance programs.
 *
 * Every program is run twice, natively on Linux and in the kvmos guest
 * (kvmos linux-exec), and the two outputs must be byte-identical. So a
 * program prints only what Linux defines: results, errno names, and
 * normalized values (">0", "ok", relations) where the number legitimately
 * differs between a full Linux and a minimal kernel (pids, addresses,
 * inode numbers, times).
 *
 * System calls are made with syscall(2) so that libc neither hides an error
 * nor picks a different system call than the one under test. syscall()
 * returns -1 and sets errno, so a failure prints "-1 ENAME".
 *
 * Line labels are the source text of the call (#expr): no line numbers, so
 * editing one program does not shift the output of the rest.
 */
#ifndef KVMOS_CONFORMANCE_H
#define KVMOS_CONFORMANCE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* S(name, args...): the raw system call SYS_name. Every argument is
 * converted to long first (a negative int passed through syscall()'s "..."
 * would arrive with garbage in its upper half); missing ones are 0. */
#define S(name, ...) S_(SYS_##name, ##__VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define S_(nr, a, b, c, d, e, f, ...) sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static __attribute__((unused)) long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

static __attribute__((unused)) const char *errname(int e)
{
	switch (e) {
#define E_(n) case n: return #n;
	E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG)
	E_(ENOEXEC) E_(EBADF) E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES)
	E_(EFAULT) E_(ENOTBLK) E_(EBUSY) E_(EEXIST) E_(EXDEV) E_(ENODEV)
	E_(ENOTDIR) E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY)
	E_(ETXTBSY) E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK)
	E_(EPIPE) E_(EDOM) E_(ERANGE) E_(EDEADLK) E_(ENAMETOOLONG) E_(ENOLCK)
	E_(ENOSYS) E_(ENOTEMPTY) E_(ELOOP) E_(ENOMSG) E_(EIDRM) E_(ENODATA)
	E_(ETIME) E_(EOVERFLOW) E_(EBADFD) E_(EILSEQ) E_(ENOTSOCK)
	E_(EOPNOTSUPP) E_(EAFNOSUPPORT) E_(ETIMEDOUT) E_(ECANCELED)
	E_(ESTALE) E_(EDQUOT) E_(EPROTO) E_(EBADMSG) E_(EMSGSIZE)
	E_(EOWNERDEAD) E_(ENOTRECOVERABLE)
#undef E_
	case 0: return "0";
	}
	static char other[32];
	snprintf(other, sizeof other, "errno%d", e);
	return other;
}

/* stdout is a pipe in both runs: line-buffer it (so that output made with
 * write(2) interleaves in source order), and set the mode ourselves so that
 * musl does not probe the fd with ioctl(TIOCGWINSZ) on the first printf. */
static __attribute__((unused)) void begin(const char *what)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	printf("== %s\n", what);
}

static __attribute__((unused)) void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static __attribute__((unused)) const char *yesno(int cond) { return cond ? "yes" : "no"; }

/* r is a syscall() result: -1 with errno, or a value. */
static __attribute__((unused)) long report_(const char *label, long r, int how)
{
	int e = errno;
	if (r == -1)
		printf("%s = -1 %s\n", label, errname(e));
	else if (how == 0)
		printf("%s = %ld\n", label, r);
	else if (how == 1)
		printf("%s = ok\n", label);
	else if (how == 2)
		printf("%s = %s\n", label, r > 0 ? ">0" : r == 0 ? "0 (expected >0)" : "<0 (expected >0)");
	else if (how == 3)
		printf("%s = %#lx\n", label, r);
	else
		printf("%s = %#lo\n", label, r);
	errno = e;
	return r;
}

/* T: prints the exact result. OK: "ok" for any success (the value legitimately
 * differs, e.g. an address). POS: ">0". HEX, OCT: the result in hex, octal. */
#define T(expr) report_(#expr, (errno = 0, (long)(expr)), 0)
#define OK(expr) report_(#expr, (errno = 0, (long)(expr)), 1)
#define POS(expr) report_(#expr, (errno = 0, (long)(expr)), 2)
#define HEX(expr) report_(#expr, (errno = 0, (long)(expr)), 3)
#define OCT(expr) report_(#expr, (errno = 0, (long)(expr)), 4)
/* T with a label of its own, where the source text would not say enough. */
#define TL(label, expr) report_(label, (errno = 0, (long)(expr)), 0)

/* Bad user pointers: each must give -1 EFAULT, never a crash. */
#define BAD_NULL1 ((void *)1)
#define BAD_KERNEL ((void *)0xffffffff80000000UL)
#define BAD_NONCANON ((void *)0x0000800000000000UL)

/* A page that was mapped and is not any more. Call it right before use: a
 * later mmap may reuse the address. */
/* Whether the kernel can read p: access() on it as a path name fails
 * with EFAULT only when it cannot (any other answer means it read it). */
static __attribute__((unused)) const char *readable(const void *p)
{
	long r = S(access, p, F_OK);
	if (r == 0 || errno != EFAULT)
		return "readable";
	return errname(errno);
}

/* Whether the kernel can write p: pread64 of one byte of fd into it. */
static __attribute__((unused)) const char *writable_by(int fd, void *p)
{
	long r = S(pread64, fd, p, 1, 0);
	if (r == 1)
		return "writable";
	return r == -1 ? errname(errno) : "?";
}

static __attribute__((unused)) void *unmapped_page(void)
{
	void *p = (void *)S(mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("unmapped_page: mmap failed: %s\n", errname(errno));
		exit(99);
	}
	S(munmap, p, 4096);
	return p;
}

static __attribute__((unused)) void hexdump(const char *label, const void *buf, size_t n)
{
	const unsigned char *b = buf;
	printf("%s:", label);
	for (size_t i = 0; i < n; i++)
		printf(" %02x", b[i]);
	putchar('\n');
}

static __attribute__((unused)) void quoted(const char *label, const void *buf, long n)
{
	const unsigned char *b = buf;
	printf("%s: \"", label);
	for (long i = 0; i < n; i++) {
		if (b[i] == '\n')
			printf("\\n");
		else if (b[i] == '"' || b[i] == '\\')
			printf("\\%c", b[i]);
		else if (b[i] >= 32 && b[i] < 127)
			putchar(b[i]);
		else
			printf("\\x%02x", b[i]);
	}
	printf("\"\n");
}

static __attribute__((unused)) int all_zero(const void *buf, size_t n)
{
	const unsigned char *b = buf;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

#endif
