/*
 * Signals: rt_sigaction and rt_sigprocmask store what they are given and
 * return it (SIGKILL and SIGSTOP can be neither caught nor blocked, and are
 * silently dropped from masks), with EINVAL for bad signal numbers, bad
 * `how` and bad sigsetsize; sigaltstack stores and returns. No signal is
 * ever sent (kill.c sends some).
 *
 * Raw kernel structs: struct k_sigaction is handler, flags, restorer, mask
 * (8 bytes: sigsetsize must be 8).
 */
#include "conformance.h"
#include <signal.h>

struct ksa {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	unsigned long mask;
};

#define BIT(sig) (1UL << ((sig) - 1))
#define K_SA_RESTORER 0x04000000UL
#define K_SA_UNSUPPORTED 0x00000400UL

static void handler(int sig) { (void)sig; }
static void restorer(void) {}

static const char *handler_name(unsigned long h)
{
	if (h == 0)
		return "SIG_DFL";
	if (h == 1)
		return "SIG_IGN";
	if (h == (unsigned long)handler)
		return "handler";
	return "?";
}

static void show(const char *what, const struct ksa *k)
{
	say("  %s: %s flags %#lx restorer %s mask %#lx", what, handler_name(k->handler), k->flags,
	    k->restorer == 0 ? "0" : k->restorer == (unsigned long)restorer ? "restorer" : "?", k->mask);
}

static void query(int sig)
{
	struct ksa old;
	memset(&old, 0x5a, sizeof old);
	long r = S(rt_sigaction, sig, NULL, &old, 8);
	if (r == -1)
		say("query signal %d: -1 %s", sig, errname(errno));
	else
		show("now", &old);
}

static void test_sigaction(void)
{
	struct ksa act, old;

	say("-- rt_sigaction");
	say("SIGUSR1 at start:");
	query(SIGUSR1);
	act = (struct ksa){ (unsigned long)handler, SA_SIGINFO | SA_RESTART | K_SA_RESTORER, (unsigned long)restorer,
			    BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGINT) };
	memset(&old, 0x5a, sizeof old);
	T(S(rt_sigaction, SIGUSR1, &act, &old, 8));
	show("old", &old);
	query(SIGUSR1);
	act = (struct ksa){ 1 /* SIG_IGN */, K_SA_RESTORER, (unsigned long)restorer, 0 };
	memset(&old, 0x5a, sizeof old);
	T(S(rt_sigaction, SIGUSR1, &act, &old, 8));
	show("old", &old);
	query(SIGUSR1);
	act = (struct ksa){ (unsigned long)handler, SA_NODEFER | SA_RESETHAND | SA_ONSTACK | K_SA_RESTORER, (unsigned long)restorer, ~0UL };
	T(S(rt_sigaction, SIGUSR2, &act, NULL, 8));
	query(SIGUSR2);
	act = (struct ksa){ (unsigned long)handler, K_SA_UNSUPPORTED | K_SA_RESTORER, (unsigned long)restorer, 0 };
	T(S(rt_sigaction, SIGUSR2, &act, NULL, 8));
	say("an unknown flag bit (SA_UNSUPPORTED) is not kept:");
	query(SIGUSR2);
	act = (struct ksa){ 0, 0, 0, 0 };
	T(S(rt_sigaction, SIGUSR2, &act, NULL, 8));
	query(SIGUSR2);
	T(S(rt_sigaction, SIGUSR1, NULL, NULL, 8));

	say("every valid signal, 1..64 (SIGKILL and SIGSTOP cannot be set):");
	act = (struct ksa){ (unsigned long)handler, K_SA_RESTORER, (unsigned long)restorer, 0 };
	char line[256] = "";
	for (int sig = 1; sig <= 64; sig++) {
		long r = S(rt_sigaction, sig, &act, NULL, 8);
		if (r == -1) {
			char one[32];
			snprintf(one, sizeof one, " %d:%s", sig, errname(errno));
			strcat(line, one);
		}
	}
	say("  failures:%s", line);
	say("SIGKILL and SIGSTOP can be queried:");
	query(SIGKILL);
	query(SIGSTOP);
	act = (struct ksa){ 1, K_SA_RESTORER, (unsigned long)restorer, 0 };
	T(S(rt_sigaction, SIGKILL, &act, NULL, 8));
	act = (struct ksa){ 0, 0, 0, 0 };
	T(S(rt_sigaction, SIGSTOP, &act, NULL, 8));
	T(S(rt_sigaction, 0, &act, NULL, 8));
	T(S(rt_sigaction, 0, NULL, &old, 8));
	T(S(rt_sigaction, 65, NULL, &old, 8));
	T(S(rt_sigaction, 65, &act, NULL, 8));
	T(S(rt_sigaction, -1, NULL, &old, 8));
	T(S(rt_sigaction, 1000, NULL, &old, 8));
	T(S(rt_sigaction, SIGUSR1, NULL, &old, 4));
	T(S(rt_sigaction, SIGUSR1, NULL, &old, 16));
	T(S(rt_sigaction, SIGUSR1, &act, NULL, 0));
	/* back to the defaults */
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			S(rt_sigaction, sig, &act, NULL, 8);
	query(SIGUSR1);
}

static void mask_case(const char *label, int how, const unsigned long *set, int size)
{
	unsigned long old = 0x5a5a5a5a5a5a5a5aUL, now = 0x5a;
	long r = S(rt_sigprocmask, how, set, &old, size);
	S(rt_sigprocmask, SIG_BLOCK, NULL, &now, 8);
	if (r == -1)
		say("%s = -1 %s, mask now %#lx", label, errname(errno), now);
	else
		say("%s = %ld: old %#lx, mask now %#lx", label, r, old, now);
}

static void test_sigprocmask(void)
{
	unsigned long set, now = 0x5a;

	say("-- rt_sigprocmask");
	T(S(rt_sigprocmask, SIG_BLOCK, NULL, &now, 8));
	say("  mask at start: %#lx", now);
	set = BIT(SIGUSR1) | BIT(SIGKILL) | BIT(SIGSTOP);
	mask_case("SIG_BLOCK {USR1, KILL, STOP}", SIG_BLOCK, &set, 8);
	set = BIT(SIGUSR2);
	mask_case("SIG_BLOCK {USR2}", SIG_BLOCK, &set, 8);
	set = BIT(SIGUSR1) | BIT(SIGINT);
	mask_case("SIG_UNBLOCK {USR1, INT}", SIG_UNBLOCK, &set, 8);
	set = BIT(SIGINT) | BIT(40) | BIT(64);
	mask_case("SIG_SETMASK {INT, 40, 64}", SIG_SETMASK, &set, 8);
	set = ~0UL;
	mask_case("SIG_SETMASK all", SIG_SETMASK, &set, 8);
	mask_case("query with how = 99 (ignored without a set)", 99, NULL, 8);
	set = BIT(SIGUSR1);
	mask_case("how = 3", 3, &set, 8);
	mask_case("how = -1", -1, &set, 8);
	mask_case("sigsetsize 4", SIG_BLOCK, &set, 4);
	mask_case("sigsetsize 16", SIG_BLOCK, &set, 16);
	mask_case("sigsetsize 4, no set", SIG_BLOCK, NULL, 4);
	T(S(rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8));
	set = 0;
	mask_case("SIG_SETMASK {}", SIG_SETMASK, &set, 8);
}

struct kstack {
	unsigned long sp;
	int flags;
	int pad;
	unsigned long size;
};

static void show_stack(const char *when)
{
	struct kstack old;
	memset(&old, 0x5a, sizeof old);
	long r = S(sigaltstack, NULL, &old);
	if (r == -1)
		say("  sigaltstack %s: -1 %s", when, errname(errno));
	else
		say("  %s: flags %#x sp %s size %lu", when, old.flags, old.sp == 0 ? "0" : "set", old.size);
}

static void test_sigaltstack(void)
{
	static char stack[16384];
	struct kstack ss, old;

	say("-- sigaltstack");
	show_stack("at start");
	ss = (struct kstack){ (unsigned long)stack, 0, 0, sizeof stack };
	memset(&old, 0x5a, sizeof old);
	TL("sigaltstack({stack, 0, 16384}, &old)", S(sigaltstack, &ss, &old));
	say("  old: flags %#x size %lu", old.flags, old.size);
	show_stack("set");
	ss = (struct kstack){ (unsigned long)stack, 0, 0, 1024 };
	TL("sigaltstack({stack, 0, 1024: less than MINSIGSTKSZ})", S(sigaltstack, &ss, NULL));
	ss = (struct kstack){ (unsigned long)stack, 0x4, 0, sizeof stack };
	TL("sigaltstack({stack, flags 0x4, 16384})", S(sigaltstack, &ss, NULL));
	ss = (struct kstack){ (unsigned long)stack, SS_ONSTACK, 0, sizeof stack };
	TL("sigaltstack({stack, SS_ONSTACK, 16384})", S(sigaltstack, &ss, NULL));
	ss = (struct kstack){ (unsigned long)stack, (int)0x80000000u, 0, sizeof stack };
	TL("sigaltstack({stack, SS_AUTODISARM, 16384})", S(sigaltstack, &ss, NULL));
	show_stack("with SS_AUTODISARM");
	ss = (struct kstack){ 0, SS_DISABLE, 0, 0 };
	TL("sigaltstack({0, SS_DISABLE, 0})", S(sigaltstack, &ss, NULL));
	show_stack("disabled");
	T(S(sigaltstack, NULL, NULL));
}

int main(void)
{
	begin("signals");
	test_sigaction();
	test_sigprocmask();
	test_sigaltstack();
	say("== end");
	return 0;
}
