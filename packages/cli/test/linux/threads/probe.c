/*
 * What the guest kernel can do for threads, asked of it (never assumed) by
 * test/helpers/guest-threads.ts. One line each:
 *
 *   threads: ok | no threads: pthread_create: ERROR
 *       a refused clone (ENOSYS, EINVAL, EAGAIN) is "no threads"; any other
 *       outcome (a crash, a hang, a wrong value) is not: the tests run and fail
 *   membarrier: ok | ENOSYS
 *       musl's dynamic runtime calls membarrier once a program has threads
 *   futex keys: shared resolved | per address
 *       Linux resolves a shared futex's key (faulting the page in) before it
 *       compares a value, so CMP_REQUEUE to an unmapped page is EFAULT;
 *       a kernel that keys futexes by address alone answers EAGAIN (and does
 *       not tell shared and private futexes apart)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *body(void *p)
{
	return (char *)p + 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long r = syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
	printf("membarrier: %s\n", r >= 0 ? "ok" : errno == ENOSYS ? "ENOSYS" : strerror(errno));
	int w = 1;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 4096);
	r = syscall(SYS_futex, &w, 4 /* FUTEX_CMP_REQUEUE */, 1, 1L, p, 0);
	printf("futex keys: %s\n", r == -1 && errno == EFAULT ? "shared resolved" : r == -1 && errno == EAGAIN ? "per address" : strerror(errno));
	pthread_t t;
	void *ret = 0;
	int e = pthread_create(&t, NULL, body, (void *)41);
	if (e != 0) {
		printf("no threads: pthread_create: %s\n", strerror(e));
		return 2;
	}
	e = pthread_join(t, &ret);
	printf("threads: %s\n", e == 0 && ret == (void *)42 ? "ok" : "wrong");
	return 0;
}
