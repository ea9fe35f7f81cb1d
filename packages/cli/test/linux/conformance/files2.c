/*
 * More files: preadv, pwrite64 and pwritev (to /dev/null), sendfile, creat
 * (its errors), close_range, statx, statfs, fstatfs, readlinkat,
 * faccessat2, chdir, fchdir.
 *
 * Same fixtures and rules as files.c: relative paths, nothing written but
 * /dev/null and stdout.
 */
#include "conformance.h"
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>

#ifndef STATX_BASIC_STATS
#define STATX_TYPE 0x1U
#define STATX_MODE 0x2U
#define STATX_NLINK 0x4U
#define STATX_SIZE 0x200U
#define STATX_BASIC_STATS 0x7ffU
struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct statx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
#endif
#define K_STATX__RESERVED 0x80000000U
#define K_AT_EACCESS 0x200
#define K_CLOSE_RANGE_CLOEXEC 4

#define RD(expr, buf) do { errno = 0; long r_ = (long)(expr); report_(#expr, r_, 0); if (r_ > 0) quoted("  data", (buf), r_); } while (0)

static const char *type_name(unsigned m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	}
	return "?";
}

/* Prints whether stx_mask has what was asked for, and those fields only (a
 * file system may fill in more, or not). */
static void show_statx(const char *label, long r, const struct statx *x, unsigned asked)
{
	if (r == -1) {
		say("%s = -1 %s", label, errname(errno));
		return;
	}
	printf("%s = %ld: mask has what was asked: %s, %s %04o", label, r, yesno((x->stx_mask & asked) == asked), type_name(x->stx_mode),
	       x->stx_mode & 07777u);
	if ((asked & STATX_SIZE) && (S_ISREG(x->stx_mode) || S_ISLNK(x->stx_mode)))
		printf(" size=%llu", (unsigned long long)x->stx_size);
	if ((asked & STATX_NLINK) && S_ISREG(x->stx_mode))
		printf(" nlink=%u", x->stx_nlink);
	putchar('\n');
}

/* expr asks for `asked` */
#define STX(expr, asked) do { memset(&stx, 0xa5, sizeof stx); errno = 0; long r_ = (long)(expr); show_statx(#expr, r_, &stx, (asked)); } while (0)

static void test_vectored_and_positioned(void)
{
	char a[5], b[8];
	struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };
	struct iovec wiov[2] = { { "to ", 3 }, { "/dev/null", 9 } };

	say("-- preadv, pwrite64, pwritev");
	T(S(open, "hello.txt", O_RDONLY));
	T(S(preadv, 3, iov, 2, 7, 0));
	quoted("  iov[0]", a, sizeof a);
	quoted("  iov[1]", b, sizeof b);
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(preadv, 3, iov, 2, 30, 0));
	quoted("  iov[0]", a, 2);
	T(S(preadv, 3, iov, 2, 32, 0));
	T(S(preadv, 3, iov, 2, -1, 0));
	T(S(preadv, 3, iov, -1, 0, 0));
	T(S(preadv, 0, iov, 2, 0, 0));
	T(S(preadv, 99, iov, 2, 0, 0));
	T(S(pwrite64, 3, "x", 1, 0));
	T(S(close, 3));
	T(S(open, "/dev/null", O_WRONLY));
	T(S(pwrite64, 3, "discarded", 9, 0));
	T(S(pwrite64, 3, "discarded", 9, 1000));
	T(S(pwrite64, 3, "discarded", 9, -1));
	T(S(pwritev, 3, wiov, 2, 0, 0));
	T(S(pwritev, 3, wiov, 2, -1, 0));
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(close, 3));
	T(S(pwrite64, 1, "x", 1, 0)); /* stdout is a pipe */
	T(S(pwrite64, 99, "x", 1, 0));
}

static void test_sendfile(void)
{
	long off;

	say("-- sendfile");
	T(S(open, "hello.txt", O_RDONLY));
	T(S(sendfile, 1, 3, NULL, 100)); /* the whole file, to stdout */
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(sendfile, 1, 3, NULL, 100)); /* at its end: nothing */
	off = 7;
	T(S(sendfile, 1, 3, &off, 12));
	say("  offset now %ld, file position %ld", off, S(lseek, 3, 0, SEEK_CUR));
	T(S(write, 1, "\n", 1));
	off = 1000;
	T(S(sendfile, 1, 3, &off, 12));
	off = -1;
	T(S(sendfile, 1, 3, &off, 12));
	T(S(sendfile, 1, 3, NULL, 0));
	T(S(sendfile, 1, 99, NULL, 10));
	T(S(sendfile, 99, 3, NULL, 10));
	T(S(open, "/dev/null", O_WRONLY));
	off = 0;
	T(S(sendfile, 4, 3, &off, 100));
	T(S(sendfile, 3, 4, NULL, 10)); /* to a read-only file */
	T(S(close, 4));
	T(S(open, "dir", O_RDONLY));
	T(S(sendfile, 1, 4, NULL, 10));
	T(S(close, 4));
	T(S(close, 3));
	T(S(open, "big.txt", O_RDONLY));
	off = 9990;
	T(S(sendfile, 1, 3, &off, 100));
	T(S(close, 3));
}

static void test_creat_close_range(void)
{
	say("-- creat (errors only: nothing is created)");
	T(S(creat, "nonexistent/x", 0644));
	T(S(creat, "hello.txt/x", 0644));
	T(S(creat, "dir", 0644));
	T(S(creat, "", 0644));

	say("-- close_range");
	for (int i = 0; i < 5; i++)
		S(dup, 1); /* 3..7 */
	T(S(close_range, 5, ~0U, 0));
	T(S(fcntl, 4, F_GETFD));
	T(S(fcntl, 5, F_GETFD));
	T(S(fcntl, 7, F_GETFD));
	T(S(close_range, 3, 3, K_CLOSE_RANGE_CLOEXEC));
	T(S(fcntl, 3, F_GETFD));
	T(S(fcntl, 4, F_GETFD));
	T(S(close_range, 4, 3, 0));
	T(S(close_range, 3, 4, 0x80));
	T(S(close_range, 3, 4, 0));
	T(S(fcntl, 3, F_GETFD));
	T(S(close_range, 100, 200, 0)); /* nothing open there: fine */
	T(S(dup, 1));
	T(S(close, 3));
}

static void test_statx(void)
{
	struct statx stx;

	say("-- statx");
	STX(S(statx, AT_FDCWD, "hello.txt", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "dir", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "link", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "script.sh", 0, STATX_TYPE | STATX_MODE, &stx), STATX_TYPE | STATX_MODE);
	STX(S(statx, AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	STX(S(statx, 3, "a.txt", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, 3, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, 3, "", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	T(S(close, 3));
	STX(S(statx, AT_FDCWD, "nonexistent", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "hello.txt/x", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "loop", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "hello.txt", 0, K_STATX__RESERVED, &stx), K_STATX__RESERVED);
	STX(S(statx, AT_FDCWD, "hello.txt", 0x2, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, 99, "hello.txt", 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, NULL, 0, STATX_BASIC_STATS, &stx), STATX_BASIC_STATS);
	STX(S(statx, AT_FDCWD, "hello.txt", 0, STATX_BASIC_STATS, NULL), STATX_BASIC_STATS);
}

static void test_statfs(void)
{
	struct statfs sf;

	say("-- statfs, fstatfs (the numbers are the file system's: only sanity)");
	memset(&sf, 0, sizeof sf);
	T(S(statfs, "hello.txt", &sf));
	say("  f_bsize > 0: %s, f_namelen > 0: %s", yesno(sf.f_bsize > 0), yesno(sf.f_namelen > 0));
	T(S(statfs, "dir", &sf));
	T(S(statfs, "nonexistent", &sf));
	T(S(statfs, "hello.txt/x", &sf));
	T(S(statfs, "", &sf));
	T(S(open, "hello.txt", O_RDONLY));
	memset(&sf, 0, sizeof sf);
	T(S(fstatfs, 3, &sf));
	say("  f_bsize > 0: %s", yesno(sf.f_bsize > 0));
	T(S(close, 3));
	T(S(fstatfs, 3, &sf));
	T(S(fstatfs, 99, &sf));
	T(S(statfs, "hello.txt", NULL));
}

static void test_readlinkat_faccessat2(void)
{
	char buf[64];

	say("-- readlinkat");
	RD(S(readlinkat, AT_FDCWD, "link", buf, sizeof buf), buf);
	T(S(open, ".", O_RDONLY | O_DIRECTORY));
	RD(S(readlinkat, 3, "dirlink", buf, sizeof buf), buf);
	T(S(readlinkat, 3, "hello.txt", buf, sizeof buf));
	T(S(readlinkat, 3, "nonexistent", buf, sizeof buf));
	T(S(readlinkat, 3, "link", buf, 0));
	T(S(close, 3));
	T(S(readlinkat, 99, "link", buf, sizeof buf));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(readlinkat, 3, "link", buf, sizeof buf));
	T(S(close, 3));

	say("-- faccessat2");
	T(S(faccessat2, AT_FDCWD, "hello.txt", R_OK, 0));
	T(S(faccessat2, AT_FDCWD, "hello.txt", R_OK, K_AT_EACCESS));
	T(S(faccessat2, AT_FDCWD, "hello.txt", X_OK, K_AT_EACCESS));
	T(S(faccessat2, AT_FDCWD, "dangling", F_OK, 0));
	T(S(faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	T(S(faccessat2, AT_FDCWD, "loop", F_OK, AT_SYMLINK_NOFOLLOW));
	T(S(faccessat2, AT_FDCWD, "hello.txt", R_OK, 0x1));
	T(S(faccessat2, AT_FDCWD, "hello.txt", 8, 0));
	T(S(open, "script.sh", O_RDONLY));
	T(S(faccessat2, 3, "", X_OK, AT_EMPTY_PATH));
	T(S(faccessat2, 3, "", X_OK, 0));
	T(S(close, 3));
}

static void cwd_is(void)
{
	char buf[PATH_MAX];
	long r = S(getcwd, buf, sizeof buf);
	if (r == -1) {
		say("  getcwd = -1 %s", errname(errno));
		return;
	}
	/* The part from "/fixtures" on: natively the fixtures are deeper. */
	char *f = strstr(buf, "/fixtures");
	say("  cwd: %s", f ? f : strcmp(buf, "/") == 0 ? "/" : "(outside the fixtures)");
}

static void test_chdir(void)
{
	char buf[16];

	say("-- chdir, fchdir");
	cwd_is();
	T(S(chdir, "dir"));
	cwd_is();
	T(S(open, "a.txt", O_RDONLY));
	RD(S(read, 3, buf, sizeof buf), buf);
	T(S(close, 3));
	T(S(chdir, "sub/.."));
	cwd_is();
	T(S(chdir, ".."));
	cwd_is();
	T(S(chdir, "dirlink"));
	cwd_is();
	T(S(chdir, ".."));
	cwd_is();
	T(S(chdir, "hello.txt"));
	T(S(chdir, "nonexistent"));
	T(S(chdir, ""));
	T(S(chdir, "loop"));
	cwd_is();
	T(S(open, "dir/sub", O_RDONLY | O_DIRECTORY));
	T(S(fchdir, 3));
	cwd_is();
	T(S(access, "c.txt", R_OK));
	T(S(close, 3));
	T(S(open, "../../hello.txt", O_RDONLY));
	T(S(fchdir, 3));
	T(S(close, 3));
	T(S(fchdir, 3));
	T(S(fchdir, 99));
	T(S(chdir, "../.."));
	cwd_is();
	T(S(open, "/", O_RDONLY | O_DIRECTORY));
	T(S(chdir, "/"));
	cwd_is();
	T(S(chdir, ".."));
	cwd_is();
	T(S(close, 3));
}

int main(void)
{
	begin("files2");
	test_vectored_and_positioned();
	test_sendfile();
	test_creat_close_range();
	test_statx();
	test_statfs();
	test_readlinkat_faccessat2();
	test_chdir();
	say("== end");
	return 0;
}
