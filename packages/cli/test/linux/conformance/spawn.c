/*
 * execve from a forked child, vfork, posix_spawn: the program runs
 * itself again (/proc/self/exe) with a first argument naming what the
 * new image checks: its arguments and environment, which descriptors
 * survived the exec (O_CLOEXEC and FD_CLOEXEC ones are closed, others
 * stay, sharing their offset), its parent. vfork's child _exits or
 * execs while the parent waits; posix_spawn (musl: clone with CLONE_VM |
 * CLONE_VFORK) runs the program, with file actions, and reports a
 * missing program as ENOENT. execve's errors: ENOENT, EACCES, EFAULT.
 */
#include "conformance.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		say("%s: exited %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d", what, WTERMSIG(st));
}

/* The new image: argv[1] says what to do. */
static int child_main(int argc, char **argv)
{
	if (!strcmp(argv[1], "args")) {
		for (int i = 2; i < argc; i++)
			say("  new image: argv[%d] = \"%s\"", i, argv[i]);
		const char *v = getenv("SPAWN_TEST");
		say("  new image: SPAWN_TEST = %s", v ? v : "(unset)");
		return 5;
	}
	if (!strcmp(argv[1], "fds")) {
		/* argv[2..]: descriptor numbers to look at. */
		for (int i = 2; i < argc; i++) {
			int fd = atoi(argv[i]);
			long r = fcntl(fd, F_GETFD);
			if (r < 0)
				say("  new image: fd %d: %s", fd, errname(errno));
			else
				say("  new image: fd %d open, offset %ld", fd, (long)lseek(fd, 0, SEEK_CUR));
		}
		char c;
		int fd = atoi(argv[2]);
		if (read(fd, &c, 1) == 1)
			say("  new image: read '%c' from fd %d", c, fd);
		return 0;
	}
	if (!strcmp(argv[1], "parent")) {
		say("  new image: getppid is the parent: %s", yesno(getppid() == atol(argv[2])));
		return 0;
	}
	if (!strcmp(argv[1], "stdout")) {
		printf("  new image: hello through fd 1\n");
		return 0;
	}
	return 99;
}

static pid_t fork_exec(char **argv, char **envp)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	return pid;
}

static void test_execve(void)
{
	int st;
	say("-- execve from a forked child");
	char *argv[] = { "spawn", "args", "one", "two words", "", NULL };
	char *envp[] = { "SPAWN_TEST=from the parent", "OTHER=x", NULL };
	waitpid(fork_exec(argv, envp), &st, 0);
	show_status("args", st);
	char *envp0[] = { NULL };
	waitpid(fork_exec(argv, envp0), &st, 0);
	show_status("args, empty environment", st);

	say("-- descriptors across exec");
	int keep = open("hello.txt", O_RDONLY);
	int cloexec = open("hello.txt", O_RDONLY | O_CLOEXEC);
	int setfd = open("hello.txt", O_RDONLY);
	fcntl(setfd, F_SETFD, FD_CLOEXEC);
	int p[2];
	pipe2(p, O_CLOEXEC);
	lseek(keep, 4, SEEK_SET);
	char a[4][12];
	snprintf(a[0], sizeof a[0], "%d", keep);
	snprintf(a[1], sizeof a[1], "%d", cloexec);
	snprintf(a[2], sizeof a[2], "%d", setfd);
	snprintf(a[3], sizeof a[3], "%d", p[0]);
	char *fargv[] = { "spawn", "fds", a[0], a[1], a[2], a[3], NULL };
	waitpid(fork_exec(fargv, environ), &st, 0);
	show_status("fds", st);
	T(lseek(keep, 0, SEEK_CUR));
	close(keep);
	close(cloexec);
	close(setfd);
	close(p[0]);
	close(p[1]);

	char pid[16];
	snprintf(pid, sizeof pid, "%d", getpid());
	char *pargv[] = { "spawn", "parent", pid, NULL };
	waitpid(fork_exec(pargv, environ), &st, 0);
	show_status("parent", st);

	say("-- execve errors (in the parent: it goes on)");
	T(execve("missing-program", argv, envp));
	T(execve("hello.txt", argv, envp));
	T(execve("dir", argv, envp));
	T(S(execve, BAD_NULL1, argv, envp));
	T(S(execve, "/proc/self/exe", BAD_NULL1, envp));
}

static int shared = 1;

static void test_vfork(void)
{
	int st;
	say("-- vfork");
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0)
		_exit(7);
	waitpid(pid, &st, 0);
	show_status("vfork, _exit(7)", st);
	say("the parent runs on after the child: %s", yesno(shared == 1));
	char *argv[] = { "spawn", "args", "from vfork", NULL };
	char *envp[] = { "SPAWN_TEST=vfork", NULL };
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	show_status("vfork, execve", st);
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		execve("missing-program", argv, envp);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	show_status("vfork, execve of a missing program", st);
}

static void test_posix_spawn(void)
{
	int st;
	pid_t pid;
	say("-- posix_spawn");
	char *argv[] = { "spawn", "args", "spawned", NULL };
	char *envp[] = { "SPAWN_TEST=posix_spawn", NULL };
	fflush(stdout);
	/* Printed after the wait: the child prints meanwhile. */
	int r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp);
	waitpid(pid, &st, 0);
	TL("posix_spawn(&pid, \"/proc/self/exe\", NULL, NULL, argv, envp)", r);
	show_status("posix_spawn", st);
	T(posix_spawn(&pid, "missing-program", NULL, NULL, argv, envp) == ENOENT);
	T(posix_spawnp(&pid, "no-such-program-anywhere", NULL, NULL, argv, envp) == ENOENT);

	/* stdout of the spawned program into a pipe. */
	int p[2];
	pipe(p);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	char *sargv[] = { "spawn", "stdout", NULL };
	fflush(stdout);
	T(posix_spawn(&pid, "/proc/self/exe", &fa, NULL, sargv, envp));
	close(p[1]);
	char buf[100];
	long n, total = 0;
	while ((n = read(p[0], buf + total, sizeof buf - total)) > 0)
		total += n;
	quoted("read from the pipe", buf, total);
	waitpid(pid, &st, 0);
	show_status("spawned with file actions", st);
	close(p[0]);
	posix_spawn_file_actions_destroy(&fa);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		return child_main(argc, argv);
	begin("spawn");
	test_execve();
	test_vfork();
	test_posix_spawn();
	return 0;
}
