/*
 * Signals sent to a process with threads, where every thread blocked them
 * when they came: they wait for the process, not for the thread that
 * happened to keep them. A thread that sigwaits for one takes it; a thread
 * that unblocks one gets it; sigpending in any thread shows it; an alarm
 * reaches the one thread that does not block SIGALRM; kill() of a thread's
 * id signals its process. Only relations are printed, never tid numbers.
 */
#include "conformance.h"
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t handled_in_main, handled_elsewhere, usr2s;
static pid_t main_tid;
static volatile pid_t worker_tid;

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

static void on_alarm(int sig)
{
	(void)sig;
	if (tid() == main_tid)
		handled_in_main++;
	else
		handled_elsewhere++;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2s++;
}

static int waited_r = -1, waited_sig;

static void *sigwaiter(void *arg)
{
	sigset_t set;
	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	waited_r = sigwait(&set, (int *)&waited_sig);
	return NULL;
}

static void test_sigwait_in_another_thread(void)
{
	sigset_t set;
	pthread_t t;
	say("-- a signal every thread blocks waits for the process: a later sigwait in a thread takes it");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	/* Sent before the thread exists: pending for the process. */
	OK(kill(getpid(), SIGUSR1));
	OK(pthread_create(&t, NULL, sigwaiter, NULL));
	OK(pthread_join(t, NULL));
	say("worker sigwait: %d, got SIGUSR1: %s", waited_r, yesno(waited_sig == SIGUSR1));
	sigset_t pend;
	sigemptyset(&pend);
	OK(sigpending(&pend));
	say("still pending in main: %s", yesno(sigismember(&pend, SIGUSR1)));
}

static volatile int go_unblock, unblocked_done;

static void *unblocker(void *arg)
{
	sigset_t set;
	(void)arg;
	worker_tid = tid();
	while (!__atomic_load_n(&go_unblock, __ATOMIC_SEQ_CST))
		sched_yield();
	sigset_t pend;
	sigemptyset(&pend);
	sigpending(&pend);
	say("worker sees it pending: %s", yesno(sigismember(&pend, SIGUSR2)));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	say("worker's handler ran once it unblocked: %d", (int)usr2s);
	__atomic_store_n(&unblocked_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_unblock_takes_it(void)
{
	sigset_t set;
	pthread_t t;
	struct sigaction sa = { .sa_handler = on_usr2 };
	say("-- a thread that unblocks a signal its process kept gets it");
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGUSR2, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	OK(pthread_create(&t, NULL, unblocker, NULL));
	while (worker_tid == 0)
		sched_yield();
	OK(kill(getpid(), SIGUSR2));
	__atomic_store_n(&go_unblock, 1, __ATOMIC_SEQ_CST);
	OK(pthread_join(t, NULL));
	say("handlers run: %d", (int)usr2s);
	sigset_t pend;
	sigemptyset(&pend);
	OK(sigpending(&pend));
	say("pending in main afterwards: %s", yesno(sigismember(&pend, SIGUSR2)));
}

static volatile int stop_spinning;

static void *blocked_spinner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_spinning, __ATOMIC_SEQ_CST))
		;
	return NULL;
}

static void test_alarm_to_the_thread_that_takes_it(void)
{
	sigset_t all, alrm;
	pthread_t t;
	struct sigaction sa = { .sa_handler = on_alarm };
	say("-- an alarm goes to the thread that does not block SIGALRM, though another one runs");
	sigemptyset(&sa.sa_mask);
	OK(sigaction(SIGALRM, &sa, NULL));
	sigfillset(&all);
	sigset_t old;
	OK(pthread_sigmask(SIG_BLOCK, &all, &old));
	/* The spinner starts with every signal blocked and computes. */
	OK(pthread_create(&t, NULL, blocked_spinner, NULL));
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	OK(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL));
	struct itimerval it = { { 0, 0 }, { 0, 30000 } };
	OK(setitimer(ITIMER_REAL, &it, NULL));
	sigset_t none;
	sigemptyset(&none);
	sigsuspend(&none);
	say("handled in main: %d, elsewhere: %d", (int)handled_in_main, (int)handled_elsewhere);
	__atomic_store_n(&stop_spinning, 1, __ATOMIC_SEQ_CST);
	OK(pthread_join(t, NULL));
	OK(pthread_sigmask(SIG_SETMASK, &old, NULL));
}

static volatile int stop_waiting;

static void *idle_thread(void *arg)
{
	(void)arg;
	worker_tid = tid();
	while (!__atomic_load_n(&stop_waiting, __ATOMIC_SEQ_CST))
		sched_yield();
	return NULL;
}

static void test_kill_by_thread_id(void)
{
	pthread_t t;
	sigset_t set, pend;
	say("-- kill() of a thread's id signals its process");
	worker_tid = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	OK(pthread_create(&t, NULL, idle_thread, NULL));
	while (worker_tid == 0)
		sched_yield();
	say("thread id is not the pid: %s", yesno(worker_tid != getpid()));
	OK(kill(worker_tid, SIGUSR1));
	sigemptyset(&pend);
	OK(sigpending(&pend));
	say("pending for the process: %s", yesno(sigismember(&pend, SIGUSR1)));
	int sig = 0;
	OK(sigwait(&set, &sig));
	say("taken by main's sigwait: %s", yesno(sig == SIGUSR1));
	__atomic_store_n(&stop_waiting, 1, __ATOMIC_SEQ_CST);
	OK(pthread_join(t, NULL));
}

int main(void)
{
	main_tid = tid();
	test_sigwait_in_another_thread();
	test_unblock_takes_it();
	test_alarm_to_the_thread_that_takes_it();
	test_kill_by_thread_id();
	return 0;
}
