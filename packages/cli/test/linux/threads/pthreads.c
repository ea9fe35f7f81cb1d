/*
 * A multi-threaded program with a deterministic result: 8 threads sum a
 * range in slices (each into a __thread accumulator, then into a total under
 * a mutex), meet at a pthread_barrier, then run a producer-consumer ring
 * (4 producers, 4 consumers, a mutex and two condition variables) whose
 * checksum does not depend on the interleaving. Prints the results.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 8
#define N 400000
#define ITEMS_PER_PRODUCER 2000
#define RING 16

static __thread uint64_t tls_sum;
static __thread int tls_index = -1;
static uint64_t *tls_addr[THREADS];
static uint64_t per_thread[THREADS];

static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;
static pthread_barrier_t barrier;
static int serial_count;

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static uint64_t ring[RING];
static int head, count, producers_left = THREADS / 2;
static uint64_t consumed_sum, consumed_xor, consumed_n;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void produce(int who)
{
	for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
		uint64_t item = mix((uint64_t)who * 1000003 + i);
		pthread_mutex_lock(&ring_lock);
		while (count == RING)
			pthread_cond_wait(&not_full, &ring_lock);
		ring[(head + count) % RING] = item;
		count++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&ring_lock);
	}
	pthread_mutex_lock(&ring_lock);
	producers_left--;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&ring_lock);
}

static void consume(void)
{
	uint64_t sum = 0, x = 0, n = 0;
	for (;;) {
		pthread_mutex_lock(&ring_lock);
		while (count == 0 && producers_left > 0)
			pthread_cond_wait(&not_empty, &ring_lock);
		if (count == 0) {
			pthread_mutex_unlock(&ring_lock);
			break;
		}
		uint64_t item = ring[head];
		head = (head + 1) % RING;
		count--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&ring_lock);
		sum += item;
		x ^= item;
		n++;
	}
	pthread_mutex_lock(&total_lock);
	consumed_sum += sum;
	consumed_xor ^= x;
	consumed_n += n;
	pthread_mutex_unlock(&total_lock);
}

static void *worker(void *p)
{
	int me = (int)(intptr_t)p;
	tls_index = me;
	tls_addr[me] = &tls_sum;
	for (uint64_t i = (uint64_t)me * (N / THREADS) + 1; i <= (uint64_t)(me + 1) * (N / THREADS); i++)
		tls_sum += i * i % 1000003;
	per_thread[me] = tls_sum;
	pthread_mutex_lock(&total_lock);
	total += tls_sum;
	pthread_mutex_unlock(&total_lock);
	int r = pthread_barrier_wait(&barrier);
	if (r == PTHREAD_BARRIER_SERIAL_THREAD)
		__atomic_add_fetch(&serial_count, 1, __ATOMIC_SEQ_CST);
	else if (r != 0)
		return (void *)-1L;
	if (me % 2 == 0)
		produce(me);
	else
		consume();
	return (void *)(intptr_t)(tls_index == me ? me : -1);
}

int main(void)
{
	pthread_t t[THREADS];
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0) {
			printf("pthread_create failed\n");
			return 1;
		}
	int ok = 1;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		if ((intptr_t)r != i)
			ok = 0;
	}
	uint64_t expect = 0;
	for (uint64_t i = 1; i <= N; i++)
		expect += i * i % 1000003;
	int distinct = 1;
	for (int i = 0; i < THREADS; i++)
		for (int j = i + 1; j < THREADS; j++)
			if (tls_addr[i] == tls_addr[j])
				distinct = 0;
	printf("threads joined with their own __thread index: %s\n", ok ? "yes" : "no");
	printf("__thread variables distinct per thread: %s\n", distinct ? "yes" : "no");
	printf("main's __thread untouched: %s\n", tls_index == -1 && tls_sum == 0 ? "yes" : "no");
	for (int i = 0; i < THREADS; i++)
		printf("slice %d: %llu\n", i, (unsigned long long)per_thread[i]);
	printf("parallel sum: %llu (serial: %llu)\n", (unsigned long long)total, (unsigned long long)expect);
	printf("barrier serial threads: %d\n", serial_count);
	printf("consumed %llu items, sum %016llx, xor %016llx\n", (unsigned long long)consumed_n, (unsigned long long)consumed_sum, (unsigned long long)consumed_xor);
	return 0;
}
