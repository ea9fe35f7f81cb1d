/*
 * Whether the guest kernel has threads: one pthread_create and join. Prints
 * "threads: ok", or "no threads: pthread_create: ERROR" (exit 2) when the
 * kernel refuses the clone (ENOSYS, EINVAL, EAGAIN: what a kernel without
 * CLONE_THREAD answers). Any other outcome (a crash, a hang, a wrong value)
 * is not "no threads": the tests run and fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *body(void *p)
{
	return (char *)p + 1;
}

int main(void)
{
	pthread_t t;
	void *r = 0;
	int e = pthread_create(&t, NULL, body, (void *)41);
	if (e != 0) {
		printf("no threads: pthread_create: %s\n", strerror(e));
		return 2;
	}
	e = pthread_join(t, &r);
	printf("threads: %s\n", e == 0 && r == (void *)42 ? "ok" : "wrong");
	return 0;
}
