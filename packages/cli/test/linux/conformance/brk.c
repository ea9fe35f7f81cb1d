/*
 * The break next to mappings: brk growth and shrinking, a PROT_NONE
 * MAP_FIXED page at the start of the heap (what musl's malloc maps as a
 * guard), a mapping at the break and growth into another mapping (both
 * fail on Linux: it keeps a free page below the next mapping), a MAP_FIXED
 * mapping inside the heap that shrinking takes away, and then malloc-heavy
 * work mixing brk and mmap (musl's mallocng: meta areas on the break
 * behind its guard page, groups in mmap).
 *
 * Addresses differ between runs: everything is printed relative to the
 * page-aligned initial break. Access is probed through the kernel
 * (EFAULT from access/pread64) and, where a page must be usable, by
 * touching it; pages that must not be usable are touched in a forked
 * child, whose death by SIGSEGV is what Linux gives.
 */
#include "conformance.h"
#include <signal.h>
#include <sys/wait.h>

#define PAGE 4096L

static int hello_fd;
static char *base;

static long off(long addr) { return (addr - (long)base) / PAGE; }

/* The kernel's view of p: readable()/writable() in conformance.h, writing through hello.txt. */
static const char *writable(void *p) { return writable_by(hello_fd, p); }

/* Touches p in a child: "ok" or the signal that killed it. */
static const char *touch(volatile char *p)
{
	pid_t pid = fork();
	if (pid == 0) {
		p[1] = 7;
		_exit(p[1] == 7 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "another signal";
	return WEXITSTATUS(st) == 0 ? "ok" : "bad data";
}

static void probe(const char *what, long page)
{
	char *p = base + page * PAGE;
	const char *r = readable(p);
	const char *w = writable(p);
	say("  page %ld (%s): %s, %s, touch: %s", page, what, r, w, touch(p));
}

/* brk(base + pages * PAGE + extra): the new break in pages from base. */
static void set(long pages, long extra)
{
	long want = (long)base + pages * PAGE + extra;
	long got = S(brk, want);
	say("brk(base + %ld pages%s) -> %s, break at page %ld%s", pages, extra ? " + 1" : "",
	    got == want ? "moved" : "refused", off(got), (got - (long)base) % PAGE ? " + part" : "");
}

static long map_at(long page, long pages, int prot, int flags)
{
	long r = S(mmap, base + page * PAGE, pages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (r == -1) {
		say("mmap(page %ld, %ld pages) = -1 %s", page, pages, errname(errno));
		return -1;
	}
	say("mmap(page %ld, %ld pages) = page %ld", page, pages, off(r));
	return r;
}

static void test_brk(void)
{
	say("-- brk growth and shrinking");
	long b0 = S(brk, 0);
	base = (char *)((b0 + PAGE - 1) & -PAGE);
	say("initial break page aligned: %s", yesno(b0 == (long)base));
	set(4, 0);
	memset(base, 0x11, 4 * PAGE);
	say("  written: %s", yesno(base[0] == 0x11 && base[4 * PAGE - 1] == 0x11));
	set(4, 1);
	probe("the part page", 4);
	set(2, 0);
	probe("released", 3);
	set(5, 0);
	say("  kept data: %s, regrown pages zero: %s", yesno(base[PAGE] == 0x11 && base[2 * PAGE - 1] == 0x11),
	    yesno(all_zero(base + 2 * PAGE, 3 * PAGE)));
	set(-3, 0);
	set(0, 0);

	say("-- a PROT_NONE guard at the start of the heap (musl's malloc)");
	set(2, 0);
	map_at(0, 1, PROT_NONE, MAP_FIXED);
	set(3, 0);
	set(6, 0);
	memset(base + PAGE, 0x22, 5 * PAGE);
	say("  heap pages written: %s", yesno(base[PAGE] == 0x22 && base[6 * PAGE - 1] == 0x22));
	probe("the guard", 0);
	probe("heap", 1);
	probe("grown heap", 2);
	probe("grown heap", 5);

	say("-- a mapping at the break");
	map_at(6, 1, PROT_NONE, MAP_FIXED);
	set(7, 0);
	set(6, 1);
	probe("the mapping", 6);
	T(S(munmap, base + 6 * PAGE, PAGE));
	set(7, 0);
	probe("heap again", 6);

	say("-- growth towards and into another mapping");
	long m = map_at(12, 2, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	if (m != -1)
		base[12 * PAGE] = 0x33;
	set(11, 0);
	set(11, 1);
	set(12, 0);
	set(20, 0);
	probe("heap below the mapping", 10);
	probe("the free page", 11);
	say("  the mapping kept its data: %s", yesno(base[12 * PAGE] == 0x33));
	T(S(munmap, base + 12 * PAGE, 2 * PAGE));
	set(20, 0);
	probe("heap where the mapping was", 13);

	say("-- MAP_FIXED inside the heap, then shrinking over it");
	map_at(15, 1, PROT_READ, MAP_FIXED);
	probe("read-only mapping in the heap", 15);
	probe("heap above it", 16);
	set(14, 0);
	map_at(15, 1, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	T(S(munmap, base + 15 * PAGE, PAGE));
	probe("gone", 15);

	say("-- shrinking where nothing is mapped");
	T(S(munmap, base + 10 * PAGE, 4 * PAGE));
	set(10, 0);
	set(12, 0);
	set(9, 0);
	set(12, 0);
	probe("regrown", 10);
	probe("heap", 8);

	say("-- back to the start");
	set(0, 0);
	probe("the guard (unmapped with the heap)", 0);
	long r = S(brk, b0);
	say("brk(initial) = initial: %s", yesno(r == b0));
}

/* A small deterministic generator. */
static unsigned long seed = 12345;
static unsigned long next(void)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return seed >> 33;
}

#define SLOTS 4000

static void test_malloc(void)
{
	say("-- malloc on brk and mmap");
	static char *slot[SLOTS];
	static size_t size[SLOTS];
	unsigned long sum = 0, bad = 0;
	for (int round = 0; round < 30; round++) {
		for (int k = 0; k < SLOTS; k++) {
			int i = next() % SLOTS;
			if (slot[i]) {
				for (size_t j = 0; j < size[i]; j += 97)
					if (slot[i][j] != (char)(i + j))
						bad++;
				if (next() % 4 == 0 && size[i] < 100000) {
					size_t n = size[i] * 2 + 1;
					char *q = realloc(slot[i], n);
					if (!q) {
						bad++;
						continue;
					}
					for (size_t j = size[i]; j < n; j++)
						q[j] = (char)(i + j);
					slot[i] = q;
					size[i] = n;
				} else {
					free(slot[i]);
					slot[i] = 0;
				}
				continue;
			}
			unsigned long c = next() % 100;
			size_t n = c < 70 ? 1 + next() % 200 : c < 95 ? 200 + next() % 4000 : c < 99 ? 4096 + next() % 60000 : 131072 + next() % 300000;
			char *p = malloc(n);
			if (!p) {
				bad++;
				continue;
			}
			for (size_t j = 0; j < n; j++)
				p[j] = (char)(i + j);
			slot[i] = p;
			size[i] = n;
			sum += n;
		}
	}
	long live = 0;
	for (int i = 0; i < SLOTS; i++) {
		if (slot[i]) {
			for (size_t j = 0; j < size[i]; j += 13)
				if (slot[i][j] != (char)(i + j))
					bad++;
			live++;
			free(slot[i]);
		}
	}
	say("bytes allocated %lu, live at the end %ld, bad %lu", sum, live, bad);
	long b = S(brk, 0);
	say("the break grew past its guard page: %s", yesno(b > (long)base + 2 * PAGE));
}

int main(void)
{
	begin("brk");
	hello_fd = open("hello.txt", O_RDONLY);
	if (hello_fd < 0) {
		say("open hello.txt: %s", errname(errno));
		return 1;
	}
	test_brk();
	test_malloc();
	return 0;
}
