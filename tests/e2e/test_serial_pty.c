/*
 * test_serial_pty.c - the serial backend end to end, with no board: the
 * driver opens serial:/dev/pts/N, and a thread on the pseudo-terminal's
 * master side plays the device (the functional model, or the Verilated
 * nnf_core). Then the device "disappears" (the master is closed in the
 * middle of a transfer) and the driver must fail with NNFDRV_ERR_IO, fast.
 *
 * With the simulator the master side behaves like a board's UART: each byte
 * takes one byte time (UART_CYCLES_PER_BYTE device cycles) on the wire, goes
 * into the receive FIFO of nnf_dev_uart (16 bytes and the register at its
 * head) and is lost when that is full. That is what makes a WRITE to W during a running program lose
 * bytes on a real board, and what the driver's automatic WAIT (nnfdrv_write)
 * must prevent.
 *
 * No wall clock: the device runs on a virtual clock that the byte stream
 * alone advances. Each byte that arrives is one byte time; and once the
 * host has sent a whole frame (the server follows the requests with its own
 * parser) the host is waiting for the answer, so the device runs freely
 * until every complete request has its answer, or until it is idle with
 * nothing left to take (a frame it lost bytes of is then abandoned by the
 * RTL's own cycle-counted timeout, or answered ERR TIMEOUT). Between frames
 * the device does not advance: a program started by RUN is still running
 * when the next frame arrives, however slowly the host (or a loaded
 * machine) sends it. The driver's answer timeout is long (ANSWER_TIMEOUT_MS,
 * never waited out when the test passes), so no retry depends on timing.
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
#include "nnf_proto.h"
#include "nnfm_device.h"
#include "nnfsim_core.h"

typedef struct {
  int master;
  int use_sim;
  atomic_long cut_after;    /* close the master after this many bytes in (-1: never) */
  atomic_int stop;
  atomic_long bytes_in;
  atomic_long dropped;      /* bytes lost at a full receive FIFO (sim) */
  atomic_long free_cycles;  /* cycles the device ran while the host waited (sim) */
  atomic_int stuck;         /* the device ran FREE_RUN_CAP cycles for one answer */
} server;

/* nnf_dev_uart at 24 MHz and 3 Mbaud: 10 bits of 8 clocks each per byte. */
/* UART_FIFO: the bytes nnf_uart holds for the core, its 16-byte FIFO and
 * the register at the FIFO's head */
enum { UART_CYCLES_PER_BYTE = 80, UART_FIFO = 17, UART_SLICE = 2000 };
/* The driver's answer timeout: a margin, never a measurement. The longest
 * wait is the 0.4 M-cycle program below plus a 4114-byte frame at 80 cycles
 * a byte, simulated while the host waits: seconds on a loaded machine. */
enum { ANSWER_TIMEOUT_MS = 120000 };
/* A device that runs this long for one answer is stuck: the test fails. */
#define FREE_RUN_CAP 200000000ull

typedef struct {
  nnfsim_core *core;
  uint8_t fifo[UART_FIFO];
  size_t n;
} uart_dev;

/* Run the device for `cycles` with the FIFO on its stream port; returns
 * the number of answer bytes put in out. */
static size_t uart_run(uart_dev *u, uint64_t cycles, uint8_t *out, size_t out_max) {
  size_t used = 0, m = 0;
  nnfsim_core_run(u->core, u->fifo, u->n, &used, out, out_max, &m, cycles, 0);
  memmove(u->fifo, u->fifo + used, u->n - used);
  u->n -= used;
  return m;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, p + off, n - off);
    if (w < 0 && errno == EAGAIN) continue;
    if (w < 0) return;
    off += (size_t)w;
  }
}

/* The frames on one direction of the link, counted by a parser. */
typedef struct {
  nnfp_parser p;
  uint8_t pl[65536];
  long frames;            /* complete frames (and broken headers: the sender is done with them too) */
} frame_count;

static void count_frames(frame_count *c, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (nnfp_parse_byte(&c->p, b[i]) != NNFP_PARSE_MORE) c->frames++;
}

typedef struct {
  server *s;
  nnfm_device *dev;
  uart_dev u;
  frame_count req, ans;
} device_side;

/* Answer bytes to the host (and to the answer count). */
static void emit(device_side *ds, const uint8_t *out, size_t m) {
  count_frames(&ds->ans, out, m);
  write_all(ds->s->master, out, m);
}

/* The host has sent whole frames and waits: run until each has its answer,
 * or until nothing more can come (idle, FIFO empty). */
static void run_while_host_waits(device_side *ds) {
  uint8_t out[8192];
  if (ds->dev) {
    if (ds->ans.frames < ds->req.frames && nnfm_device_in_frame(ds->dev)) {
      nnfm_device_idle_timeout(ds->dev);
      size_t m = nnfm_device_tx(ds->dev, out, sizeof out);
      emit(ds, out, m);
    }
    return;
  }
  uint64_t ran = 0;
  while (ds->ans.frames < ds->req.frames && !(ds->u.n == 0 && nnfsim_core_idle(ds->u.core))) {
    if (ran >= FREE_RUN_CAP) {
      atomic_store(&ds->s->stuck, 1);
      break;
    }
    size_t m = uart_run(&ds->u, UART_SLICE, out, sizeof out);
    ran += UART_SLICE;
    emit(ds, out, m);
  }
  atomic_fetch_add(&ds->s->free_cycles, (long)ran);
}

/* Bytes read from the pty and not yet through the device: the pty is
 * drained as soon as bytes come (the driver gives up on a port that stays
 * unwritable for 5 s, and simulating a 4 KB frame byte by byte takes longer
 * than that on a loaded machine), the device takes them at its own pace. */
typedef struct {
  uint8_t *p;
  size_t head, len, cap;
} backlog;

/* Take what the pty holds now (waiting up to wait_ms for it); -1 when the
 * master is gone or closed (unplugged). A hang-up alone (no slave open yet)
 * is not an end. */
static int take_input(server *s, backlog *b, int wait_ms) {
  struct pollfd pfd = {s->master, POLLIN, 0};
  int pr = poll(&pfd, 1, wait_ms);
  if (pr <= 0 || !(pfd.revents & POLLIN)) return 0;
  if (b->head == b->len) b->head = b->len = 0;
  if (b->cap - b->len < 4096) {
    b->cap = 2 * (b->len + 4096);
    b->p = realloc(b->p, b->cap);
    if (!b->p) return -1;
  }
  ssize_t n = read(s->master, b->p + b->len, 4096);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  b->len += (size_t)n;
  long total = atomic_fetch_add(&s->bytes_in, n) + n;
  long cut = atomic_load(&s->cut_after);
  if (cut >= 0 && total >= cut) {
    close(s->master);                /* the board is unplugged */
    s->master = -1;
    return -1;
  }
  return 0;
}

static void *serve(void *arg) {
  server *s = arg;
  nnfm_device_config cfg = nnfm_device_config_default();
  static device_side ds;
  memset(&ds, 0, sizeof ds);
  ds.s = s;
  ds.dev = s->use_sim ? NULL : nnfm_device_create(&cfg);
  ds.u.core = s->use_sim ? nnfsim_core_create() : NULL;
  nnfp_parser_init(&ds.req.p, ds.req.pl, cfg.max_payload);
  nnfp_parser_init(&ds.ans.p, ds.ans.pl, sizeof ds.ans.pl - 1);
  backlog b = {NULL, 0, 0, 0};
  uint8_t out[8192];
  while (!atomic_load(&s->stop)) {
    /* wait (50 ms, only to look at the stop flag) when there is nothing to do */
    if (take_input(s, &b, b.head < b.len ? 0 : 50)) break;
    /* up to 64 bytes through the device, one byte time each, then look at the pty again */
    for (int k = 0; k < 64 && b.head < b.len; k++) {
      uint8_t byte = b.p[b.head++];
      long frames = ds.req.frames;
      count_frames(&ds.req, &byte, 1);
      size_t m = 0;
      if (ds.dev) {
        nnfm_device_rx(ds.dev, &byte, 1);
        m = nnfm_device_tx(ds.dev, out, sizeof out);
      } else {
        if (ds.u.n < UART_FIFO) ds.u.fifo[ds.u.n++] = byte;
        else atomic_fetch_add(&s->dropped, 1);
        m = uart_run(&ds.u, UART_CYCLES_PER_BYTE, out, sizeof out);
      }
      emit(&ds, out, m);
      if (ds.req.frames > frames) run_while_host_waits(&ds);   /* a whole frame: the host waits */
    }
  }
  free(b.p);
  nnfm_device_destroy(ds.dev);
  if (ds.u.core) nnfsim_core_destroy(ds.u.core);
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
  nnfdrv_set_timeout_ms(d, ANSWER_TIMEOUT_MS);
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

  /* A WRITE to STATE after a RUN, while the program runs: the driver WAITs
   * for the program first, so no byte reaches a device holding its input.
   * The program is one 64x64x64 GEMM looped 100 times (~0.4 M cycles:
   * 17 ms on a board); on the virtual clock it is still running when the
   * next frame arrives, whatever the machine's load. A WRITE to W (past
   * the GEMM's weights) needs no WAIT on a device with banks: the device
   * takes it while the program runs (docs/memory.md). */
  {
    uint8_t prog[3 * 32];
    nnfdrv_gemm g = {64, 64, 64, 0, 0, 0, 4096, 0, -128, 127, 0, NNFM_ROUND_SINGLE};
    nnfdrv_insn_gemm(prog, &g);
    CHECK_EQ(nnfdrv_insn_loop(prog + 32, 0, 100), NNFDRV_OK);
    nnfdrv_insn_end(prog + 64);
    CHECK_EQ(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
    nnfdrv_link_stats before = nnfdrv_get_link_stats(d);
    long dropped0 = atomic_load(&s.dropped);
    size_t wn = 2 * info->max_payload;
    uint8_t *wa = malloc(wn), *wb = malloc(wn);
    nnf_rng_fill(&r, wa, wn);
    CHECK(info->features & NNFP_FEAT_BANKS);
    const uint32_t w_hi = 8192; /* bytes: the GEMM reads W words 0..511 of 8 bytes */
    CHECK_EQ(nnfdrv_run(d, 0), NNFDRV_OK);
    CHECK_EQ(nnfdrv_write(d, NNFDRV_W, w_hi, wa, wn), NNFDRV_OK);
    CHECK_EQ(nnfdrv_get_link_stats(d).auto_waits - before.auto_waits, 0);
    CHECK_EQ(nnfdrv_get_link_stats(d).retries - before.retries, 0);
    CHECK_EQ(atomic_load(&s.dropped) - dropped0, 0);
    /* canonical STATE entries (they read back as written) */
    uint8_t *st = calloc(wn, 1);
    for (size_t e = 0; e + NNFP_STATE_BYTES <= wn; e += NNFP_STATE_BYTES) {
      nnfp_state_put_u(st + e, (uint32_t)(int32_t)nnf_rng_range(&r, -(1 << 23) + 1, 1 << 23));
      nnfp_state_put_v(st + e, (uint32_t)(int32_t)nnf_rng_range(&r, -(1 << 23) + 1, (1 << 23) - 1));
      nnfp_state_put_count(st + e, nnf_rng_u32(&r));
      nnfp_state_put_ref(st + e, (uint32_t)nnf_rng_range(&r, 0, 15));
    }
    CHECK_EQ(nnfdrv_write(d, NNFDRV_STATE, 0, st, wn), NNFDRV_OK);
    nnfdrv_link_stats after = nnfdrv_get_link_stats(d);
    CHECK_EQ(after.auto_waits - before.auto_waits, 1);
    CHECK_EQ(after.retries - before.retries, 0);
    CHECK_EQ(atomic_load(&s.dropped) - dropped0, 0);
    CHECK_EQ(nnfdrv_read(d, NNFDRV_W, w_hi, wb, wn), NNFDRV_OK);
    CHECK_MEM_EQ(wa, wb, wn);
    CHECK_EQ(nnfdrv_read(d, NNFDRV_STATE, 0, wb, wn), NNFDRV_OK);
    CHECK_MEM_EQ(st, wb, wn);
    /* no program ran since: the next WRITE needs no WAIT */
    CHECK_EQ(nnfdrv_write(d, NNFDRV_STATE, 0, st, 64), NNFDRV_OK);
    CHECK_EQ(nnfdrv_get_link_stats(d).auto_waits - before.auto_waits, 1);

    /* The STATE WRITE as a raw frame, with no WAIT before it: on the UART
     * the device drops bytes while the program runs (the frame then fails
     * and is retried until the program has ended). */
    if (s.use_sim) {
      uint16_t alen;
      CHECK_EQ(nnfdrv_run(d, 0), NNFDRV_OK);
      nnfdrv_set_tries(d, 50);
      memset(st, 0, info->max_payload); /* zero entries: canonical too, and not what STATE holds now */
      rc = nnfdrv_transact(d, -1, NNFP_WRITE, (uint32_t)NNFDRV_STATE << NNFP_ARG_REGION_LSB, st, info->max_payload, NULL,
                           0, &alen);
      uint64_t retries = nnfdrv_get_link_stats(d).retries - after.retries;
      printf("raw WRITE during the program: rc %d, %ld bytes dropped, %llu retries\n", rc,
             atomic_load(&s.dropped) - dropped0, (unsigned long long)retries);
      /* the program still runs when the frame arrives (virtual clock): bytes
       * are lost, the damaged frame is answered ERR TIMEOUT and sent again
       * once the program has ended, and then it lands whole */
      CHECK(atomic_load(&s.dropped) - dropped0 > 0);
      CHECK_EQ(rc, NNFDRV_OK);
      CHECK(retries >= 1);
      CHECK_EQ(nnfdrv_wait(d), NNFDRV_OK);
      CHECK_EQ(nnfdrv_read(d, NNFDRV_STATE, 0, wb, info->max_payload), NNFDRV_OK);
      CHECK_MEM_EQ(st, wb, info->max_payload);
    }
    free(wa);
    free(wb);
    free(st);
  }

  /* unplugged in the middle of a write: a clear error (the hang-up, not
   * the answer timeout) */
  atomic_store(&s.cut_after, atomic_load(&s.bytes_in) + 5000);
  rc = nnfdrv_write(d, NNFDRV_ACT, 0, a, n);
  CHECK_EQ(rc, NNFDRV_ERR_IO);
  CHECK(strstr(nnfdrv_errmsg(d), "gone") != NULL);
  printf("after unplug: %s\n", nnfdrv_errmsg(d));
  /* and every later call fails the same way, never hangs */
  CHECK_EQ(nnfdrv_read(d, NNFDRV_ACT, 0, b, 16), NNFDRV_ERR_IO);

  atomic_store(&s.stop, 1);
  pthread_join(th, NULL);
  CHECK_EQ(atomic_load(&s.stuck), 0);
  if (s.use_sim) printf("device cycles run while the host waited: %ld\n", atomic_load(&s.free_cycles));
  nnfdrv_close(d);
  free(a);
  free(b);
  return nnf_test_done(argv[0]);
}
