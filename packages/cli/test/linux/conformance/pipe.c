/*
 * pipe, pipe2: end of file once every writer is closed, EPIPE (SIGPIPE
 * ignored) and death by SIGPIPE (default) once every reader is closed,
 * O_NONBLOCK (EAGAIN both ways), the capacity (65536 bytes, 64000 in
 * 1000-byte pieces, 61540 after 100 single bytes: Linux's page slots), a large write that blocks until
 * a reader empties the pipe, poll on both ends, fstat, lseek, dup2 of a
 * pipe end, flags and errors.
 */
#include "conformance.h"
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		say("%s: exited %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d", what, WTERMSIG(st));
}

static void test_basics(void)
{
	int p[2];
	char buf[64];
	say("-- basics");
	T(S(pipe, p));
	say("two new descriptors: %s", yesno(p[0] >= 3 && p[1] == p[0] + 1));
	T(write(p[1], "hello", 5));
	T(write(p[1], " pipe", 5));
	long n = T(read(p[0], buf, sizeof buf));
	quoted("read", buf, n);
	T(write(p[0], "x", 1));
	T(read(p[1], buf, 1));
	T(lseek(p[0], 0, SEEK_CUR));
	T(pread(p[0], buf, 1, 0));
	struct stat st;
	T(fstat(p[0], &st));
	say("S_ISFIFO: %s, mode %o, size %ld", yesno(S_ISFIFO(st.st_mode)), st.st_mode & 0777, (long)st.st_size);
	T(fcntl(p[0], F_GETFL) & O_ACCMODE);
	T(fcntl(p[1], F_GETFL) & O_ACCMODE);
	T(fcntl(p[1], F_GETPIPE_SZ));
	T(read(p[0], buf, 0));
	T(close(p[1]));
	T(read(p[0], buf, sizeof buf));
	T(close(p[0]));
	T(S(pipe2, p, O_CLOEXEC | O_NONBLOCK));
	T(fcntl(p[0], F_GETFD));
	HEX(fcntl(p[1], F_GETFL));
	T(read(p[0], buf, 1));
	close(p[0]);
	close(p[1]);
	T(S(pipe2, p, 0x40));
	T(S(pipe, BAD_NULL1));
	/* readv and writev. */
	T(S(pipe, p));
	struct iovec w[2] = { { "ab", 2 }, { "cde", 3 } };
	T(writev(p[1], w, 2));
	char a[2], b[10];
	struct iovec r[2] = { { a, 2 }, { b, 10 } };
	T(readv(p[0], r, 2));
	quoted("readv", b, 3);
	close(p[0]);
	close(p[1]);
}

static void test_epipe(void)
{
	int p[2];
	say("-- no reader: EPIPE, SIGPIPE");
	T(pipe(p));
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	T(write(p[1], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	show_status("child writing to a pipe without reader", st);
	close(p[1]);
}

static void test_capacity(void)
{
	int p[2];
	char page[4096];
	memset(page, 'z', sizeof page);
	say("-- capacity");
	T(S(pipe2, p, O_NONBLOCK));
	long total = 0, n;
	while ((n = write(p[1], page, sizeof page)) > 0)
		total += n;
	say("4096-byte writes until %s: %ld bytes", errname(errno), total);
	struct pollfd pf[2] = { { p[0], POLLIN | POLLOUT, 0 }, { p[1], POLLIN | POLLOUT, 0 } };
	T(poll(pf, 2, 0));
	say("full: read end %#x, write end %#x", pf[0].revents, pf[1].revents);
	T(read(p[0], page, 100));
	T(poll(pf, 2, 0));
	say("a slot not free yet: write end %#x", pf[1].revents);
	T(read(p[0], page, 3996));
	T(poll(pf, 2, 0));
	say("a slot free: write end %#x", pf[1].revents);
	T(write(p[1], page, 4096));
	T(write(p[1], page, 1));
	close(p[0]);
	close(p[1]);

	T(S(pipe2, p, O_NONBLOCK));
	total = 0;
	while ((n = write(p[1], page, 1000)) > 0)
		total += n;
	say("1000-byte writes: %ld bytes", total);
	total = 0;
	while ((n = read(p[0], page, 3000)) > 0)
		total += n;
	say("read back: %ld bytes, then %s", total, errname(errno));
	close(p[0]);
	close(p[1]);

	T(S(pipe2, p, O_NONBLOCK));
	total = 0;
	while ((n = write(p[1], page, 2048)) > 0)
		total += n;
	say("2048-byte writes: %ld bytes", total);
	close(p[0]);
	close(p[1]);

	/* Small writes merge into the last page; a whole page never does. */
	T(S(pipe2, p, O_NONBLOCK));
	total = 0;
	for (int i = 0; i < 100; i++)
		total += write(p[1], "b", 1);
	while ((n = write(p[1], page, 4096)) > 0)
		total += n;
	say("100 1-byte writes, then 4096-byte writes: %ld bytes", total);
	close(p[0]);
	close(p[1]);
}

static void test_poll(void)
{
	int p[2];
	say("-- poll");
	T(pipe(p));
	struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { p[1], POLLOUT, 0 } };
	T(poll(pf, 2, 0));
	say("empty: read end %#x, write end %#x", pf[0].revents, pf[1].revents);
	write(p[1], "d", 1);
	T(poll(pf, 2, 0));
	say("data: read end %#x", pf[0].revents);
	close(p[1]);
	pf[0].events = POLLIN;
	T(poll(pf, 1, 0));
	say("data, no writer: read end %#x", pf[0].revents);
	char c;
	read(p[0], &c, 1);
	T(poll(pf, 1, 0));
	say("no data, no writer: read end %#x", pf[0].revents);
	pf[0].events = 0;
	T(poll(pf, 1, 0));
	say("hang-up unasked: %#x", pf[0].revents);
	close(p[0]);
	T(pipe(p));
	close(p[0]);
	pf[1].fd = p[1];
	T(poll(&pf[1], 1, 0));
	say("no reader: write end %#x", pf[1].revents);
	close(p[1]);
}

/* A writer and a reader: blocking writes larger than the pipe, poll
 * waiting for data, end of file when the writer exits. */
static void test_writer_reader(void)
{
	int p[2];
	say("-- a writer and a reader");
	T(pipe(p));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		static char big[200000];
		for (int i = 0; i < (int)sizeof big; i++)
			big[i] = 'a' + i % 26;
		long n = write(p[1], big, sizeof big);
		long m = write(p[1], "tail", 4);
		_exit(n == (long)sizeof big && m == 4 ? 0 : 1);
	}
	close(p[1]);
	struct pollfd pf = { p[0], POLLIN, 0 };
	T(poll(&pf, 1, -1));
	say("poll: read end %#x", pf.revents);
	static char got[300000];
	long total = 0, n;
	while ((n = read(p[0], got + total, 7000)) > 0)
		total += n;
	say("read %ld bytes until end of file (%ld)", total, n);
	int ok = 1;
	for (long i = 0; i < 200000; i++)
		ok &= got[i] == 'a' + i % 26;
	say("bytes in order: %s, tail: %.4s", yesno(ok), got + 200000);
	int st;
	waitpid(pid, &st, 0);
	show_status("writer", st);
	close(p[0]);
}

/* A pipe end on stdout of a child (dup2), read by the parent. */
static void test_dup2(void)
{
	int p[2];
	say("-- dup2 onto stdout");
	T(pipe(p));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		printf("through the pipe\n");
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	char buf[100];
	long n, total = 0;
	while ((n = read(p[0], buf + total, sizeof buf - total)) > 0)
		total += n;
	quoted("parent read", buf, total);
	int st;
	waitpid(pid, &st, 0);
	show_status("child", st);
	close(p[0]);
}

int main(void)
{
	begin("pipe");
	test_basics();
	test_epipe();
	test_capacity();
	test_poll();
	test_writer_reader();
	test_dup2();
	return 0;
}
