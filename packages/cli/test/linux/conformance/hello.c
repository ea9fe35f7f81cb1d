/*
 * The first program of the suite: plain libc (printf, buffered stdout, no
 * raw calls), arguments and environment in, lines on stdout and stderr,
 * exit status 42.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv, char **envp)
{
	printf("Hello from a static musl program!\n");
	printf("argc = %d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
	const char *name = strrchr(argv[0], '/');
	printf("argv[0] ends with /hello: %s\n", name && strcmp(name, "/hello") == 0 ? "yes" : "no");
	int n = 0;
	for (char **e = envp; *e; e++)
		n++;
	printf("environment: %d variables\n", n);
	printf("PATH = %s\n", getenv("PATH") ? getenv("PATH") : "(unset)");
	printf("HOME = %s\n", getenv("HOME") ? getenv("HOME") : "(unset)");
	fprintf(stderr, "a line on stderr\n");
	printf("exiting with 42\n");
	return 42;
}
