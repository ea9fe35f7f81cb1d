/* stale-code regression, program B: the same shape as stale-a.c, other bytes in its text. */
#include <unistd.h>
__attribute__((noinline)) static int pick(int x) { return x * 5 + 'B' - 5; }
int main(void) {
  char c = (char)pick(1);
  write(1, &c, 1);
  return 0;
}
