/*
 * Thread benchmarks, timed inside the guest (or natively) with
 * CLOCK_MONOTONIC; each mode prints one JSON line on stdout.
 *
 *   threads create N    N rounds of pthread_create + pthread_join of an
 *                       empty thread: {"nsPerRound"}
 *   threads wake N      wake-to-wakeup latency: a thread sleeps in
 *                       FUTEX_WAIT (proven asleep: main requeues it), main
 *                       takes the time and FUTEX_WAKEs it, the thread takes
 *                       the time when it returns: {"medianNs","p90Ns"}
 *   threads pingpong N  two threads hand a turn back and forth through two
 *                       futex words, N round trips (2 switches each):
 *                       {"nsPerRoundTrip","nsPerSwitch"}
 *   threads tick MS     one thread runs a loop reading the TSC for MS ms of
 *                       wall time; a gap between two reads much longer than
 *                       the loop's usual step is time the loop lost (a timer
 *                       tick, an interrupt, the host preempting us):
 *                       {"gaps","gapsPerS","medianGapNs","lostShare"}, and
 *                       the part of it that recurs every 4 ms (the guest's
 *                       tick period): {"periodicPerS","periodicGapNs",
 *                       "periodicShare"}
 *   threads cpu N       a fixed CPU-bound loop of N steps: {"ns"}
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_PRIVATE_FLAG 128

static long futex(int *a, int op, int val, long v2, int *a2, int v3)
{
	return syscall(SYS_futex, a, op | FUTEX_PRIVATE_FLAG, val, v2, a2, v3);
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static void *empty(void *p)
{
	return p;
}

static int bench_create(long n)
{
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, empty, NULL) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
		pthread_join(t, NULL);
	}
	printf("{\"rounds\":%ld,\"nsPerRound\":%.1f}\n", n, (double)(now_ns() - t0) / n);
	return 0;
}

/* ---- wake latency ---- */
static int go, parked, round_done;
static volatile long long t_wake;
static long long *lat;

static void *sleeper(void *p)
{
	long n = (long)p;
	for (long i = 1; i <= n; i++) {
		while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) < i)
			futex(&go, FUTEX_WAIT, (int)i - 1, 0, NULL, 0);
		lat[i - 1] = now_ns() - t_wake;
		__atomic_store_n(&round_done, (int)i, __ATOMIC_RELEASE);
		futex(&round_done, FUTEX_WAKE, 1, 0, NULL, 0);
	}
	return NULL;
}

static int bench_wake(long n)
{
	lat = calloc(n, sizeof *lat);
	pthread_t t;
	pthread_create(&t, NULL, sleeper, (void *)n);
	for (long i = 1; i <= n; i++) {
		/* the sleeper is asleep on `go` once main can move it (to `parked`); then wake it there */
		while (futex(&go, FUTEX_CMP_REQUEUE, 0, INT_MAX, &parked, (int)i - 1) < 1)
			sched_yield();
		t_wake = now_ns();
		__atomic_store_n(&go, (int)i, __ATOMIC_RELEASE);
		futex(&parked, FUTEX_WAKE, 1, 0, NULL, 0);
		int v;
		while ((v = __atomic_load_n(&round_done, __ATOMIC_ACQUIRE)) < i)
			futex(&round_done, FUTEX_WAIT, v, 0, NULL, 0);
	}
	pthread_join(t, NULL);
	qsort(lat, n, sizeof *lat, cmp_ll);
	printf("{\"rounds\":%ld,\"medianNs\":%lld,\"p10Ns\":%lld,\"p90Ns\":%lld}\n", n, lat[n / 2], lat[n / 10], lat[n * 9 / 10]);
	return 0;
}

/* ---- ping-pong ---- */
static int turn; /* even: main's turn, odd: the other's */

static void *ponger(void *p)
{
	long n = (long)p;
	for (long i = 0; i < n; i++) {
		int v;
		while ((v = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) % 2 == 0)
			futex(&turn, FUTEX_WAIT, v, 0, NULL, 0);
		__atomic_store_n(&turn, v + 1, __ATOMIC_RELEASE);
		futex(&turn, FUTEX_WAKE, 1, 0, NULL, 0);
	}
	return NULL;
}

static int bench_pingpong(long n)
{
	pthread_t t;
	pthread_create(&t, NULL, ponger, (void *)n);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int v = __atomic_add_fetch(&turn, 1, __ATOMIC_ACQ_REL);
		futex(&turn, FUTEX_WAKE, 1, 0, NULL, 0);
		while ((v = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) % 2 == 1)
			futex(&turn, FUTEX_WAIT, v, 0, NULL, 0);
	}
	long long dt = now_ns() - t0;
	pthread_join(t, NULL);
	printf("{\"roundTrips\":%ld,\"nsPerRoundTrip\":%.1f,\"nsPerSwitch\":%.1f}\n", n, (double)dt / n, (double)dt / n / 2);
	return 0;
}

/* ---- the time a computing loop loses ---- */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#define MAXGAPS (1 << 20)
static uint64_t gap_at[MAXGAPS], gap_len[MAXGAPS];
static long long sorted[MAXGAPS];

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int bench_tick(long ms)
{
	/* the TSC's rate, roughly (100 ms), to size the run and the threshold */
	long long c0 = now_ns();
	uint64_t k0 = rdtsc();
	while (now_ns() - c0 < 100000000)
		;
	double per_ns = (double)(rdtsc() - k0) / (double)(now_ns() - c0);
	/* the usual step: the median of a first short run */
	enum { SAMPLE = 100001 };
	uint64_t prev = rdtsc();
	for (int i = 0; i < SAMPLE; i++) {
		uint64_t x = rdtsc();
		sorted[i] = (long long)(x - prev);
		prev = x;
	}
	qsort(sorted, SAMPLE, sizeof sorted[0], cmp_ll);
	uint64_t step = sorted[SAMPLE / 2] ? (uint64_t)sorted[SAMPLE / 2] : 1;
	/* a gap: 50 usual steps and at least 1 us */
	uint64_t threshold = step * 50 > per_ns * 1000 ? step * 50 : (uint64_t)(per_ns * 1000);
	uint64_t span = (uint64_t)(ms * 1e6 * per_ns);
	long ngaps = 0;
	uint64_t lost = 0;
	long long w0 = now_ns();
	uint64_t start = rdtsc(), last = start;
	for (;;) {
		uint64_t x = rdtsc();
		uint64_t d = x - last;
		if (d > threshold) {
			lost += d;
			if (ngaps < MAXGAPS) {
				gap_at[ngaps] = last - start;
				gap_len[ngaps] = d;
			}
			ngaps++;
		}
		last = x;
		if (x - start >= span)
			break;
	}
	long long w1 = now_ns();
	/* the rate again over the whole run, precise enough to fold gap times onto the 4 ms tick */
	per_ns = (double)(last - start) / (double)(w1 - w0);
	double total_ns = (last - start) / per_ns;
	long kept = ngaps < MAXGAPS ? ngaps : MAXGAPS;
	for (long i = 0; i < kept; i++)
		sorted[i] = (long long)gap_len[i];
	qsort(sorted, kept, sizeof sorted[0], cmp_ll);
	/*
	 * The periodic part: gap start times modulo the guest's tick period
	 * (4 ms, a periodic local APIC timer) into 80 bins of 50 us. A periodic
	 * interruption piles up in one bin (or two neighbours); the rest spreads
	 * evenly. Periodic time = the two best neighbouring bins minus twice the
	 * median bin (the background).
	 */
	enum { BINS = 80 };
	const double period = 4e6;
	double bin_lost[BINS] = { 0 }, bin_n[BINS] = { 0 }, srt[BINS];
	for (long i = 0; i < kept; i++) {
		double at = gap_at[i] / per_ns;
		int b = (int)(at - period * (long long)(at / period)) / (int)(period / BINS);
		if (b >= BINS)
			b = BINS - 1;
		bin_lost[b] += gap_len[i] / per_ns;
		bin_n[b] += 1;
	}
	memcpy(srt, bin_lost, sizeof srt);
	qsort(srt, BINS, sizeof srt[0], cmp_d);
	double bg_lost = srt[BINS / 2];
	memcpy(srt, bin_n, sizeof srt);
	qsort(srt, BINS, sizeof srt[0], cmp_d);
	double bg_n = srt[BINS / 2];
	int best = 0;
	for (int b = 0; b < BINS; b++)
		if (bin_lost[b] + bin_lost[(b + 1) % BINS] > bin_lost[best] + bin_lost[(best + 1) % BINS])
			best = b;
	double per_lost = bin_lost[best] + bin_lost[(best + 1) % BINS] - 2 * bg_lost;
	double per_n = bin_n[best] + bin_n[(best + 1) % BINS] - 2 * bg_n;
	if (per_lost < 0)
		per_lost = 0;
	if (per_n < 0)
		per_n = 0;
	printf("{\"ms\":%ld,\"loopStepNs\":%.1f,\"thresholdNs\":%.0f,\"gaps\":%ld,\"gapsPerS\":%.1f,\"medianGapNs\":%.0f,\"p90GapNs\":%.0f,\"lostShare\":%.5f,"
	       "\"periodicPerS\":%.1f,\"periodicGapNs\":%.0f,\"periodicShare\":%.5f}\n",
	       ms, step / per_ns, threshold / per_ns, ngaps, ngaps / (total_ns / 1e9), kept ? sorted[kept / 2] / per_ns : 0.0, kept ? sorted[kept * 9 / 10] / per_ns : 0.0,
	       lost / per_ns / total_ns, per_n / (total_ns / 1e9), per_n > 0 ? per_lost / per_n : 0.0, per_lost / total_ns);
	return 0;
}

static int bench_cpu(long n)
{
	long long t0 = now_ns();
	uint64_t x = 88172645463325252ULL;
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	long long dt = now_ns() - t0;
	printf("{\"steps\":%ld,\"ns\":%lld,\"check\":%llu}\n", n, dt, (unsigned long long)(x & 0xffff));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: threads create|wake|pingpong|tick|cpu N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (!strcmp(argv[1], "create"))
		return bench_create(n);
	if (!strcmp(argv[1], "wake"))
		return bench_wake(n);
	if (!strcmp(argv[1], "pingpong"))
		return bench_pingpong(n);
	if (!strcmp(argv[1], "tick"))
		return bench_tick(n);
	if (!strcmp(argv[1], "cpu"))
		return bench_cpu(n);
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
