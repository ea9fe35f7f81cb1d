/*
 * Preemption: CPU-bound processes share the CPU. A parent that computes
 * and then spins waiting for its child's signal only ends if the child
 * runs meanwhile (without a timer that preempts it would spin for ever);
 * both compute long floating-point sums at the same time, which come out
 * exact only if each keeps its own SSE registers across switches. A sleep
 * ends while another process spins, and the sleeper can then kill it.
 *
 * The parent prints only after the child is reaped: one order.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* Long enough (tens of milliseconds on QEMU's software CPU) that the two
 * sums overlap across several ticks. */
#define N 4000000

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

/* The sum kept in registers: SSE state that a switch must preserve. */
static double harmonic(long n, double scale)
{
	double s = 0, c = 0;
	for (long i = 1; i <= n; i++) {
		/* Kahan: any corrupted register shows in the last digits. */
		double y = scale / (double)i - c;
		double t = s + y;
		c = (t - s) - y;
		s = t;
	}
	return s;
}

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		say("%s: exited %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d", what, WTERMSIG(st));
	else
		say("%s: other status %#x", what, st);
}

static void spinning_parent(void)
{
	int fds[2];
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	say("-- a parent spins until its child, which computes too, signals it");
	OK(sigaction(SIGUSR1, &sa, NULL));
	OK(pipe(fds));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		double s = harmonic(N, 3.0);
		char buf[64];
		int n = snprintf(buf, sizeof buf, "%.17g", s);
		if (write(fds[1], buf, n) != n)
			_exit(1);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	double mine = harmonic(N, 1.0);
	while (!got) {
		/* CPU-bound: no system call that could let the child run. */
	}
	char buf[64] = { 0 };
	T(read(fds[0], buf, sizeof buf - 1));
	int st;
	T(waitpid(pid, &st, 0) == pid);
	show_status("child", st);
	say("parent sum: %.17g", mine);
	say("child sum:  %s", buf);
	say("parent sum again: %.17g", harmonic(N, 1.0));
	say("child sum again:  %.17g", harmonic(N, 3.0));
	close(fds[0]);
	close(fds[1]);
}

static void sleep_while_spinning(void)
{
	say("-- a sleep ends while a child spins, then kills it");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
		}
	}
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	T(nanosleep(&ts, NULL));
	ts.tv_nsec = 10 * 1000 * 1000;
	T(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
	struct timespec now;
	OK(clock_gettime(CLOCK_MONOTONIC, &now));
	now.tv_nsec += 10 * 1000 * 1000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	T(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL));
	T(kill(pid, SIGKILL));
	int st;
	T(waitpid(pid, &st, 0) == pid);
	show_status("spinning child", st);
}

int main(void)
{
	spinning_parent();
	sleep_while_spinning();
	return 0;
}
