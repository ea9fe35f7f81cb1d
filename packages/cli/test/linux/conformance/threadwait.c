/*
 * Waits of one thread while another sleeps: poll and select on a pipe
 * that a sleeping thread writes later, a poll timeout that ends while
 * another thread sleeps longer, a timed condition wait ticking in a thread
 * while main polls. Each wait must end as on Linux, neither hanging nor
 * keeping the sleeper from running.
 */
#include "conformance.h"
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <time.h>

static int p[2];

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *late_writer(void *arg)
{
	nap_ms((long)arg);
	if (write(p[1], "x", 1) != 1)
		_exit(9);
	return NULL;
}

static long elapsed_ms(struct timespec a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static void drain(void)
{
	char c;
	if (read(p[0], &c, 1) != 1)
		_exit(8);
}

static volatile int ticking = 1;
static volatile int ticks;

static void *ticker(void *arg)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	(void)arg;
	pthread_mutex_lock(&m);
	while (__atomic_load_n(&ticking, __ATOMIC_SEQ_CST)) {
		struct timespec at;
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += 5000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c, &m, &at);
		ticks++;
	}
	pthread_mutex_unlock(&m);
	return NULL;
}

int main(void)
{
	pthread_t t;
	struct timespec start;
	OK(pipe(p));

	say("-- poll for ever on a pipe a sleeping thread writes");
	OK(pthread_create(&t, NULL, late_writer, (void *)30L));
	struct pollfd f = { p[0], POLLIN, 0 };
	T(poll(&f, 1, -1));
	say("revents POLLIN: %s", yesno(f.revents & POLLIN));
	OK(pthread_join(t, NULL));
	drain();

	say("-- select with a long timeout, the same");
	OK(pthread_create(&t, NULL, late_writer, (void *)30L));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = { 10, 0 };
	T(select(p[0] + 1, &r, NULL, NULL, &tv));
	say("readable: %s", yesno(FD_ISSET(p[0], &r)));
	OK(pthread_join(t, NULL));
	drain();

	say("-- a poll timeout ends while another thread sleeps longer");
	OK(pthread_create(&t, NULL, late_writer, (void *)300L));
	clock_gettime(CLOCK_MONOTONIC, &start);
	T(poll(&f, 1, 40));
	long ms = elapsed_ms(start);
	/* 0: it ended before the writer wrote. */
	say("waited at least 40 ms: %s", yesno(ms >= 40));
	OK(pthread_join(t, NULL));
	drain();

	say("-- a thread ticks on a timed condition wait while main polls");
	OK(pthread_create(&t, NULL, ticker, NULL));
	T(poll(&f, 1, 100));
	__atomic_store_n(&ticking, 0, __ATOMIC_SEQ_CST);
	OK(pthread_join(t, NULL));
	say("the ticker ticked meanwhile: %s", yesno(ticks >= 1));
	return 0;
}
