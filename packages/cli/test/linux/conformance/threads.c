/*
 * Threads: a raw clone() with the flags pthread_create uses
 * (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|
 * CHILD_CLEARTID), whose child uses no libc (raw system calls only): its
 * tid, pid, TLS, shared memory, descriptors and mappings, the wake of the
 * clear-tid word when it exits, its robust list (FUTEX_OWNER_DIED); then
 * pthreads: tgkill and tkill to one thread, a process-directed signal going
 * to the one thread that does not block it, a thread-directed one staying
 * pending for its thread; exit of one thread vs exit_group; the status of a
 * process whose leader exited first; wait4 from a thread; a robust mutex
 * whose owner died; CLONE_CHILD_SETTID and clone3; execve from a thread;
 * a fault in a thread; pthread_cancel of a thread blocked in read. Only
 * relations are printed, never tid numbers.
 */
#include "conformance.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>

/* (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAITERS 0x80000000
#define FUTEX_OWNER_DIED 0x40000000

/* ---- raw system calls, usable where libc is not (a raw clone's child) ---- */

static inline long rs(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}
#define RS(name, a, b, c, d, e, f) rs(SYS_##name, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/*
 * kv_clone(flags, stack, ptid, ctid, tls, fn, arg): clone(2) whose child
 * runs fn(arg) on `stack` and then exit(2)s (the thread only) with its
 * result. Returns the child's tid or -errno, in the parent.
 */
long kv_clone(unsigned long flags, void *stack, int *ptid, int *ctid, unsigned long tls, int (*fn)(void *), void *arg);
__asm__(".text\n"
	".globl kv_clone\n"
	".type kv_clone,@function\n"
	"kv_clone:\n"
	"	mov 8(%rsp), %rax\n"      /* arg */
	"	and $-16, %rsi\n"
	"	sub $16, %rsi\n"
	"	mov %rax, 8(%rsi)\n"
	"	mov %r9, 0(%rsi)\n"       /* fn */
	"	mov %rcx, %r10\n"
	"	mov $56, %eax\n"          /* SYS_clone */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n"
	"	pop %rax\n"
	"	pop %rdi\n"
	"	call *%rax\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"          /* SYS_exit: this thread only */
	"	syscall\n"
	"	hlt\n"
	"1:	ret\n");

/*
 * kv_clone3(args, size, fn, arg): clone3(2); the child starts on the stack
 * the arguments name and runs fn(arg) (kept in r12, r13, which the child
 * inherits), then exit(2)s. Returns the child's tid or -errno.
 */
long kv_clone3(void *args, unsigned long size, int (*fn)(void *), void *arg);
__asm__(".text\n"
	".globl kv_clone3\n"
	".type kv_clone3,@function\n"
	"kv_clone3:\n"
	"	push %r12\n"
	"	push %r13\n"
	"	mov %rdx, %r12\n"
	"	mov %rcx, %r13\n"
	"	mov $435, %eax\n"        /* SYS_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	mov %r13, %rdi\n"
	"	call *%r12\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n"
	"1:	pop %r13\n"
	"	pop %r12\n"
	"	ret\n");

struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

/* Waits until the clear-tid word *w is 0 (the kernel clears it and wakes it when the thread exits). */
static void wait_cleared(volatile int *w)
{
	int v;
	while ((v = *w) != 0)
		RS(futex, w, FUTEX_WAIT, v, 0, 0, 0);
}

/* Waits until *w != 0 (someone sets it and wakes it). */
static void wait_set(volatile int *w)
{
	while (*w == 0)
		RS(futex, w, FUTEX_WAIT, 0, 0, 0, 0);
}

static void set_wake(volatile int *w, int v)
{
	__atomic_store_n(w, v, __ATOMIC_SEQ_CST);
	RS(futex, w, FUTEX_WAKE, 0x7fffffff, 0, 0, 0);
}

/* ---- the raw clone ---- */

struct robust_list_ {
	struct robust_list_ *next;
};
struct robust_head_ {
	struct robust_list_ list;
	long futex_offset;
	struct robust_list_ *list_op_pending;
};
struct robust_entry {
	struct robust_list_ link;
	int futex;
};

struct raw {
	long tid, pid, ppid;
	unsigned long fs0;          /* what %fs:0 read in the child */
	int saw_parent_write;
	int child_write;
	long open_fd;               /* a descriptor the child opened */
	long close_res;             /* the child's close() of the parent's fd */
	char *map;                  /* a page the child mapped and filled */
	long robust_res;
	struct robust_head_ head;
	struct robust_entry mine;   /* futex = the child's tid: owner died */
	struct robust_entry other;  /* futex = another tid: left alone */
	struct robust_entry waiters; /* = the child's tid | FUTEX_WAITERS */
	volatile int parent_word;
	int parent_fd;
	volatile int *settid_word;  /* CLONE_CHILD_SETTID's word, read by the child */
	long settid_seen;
};

static int raw_child(void *p)
{
	struct raw *r = p;
	unsigned long fs0;
	r->tid = RS(gettid, 0, 0, 0, 0, 0, 0);
	r->pid = RS(getpid, 0, 0, 0, 0, 0, 0);
	r->ppid = RS(getppid, 0, 0, 0, 0, 0, 0);
	__asm__ volatile("mov %%fs:0, %0" : "=r"(fs0));
	r->fs0 = fs0;
	r->saw_parent_write = r->parent_word;
	if (r->settid_word)
		r->settid_seen = *r->settid_word;
	r->child_write = 1234;
	r->open_fd = RS(open, "hello.txt", O_RDONLY, 0, 0, 0, 0);
	r->close_res = RS(close, r->parent_fd, 0, 0, 0, 0, 0);
	char *m = (char *)RS(mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((unsigned long)m < (unsigned long)-4096) {
		const char msg[] = "written by the thread";
		for (unsigned i = 0; i < sizeof msg; i++)
			m[i] = msg[i];
		r->map = m;
	}
	/* A robust list: at exit the kernel marks the futexes this thread owns. */
	r->mine.futex = (int)r->tid;
	r->other.futex = 1; /* tid 1: not us */
	r->waiters.futex = (int)r->tid | FUTEX_WAITERS;
	r->head.list.next = &r->mine.link;
	r->mine.link.next = &r->other.link;
	r->other.link.next = &r->waiters.link;
	r->waiters.link.next = &r->head.list;
	r->head.futex_offset = (long)((char *)&r->mine.futex - (char *)&r->mine.link);
	r->head.list_op_pending = 0;
	r->robust_res = RS(set_robust_list, &r->head, sizeof r->head, 0, 0, 0, 0);
	return 7; /* the exit(2) status of a thread goes nowhere */
}

static void test_raw_clone(void)
{
	say("-- raw clone with the pthread flags, a child without libc");
	static struct raw r;
	static unsigned long tls[64];
	static char stack[65536] __attribute__((aligned(16)));
	static volatile int ctid;
	tls[0] = (unsigned long)tls; /* the TLS self pointer, as libcs keep at %fs:0 */
	r.parent_word = 1;
	r.parent_fd = S(open, "big.txt", O_RDONLY);
	long pid = S(getpid), ppid = S(getppid);
	ctid = -1;
	long t = kv_clone(THREAD_FLAGS, stack + sizeof stack, (int *)&ctid, (int *)&ctid, (unsigned long)tls, raw_child, &r);
	say("clone = %s", t > 0 ? ">0" : errname((int)-t));
	if (t <= 0)
		return;
	/* CLONE_PARENT_SETTID wrote the tid before clone returned (or the child already exited and cleared it). */
	int pt = ctid;
	say("parent tid word == clone's result (or already cleared): %s", yesno(pt == t || pt == 0));
	wait_cleared(&ctid);
	say("clear-tid word cleared and woken at the thread's exit: yes");
	say("thread's gettid == clone's result: %s", yesno(r.tid == t));
	say("thread's gettid != getpid: %s", yesno(r.tid != pid));
	say("thread's getpid == the process's: %s", yesno(r.pid == pid));
	say("thread's getppid == the process's: %s", yesno(r.ppid == ppid));
	say("thread's %%fs:0 is the TLS it was given: %s", yesno(r.fs0 == (unsigned long)tls));
	say("main's %%fs:0 unchanged: %s", yesno(({ unsigned long f; __asm__ volatile("mov %%fs:0, %0" : "=r"(f)); f; }) != (unsigned long)tls));
	say("thread saw main's write: %s", yesno(r.saw_parent_write == 1));
	say("main sees the thread's write: %s", yesno(r.child_write == 1234));
	say("thread's open: %s", r.open_fd >= 0 ? "ok" : errname((int)-r.open_fd));
	if (r.open_fd >= 0) {
		char buf[64];
		long n = S(read, r.open_fd, buf, sizeof buf);
		if (n > 0)
			quoted("main reads the thread's fd", buf, n);
		else
			say("main reads the thread's fd: %s", n == 0 ? "EOF" : errname(errno));
		T(S(close, r.open_fd));
	}
	say("thread's close of main's fd = %ld", r.close_res);
	T(S(close, r.parent_fd)); /* closed by the thread: EBADF */
	if (r.map) {
		say("main reads the thread's mapping: \"%s\"", r.map);
		T(S(munmap, r.map, 4096));
	} else
		say("thread's mmap failed");
	say("thread's set_robust_list = %ld", r.robust_res);
	say("robust futex it owned: %#x (FUTEX_OWNER_DIED, tid cleared)", (unsigned)r.mine.futex);
	say("robust futex owned by another tid: %#x", (unsigned)r.other.futex);
	say("robust futex it owned with FUTEX_WAITERS: %#x", (unsigned)r.waiters.futex);

	/* Without CLONE_SETTLS and the tid words: still a thread of ours. */
	static volatile int ctid2;
	memset(&r, 0, sizeof r);
	r.parent_fd = S(open, "big.txt", O_RDONLY);
	ctid2 = -1;
	unsigned long f0;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(f0));
	t = kv_clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_CHILD_CLEARTID, stack + sizeof stack, 0, (int *)&ctid2, 0, raw_child, &r);
	say("clone without SETTLS = %s", t > 0 ? ">0" : errname((int)-t));
	if (t <= 0)
		return;
	/* No CLONE_PARENT_SETTID: the word is -1 until the thread exits. */
	wait_cleared(&ctid2);
	say("thread's %%fs:0 is main's (TLS inherited): %s", yesno(r.fs0 == f0));
	say("thread's gettid == clone's result: %s", yesno(r.tid == t));
	if (r.open_fd >= 0)
		S(close, r.open_fd);
	if (r.map)
		S(munmap, r.map, 4096);

	say("-- CLONE_CHILD_SETTID: the tid in the child's word until it exits");
	static volatile int stid;
	memset(&r, 0, sizeof r);
	r.parent_fd = S(open, "big.txt", O_RDONLY);
	stid = -1;
	r.settid_word = &stid;
	t = kv_clone(THREAD_FLAGS | CLONE_CHILD_SETTID, stack + sizeof stack, 0, (int *)&stid, (unsigned long)tls, raw_child, &r);
	say("clone with CLONE_CHILD_SETTID = %s", t > 0 ? ">0" : errname((int)-t));
	if (t <= 0)
		return;
	wait_cleared(&stid); /* set to the tid by the child, cleared at its exit */
	say("the child saw its tid in the word: %s; cleared at exit: yes", yesno(r.settid_seen == t && r.tid == t));
	if (r.open_fd >= 0)
		S(close, r.open_fd);
	if (r.map)
		S(munmap, r.map, 4096);

	say("-- clone3 with the thread flags");
	static volatile int c3tid;
	memset(&r, 0, sizeof r);
	r.parent_fd = S(open, "big.txt", O_RDONLY);
	c3tid = -1;
	struct clone_args_ ca = { 0 };
	ca.flags = THREAD_FLAGS;
	ca.child_tid = ca.parent_tid = (uint64_t)&c3tid;
	ca.stack = (uint64_t)stack;
	ca.stack_size = sizeof stack;
	ca.tls = (uint64_t)tls;
	t = kv_clone3(&ca, sizeof ca, raw_child, &r);
	say("clone3 = %s", t > 0 ? ">0" : errname((int)-t));
	if (t > 0) {
		wait_cleared(&c3tid);
		say("clone3 thread: tid == result: %s, getpid == ours: %s, TLS given: %s", yesno(r.tid == t), yesno(r.pid == pid), yesno(r.fs0 == (unsigned long)tls));
		if (r.open_fd >= 0)
			S(close, r.open_fd);
		if (r.map)
			S(munmap, r.map, 4096);
	}
	ca.exit_signal = SIGCHLD; /* not allowed with CLONE_THREAD */
	t = kv_clone3(&ca, sizeof ca, raw_child, &r);
	say("clone3(CLONE_THREAD with exit_signal) = %s", t > 0 ? ">0" : errname((int)-t));
	ca.exit_signal = 0;
	ca.stack_size = 0; /* a stack without a size */
	t = kv_clone3(&ca, sizeof ca, raw_child, &r);
	say("clone3(stack without stack_size) = %s", t > 0 ? ">0" : errname((int)-t));
	t = kv_clone3(&ca, 8, raw_child, &r);
	say("clone3(size 8) = %s", t > 0 ? ">0" : errname((int)-t));

	say("-- clone errors");
	t = kv_clone(CLONE_VM | CLONE_THREAD, stack + sizeof stack, 0, 0, 0, raw_child, &r);
	say("clone(CLONE_VM|CLONE_THREAD, no CLONE_SIGHAND) = %s", t > 0 ? ">0" : errname((int)-t));
	t = kv_clone(CLONE_SIGHAND | CLONE_THREAD, stack + sizeof stack, 0, 0, 0, raw_child, &r);
	say("clone(CLONE_SIGHAND|CLONE_THREAD, no CLONE_VM) = %s", t > 0 ? ">0" : errname((int)-t));
}

/* ---- pthreads ---- */

static long main_pid, main_tid;
static volatile long handler_tid;
static volatile int handler_runs;

static void on_usr(int sig)
{
	(void)sig;
	handler_tid = RS(gettid, 0, 0, 0, 0, 0, 0);
	__atomic_add_fetch(&handler_runs, 1, __ATOMIC_SEQ_CST);
}

struct tinfo {
	long tid, pid;
	volatile int ready;
	volatile int stop;
	volatile int ask;
	int unblock; /* unblock SIGUSR2 in the thread */
	unsigned long pending_seen;
};

static void *ids_thread(void *p)
{
	struct tinfo *ti = p;
	ti->tid = RS(gettid, 0, 0, 0, 0, 0, 0);
	ti->pid = RS(getpid, 0, 0, 0, 0, 0, 0);
	return (void *)42;
}

/* Announces itself, then sleeps on `stop` until main sets it (signal handlers may run meanwhile). */
static void *waiting_thread(void *p)
{
	struct tinfo *ti = p;
	ti->tid = RS(gettid, 0, 0, 0, 0, 0, 0);
	if (ti->unblock) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR2);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	}
	set_wake(&ti->ready, 1);
	if (ti->unblock == 2) {
		/* asked by main: report this thread's rt_sigpending */
		wait_set(&ti->ask);
		unsigned long set = 0;
		RS(rt_sigpending, &set, 8, 0, 0, 0, 0);
		ti->pending_seen = set;
		set_wake(&ti->ready, 2);
	}
	wait_set(&ti->stop);
	return NULL;
}

static void wait_runs(int n)
{
	while (__atomic_load_n(&handler_runs, __ATOMIC_SEQ_CST) < n)
		sched_yield();
}

static void test_pthreads(void)
{
	say("-- pthread_create, pthread_join");
	struct tinfo ti = { 0 };
	pthread_t th;
	void *ret = 0;
	main_pid = S(getpid);
	main_tid = S(gettid);
	say("main's gettid == getpid: %s", yesno(main_tid == main_pid));
	T(pthread_create(&th, NULL, ids_thread, &ti));
	T(pthread_join(th, &ret));
	say("join value = %ld", (long)ret);
	say("thread's gettid != getpid: %s", yesno(ti.tid != main_pid));
	say("thread's getpid == main's: %s", yesno(ti.pid == main_pid));

	struct sigaction sa = { 0 };
	sa.sa_handler = on_usr;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	say("-- tgkill and tkill to one thread");
	memset(&ti, 0, sizeof ti);
	T(pthread_create(&th, NULL, waiting_thread, &ti));
	wait_set(&ti.ready);
	T(S(tgkill, main_pid, ti.tid, 0));
	T(S(tgkill, main_pid, ti.tid, SIGUSR1));
	wait_runs(1);
	say("handler ran in the target thread: %s", yesno(handler_tid == ti.tid));
	T(S(tkill, ti.tid, SIGUSR1));
	wait_runs(2);
	say("handler ran in the target thread: %s", yesno(handler_tid == ti.tid));
	T(S(tgkill, main_pid + 100000, ti.tid, SIGUSR1)); /* the tid is not in that group */
	set_wake(&ti.stop, 1);
	T(pthread_join(th, NULL));

	say("-- a process-directed signal goes to the thread that does not block it");
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	memset(&ti, 0, sizeof ti);
	ti.unblock = 1;
	T(pthread_create(&th, NULL, waiting_thread, &ti));
	wait_set(&ti.ready);
	T(S(kill, main_pid, SIGUSR2));
	wait_runs(3);
	say("handler ran in the thread, not in main: %s", yesno(handler_tid == ti.tid));
	set_wake(&ti.stop, 1);
	T(pthread_join(th, NULL));
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	say("-- a thread-directed signal stays pending for its thread");
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, &old);
	memset(&ti, 0, sizeof ti);
	ti.unblock = 2; /* the thread reports its rt_sigpending when woken */
	T(pthread_create(&th, NULL, waiting_thread, &ti));
	wait_set(&ti.ready);
	T(S(tgkill, main_pid, main_tid, SIGUSR1));
	unsigned long pend = 0;
	T(S(rt_sigpending, &pend, 8));
	say("main: SIGUSR1 pending: %s", yesno(pend & (1UL << (SIGUSR1 - 1))));
	set_wake(&ti.ask, 1);
	for (int v; (v = ti.ready) != 2;)
		RS(futex, &ti.ready, FUTEX_WAIT, v, 0, 0, 0);
	say("thread: SIGUSR1 pending: %s", yesno(ti.pending_seen & (1UL << (SIGUSR1 - 1))));
	say("handler runs so far: %d", handler_runs);
	pthread_sigmask(SIG_SETMASK, &old, NULL); /* delivered here, in main */
	say("after unblocking in main, handler runs: %d, in main: %s", handler_runs, yesno(handler_tid == main_tid));
	set_wake(&ti.stop, 1);
	T(pthread_join(th, NULL));
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* ---- exit vs exit_group, the status of a process whose leader exited, wait4 from a thread ---- */

static void *exit_group_thread(void *p)
{
	(void)p;
	RS(exit_group, 7, 0, 0, 0, 0, 0);
	return NULL;
}

static void *outliving_thread(void *p)
{
	(void)p;
	/* (whichever exits first, the process's status is the leader's) */
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	RS(nanosleep, &ts, 0, 0, 0, 0, 0);
	RS(exit, 5, 0, 0, 0, 0, 0); /* the last thread: the process ends with the leader's status */
	return NULL;
}

static void *outliving_group_thread(void *p)
{
	(void)p;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	RS(nanosleep, &ts, 0, 0, 0, 0, 0);
	const char msg[] = "the last thread writes after the leader exited\n";
	RS(write, 1, msg, sizeof msg - 1, 0, 0, 0);
	RS(exit_group, 9, 0, 0, 0, 0, 0);
	return NULL;
}

static void status(const char *what, long pid)
{
	int st = 0;
	long r = S(wait4, pid, &st, 0, NULL);
	if (r == -1)
		say("%s: wait4 -1 %s", what, errname(errno));
	else if (WIFEXITED(st))
		say("%s: exited %d", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		say("%s: killed by signal %d", what, WTERMSIG(st));
	else
		say("%s: status %#x", what, st);
}

static void *wait_thread(void *p)
{
	long child = (long)p;
	int st = 0;
	long r = S(wait4, child, &st, 0, NULL);
	return (void *)(r == child && WIFEXITED(st) ? (long)WEXITSTATUS(st) : -1L);
}

static void test_exits(void)
{
	say("-- exit_group from a thread ends every thread (main blocked in read)");
	long pid = S(fork);
	if (pid == 0) {
		int fds[2];
		pipe(fds);
		pthread_t th;
		pthread_create(&th, NULL, exit_group_thread, NULL);
		char c;
		S(read, fds[0], &c, 1); /* never returns */
		_exit(1);
	}
	status("child", pid);

	say("-- the leader exits first (exit, not exit_group); the last thread's exit ends the process");
	pid = S(fork);
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, outliving_thread, NULL);
		RS(exit, 3, 0, 0, 0, 0, 0);
	}
	status("child (leader exit 3, thread exit 5)", pid);

	pid = S(fork);
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, outliving_group_thread, NULL);
		RS(exit, 3, 0, 0, 0, 0, 0);
	}
	status("child (leader exit 3, thread exit_group 9)", pid);

	say("-- a child with threads: four threads, then exit(6) from main");
	pid = S(fork);
	if (pid == 0) {
		static struct tinfo tis[4];
		pthread_t th[4];
		for (int i = 0; i < 4; i++) {
			pthread_create(&th[i], NULL, waiting_thread, &tis[i]);
			wait_set(&tis[i].ready);
		}
		exit(6);
	}
	status("child", pid);

	say("-- wait4 from a thread for a child main forked");
	pid = S(fork);
	if (pid == 0)
		_exit(12);
	pthread_t th;
	void *ret;
	T(pthread_create(&th, NULL, wait_thread, (void *)pid));
	T(pthread_join(th, &ret));
	say("the thread's wait4: %ld", (long)ret);
	T(S(wait4, -1, NULL, WNOHANG, NULL));
}

static void *exec_thread(void *p)
{
	char pidbuf[32];
	snprintf(pidbuf, sizeof pidbuf, "%ld", (long)p);
	char *argv[] = { "threads", "after-exec", pidbuf, NULL };
	char *envp[] = { NULL };
	execve("/proc/self/exe", argv, envp);
	return NULL;
}

static void *segv_thread(void *p)
{
	(void)p;
	*(volatile int *)8 = 1;
	return NULL;
}

static void test_exec_and_crash(void)
{
	say("-- execve from a thread: the other threads end, the process keeps its pid");
	long pid = S(fork);
	if (pid == 0) {
		pthread_t th;
		int fds[2];
		pipe(fds);
		pthread_create(&th, NULL, exec_thread, (void *)S(getpid));
		char c;
		S(read, fds[0], &c, 1); /* ends when the thread's execve ends this thread */
		_exit(1);
	}
	status("child", pid);

	say("-- a fault in a thread kills the whole process");
	pid = S(fork);
	if (pid == 0) {
		pthread_t th;
		int fds[2];
		pipe(fds);
		pthread_create(&th, NULL, segv_thread, NULL);
		char c;
		S(read, fds[0], &c, 1);
		_exit(1);
	}
	status("child", pid);
}

static int cancel_pipe[2];
static void *cancel_thread(void *p)
{
	(void)p;
	char c;
	read(cancel_pipe[0], &c, 1); /* a cancellation point, blocked */
	return (void *)1;
}

static void test_cancel(void)
{
	say("-- pthread_cancel of a thread blocked in read");
	T(pipe(cancel_pipe));
	pthread_t th;
	void *ret = 0;
	T(pthread_create(&th, NULL, cancel_thread, NULL));
	/* cancelled before or while it blocks: either way it ends at the read */
	T(pthread_cancel(th));
	T(pthread_join(th, &ret));
	say("joined with PTHREAD_CANCELED: %s", yesno(ret == PTHREAD_CANCELED));
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
}

/* ---- a robust mutex whose owner died ---- */

static pthread_mutex_t robust;
static void *lock_and_die(void *p)
{
	(void)p;
	pthread_mutex_lock(&robust);
	return NULL; /* exits holding it */
}

static void test_robust_mutex(void)
{
	say("-- a robust mutex whose owner thread exited");
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_t th;
	T(pthread_create(&th, NULL, lock_and_die, NULL));
	T(pthread_join(th, NULL));
	int e = pthread_mutex_lock(&robust);
	say("pthread_mutex_lock = %s", errname(e));
	if (e == EOWNERDEAD)
		T(pthread_mutex_consistent(&robust));
	T(pthread_mutex_unlock(&robust));
	T(pthread_mutex_lock(&robust));
	T(pthread_mutex_unlock(&robust));
}

/* ---- descriptors and memory shared by pthreads ---- */

static int pipefd[2];
static char *shared_map;
static void *sharing_thread(void *p)
{
	(void)p;
	shared_map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(shared_map, "mapped by the thread");
	write(pipefd[1], "through the pipe", 16);
	close(pipefd[1]);
	return NULL;
}

static void test_sharing(void)
{
	say("-- descriptors and mappings are shared");
	T(pipe(pipefd));
	pthread_t th;
	T(pthread_create(&th, NULL, sharing_thread, NULL));
	char buf[64];
	long n = read(pipefd[0], buf, sizeof buf);
	quoted("main reads", buf, n > 0 ? n : 0);
	T(pthread_join(th, NULL));
	T(read(pipefd[0], buf, sizeof buf)); /* the thread closed the write end: EOF */
	T(close(pipefd[1]));                  /* already closed by the thread */
	say("main reads the thread's mapping: \"%s\"", shared_map);
	T(munmap(shared_map, 8192));
	T(close(pipefd[0]));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "after-exec")) {
		/* the image a thread exec'd: it has the old pid, and is the only thread */
		long old = atol(argv[2]);
		setvbuf(stdout, NULL, _IOLBF, 0);
		say("after execve: getpid == the old pid: %s, gettid == getpid: %s", yesno(S(getpid) == old), yesno(S(gettid) == S(getpid)));
		return 4;
	}
	begin("threads");
	test_raw_clone();
	test_pthreads();
	test_exits();
	test_exec_and_crash();
	test_cancel();
	test_robust_mutex();
	test_sharing();
	return 0;
}
