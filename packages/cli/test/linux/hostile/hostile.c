/*
 * A hostile program for the kvmos kernel (issue 10). Never run natively: it
 * calls random system calls with random arguments.
 *
 *   hostile fuzz SEED CALLS   children each make up to CHUNK seeded random
 *                             system calls (CALLS in all); the parent waits
 *                             for each, then prints "survived ..." and shows
 *                             the machine still works (a pipe round trip,
 *                             a fork and wait, a file read).
 *   hostile flood N           calls N distinct unknown numbers (512 up) and
 *                             a few huge ones, then prints "flood done".
 *
 * kvmos has no preemption: a child that the garbage sends into an endless
 * loop of its own in user space would hang the machine legitimately. The
 * generator's state is therefore on the stack (below), and the seeds the
 * suite uses are known to finish; another seed may, rarely, not.
 *
 * Left out of the random calls, because they would end or stall the test
 * legitimately rather than test the kernel (a child crashing on the garbage
 * is fine: the parent counts it and starts the next child):
 *   - ending or replacing the process: exit, exit_group, execve, execveat;
 *   - making processes: fork, vfork, clone, clone3 (a random fuzzer that
 *     forks grows without bound);
 *   - signals to others: kill, tkill, tgkill, rt_sigqueueinfo,
 *     rt_tgsigqueueinfo, pidfd_send_signal (pid 1 is the parent), and
 *     ptrace, process_vm_readv/writev, prlimit64 of another pid (argument
 *     0 is forced to 0: this process);
 *   - waiting: pause, rt_sigsuspend, rt_sigtimedwait, nanosleep,
 *     clock_nanosleep, select, pselect6, poll, ppoll, epoll_wait,
 *     epoll_pwait, epoll_pwait2, futex, futex_waitv, wait4, waitid, alarm,
 *     setitimer, timer_settime (a late signal), io_getevents,
 *     io_pgetevents, msgrcv, semop, semtimedop, mq_timedreceive,
 *     accept, accept4, recvfrom, recvmsg, recvmmsg, flock;
 *   - reading or writing descriptors (stdin may be a terminal, stdout is
 *     the test's output, and a pipe of our own blocks when empty or full):
 *     read, write, pread64, pwrite64, readv, writev, preadv, pwritev,
 *     preadv2, pwritev2, sendfile, splice, tee, vmsplice, copy_file_range;
 *   - reboot, and syslog/vhangup (harmless in kvmos, not worth a risk).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Calls per child: the garbage often ends a child (munmap of its own code...), the next one goes on. */
#define CHUNK 200

/*
 * The generator's state lives on the child's stack, not in .data: random
 * calls write into random places of the program's own memory (that is
 * the point), and a zeroed state would make every later number 0.
 */
static uint64_t *state;

static uint64_t next(void)
{
	/* xorshift64* */
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static const int excluded[] = {
	SYS_exit, SYS_exit_group, SYS_execve, SYS_execveat,
	SYS_fork, SYS_vfork, SYS_clone, 435 /* clone3 */,
	SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, 424 /* pidfd_send_signal */,
	SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
	SYS_pause, SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_nanosleep, SYS_clock_nanosleep,
	SYS_select, SYS_pselect6, SYS_poll, SYS_ppoll, SYS_epoll_wait, SYS_epoll_pwait, 441 /* epoll_pwait2 */,
	SYS_futex, 449 /* futex_waitv */, SYS_wait4, SYS_waitid, SYS_alarm, SYS_setitimer, SYS_timer_settime,
	SYS_io_getevents, 333 /* io_pgetevents */, SYS_msgrcv, SYS_semop, SYS_semtimedop, SYS_mq_timedreceive,
	SYS_accept, SYS_accept4, SYS_recvfrom, SYS_recvmsg, SYS_recvmmsg, SYS_flock,
	SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_preadv, SYS_pwritev,
	SYS_preadv2, SYS_pwritev2, SYS_sendfile, SYS_splice, SYS_tee, SYS_vmsplice, SYS_copy_file_range,
	SYS_reboot, SYS_syslog, SYS_vhangup,
};

static int is_excluded(long nr)
{
	for (size_t i = 0; i < sizeof excluded / sizeof excluded[0]; i++)
		if (excluded[i] == nr)
			return 1;
	return 0;
}

/* What random pointers point into, with room after it for writes that run over. */
static struct {
	char bytes[65536];
	char overrun[8192];
} area __attribute__((aligned(4096)));
#define scratch area.bytes

static long random_arg(void)
{
	uint64_t r = next();
	switch (r % 16) {
	case 0: return 0;
	case 1: return 1;
	case 2: return -1;
	case 3: return (long)(next() % 64);
	case 4: return (long)next();
	case 5: return (long)(scratch + next() % sizeof scratch);
	case 6: return (long)(scratch + sizeof scratch - next() % 16);
	case 7: return (long)"/";
	case 8: return (long)"/fixtures/../bin/../.";
	case 9: return (long)0xffff800000000000UL; /* kernel half */
	case 10: return (long)0x8000000000000000UL; /* non-canonical */
	case 11: return (long)((next() % (1UL << 47)) & ~4095UL); /* a user page, maybe ours */
	case 12: return (long)(~0UL - next() % 8192); /* sums with it wrap */
	case 13: return 0x7fffffff;
	case 14: return (long)(next() % 4096) - 2048;
	default: return (long)(1UL << (next() % 64));
	}
}

static long random_nr(void)
{
	for (;;) {
		uint64_t r = next();
		long nr;
		if (r % 64 == 0)
			nr = (long)(next() % 0x100000000UL); /* any 32-bit number */
		else
			nr = (long)(next() % 460);
		if (!is_excluded(nr))
			return nr;
	}
}

/* A system call without libc: no errno, so no %fs (random arch_prctl calls move it). */
static long raw(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}

/* The child tells the parent how far it got on this descriptor (random calls may close it: then it undercounts). */
#define PROGRESS_FD 1000

static void progress(int done)
{
	raw(SYS_write, PROGRESS_FD, (long)&done, sizeof done, 0, 0, 0);
}

static void child(uint64_t seed, int calls)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	state = &s;
	for (int i = 0; i < calls; i++) {
		long nr = random_nr();
		long a[6];
		for (int j = 0; j < 6; j++)
			a[j] = random_arg();
		if (nr == SYS_prlimit64)
			a[0] = 0;
		raw(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if ((i + 1) % 16 == 0 || i + 1 == calls)
			progress(i + 1);
	}
	raw(SYS_exit, 0, 0, 0, 0, 0, 0);
}

static int fuzz(uint64_t seed, long calls)
{
	long children = 0, exited = 0, signalled = 0, made = 0;
	for (long done = 0; done < calls; done += CHUNK, children++) {
		int n = calls - done < CHUNK ? (int)(calls - done) : CHUNK;
		int p[2];
		if (pipe(p) != 0) {
			printf("pipe failed: errno %d\n", errno);
			return 1;
		}
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork failed: errno %d\n", errno);
			return 1;
		}
		if (pid == 0) {
			dup2(p[1], PROGRESS_FD);
			close(p[0]);
			close(p[1]);
			child(seed * 1000003ULL + (uint64_t)children, n);
		}
		close(p[1]);
		/* Blocking: kvmos has no preemption, the child runs while we wait. */
		int status;
		if (waitpid(pid, &status, 0) != pid) {
			printf("waitpid failed: errno %d\n", errno);
			return 1;
		}
		if (WIFSIGNALED(status))
			signalled++;
		else
			exited++;
		int done = 0, last = 0;
		while (read(p[0], &done, sizeof done) == sizeof done)
			last = done;
		close(p[0]);
		made += last;
	}
	printf("survived %ld random calls (%ld asked for) in %ld children (%ld exited, %ld killed by a signal)\n", made, calls, children, exited, signalled);

	/* Still usable: a pipe round trip, a fork and wait, a file. */
	int p[2];
	char buf[16] = { 0 };
	if (pipe(p) != 0 || write(p[1], "round trip", 10) != 10 || read(p[0], buf, sizeof buf) != 10 || strcmp(buf, "round trip") != 0) {
		printf("pipe round trip failed\n");
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
		printf("fork and wait failed\n");
		return 1;
	}
	int fd = open("/proc/self/exe", O_RDONLY);
	char elf[4];
	if (fd < 0 || read(fd, elf, 4) != 4 || memcmp(elf, "\177ELF", 4) != 0) {
		printf("reading a file failed\n");
		return 1;
	}
	printf("usable: pipe, fork and wait, files\n");
	return 0;
}

static int flood(long n)
{
	for (long i = 0; i < n; i++)
		syscall(512 + i);
	for (int i = 0; i < 64; i++)
		syscall(0x7fffffffL - i);
	printf("flood done\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && strcmp(argv[1], "fuzz") == 0)
		return fuzz(strtoull(argv[2], NULL, 0), strtol(argv[3], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "flood") == 0)
		return flood(strtol(argv[2], NULL, 0));
	fprintf(stderr, "usage: hostile fuzz SEED CALLS | hostile flood N\n");
	return 2;
}
