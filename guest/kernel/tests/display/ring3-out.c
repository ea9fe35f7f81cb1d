/* Ring 3 rings the frame doorbell itself: `out` to the doorbell port
 * (packages/protocol/src/layout.ts, PORT.doorbell = 0x403). Port I/O is
 * privileged (IOPL 0, no I/O permission bitmap), so the CPU raises #GP
 * before the port is touched, and the program must die of SIGSEGV as on
 * Linux, the host never seeing the write. With a display it presents one
 * frame the proper way first (FBIOPAN_DISPLAY), so the screen is live;
 * without one (natively on Linux) it goes straight to the `out`.
 * Prints the address of the `out`, which the kernel's crash line names. */
#include <stdio.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/fb.h>

extern const char doorbell_out[];

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int fb = open("/dev/fb0", O_RDWR);
  struct fb_var_screeninfo v;
  if (fb >= 0 && ioctl(fb, FBIOGET_VSCREENINFO, &v) == 0) {
    printf("presented a frame: %d\n", ioctl(fb, FBIOPAN_DISPLAY, &v));
  } else {
    printf("no /dev/fb0\n");
  }
  printf("out to port 0x403 at %p\n", (void *)doorbell_out);
  __asm__ volatile(".globl doorbell_out\ndoorbell_out: outl %0, %w1" : : "a"(0), "Nd"(0x403));
  printf("still running after the out\n");
  return 3;
}
