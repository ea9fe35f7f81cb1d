/*
 * pipes STDIN_FILE PROGRAM [ARGS...]: runs PROGRAM with real pipes (not the
 * socket pairs Node gives its children) as stdin, stdout and stderr, and no
 * other file descriptor open; its environment is this one's. The content of
 * STDIN_FILE (small: it is written before anything is read) goes to its
 * stdin; its stdout and stderr come out on ours.
 * Exit status: the program's, or 128 + N if signal N killed it.
 *
 * The conformance harness runs both the native program and kvmos linux-exec
 * through it, so that both see the same kind of files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "pipes: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* the reader is gone: fine */
		}
		buf += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	static char input[1 << 20];
	int in[2], out[2], err[2];

	if (argc < 3) {
		fprintf(stderr, "usage: pipes STDIN_FILE PROGRAM [ARGS...]\n");
		return 125;
	}
	int f = open(argv[1], O_RDONLY);
	if (f < 0)
		die(argv[1]);
	ssize_t len = read(f, input, sizeof input);
	if (len < 0)
		die(argv[1]);
	close(f);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(in) || pipe(out) || pipe(err))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			die("dup2");
		if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
			for (int fd = 3; fd < 65536; fd++)
				close(fd);
		execve(argv[2], argv + 2, environ);
		die(argv[2]);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	write_all(in[1], input, (size_t)len);
	close(in[1]);

	struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			char buf[65536];
			ssize_t n = read(fds[i].fd, buf, sizeof buf);
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			} else {
				write_all(i == 0 ? 1 : 2, buf, (size_t)n);
			}
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
