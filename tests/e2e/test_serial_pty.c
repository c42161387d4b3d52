/*
 * test_serial_pty.c - the serial backend end to end, with no board: the
 * driver opens serial:/dev/pts/N, and a thread on the pseudo-terminal's
 * master side plays the device (the functional model, or the Verilated
 * nnf_core). Then the device "disappears" (the master is closed in the
 * middle of a transfer) and the driver must fail with NNFDRV_ERR_IO, fast.
 *
 *   test_serial_pty model|sim
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnfm_device.h"
#include "nnfsim_core.h"

typedef struct {
  int master;
  int use_sim;
  atomic_long cut_after;    /* close the master after this many bytes in (-1: never) */
  atomic_int stop;
  long bytes_in;
} server;

static void *serve(void *arg) {
  server *s = arg;
  nnfm_device_config cfg = nnfm_device_config_default();
  nnfm_device *dev = s->use_sim ? NULL : nnfm_device_create(&cfg);
  nnfsim_core *core = s->use_sim ? nnfsim_core_create() : NULL;
  uint8_t in[4096], out[8192];
  while (!atomic_load(&s->stop)) {
    struct pollfd pfd = {s->master, POLLIN, 0};
    int pr = poll(&pfd, 1, 20);
    ssize_t n = 0;
    if (pr > 0 && (pfd.revents & POLLIN)) n = read(s->master, in, sizeof in);
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    if (n > 0) {
      s->bytes_in += n;
      long cut = atomic_load(&s->cut_after);
      if (cut >= 0 && s->bytes_in >= cut) {
        close(s->master);          /* the board is unplugged */
        s->master = -1;
        break;
      }
    }
    size_t m = 0;
    if (dev) {
      if (n > 0) nnfm_device_rx(dev, in, (size_t)n);
      else if (pr == 0 && nnfm_device_in_frame(dev)) nnfm_device_idle_timeout(dev);
      m = nnfm_device_tx(dev, out, sizeof out);
    } else {
      size_t used = 0;
      nnfsim_core_run(core, in, n > 0 ? (size_t)n : 0, &used, out, sizeof out, &m, 50000000,
                      NNFSIM_RUN_UNTIL_QUIET);
    }
    for (size_t off = 0; off < m;) {
      ssize_t w = write(s->master, out + off, m - off);
      if (w < 0 && errno == EAGAIN) continue;
      if (w < 0) break;
      off += (size_t)w;
    }
  }
  nnfm_device_destroy(dev);
  if (core) nnfsim_core_destroy(core);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "model") && strcmp(argv[1], "sim"))) {
    fprintf(stderr, "usage: test_serial_pty model|sim\n");
    return 2;
  }
  server s;
  memset(&s, 0, sizeof s);
  s.use_sim = !strcmp(argv[1], "sim");
  atomic_store(&s.cut_after, -1);
  s.master = posix_openpt(O_RDWR | O_NOCTTY);
  CHECK(s.master >= 0);
  CHECK_OK(grantpt(s.master));
  CHECK_OK(unlockpt(s.master));
  char uri[128];
  snprintf(uri, sizeof uri, "serial:%s@3000000", ptsname(s.master));
  pthread_t th;
  CHECK_OK(pthread_create(&th, NULL, serve, &s));

  char err[256];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc) fprintf(stderr, "open %s: %s\n", uri, err);
  CHECK_EQ(rc, NNFDRV_OK);
  const nnfdrv_info *info = nnfdrv_get_info(d);
  CHECK_EQ(info->proto_version, 1);
  CHECK_EQ(info->rows, 8);

  /* a round trip larger than one frame */
  nnf_rng r = nnf_rng_seed(7);
  size_t n = 3 * info->max_payload + 5;
  uint8_t *a = malloc(n), *b = malloc(n);
  nnf_rng_fill(&r, a, n);
  CHECK_EQ(nnfdrv_write(d, NNFDRV_ACT, 77, a, n), NNFDRV_OK);
  CHECK_EQ(nnfdrv_read(d, NNFDRV_ACT, 77, b, n), NNFDRV_OK);
  CHECK_MEM_EQ(a, b, n);

  /* unplugged in the middle of a write: a clear error, quickly */
  nnfdrv_set_timeout_ms(d, 200);
  atomic_store(&s.cut_after, s.bytes_in + 5000);
  rc = nnfdrv_write(d, NNFDRV_ACT, 0, a, n);
  CHECK_EQ(rc, NNFDRV_ERR_IO);
  CHECK(strstr(nnfdrv_errmsg(d), "gone") != NULL);
  printf("after unplug: %s\n", nnfdrv_errmsg(d));
  /* and every later call fails the same way, never hangs */
  CHECK_EQ(nnfdrv_read(d, NNFDRV_ACT, 0, b, 16), NNFDRV_ERR_IO);

  atomic_store(&s.stop, 1);
  pthread_join(th, NULL);
  nnfdrv_close(d);
  free(a);
  free(b);
  return nnf_test_done(argv[0]);
}
