/* One getpid round trip, timed in a loop inside the guest (or natively). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    long long t1 = now_ns();
    printf("{\"calls\":%ld,\"nsPerCall\":%.1f}\n", n, (double)(t1 - t0) / n);
    return 0;
}
