/* FBIOPAN_DISPLAY with offsets outside the screen. kvmos's fb0 is one
 * page (xres_virtual == xres, yres_virtual == yres, no pan or wrap steps),
 * so as in Linux's fb_pan_display every non-zero offset is EINVAL, as is
 * a wrap request; an unreadable argument is EFAULT; the other fields are
 * not looked at. A refused pan must not present a frame: the monotonic
 * clock (with --fixed-time, frames shown * 16666667 ns) says how many
 * frames were shown. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <sys/ioctl.h>
#include <linux/fb.h>

static int fb;

static long long clock_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void report(const char *what, int r) {
  printf("%s: %d %s, clock %lld\n", what, r, r ? strerror(errno) : "ok", clock_ns());
}

static void pan(const char *what, struct fb_var_screeninfo v) {
  report(what, ioctl(fb, FBIOPAN_DISPLAY, &v));
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  struct fb_var_screeninfo v, w;
  fb = open("/dev/fb0", O_RDWR);
  if (fb < 0 || ioctl(fb, FBIOGET_VSCREENINFO, &v)) { printf("no /dev/fb0: %s\n", strerror(errno)); return 1; }
  w = v; w.xoffset = 1; pan("xoffset 1", w);
  w = v; w.yoffset = 1; pan("yoffset 1", w);
  w = v; w.yoffset = v.yres; pan("yoffset yres", w);
  w = v; w.yoffset = 0u - v.yres; pan("yoffset 2^32-yres", w);
  w = v; w.xoffset = 0u - v.xres; pan("xoffset 2^32-xres", w);
  w = v; w.yoffset = 0xffffffffu; pan("yoffset 0xffffffff", w);
  w = v; w.vmode |= FB_VMODE_YWRAP; w.yoffset = 1; pan("ywrap yoffset 1", w);
  report("NULL argument", ioctl(fb, FBIOPAN_DISPLAY, (void *)0));
  pan("offset 0", v);
  w = v; w.xres = 1; w.bits_per_pixel = 8; w.vmode |= FB_VMODE_YWRAP; pan("offset 0, other fields nonsense", w);
  w = v; w.yoffset = 2; pan("yoffset 2", w);
  pan("offset 0 again", v);
  return 0;
}
