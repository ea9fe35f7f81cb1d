/*
 * One console write round trip, timed in a loop inside the guest (or
 * natively): N one-byte write(1) calls. In kvmos each is a system call plus
 * one ConsoleWrite hypercall to the host (which writes the byte to its fd 1);
 * the result goes to stderr after the loop.
 */
#include <stdio.h>
#include <stdlib.h>
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
    for (long i = 0; i < n; i++) {
        if (write(1, "x", 1) != 1) return 1;
    }
    long long t1 = now_ns();
    fprintf(stderr, "{\"calls\":%ld,\"nsPerCall\":%.1f}\n", n, n ? (double)(t1 - t0) / n : 0.0);
    return 0;
}
