/*
 * Process creation round trips, timed in a loop inside the guest (or
 * natively): `spawn MODE BATCHES ROUNDS` runs BATCHES batches of ROUNDS
 * round trips and prints the median over batches of the time a round
 * trip took, as JSON. Modes:
 *   fork      fork; the child _exits at once; the parent waits
 *   forkexec  fork; the child execs this program (`spawn child`, which
 *             exits at once); the parent waits
 *   vforkexec the same with vfork
 *   sh        fork; the child execs `/bin/busybox sh -c 'ls | wc -l'`
 *             (stdout to /dev/null); the parent waits
 * `spawn child` exits 0 at once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static char *const child_argv[] = {"spawn", "child", NULL};
static char *const sh_argv[] = {"busybox", "sh", "-c", "ls | wc -l", NULL};
static char *const no_env[] = {"PATH=/bin:/usr/bin", NULL};

static void round_trip(const char *mode) {
    pid_t pid;
    if (strcmp(mode, "vforkexec") == 0) {
        pid = vfork();
        if (pid == 0) {
            execve("/proc/self/exe", child_argv, no_env);
            _exit(127);
        }
    } else {
        pid = fork();
        if (pid == 0) {
            if (strcmp(mode, "forkexec") == 0) {
                execve("/proc/self/exe", child_argv, no_env);
            } else if (strcmp(mode, "sh") == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                close(null);
                execve("/bin/busybox", sh_argv, no_env);
            } else {
                _exit(0);
            }
            _exit(127);
        }
    }
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn %s: the child failed (status %#x)\n", mode, status);
        exit(1);
    }
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return 0;
    const char *mode = argc > 1 ? argv[1] : "fork";
    int batches = argc > 2 ? atoi(argv[2]) : 9;
    int rounds = argc > 3 ? atoi(argv[3]) : 4;
    if (batches < 1 || batches > 1000 || rounds < 1) return 2;
    long long ns[1000];
    for (int b = 0; b < batches; b++) {
        long long t0 = now_ns();
        for (int r = 0; r < rounds; r++) round_trip(mode);
        ns[b] = (now_ns() - t0) / rounds;
    }
    qsort(ns, batches, sizeof ns[0], by_value);
    long long median = batches % 2 ? ns[batches / 2] : (ns[batches / 2 - 1] + ns[batches / 2]) / 2;
    printf("{\"mode\":\"%s\",\"batches\":%d,\"rounds\":%d,\"medianNs\":%lld,\"minNs\":%lld,\"maxNs\":%lld}\n", mode, batches,
           rounds, median, ns[0], ns[batches - 1]);
    return 0;
}
