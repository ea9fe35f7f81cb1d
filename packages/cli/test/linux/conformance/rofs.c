/*
 * The calls that change a file system: mkdir, mkdirat, mknod, mknodat,
 * symlink, symlinkat, link, linkat, unlink, unlinkat, rmdir, rename,
 * renameat, renameat2, chmod, fchmodat, fchmod, chown, lchown, fchownat,
 * fchown, utimensat, utimes, utime, truncate, ftruncate, fallocate, and the
 * ones with nothing to do: fsync, fdatasync, fadvise64, flock, sync.
 *
 * kvmos's root is read-only: what would succeed on Linux is EROFS there, by
 * design, so no call here succeeds natively either (and nothing in the
 * fixtures changes). What is compared is the error Linux gives before it
 * would touch the file system, on a read-only mount the same as on a
 * writable one: a missing or non-directory parent, an existing name, ".",
 * "..", bad flags. (Not, say, unlink("nonexistent"): a read-only Linux mount
 * says EROFS there, a writable one ENOENT.)
 */
#include "conformance.h"
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static void test_create(void)
{
	say("-- mkdir, mkdirat, mknod, mknodat, symlink, symlinkat");
	T(S(mkdir, "hello.txt", 0755));
	T(S(mkdir, "dir", 0755));
	T(S(mkdir, "dir/", 0755));
	T(S(mkdir, "link", 0755));
	T(S(mkdir, "dangling", 0755));
	T(S(mkdir, "nonexistent/x", 0755));
	T(S(mkdir, "hello.txt/x", 0755));
	T(S(mkdir, "", 0755));
	T(S(mkdir, ".", 0755));
	T(S(mkdir, "..", 0755));
	T(S(open, "dir", O_RDONLY | O_DIRECTORY));
	T(S(mkdirat, 3, "a.txt", 0755));
	T(S(mkdirat, 3, "sub", 0755));
	T(S(mkdirat, 3, "nonexistent/x", 0755));
	T(S(mkdirat, 99, "x", 0755));
	T(S(mknod, "hello.txt", S_IFREG | 0644, 0));
	T(S(mknod, "nonexistent/x", S_IFREG | 0644, 0));
	T(S(mknodat, 3, "sub", S_IFIFO | 0644, 0));
	T(S(mknodat, 99, "x", S_IFIFO | 0644, 0));
	T(S(symlink, "target", "hello.txt"));
	T(S(symlink, "target", "dangling"));
	T(S(symlink, "target", "nonexistent/x"));
	T(S(symlink, "target", "hello.txt/x"));
	T(S(symlink, "", "x"));
	T(S(symlinkat, "target", 3, "a.txt"));
	T(S(symlinkat, "target", 99, "x"));
	T(S(close, 3));
}

static void test_link_unlink_rename(void)
{
	say("-- link, linkat, unlink, unlinkat, rmdir");
	T(S(link, "nonexistent", "x"));
	T(S(link, "hello.txt", "big.txt"));
	T(S(link, "hello.txt", "dir"));
	T(S(link, "hello.txt", "nonexistent/x"));
	T(S(linkat, AT_FDCWD, "hello.txt", AT_FDCWD, "big.txt", 0));
	T(S(linkat, AT_FDCWD, "hello.txt", AT_FDCWD, "x", 0x1));
	T(S(linkat, 99, "hello.txt", AT_FDCWD, "x", 0));
	T(S(unlink, "nonexistent/x"));
	T(S(unlink, "hello.txt/x"));
	T(S(unlink, ""));
	T(S(unlink, "dir/."));
	T(S(unlink, ".."));
	T(S(unlinkat, AT_FDCWD, "x", 0x1));
	T(S(unlinkat, 99, "x", 0));
	T(S(unlinkat, AT_FDCWD, "dir/.", AT_REMOVEDIR));
	T(S(rmdir, "."));
	T(S(rmdir, "dir/."));
	T(S(rmdir, "dir/.."));
	T(S(rmdir, "nonexistent/x"));
	T(S(rmdir, "hello.txt/x"));
	T(S(rmdir, ""));

	say("-- rename, renameat, renameat2");
	T(S(rename, "nonexistent/a", "b"));
	T(S(rename, "hello.txt", "nonexistent/b"));
	T(S(rename, "hello.txt/x", "b"));
	T(S(rename, ".", "x"));
	T(S(rename, "dir/..", "x"));
	T(S(rename, "hello.txt", ".."));
	T(S(rename, "", "x"));
	T(S(renameat, 99, "x", AT_FDCWD, "y"));
	T(S(renameat, AT_FDCWD, "x", 99, "y"));
	T(S(renameat2, AT_FDCWD, "hello.txt", AT_FDCWD, "big.txt", 0x100));
	T(S(renameat2, AT_FDCWD, "hello.txt", AT_FDCWD, "big.txt", RENAME_NOREPLACE | RENAME_EXCHANGE));
	T(S(renameat2, AT_FDCWD, ".", AT_FDCWD, "x", RENAME_NOREPLACE));
	T(S(renameat2, AT_FDCWD, "nonexistent/a", AT_FDCWD, "b", RENAME_NOREPLACE));
}

static void test_attributes(void)
{
	struct timespec bad[2] = { { 0, 2000000000 }, { 0, 0 } };

	say("-- chmod, fchmodat, chown, lchown, fchownat");
	T(S(chmod, "nonexistent", 0644));
	T(S(chmod, "hello.txt/x", 0644));
	T(S(chmod, "", 0644));
	T(S(chmod, "dangling", 0644));
	T(S(chmod, "loop", 0644));
	T(S(fchmodat, AT_FDCWD, "nonexistent", 0644));
	T(S(fchmodat, 99, "hello.txt", 0644));
	T(S(fchmod, 99, 0644));
	T(S(fchown, 99, 0, 0));
	T(S(chown, "nonexistent", 0, 0));
	T(S(chown, "dangling", 0, 0));
	T(S(lchown, "nonexistent", 0, 0));
	T(S(lchown, "hello.txt/x", 0, 0));
	T(S(fchownat, AT_FDCWD, "hello.txt", 0, 0, 0x1));
	T(S(fchownat, AT_FDCWD, "nonexistent", 0, 0, 0));
	T(S(fchownat, 99, "hello.txt", 0, 0, 0));

	say("-- utimensat, utimes, utime");
	T(S(utimensat, AT_FDCWD, "nonexistent", NULL, 0));
	T(S(utimensat, AT_FDCWD, "hello.txt/x", NULL, 0));
	T(S(utimensat, AT_FDCWD, "hello.txt", NULL, 0x1));
	T(S(utimensat, AT_FDCWD, "hello.txt", bad, 0));
	T(S(utimensat, 99, "hello.txt", NULL, 0));
	T(S(utimes, "nonexistent", NULL));
	T(S(utime, "nonexistent", NULL));

	say("-- truncate, ftruncate, fallocate");
	T(S(truncate, "nonexistent", 0));
	T(S(truncate, "hello.txt/x", 0));
	T(S(truncate, "dir", 0));
	T(S(truncate, "hello.txt", -1));
	T(S(truncate, "", 0));
	T(S(open, "hello.txt", O_RDONLY));
	T(S(ftruncate, 3, 0));
	T(S(ftruncate, 3, -1));
	T(S(ftruncate, 99, 0));
	T(S(fallocate, 3, 0, 0, 10));
	T(S(fallocate, 99, 0, 0, 10));
	T(S(open, "dir", O_RDONLY));
	T(S(ftruncate, 4, 0));
	T(S(close, 4));
}

static void test_nothing_to_do(void)
{
	say("-- fsync, fdatasync, fadvise64, flock, sync");
	T(S(fsync, 3));
	T(S(fdatasync, 3));
	T(S(fsync, 99));
	T(S(fdatasync, 99));
	T(S(fadvise64, 3, 0, 0, 0 /* POSIX_FADV_NORMAL */));
	T(S(fadvise64, 3, 0, 100, 4 /* POSIX_FADV_DONTNEED */));
	T(S(fadvise64, 3, 0, 0, 99));
	T(S(fadvise64, 3, 0, -1, 0));
	T(S(fadvise64, 99, 0, 0, 0));
	T(S(flock, 3, LOCK_SH));
	T(S(flock, 3, LOCK_EX | LOCK_NB));
	T(S(flock, 3, LOCK_UN));
	T(S(flock, 3, 0));
	T(S(flock, 99, LOCK_SH));
	T(S(open, "dir", O_RDONLY));
	T(S(fsync, 4));
	T(S(close, 4));
	T(S(sync));
	T(S(close, 3));
}

int main(void)
{
	begin("rofs");
	test_create();
	test_link_unlink_rename();
	test_attributes();
	test_nothing_to_do();
	say("== end");
	return 0;
}
