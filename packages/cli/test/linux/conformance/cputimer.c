/*
 * The CPU-time interval timers: ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF
 * (SIGPROF) through setitimer/getitimer. They count only the time the
 * program runs: a sleep leaves them as they were; a program that computes
 * gets the signal, again and again from a periodic one; an uncaught
 * SIGVTALRM kills.
 *
 * Times are printed only as relations.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t vt, prof;

static void on_vt(int sig)
{
	(void)sig;
	vt++;
}

static void on_prof(int sig)
{
	(void)sig;
	prof++;
}

static long us_of(struct timeval t)
{
	return t.tv_sec * 1000000L + t.tv_usec;
}

static void test_values(int which, const char *name)
{
	struct itimerval it, old;
	say("-- %s: values", name);
	OK(getitimer(which, &it));
	say("  unset: %ld %ld", us_of(it.it_interval), us_of(it.it_value));
	struct itimerval set = { { 2, 500000 }, { 10, 0 } };
	OK(setitimer(which, &set, NULL));
	OK(getitimer(which, &it));
	/* Linux adds a tick (its own length) to the value set. */
	say("  interval %ld, value in (9.9, 10.1] s: %s", us_of(it.it_interval),
	    yesno(us_of(it.it_value) > 9900000L && us_of(it.it_value) <= 10100000L));
	/* A sleep uses no CPU time. */
	struct timespec nap = { 0, 50000000L };
	nanosleep(&nap, NULL);
	OK(getitimer(which, &it));
	say("  after a 50 ms sleep, over 9.9 s left: %s", yesno(us_of(it.it_value) > 9900000L));
	memset(&set, 0, sizeof set);
	OK(setitimer(which, &set, &old));
	say("  old interval %ld, old value in (9.9, 10.1] s: %s", us_of(old.it_interval),
	    yesno(us_of(old.it_value) > 9900000L && us_of(old.it_value) <= 10100000L));
	OK(getitimer(which, &it));
	say("  disarmed: %ld %ld", us_of(it.it_interval), us_of(it.it_value));
	set.it_value.tv_usec = 1000000;
	T(setitimer(which, &set, NULL));
	T(getitimer(which, BAD_NULL1));
}

static void test_signals(void)
{
	say("-- a program that computes gets the signals");
	signal(SIGVTALRM, on_vt);
	signal(SIGPROF, on_prof);
	struct itimerval once = { { 0, 0 }, { 0, 20000 } };
	OK(setitimer(ITIMER_VIRTUAL, &once, NULL));
	while (!vt) {
	}
	say("  SIGVTALRM: %d", (int)vt);
	struct itimerval it;
	OK(getitimer(ITIMER_VIRTUAL, &it));
	say("  once: disarmed after it: %ld %ld", us_of(it.it_interval), us_of(it.it_value));
	struct itimerval periodic = { { 0, 10000 }, { 0, 10000 } };
	OK(setitimer(ITIMER_PROF, &periodic, NULL));
	while (prof < 3) {
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	OK(setitimer(ITIMER_PROF, &off, NULL));
	say("  at least 3 SIGPROF: %s", yesno(prof >= 3));
	signal(SIGVTALRM, SIG_DFL);
	signal(SIGPROF, SIG_DFL);
}

static void test_kill(void)
{
	say("-- an uncaught SIGVTALRM kills; a fork child has no timers");
	struct itimerval set = { { 0, 0 }, { 100, 0 } };
	OK(setitimer(ITIMER_VIRTUAL, &set, NULL));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerval it;
		getitimer(ITIMER_VIRTUAL, &it);
		say("  child's: %ld %ld", us_of(it.it_interval), us_of(it.it_value));
		fflush(stdout);
		struct itimerval once = { { 0, 0 }, { 0, 20000 } };
		setitimer(ITIMER_VIRTUAL, &once, NULL);
		for (;;) {
		}
	}
	int st;
	T(waitpid(pid, &st, 0) == pid);
	say("child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	OK(setitimer(ITIMER_VIRTUAL, &off, NULL));
}

int main(void)
{
	test_values(ITIMER_VIRTUAL, "ITIMER_VIRTUAL");
	test_values(ITIMER_PROF, "ITIMER_PROF");
	T(setitimer(3, NULL, NULL));
	struct itimerval it;
	T(getitimer(3, &it));
	test_signals();
	test_kill();
	return 0;
}
