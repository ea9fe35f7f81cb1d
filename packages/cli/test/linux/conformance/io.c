/*
 * I/O: write, writev (stdout, stderr, /dev/null), dup, dup2, dup3, fcntl,
 * poll, ppoll, select, pselect6, ioctl, getrandom, /dev/null, /dev/zero,
 * /dev/urandom.
 *
 * stdin is a pipe with known content and stdout and stderr are pipes, in
 * both runs: so ioctl(TCGETS) gives ENOTTY, poll finds stdin readable and
 * stdout writable. Writes go to stdout, stderr and /dev/null only.
 */
#include "conformance.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 4
#endif

static long long mono(void)
{
	struct timespec t;
	S(clock_gettime, CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_write(void)
{
	static struct iovec many[1025];
	char one = '.';

	say("-- write, writev");
	T(S(write, 1, "write to stdout\n", 16));
	T(S(write, 2, "write to stderr\n", 16));
	T(S(write, 1, "x", 0));
	T(S(write, 1, NULL, 0));
	struct iovec iov[4] = { { "writev ", 7 }, { "", 0 }, { "to ", 3 }, { "stdout\n", 7 } };
	T(S(writev, 1, iov, 4));
	T(S(writev, 2, iov, 4));
	T(S(writev, 1, iov, 0));
	T(S(writev, 1, iov, -1));
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){ &one, 1 };
	many[1023] = (struct iovec){ "\n", 1 };
	T(S(writev, 1, many, 1024));
	T(S(writev, 1, many, 1025));
	struct iovec huge[2] = { { "a", 1 }, { "b", (size_t)-1 } };
	T(S(writev, 1, huge, 2));
	T(S(write, 99, "x", 1));
	T(S(write, -1, "x", 1));
	T(S(writev, 99, iov, 4));
	T(S(write, 0, "x", 1)); /* stdin is the read end of a pipe */
	T(S(open, "hello.txt", O_RDONLY));
	T(S(write, 3, "x", 1));
	T(S(writev, 3, iov, 4));
	T(S(close, 3));
	T(S(open, "dir", O_RDONLY));
	T(S(write, 3, "x", 1));
	T(S(close, 3));
}

static void test_dup_fcntl(void)
{
	say("-- dup, dup2, dup3");
	T(S(dup, 1));
	T(S(write, 3, "write to the dup of stdout\n", 27));
	T(S(dup, 99));
	T(S(dup, -1));
	T(S(dup2, 1, 1));
	T(S(dup2, 99, 1));
	T(S(dup2, 99, 99));
	T(S(dup2, 1, -1));
	T(S(dup2, 1, 0x7fffffff));
	T(S(dup2, 1, 10));
	T(S(fcntl, 10, F_GETFD));
	T(S(dup2, 3, 10)); /* 10 is open: closed first, silently */
	T(S(write, 10, "write to fd 10\n", 15));
	T(S(dup3, 1, 1, 0));
	T(S(dup3, 1, 11, O_CLOEXEC));
	T(S(fcntl, 11, F_GETFD));
	T(S(dup3, 1, 12, 1));
	T(S(dup3, 99, 12, 0));
	T(S(dup3, 1, -1, 0));
	T(S(dup, 1)); /* the lowest free: 4 */

	say("-- fcntl");
	T(S(fcntl, 1, F_DUPFD, 20));
	T(S(fcntl, 1, F_DUPFD, 20));
	T(S(fcntl, 1, F_DUPFD_CLOEXEC, 20));
	T(S(fcntl, 22, F_GETFD));
	T(S(fcntl, 1, F_DUPFD, -1));
	T(S(fcntl, 1, F_DUPFD, 0x7fffffff));
	T(S(fcntl, 20, F_GETFD));
	T(S(fcntl, 20, F_SETFD, FD_CLOEXEC));
	T(S(fcntl, 20, F_GETFD));
	T(S(fcntl, 20, F_SETFD, 0));
	T(S(fcntl, 20, F_GETFD));
	T(S(fcntl, 99, F_GETFD));
	T(S(fcntl, 99, F_GETFL));
	T(S(fcntl, 1, 9999));
	for (int fd = 3; fd <= 22; fd++)
		S(close, fd);

	T(S(open, "/dev/null", O_RDWR));
	long fl = S(fcntl, 3, F_GETFL);
	say("F_GETFL(/dev/null, O_RDWR): accmode O_RDWR: %s, O_NONBLOCK: %s, O_APPEND: %s, O_LARGEFILE: %s", yesno((fl & O_ACCMODE) == O_RDWR),
	    yesno(fl & O_NONBLOCK), yesno(fl & O_APPEND), yesno(fl & O_LARGEFILE));
	T(S(fcntl, 3, F_SETFL, O_NONBLOCK | O_APPEND | O_WRONLY));
	fl = S(fcntl, 3, F_GETFL);
	say("F_GETFL after F_SETFL(O_NONBLOCK | O_APPEND | O_WRONLY): accmode O_RDWR: %s, O_NONBLOCK: %s, O_APPEND: %s", yesno((fl & O_ACCMODE) == O_RDWR),
	    yesno(fl & O_NONBLOCK), yesno(fl & O_APPEND));
	T(S(fcntl, 3, F_SETFL, 0));
	fl = S(fcntl, 3, F_GETFL);
	say("F_GETFL after F_SETFL(0): O_NONBLOCK: %s, O_APPEND: %s", yesno(fl & O_NONBLOCK), yesno(fl & O_APPEND));
	T(S(dup, 3));
	T(S(fcntl, 3, F_SETFL, O_NONBLOCK));
	fl = S(fcntl, 4, F_GETFL);
	say("file status flags are shared with the dup: %s", yesno(fl & O_NONBLOCK));
	T(S(fcntl, 3, F_SETFD, FD_CLOEXEC));
	T(S(fcntl, 4, F_GETFD));
	T(S(close, 4));
	T(S(close, 3));
	T(S(open, "hello.txt", O_RDONLY | O_NONBLOCK));
	fl = S(fcntl, 3, F_GETFL);
	say("F_GETFL(hello.txt, O_RDONLY | O_NONBLOCK): accmode O_RDONLY: %s, O_NONBLOCK: %s", yesno((fl & O_ACCMODE) == O_RDONLY), yesno(fl & O_NONBLOCK));
	T(S(close, 3));
	T(S(open, "hello.txt", O_RDONLY | O_CLOEXEC));
	T(S(fcntl, 3, F_GETFD));
	T(S(close, 3));
}

static void show_poll(const char *label, long r, struct pollfd *fds, int n)
{
	if (r == -1) {
		say("%s = -1 %s", label, errname(errno));
		return;
	}
	printf("%s = %ld:", label, r);
	for (int i = 0; i < n; i++)
		printf(" fd %d revents %#x", fds[i].fd, fds[i].revents);
	putchar('\n');
}

static void test_poll(void)
{
	struct pollfd fds[4];
	struct timespec ts;
	sigset_t mask;
	long long t0;
	long r;

	say("-- poll, ppoll");
	fds[0] = (struct pollfd){ 0, POLLIN, 0 };
	r = S(poll, fds, 1, 5000);
	/* Whether the writer has closed yet (POLLHUP) is a race: only POLLIN. */
	say("poll(stdin, POLLIN, 5 s) = %ld: POLLIN: %s", r, yesno(fds[0].revents & POLLIN));
	fds[0] = (struct pollfd){ 1, POLLOUT, 0x7777 };
	show_poll("poll(stdout, POLLOUT, 0)", S(poll, fds, 1, 0), fds, 1);
	fds[0] = (struct pollfd){ 1, POLLIN, 0 };
	show_poll("poll(stdout, POLLIN, 0)", S(poll, fds, 1, 0), fds, 1);
	int hello = S(open, "hello.txt", O_RDONLY);
	int null = S(open, "/dev/null", O_RDWR);
	fds[0] = (struct pollfd){ hello, POLLIN | POLLOUT, 0 };
	fds[1] = (struct pollfd){ null, POLLIN | POLLOUT | POLLPRI, 0 };
	fds[2] = (struct pollfd){ -1, POLLIN, 0x7777 };
	fds[3] = (struct pollfd){ 99, POLLIN, 0 };
	show_poll("poll(hello.txt, /dev/null, -1, 99)", S(poll, fds, 4, 1000), fds, 4);
	fds[0] = (struct pollfd){ hello, 0, 0 };
	show_poll("poll(hello.txt, no events, 0)", S(poll, fds, 1, 0), fds, 1);
	t0 = mono();
	show_poll("poll(nothing, 0, 30 ms)", S(poll, NULL, 0, 30), fds, 0);
	say("  waited at least 30 ms: %s", yesno(mono() - t0 >= 30000000LL));
	fds[0] = (struct pollfd){ -1, POLLIN, 0 };
	t0 = mono();
	show_poll("poll(fd -1, 30 ms)", S(poll, fds, 1, 30), fds, 1);
	say("  waited at least 30 ms: %s", yesno(mono() - t0 >= 30000000LL));
	T(S(poll, NULL, 1, 0));
	T(S(poll, fds, 0x7fffffff, 0));

	fds[0] = (struct pollfd){ 1, POLLOUT, 0 };
	ts = (struct timespec){ 0, 0 };
	show_poll("ppoll(stdout, POLLOUT, {0, 0}, NULL)", S(ppoll, fds, 1, &ts, NULL, 8), fds, 1);
	show_poll("ppoll(stdout, POLLOUT, NULL, NULL)", S(ppoll, fds, 1, NULL, NULL, 8), fds, 1);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	show_poll("ppoll(stdout, POLLOUT, NULL, {SIGUSR1})", S(ppoll, fds, 1, NULL, &mask, 8), fds, 1);
	show_poll("ppoll(stdout, POLLOUT, NULL, {SIGUSR1}, sigsetsize 4)", S(ppoll, fds, 1, NULL, &mask, 4), fds, 1);
	show_poll("ppoll(stdout, POLLOUT, NULL, NULL, sigsetsize 4)", S(ppoll, fds, 1, NULL, NULL, 4), fds, 1);
	ts = (struct timespec){ 0, 30000000 };
	t0 = mono();
	show_poll("ppoll(nothing, {0, 30 ms})", S(ppoll, NULL, 0, &ts, NULL, 8), fds, 0);
	say("  waited at least 30 ms: %s, the time left written back: {%ld, %ld}", yesno(mono() - t0 >= 30000000LL), (long)ts.tv_sec, ts.tv_nsec);
	ts = (struct timespec){ 0, 1000000000 };
	show_poll("ppoll(stdout, {0, 1e9})", S(ppoll, fds, 1, &ts, NULL, 8), fds, 1);
	ts = (struct timespec){ -1, 0 };
	show_poll("ppoll(stdout, {-1, 0})", S(ppoll, fds, 1, &ts, NULL, 8), fds, 1);
	fds[0] = (struct pollfd){ 0, POLLIN, 0 };
	ts = (struct timespec){ 5, 0 };
	r = S(ppoll, fds, 1, &ts, NULL, 8);
	say("ppoll(stdin, POLLIN, {5, 0}) = %ld: POLLIN: %s", r, yesno(fds[0].revents & POLLIN));
	S(close, hello);
	S(close, null);
}

static void show_sets(const char *label, long r, fd_set *rd, fd_set *wr, int n)
{
	if (r == -1) {
		say("%s = -1 %s", label, errname(errno));
		return;
	}
	printf("%s = %ld: read {", label, r);
	for (int fd = 0; fd < n; fd++)
		if (rd && FD_ISSET(fd, rd))
			printf(" %d", fd);
	printf(" } write {");
	for (int fd = 0; fd < n; fd++)
		if (wr && FD_ISSET(fd, wr))
			printf(" %d", fd);
	printf(" }\n");
}

struct sigset_arg {
	const sigset_t *set;
	size_t size;
};

static void test_select(void)
{
	fd_set rd, wr;
	struct timeval tv;
	struct timespec ts;
	long long t0;
	long r;

	say("-- select, pselect6");
	FD_ZERO(&rd);
	FD_SET(0, &rd);
	tv = (struct timeval){ 5, 0 };
	r = S(select, 1, &rd, NULL, NULL, &tv);
	say("select(1, {0}, NULL, NULL, 5 s) = %ld: stdin readable: %s", r, yesno(r == 1 && FD_ISSET(0, &rd)));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(1, &rd);
	FD_SET(1, &wr);
	FD_SET(2, &wr);
	tv = (struct timeval){ 0, 0 };
	show_sets("select(3, {1}, {1, 2}, NULL, {0, 0})", S(select, 3, &rd, &wr, NULL, &tv), &rd, &wr, 3);
	int hello = S(open, "hello.txt", O_RDONLY);
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(hello, &rd);
	FD_SET(hello, &wr);
	tv = (struct timeval){ 0, 0 };
	show_sets("select(hello.txt read and write)", S(select, hello + 1, &rd, &wr, NULL, &tv), &rd, &wr, hello + 1);
	FD_ZERO(&rd);
	FD_SET(hello, &rd);
	FD_SET(50, &rd);
	tv = (struct timeval){ 0, 0 };
	show_sets("select(51, {hello.txt, 50 (not open)})", S(select, 51, &rd, NULL, NULL, &tv), &rd, NULL, 51);
	FD_ZERO(&rd);
	FD_SET(50, &rd);
	tv = (struct timeval){ 0, 0 };
	show_sets("select(50, {50}): nfds leaves fd 50 out", S(select, 50, &rd, NULL, NULL, &tv), &rd, NULL, 50);
	tv = (struct timeval){ 0, 30000 };
	t0 = mono();
	show_sets("select(0, NULL, NULL, NULL, {0, 30 ms})", S(select, 0, NULL, NULL, NULL, &tv), NULL, NULL, 0);
	say("  waited at least 30 ms: %s, the time left written back: {%ld, %ld}", yesno(mono() - t0 >= 30000000LL), (long)tv.tv_sec, (long)tv.tv_usec);
	tv = (struct timeval){ -1, 0 };
	show_sets("select(0, ..., {-1, 0})", S(select, 0, NULL, NULL, NULL, &tv), NULL, NULL, 0);
	show_sets("select(-1, ...)", S(select, -1, NULL, NULL, NULL, NULL), NULL, NULL, 0);

	FD_ZERO(&rd);
	FD_SET(0, &rd);
	ts = (struct timespec){ 5, 0 };
	r = S(pselect6, 1, &rd, NULL, NULL, &ts, NULL);
	say("pselect6(1, {0}, NULL, NULL, 5 s, NULL) = %ld: stdin readable: %s", r, yesno(r == 1 && FD_ISSET(0, &rd)));
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	struct sigset_arg good = { &mask, 8 }, bad = { &mask, 4 };
	FD_ZERO(&wr);
	FD_SET(1, &wr);
	ts = (struct timespec){ 0, 0 };
	show_sets("pselect6(2, NULL, {1}, NULL, {0, 0}, {USR1, 8})", S(pselect6, 2, NULL, &wr, NULL, &ts, &good), NULL, &wr, 2);
	FD_ZERO(&wr);
	FD_SET(1, &wr);
	show_sets("pselect6(2, NULL, {1}, NULL, {0, 0}, {USR1, 4})", S(pselect6, 2, NULL, &wr, NULL, &ts, &bad), NULL, &wr, 2);
	ts = (struct timespec){ 0, 30000000 };
	t0 = mono();
	show_sets("pselect6(0, NULL, NULL, NULL, {0, 30 ms}, NULL)", S(pselect6, 0, NULL, NULL, NULL, &ts, NULL), NULL, NULL, 0);
	say("  waited at least 30 ms: %s, the time left written back: {%ld, %ld}", yesno(mono() - t0 >= 30000000LL), (long)ts.tv_sec, ts.tv_nsec);
	ts = (struct timespec){ 0, 1000000000 };
	show_sets("pselect6(0, ..., {0, 1e9})", S(pselect6, 0, NULL, NULL, NULL, &ts, NULL), NULL, NULL, 0);
	S(close, hello);
}

static void test_ioctl(void)
{
	struct termios tio;
	struct winsize ws;
	int one = 1;

	say("-- ioctl");
	T(S(ioctl, 0, TCGETS, &tio));
	T(S(ioctl, 1, TCGETS, &tio));
	T(S(ioctl, 2, TCGETS, &tio));
	T(S(ioctl, 1, TIOCGWINSZ, &ws));
	T(S(ioctl, 1, TIOCGPGRP, &one));
	T(S(ioctl, 1, TCGETS, NULL));
	T(S(ioctl, 99, TCGETS, &tio));
	T(S(open, "/dev/null", O_RDWR));
	T(S(ioctl, 3, TCGETS, &tio));
	T(S(ioctl, 3, TIOCGWINSZ, &ws));
	T(S(close, 3));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(ioctl, 3, TCGETS, &tio));
	T(S(ioctl, 3, FIOCLEX));
	T(S(fcntl, 3, F_GETFD));
	T(S(ioctl, 3, FIONCLEX));
	T(S(fcntl, 3, F_GETFD));
	T(S(ioctl, 3, FIONBIO, &one));
	say("  O_NONBLOCK after FIONBIO: %s", yesno(S(fcntl, 3, F_GETFL) & O_NONBLOCK));
	T(S(close, 3));
}

static void test_getrandom(void)
{
	static unsigned char big[1 << 20];
	unsigned char a[16], b[16];

	say("-- getrandom");
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	T(S(getrandom, a, sizeof a, 0));
	T(S(getrandom, b, sizeof b, 0));
	say("  not all zero: %s, two calls differ: %s", yesno(!all_zero(a, sizeof a)), yesno(memcmp(a, b, sizeof a) != 0));
	T(S(getrandom, a, 0, 0));
	T(S(getrandom, NULL, 0, 0));
	T(S(getrandom, a, 1, 0));
	T(S(getrandom, a, sizeof a, GRND_NONBLOCK));
	T(S(getrandom, a, sizeof a, GRND_RANDOM));
	T(S(getrandom, a, sizeof a, GRND_RANDOM | GRND_NONBLOCK));
	T(S(getrandom, a, sizeof a, GRND_INSECURE));
	T(S(getrandom, a, sizeof a, GRND_INSECURE | GRND_RANDOM));
	T(S(getrandom, a, sizeof a, 0x8));
	T(S(getrandom, a, sizeof a, -1));
	T(S(getrandom, big, sizeof big, 0));
	int zeros = 0;
	for (int i = 0; i < (1 << 20); i += 4096)
		zeros += all_zero(big + i, 64);
	say("  every page got bytes: %s", yesno(zeros == 0));
}

static void test_devices(void)
{
	unsigned char buf[64];
	struct stat st;

	say("-- /dev/null, /dev/zero, /dev/urandom");
	T(S(open, "/dev/null", O_RDWR));
	T(S(write, 3, "discarded", 9));
	struct iovec iov[2] = { { "dis", 3 }, { "carded", 6 } };
	T(S(writev, 3, iov, 2));
	T(S(read, 3, buf, sizeof buf));
	T(S(lseek, 3, 100, SEEK_SET));
	T(S(fstat, 3, &st));
	say("  character device: %s, mode %04o", yesno(S_ISCHR(st.st_mode)), (unsigned)(st.st_mode & 07777));
	T(S(close, 3));
	T(S(open, "/dev/zero", O_RDONLY));
	memset(buf, 0xff, sizeof buf);
	T(S(read, 3, buf, sizeof buf));
	say("  all zero: %s", yesno(all_zero(buf, sizeof buf)));
	T(S(read, 3, buf, 0));
	T(S(fstat, 3, &st));
	say("  character device: %s", yesno(S_ISCHR(st.st_mode)));
	T(S(close, 3));
	T(S(open, "/dev/zero", O_WRONLY));
	T(S(write, 3, "discarded", 9));
	T(S(close, 3));
	T(S(open, "/dev/urandom", O_RDONLY));
	memset(buf, 0, sizeof buf);
	T(S(read, 3, buf, 32));
	say("  not all zero: %s", yesno(!all_zero(buf, 32)));
	T(S(read, 3, buf, 0));
	T(S(close, 3));
	T(S(open, "/dev/nonexistent", O_RDONLY));
}

static void test_big_write(void)
{
	static char big[2 << 20];

	say("-- a 2 MiB write to stdout (a pipe: all of it, no short write)");
	for (int i = 0; i < (2 << 20) / 16; i++) {
		char line[17];
		snprintf(line, sizeof line, "big write %05d\n", i % 100000);
		memcpy(big + 16 * i, line, 16);
	}
	T(S(write, 1, big, sizeof big));
}

int main(void)
{
	begin("io");
	test_write();
	test_dup_fcntl();
	test_poll();
	test_select();
	test_ioctl();
	test_getrandom();
	test_devices();
	test_big_write();
	say("== end");
	return 0;
}
