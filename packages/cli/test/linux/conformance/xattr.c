/*
 * Extended attributes where none is set (what ls -l asks for: the POSIX
 * ACLs): getxattr, lgetxattr, fgetxattr, listxattr, llistxattr, flistxattr,
 * and their errors.
 */
#include "conformance.h"

int main(void)
{
	char v[64], name[300];
	begin("xattr");
	T(S(getxattr, "hello.txt", "system.posix_acl_access", 0, 0));
	T(S(getxattr, "dir", "system.posix_acl_default", v, sizeof v));
	T(S(getxattr, "hello.txt", "user.comment", v, sizeof v));
	T(S(getxattr, "hello.txt", "security.selinux", v, sizeof v));
	T(S(getxattr, "hello.txt", "system.nothing", v, sizeof v));
	T(S(getxattr, "hello.txt", "nonamespace", v, sizeof v));
	T(S(getxattr, "hello.txt", "user.", v, sizeof v));
	T(S(getxattr, "hello.txt", "", v, sizeof v));
	memset(name, 'a', sizeof name);
	memcpy(name, "user.", 5);
	name[255] = 0;
	T(S(getxattr, "hello.txt", name, v, sizeof v));
	name[255] = 'a';
	name[256] = 0;
	T(S(getxattr, "hello.txt", name, v, sizeof v));
	T(S(getxattr, "nonexistent", "user.x", v, sizeof v));
	T(S(getxattr, "hello.txt", BAD_KERNEL, v, sizeof v));
	T(S(getxattr, BAD_KERNEL, "user.x", v, sizeof v));
	T(S(getxattr, "dangling", "user.x", v, sizeof v));
	T(S(lgetxattr, "link", "system.posix_acl_access", v, sizeof v));
	T(S(lgetxattr, "link", "security.selinux", v, sizeof v));
	T(S(lgetxattr, "link", "user.x", v, sizeof v));
	T(S(lgetxattr, "link", "user.", v, sizeof v));
	T(S(lgetxattr, "dangling", "trusted.x", v, sizeof v));
	T(S(getxattr, "link", "system.posix_acl_access", v, sizeof v));
	T(S(listxattr, "hello.txt", v, sizeof v));
	T(S(listxattr, "hello.txt", 0, 0));
	T(S(llistxattr, "link", v, sizeof v));
	T(S(listxattr, "nonexistent", v, sizeof v));
	int fd = S(open, "hello.txt", O_RDONLY);
	T(S(fgetxattr, fd, "system.posix_acl_access", v, sizeof v));
	T(S(flistxattr, fd, v, sizeof v));
	S(close, fd);
	T(S(fgetxattr, 99, "user.x", v, sizeof v));
	T(S(flistxattr, 99, v, sizeof v));
	int p[2];
	S(pipe, p);
	T(S(fgetxattr, p[0], "user.x", v, sizeof v));
	T(S(fgetxattr, p[1], "system.posix_acl_access", v, sizeof v));
	T(S(fgetxattr, p[1], "trusted.x", v, sizeof v));
	T(S(flistxattr, p[0], v, sizeof v));
	say("== end");
	return 0;
}
