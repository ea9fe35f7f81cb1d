/*
 * exit (60), not exit_group: in a one-thread process it ends the process,
 * and the status is the low 8 bits of the code (300 -> 44). Nothing after
 * it runs.
 */
#include "conformance.h"

int main(void)
{
	begin("exit");
	say("calling exit(300)");
	fflush(stdout);
	S(exit, 300);
	say("still running after exit: a bug");
	return 1;
}
