/*
 * Memory: brk, mmap, munmap, mprotect, mremap, madvise, msync.
 *
 * Addresses differ between runs, so only relations are printed (the result
 * is the address asked for, page aligned, zero filled, ...). Whether a page
 * is readable or writable is probed through the kernel, not by touching it
 * (a fault would kill the program: there is no fork to do it in a child):
 *   readable(p): access(p, F_OK) reads a path from p: EFAULT if unreadable
 *                (any other answer means the kernel could read it);
 *   writable(p): pread64 of one byte of hello.txt ('H') into p: EFAULT if the
 *                kernel cannot write there. It changes p[0]: data checks look
 *                at other bytes.
 * The program itself never calls malloc, so the break is all ours.
 */
#include "conformance.h"

#define PAGE 4096L

static int hello_fd;

/* The kernel's view of p: readable()/writable() in conformance.h, writing through hello.txt. */
static const char *writable(void *p) { return writable_by(hello_fd, p); }

static void probe(const char *what, void *p)
{
	const char *r = readable(p); /* first: writable() changes p[0] */
	const char *w = writable(p);
	say("  %s: %s, %s", what, r, w);
}

#define ADDR(var, expr) do { errno = 0; var = (char *)(expr); if ((long)var == -1) say("%s = -1 %s", #expr, errname(errno)); else say("%s = ok", #expr); } while (0)

/* Each failure is checked against the break just before it. */
static void brk_fails(const char *label, char *addr)
{
	char *cur = (char *)S(brk, 0);
	char *r = (char *)S(brk, addr);
	say("  %s: returns the current break: %s, leaves it: %s", label, yesno(r == cur), yesno((char *)S(brk, 0) == cur));
}

static void test_brk(void)
{
	say("-- brk");
	char *b0 = (char *)S(brk, 0);
	say("brk(0) > 0: %s", yesno((long)b0 > 0));
	say("brk(0) again, same: %s", yesno((char *)S(brk, 0) == b0));
	char *b1 = (char *)S(brk, b0 + 3 * PAGE);
	say("brk(b0 + 3 pages) = the request: %s", yesno(b1 == b0 + 3 * PAGE));
	say("  new memory is zero: %s", yesno(all_zero(b0, 3 * PAGE)));
	memset(b0, 0x5a, 3 * PAGE);
	say("  written and read back: %s", yesno(b0[0] == 0x5a && b0[3 * PAGE - 1] == 0x5a));
	say("brk(b0 + 3 pages + 1) = the request (not rounded): %s", yesno((char *)S(brk, b0 + 3 * PAGE + 1) == b0 + 3 * PAGE + 1));
	probe("b0 + 3 pages (inside the last page)", b0 + 3 * PAGE);
	say("brk(b0 + 1 page) shrinks: %s", yesno((char *)S(brk, b0 + PAGE) == b0 + PAGE));
	probe("b0", b0);
	probe("b0 + 2 pages (released)", b0 + 2 * PAGE);
	say("brk(b0 + 3 pages) grows again: %s", yesno((char *)S(brk, b0 + 3 * PAGE) == b0 + 3 * PAGE));
	say("  the kept page kept its data: %s", yesno(b0[1] == 0x5a && b0[PAGE - 1] == 0x5a));
	say("  the new pages are zero again: %s", yesno(all_zero(b0 + PAGE, 2 * PAGE)));
	say("brk(0) = the current break: %s", yesno((char *)S(brk, 0) == b0 + 3 * PAGE));
	say("failures return the current break (and leave it):");
	brk_fails("brk(b0 - 1000 pages)", b0 - 1000 * PAGE);
	brk_fails("brk(b0 + 64 TiB)", b0 + (1L << 46));
	brk_fails("brk(0xffffffff80000000)", (char *)0xffffffff80000000UL);
	brk_fails("brk(-1)", (char *)-1L);
	S(brk, b0 + 3 * PAGE);
	say("brk(b0) back to the start: %s", yesno((char *)S(brk, b0) == b0));
	probe("b0 (released)", b0 + PAGE);
}

static void test_mmap(void)
{
	char *p, *q;
	int fd;

	say("-- mmap");
	ADDR(p, S(mmap, 0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	say("  page aligned: %s, zero filled: %s", yesno(((long)p & (PAGE - 1)) == 0), yesno(all_zero(p, 3 * PAGE)));
	memset(p, 0x33, 3 * PAGE);
	say("  written and read back: %s", yesno(p[0] == 0x33 && p[3 * PAGE - 1] == 0x33));
	probe("p", p);
	ADDR(q, S(mmap, 0, 5000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	say("  5000 bytes: 2 pages usable: %s", writable(q + 8191));
	say("  a different place: %s", yesno(q + 2 * PAGE <= p || q >= p + 3 * PAGE));
	T(S(munmap, q, 5000));
	ADDR(q, S(mmap, 12345, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	say("  an unaligned hint: still page aligned: %s", yesno(((long)q & (PAGE - 1)) == 0));
	T(S(munmap, q, PAGE));
	ADDR(q, S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 99, 0));
	say("  (MAP_ANONYMOUS ignores fd) read-only: %s", writable(q));
	T(S(munmap, q, PAGE));

	say("errors:");
	T(S(mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
	T(S(mmap, 0, -1L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(S(mmap, 0, 1L << 47, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(S(mmap, p + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	T(S(mmap, 0xffffffff80000000UL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	T(S(mmap, 0x7ffffffff000UL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0));

	say("MAP_FIXED, MAP_FIXED_NOREPLACE:");
	T(S(mmap, p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)(p + PAGE));
	say("  replaced page is zero: %s, neighbours kept: %s", yesno(all_zero(p + PAGE, PAGE)), yesno(p[PAGE - 1] == 0x33 && p[2 * PAGE] == 0x33));
	T(S(mmap, p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	T(S(mmap, p + 2 * PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	T(S(munmap, p + PAGE, PAGE));
	T(S(mmap, p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == (long)(p + PAGE));
	probe("the new read-only page", p + PAGE);
	T(S(munmap, p, 3 * PAGE));

	say("files:");
	fd = S(open, "hello.txt", O_RDONLY);
	ADDR(q, S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	quoted("  content", q, 32);
	say("  rest of the page is zero: %s", yesno(all_zero(q + 32, PAGE - 32)));
	probe("q", q);
	T(S(munmap, q, PAGE));
	ADDR(q, S(mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	memcpy(q, "HELLO", 5);
	quoted("  private copy, changed", q, 12);
	char buf[12];
	S(pread64, fd, buf, sizeof buf, 0);
	quoted("  the file, unchanged", buf, sizeof buf);
	T(S(munmap, q, PAGE));
	ADDR(q, S(mmap, 0, PAGE, PROT_READ, MAP_SHARED, fd, 0));
	quoted("  shared read-only", q, 12);
	T(S(mprotect, q, PAGE, PROT_READ | PROT_WRITE));
	T(S(munmap, q, PAGE));
	T(S(mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 1));
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, -PAGE));
	S(close, fd);
	fd = S(open, "big.txt", O_RDONLY);
	ADDR(q, S(mmap, 0, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	quoted("  big.txt at 4090", q + 4090, 20);
	quoted("  big.txt at 9990", q + 9990, 10);
	say("  after the end of the file, zero: %s", yesno(all_zero(q + 10000, 3 * PAGE - 10000)));
	T(S(munmap, q, 3 * PAGE));
	ADDR(q, S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE));
	quoted("  big.txt page 2", q, 10);
	T(S(munmap, q, PAGE));
	S(close, fd);
	fd = S(open, "dir", O_RDONLY);
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	S(close, fd);
	fd = S(open, "/dev/null", O_WRONLY);
	T(S(mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	S(close, fd);
	fd = S(open, "/dev/zero", O_RDONLY);
	ADDR(q, S(mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	if ((long)q != -1) {
		say("  /dev/zero: zero: %s", yesno(all_zero(q, 2 * PAGE)));
		say("  /dev/zero: %s", writable(q + PAGE));
		S(munmap, q, 2 * PAGE);
	}
	S(close, fd);
}

static void test_munmap(void)
{
	char *p;

	say("-- munmap");
	ADDR(p, S(mmap, 0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(p, 0x44, 3 * PAGE);
	T(S(munmap, p + PAGE, PAGE));
	probe("page 0", p);
	probe("page 1 (unmapped)", p + PAGE);
	probe("page 2", p + 2 * PAGE);
	say("  data kept: %s", yesno(p[1] == 0x44 && p[2 * PAGE + 1] == 0x44));
	T(S(munmap, p + PAGE, PAGE)); /* nothing there: still 0 */
	T(S(munmap, p + 1, PAGE));
	T(S(munmap, p, 0));
	T(S(munmap, 0xffffffff80000000UL, PAGE));
	T(S(munmap, p, -1L));
	T(S(munmap, p, 3 * PAGE)); /* over a hole: fine */
	probe("page 0", p);
	probe("page 2", p + 2 * PAGE);
	ADDR(p, S(mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(S(munmap, p, 1)); /* the length is rounded up to a page */
	probe("page 0", p);
	probe("page 1", p + PAGE);
	T(S(munmap, p + PAGE, PAGE));
}

static void test_mprotect(void)
{
	char *p;

	say("-- mprotect");
	ADDR(p, S(mmap, 0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(p, 0x66, 3 * PAGE);
	T(S(mprotect, p, PAGE, PROT_READ));
	probe("page 0 (PROT_READ)", p);
	say("  read from ring 3: %s", yesno(p[1] == 0x66));
	probe("page 1", p + PAGE);
	T(S(mprotect, p + PAGE, PAGE, PROT_NONE));
	probe("page 1 (PROT_NONE)", p + PAGE);
	T(S(mprotect, p, 3 * PAGE, PROT_READ | PROT_WRITE));
	probe("page 0", p);
	probe("page 1", p + PAGE);
	say("  data kept: %s", yesno(p[PAGE + 1] == 0x66 && p[1] == 0x66));
	T(S(mprotect, p, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC));
	T(S(mprotect, p, 1, PROT_READ)); /* rounded up to a page */
	probe("page 0", p);
	T(S(mprotect, p, 0, PROT_NONE));
	probe("page 0 (length 0: unchanged)", p);
	T(S(mprotect, p + 1, PAGE, PROT_READ));
	T(S(mprotect, p, PAGE, 0x10));
	T(S(mprotect, p, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
	T(S(munmap, p + 2 * PAGE, PAGE));
	T(S(mprotect, p, 3 * PAGE, PROT_READ)); /* ends in a hole */
	T(S(mprotect, p + 2 * PAGE, PAGE, PROT_READ));
	T(S(mprotect, 0xffffffff80000000UL, PAGE, PROT_READ));
	T(S(munmap, p, 2 * PAGE));
}

static void test_mremap(void)
{
	char *p, *q;

	say("-- mremap");
	ADDR(p, S(mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(p, 0x77, PAGE);
	ADDR(q, S(mremap, p, PAGE, 3 * PAGE, MREMAP_MAYMOVE));
	say("  data kept: %s, new pages zero: %s", yesno(q[1] == 0x77 && q[PAGE - 1] == 0x77), yesno(all_zero(q + PAGE, 2 * PAGE)));
	probe("the end of the new size", q + 3 * PAGE - 1);
	if (q != p)
		probe("the old place (moved)", p);
	ADDR(p, S(mremap, q, 3 * PAGE, PAGE, 0));
	say("  shrinking stays in place: %s", yesno(p == q));
	probe("page 0", p);
	probe("page 1 (released)", p + PAGE);
	probe("page 2 (released)", p + 2 * PAGE);
	T(S(munmap, p, PAGE));

	ADDR(p, S(mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(p, 0x78, 2 * PAGE);
	T(S(mremap, p, PAGE, 2 * PAGE, 0)); /* its own next page is in the way */
	ADDR(q, S(mmap, 0, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(S(munmap, q, 4 * PAGE));
	T(S(mremap, p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q) == (long)q);
	say("  moved to the address asked: data kept: %s", yesno(q[1] == 0x78 && q[2 * PAGE - 1] == 0x78));
	probe("the old place", p);
	T(S(mremap, q + 1, PAGE, PAGE, 0));
	T(S(mremap, q, PAGE, 0, MREMAP_MAYMOVE));
	T(S(mremap, q, PAGE, PAGE, 0x100));
	T(S(mremap, q, PAGE, 2 * PAGE, MREMAP_FIXED, q + 8 * PAGE));
	T(S(mremap, p, PAGE, 2 * PAGE, MREMAP_MAYMOVE)); /* nothing mapped there */
	T(S(mremap, q, 2 * PAGE, 2 * PAGE, 0) == (long)q); /* same size: a no-op */
	/* Lengths whose sum with the address wraps past 2^64 (issue 10: the
	 * kernel took them and left an area ending below its start). */
	TL("grow to an end that wraps", S(mremap, q, 2 * PAGE, -(unsigned long)q + PAGE, 0));
	TL("grow to an end that wraps, may move", S(mremap, q, 2 * PAGE, -(unsigned long)q + PAGE, MREMAP_MAYMOVE));
	TL("an old length that wraps", S(mremap, q, -(unsigned long)q + PAGE, PAGE, 0));
	TL("an old length that wraps, fixed", S(mremap, q, -(unsigned long)q + PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q + 64 * PAGE));
	TL("an old length of 2^64 - 1", S(mremap, q, -1L, PAGE, 0));
	TL("a new length of 2^64 - 1", S(mremap, q, PAGE, -1L, MREMAP_MAYMOVE));
	TL("the area is whole afterwards", S(mremap, q, 2 * PAGE, 2 * PAGE, 0) == (long)q);
	probe("its last page", q + 2 * PAGE - 1);
	T(S(munmap, q, 2 * PAGE));
}

static void test_madvise_msync(void)
{
	char *p;

	say("-- madvise");
	ADDR(p, S(mmap, 0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(p, 0x79, 4 * PAGE);
	T(S(madvise, p, PAGE, MADV_DONTNEED));
	say("  a private anonymous page reads zero after MADV_DONTNEED: %s, the next one kept: %s", yesno(all_zero(p, PAGE)), yesno(p[PAGE + 1] == 0x79));
	T(S(madvise, p, 4 * PAGE, MADV_NORMAL));
	T(S(madvise, p, 4 * PAGE, MADV_RANDOM));
	T(S(madvise, p, 4 * PAGE, MADV_SEQUENTIAL));
	T(S(madvise, p, 4 * PAGE, MADV_WILLNEED));
	T(S(madvise, p, 0, MADV_DONTNEED));
	T(S(madvise, p, 1, MADV_WILLNEED));
	T(S(madvise, p + 1, PAGE, MADV_NORMAL));
	T(S(madvise, p, PAGE, 9999));
	T(S(madvise, p, PAGE, -1));
	T(S(munmap, p + 2 * PAGE, PAGE));
	T(S(madvise, p, 4 * PAGE, MADV_NORMAL)); /* a hole in the range */
	T(S(madvise, p + 2 * PAGE, PAGE, MADV_NORMAL));
	say("  page 3 kept its data: %s", yesno(p[3 * PAGE + 1] == 0x79));

	say("-- msync");
	T(S(msync, p, PAGE, MS_SYNC));
	T(S(msync, p, PAGE, MS_ASYNC));
	T(S(msync, p, PAGE, MS_INVALIDATE));
	T(S(msync, p, PAGE, 0));
	T(S(msync, p, PAGE, MS_SYNC | MS_ASYNC));
	T(S(msync, p, PAGE, 0x100));
	T(S(msync, p + 1, PAGE, MS_SYNC));
	T(S(msync, p, 0, MS_SYNC));
	T(S(msync, p, 4 * PAGE, MS_SYNC)); /* a hole in the range */
	T(S(msync, p + 2 * PAGE, PAGE, MS_SYNC));
	int fd = S(open, "hello.txt", O_RDONLY);
	char *f;
	ADDR(f, S(mmap, 0, PAGE, PROT_READ, MAP_SHARED, fd, 0));
	T(S(msync, f, PAGE, MS_SYNC));
	S(munmap, f, PAGE);
	S(close, fd);
	S(munmap, p, 4 * PAGE);
}

int main(void)
{
	begin("memory");
	hello_fd = S(open, "hello.txt", O_RDONLY);
	test_brk();
	test_mmap();
	test_munmap();
	test_mprotect();
	test_mremap();
	test_madvise_msync();
	say("== end");
	return 0;
}
