/*
 * Running what a program wrote: copy_file_range into /tmp, then execve of
 * the copy (a file in the guest's tmpfs); a #! script written to /tmp and
 * executed directly (its interpreter is this program itself, so the test
 * needs no shell); a script whose interpreter is missing (ENOENT), one
 * with an empty #! line (ENOEXEC), one that is not executable (EACCES).
 * Every path is unique to the run (the pid), and every file is removed.
 */
#include "conformance.h"
#include <sys/stat.h>
#include <sys/wait.h>

static char self[256];

static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		say("execv %s: %s", argv[0], errname(errno));
		_exit(120);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_file(const char *path, const char *text, int mode)
{
	int fd = S(open, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	S(write, fd, text, strlen(text));
	S(close, fd);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* Started as a script's interpreter: argv[1] the #! argument or the script. */
		say("interpreter got %d arguments:", argc - 1);
		for (int i = 1; i < argc; i++) say("  [%d] %s", i, strstr(argv[i], "/tmp/") == argv[i] ? "(the script)" : argv[i]);
		return 7;
	}
	begin("execfiles");
	long n = S(readlink, "/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = 0;
	char copy[64], script[64], missing[64], empty[64], noexec[64];
	snprintf(copy, sizeof copy, "/tmp/kvmos-copy-%d", getpid());
	snprintf(script, sizeof script, "/tmp/kvmos-script-%d", getpid());
	snprintf(missing, sizeof missing, "/tmp/kvmos-missing-%d", getpid());
	snprintf(empty, sizeof empty, "/tmp/kvmos-empty-%d", getpid());
	snprintf(noexec, sizeof noexec, "/tmp/kvmos-noexec-%d", getpid());

	int in = S(open, self, O_RDONLY);
	int out = S(open, copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	struct stat st;
	fstat(in, &st);
	long total = 0, r;
	while ((r = S(copy_file_range, in, 0, out, 0, 1 << 20, 0)) > 0) total += r;
	say("copy_file_range copied the whole program: %s", yesno(total == st.st_size));
	T(S(copy_file_range, in, 0, out, 0, 10, 1));
	T(S(copy_file_range, out, 0, in, 0, 10, 0));
	T(S(copy_file_range, in, 0, 99, 0, 10, 0));
	S(close, in);
	S(close, out);
	char *cargv[] = { copy, "from-the-copy", 0 };
	say("the copy ran: status %d", run(cargv));

	char text[400];
	snprintf(text, sizeof text, "#!%s  one arg  \nrest of the script\n", self);
	write_file(script, text, 0755);
	char *sargv[] = { script, "a", "b c", 0 };
	say("the script ran: status %d", run(sargv));

	write_file(missing, "#!/nonexistent/interpreter\n", 0755);
	write_file(empty, "#!\n", 0755);
	write_file(noexec, "#!/bin/sh\n", 0644);
	char *none[] = { 0 };
	T(execve(missing, none, none));
	T(execve(empty, none, none));
	T(execve(noexec, none, none));
	for (const char *p = copy; p; p = p == copy ? script : p == script ? missing : p == missing ? empty : p == empty ? noexec : 0)
		S(unlink, p);
	return 0;
}
