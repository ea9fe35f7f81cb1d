/*
 * POSIX timers through the raw calls: timer_create (SIGEV_SIGNAL,
 * SIGEV_NONE, a null sevp; CLOCK_MONOTONIC and CLOCK_REALTIME),
 * timer_settime (relative, TIMER_ABSTIME, periodic), timer_gettime,
 * timer_getoverrun, timer_delete, and their errors. The signals reach an
 * SA_SIGINFO handler, which records si_code, si_value, si_timerid and
 * si_overrun; a signal kept blocked while a periodic timer expires again
 * and again arrives once, with the expiries it missed as its overrun.
 *
 * Times are printed only as relations, and timer ids only as compared
 * with what the handler saw (their values are the kernel's business).
 */
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t fired;
static volatile int got_signo, got_code, got_value, got_timerid, got_overrun, got_getoverrun;
static int stop_id = -1;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (fired++ == 0) {
		got_signo = sig;
		got_code = si->si_code;
		got_value = si->si_value.sival_int;
		got_timerid = si->si_timerid;
		got_overrun = si->si_overrun;
		got_getoverrun = (int)S(timer_getoverrun, si->si_timerid);
	}
	if (stop_id >= 0) {
		struct itimerspec zero = { { 0, 0 }, { 0, 0 } };
		S(timer_settime, stop_id, 0, &zero, NULL);
	}
}

static void catch(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		say("sigaction failed: %s", errname(errno));
}

static int create(clockid_t clock, int notify, int signo, int value)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = notify;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_int = value;
	int id = -1;
	if (S(timer_create, clock, &sev, &id) != 0)
		say("timer_create failed: %s", errname(errno));
	return id;
}

static long arm(int id, int flags, long value_ns, long interval_ns)
{
	struct itimerspec its = { { interval_ns / 1000000000L, interval_ns % 1000000000L },
				  { value_ns / 1000000000L, value_ns % 1000000000L } };
	return S(timer_settime, id, flags, &its, NULL);
}

static long ns_of(struct timespec t)
{
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Waits for a handler to run, with every signal allowed meanwhile. */
static void wait_fired(void)
{
	sigset_t none;
	sigemptyset(&none);
	while (!fired)
		sigsuspend(&none);
}

static void show_fired(int id)
{
	say("  fired %s: signo %d, si_code SI_TIMER %s, si_value %d, si_timerid is the id %s, si_overrun %d",
	    yesno(fired > 0), got_signo, yesno(got_code == SI_TIMER), got_value, yesno(got_timerid == id),
	    got_overrun);
}

static void test_errors(void)
{
	struct sigevent sev;
	struct itimerspec its = { { 0, 0 }, { 1, 0 } };
	int id = -1;
	say("-- errors");
	T(S(timer_create, 99, NULL, &id));
	T(S(timer_create, CLOCK_MONOTONIC_RAW, NULL, &id));
	T(S(timer_create, CLOCK_MONOTONIC_COARSE, NULL, &id));
	T(S(timer_create, CLOCK_MONOTONIC, BAD_NULL1, &id));
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 0;
	TL("signal 0", S(timer_create, CLOCK_MONOTONIC, &sev, &id));
	sev.sigev_signo = 65;
	TL("signal 65", S(timer_create, CLOCK_MONOTONIC, &sev, &id));
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = 3;
	TL("notify 3", S(timer_create, CLOCK_MONOTONIC, &sev, &id));
	/* The kernel's sigevent: the libcs name the thread id differently. */
	struct {
		union sigval value;
		int signo, notify, tid, pad[11];
	} ksev = { .signo = SIGUSR1, .notify = SIGEV_THREAD_ID, .tid = 0x7ffffff0 };
	TL("another thread", S(timer_create, CLOCK_MONOTONIC, &ksev, &id));
	sev.sigev_notify = SIGEV_NONE;
	TL("id unwritable", S(timer_create, CLOCK_MONOTONIC, &sev, BAD_NULL1));

	id = create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	T(S(timer_settime, id, 0, NULL, NULL));
	T(S(timer_settime, id, 0, BAD_NULL1, NULL));
	its.it_value.tv_nsec = 1000000000L;
	T(S(timer_settime, id, 0, &its, NULL));
	its.it_value.tv_nsec = 0;
	its.it_interval.tv_sec = -1;
	T(S(timer_settime, id, 0, &its, NULL));
	its.it_interval.tv_sec = 0;
	T(S(timer_settime, id + 1000, 0, &its, NULL));
	T(S(timer_settime, -1, 0, &its, NULL));
	T(S(timer_settime, id, 0, &its, BAD_NULL1));
	struct itimerspec cur;
	OK(S(timer_gettime, id, &cur));
	say("  armed although old was unwritable: %s", yesno(ns_of(cur.it_value) > 0));
	T(S(timer_gettime, id, BAD_NULL1));
	T(S(timer_gettime, id + 1000, &cur));
	T(S(timer_getoverrun, id));
	T(S(timer_getoverrun, id + 1000));
	T(S(timer_delete, id));
	T(S(timer_delete, id));
	T(S(timer_gettime, id, &cur));
}

static void test_values(void)
{
	struct itimerspec its, old, cur;
	struct timespec now;
	say("-- values");
	catch(SIGUSR1);
	int id = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0);
	OK(S(timer_gettime, id, &cur));
	say("  new: %ld %ld", ns_of(cur.it_interval), ns_of(cur.it_value));
	OK(arm(id, 0, 10000000000L, 2500000000L));
	OK(S(timer_gettime, id, &cur));
	say("  interval %ld, value in (9, 10] s: %s", ns_of(cur.it_interval),
	    yesno(ns_of(cur.it_value) > 9000000000L && ns_of(cur.it_value) <= 10000000000L));
	memset(&its, 0, sizeof its);
	OK(S(timer_settime, id, 0, &its, &old));
	say("  old interval %ld, old value in (9, 10] s: %s", ns_of(old.it_interval),
	    yesno(ns_of(old.it_value) > 9000000000L && ns_of(old.it_value) <= 10000000000L));
	OK(S(timer_gettime, id, &cur));
	say("  disarmed: %ld %ld", ns_of(cur.it_interval), ns_of(cur.it_value));
	OK(S(timer_delete, id));
	/* SIGEV_NONE (not disarmed here: Linux then still reports the old
	 * expiry's time left). */
	id = create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	/* An absolute time long past: expired at once, and over. */
	OK(arm(id, TIMER_ABSTIME, 1000000000L, 0));
	OK(S(timer_gettime, id, &cur));
	say("  absolute, past, once: %ld %ld", ns_of(cur.it_interval), ns_of(cur.it_value));
	/* Periodic: the time to the next period. */
	OK(arm(id, TIMER_ABSTIME, 1000000000L, 1000000000L));
	OK(S(timer_gettime, id, &cur));
	say("  absolute, past, periodic: value in (0, 1] s: %s",
	    yesno(ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= 1000000000L));
	T(S(timer_getoverrun, id));
	OK(S(timer_delete, id));

	id = create(CLOCK_REALTIME, SIGEV_NONE, 0, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	OK(arm(id, TIMER_ABSTIME, ns_of(now) + 10000000000L, 0));
	OK(S(timer_gettime, id, &cur));
	say("  CLOCK_REALTIME absolute, 10 s ahead: value in (9, 10] s: %s",
	    yesno(ns_of(cur.it_value) > 9000000000L && ns_of(cur.it_value) <= 10000000000L));
	OK(S(timer_delete, id));
}

static void test_signals(void)
{
	struct itimerspec cur;
	struct timespec now;
	say("-- SIGEV_SIGNAL: once, relative");
	catch(SIGUSR1);
	int id = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 1234);
	fired = 0;
	OK(arm(id, 0, 20000000L, 0));
	wait_fired();
	show_fired(id);
	OK(S(timer_gettime, id, &cur));
	say("  after: %ld %ld", ns_of(cur.it_interval), ns_of(cur.it_value));
	T(S(timer_getoverrun, id));
	OK(S(timer_delete, id));

	say("-- a null sevp: SIGALRM with the id as its value");
	catch(SIGALRM);
	id = -1;
	OK(S(timer_create, CLOCK_MONOTONIC, NULL, &id));
	fired = 0;
	OK(arm(id, 0, 20000000L, 0));
	wait_fired();
	/* The id's value is the kernel's own: only compared. */
	say("  fired %s: signo %d, si_code SI_TIMER %s, si_value is the id %s, si_timerid is the id %s",
	    yesno(fired > 0), got_signo, yesno(got_code == SI_TIMER), yesno(got_value == id),
	    yesno(got_timerid == id));
	OK(S(timer_delete, id));

	say("-- CLOCK_REALTIME, absolute");
	id = create(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR1, 77);
	clock_gettime(CLOCK_REALTIME, &now);
	fired = 0;
	OK(arm(id, TIMER_ABSTIME, ns_of(now) + 20000000L, 0));
	wait_fired();
	show_fired(id);
	OK(S(timer_delete, id));

	say("-- periodic: fires again and again");
	id = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 5);
	fired = 0;
	OK(arm(id, 0, 10000000L, 10000000L));
	sigset_t none;
	sigemptyset(&none);
	while (fired < 3)
		sigsuspend(&none);
	OK(S(timer_delete, id));
	say("  at least 3 signals: %s", yesno(fired >= 3));

	say("-- periodic while its signal is blocked: one signal, the rest as overrun");
	catch(SIGUSR2);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	OK(sigprocmask(SIG_BLOCK, &usr2, NULL));
	id = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, 9);
	fired = 0;
	stop_id = id; /* the handler disarms it */
	OK(arm(id, 0, 5000000L, 5000000L));
	struct timespec nap = { 0, 60000000L };
	while (nanosleep(&nap, &nap) != 0) {
	}
	say("  fired while blocked: %s", yesno(fired > 0));
	OK(sigprocmask(SIG_UNBLOCK, &usr2, NULL));
	say("  fired %s, signo %d, si_value %d, si_overrun > 0: %s, timer_getoverrun in the handler is si_overrun: %s",
	    yesno(fired > 0), got_signo, got_value, yesno(got_overrun > 0), yesno(got_getoverrun == got_overrun));
	stop_id = -1;
	OK(S(timer_delete, id));
}

static void test_fork_and_kill(void)
{
	say("-- fork: the child has none of its parent's timers; an uncaught timer signal kills");
	int id = create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerspec cur;
		T(S(timer_gettime, id, &cur));
		fflush(stdout);
		signal(SIGUSR1, SIG_DFL);
		int mine = create(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0);
		arm(mine, 0, 20000000L, 0);
		for (;;)
			S(pause);
	}
	int st;
	T(waitpid(pid, &st, 0) == pid);
	say("child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	OK(S(timer_delete, id));
}

int main(void)
{
	test_errors();
	test_values();
	test_signals();
	test_fork_and_kill();
	return 0;
}
