/*
 * Signal delivery to handlers: a SIGSEGV handler with siginfo that
 * siglongjmps out; raise() whose handler returns (the program goes on, its
 * registers and SSE state intact); SA_RESETHAND; sa_mask and the signal
 * itself blocked while the handler runs (SA_NODEFER not); a blocked signal
 * delivered when unblocked; SIGPIPE caught instead of death; kill() to a
 * child that catches the signal; SIGCHLD on a child's exit; SIGILL and
 * SIGFPE handlers; a handler's uc_sigmask; sigaltstack with SA_ONSTACK.
 */
#include "conformance.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <fenv.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile sig_atomic_t count;
static volatile int last_sig, last_code;
static volatile void *last_addr;
static volatile unsigned long mask_in_handler;
static volatile int saw_blocked_self, saw_blocked_usr2;

static void catch(int sig, void (*h)(int, siginfo_t *, void *), int flags, const sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | flags;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		say("sigaction %d failed: %s", sig, errname(errno));
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static void on_count(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	sigset_t now;
	count++;
	last_sig = sig;
	last_code = si->si_code;
	sigprocmask(SIG_BLOCK, NULL, &now);
	saw_blocked_self = sigismember(&now, sig);
	saw_blocked_usr2 = sigismember(&now, SIGUSR2);
	mask_in_handler = sigismember(&uc->uc_sigmask, sig);
	/* SSE state in the handler: must not leak into the interrupted code. */
	fesetround(FE_TOWARDZERO);
	volatile double d = 3.0;
	d = d * 7.5;
	(void)d;
}

static void test_segv(void)
{
	say("-- SIGSEGV handler, siglongjmp out");
	catch(SIGSEGV, on_fault, 0, NULL);
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile int *)16 = 1;
		say("  not reached");
	}
	say("  sig %d code %d addr==16 %d", last_sig, last_code, last_addr == (void *)16);
	/* Again: siglongjmp restored the mask, so SIGSEGV is not blocked. */
	last_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile int *)24;
	say("  again: sig %d addr==24 %d", last_sig, last_addr == (void *)24);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(jb, 1) == 0)
		ro[5] = 1;
	say("  read-only page: sig %d code %d addr ok %d", last_sig, last_code, last_addr == ro + 5);
	signal(SIGSEGV, SIG_DFL);
}

static void test_ill_fpe(void)
{
	say("-- SIGILL, SIGFPE");
	catch(SIGILL, on_fault, 0, NULL);
	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("ud2");
	say("  SIGILL: sig %d code %d", last_sig, last_code);
	catch(SIGFPE, on_fault, 0, NULL);
	volatile int zero = 0;
	if (sigsetjmp(jb, 1) == 0)
		say("  %d", 5 / zero);
	say("  SIGFPE: sig %d code %d", last_sig, last_code);
}

static void test_raise(void)
{
	say("-- raise(SIGUSR1) returns");
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	catch(SIGUSR1, on_count, 0, &m);
	volatile double x = 1.25;
	count = 0;
	fesetround(FE_UPWARD);
	long r = raise(SIGUSR1);
	x = x * 2;
	say("  rounding mode kept %d", fegetround() == FE_UPWARD);
	fesetround(FE_TONEAREST);
	say("  raise %ld count %d sig %d code %d", r, (int)count, last_sig, last_code);
	say("  in handler: self blocked %d, sa_mask SIGUSR2 blocked %d, uc_sigmask has it %d",
	    saw_blocked_self, saw_blocked_usr2, (int)mask_in_handler);
	say("  after: x %d", (int)(x * 100));
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	say("  mask restored: SIGUSR1 %d SIGUSR2 %d", sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
	for (int i = 0; i < 5; i++)
		kill(getpid(), SIGUSR1);
	say("  5 kills: count %d code %d", (int)count, last_code);

	say("-- SA_NODEFER");
	catch(SIGUSR1, on_count, SA_NODEFER, NULL);
	raise(SIGUSR1);
	say("  self blocked in handler %d", saw_blocked_self);
}

static void test_resethand(void)
{
	say("-- SA_RESETHAND");
	catch(SIGUSR2, on_count, SA_RESETHAND, NULL);
	count = 0;
	raise(SIGUSR2);
	struct sigaction old;
	sigaction(SIGUSR2, NULL, &old);
	say("  count %d, now SIG_DFL %d", (int)count, old.sa_handler == SIG_DFL);
}

static void test_unblock(void)
{
	say("-- blocked, delivered on unblock");
	catch(SIGUSR1, on_count, 0, NULL);
	sigset_t m, pend;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	count = 0;
	raise(SIGUSR1);
	sigpending(&pend);
	say("  while blocked: count %d pending %d", (int)count, sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	say("  after unblock: count %d", (int)count);
}

static void test_sigpipe(void)
{
	say("-- SIGPIPE caught");
	catch(SIGPIPE, on_count, 0, NULL);
	int p[2];
	pipe(p);
	close(p[0]);
	count = 0;
	errno = 0;
	long r = write(p[1], "x", 1);
	say("  write %ld %s count %d sig %d", r, errname(errno), (int)count, last_sig);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
}

static volatile int chld, chld_code, chld_status;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld++;
	chld_code = si->si_code;
	chld_status = si->si_status;
}

static void test_children(void)
{
	say("-- SIGCHLD, kill to a child that catches");
	catch(SIGCHLD, on_chld, 0, NULL);
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	int st;
	waitpid(c, &st, 0);
	say("  exited: SIGCHLD %d code %d status %d", chld, chld_code, chld_status);

	int p[2], q[2];
	char b;
	pipe(p);
	pipe(q);
	c = fork();
	if (c == 0) {
		close(p[0]);
		close(q[1]);
		catch(SIGUSR1, on_count, 0, NULL);
		count = 0;
		write(p[1], "r", 1);
		/* Interrupted (EINTR) or not, the handler has run after it. */
		read(q[0], &b, 1);
		_exit(40 + count);
	}
	close(p[1]);
	close(q[0]);
	read(p[0], &b, 1);
	close(p[0]);
	kill(c, SIGUSR1);
	/* The child may already have left its read (EINTR) and exited: then
	   this write has no reader. That is EPIPE here, not a death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	write(q[1], "g", 1);
	signal(SIGPIPE, SIG_DFL);
	close(q[1]);
	waitpid(c, &st, 0);
	say("  child: exited %d status %d", WIFEXITED(st), WEXITSTATUS(st));
	signal(SIGCHLD, SIG_DFL);
}

static void on_alt(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	last_sig = sig;
	last_addr = __builtin_frame_address(0);
}

static void test_altstack(void)
{
	say("-- SA_ONSTACK");
	static char alt[65536];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
	sigaltstack(&ss, NULL);
	catch(SIGUSR2, on_alt, SA_ONSTACK, NULL);
	raise(SIGUSR2);
	say("  on the alternate stack %d", (char *)last_addr > alt && (char *)last_addr < alt + sizeof alt);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_segv();
	test_ill_fpe();
	test_raise();
	test_resethand();
	test_unblock();
	test_sigpipe();
	test_children();
	test_altstack();
	say("done");
	return 0;
}
