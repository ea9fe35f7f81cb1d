/*
 * Real-time signals queued with their values: sigqueue (rt_sigqueueinfo)
 * to the process itself and to another; every real-time signal sent is
 * delivered once, in order, with its si_value, si_code SI_QUEUE, si_pid
 * and si_uid, while a standard signal stays one pending; sigwaitinfo and
 * sigtimedwait (rt_sigtimedwait) take pending signals of a set, block
 * until one comes (from a POSIX timer here), end with EAGAIN when the
 * timeout passes and with EINTR when another signal runs a handler; and
 * the errors of both calls.
 *
 * Signal numbers are printed relative to the C library's SIGRTMIN (glibc
 * and musl keep different numbers for themselves); pids and uids only as
 * compared.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static void name_sig(char *buf, int sig)
{
	if (sig >= SIGRTMIN)
		sprintf(buf, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		sprintf(buf, "%d", sig);
}

static void show(const char *label, int sig, const siginfo_t *si)
{
	char n[32];
	name_sig(n, sig);
	say("  %s: %s, si_signo %s, si_code SI_QUEUE %s, si_value %d, si_pid mine %s, si_uid mine %s", label, n,
	    yesno(si->si_signo == sig), yesno(si->si_code == SI_QUEUE), si->si_value.sival_int,
	    yesno(si->si_pid == getpid()), yesno(si->si_uid == getuid()));
}

/* Takes every pending signal of `set` at once (a zero timeout). */
static void drain(const sigset_t *set)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof si);
		int sig = sigtimedwait(set, &si, &zero);
		if (sig < 0) {
			say("  then: %s", errname(errno));
			return;
		}
		show("took", sig, &si);
	}
}

static void test_queue(void)
{
	sigset_t set;
	say("-- queued: each real-time signal once, in order; a standard one once");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGRTMIN + 4);
	OK(sigprocmask(SIG_BLOCK, &set, NULL));
	for (int v = 1; v <= 3; v++) {
		OK(sigqueue(getpid(), SIGRTMIN + 4, (union sigval){ .sival_int = 40 + v }));
		OK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = v }));
		OK(sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 10 + v }));
	}
	sigset_t pend;
	sigpending(&pend);
	say("  pending: SIGUSR1 %s, SIGRTMIN+1 %s, SIGRTMIN+4 %s", yesno(sigismember(&pend, SIGUSR1)),
	    yesno(sigismember(&pend, SIGRTMIN + 1)), yesno(sigismember(&pend, SIGRTMIN + 4)));
	drain(&set);
	sigpending(&pend);
	say("  pending after: %s", yesno(sigismember(&pend, SIGRTMIN + 1)));
	say("-- kill queues real-time signals too (SI_USER)");
	OK(kill(getpid(), SIGRTMIN + 1));
	OK(kill(getpid(), SIGRTMIN + 1));
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	for (int i = 0; i < 3; i++) {
		int sig = sigtimedwait(&set, &si, &zero);
		if (sig < 0)
			say("  then: %s", errname(errno));
		else
			say("  took SIGRTMIN+%d, SI_USER %s, si_pid mine %s", sig - SIGRTMIN, yesno(si.si_code == SI_USER),
			    yesno(si.si_pid == getpid()));
	}
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static volatile int seen[8];
static volatile sig_atomic_t nseen;
static volatile int seen_code;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (nseen < 8)
		seen[nseen] = si->si_value.sival_int;
	seen_code = si->si_code;
	nseen++;
}

static void test_handler(void)
{
	sigset_t set;
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
	say("-- an SA_SIGINFO handler gets each queued one, in order");
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGRTMIN + 2, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	OK(sigprocmask(SIG_BLOCK, &set, NULL));
	for (int v = 1; v <= 4; v++)
		OK(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 100 * v }));
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	say("  handled %d: %d %d %d %d, SI_QUEUE %s", (int)nseen, seen[0], seen[1], seen[2], seen[3],
	    yesno(seen_code == SI_QUEUE));
	signal(SIGRTMIN + 2, SIG_DFL);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_wait(void)
{
	sigset_t set;
	siginfo_t si;
	say("-- sigtimedwait: timeout, EINTR, a timer's signal");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 3);
	OK(sigprocmask(SIG_BLOCK, &set, NULL));
	struct timespec ts = { 0, 30000000L };
	T(sigtimedwait(&set, &si, &ts));
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	OK(setitimer(ITIMER_REAL, &it, NULL));
	ts.tv_sec = 5;
	/* EINTR even with SA_RESTART (the raw call: musl's sigtimedwait
	 * tries again after EINTR). */
	T(S(rt_sigtimedwait, &set, &si, &ts, 8));
	say("  alarm handlers: %d", (int)alarms);

	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 3;
	sev.sigev_value.sival_int = 42;
	timer_t t;
	OK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	struct itimerspec its = { { 0, 0 }, { 0, 20000000L } };
	OK(timer_settime(t, 0, &its, NULL));
	memset(&si, 0, sizeof si);
	int sig = sigwaitinfo(&set, &si);
	say("  sigwaitinfo: SIGRTMIN+%d, SI_TIMER %s, si_value %d, si_overrun %d", sig - SIGRTMIN,
	    yesno(si.si_code == SI_TIMER), si.si_value.sival_int, si.si_overrun);
	OK(timer_delete(t));
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static void test_errors(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec ts = { 0, 1000000000L };
	say("-- errors");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	T(S(rt_sigtimedwait, &set, &si, &ts, 8));
	ts.tv_nsec = 0;
	T(S(rt_sigtimedwait, &set, &si, &ts, 4));
	T(S(rt_sigtimedwait, BAD_NULL1, &si, &ts, 8));
	T(S(rt_sigtimedwait, &set, &si, BAD_NULL1, 8));
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 5;
	T(S(rt_sigqueueinfo, getpid(), 65, &si));
	T(S(rt_sigqueueinfo, getpid(), SIGUSR2, BAD_NULL1));
	T(S(rt_sigqueueinfo, 0x7ffffff0, SIGUSR2, &si));
	T(S(rt_sigqueueinfo, getpid(), 0, &si));
	si.si_code = SI_USER;
	OK(sigprocmask(SIG_BLOCK, &set, NULL));
	TL("SI_USER to itself", S(rt_sigqueueinfo, getpid(), SIGUSR2, &si));
	struct timespec zero = { 0, 0 };
	memset(&si, 0, sizeof si);
	int sig = sigtimedwait(&set, &si, &zero);
	say("  took %d, si_code %d", sig, si.si_code);
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static void test_other(void)
{
	sigset_t set;
	int fds[2];
	char c;
	say("-- to another process");
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	OK(sigprocmask(SIG_BLOCK, &set, NULL));
	OK(pipe(fds));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (write(fds[1], "r", 1) != 1)
			_exit(9);
		for (int i = 0; i < 3; i++) {
			siginfo_t si;
			memset(&si, 0, sizeof si);
			int sig = sigwaitinfo(&set, &si);
			say("  child took SIGRTMIN+%d, SI_QUEUE %s, si_value %d, from its parent %s", sig - SIGRTMIN,
			    yesno(si.si_code == SI_QUEUE), si.si_value.sival_int, yesno(si.si_pid == getppid()));
		}
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		say("no child");
	for (int v = 1; v <= 3; v++)
		OK(sigqueue(pid, SIGRTMIN + 1, (union sigval){ .sival_int = 70 + v }));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = SI_USER;
	TL("SI_USER to another", S(rt_sigqueueinfo, pid, SIGRTMIN + 1, &si));
	si.si_code = SI_TKILL;
	TL("SI_TKILL to another", S(rt_sigqueueinfo, pid, SIGRTMIN + 1, &si));
	si.si_code = SI_KERNEL;
	TL("SI_KERNEL to another", S(rt_sigqueueinfo, pid, SIGRTMIN + 1, &si));
	int st;
	T(waitpid(pid, &st, 0) == pid);
	say("child exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

int main(void)
{
	test_queue();
	test_handler();
	test_wait();
	test_errors();
	test_other();
	return 0;
}
