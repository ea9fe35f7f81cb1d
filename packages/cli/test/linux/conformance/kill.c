/*
 * kill, tkill, tgkill and rt_sigpending: a signal sent to ourselves while it
 * is blocked stays pending (it neither runs a handler nor kills us), setting
 * SIG_IGN discards it, a blocked signal whose default action is to ignore
 * is still queued until unblocked; signal 0 checks existence; errors for
 * bad pids, tids and signal numbers. Nothing here may end the program.
 */
#include "conformance.h"
#include <signal.h>

struct ksa {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	unsigned long mask;
};

#define BIT(sig) (1UL << ((sig) - 1))
#define K_SA_RESTORER 0x04000000UL

static void restorer(void) {}

static void pending(const char *when)
{
	unsigned long set = 0x5a;
	long r = S(rt_sigpending, &set, 8);
	if (r == -1)
		say("  rt_sigpending %s: -1 %s", when, errname(errno));
	else
		say("  pending %s: %#lx", when, set);
}

static void test_kill(void)
{
	unsigned long set = 0;
	struct ksa ign = { 1 /* SIG_IGN */, K_SA_RESTORER, (unsigned long)restorer, 0 };
	struct ksa dfl = { 0, 0, 0, 0 };
	long pid = S(getpid), tid = S(gettid);

	say("-- kill, tkill, tgkill, rt_sigpending");
	pending("at start");
	T(S(rt_sigpending, &set, 4));
	T(S(rt_sigpending, &set, 16));
	set = BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGCHLD);
	T(S(rt_sigprocmask, SIG_BLOCK, &set, NULL, 8));
	T(S(kill, pid, SIGUSR1));
	pending("after kill(self, SIGUSR1), blocked");
	T(S(tgkill, pid, tid, SIGUSR2));
	pending("after tgkill(self, self, SIGUSR2)");
	T(S(tkill, tid, SIGUSR1)); /* already pending: not queued twice */
	pending("after tkill(self, SIGUSR1)");
	T(S(rt_sigaction, SIGUSR1, &ign, NULL, 8));
	pending("after SIGUSR1 -> SIG_IGN (discarded)");
	T(S(rt_sigaction, SIGUSR2, &ign, NULL, 8));
	pending("after SIGUSR2 -> SIG_IGN");
	T(S(kill, pid, SIGCHLD)); /* default action: ignore */
	pending("after kill(self, SIGCHLD), blocked");
	T(S(rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8));
	pending("after unblocking (SIGCHLD ignored by default)");
	T(S(kill, pid, SIGUSR1)); /* ignored and not blocked: nothing happens */
	T(S(tgkill, pid, tid, SIGUSR2));
	pending("after signals to SIG_IGN");
	T(S(rt_sigaction, SIGUSR1, &dfl, NULL, 8));
	T(S(rt_sigaction, SIGUSR2, &dfl, NULL, 8));
	say("existence checks (signal 0):");
	T(S(kill, pid, 0));
	T(S(kill, 0, 0));
	T(S(tkill, tid, 0));
	T(S(tgkill, pid, tid, 0));
	say("errors:");
	T(S(kill, 0x3fffffff, 0));
	T(S(kill, pid, 65));
	T(S(kill, pid, -1));
	T(S(tkill, 0, 0));
	T(S(tkill, -1, 0));
	T(S(tkill, 0x3fffffff, 0));
	T(S(tkill, tid, 65));
	T(S(tgkill, 0, tid, 0));
	T(S(tgkill, pid, 0, 0));
	T(S(tgkill, pid, 0x3fffffff, 0));
	T(S(tgkill, 0x3fffffff, tid, 0));
	T(S(tgkill, pid, tid, 65));
	say("still running: %s", yesno(S(getpid) == pid));
}

int main(void)
{
	begin("kill");
	test_kill();
	say("== end");
	return 0;
}
