/* A probe of the kvmos display devices (guest/README.md, "torus, paint"):
 * prints the fb0 geometry, checks a few errors, draws a gradient (plus a
 * white square at the pointer) for N frames (argv[1], default 5), printing
 * the events and the monotonic time of each; exits 0 at end of input. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fb.h>
#include <linux/input.h>

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 5;
  int fb = open("/dev/fb0", O_RDWR);
  if (fb < 0) { printf("open fb0: %s\n", strerror(errno)); return 1; }
  struct fb_var_screeninfo v; struct fb_fix_screeninfo f;
  if (ioctl(fb, FBIOGET_VSCREENINFO, &v)) { printf("VSCREENINFO: %s\n", strerror(errno)); return 1; }
  if (ioctl(fb, FBIOGET_FSCREENINFO, &f)) { printf("FSCREENINFO: %s\n", strerror(errno)); return 1; }
  printf("var %ux%u virt %ux%u bpp %u r%u/%u g%u/%u b%u/%u t%u/%u\n", v.xres, v.yres, v.xres_virtual, v.yres_virtual,
         v.bits_per_pixel, v.red.offset, v.red.length, v.green.offset, v.green.length, v.blue.offset, v.blue.length, v.transp.offset, v.transp.length);
  printf("fix id '%s' smem_start %#lx len %u line %u visual %u type %u\n", f.id, f.smem_start, f.smem_len, f.line_length, f.visual, f.type);
  char b[32];
  ssize_t rr = read(fb, b, 4);
  printf("read fb0: %zd %s\n", rr, strerror(errno));
  void *big = mmap(0, f.smem_len + 8192, PROT_READ|PROT_WRITE, MAP_SHARED, fb, 0);
  printf("mmap too big: %s\n", big == MAP_FAILED ? strerror(errno) : "mapped?!");
  unsigned *px = mmap(0, f.smem_len, PROT_READ|PROT_WRITE, MAP_SHARED, fb, 0);
  if (px == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); return 1; }
  int ev = open("/dev/input/event0", O_RDONLY|O_NONBLOCK);
  if (ev < 0) { printf("open event0: %s\n", strerror(errno)); return 1; }
  rr = read(ev, b, 23);
  printf("short read: %zd %s\n", rr, strerror(errno));
  struct timespec ts;
  unsigned stride = f.line_length / 4;
  int mx = -1, my = -1;
  for (int n = 0; n < frames; n++) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (unsigned y = 0; y < v.yres; y++)
      for (unsigned x = 0; x < v.xres; x++)
        px[y * stride + x] = ((x * 255 / v.xres) << 16) | ((y * 255 / v.yres) << 8) | ((n * 40) & 255);
    if (mx >= 0) for (int dy = 0; dy < 8; dy++) for (int dx = 0; dx < 8; dx++)
      if (mx + dx < (int)v.xres && my + dy < (int)v.yres) px[(my + dy) * stride + mx + dx] = 0xffffff;
    struct pollfd p = { ev, POLLIN, 0 };
    int pr = poll(&p, 1, 0);
    struct input_event e[8];
    ssize_t r; int total = 0;
    while ((r = read(ev, e, sizeof e)) > 0) {
      for (int i = 0; i < r / (int)sizeof e[0]; i++) {
        printf("  frame %d ev t=%ld.%06ld type %u code %u value %d\n", n, e[i].time.tv_sec, e[i].time.tv_usec, e[i].type, e[i].code, e[i].value);
        if (e[i].type == EV_ABS && e[i].code == ABS_X) mx = e[i].value;
        if (e[i].type == EV_ABS && e[i].code == ABS_Y) my = e[i].value;
        total++;
      }
    }
    printf("frame %d mono %ld.%09ld poll %d revents %#x events %d end %s\n", n, ts.tv_sec, ts.tv_nsec, pr, p.revents, total, r == 0 ? "EOF" : strerror(errno));
    if (r == 0) { printf("quit\n"); return 0; }
    v.yoffset = 0;
    if (ioctl(fb, FBIOPAN_DISPLAY, &v)) { printf("PAN: %s\n", strerror(errno)); return 1; }
  }
  v.yoffset = 1;
  /* The call first: the order in which printf's arguments are evaluated is unspecified. */
  int pr = ioctl(fb, FBIOPAN_DISPLAY, &v);
  printf("pan yoffset 1: %d %s\n", pr, strerror(errno));
  return 7;
}
