/* The static hello of the linux-exec benchmark (and of rust-kvm-os). */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
