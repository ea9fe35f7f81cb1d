/* stale-code regression, program A: the same shape as stale-b.c, other bytes in its text. */
#include <unistd.h>
__attribute__((noinline)) static int pick(int x) { return x * 3 + 'A' - 3; }
int main(void) {
  char c = (char)pick(1);
  write(1, &c, 1);
  return 0;
}
