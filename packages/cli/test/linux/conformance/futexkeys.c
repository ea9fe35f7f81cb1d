/*
 * Futex keys: a private futex (FUTEX_PRIVATE_FLAG) and a shared one on the
 * same address are different futexes in Linux (a shared WAKE does not wake
 * a WAIT_PRIVATE waiter, nor the reverse), and a shared key is resolved
 * (the page faulted in) before any value is compared, so CMP_REQUEUE to an
 * unmapped page is EFAULT even when the value does not match. Waiters are
 * proven asleep as in futex.c: main moves them with CMP_REQUEUE.
 */
#include "conformance.h"
#include <limits.h>
#include <pthread.h>
#include <sched.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_PRIVATE_FLAG 128

#define F(addr, op, val, t, addr2, val3) S(futex, addr, op, val, t, addr2, val3)

static int A, B;
static volatile int woken;

static void *waiter(void *p)
{
	int op = (int)(long)p;
	F(&A, op, 0, NULL, NULL, 0);
	__atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
	F(&woken, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return NULL;
}

/* One waiter on A with `op`, moved to B once it sleeps. */
static pthread_t start(int op)
{
	pthread_t t;
	pthread_create(&t, NULL, waiter, (void *)(long)op);
	int rq = FUTEX_CMP_REQUEUE | (op & FUTEX_PRIVATE_FLAG);
	while (F(&A, rq, 0, (void *)(long)INT_MAX, &B, 0) < 1)
		sched_yield();
	return t;
}

static void until_woken(int n)
{
	int v;
	while ((v = woken) < n)
		F(&woken, FUTEX_WAIT, v, NULL, NULL, 0);
}

int main(void)
{
	begin("futexkeys");
	say("-- a private waiter is not woken by a shared WAKE");
	pthread_t t = start(FUTEX_WAIT | FUTEX_PRIVATE_FLAG);
	TL("futex(&B, WAKE (shared), 1)", F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	TL("futex(&B, WAKE_PRIVATE, 1)", F(&B, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	until_woken(1);
	pthread_join(t, NULL);
	say("-- a shared waiter is not woken by a WAKE_PRIVATE");
	t = start(FUTEX_WAIT);
	TL("futex(&B, WAKE_PRIVATE, 1)", F(&B, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
	TL("futex(&B, WAKE (shared), 1)", F(&B, FUTEX_WAKE, 1, NULL, NULL, 0));
	until_woken(2);
	pthread_join(t, NULL);
	say("-- a shared key is resolved before the value is compared");
	int w = 1;
	TL("futex(&w, CMP_REQUEUE (shared) to an unmapped page, value mismatch)", F(&w, FUTEX_CMP_REQUEUE, 1, (void *)1L, unmapped_page(), 0));
	TL("futex(&w, CMP_REQUEUE_PRIVATE to an unmapped page, value mismatch)", F(&w, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1L, unmapped_page(), 0));
	return 0;
}
