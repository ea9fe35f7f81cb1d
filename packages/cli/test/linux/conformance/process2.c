/*
 * More process calls: getgroups, setgroups (its EINVAL), setuid and friends (to the ids we already
 * have, which any user may), setfsuid, setfsgid, getpgrp, getpgid, getsid,
 * setpgid, setsid, getpriority, setpriority, sched_yield,
 * sched_setaffinity, getcpu, getrlimit, setrlimit, prctl, set_robust_list,
 * get_robust_list, futex.
 *
 * Ids, process groups, CPU numbers and limits are the environment's: only
 * relations are printed.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128

static long long mono(void)
{
	struct timespec t;
	S(clock_gettime, CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_ids(void)
{
	unsigned groups[64];
	long uid = S(getuid), gid = S(getgid);

	say("-- getgroups, setuid family");
	long n = S(getgroups, 0, NULL);
	say("getgroups(0, NULL) >= 0: %s", yesno(n >= 0));
	say("getgroups(64, list) = the same count: %s", yesno(S(getgroups, 64, groups) == n));
	T(S(getgroups, -1, groups));
	T(S(setgroups, -1, groups)); /* EINVAL comes before the permission check */
	T(S(setgroups, 65537, groups));
	T(S(setuid, uid));
	T(S(setgid, gid));
	T(S(setreuid, -1, -1));
	T(S(setregid, -1, -1));
	T(S(setresuid, -1, -1, -1));
	T(S(setresgid, -1, -1, -1));
	T(S(setreuid, uid, uid));
	T(S(setresgid, gid, gid, gid));
	say("setfsuid(-1) returns the fsuid, = getuid: %s", yesno(S(setfsuid, -1) == uid));
	say("setfsgid(-1) returns the fsgid, = getgid: %s", yesno(S(setfsgid, -1) == gid));
	say("still the same ids: %s", yesno(S(getuid) == uid && S(geteuid) == uid && S(getgid) == gid && S(getegid) == gid));
}

static void test_groups_sessions(void)
{
	long pid = S(getpid);

	say("-- getpgrp, getpgid, getsid, setpgid, setsid");
	long pgrp = S(getpgrp);
	say("getpgrp > 0: %s, = getpgid(0): %s, = getpgid(getpid()): %s", yesno(pgrp > 0), yesno(S(getpgid, 0) == pgrp), yesno(S(getpgid, pid) == pgrp));
	long sid = S(getsid, 0);
	say("getsid(0) > 0: %s, = getsid(getpid()): %s", yesno(sid > 0), yesno(S(getsid, pid) == sid));
	T(S(getpgid, 0x3fffffff));
	T(S(getsid, 0x3fffffff));
	T(S(getpgid, -1));
	T(S(setpgid, 0, 0)); /* our own group */
	say("  getpgrp = getpid now: %s", yesno(S(getpgrp) == pid));
	T(S(setpgid, pid, pid));
	T(S(setpgid, 0, -1));
	T(S(setpgid, 0x3fffffff, 0));
	T(S(setsid)); /* a process group leader cannot */
}

static void test_priority_sched(void)
{
	unsigned long mask[16], one[16];
	unsigned cpu = 99999, node = 99999;

	say("-- getpriority, setpriority");
	long p0 = S(getpriority, PRIO_PROCESS, 0);
	say("getpriority(PRIO_PROCESS, 0) in 1..40 (20 - nice): %s", yesno(p0 >= 1 && p0 <= 40));
	T(S(setpriority, PRIO_PROCESS, 0, 5));
	T(S(getpriority, PRIO_PROCESS, 0));
	T(S(setpriority, PRIO_PROCESS, 0, 10));
	long pid = S(getpid);
	T(S(getpriority, PRIO_PROCESS, pid));
	T(S(setpriority, PRIO_PROCESS, 0, 100)); /* clamped to 19 */
	T(S(getpriority, PRIO_PROCESS, 0));
	T(S(getpriority, PRIO_PROCESS, 0x3fffffff));
	T(S(getpriority, 99, 0));
	T(S(setpriority, 99, 0, 0));
	T(S(setpriority, PRIO_PROCESS, 0x3fffffff, 0));

	say("-- sched_yield, sched_setaffinity, getcpu");
	T(S(sched_yield));
	memset(mask, 0, sizeof mask);
	long size = S(sched_getaffinity, 0, sizeof mask, mask);
	say("sched_getaffinity > 0: %s", yesno(size > 0));
	T(S(sched_setaffinity, 0, size, mask));
	T(S(getcpu, &cpu, &node, NULL));
	say("  the CPU is in the affinity mask: %s, node < 64: %s", yesno(cpu < 1024 && (mask[cpu / 64] >> (cpu % 64) & 1)), yesno(node < 64));
	T(S(getcpu, NULL, NULL, NULL));
	/* Only the CPU we are on: allowed, and then getcpu says that one. */
	memset(one, 0, sizeof one);
	if (cpu < 1024)
		one[cpu / 64] = 1UL << (cpu % 64);
	T(S(sched_setaffinity, 0, size, one));
	unsigned cpu2 = 99999;
	S(getcpu, &cpu2, NULL, NULL);
	say("  still on that CPU: %s", yesno(cpu2 == cpu));
	memset(one, 0, sizeof one);
	T(S(sched_setaffinity, 0, size, one)); /* no CPU */
	memset(one, 0, sizeof one);
	one[15] = 1UL << 63; /* CPU 1023: not there */
	T(S(sched_setaffinity, 0, sizeof one, one));
	T(S(sched_setaffinity, 0x3fffffff, size, mask));
	T(S(sched_setaffinity, 0, size, mask));
}

static void test_rlimits(void)
{
	struct rlimit r, old;

	say("-- getrlimit, setrlimit");
	T(S(getrlimit, RLIMIT_NOFILE, &old));
	struct rlimit p;
	S(prlimit64, 0, RLIMIT_NOFILE, NULL, &p);
	say("  = prlimit64's: %s", yesno(p.rlim_cur == old.rlim_cur && p.rlim_max == old.rlim_max));
	r = (struct rlimit){ 32, old.rlim_max };
	T(S(setrlimit, RLIMIT_NOFILE, &r));
	T(S(getrlimit, RLIMIT_NOFILE, &r));
	say("  cur = %lu", (unsigned long)r.rlim_cur);
	T(S(setrlimit, RLIMIT_NOFILE, &old));
	r = (struct rlimit){ 64, 32 };
	T(S(setrlimit, RLIMIT_NOFILE, &r));
	T(S(getrlimit, 999, &r));
	T(S(setrlimit, 999, &old));
	T(S(getrlimit, RLIMIT_STACK, &r));
	say("  STACK: cur <= max: %s", yesno(r.rlim_cur <= r.rlim_max));
	T(S(getrlimit, RLIMIT_CORE, &r));
}

static void test_prctl(const char *argv0)
{
	char name[32];
	int v = 12345;

	say("-- prctl");
	memset(name, 0, sizeof name);
	T(S(prctl, PR_GET_NAME, name, 0, 0, 0));
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	say("  the name is the program's (first 15 bytes): %s", yesno(strncmp(name, base, 15) == 0 && strlen(name) == (strlen(base) < 15 ? strlen(base) : 15)));
	T(S(prctl, PR_SET_NAME, "a-rather-long-thread-name", 0, 0, 0));
	memset(name, 0x5a, sizeof name);
	T(S(prctl, PR_GET_NAME, name, 0, 0, 0));
	quoted("  name", name, 16);
	T(S(prctl, PR_SET_NAME, "short", 0, 0, 0));
	S(prctl, PR_GET_NAME, name, 0, 0, 0);
	quoted("  name", name, 6);
	T(S(prctl, PR_GET_DUMPABLE, 0, 0, 0, 0));
	T(S(prctl, PR_SET_DUMPABLE, 0, 0, 0, 0));
	T(S(prctl, PR_GET_DUMPABLE, 0, 0, 0, 0));
	T(S(prctl, PR_SET_DUMPABLE, 2, 0, 0, 0));
	T(S(prctl, PR_SET_DUMPABLE, 1, 0, 0, 0));
	T(S(prctl, PR_GET_PDEATHSIG, &v, 0, 0, 0));
	say("  pdeathsig %d", v);
	T(S(prctl, PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
	T(S(prctl, PR_GET_PDEATHSIG, &v, 0, 0, 0));
	say("  pdeathsig %d", v);
	T(S(prctl, PR_SET_PDEATHSIG, 99, 0, 0, 0));
	T(S(prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0));
	T(S(prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T(S(prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	T(S(prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	T(S(prctl, PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
	T(S(prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	v = 12345;
	T(S(prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	say("  child subreaper %d", v);
	T(S(prctl, 9999, 0, 0, 0, 0));
}

static void test_robust_futex(void)
{
	static struct {
		void *next;
		long offset;
		void *pending;
	} head = { &head, 0, 0 };
	void *got = (void *)1;
	size_t len = 99;
	static int word = 1;
	struct timespec ts;
	long long t0;

	say("-- set_robust_list, get_robust_list");
	T(S(set_robust_list, &head, sizeof head));
	T(S(get_robust_list, 0, &got, &len));
	say("  the head we set: %s, len %zu", yesno(got == (void *)&head), len);
	T(S(set_robust_list, &head, sizeof head - 1));
	T(S(get_robust_list, 0x3fffffff, &got, &len));

	say("-- futex (one thread: nobody to wake or be woken)");
	T(S(futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0)); /* *word is 1, not 0 */
	T(S(futex, &word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, NULL, NULL, 0));
	T(S(futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0));
	T(S(futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 100, NULL, NULL, 0));
	ts = (struct timespec){ 0, 20000000 };
	t0 = mono();
	TL("futex(&word, FUTEX_WAIT_PRIVATE, 1, {0, 20 ms})", S(futex, &word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, &ts, NULL, 0));
	say("  waited at least 20 ms: %s", yesno(mono() - t0 >= 20000000LL));
	ts = (struct timespec){ 0, 2000000000 };
	TL("futex(&word, FUTEX_WAIT_PRIVATE, 1, {0, 2e9})", S(futex, &word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, &ts, NULL, 0));
	T(S(futex, &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0)); /* bitset 0 */
	T(S(futex, (char *)&word + 1, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(S(futex, NULL, FUTEX_WAIT, 1, NULL, NULL, 0));
	T(S(futex, &word, 99, 1, NULL, NULL, 0));
	say("  word unchanged: %d", word);
}

int main(int argc, char **argv)
{
	(void)argc;
	begin("process2");
	test_ids();
	test_groups_sessions();
	test_priority_sched();
	test_rlimits();
	test_prctl(argv[0]);
	test_robust_futex();
	say("== end");
	return 0;
}
