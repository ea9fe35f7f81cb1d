/*
 * Files: open, openat, close, read, pread64, readv, lseek, fstat, stat,
 * lstat, newfstatat, getdents64, readlink, access, faccessat, getcwd.
 *
 * Runs with cwd = the fixtures directory (natively the host directory, in the
 * guest /fixtures): every path is relative, every file is a fixture, nothing
 * is written. Expected fixture tree (test/linux/fixtures):
 *   hello.txt (32 bytes, 0644)  big.txt (10000 bytes, "line 0000\n".."line 0999\n")
 *   script.sh (0755)  dir/{a.txt, b.txt, sub/c.txt}
 *   link -> hello.txt  dangling -> nonexistent  dirlink -> dir  loop -> loop
 */
#include "conformance.h"
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFIFO: return "fifo";
	case S_IFBLK: return "blk";
	case S_IFSOCK: return "sock";
	}
	return "?";
}

/* What Linux defines and a read-only initramfs shares with a host file
 * system: type and permissions always; size and link count for regular
 * files, size for symlinks (the target's length). Not inode, device,
 * owner, times, blocks, or a directory's size and link count. */
static void show_stat(const char *label, long r, const struct stat *st)
{
	if (r == -1) {
		printf("%s = -1 %s\n", label, errname(errno));
		return;
	}
	printf("%s = %ld: %s %04o", label, r, type_name(st->st_mode), (unsigned)(st->st_mode & 07777));
	if (S_ISREG(st->st_mode))
		printf(" size=%lld nlink=%lu", (long long)st->st_size, (unsigned long)st->st_nlink);
	if (S_ISLNK(st->st_mode))
		printf(" size=%lld", (long long)st->st_size);
	putchar('\n');
}

/* For "/": its permissions are the host's business, only its type is printed. */
#define ST_TYPE(expr, st) do { struct stat *st_ = (st); memset(st_, 0xa5, sizeof *st_); errno = 0; long r_ = (long)(expr); \
	if (r_ == -1) printf("%s = -1 %s\n", #expr, errname(errno)); else printf("%s = %ld: %s\n", #expr, r_, type_name(st_->st_mode)); } while (0)

#define ST(expr, st) do { struct stat *st_ = (st); memset(st_, 0xa5, sizeof *st_); errno = 0; long r_ = (long)(expr); show_stat(#expr, r_, st_); } while (0)

/* read(2) that prints what it got. */
#define RD(expr, buf) do { errno = 0; long r_ = (long)(expr); report_(#expr, r_, 0); if (r_ > 0) quoted("  data", (buf), r_); } while (0)

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static const char *dtype_name(unsigned t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_CHR: return "chr";
	case DT_UNKNOWN: return "unknown";
	}
	return "?";
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads a whole directory with getdents64 in buffers of `bufsize` bytes and
 * prints the entries sorted (the order is the file system's business). */
static void list_dir(const char *path, size_t bufsize)
{
	static char names[64][300];
	static char *sorted[64];
	static char buf[8192];
	int n = 0, calls = 0, fd = S(open, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("list_dir %s: open: %s\n", path, errname(errno));
		return;
	}
	for (;;) {
		long r = S(getdents64, fd, buf, bufsize);
		calls++;
		if (r == -1) {
			printf("list_dir %s (bufsize %zu): getdents64 = -1 %s\n", path, bufsize, errname(errno));
			break;
		}
		if (r == 0)
			break;
		for (long off = 0; off < r;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			if (d->d_reclen == 0 || d->d_reclen % 8 || off + d->d_reclen > r) {
				printf("list_dir %s: bad d_reclen %u\n", path, d->d_reclen);
				S(close, fd);
				return;
			}
			if (n < 64)
				snprintf(names[n++], sizeof names[0], "%s(%s)", d->d_name, dtype_name(d->d_type));
			off += d->d_reclen;
		}
		if (calls > 100) {
			printf("list_dir %s: no end after 100 calls\n", path);
			break;
		}
	}
	for (int i = 0; i < n; i++)
		sorted[i] = names[i];
	qsort(sorted, n, sizeof sorted[0], cmp_str);
	printf("list_dir %s (bufsize %zu): %d entries:", path, bufsize, n);
	for (int i = 0; i < n; i++)
		printf(" %s", sorted[i]);
	putchar('\n');
	if (bufsize == 32)
		printf("  one entry per call: %s\n", yesno(calls == n + 1));
	S(close, fd);
}

static void test_open_close(void)
{
	static char longpath[PATH_MAX + 16];
	static char longname[NAME_MAX + 2];
	char buf[64];

	say("-- open, openat, close");
	T(S(open, "hello.txt", O_RDONLY));
	T(S(close, 3));
	T(S(close, 3));
	T(S(close, -1));
	T(S(close, 1000000));
	T(S(openat, AT_FDCWD, "hello.txt", O_RDONLY));
	T(S(open, "dir", O_RDONLY));
	T(S(open, "big.txt", O_RDONLY));
	T(S(close, 4));
	say("lowest free descriptor:");
	T(S(open, "hello.txt", O_RDONLY));
	T(S(close, 3));
	T(S(close, 4));
	T(S(close, 5));

	T(S(open, "nonexistent", O_RDONLY));
	T(S(open, "", O_RDONLY));
	T(S(open, "hello.txt/x", O_RDONLY));
	T(S(open, "hello.txt/", O_RDONLY));
	T(S(open, "dir/nonexistent/x", O_RDONLY));
	T(S(open, "dir/", O_RDONLY));
	T(S(close, 3));
	T(S(open, "dir", O_WRONLY));
	T(S(open, "dir", O_RDWR));
	T(S(open, "dir", O_RDONLY | O_CREAT, 0644));
	T(S(open, "hello.txt", O_RDONLY | O_CREAT | O_EXCL, 0644));
	T(S(open, "hello.txt", O_RDONLY | O_DIRECTORY));
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	T(S(close, 3));
	T(S(open, "/", O_RDONLY | O_DIRECTORY));
	T(S(close, 3));
	T(S(open, ".", O_RDONLY | O_DIRECTORY));
	T(S(close, 3));
	T(S(open, "dir/sub/../../hello.txt", O_RDONLY));
	RD(S(read, 3, buf, 5), buf);
	T(S(close, 3));

	say("symlinks:");
	T(S(open, "link", O_RDONLY));
	RD(S(read, 3, buf, 5), buf);
	T(S(close, 3));
	T(S(open, "link", O_RDONLY | O_NOFOLLOW));
	T(S(open, "dangling", O_RDONLY));
	T(S(open, "loop", O_RDONLY));
	T(S(open, "dirlink/a.txt", O_RDONLY));
	RD(S(read, 3, buf, sizeof buf), buf);
	T(S(close, 3));
	T(S(open, "dirlink", O_RDONLY | O_DIRECTORY));
	T(S(close, 3));
	T(S(open, "dirlink", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));

	say("name lengths:");
	memset(longname, 'n', NAME_MAX + 1);
	longname[NAME_MAX + 1] = 0;
	T(S(open, longname, O_RDONLY)); /* 256 characters */
	longname[NAME_MAX] = 0;
	T(S(open, longname, O_RDONLY)); /* 255: a valid name that does not exist */
	for (int i = 0; i < PATH_MAX; i += 2)
		memcpy(longpath + i, "./", 2);
	longpath[PATH_MAX - 1] = 0; /* 4095 characters: "./" x 2047 + "." */
	T(S(open, longpath, O_RDONLY | O_DIRECTORY));
	T(S(close, 3));
	longpath[PATH_MAX - 1] = '/';
	longpath[PATH_MAX] = 0; /* 4096 characters */
	T(S(open, longpath, O_RDONLY | O_DIRECTORY));

	say("openat and directory descriptors:");
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	T(S(openat, 3, "a.txt", O_RDONLY));
	RD(S(read, 4, buf, sizeof buf), buf);
	T(S(close, 4));
	T(S(openat, 3, "sub/c.txt", O_RDONLY));
	RD(S(read, 4, buf, sizeof buf), buf);
	T(S(close, 4));
	T(S(openat, 3, "../hello.txt", O_RDONLY));
	T(S(close, 4));
	T(S(openat, 3, "hello.txt", O_RDONLY));
	T(S(openat, 99, "hello.txt", O_RDONLY));
	T(S(openat, -1, "hello.txt", O_RDONLY));
	T(S(openat, 99, "/", O_RDONLY | O_DIRECTORY));
	T(S(close, 4));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(openat, 4, "x", O_RDONLY));
	T(S(openat, 4, "", O_RDONLY));
	T(S(close, 4));
	T(S(close, 3));
}

static void test_read(void)
{
	char buf[128];
	static char in[65536];
	long total = 0, r;

	say("-- read");
	T(S(open, "hello.txt", O_RDONLY));
	RD(S(read, 3, buf, 5), buf);
	RD(S(read, 3, buf, sizeof buf), buf);
	T(S(read, 3, buf, sizeof buf));
	T(S(read, 3, buf, 0));
	T(S(read, 3, NULL, 0));
	T(S(read, 99, buf, 1));
	T(S(read, -1, buf, 1));
	T(S(close, 3));
	T(S(read, 3, buf, 1));
	T(S(open, "dir", O_RDONLY));
	T(S(read, 3, buf, sizeof buf));
	T(S(close, 3));
	T(S(open, "/dev/null", O_WRONLY));
	T(S(read, 3, buf, 1));
	T(S(close, 3));
	T(S(open, "big.txt", O_RDONLY));
	RD(S(read, 3, buf, 10), buf);
	T(S(lseek, 3, 4090, SEEK_SET));
	RD(S(read, 3, buf, 20), buf); /* crosses a page of the file */
	T(S(close, 3));

	say("stdin, to its end:");
	while (total < (long)sizeof in && (r = S(read, 0, in + total, sizeof in - total)) > 0)
		total += r;
	if (r < 0)
		say("read(0) = -1 %s", errname(errno));
	say("stdin: %ld bytes", total);
	quoted("stdin", in, total);
	T(S(read, 0, buf, sizeof buf));
	T(S(read, 0, buf, sizeof buf));
}

static void test_pread(void)
{
	char buf[64];

	say("-- pread64");
	T(S(open, "hello.txt", O_RDONLY));
	RD(S(pread64, 3, buf, 5, 7), buf);
	T(S(lseek, 3, 0, SEEK_CUR)); /* pread does not move the offset */
	RD(S(pread64, 3, buf, sizeof buf, 20), buf);
	T(S(pread64, 3, buf, sizeof buf, 32));
	T(S(pread64, 3, buf, sizeof buf, 1000));
	T(S(pread64, 3, buf, 0, 0));
	T(S(pread64, 3, buf, 1, -1));
	T(S(pread64, 99, buf, 1, 0));
	T(S(pread64, 0, buf, 1, 0));
	T(S(close, 3));
	T(S(open, "big.txt", O_RDONLY));
	RD(S(pread64, 3, buf, 20, 8190), buf);
	RD(S(pread64, 3, buf, 20, 9995), buf);
	T(S(close, 3));
	T(S(open, "dir", O_RDONLY));
	T(S(pread64, 3, buf, 1, 0));
	T(S(close, 3));
	T(S(open, "/dev/null", O_WRONLY));
	T(S(pread64, 3, buf, 1, 0));
	T(S(close, 3));
}

static void test_readv(void)
{
	char a[4], b[8], c[10];
	struct iovec iov[3] = { { a, sizeof a }, { b, 0 }, { c, sizeof c } };
	static struct iovec many[1025];

	say("-- readv");
	T(S(open, "big.txt", O_RDONLY));
	T(S(readv, 3, iov, 3));
	quoted("  iov[0]", a, sizeof a);
	quoted("  iov[2]", c, sizeof c);
	T(S(readv, 3, iov, 0));
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(readv, 3, iov, -1));
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){ a, 1 };
	T(S(readv, 3, many, 1024));
	T(S(readv, 3, many, 1025));
	T(S(lseek, 3, 0, SEEK_CUR));
	struct iovec huge[2] = { { a, 1 }, { b, (size_t)-1 } };
	T(S(readv, 3, huge, 2));
	T(S(lseek, 3, 9998, SEEK_SET));
	T(S(readv, 3, iov, 3)); /* 2 bytes left: all into the first segment */
	quoted("  iov[0]", a, 2);
	T(S(readv, 3, iov, 3));
	T(S(close, 3));
	T(S(readv, 3, iov, 3));
	T(S(open, "/dev/null", O_WRONLY));
	T(S(readv, 3, iov, 3));
	T(S(close, 3));
}

static void test_lseek(void)
{
	char buf[8];

	say("-- lseek");
	T(S(open, "hello.txt", O_RDONLY));
	T(S(lseek, 3, 0, SEEK_END));
	T(S(lseek, 3, -2, SEEK_END));
	RD(S(read, 3, buf, sizeof buf), buf);
	T(S(lseek, 3, 7, SEEK_SET));
	T(S(lseek, 3, 4, SEEK_CUR));
	RD(S(read, 3, buf, 4), buf);
	T(S(lseek, 3, -3, SEEK_CUR));
	T(S(lseek, 3, 100, SEEK_SET));
	T(S(read, 3, buf, 1));
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(lseek, 3, -1, SEEK_SET));
	T(S(lseek, 3, -200, SEEK_CUR));
	T(S(lseek, 3, -33, SEEK_END));
	T(S(lseek, 3, 0, 7));
	T(S(lseek, 3, 0, -1));
	T(S(lseek, 3, 0, SEEK_CUR)); /* errors left it where it was */
	T(S(close, 3));
	T(S(lseek, 3, 0, SEEK_SET));
	T(S(lseek, 99, 0, SEEK_SET));
	T(S(lseek, 0, 0, SEEK_CUR));
	T(S(open, "dir", O_RDONLY));
	T(S(lseek, 3, 0, SEEK_SET));
	T(S(close, 3));
}

static void test_stat(void)
{
	struct stat st, st2;

	say("-- stat, lstat, fstat, newfstatat");
	ST(S(stat, "hello.txt", &st), &st);
	ST(S(stat, "big.txt", &st), &st);
	ST(S(stat, "script.sh", &st), &st);
	ST(S(stat, "dir", &st), &st);
	ST(S(stat, "dir/", &st), &st);
	ST(S(stat, ".", &st), &st);
	ST(S(stat, "dir/sub/c.txt", &st), &st);
	ST(S(stat, "dir/sub/../a.txt", &st), &st);
	ST_TYPE(S(stat, "/", &st), &st);
	ST(S(stat, "link", &st), &st);
	ST(S(stat, "dirlink", &st), &st);
	ST(S(stat, "dangling", &st), &st);
	ST(S(stat, "loop", &st), &st);
	ST(S(stat, "nonexistent", &st), &st);
	ST(S(stat, "", &st), &st);
	ST(S(stat, "hello.txt/", &st), &st);
	ST(S(stat, "hello.txt/x", &st), &st);
	ST(S(stat, "/dev/null", &st), &st);

	ST(S(lstat, "link", &st), &st);
	ST(S(lstat, "dangling", &st), &st);
	ST(S(lstat, "dirlink", &st), &st);
	ST(S(lstat, "loop", &st), &st);
	ST(S(lstat, "hello.txt", &st), &st);
	ST(S(lstat, "dir", &st), &st);
	ST(S(lstat, "nonexistent", &st), &st);
	ST(S(lstat, "dirlink/", &st), &st); /* a trailing slash follows the link */

	T(S(open, "hello.txt", O_RDONLY));
	ST(S(fstat, 3, &st), &st);
	S(stat, "hello.txt", &st2);
	say("fstat and stat: same file: %s", yesno(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev));
	S(stat, "link", &st2);
	say("stat through the link: same file: %s", yesno(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev));
	S(lstat, "link", &st2);
	say("lstat of the link: a different file: %s", yesno(st.st_ino != st2.st_ino));
	S(stat, "big.txt", &st2);
	say("hello.txt and big.txt: different files: %s", yesno(st.st_ino != st2.st_ino));
	ST(S(newfstatat, 3, "", &st, AT_EMPTY_PATH), &st);
	ST(S(newfstatat, 3, "", &st, 0), &st);
	ST(S(newfstatat, 3, "x", &st, 0), &st);
	T(S(close, 3));
	ST(S(fstat, 3, &st), &st);
	ST(S(fstat, 99, &st), &st);
	ST(S(fstat, -1, &st), &st);
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	ST(S(fstat, 3, &st), &st);
	ST(S(newfstatat, 3, "a.txt", &st, 0), &st);
	ST(S(newfstatat, 3, "sub", &st, 0), &st);
	ST(S(newfstatat, 3, "../link", &st, 0), &st);
	ST(S(newfstatat, 3, "../link", &st, AT_SYMLINK_NOFOLLOW), &st);
	ST(S(newfstatat, 3, "nonexistent", &st, 0), &st);
	T(S(close, 3));
	ST(S(newfstatat, AT_FDCWD, "hello.txt", &st, 0), &st);
	ST(S(newfstatat, AT_FDCWD, "link", &st, AT_SYMLINK_NOFOLLOW), &st);
	ST(S(newfstatat, AT_FDCWD, "", &st, 0), &st);
	ST(S(newfstatat, AT_FDCWD, "hello.txt", &st, 0x2), &st);
	ST(S(newfstatat, 99, "hello.txt", &st, 0), &st);
	ST_TYPE(S(newfstatat, 99, "/", &st, 0), &st);
	OK(S(fstat, 0, &st)); /* stdin and stdout: only whether it works */
	OK(S(fstat, 1, &st));
}

static void test_getdents(void)
{
	char buf[4096];

	say("-- getdents64");
	list_dir("dir", sizeof buf);
	list_dir("dir", 32);
	list_dir("dir/sub", sizeof buf);
	list_dir(".", sizeof buf);
	list_dir("dirlink", sizeof buf);
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	T(S(getdents64, 3, buf, 1));
	T(S(getdents64, 3, buf, 0));
	POS(S(getdents64, 3, buf, sizeof buf));
	T(S(getdents64, 3, buf, sizeof buf));
	T(S(lseek, 3, 0, SEEK_SET)); /* rewinddir */
	POS(S(getdents64, 3, buf, sizeof buf));
	T(S(close, 3));
	T(S(getdents64, 3, buf, sizeof buf));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(getdents64, 3, buf, sizeof buf));
	T(S(close, 3));
}

static void test_readlink(const char *argv0)
{
	char buf[PATH_MAX + 1];
	long r;

	say("-- readlink");
	memset(buf, 0, sizeof buf);
	RD(S(readlink, "link", buf, 64), buf);
	RD(S(readlink, "link", buf, 4), buf);
	RD(S(readlink, "dangling", buf, 64), buf);
	RD(S(readlink, "dirlink", buf, 64), buf);
	RD(S(readlink, "loop", buf, 64), buf);
	T(S(readlink, "link", buf, 0));
	T(S(readlink, "link", buf, -1));
	T(S(readlink, "hello.txt", buf, 64));
	T(S(readlink, "dir", buf, 64));
	T(S(readlink, "nonexistent", buf, 64));
	T(S(readlink, "", buf, 64));
	T(S(readlink, "hello.txt/x", buf, 64));
	T(S(readlink, "dirlink/", buf, 64));

	const char *name = strrchr(argv0, '/');
	name = name ? name : argv0;
	r = S(readlink, "/proc/self/exe", buf, PATH_MAX);
	if (r == -1) {
		say("readlink(\"/proc/self/exe\") = -1 %s", errname(errno));
	} else {
		size_t n = strlen(name);
		buf[r] = 0;
		say("readlink(\"/proc/self/exe\") ends with %s: %s", name, yesno((size_t)r >= n && strcmp(buf + r - n, name) == 0 && buf[0] == '/'));
	}
}

static void test_access(void)
{
	say("-- access, faccessat");
	T(S(access, "hello.txt", F_OK));
	T(S(access, "hello.txt", R_OK));
	T(S(access, "hello.txt", X_OK));
	T(S(access, "hello.txt", R_OK | X_OK));
	T(S(access, "script.sh", X_OK));
	T(S(access, "script.sh", R_OK | X_OK));
	T(S(access, "dir", X_OK));
	T(S(access, "dir", R_OK | X_OK));
	T(S(access, "link", R_OK));
	T(S(access, "dangling", F_OK));
	T(S(access, "loop", F_OK));
	T(S(access, "nonexistent", F_OK));
	T(S(access, "", F_OK));
	T(S(access, "hello.txt/x", F_OK));
	T(S(access, "hello.txt", 8));
	T(S(access, "hello.txt", -1));
	T(S(access, "/dev/null", R_OK | W_OK));
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	T(S(faccessat, 3, "a.txt", R_OK));
	T(S(faccessat, 3, "a.txt", X_OK));
	T(S(faccessat, 3, "sub", X_OK));
	T(S(faccessat, 3, "nonexistent", F_OK));
	T(S(faccessat, 3, "a.txt", 8));
	T(S(close, 3));
	T(S(faccessat, AT_FDCWD, "script.sh", X_OK));
	T(S(faccessat, 99, "a.txt", F_OK));
	T(S(faccessat, 99, "/", F_OK));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(faccessat, 3, "a.txt", F_OK));
	T(S(close, 3));
}

static void test_getcwd(void)
{
	char buf[PATH_MAX];
	long r;

	say("-- getcwd");
	r = S(getcwd, buf, sizeof buf);
	if (r == -1)
		say("getcwd = -1 %s", errname(errno));
	else
		say("getcwd: returns strlen+1: %s, ends with /fixtures: %s", yesno((size_t)r == strlen(buf) + 1),
		    yesno(strlen(buf) >= 9 && strcmp(buf + strlen(buf) - 9, "/fixtures") == 0));
	T(S(getcwd, buf, 1));
	T(S(getcwd, buf, 0));
}

int main(int argc, char **argv)
{
	(void)argc;
	begin("files");
	test_open_close();
	test_read();
	test_pread();
	test_readv();
	test_lseek();
	test_stat();
	test_getdents();
	test_readlink(argv[0]);
	test_access();
	test_getcwd();
	T(S(open, "hello.txt", O_RDONLY)); /* nothing leaked: 3 */
	say("== end");
	return 0;
}
