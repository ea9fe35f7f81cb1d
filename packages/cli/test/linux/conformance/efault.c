/*
 * EFAULT: every pointer-taking system call, given a bad pointer, returns
 * -1 EFAULT and the program keeps running. Bad pointers:
 *   NULL+1        the zero page
 *   kernel        0xffffffff80000000, the kernel's half
 *   noncanonical  0x0000800000000000, the first non-canonical address (a #GP,
 *                 not a #PF, if the kernel touches it)
 *   unmapped      a page that was mapped and is not any more
 *   crossing      the last 2 bytes of a mapped page, followed by the unmapped
 *                 one: a struct or path that starts in good memory and ends
 *                 in bad (paths: no NUL in the good part)
 * and, for what the kernel writes, also
 *   read-only     a PROT_READ page
 * Calls that read a buffer of bytes (read, write, getrandom, ...) are not
 * given "crossing": Linux then copies a part and returns its length.
 */
#include "conformance.h"
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define ARCH_GET_FS 0x1003

static const char *names[] = { "NULL+1", "kernel", "noncanonical", "unmapped", "crossing", "read-only" };
static void *bad[6];

static void show(const char *label, const char *name, long r)
{
	if (r == -1)
		say("%s [P=%s] = -1 %s", label, name, errname(errno));
	else
		say("%s [P=%s] = %ld", label, name, r);
}

/* Runs expr once for each bad pointer P in `set` (bits: indexes of bad[]).
 * The good bytes of "crossing" are refilled first: Linux may have written
 * part of a struct there before it faulted. */
#define EACH(label, set, expr)                          \
	do {                                            \
		for (int i_ = 0; i_ < 6; i_++) {        \
			if (!((set) & (1 << i_)))       \
				continue;               \
			void *P = bad[i_];              \
			memset(bad[4], 'a', 2);         \
			errno = 0;                      \
			long r_ = (long)(expr);         \
			show(label, names[i_], r_);     \
		}                                       \
	} while (0)

#define BASIC 0x0f
#define CROSSING 0x10
#define READ_ONLY 0x20
/* A struct or path the kernel reads. */
#define IN(expr) EACH(#expr, BASIC | CROSSING, expr)
/* A struct the kernel writes. */
#define OUT(expr) EACH(#expr, BASIC | CROSSING | READ_ONLY, expr)
/* Byte buffers: no crossing. */
#define BYTES_IN(expr) EACH(#expr, BASIC, expr)
#define BYTES_OUT(expr) EACH(#expr, BASIC | READ_ONLY, expr)
/* Where the kernel must not fault. */
#define NO_FAULT(expr) EACH(#expr, BASIC | CROSSING | READ_ONLY, expr)

int main(void)
{
	static int tid_word;
	struct stat st;
	struct timespec ts = { 0, 1000 };
	struct pollfd pfd = { 1, POLLOUT, 0 };
	char buf[256];

	begin("efault");
	char *two = (char *)S(mmap, 0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = (char *)S(mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || ro == MAP_FAILED) {
		say("mmap failed: %s", errname(errno));
		return 1;
	}
	memset(two, 'a', 4096);
	S(munmap, two + 4096, 4096);
	bad[0] = BAD_NULL1;
	bad[1] = BAD_KERNEL;
	bad[2] = BAD_NONCANON;
	bad[3] = two + 4096;
	bad[4] = two + 4096 - 2;
	bad[5] = ro;

	int fd = S(open, "hello.txt", O_RDONLY);
	int dirfd = S(open, "dir", O_RDONLY | O_DIRECTORY);
	say("fds: %d %d", fd, dirfd);

	say("-- files");
	BYTES_OUT(S(read, fd, P, 16));
	BYTES_OUT(S(pread64, fd, P, 16, 0));
	BYTES_IN(S(write, 1, P, 16));
	BYTES_IN(S(write, 2, P, 16));
	IN(S(readv, fd, P, 1));
	IN(S(writev, 1, P, 1));
	for (int i = 0; i < 6; i++) {
		if (i == 4)
			continue;
		struct iovec iov[2] = { { buf, 4 }, { bad[i], 16 } };
		S(lseek, fd, 0, SEEK_SET);
		errno = 0;
		show("readv(fd, {buf 4, P 16}, 2)", names[i], S(readv, fd, iov, 2));
	}
	for (int i = 0; i < 4; i++) {
		struct iovec iov[1] = { { bad[i], 16 } };
		errno = 0;
		show("writev(1, {P 16}, 1)", names[i], S(writev, 1, iov, 1));
	}
	S(lseek, fd, 0, SEEK_SET);
	T(S(read, fd, buf, 5)); /* the file offset did not move on a fault */
	IN(S(open, P, O_RDONLY));
	IN(S(openat, AT_FDCWD, P, O_RDONLY));
	IN(S(openat, dirfd, P, O_RDONLY));
	IN(S(stat, P, &st));
	OUT(S(stat, "hello.txt", P));
	IN(S(lstat, P, &st));
	OUT(S(lstat, "link", P));
	OUT(S(fstat, fd, P));
	IN(S(newfstatat, AT_FDCWD, P, &st, 0));
	OUT(S(newfstatat, AT_FDCWD, "hello.txt", P, 0));
	OUT(S(newfstatat, fd, "", P, AT_EMPTY_PATH));
	BYTES_OUT(S(getdents64, dirfd, P, 4096));
	IN(S(readlink, P, buf, sizeof buf));
	OUT(S(readlink, "link", P, 64));
	IN(S(access, P, F_OK));
	IN(S(faccessat, AT_FDCWD, P, F_OK));
	OUT(S(getcwd, P, 4096));

	say("-- process");
	OUT(S(uname, P));
	OUT(S(arch_prctl, ARCH_GET_FS, P));
	IN(S(prlimit64, 0, RLIMIT_NOFILE, P, NULL));
	OUT(S(prlimit64, 0, RLIMIT_NOFILE, NULL, P));
	OUT(S(sched_getaffinity, 0, 128, P));
	OUT(S(sysinfo, P));
	OUT(S(getresuid, P, &tid_word, &tid_word));
	OUT(S(getresgid, &tid_word, &tid_word, P));
	/* set_tid_address only stores the pointer: no EFAULT */
	for (int i = 0; i < 4; i++) {
		errno = 0;
		long r = S(set_tid_address, bad[i]);
		say("S(set_tid_address, P) [P=%s] = %s", names[i], r > 0 ? ">0" : errname(errno));
	}
	S(set_tid_address, &tid_word);

	say("-- time");
	OUT(S(clock_gettime, CLOCK_REALTIME, P));
	OUT(S(clock_gettime, CLOCK_MONOTONIC, P));
	OUT(S(clock_getres, CLOCK_MONOTONIC, P));
	OUT(S(gettimeofday, P, NULL));
	OUT(S(gettimeofday, NULL, P));
	IN(S(nanosleep, P, NULL));
	/* rem is written only if a signal interrupts the sleep: no EFAULT */
	NO_FAULT(S(nanosleep, &ts, P));
	IN(S(clock_nanosleep, CLOCK_MONOTONIC, 0, P, NULL));

	say("-- io");
	OUT(S(poll, P, 1, 0));
	IN(S(ppoll, P, 1, &ts, NULL, 8));
	IN(S(ppoll, &pfd, 1, P, NULL, 8));
	IN(S(ppoll, &pfd, 1, &ts, P, 8));
	BYTES_OUT(S(getrandom, P, 16, 0));

	say("-- signals");
	IN(S(rt_sigaction, SIGUSR1, P, NULL, 8));
	OUT(S(rt_sigaction, SIGUSR1, NULL, P, 8));
	IN(S(rt_sigprocmask, SIG_BLOCK, P, NULL, 8));
	OUT(S(rt_sigprocmask, SIG_BLOCK, NULL, P, 8));
	unsigned long mask = 1;
	S(rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
	say("mask unchanged: %#lx", mask);

	say("still running: %s", yesno(S(getpid) > 0));
	T(S(close, fd));
	T(S(close, dirfd));
	say("== end");
	return 0;
}
