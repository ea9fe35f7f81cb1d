/*
 * fork, wait4, waitid, getppid: a child gets a copy of the address space
 * and the descriptors (sharing their file offsets), its parent reaps it
 * with Linux's status encoding: exit codes, a child killed by SIGSEGV or
 * by a signal it sends itself, WNOHANG while the child runs, ECHILD
 * without children, waitid's siginfo and WNOWAIT.
 *
 * Children are made with libc's fork() (musl: the fork system call) so
 * that libc knows the child's tid; raw clone() flag sets are tried with
 * children that make only raw system calls. The parent prints only
 * after the child is reaped, and children end with _exit after a
 * flushed write: the output is in one order.
 */
#include "conformance.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		say("%s: exited %d (raw %#x)", what, WEXITSTATUS(st), st);
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d (raw %#x)", what, WTERMSIG(st), st & 0x7f);
	else
		say("%s: other status %#x", what, st);
}

/* fork, then the child runs f and _exits with its result. */
static long spawn(int (*f)(void))
{
	fflush(stdout);
	long pid = fork();
	if (pid == 0)
		_exit(f());
	return pid;
}

static int exit0(void) { return 0; }
static int exit3(void) { return 3; }
static int exit255(void) { return 255; }
static int exit300(void) { return 300; }
static int segv(void)
{
	/* No core file natively (the status has no core bit either). */
	struct rlimit r = { 0, 0 };
	setrlimit(RLIMIT_CORE, &r);
	*(volatile int *)8 = 1;
	return 1;
}
static int self_term(void)
{
	kill(getpid(), SIGTERM);
	return 1;
}
static int abort_child(void)
{
	struct rlimit r = { 0, 0 };
	setrlimit(RLIMIT_CORE, &r);
	abort();
}

static void test_statuses(void)
{
	say("-- wait4 statuses");
	struct { const char *name; int (*f)(void); } cases[] = {
		{ "exit(0)", exit0 }, { "exit(3)", exit3 }, { "exit(255)", exit255 },
		{ "exit(300)", exit300 }, { "SIGSEGV", segv }, { "kill(self, SIGTERM)", self_term },
		{ "abort", abort_child },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long pid = spawn(cases[i].f);
		int st = -1;
		long r = S(wait4, pid, &st, 0, 0);
		say("wait4 returns the pid: %s", yesno(r == pid));
		show_status(cases[i].name, st);
	}
	int st;
	T(S(wait4, -1, &st, 0, 0));
	T(S(wait4, -1, &st, WNOHANG, 0));
	T(S(wait4, 1234567, &st, 0, 0));
	T(S(wait4, -1, &st, 0x1000, 0));
}

static int pipefd[2];
static int wait_for_eof(void)
{
	char c;
	close(pipefd[1]);
	long n = read(pipefd[0], &c, 1);
	return n == 0 ? 42 : 1;
}

static void test_wnohang(void)
{
	say("-- WNOHANG, waitid");
	T(pipe(pipefd));
	long pid = spawn(wait_for_eof);
	int st = 77;
	T(S(wait4, pid, &st, WNOHANG, 0));
	say("status untouched: %s", yesno(st == 77));
	siginfo_t si;
	memset(&si, 0x55, sizeof si);
	T(S(waitid, P_PID, pid, &si, WEXITED | WNOHANG, 0));
	say("no child ready: si_pid %d si_signo %d", si.si_pid, si.si_signo);
	close(pipefd[1]);
	close(pipefd[0]);
	memset(&si, 0, sizeof si);
	T(S(waitid, P_PID, pid, &si, WEXITED | WNOWAIT, 0));
	say("waitid: si_pid is the child: %s, si_signo %d, si_code %d, si_status %d", yesno(si.si_pid == pid), si.si_signo,
	    si.si_code, si.si_status);
	memset(&si, 0, sizeof si);
	T(S(waitid, P_ALL, 0, &si, WEXITED, 0));
	say("again (WNOWAIT left it): si_pid is the child: %s, si_code %d, si_status %d", yesno(si.si_pid == pid), si.si_code,
	    si.si_status);
	T(S(waitid, P_ALL, 0, &si, WEXITED, 0));
	T(S(waitid, P_ALL, 0, &si, 0, 0));
	T(S(waitid, 7, 0, &si, WEXITED, 0));
	T(S(waitid, P_PID, 0, &si, WEXITED, 0));

	long killed = spawn(segv);
	memset(&si, 0, sizeof si);
	T(S(waitid, P_PID, killed, &si, WEXITED, 0));
	say("SIGSEGV child: si_code is CLD_KILLED: %s, si_status %d", yesno(si.si_code == CLD_KILLED), si.si_status);
}

static long parent_pid;
static int check_parent(void)
{
	say("child: getppid is the parent: %s, getpid differs: %s", yesno(getppid() == parent_pid), yesno(getpid() != parent_pid));
	fflush(stdout);
	return 0;
}

static int counter = 10;
static int change_memory(void)
{
	counter = 99;
	say("child: counter %d", counter);
	fflush(stdout);
	return 0;
}

static int shared_fd;
static int read_five(void)
{
	char b[6] = { 0 };
	long n = read(shared_fd, b, 5);
	say("child read %ld: %s", n, b);
	fflush(stdout);
	return 0;
}

static void test_copy_and_sharing(void)
{
	say("-- the child's copy");
	parent_pid = getpid();
	int st;
	long pid = spawn(check_parent);
	T(S(wait4, pid, &st, 0, 0) == pid);
	pid = spawn(change_memory);
	T(S(wait4, pid, &st, 0, 0) == pid);
	say("parent: counter %d (the child changed its own copy)", counter);
	/* Heap memory too. */
	char *heap = malloc(100000);
	memset(heap, 'p', 100000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		memset(heap, 'c', 100000);
		_exit(heap[99999] == 'c' ? 0 : 1);
	}
	S(wait4, pid, &st, 0, 0);
	show_status("child wrote its heap", st);
	say("parent's heap unchanged: %s", yesno(heap[0] == 'p' && heap[99999] == 'p'));
	free(heap);

	say("-- descriptors share their offset");
	shared_fd = open("hello.txt", O_RDONLY);
	pid = spawn(read_five);
	S(wait4, pid, &st, 0, 0);
	T(lseek(shared_fd, 0, SEEK_CUR));
	close(shared_fd);
}

static void test_many(void)
{
	say("-- many children, reaped in any order");
	long pids[8];
	fflush(stdout);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(10 + i);
	}
	int sum = 0;
	for (int i = 7; i >= 0; i--) {
		int st;
		if (S(wait4, pids[i], &st, 0, 0) == pids[i] && WIFEXITED(st))
			sum += WEXITSTATUS(st);
	}
	say("sum of exit codes: %d", sum);
	int st;
	T(S(wait4, -1, &st, WNOHANG, 0));
	/* A grandchild whose parent exits first (it goes to init, or to the
	 * program itself where it is process 1: not looked at). */
	fflush(stdout);
	long pid = fork();
	if (pid == 0) {
		long g = fork();
		if (g == 0)
			_exit(5);
		_exit(6);
	}
	S(wait4, pid, &st, 0, 0);
	show_status("middle child", st);
}

/* clone(2) as libcs call it, the child making raw system calls only. */
static void test_clone(void)
{
	say("-- clone");
	int st, tid = 0;
	fflush(stdout);
	long pid = S(clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		S(exit_group, 8);
	S(wait4, pid, &st, 0, 0);
	show_status("clone(SIGCHLD)", st);
	pid = S(clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, 0, &tid, 0);
	if (pid == 0) {
		long me = S(getpid);
		S(exit_group, tid == me ? 9 : 1);
	}
	S(wait4, pid, &st, 0, 0);
	show_status("clone(CHILD_SETTID): the child sees its tid", st);
	say("the parent's tid word untouched: %s", yesno(tid == 0));
	int ptid = 0;
	pid = S(clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, 0, 0);
	if (pid == 0)
		S(exit_group, 0);
	say("CLONE_PARENT_SETTID stores the pid: %s", yesno(ptid == pid));
	S(wait4, pid, &st, 0, 0);
	T(S(clone, CLONE_THREAD | SIGCHLD, 0, 0, 0, 0));
	T(S(clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0));
}

int main(void)
{
	begin("fork");
	test_clone();
	test_statuses();
	test_wnohang();
	test_copy_and_sharing();
	test_many();
	return 0;
}
