/*
 * Socket calls on descriptors that are not sockets (bash asks getpeername
 * of its stdin): ENOTSOCK for a file, a directory or a pipe, EBADF for no
 * descriptor at all.
 */
#include "conformance.h"
#include <sys/socket.h>

int main(void)
{
	char addr[128];
	socklen_t len = sizeof addr;
	int p[2];
	begin("notsock");
	int f = S(open, "hello.txt", O_RDONLY);
	int d = S(open, "dir", O_RDONLY | O_DIRECTORY);
	S(pipe, p);
	T(S(getpeername, 0, addr, &len));
	T(S(getpeername, f, addr, &len));
	T(S(getsockname, d, addr, &len));
	T(S(getsockname, p[1], addr, &len));
	T(S(connect, f, addr, sizeof(struct sockaddr)));
	T(S(bind, p[0], addr, sizeof(struct sockaddr)));
	T(S(listen, f, 1));
	T(S(accept, f, 0, 0));
	T(S(shutdown, p[0], SHUT_RDWR));
	T(S(sendto, f, "x", 1, 0, 0, 0));
	T(S(recvfrom, p[0], addr, 1, 0, 0, 0));
	int one = 1;
	T(S(setsockopt, f, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	T(S(getsockopt, f, SOL_SOCKET, SO_TYPE, addr, &len));
	T(S(getpeername, 99, addr, &len));
	T(S(connect, 99, addr, sizeof(struct sockaddr)));
	T(S(getsockopt, -1, SOL_SOCKET, SO_TYPE, addr, &len));
	return 0;
}
