/*
 * Process: getpid, getppid, gettid, getuid, geteuid, getgid, getegid,
 * uname, arch_prctl, set_tid_address, prlimit64, sched_getaffinity,
 * sysinfo, umask.
 *
 * Ids, limits, CPU counts and memory sizes differ between a host and a
 * guest: only their relations and ranges are printed. uname: only sysname
 * and machine.
 */
#include "conformance.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

/* <asm/prctl.h> (musl-gcc has no kernel headers) */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/* A system call that does not touch errno: needed while FS (musl's thread
 * pointer, where errno lives) points somewhere else. */
static long raw2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static unsigned long read_fs0(void)
{
	unsigned long v;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

static unsigned long read_gs0(void)
{
	unsigned long v;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

static void test_ids(void)
{
	say("-- ids");
	long pid = S(getpid);
	POS(S(getpid));
	say("getpid stable: %s", yesno(S(getpid) == pid));
	say("gettid == getpid (one thread): %s", yesno(S(gettid) == pid));
	long ppid = S(getppid);
	say("getppid >= 0: %s, != getpid: %s", yesno(ppid >= 0), yesno(ppid != pid));
	long uid = S(getuid), euid = S(geteuid), gid = S(getgid), egid = S(getegid);
	say("getuid >= 0: %s, geteuid == getuid: %s", yesno(uid >= 0), yesno(euid == uid));
	say("getgid >= 0: %s, getegid == getgid: %s", yesno(gid >= 0), yesno(egid == gid));
	unsigned r[3] = { 7, 7, 7 };
	T(S(getresuid, &r[0], &r[1], &r[2]));
	say("  real, effective, saved = getuid: %s", yesno(r[0] == uid && r[1] == uid && r[2] == uid));
	T(S(getresgid, &r[0], &r[1], &r[2]));
	say("  real, effective, saved = getgid: %s", yesno(r[0] == gid && r[1] == gid && r[2] == gid));
	int tidword = 12345;
	long tid = S(set_tid_address, &tidword);
	say("set_tid_address returns the tid: %s, leaves the word alone: %s", yesno(tid == pid), yesno(tidword == 12345));
}

static void test_uname(void)
{
	struct utsname u;

	say("-- uname");
	memset(&u, 0x55, sizeof u);
	T(S(uname, &u));
	say("sysname: %s", u.sysname);
	say("machine: %s", u.machine);
	say("fields are NUL-terminated: %s", yesno(memchr(u.nodename, 0, sizeof u.nodename) && memchr(u.release, 0, sizeof u.release) &&
						     memchr(u.version, 0, sizeof u.version) && memchr(u.domainname, 0, sizeof u.domainname)));
}

static void test_arch_prctl(void)
{
	unsigned long fs = 0, gs = 1, v = 0;
	static unsigned long fake_tcb[4] = { 0x1111222233334444UL };
	static unsigned long gs_area[4] = { 0x5555666677778888UL };

	say("-- arch_prctl");
	T(S(arch_prctl, ARCH_GET_FS, &fs));
	say("FS base is musl's thread pointer (fs:0 points to itself): %s", yesno(fs != 0 && read_fs0() == fs));
	T(S(arch_prctl, ARCH_SET_FS, fs));
	/* Point FS elsewhere and back without touching errno (it lives behind FS). */
	long r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fake_tcb);
	unsigned long seen = read_fs0();
	long r2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&v);
	long r3 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)fs);
	say("ARCH_SET_FS(other) = %ld, fs:0 reads it: %s, ARCH_GET_FS = %ld returns it: %s, restore = %ld", r1,
	    yesno(seen == fake_tcb[0]), r2, yesno(v == (unsigned long)fake_tcb), r3);
	say("FS restored: %s", yesno(read_fs0() == fs));
	T(S(arch_prctl, ARCH_GET_GS, &gs));
	say("GS base at start: %#lx", gs);
	T(S(arch_prctl, ARCH_SET_GS, gs_area));
	say("gs:0 reads the new base: %s", yesno(read_gs0() == gs_area[0]));
	T(S(arch_prctl, ARCH_GET_GS, &v));
	say("ARCH_GET_GS returns it: %s", yesno(v == (unsigned long)gs_area));
	T(S(arch_prctl, ARCH_SET_GS, 0));
	T(S(arch_prctl, ARCH_SET_FS, 0xffffffff80000000UL));
	T(S(arch_prctl, ARCH_SET_FS, 0x0000800000000000UL));
	T(S(arch_prctl, ARCH_SET_GS, 0xffff800000000000UL));
	T(S(arch_prctl, 0x9999, &v));
	T(S(arch_prctl, 0, 0));
	say("FS still ours: %s", yesno(read_fs0() == fs));
}

static void test_prlimit(void)
{
	struct rlimit old, r;
	int highest = -1;

	say("-- prlimit64");
	T(S(prlimit64, 0, RLIMIT_NOFILE, NULL, &old));
	say("NOFILE: 0 < cur <= max: %s", yesno(old.rlim_cur > 0 && old.rlim_cur <= old.rlim_max));
	T(S(prlimit64, 0, RLIMIT_STACK, NULL, &r));
	say("STACK: 0 < cur <= max: %s", yesno(r.rlim_cur > 0 && r.rlim_cur <= r.rlim_max));
	T(S(prlimit64, 0, RLIMIT_AS, NULL, &r));
	say("AS: 0 < cur <= max: %s", yesno(r.rlim_cur > 0 && r.rlim_cur <= r.rlim_max));
	long pid = S(getpid);
	T(S(prlimit64, pid, RLIMIT_DATA, NULL, &r));
	T(S(prlimit64, 0, RLIMIT_NOFILE, NULL, NULL));
	struct rlimit lim = { 16, old.rlim_max };
	T(S(prlimit64, 0, RLIMIT_NOFILE, &lim, NULL));
	T(S(prlimit64, 0, RLIMIT_NOFILE, NULL, &r));
	say("  cur = %lu, max unchanged: %s", (unsigned long)r.rlim_cur, yesno(r.rlim_max == old.rlim_max));
	for (;;) {
		long fd = S(dup, 0);
		if (fd < 0) {
			say("  dup(0) until it fails: -1 %s, highest fd %d", errname(errno), highest);
			break;
		}
		highest = fd;
		if (fd > 1000)
			break;
	}
	T(S(fcntl, 0, F_DUPFD, 16));
	T(S(fcntl, 0, F_DUPFD, 15));
	for (int fd = 3; fd <= highest; fd++)
		S(close, fd);
	struct rlimit back = { 0, 0 };
	T(S(prlimit64, 0, RLIMIT_NOFILE, &old, &back));
	say("  the old value returned with the new one set: cur = %lu", (unsigned long)back.rlim_cur);
	T(S(prlimit64, 0, RLIMIT_NOFILE, NULL, &r));
	say("  restored: %s", yesno(r.rlim_cur == old.rlim_cur && r.rlim_max == old.rlim_max));
	struct rlimit bad = { 32, 16 };
	T(S(prlimit64, 0, RLIMIT_NOFILE, &bad, NULL));
	T(S(prlimit64, 0, 999, NULL, &r));
	T(S(prlimit64, 0, RLIM_NLIMITS, NULL, &r));
	T(S(prlimit64, 0, -1, NULL, &r));
	T(S(prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &r));
}

static void test_affinity(void)
{
	unsigned long mask[16];

	say("-- sched_getaffinity");
	memset(mask, 0, sizeof mask);
	long r = S(sched_getaffinity, 0, sizeof mask, mask);
	if (r == -1) {
		say("sched_getaffinity(0, 128, mask) = -1 %s", errname(errno));
	} else {
		int cpus = 0;
		for (int i = 0; i < 16; i++)
			cpus += __builtin_popcountl(mask[i]);
		say("sched_getaffinity(0, 128, mask): size > 0: %s, a multiple of 8: %s, CPUs >= 1: %s, nothing past the size: %s",
		    yesno(r > 0), yesno(r % 8 == 0), yesno(cpus >= 1), yesno(r > 0 && r <= 128 && all_zero((char *)mask + r, 128 - r)));
	}
	long pid = S(getpid);
	POS(S(sched_getaffinity, pid, sizeof mask, mask));
	T(S(sched_getaffinity, 0, 4, mask));
	T(S(sched_getaffinity, 0, 12, mask));
	T(S(sched_getaffinity, 0, 0, mask));
	T(S(sched_getaffinity, 0x3fffffff, sizeof mask, mask));
}

static void test_sysinfo(void)
{
	struct sysinfo si;

	say("-- sysinfo");
	memset(&si, 0, sizeof si);
	T(S(sysinfo, &si));
	say("totalram > 0: %s", yesno(si.totalram > 0));
	say("freeram <= totalram: %s", yesno(si.freeram <= si.totalram));
	say("mem_unit >= 1: %s", yesno(si.mem_unit >= 1));
	say("procs >= 1: %s", yesno(si.procs >= 1));
}

static void test_umask(void)
{
	say("-- umask");
	S(umask, 022); /* the inherited value is the environment's */
	OCT(S(umask, 077));
	OCT(S(umask, 01777)); /* only the permission bits are kept */
	OCT(S(umask, 022));
	OCT(S(umask, 022));
}

int main(void)
{
	begin("process");
	test_ids();
	test_uname();
	test_arch_prctl();
	test_prlimit();
	test_affinity();
	test_sysinfo();
	test_umask();
	say("== end");
	return 0;
}
