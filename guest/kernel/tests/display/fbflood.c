/* Presents frames as fast as it can: FBIOPAN_DISPLAY in a loop, pixel
 * (0,0) = the frame's number. The first 5 pans report, each, the clock and
 * the input events found after it (the mailbox of the next frame); then
 * it floods without looking at anything, never exiting by itself: the
 * host must answer every pan with one frame and stop it after --frames. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fb.h>
#include <linux/input.h>

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int fb = open("/dev/fb0", O_RDWR);
  int ev = open("/dev/input/event0", O_RDONLY | O_NONBLOCK);
  struct fb_var_screeninfo v;
  struct fb_fix_screeninfo f;
  if (fb < 0 || ev < 0 || ioctl(fb, FBIOGET_VSCREENINFO, &v) || ioctl(fb, FBIOGET_FSCREENINFO, &f)) {
    printf("no display: %s\n", strerror(errno));
    return 1;
  }
  unsigned *px = mmap(0, f.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
  if (px == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); return 1; }
  for (unsigned n = 0;; n++) {
    px[0] = n;
    if (ioctl(fb, FBIOPAN_DISPLAY, &v)) { printf("pan %u: %s\n", n, strerror(errno)); return 1; }
    if (n >= 5) continue;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    struct input_event e[16];
    ssize_t r;
    int count = 0, x = -1;
    while ((r = read(ev, e, sizeof e)) > 0)
      for (int i = 0; i < r / (int)sizeof e[0]; i++, count++)
        if (e[i].type == EV_ABS && e[i].code == ABS_X) x = e[i].value;
    printf("pan %u: clock %lld, %d events, x %d\n", n, t.tv_sec * 1000000000LL + t.tv_nsec, count, x);
  }
}
