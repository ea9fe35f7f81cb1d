/*
 * Many short-lived processes, as a shell loop makes them: fork, exec of
 * this program, posix_spawn (vfork), pipelines of three processes, exits
 * and waits, a few hundred times, so that the kernel hands the frames of
 * address spaces that are gone (page tables and pages) to new ones again
 * and again. Every process checks that memory it never wrote reads zero
 * (bss, fresh anonymous pages, a grown break) and that what it wrote
 * reads back; every byte that goes through a pipe is checked, and so is
 * a buffer the parent keeps for the whole run. A page table that still
 * led to a process's old pages after its frame was reused (kvmos, under
 * a shadow-paging hypervisor, before freed tables were emptied) shows up
 * here as a mismatch or a crash.
 */
#include "conformance.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

#define ROUNDS 160
#define DATA 12288 /* three pipe slots each way */
#define FRESH_PAGES 16
#define KEEP 65536
#define MAX_REPORTS 10

static unsigned char bss[65536];
static unsigned char keep[KEEP];
static int reports;

static unsigned char pattern(unsigned round, unsigned i)
{
	return (unsigned char)(round * 131 + i * 7 + (i >> 9));
}

static void bad(const char *fmt, ...)
{
	if (++reports > MAX_REPORTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Memory this process never wrote must read zero; then it is written
 * and read back. Returns the number of wrong bytes. */
static long check_fresh(unsigned round, int parent)
{
	long wrong = 0;
	for (size_t i = 0; i < sizeof bss; i++)
		wrong += bss[i] != 0;
	size_t len = FRESH_PAGES * 4096;
	unsigned char *m = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < len; i++)
		wrong += m[i] != 0;
	for (size_t i = 0; i < len; i++)
		m[i] = pattern(round, i);
	for (size_t i = 0; i < len; i++)
		wrong += m[i] != pattern(round, i);
	munmap(m, len);
	/* Pages in page tables of their own (each in a 1 GiB slot of its
	 * own), a different number each round: the tables of one process
	 * are reused for differently shaped ones. */
	for (unsigned k = 0; k <= round % 7; k++) {
		unsigned char *p = mmap((void *)(0x100000000UL * (k + 2) + 0x200000UL * (round % 5)), 8192,
		                        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		for (size_t i = 0; i < 8192; i++)
			wrong += p[i] != 0;
		memset(p, (int)(round + k + 1), 8192);
		/* A child leaves them to its exit (or exec) to free. */
		if (parent)
			munmap(p, 8192);
	}
	return wrong;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static ssize_t read_all(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

/* stdin to stdout, each byte + 1: a pipeline stage. */
static int add_one(int in, int out)
{
	static unsigned char buf[DATA];
	ssize_t n = read_all(in, buf, sizeof buf);
	if (n != DATA)
		return 3;
	for (size_t i = 0; i < DATA; i++)
		buf[i]++;
	return write_all(out, buf, DATA) ? 4 : 0;
}

/* The exec'd image: "worker ROUND". Exit status: 0 if all was right. */
static int worker(unsigned round)
{
	if (check_fresh(round, 0) != 0)
		return 2;
	return add_one(0, 1);
}

static int wait_for(pid_t pid, unsigned round, const char *what)
{
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		bad("round %u: %s: waitpid failed: %s", round, what, errname(errno));
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			bad("round %u: %s: killed by signal %d", round, what, WTERMSIG(st));
		else
			bad("round %u: %s: exited %d", round, what, WEXITSTATUS(st));
		return -1;
	}
	return 0;
}

static void check_data(unsigned round, const unsigned char *got, ssize_t n, int add)
{
	if (n != DATA) {
		bad("round %u: %ld bytes back, expected %d", round, (long)n, DATA);
		return;
	}
	for (size_t i = 0; i < DATA; i++)
		if (got[i] != (unsigned char)(pattern(round, i) + add)) {
			bad("round %u: byte %zu is %#x, expected %#x", round, i, got[i],
			    (unsigned char)(pattern(round, i) + add));
			return;
		}
}

static void worker_argv(char **argv, char *num, unsigned round)
{
	snprintf(num, 16, "%u", round);
	argv[0] = "churn";
	argv[1] = "worker";
	argv[2] = num;
	argv[3] = 0;
}

/* A forked child fills a buffer and sends it up a pipe. */
static void round_fork(unsigned round, unsigned char *data, unsigned char *back)
{
	int p[2];
	if (pipe(p))
		return bad("round %u: pipe: %s", round, errname(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(check_fresh(round, 0) != 0 ? 2 : write_all(p[1], data, DATA) ? 4 : 0);
	}
	close(p[1]);
	ssize_t n = read_all(p[0], back, DATA);
	close(p[0]);
	if (wait_for(pid, round, "fork") == 0)
		check_data(round, back, n, 0);
}

/* This program again, through a forked child's execve (or posix_spawn):
 * data down one pipe, back + 1 through another. */
static void round_exec(unsigned round, int spawn, unsigned char *data, unsigned char *back)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return bad("round %u: pipe: %s", round, errname(errno));
	char num[16], *argv[4];
	worker_argv(argv, num, round);
	pid_t pid;
	if (spawn) {
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
		int e = posix_spawn(&pid, "/proc/self/exe", &fa, 0, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (e)
			return bad("round %u: posix_spawn: %s", round, errname(e));
	} else {
		pid = fork();
		if (pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			execve("/proc/self/exe", argv, environ);
			_exit(127);
		}
	}
	close(in[0]);
	close(out[1]);
	int w = write_all(in[1], data, DATA);
	close(in[1]);
	ssize_t n = read_all(out[0], back, DATA);
	close(out[0]);
	if (w)
		bad("round %u: write to the child failed", round);
	if (wait_for(pid, round, spawn ? "posix_spawn" : "fork+exec") == 0)
		check_data(round, back, n, 1);
}

/* parent | forked child (+1) | exec'd worker (+1) | parent. */
static void round_pipeline(unsigned round, unsigned char *data, unsigned char *back)
{
	int a[2], b[2], c[2];
	if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC) || pipe2(c, O_CLOEXEC))
		return bad("round %u: pipe: %s", round, errname(errno));
	pid_t first = fork();
	if (first == 0) {
		close(a[1]);
		close(b[0]);
		close(c[0]);
		close(c[1]);
		_exit(check_fresh(round, 0) != 0 ? 2 : add_one(a[0], b[1]));
	}
	char num[16], *argv[4];
	worker_argv(argv, num, round);
	pid_t second = fork();
	if (second == 0) {
		dup2(b[0], 0);
		dup2(c[1], 1);
		execve("/proc/self/exe", argv, environ);
		_exit(127);
	}
	close(a[0]);
	close(b[0]);
	close(b[1]);
	close(c[1]);
	int w = write_all(a[1], data, DATA);
	close(a[1]);
	ssize_t n = read_all(c[0], back, DATA);
	close(c[0]);
	if (w)
		bad("round %u: write to the pipeline failed", round);
	int ok = wait_for(first, round, "pipeline stage 1") == 0;
	ok &= wait_for(second, round, "pipeline stage 2") == 0;
	if (ok)
		check_data(round, back, n, 2);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "worker"))
		return worker((unsigned)atoi(argv[2]));
	begin("churn: processes come and go, memory is reused");
	static unsigned char data[DATA], back[DATA];
	for (size_t i = 0; i < KEEP; i++)
		keep[i] = (unsigned char)(i * 13 + 5);
	long wrong_fresh = 0;
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (size_t i = 0; i < DATA; i++)
			data[i] = pattern(round, i);
		memset(back, 0, sizeof back);
		switch (round % 4) {
		case 0: round_fork(round, data, back); break;
		case 1: round_exec(round, 0, data, back); break;
		case 2: round_exec(round, 1, data, back); break;
		case 3: round_pipeline(round, data, back); break;
		}
		/* The parent's own fresh memory, between its children. */
		long w = check_fresh(round, 1);
		if (w)
			bad("round %u: the parent's fresh memory: %ld wrong bytes", round, w);
		wrong_fresh += w != 0;
		if (round % 60 == 59) {
			size_t kept = 0;
			for (size_t i = 0; i < KEEP; i++)
				kept += keep[i] == (unsigned char)(i * 13 + 5);
			say("after %u rounds: kept buffer intact: %s, problems so far: %d", round + 1,
			    yesno(kept == KEEP), reports);
		}
	}
	say("rounds: %d, problems: %d", ROUNDS, reports);
	return reports != 0;
}
