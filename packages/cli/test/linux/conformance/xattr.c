/*
 * Extended attributes on files that have none: reads say ENODATA (or an
 * empty list), as Linux says on ext4 and tmpfs; the file must exist first
 * (ENOENT, EBADF), and a name must be 1..255 bytes (ERANGE).
 */
#include "conformance.h"

int main(void)
{
	char buf[64];
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	begin("xattr");
	T(S(getxattr, "hello.txt", "user.kvmos", buf, sizeof buf));
	T(S(lgetxattr, "link", "user.kvmos", buf, sizeof buf));
	T(S(getxattr, "dir", "user.kvmos", buf, sizeof buf));
	T(S(getxattr, "nonexistent", "user.kvmos", buf, sizeof buf));
	T(S(lgetxattr, "nonexistent", "user.kvmos", buf, sizeof buf));
	T(S(getxattr, "hello.txt", "", buf, sizeof buf));
	T(S(getxattr, "hello.txt", longname, buf, sizeof buf));
	T(S(getxattr, BAD_NULL1, "user.kvmos", buf, sizeof buf));
	int fd = S(open, "hello.txt", O_RDONLY);
	T(S(fgetxattr, fd, "user.kvmos", buf, sizeof buf));
	T(S(fgetxattr, 99, "user.kvmos", buf, sizeof buf));
	T(S(listxattr, "hello.txt", buf, sizeof buf));
	T(S(llistxattr, "link", buf, sizeof buf));
	T(S(flistxattr, fd, buf, sizeof buf));
	T(S(flistxattr, 99, buf, sizeof buf));
	T(S(listxattr, "nonexistent", buf, sizeof buf));
	T(S(removexattr, "hello.txt", "user.kvmos"));
	T(S(fremovexattr, fd, "user.kvmos"));
	return 0;
}
