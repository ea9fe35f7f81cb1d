/*
 * Signals that interrupt blocked system calls, and the timer that sends
 * them: alarm, setitimer/getitimer (ITIMER_REAL), pause. A handler without
 * SA_RESTART makes a blocked read fail with EINTR; with SA_RESTART the read
 * starts over and gets what the handler wrote; nanosleep is EINTR either
 * way and says how long was left; pause and rt_sigsuspend always return
 * EINTR (rt_sigsuspend with the old mask back after the handler); a periodic
 * timer fires again and again; an uncaught SIGALRM kills.
 *
 * Times are printed only as relations (the exact values differ run to
 * run). The handlers write into a pipe the interrupted call reads, so the
 * order of events is fixed.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t alarms;
static int wfd = -1;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	if (wfd >= 0) {
		char c = 'h';
		if (write(wfd, &c, 1) != 1)
			_exit(9);
	}
}

static void catch_alarm(int flags)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		say("sigaction failed: %s", errname(errno));
}

/* ITIMER_REAL once, `ms` milliseconds from now. */
static long arm_ms(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	return S(setitimer, ITIMER_REAL, &it, NULL);
}

static void test_alarm_values(void)
{
	struct itimerval it, old;
	say("-- alarm, setitimer, getitimer: values");
	T(alarm(5));
	T(alarm(0)); /* 5 left: rounded to the nearest second */
	T(alarm(0));
	OK(S(getitimer, ITIMER_REAL, &it));
	say("disarmed: %ld %ld %ld %ld", (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec,
	    (long)it.it_value.tv_sec, (long)it.it_value.tv_usec);
	struct itimerval set = { { 2, 500000 }, { 10, 0 } };
	OK(S(setitimer, ITIMER_REAL, &set, NULL));
	OK(S(getitimer, ITIMER_REAL, &it));
	say("interval kept: %ld %ld", (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec);
	say("value left in (9, 10] s: %s", yesno(it.it_value.tv_sec * 1000000L + it.it_value.tv_usec > 9000000L &&
						   it.it_value.tv_sec * 1000000L + it.it_value.tv_usec <= 10000000L));
	OK(S(setitimer, ITIMER_REAL, NULL, &old));
	say("old interval: %ld %ld", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
	OK(S(getitimer, ITIMER_REAL, &it));
	say("after a null new value: %ld %ld", (long)it.it_value.tv_sec, (long)it.it_value.tv_usec);
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	T(S(setitimer, ITIMER_REAL, &bad, NULL));
	bad.it_value.tv_usec = -1;
	T(S(setitimer, ITIMER_REAL, &bad, NULL));
	T(S(setitimer, ITIMER_REAL, BAD_NULL1, NULL));
	T(S(getitimer, ITIMER_REAL, BAD_NULL1));
	T(S(getitimer, 99, &it));
}

static void test_pause(void)
{
	say("-- pause ends with EINTR once a handler ran");
	catch_alarm(0);
	alarms = 0;
	OK(arm_ms(20));
	T(S(pause));
	say("handlers run: %d", (int)alarms);
	catch_alarm(SA_RESTART);
	OK(arm_ms(20));
	T(S(pause)); /* SA_RESTART does not restart pause */
	say("handlers run: %d", (int)alarms);
}

static volatile sig_atomic_t usr1s;

static void on_usr1(int sig)
{
	(void)sig;
	usr1s++;
}

static void show_blocked(const char *when)
{
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	say("  %s: SIGALRM blocked %s, SIGUSR1 blocked %s", when, yesno(sigismember(&now, SIGALRM)),
	    yesno(sigismember(&now, SIGUSR1)));
}

static void test_sigsuspend(void)
{
	sigset_t block, none;
	struct sigaction sa = { .sa_handler = on_usr1 };
	say("-- rt_sigsuspend: a handler ends it, the mask comes back");
	sigemptyset(&none);
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGUSR1, &sa, NULL));
	catch_alarm(SA_RESTART);
	OK(sigprocmask(SIG_BLOCK, &block, NULL));
	alarms = 0;
	OK(arm_ms(20));
	T(S(rt_sigsuspend, &none, 8));
	say("  alarm handlers run: %d", (int)alarms);
	show_blocked("after it");
	OK(kill(getpid(), SIGUSR1)); /* pending, blocked */
	T(S(rt_sigsuspend, &none, 8)); /* at once */
	say("  usr1 handlers run: %d", (int)usr1s);
	show_blocked("after it");
	T(S(rt_sigsuspend, &none, 4));
	T(S(rt_sigsuspend, BAD_NULL1, 8));
	OK(sigprocmask(SIG_UNBLOCK, &block, NULL));
	signal(SIGUSR1, SIG_DFL);
}

static void test_read(void)
{
	int fds[2];
	char buf[8] = { 0 };
	say("-- a read of an empty pipe, interrupted");
	OK(pipe(fds));
	wfd = fds[1];
	catch_alarm(0);
	OK(arm_ms(20));
	T(S(read, fds[0], buf, sizeof buf));
	T(S(read, fds[0], buf, sizeof buf)); /* what the handler wrote */
	say("  got '%c'", buf[0]);
	catch_alarm(SA_RESTART);
	buf[0] = 0;
	OK(arm_ms(20));
	T(S(read, fds[0], buf, sizeof buf)); /* restarted: gets it */
	say("  got '%c'", buf[0]);
	wfd = -1;
	close(fds[0]);
	close(fds[1]);
	/* A write into a full pipe that wrote some bytes returns their
	 * count, SA_RESTART or not; one that wrote none is EINTR. */
	static char big[100000];
	for (int flags = 0; flags <= SA_RESTART; flags += SA_RESTART) {
		say("-- a write bigger than the pipe, interrupted (%s)", flags ? "SA_RESTART" : "no SA_RESTART");
		OK(pipe(fds));
		catch_alarm(flags);
		OK(arm_ms(20));
		T(S(write, fds[1], big, sizeof big));
		if (!flags) {
			OK(arm_ms(20));
			T(S(write, fds[1], big, 1));
		}
		close(fds[0]);
		close(fds[1]);
	}
}

static void test_nanosleep(void)
{
	struct timespec req = { 3, 0 }, rem = { 0, 0 };
	say("-- nanosleep, interrupted: EINTR and the time left, SA_RESTART or not");
	for (int flags = 0; flags <= SA_RESTART; flags += SA_RESTART) {
		catch_alarm(flags);
		OK(arm_ms(20));
		T(S(nanosleep, &req, &rem));
		say("  left in (2, 3] s: %s", yesno(rem.tv_sec == 2 || (rem.tv_sec == 3 && rem.tv_nsec == 0)));
		rem.tv_sec = 0;
		rem.tv_nsec = 0;
		OK(arm_ms(20));
		T(S(clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem));
		say("  left in (2, 3] s: %s", yesno(rem.tv_sec == 2 || (rem.tv_sec == 3 && rem.tv_nsec == 0)));
	}
}

static void test_periodic(void)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	say("-- a periodic timer fires again and again");
	catch_alarm(0);
	alarms = 0;
	OK(S(setitimer, ITIMER_REAL, &it, NULL));
	while (alarms < 3)
		S(pause);
	OK(S(setitimer, ITIMER_REAL, NULL, NULL));
	/* A fourth may come before the timer is disarmed. */
	say("handlers run, at least 3: %s", yesno(alarms >= 3));
	/* A CPU-bound loop gets it too: only a timer tick can bring it. */
	alarms = 0;
	OK(arm_ms(20));
	while (alarms == 0) {
	}
	say("handlers run while computing: %d", (int)alarms);
}

static void test_kill(void)
{
	say("-- an uncaught SIGALRM kills");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		arm_ms(20);
		for (;;)
			S(pause);
	}
	int st;
	T(waitpid(pid, &st, 0) == pid);
	say("child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		arm_ms(20);
		for (;;) {
		}
	}
	T(waitpid(pid, &st, 0) == pid);
	say("computing child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

int main(void)
{
	test_alarm_values();
	test_pause();
	test_sigsuspend();
	test_read();
	test_nanosleep();
	test_periodic();
	test_kill();
	return 0;
}
