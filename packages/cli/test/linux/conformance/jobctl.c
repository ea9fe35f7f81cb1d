/*
 * Job control: process groups (setpgid, getpgid, kill of a group) and
 * stopping and continuing processes (SIGSTOP, SIGTSTP, SIGCONT), as a
 * shell's job control uses them: wait4 with WUNTRACED reports a stopped
 * child (WIFSTOPPED), WCONTINUED a continued one (WIFCONTINUED), waitid
 * says CLD_STOPPED / CLD_CONTINUED, the parent's SIGCHLD carries the same
 * si_code unless SA_NOCLDSTOP, a signal that kills a stopped process
 * waits until it is continued (SIGKILL does not), and a stop signal that
 * is caught or ignored does not stop.
 *
 * Every child waits in pause(); the parent waits for each change it
 * causes, so the output does not depend on scheduling. Pids and group
 * ids are printed only as relations.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>

static void child_loop(void)
{
	for (;;)
		pause();
}

/* A child in a process group of its own, as a shell starts a job: Linux
 * drops SIGTSTP sent to an orphaned process group (and the harness may run
 * us in one), but not to this one, whose parent is in another group. */
static long spawn_in(long pgid)
{
	long pid = S(fork);
	if (pid == 0) {
		/* Both set it, as a shell does: whichever runs first. */
		S(setpgid, 0, pgid);
		child_loop();
	}
	S(setpgid, pid, pgid ? pgid : pid);
	return pid;
}

#define spawn_child() spawn_in(0)

static void status(const char *label, long r, int st)
{
	if (r <= 0) {
		say("%s = %ld %s", label, r, r == -1 ? errname(errno) : "");
		return;
	}
	if (WIFSTOPPED(st))
		say("%s: stopped by %d", label, WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		say("%s: continued", label);
	else if (WIFSIGNALED(st))
		say("%s: killed by %d", label, WTERMSIG(st));
	else if (WIFEXITED(st))
		say("%s: exited %d", label, WEXITSTATUS(st));
	else
		say("%s: status %#x", label, st);
}

#define WAIT(label, pid, opts)                                          \
	do {                                                            \
		int st_ = 0;                                            \
		errno = 0;                                              \
		long r_ = S(wait4, (pid), &st_, (opts), 0);             \
		status(label, r_, st_);                                 \
	} while (0)

/* Takes the pending SIGCHLD (blocked) and prints its si_code and
 * si_status; "none" if there is none. `block`: waits for it (Linux tells
 * the parent of a continue only once the child runs again, and of a stop
 * just after the child is seen stopped: a wait4 on another CPU may return
 * first). */
static void sigchld_(const char *when, int block)
{
	sigset_t set;
	siginfo_t info;
	struct timespec zero = { 0, 0 };
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	int sig = block ? sigwaitinfo(&set, &info) : sigtimedwait(&set, &info, &zero);
	if (sig != SIGCHLD) {
		say("  SIGCHLD %s: none", when);
		return;
	}
	const char *code = info.si_code == CLD_STOPPED ? "CLD_STOPPED"
		: info.si_code == CLD_CONTINUED ? "CLD_CONTINUED"
		: info.si_code == CLD_KILLED ? "CLD_KILLED"
		: info.si_code == CLD_EXITED ? "CLD_EXITED" : "other";
	say("  SIGCHLD %s: %s, status %d", when, code, info.si_status);
}

#define sigchld(when) sigchld_(when, 0)
#define sigchld_wait(when) sigchld_(when, 1)

static void test_stop_continue(void)
{
	say("-- SIGSTOP, SIGCONT, wait4 WUNTRACED / WCONTINUED");
	long c = spawn_child();
	WAIT("wait4(c, WNOHANG | WUNTRACED) before", c, WNOHANG | WUNTRACED);
	T(S(kill, c, SIGSTOP));
	WAIT("wait4(c, WUNTRACED)", c, WUNTRACED);
	sigchld_wait("after the stop");
	WAIT("wait4(c, WNOHANG | WUNTRACED) again (reported once)", c, WNOHANG | WUNTRACED);
	T(S(kill, c, SIGCONT));
	sigchld_wait("after SIGCONT");
	WAIT("wait4(c, WNOHANG) (continued, not asked for)", c, WNOHANG);
	WAIT("wait4(c, WCONTINUED)", c, WCONTINUED);
	WAIT("wait4(c, WNOHANG | WCONTINUED) again", c, WNOHANG | WCONTINUED);

	say("-- a signal that kills waits for SIGCONT; SIGKILL does not");
	T(S(kill, c, SIGTSTP));
	WAIT("wait4(c, WUNTRACED) after SIGTSTP", c, WUNTRACED);
	sigchld_wait("after SIGTSTP");
	T(S(kill, c, SIGTERM));
	WAIT("wait4(c, WNOHANG) after SIGTERM (still stopped)", c, WNOHANG);
	T(S(kill, c, SIGCONT));
	WAIT("wait4(c, 0) after SIGCONT", c, 0);
	sigchld("after its death");

	long d = spawn_child();
	T(S(kill, d, SIGSTOP));
	WAIT("wait4(d, WUNTRACED)", d, WUNTRACED);
	sigchld_wait("after the stop of d");
	T(S(kill, d, SIGKILL));
	WAIT("wait4(d, 0) after SIGKILL", d, 0);
	sigchld("after SIGKILL");
}

static void test_waitid(void)
{
	say("-- waitid WSTOPPED / WCONTINUED");
	long c = spawn_child();
	siginfo_t info;
	T(S(kill, c, SIGSTOP));
	memset(&info, 0, sizeof info);
	T(S(waitid, P_PID, c, &info, WSTOPPED, 0));
	say("  si_code %s, si_status %d, si_pid is c: %s",
	    info.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other", info.si_status, yesno(info.si_pid == c));
	T(S(kill, c, SIGCONT));
	memset(&info, 0, sizeof info);
	T(S(waitid, P_PID, c, &info, WCONTINUED | WNOWAIT, 0));
	say("  WNOWAIT: si_code %s, si_status %d",
	    info.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : "other", info.si_status);
	memset(&info, 0, sizeof info);
	T(S(waitid, P_PID, c, &info, WCONTINUED, 0));
	say("  again: si_code %s", info.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : "other");
	T(S(kill, c, SIGKILL));
	WAIT("wait4(c, 0)", c, 0);
	sigchld("after all that");
}

static void test_not_stopping(void)
{
	say("-- SA_NOCLDSTOP; SIGTSTP ignored does not stop");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDSTOP;
	T(sigaction(SIGCHLD, &sa, NULL));
	long c = spawn_child();
	T(S(kill, c, SIGSTOP));
	WAIT("wait4(c, WUNTRACED)", c, WUNTRACED);
	sigchld("with SA_NOCLDSTOP");
	T(S(kill, c, SIGCONT));
	WAIT("wait4(c, WCONTINUED)", c, WCONTINUED);
	T(S(kill, c, SIGKILL));
	WAIT("wait4(c, 0)", c, 0);
	sigchld("after SIGKILL, SA_NOCLDSTOP");
	sa.sa_flags = 0;
	T(sigaction(SIGCHLD, &sa, NULL));

	long pid = S(fork);
	if (pid == 0) {
		signal(SIGTSTP, SIG_IGN);
		/* Tell the parent it is ignoring now. */
		S(kill, getppid(), SIGUSR1);
		child_loop();
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	int sig;
	sigwait(&set, &sig);
	T(S(kill, pid, SIGTSTP));
	T(S(kill, pid, SIGUSR2));
	WAIT("wait4(pid, WUNTRACED) (SIGTSTP ignored, SIGUSR2 kills)", pid, WUNTRACED);
	sigchld("after SIGUSR2");
}

static void test_groups(void)
{
	say("-- process groups");
	long me = S(getpid);
	long a = spawn_child();
	long b = spawn_in(a);
	T(S(setpgid, a, a));
	T(S(setpgid, b, a));
	say("getpgid(a) is a: %s", yesno(S(getpgid, a) == a));
	say("getpgid(b) is a: %s", yesno(S(getpgid, b) == a));
	say("getpgid(0) is getpgrp(): %s", yesno(S(getpgid, 0) == S(getpgrp)));
	say("a's group is not ours: %s", yesno(S(getpgid, a) != S(getpgid, 0)));
	say("errors:");
	T(S(getpgid, 0x3fffffff));
	T(S(getpgid, -1));
	T(S(setpgid, 0, -1));
	T(S(setpgid, -1, 0));
	T(S(setpgid, 0x3fffffff, 0));
	T(S(setpgid, 0, 0x3fffffff));
	T(S(kill, -0x3fffffff, 0));
	say("kill(-a, SIGSTOP) stops both:");
	T(S(kill, -a, SIGSTOP));
	WAIT("wait4(-a, WUNTRACED) 1", -a, WUNTRACED);
	WAIT("wait4(-a, WUNTRACED) 2", -a, WUNTRACED);
	WAIT("wait4(-a, WNOHANG | WUNTRACED) 3", -a, WNOHANG | WUNTRACED);
	sigchld_wait("after the group stopped");
	T(S(kill, -a, SIGCONT));
	WAIT("wait4(-a, WCONTINUED) 1", -a, WCONTINUED);
	WAIT("wait4(-a, WCONTINUED) 2", -a, WCONTINUED);
	T(S(kill, -a, SIGKILL));
	WAIT("wait4(-a, 0) 1", -a, 0);
	WAIT("wait4(-a, 0) 2", -a, 0);
	WAIT("wait4(-a, 0) none left", -a, 0);
	say("still in our own group: %s", yesno(S(getpgid, 0) == S(getpgid, me)));

	say("-- setsid");
	long pid = S(fork);
	if (pid == 0) {
		long r = S(setsid);
		say("child: setsid() is its pid: %s", yesno(r == S(getpid)));
		say("child: getpgid(0) is its pid: %s", yesno(S(getpgid, 0) == S(getpid)));
		T(S(setsid));
		_exit(0);
	}
	WAIT("wait4(pid, 0)", pid, 0);
}

int main(void)
{
	begin("jobctl");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	test_stop_continue();
	test_waitid();
	test_not_stopping();
	test_groups();
	return 0;
}
