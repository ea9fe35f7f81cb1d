/*
 * futex(2) with threads: WAIT (value mismatch, relative timeouts, bad
 * timeouts), WAIT_BITSET with absolute CLOCK_MONOTONIC and
 * FUTEX_CLOCK_REALTIME timeouts, WAKE counts, WAKE_BITSET selection,
 * REQUEUE and CMP_REQUEUE, WAKE_OP, FUTEX_PRIVATE_FLAG, the errors (EINVAL,
 * ENOSYS, EFAULT) and a WAIT ended by a signal handler (EINTR, or restarted
 * under SA_RESTART).
 *
 * Counts are made deterministic without sleeping: waiters block on a word A
 * whose value never changes, and main proves they all sleep by moving them
 * with CMP_REQUEUE(A -> B, wake 0, requeue all) until it has moved them all
 * (a waiter is only ever moved while it sleeps). The calls under test then
 * act on B. Each woken waiter reports which it was.
 */
#include "conformance.h"
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

/* (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

#define F(addr, op, val, t, addr2, val3) S(futex, addr, op, val, t, addr2, val3)

static int A, B, C;

struct waiter {
	int idx;
	int *word;
	int op;                 /* FUTEX_WAIT or FUTEX_WAIT_BITSET, maybe | PRIVATE */
	unsigned bitset;
	long ret;
	int err;
};

static struct waiter ws[8];
static pthread_t th[8];
static volatile int woken;      /* how many waiters returned */
static volatile int woke_mask;  /* which ones */

static void *waiter(void *p)
{
	struct waiter *w = p;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* main may block it: the waiter takes it */
	errno = 0;
	w->ret = F(w->word, w->op, 0, NULL, NULL, w->bitset);
	w->err = errno;
	__atomic_or_fetch(&woke_mask, 1 << w->idx, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
	F(&woken, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return NULL;
}

/* Starts n waiters on A (value 0) with op and bitsets, and moves them all to `to` once they sleep. */
static void start(int first, int n, int op, const unsigned *bitsets, int *to)
{
	int moved = 0;
	for (int i = first; i < first + n; i++) {
		ws[i] = (struct waiter){ .idx = i, .word = &A, .op = op, .bitset = bitsets ? bitsets[i - first] : FUTEX_BITSET_MATCH_ANY };
		pthread_create(&th[i], NULL, waiter, &ws[i]);
	}
	int pop = (op & FUTEX_PRIVATE_FLAG) ? FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG : FUTEX_CMP_REQUEUE;
	while (moved < n) {
		long r = F(&A, pop, 0, (void *)(long)INT_MAX, to, 0);
		if (r < 0) {
			say("requeue to prove the waiters sleep failed: %s", errname(errno));
			exit(1);
		}
		moved += r;
		if (moved < n)
			sched_yield();
	}
	if (moved != n)
		say("moved %d waiters, expected %d", moved, n);
}

/* Waits until `n` waiters in all have returned. */
static void until_woken(int n)
{
	int v;
	while ((v = woken) < n)
		F(&woken, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void join(int first, int n)
{
	for (int i = first; i < first + n; i++)
		pthread_join(th[i], NULL);
}

static void show_woken(const char *what)
{
	say("  %s: woke mask %#x", what, woke_mask);
}

static void reset(void)
{
	woken = 0;
	woke_mask = 0;
}

static long long ns_of(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* now + 30 ms on clock c */
static struct timespec in_30ms(clockid_t c)
{
	long long d = ns_of(c) + 30 * 1000 * 1000;
	return (struct timespec){ d / 1000000000, d % 1000000000 };
}

static void test_timeouts(void)
{
	say("-- WAIT and WAIT_BITSET: value mismatch and timeouts");
	int w = 1;
	struct timespec ts;
	T(F(&w, FUTEX_WAIT, 0, NULL, NULL, 0));
	T(F(&w, FUTEX_WAIT_BITSET, 0, NULL, NULL, FUTEX_BITSET_MATCH_ANY));

	ts = (struct timespec){ 0, 30 * 1000 * 1000 };
	long long t0 = ns_of(CLOCK_MONOTONIC);
	TL("futex(WAIT, relative 30 ms)", F(&w, FUTEX_WAIT, 1, &ts, NULL, 0));
	say("  waited >= 30 ms: %s", yesno(ns_of(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000));
	ts = (struct timespec){ 0, 0 };
	TL("futex(WAIT, relative 0)", F(&w, FUTEX_WAIT, 1, &ts, NULL, 0));
	ts = (struct timespec){ -1, 0 };
	TL("futex(WAIT, relative {-1, 0})", F(&w, FUTEX_WAIT, 1, &ts, NULL, 0));
	ts = (struct timespec){ 0, 1000000000 };
	TL("futex(WAIT, relative {0, 1e9})", F(&w, FUTEX_WAIT, 1, &ts, NULL, 0));
	TL("futex(WAIT, timeout pointer NULL+1)", F(&w, FUTEX_WAIT, 1, BAD_NULL1, NULL, 0));
	TL("futex(WAIT, value mismatch, timeout pointer NULL+1)", F(&w, FUTEX_WAIT, 0, BAD_NULL1, NULL, 0));

	ts = in_30ms(CLOCK_MONOTONIC);
	TL("futex(WAIT_BITSET, absolute CLOCK_MONOTONIC now + 30 ms)", F(&w, FUTEX_WAIT_BITSET, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	say("  returned at or after the deadline: %s", yesno(ns_of(CLOCK_MONOTONIC) >= ts.tv_sec * 1000000000LL + ts.tv_nsec));
	ts = in_30ms(CLOCK_REALTIME);
	TL("futex(WAIT_BITSET|CLOCK_REALTIME, absolute CLOCK_REALTIME now + 30 ms)", F(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	say("  returned at or after the deadline: %s", yesno(ns_of(CLOCK_REALTIME) >= ts.tv_sec * 1000000000LL + ts.tv_nsec));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec -= 1;
	TL("futex(WAIT_BITSET, absolute CLOCK_MONOTONIC in the past)", F(&w, FUTEX_WAIT_BITSET, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	ts = (struct timespec){ 1, 0 };
	TL("futex(WAIT_BITSET|PRIVATE, absolute 1 s after boot)", F(&w, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	TL("futex(WAIT_BITSET|CLOCK_REALTIME, absolute 1970 + 1 s)", F(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
}

static void test_errors(void)
{
	say("-- errors");
	int w[2] = { 1, 1 };
	T(F(&w, 99, 0, NULL, NULL, 0));
	T(F(&w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
	T(F((char *)w + 1, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(F((char *)w + 2, FUTEX_WAKE, 1, NULL, NULL, 0));
	T(F(&w, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0));
	T(F(&w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0));
	T(F(&w, FUTEX_CMP_REQUEUE, 1, (void *)1L, (char *)&w[1] + 1, 1));
	T(F(&w, FUTEX_CMP_REQUEUE, 1, (void *)-1L, &w[1], 1));
	T(F(&w, FUTEX_CMP_REQUEUE, -1, (void *)1L, &w[1], 1));
	T(F(BAD_NULL1, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(F(NULL, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(F(BAD_KERNEL, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(F(BAD_KERNEL, FUTEX_WAKE, 1, NULL, NULL, 0));
	T(F(BAD_KERNEL, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	TL("futex(unmapped page, WAIT)", F(unmapped_page(), FUTEX_WAIT, 1, NULL, NULL, 0));
	TL("futex(unmapped page, WAIT_PRIVATE)", F(unmapped_page(), FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	TL("futex(&w, CMP_REQUEUE_PRIVATE to an unmapped page, value mismatch)", F(&w, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1L, unmapped_page(), 0));
	TL("futex(unmapped page, CMP_REQUEUE_PRIVATE to &w)", F(unmapped_page(), FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1L, &w, 0));
	TL("futex(&w, WAKE_OP on an unmapped page)", F(&w, FUTEX_WAKE_OP, 1, (void *)1L, unmapped_page(), FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TL("futex(&w, WAKE_OP on a read-only page)", F(&w, FUTEX_WAKE_OP, 1, (void *)1L, ro, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	/* (private: a shared futex on a private read-only page is EFAULT in Linux, a quirk left out) */
	TL("futex(read-only page holding 0, WAIT_PRIVATE 1)", F(ro, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	munmap(ro, 4096);
	TL("futex(&w, WAKE_OP with op 7)", F(&w, FUTEX_WAKE_OP, 1, (void *)1L, &w[1], (7 << 28)));
	say("  w[1] = %d", w[1]);
	TL("futex(&w, WAKE_OP with cmp 9)", F(&w, FUTEX_WAKE_OP, 1, (void *)1L, &w[1], (9 << 24)));
	say("  w[1] = %d", w[1]);
}

static void test_wake(void)
{
	say("-- WAKE counts");
	T(F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	reset();
	start(0, 3, FUTEX_WAIT, NULL, &B);
	say("  three waiters sleep");
	T(F(&B, FUTEX_WAKE, 0, NULL, NULL, 0));
	T(F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	until_woken(1);
	T(F(&B, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	until_woken(3);
	T(F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	T(F(&A, FUTEX_WAKE, 1, NULL, NULL, 0));
	say("  returned 0 (woken by WAKE): %s", yesno(ws[0].ret == 0 && ws[1].ret == 0 && ws[2].ret == 0));
	join(0, 3);

	say("-- WAKE with a negative count");
	reset();
	start(0, 2, FUTEX_WAIT, NULL, &B);
	T(F(&B, FUTEX_WAKE, -1, NULL, NULL, 0));
	until_woken(1);
	T(F(&B, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	until_woken(2);
	join(0, 2);
}

static void test_bitset(void)
{
	say("-- WAKE_BITSET selects waiters by bitset");
	static const unsigned bits[4] = { 1, 2, 4, 6 };
	reset();
	start(0, 4, FUTEX_WAIT_BITSET, bits, &B);
	say("  four waiters sleep, bitsets 1, 2, 4, 6");
	T(F(&B, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 8));
	T(F(&B, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 1));
	until_woken(1);
	show_woken("after bitset 1");
	T(F(&B, FUTEX_WAKE_BITSET, 1, NULL, NULL, 4));
	until_woken(2);
	T(F(&B, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 4));
	until_woken(3);
	say("  waiters with bit 2 woken: %s", yesno((woke_mask & 0xc) == 0xc));
	T(F(&B, FUTEX_WAKE, INT_MAX, NULL, NULL, 0)); /* WAKE matches any bitset */
	until_woken(4);
	show_woken("after WAKE");
	join(0, 4);
}

static void test_requeue(void)
{
	say("-- REQUEUE and CMP_REQUEUE");
	reset();
	start(0, 5, FUTEX_WAIT, NULL, &B);
	say("  five waiters sleep on B");
	TL("futex(&B, REQUEUE, wake 1, requeue 2, &C)", F(&B, FUTEX_REQUEUE, 1, (void *)2L, &C, 0));
	until_woken(1);
	B = 7;
	TL("futex(&B, CMP_REQUEUE, wake 0, requeue 1, &C, expect 6 (B is 7))", F(&B, FUTEX_CMP_REQUEUE, 0, (void *)1L, &C, 6));
	TL("futex(&B, CMP_REQUEUE, wake 1, requeue 0, &C, expect 7)", F(&B, FUTEX_CMP_REQUEUE, 1, (void *)0L, &C, 7));
	until_woken(2);
	TL("futex(&B, CMP_REQUEUE, wake 0, requeue 10, &C, expect 7)", F(&B, FUTEX_CMP_REQUEUE, 0, (void *)10L, &C, 7));
	TL("futex(&B, WAKE, all)", F(&B, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	TL("futex(&C, WAKE, 2)", F(&C, FUTEX_WAKE, 2, NULL, NULL, 0));
	until_woken(4);
	TL("futex(&C, WAKE, all)", F(&C, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	until_woken(5);
	B = 0;
	join(0, 5);

	say("-- CMP_REQUEUE to the same word");
	reset();
	start(0, 2, FUTEX_WAIT, NULL, &B);
	TL("futex(&B, CMP_REQUEUE, wake 0, requeue all, &B, expect 0)", F(&B, FUTEX_CMP_REQUEUE, 0, (void *)(long)INT_MAX, &B, 0));
	TL("futex(&B, WAKE, all)", F(&B, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	until_woken(2);
	join(0, 2);
}

static void test_wake_op(void)
{
	say("-- WAKE_OP");
	reset();
	start(0, 2, FUTEX_WAIT, NULL, &B);
	start(2, 2, FUTEX_WAIT, NULL, &C);
	say("  two waiters on B, two on C");
	C = 5;
	TL("futex(&B, WAKE_OP, 1, 1, &C, C += 3 if old > 4)", F(&B, FUTEX_WAKE_OP, 1, (void *)1L, &C, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 4)));
	until_woken(2);
	say("  C = %d", C);
	TL("futex(&B, WAKE_OP, 1, 1, &C, C = 1 << 4 if old == 0)", F(&B, FUTEX_WAKE_OP, 1, (void *)1L, &C, FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_EQ, 0)));
	until_woken(3);
	say("  C = %d", C);
	TL("futex(&B, WAKE_OP, 1, 5, &C, C |= 1 if old == 16)", F(&B, FUTEX_WAKE_OP, 1, (void *)5L, &C, FUTEX_OP(FUTEX_OP_OR, 1, FUTEX_OP_CMP_EQ, 16)));
	until_woken(4);
	say("  C = %d", C);
	show_woken("all");
	C = 0;
	join(0, 4);
}

static void test_private(void)
{
	say("-- FUTEX_PRIVATE_FLAG");
	int w = 1;
	T(F(&w, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
	reset();
	start(0, 2, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, NULL, &B);
	say("  two private waiters sleep on B");
	TL("futex(&B, WAKE_PRIVATE, 1)", F(&B, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	until_woken(1);
	TL("futex(&B, WAKE_BITSET|PRIVATE, all, bitset 1)", F(&B, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 1));
	until_woken(2);
	join(0, 2);
}

static volatile int handled;
static void on_usr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void test_eintr(void)
{
	say("-- a signal handler ends a WAIT (EINTR), or restarts it (SA_RESTART)");
	struct sigaction sa = { 0 };
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	reset();
	start(0, 1, FUTEX_WAIT, NULL, &B);
	long pid = S(getpid);
	/* main blocks SIGUSR1: a signal to the process goes to the waiter */
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	T(S(kill, pid, SIGUSR1));
	until_woken(1);
	say("  handler ran: %d", handled);
	say("  the WAIT returned: %ld %s", ws[0].ret, errname(ws[0].err));
	join(0, 1);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	reset();
	start(0, 1, FUTEX_WAIT, NULL, &B);
	T(S(kill, pid, SIGUSR1));
	while (handled < 2)
		sched_yield();
	/* restarted on A (its own arguments): prove it sleeps there again, on B */
	int moved = 0;
	while (moved < 1) {
		long r = F(&A, FUTEX_CMP_REQUEUE, 0, (void *)(long)INT_MAX, &B, 0);
		moved += r > 0 ? r : 0;
		if (!moved)
			sched_yield();
	}
	say("  handler ran: %d; the WAIT went on sleeping: %s", handled, yesno(woken == 0));
	T(F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	until_woken(1);
	say("  the WAIT returned: %ld %s", ws[0].ret, errname(ws[0].err));
	join(0, 1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	begin("futex");
	test_timeouts();
	test_errors();
	test_wake();
	test_bitset();
	test_requeue();
	test_wake_op();
	test_private();
	test_eintr();
	return 0;
}
