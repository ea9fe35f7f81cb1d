/*
 * A writable /tmp: open with O_CREAT, O_EXCL, O_TRUNC and O_APPEND; writes
 * past the end (holes); ftruncate and truncate; unlink of an open file (still
 * readable through the descriptor); link and st_nlink; symlink and
 * readlink; rename over files and directories and its errors; mkdir, rmdir,
 * unlinkat(AT_REMOVEDIR); getdents64 after changes (names sorted);
 * fsync, fdatasync; fchmod, utimensat; statfs (only what holds on any
 * writable file system); /proc/self/fd and /proc/self/maps.
 *
 * Everything happens in a fresh directory under /tmp (natively /tmp may be
 * tmpfs or not: nothing printed depends on which), removed at the end.
 */
#include "conformance.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static char buf[8192];

/* The file's bytes, printed with holes as '.'. */
static void show(const char *label, int fd)
{
	long n = S(pread64, fd, buf, sizeof buf - 1, 0);
	if (n < 0) {
		say("%s: pread64 = -1 %s", label, errname(errno));
		return;
	}
	for (long i = 0; i < n; i++)
		if (buf[i] == 0)
			buf[i] = '.';
	buf[n] = 0;
	say("%s: %ld bytes \"%s\"", label, n, buf);
}

static void stat_line(const char *path)
{
	struct stat st;
	if (S(lstat, path, &st) < 0) {
		say("lstat(%s) = -1 %s", path, errname(errno));
		return;
	}
	/* A directory's size is the file system's own (tmpfs and ext4 differ). */
	if (S_ISDIR(st.st_mode))
		say("%s: mode %o nlink %ld", path, (unsigned)st.st_mode, (long)st.st_nlink);
	else
		say("%s: mode %o size %ld nlink %ld", path, (unsigned)st.st_mode, (long)st.st_size, (long)st.st_nlink);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory `path`, sorted (order is the file system's). */
static void list(const char *path)
{
	int fd = S(open, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		say("open(%s) = -1 %s", path, errname(errno));
		return;
	}
	static char *names[256];
	int count = 0;
	char d[512];
	long n;
	while ((n = S(getdents64, fd, d, sizeof d)) > 0) {
		for (long at = 0; at < n;) {
			unsigned short reclen = *(unsigned short *)(d + at + 16);
			if (count < 256)
				names[count++] = strdup(d + at + 19);
			at += reclen;
		}
	}
	qsort(names, count, sizeof names[0], cmp);
	printf("%s:", path);
	for (int i = 0; i < count; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	S(close, fd);
}

static void test_open_flags(void)
{
	say("-- open: O_CREAT, O_EXCL, O_TRUNC, O_APPEND");
	T(S(open, "f", O_RDONLY));
	T(S(open, "f", O_WRONLY | O_CREAT | O_EXCL, 0640));
	T(S(open, "f", O_WRONLY | O_CREAT | O_EXCL, 0640));
	T(S(write, 3, "hello world", 11));
	T(S(close, 3));
	stat_line("f");
	T(S(open, "f", O_RDWR | O_APPEND));
	T(S(write, 3, "!", 1));
	T(S(lseek, 3, 0, SEEK_CUR));
	T(S(pwrite64, 3, "?", 1, 0));
	show("after O_APPEND", 3);
	T(S(close, 3));
	T(S(open, "f", O_RDWR | O_TRUNC));
	stat_line("f");
	T(S(write, 3, "abc", 3));
	show("after O_TRUNC", 3);
	T(S(close, 3));
	T(S(open, "f/", O_RDWR | O_CREAT, 0644));
	T(S(open, "new/", O_RDWR | O_CREAT, 0644));
	T(S(open, "nodir/x", O_RDWR | O_CREAT, 0644));
	T(S(open, ".", O_RDWR));
	T(S(creat, "g", 0600));
	T(S(write, 3, "G", 1));
	T(S(close, 3));
	stat_line("g");
	T(S(umask, 077));
	T(S(open, "masked", O_WRONLY | O_CREAT, 0666));
	T(S(close, 3));
	stat_line("masked");
	T(S(umask, 022));
}

static void test_holes_truncate(void)
{
	say("-- holes, ftruncate, truncate, fsync, fdatasync");
	T(S(open, "h", O_RDWR | O_CREAT | O_TRUNC, 0644));
	T(S(pwrite64, 3, "end", 3, 10));
	show("hole", 3);
	T(S(lseek, 3, 20, SEEK_SET));
	T(S(write, 3, "x", 1));
	show("hole2", 3);
	T(S(ftruncate, 3, 4));
	show("cut", 3);
	T(S(ftruncate, 3, 8));
	show("grown", 3);
	T(S(ftruncate, 3, -1));
	T(S(fsync, 3));
	T(S(fdatasync, 3));
	T(S(fsync, 99));
	T(S(close, 3));
	T(S(truncate, "h", 2));
	stat_line("h");
	T(S(truncate, "nonexistent", 2));
	T(S(open, "h", O_RDONLY));
	T(S(ftruncate, 3, 0));
	T(S(read, 3, buf, sizeof buf));
	T(S(close, 3));
	struct stat st;
	T(S(stat, "h", &st));
	say("st_blocks > 0: %s", yesno(st.st_blocks > 0));
}

static void test_unlink_open(void)
{
	say("-- unlink of an open file, link, st_nlink");
	T(S(open, "u", O_RDWR | O_CREAT | O_TRUNC, 0644));
	T(S(write, 3, "still here", 10));
	T(S(link, "u", "u2"));
	stat_line("u");
	T(S(link, "u", "u2"));
	T(S(link, "nonexistent", "u3"));
	T(S(link, ".", "dirlink"));
	T(S(unlink, "u"));
	stat_line("u2");
	T(S(unlink, "u2"));
	T(S(unlink, "u2"));
	struct stat st;
	T(S(fstat, 3, &st));
	say("fstat after unlink: nlink %ld size %ld", (long)st.st_nlink, (long)st.st_size);
	show("unlinked", 3);
	T(S(write, 3, "!", 1));
	show("unlinked, written", 3);
	T(S(close, 3));
	T(S(unlink, "nonexistent"));
	T(S(unlink, "."));
	T(S(unlink, "f/"));
}

static void test_symlinks(void)
{
	say("-- symlink, readlink");
	T(S(symlink, "g", "s"));
	T(S(symlink, "g", "s"));
	T(S(symlink, "nowhere", "dangling"));
	long n = S(readlink, "s", buf, sizeof buf);
	T(n);
	if (n > 0)
		say("readlink(s) = %.*s", (int)n, buf);
	T(S(readlink, "g", buf, sizeof buf));
	stat_line("s");
	T(S(open, "s", O_RDONLY));
	T(S(read, 3, buf, 10));
	T(S(close, 3));
	T(S(open, "s", O_RDONLY | O_NOFOLLOW));
	T(S(open, "dangling", O_RDONLY));
	T(S(open, "s", O_RDONLY | O_CREAT | O_EXCL, 0644));
	T(S(open, "dangling", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644));
	T(S(open, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0644));
	T(S(open, "dangling", O_WRONLY | O_CREAT, 0600));
	T(S(close, 3));
	stat_line("nowhere");
	T(S(unlink, "nowhere"));
	T(S(symlink, "nodir/x", "dangling2"));
	T(S(open, "dangling2", O_WRONLY | O_CREAT, 0600));
	T(S(unlink, "dangling2"));
	T(S(unlink, "s"));
	T(S(unlink, "dangling"));
}

static void test_dirs_rename(void)
{
	say("-- mkdir, rmdir, rename, renameat2, unlinkat");
	T(S(mkdir, "d", 0755));
	T(S(mkdir, "d", 0755));
	T(S(mkdir, "d/sub", 0755));
	T(S(mkdir, "e", 0755));
	T(S(mkdir, "e/", 0755));
	stat_line("d");
	T(S(rename, "f", "g"));
	stat_line("g");
	T(S(rename, "f", "g"));
	T(S(rename, "g", "d"));
	T(S(rename, "d", "g"));
	T(S(rename, "d", "d/sub/x"));
	T(S(rename, "d", "d/x"));
	T(S(rename, "e", "d"));
	T(S(rename, "d", "e"));
	list(".");
	T(S(rename, "e", "e2"));
	T(S(renameat2, AT_FDCWD, "masked", AT_FDCWD, "e2", RENAME_NOREPLACE));
	T(S(renameat2, AT_FDCWD, "masked", AT_FDCWD, "h", RENAME_NOREPLACE));
	T(S(renameat2, AT_FDCWD, "g", AT_FDCWD, "g", 0));
	T(S(renameat2, AT_FDCWD, "g/", AT_FDCWD, "g2", 0));
	T(S(rename, "e2/sub", "top"));
	list(".");
	list("e2");
	T(S(chdir, "top"));
	T(S(rmdir, "../top"));
	T(S(getcwd, buf, sizeof buf));
	T(S(open, "x", O_WRONLY | O_CREAT, 0644));
	T(S(mkdir, "y", 0755));
	T(S(open, ".", O_RDONLY | O_DIRECTORY));
	list(".");
	T(S(close, 3));
	T(S(chdir, ".."));
	T(S(rmdir, "g"));
	T(S(rmdir, "."));
	T(S(rmdir, "nonexistent"));
	T(S(unlinkat, AT_FDCWD, "e2", 0));
	T(S(unlinkat, AT_FDCWD, "e2", AT_REMOVEDIR));
	T(S(unlinkat, AT_FDCWD, "e2", AT_REMOVEDIR));
	list(".");
}

static void test_getdents_changes(void)
{
	say("-- getdents64 while entries come and go");
	T(S(mkdir, "many", 0755));
	char name[32];
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof name, "many/file-%02d", i);
		int fd = S(open, name, O_WRONLY | O_CREAT, 0644);
		S(close, fd);
	}
	/* Read a little, delete what was read, read on: like rm -r. */
	int fd = S(open, "many", O_RDONLY | O_DIRECTORY);
	char d[256];
	long n;
	int removed = 0;
	while ((n = S(getdents64, fd, d, sizeof d)) > 0) {
		for (long at = 0; at < n;) {
			unsigned short reclen = *(unsigned short *)(d + at + 16);
			const char *nm = d + at + 19;
			if (strcmp(nm, ".") && strcmp(nm, "..")) {
				snprintf(name, sizeof name, "many/%s", nm);
				if (S(unlink, name) == 0)
					removed++;
			}
			at += reclen;
		}
	}
	say("removed while reading: %d", removed);
	S(close, fd);
	list("many");
	T(S(rmdir, "many"));
}

static void test_attrs(void)
{
	say("-- fchmod, chmod, utimensat, statfs");
	struct stat st;
	T(S(open, "h", O_RDWR));
	T(S(fchmod, 3, 0600));
	T(S(fstat, 3, &st));
	say("mode %o", (unsigned)st.st_mode);
	T(S(chmod, "h", 0644));
	struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
	T(S(utimensat, AT_FDCWD, "h", ts, 0));
	T(S(stat, "h", &st));
	say("atime %ld.%09ld mtime %ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {7, 0}};
	T(S(utimensat, 3, NULL, omit, 0));
	T(S(fstat, 3, &st));
	say("atime %ld mtime %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	T(S(utimensat, AT_FDCWD, "nonexistent", NULL, 0));
	struct statfs sf;
	T(S(statfs, ".", &sf));
	say("statfs: bsize > 0 %s, namelen %ld, read-only %s, blocks >= free %s",
	    yesno(sf.f_bsize > 0), (long)sf.f_namelen, yesno(sf.f_flags & 1), yesno(sf.f_blocks >= sf.f_bfree));
	T(S(fstatfs, 3, &sf));
	T(S(close, 3));
}

static void test_mmap_sendfile(void)
{
	say("-- mmap of a /tmp file (private, with an offset), sendfile from one");
	T(S(open, "m", O_RDWR | O_CREAT | O_TRUNC, 0644));
	static char page[8192];
	for (int i = 0; i < 8192; i++)
		page[i] = 'a' + i / 4096;
	T(S(write, 3, page, 8192));
	T(S(write, 3, "tail", 4));
	char *p = (char *)S(mmap, 0, 8192, PROT_READ, MAP_PRIVATE, 3, 4096);
	if (p == MAP_FAILED) {
		say("mmap = -1 %s", errname(errno));
	} else {
		say("mapped: %c%c ... %c%c%c%c, then zeros: %s", p[0], p[4095], p[4096], p[4097], p[4098], p[4099], yesno(p[4100] == 0 && p[8191] == 0));
		T(S(munmap, p, 8192));
	}
	char *w = (char *)S(mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, 3, 0);
	if (w != MAP_FAILED) {
		w[0] = 'Z';
		T(S(pread64, 3, buf, 1, 0));
		say("a private write stays private: %c", buf[0]);
		T(S(munmap, w, 4096));
	}
	T(S(mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 3, 100));
	long off = 8188;
	T(S(sendfile, 1, 3, &off, 100));
	say("");
	T(off);
	T(S(close, 3));
	T(S(unlink, "m"));
}

static void test_proc(void)
{
	say("-- /proc/self/fd, /proc/self/maps");
	T(S(open, "h", O_RDONLY));
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", 3);
	long n = S(readlink, path, buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = 0;
		const char *tail = strrchr(buf, '/');
		say("fd 3 -> .../%s (absolute %s)", tail ? tail + 1 : buf, yesno(buf[0] == '/'));
	} else {
		say("readlink(%s) = -1 %s", path, errname(errno));
	}
	T(S(readlink, "/proc/self/fd/99", buf, sizeof buf));
	/* The listing has 0, 1, 2 and 3 (and the directory's own descriptor). */
	int dfd = S(open, "/proc/self/fd", O_RDONLY | O_DIRECTORY);
	char d[1024];
	int has3 = 0, hasd = 0, count = 0;
	long m;
	while ((m = S(getdents64, dfd, d, sizeof d)) > 0) {
		for (long at = 0; at < m;) {
			unsigned short reclen = *(unsigned short *)(d + at + 16);
			const char *nm = d + at + 19;
			if (strcmp(nm, ".") && strcmp(nm, "..")) {
				count++;
				has3 |= atoi(nm) == 3;
				hasd |= atoi(nm) == dfd;
			}
			at += reclen;
		}
	}
	say("/proc/self/fd: 3 %s, the directory's own %s, count %d", yesno(has3), yesno(hasd), count);
	S(close, dfd);
	T(S(close, 3));
	/* maps: every line "start-end perms offset dev inode [name]". */
	int fd = S(open, "/proc/self/maps", O_RDONLY);
	long total = 0;
	while ((n = S(read, fd, buf + total, sizeof buf - 1 - total)) > 0)
		total += n;
	buf[total] = 0;
	S(close, fd);
	int lines = 0, good = 0, stack = 0, self = 0;
	unsigned long here = (unsigned long)&here, code = (unsigned long)test_proc;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long lo, hi, off;
		char perms[5];
		unsigned maj, min;
		unsigned long ino;
		int used = 0;
		lines++;
		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu%n", &lo, &hi, perms, &off, &maj, &min, &ino, &used) == 7 && lo < hi &&
		    strlen(perms) == 4 && strchr("-r", perms[0]) && strchr("-w", perms[1]) && strchr("-x", perms[2]) && strchr("ps", perms[3]))
			good++;
		if (lo <= here && here < hi && strstr(line, "[stack]"))
			stack = 1;
		if (lo <= code && code < hi && perms[2] == 'x')
			self = 1;
	}
	say("maps: well-formed %s, [stack] holds a local %s, code is executable %s", yesno(lines > 0 && lines == good), yesno(stack), yesno(self));
}

int main(void)
{
	begin("tmpfs");
	char dir[] = "/tmp/kvmos-tmpfs-XXXXXX";
	if (!mkdtemp(dir)) {
		say("mkdtemp: %s", errname(errno));
		return 1;
	}
	T(S(chdir, dir));
	T(S(umask, 022));
	test_open_flags();
	test_holes_truncate();
	test_unlink_open();
	test_symlinks();
	test_dirs_rename();
	test_getdents_changes();
	test_attrs();
	test_mmap_sendfile();
	test_proc();
	say("-- cleanup");
	T(S(unlink, "g"));
	T(S(unlink, "h"));
	T(S(unlink, "masked"));
	list(".");
	T(S(chdir, "/"));
	T(S(rmdir, dir));
	return 0;
}
