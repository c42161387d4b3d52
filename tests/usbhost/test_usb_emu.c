/*
 * test_usb_emu.c - the `usb` backend's real libusb calls against emulated
 * devices (nnfu_emu.h, umockdev), no board:
 *
 *   test_usb_emu native   usb:1209:0001 and plain usb: a whole session
 *                         (INFO, WRITE / READ of every region size class, a
 *                         program, RUN, WAIT, COUNTERS, STATE) answering
 *                         byte for byte as the model backend; the interface
 *                         claimed, halts cleared, IN transfers kept posted,
 *                         every URB reaped by close
 *   test_usb_emu ftdi     the same through an emulated FT2232H (usb,
 *                         usb:0403:6010, @BAUD), the latency timer set
 *   test_usb_emu uri      every malformed URI: NNFDRV_ERR_URI and the message;
 *                         no device / the wrong product: NNFDRV_ERR_NO_DEVICE
 *   test_usb_emu unplug   unplugged mid-READ and while waiting for an answer,
 *                         both paths: NNFDRV_ERR_IO "device unplugged" within
 *                         a bound, close within a bound, nothing leaked
 *   test_usb_emu cpu      CPU of the driver's thread while it waits 2 s for a
 *                         late answer, both paths, and libftdi's old
 *                         ftdi_read_data loop for comparison (printed;
 *                         asserted below 5 % for the new paths)
 *
 * Run under umockdev: umockdev-wrapper test_usb_emu MODE.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <umockdev.h>

#include "nnf_proto.h"
#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnfu_emu.h"

#ifdef NNFU_HAVE_FTDI
#include <ftdi.h>
#endif

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(clockid_t which) {
  struct timespec ts;
  clock_gettime(which, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- a session, as a transcript of every answer ------------------------------ */

typedef struct {
  uint8_t *b;
  size_t n, cap;
} transcript;

static void put(transcript *t, const void *p, size_t n) {
  if (t->n + n > t->cap) {
    t->cap = (t->n + n) * 2 + 4096;
    t->b = realloc(t->b, t->cap);
    CHECK(t->b != NULL);
  }
  memcpy(t->b + t->n, p, n);
  t->n += n;
}

static void put_i(transcript *t, long long v) { put(t, &v, sizeof v); }

static uint64_t rng = 0x12345678;
static uint8_t rnd8(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint8_t)(rng >> 56);
}

/* The same commands on any device; every status and answer goes to t. */
static void session(nnfdrv *d, transcript *t) {
  rng = 0x12345678;
  const nnfdrv_info *in = nnfdrv_get_info(d);
  put(t, in, sizeof *in);
  /* WRITE / READ: small, one frame, and many frames (the driver's chunks) */
  static const struct { int region; size_t len; } rw[] = {
      {NNFDRV_ACT, 1}, {NNFDRV_ACT, 63}, {NNFDRV_ACT, 64}, {NNFDRV_ACT, 65}, {NNFDRV_ACT, 4096},
      {NNFDRV_W, 20000}, {NNFDRV_LUT, 256}, {NNFDRV_ACT, 60000}};
  for (size_t i = 0; i < sizeof rw / sizeof rw[0]; i++) {
    size_t len = rw[i].len;
    uint8_t *w = malloc(len), *r = malloc(len);
    for (size_t k = 0; k < len; k++) w[k] = rnd8();
    int rc = nnfdrv_write(d, rw[i].region, 0, w, len);
    put_i(t, rc);
    CHECK_EQ(rc, NNFDRV_OK);
    memset(r, 0, len);
    rc = nnfdrv_read(d, rw[i].region, 0, r, len);
    put_i(t, rc);
    CHECK_EQ(rc, NNFDRV_OK);
    CHECK_MEM_EQ(r, w, len);
    put(t, r, len);
    free(w);
    free(r);
  }
  /* a READ whose answer frame is a whole number of 64-byte packets: on the
   * native device a zero-length packet ends its transfer */
  size_t zl = 1;
  while (nnfp_frame_size(zl) % 64) zl++;
  uint8_t zb[1024];
  CHECK(zl <= sizeof zb);
  put_i(t, nnfdrv_read(d, NNFDRV_ACT, 0, zb, zl));
  put(t, zb, zl);
  /* a small GEMM program: 8 x 32 -> 16, P zeroed (M0 = 0: outputs are the zero point) */
  uint8_t *p = calloc(1, 4096);
  CHECK_EQ(nnfdrv_write(d, NNFDRV_P, 0, p, 1024), NNFDRV_OK);
  free(p);
  uint8_t prog[2 * 32];
  nnfdrv_gemm g = {8, 32, 16, 0, 0, 0, 256, 3, -128, 127, 0, 0};
  nnfdrv_insn_gemm(prog, &g);
  nnfdrv_insn_end(prog + 32);
  CHECK_EQ(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
  nnfdrv_counters c0, c1;
  CHECK_EQ(nnfdrv_get_counters(d, &c0), NNFDRV_OK);
  put_i(t, nnfdrv_run(d, 0));
  put_i(t, nnfdrv_wait(d));
  CHECK_EQ(nnfdrv_get_counters(d, &c1), NNFDRV_OK);
  put_i(t, (long long)(c1.macs - c0.macs));
  CHECK(c1.macs > c0.macs);
  uint8_t out[1024];
  CHECK_EQ(nnfdrv_read(d, NNFDRV_ACT, 256 * in->rows, out, sizeof out), NNFDRV_OK);
  put(t, out, sizeof out);
  nnfdrv_state st;
  memset(&st, 0, sizeof st);   /* its padding goes into the transcript too */
  CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
  put(t, &st, sizeof st);
  /* a refused command answers the same way */
  uint8_t x[4];
  int rc = nnfdrv_read(d, NNFDRV_ACT, 0xFFFFFF0, x, sizeof x);
  put_i(t, rc);
  put_i(t, nnfdrv_device_error(d));
}

static transcript model_transcript(void) {
  transcript t = {0};
  nnfdrv *d;
  char err[512];
  CHECK_EQ(nnfdrv_open("model", &d, err, sizeof err), NNFDRV_OK);
  session(d, &t);
  nnfdrv_close(d);
  return t;
}

static void same_as_model(const char *uri, const transcript *ref) {
  nnf_test_ctx("%s", uri);
  nnfdrv *d;
  char err[512];
  double t0 = mono_ms();
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc) fprintf(stderr, "open %s: %s\n", uri, err);
  CHECK_EQ(rc, NNFDRV_OK);
  transcript t = {0};
  session(d, &t);
  nnfdrv_link_stats ls = nnfdrv_get_link_stats(d);
  double t1 = mono_ms();
  nnfdrv_close(d);
  CHECK_EQ(t.n, ref->n);
  CHECK_MEM_EQ(t.b, ref->b, ref->n);
  CHECK_EQ_U64(ls.retries, 0);
  printf("  %-24s session equal to the model's: %zu transcript bytes, %llu wire bytes out, %llu in, %.0f ms\n", uri,
         t.n, (unsigned long long)ls.wire_bytes_sent, (unsigned long long)ls.wire_bytes_received, t1 - t0);
  free(t.b);
  nnf_test_ctx("");
}

/* ---- modes ------------------------------------------------------------------------ */

static void mode_native(void) {
  transcript ref = model_transcript();
  nnfu_emu *e = nnfu_emu_plug(NNFU_EMU_NATIVE, 2, NULL);
  /* an answer of an earlier session waits in the device, with the seq this
   * session's INFO will have and a wrong length: unless open drains it, the
   * open fails (an INFO answer of 3 bytes) */
  uint8_t stale[64];
  static const uint8_t three[3] = {1, 2, 3};
  size_t sn = nnfp_encode(stale, NNFP_OK(NNFP_INFO), 1, 0, three, sizeof three);
  nnfu_emu_stale(e, stale, sn);
  same_as_model("usb:1209:0001", &ref);
  {
    /* the device NAKs OUT for 300 ms (holding its input): send() does not
     * wait for it, the answer comes when the device takes the frame */
    nnfdrv *d;
    char err[512];
    CHECK_EQ(nnfdrv_open("usb:1209:0001", &d, err, sizeof err), NNFDRV_OK);
    static uint8_t w[20000], r[20000];
    for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)(i * 7);
    nnfu_emu_hold_next_out(e, 300);
    double t0 = mono_ms();
    CHECK_EQ(nnfdrv_write(d, NNFDRV_W, 0, w, sizeof w), NNFDRV_OK);
    double t1 = mono_ms();
    CHECK_EQ(nnfdrv_read(d, NNFDRV_W, 0, r, sizeof r), NNFDRV_OK);
    CHECK_MEM_EQ(r, w, sizeof w);
    nnfdrv_link_stats ls = nnfdrv_get_link_stats(d);
    CHECK_EQ_U64(ls.retries, 0);
    CHECK_EQ_U64(ls.auto_waits, 0);   /* flow control: no WAIT before a WRITE */
    CHECK(t1 - t0 >= 290);
    printf("  OUT NAKed 300 ms: the WRITE answered after %.0f ms, no retry\n", t1 - t0);
    nnfdrv_close(d);
  }
  same_as_model("usb", &ref);
  same_as_model("usb:1209:1:EMU0001", &ref);
  nnfu_emu_stats s = nnfu_emu_get_stats(e);
  CHECK(s.claims >= 4 && s.releases >= 4);
  CHECK(s.clear_halts >= 8);
  CHECK(s.detaches >= 4);           /* the kernel driver detached (or its absence checked) */
  CHECK_EQ(s.submits, s.reaps);     /* close cancelled and reaped every URB */
  CHECK(s.discards >= 3 * 4);       /* the 4 posted IN transfers, each session */
  CHECK(s.zlps > 0);                /* transfers ended by a zero-length packet */
  printf("  native: %ld URBs, %ld control, %ld discarded, %ld ZLPs, %ld bytes out, %ld in\n", s.submits, s.controls,
         s.discards, s.zlps, s.out_bytes, s.in_bytes);
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  free(ref.b);
}

static void mode_ftdi(void) {
  transcript ref = model_transcript();
  nnfu_emu *e = nnfu_emu_plug(NNFU_EMU_FT2232H, 3, NULL);
  same_as_model("usb:0403:6010", &ref);
  nnfu_emu_stats s = nnfu_emu_get_stats(e);
  CHECK_EQ(s.baud, 3000000);       /* the default */
  same_as_model("usb", &ref);      /* no native device: the bridges are tried */
  same_as_model("usb:403:6010@12000000", &ref);
  s = nnfu_emu_get_stats(e);
  CHECK_EQ(s.baud, 12000000);
  same_as_model("usb:0403:6010:FT0001@1000000", &ref);
  s = nnfu_emu_get_stats(e);
  CHECK_EQ(s.baud, 1000000);
  {
    /* the host busy elsewhere for 400 ms between commands is not a long
     * wait: the next answers come at the 2 ms latency, not the idle 32 ms */
    nnfdrv *d;
    char err[512];
    CHECK_EQ(nnfdrv_open("usb:0403:6010", &d, err, sizeof err), NNFDRV_OK);
    nnfdrv_state st;
    CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
    usleep(400000);
    long sets = nnfu_emu_get_stats(e).latency_sets;
    double t0 = mono_ms();
    for (int i = 0; i < 5; i++) CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
    double rt = (mono_ms() - t0) / 5;
    printf("  after 400 ms away: small command %.2f ms, latency timer %d ms\n", rt, nnfu_emu_get_stats(e).latency_ms);
    CHECK_EQ(nnfu_emu_get_stats(e).latency_ms, 2);
    CHECK_EQ(nnfu_emu_get_stats(e).latency_sets, sets);   /* not switched to the idle latency and back */
    CHECK(rt < 20);
    nnfdrv_close(d);
  }
  CHECK_EQ(s.latency_ms, 2);
  CHECK(s.baud_requests >= 3);
  CHECK_EQ(s.submits, s.reaps);
  CHECK(s.status_only > 0);
  printf("  FTDI: %ld URBs, %ld control, %ld status-only packets, %ld bytes out, %ld in\n", s.submits, s.controls,
         s.status_only, s.out_bytes, s.in_bytes);
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  free(ref.b);
}

static void expect(const char *uri, int status, const char *needle) {
  nnf_test_ctx("%s", uri);
  nnfdrv *d = NULL;
  char err[512] = "";
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  printf("  %-30s -> %d: %s\n", uri, rc, err);
  CHECK_EQ(rc, status);
  CHECK(d == NULL);
  if (!strstr(err, needle)) fprintf(stderr, "expected \"%s\" in the message\n", needle);
  CHECK(strstr(err, needle) != NULL);
  nnf_test_ctx("");
}

static void mode_uri(void) {
  /* malformed */
  expect("usb:", NNFDRV_ERR_URI, "expected \":VID:PID\"");
  expect("usb:1209", NNFDRV_ERR_URI, "expected VID:PID");
  expect("usb:1209:", NNFDRV_ERR_URI, "expected a PID");
  expect("usb::0001", NNFDRV_ERR_URI, "expected VID:PID");
  expect("usb:12090:0001", NNFDRV_ERR_URI, "expected VID:PID");
  expect("usb:12g9:0001", NNFDRV_ERR_URI, "expected VID:PID");
  expect("usb:1209:00001", NNFDRV_ERR_URI, "expected a PID");
  expect("usb:1209:zz", NNFDRV_ERR_URI, "expected a PID");
  expect("usb:1209:0001:", NNFDRV_ERR_URI, "expected a SERIAL");
  expect("usb:0000:0001", NNFDRV_ERR_URI, "must not be 0000");
  expect("usb:1209:0001@3000000", NNFDRV_ERR_URI, "FTDI bridges (VID 0403) only");
  expect("usb:0403:6010@", NNFDRV_ERR_URI, "bad baud rate");
  expect("usb:0403:6010@fast", NNFDRV_ERR_URI, "bad baud rate");
  expect("usb:0403:6010@-5", NNFDRV_ERR_URI, "bad baud rate");
  expect("usb:0403:6010@3000000x", NNFDRV_ERR_URI, "bad baud rate");
  expect("usb:0403:6010@20000000", NNFDRV_ERR_URI, "bad baud rate");
  expect("usb@", NNFDRV_ERR_URI, "bad baud rate");
  expect("usbx", NNFDRV_ERR_URI, "unknown device");
  expect("usb:0403:6010:ser\x01", NNFDRV_ERR_URI, "not printable");
  /* well formed, nothing there (the testbed hides the machine's own USB) */
  expect("usb", NNFDRV_ERR_NO_DEVICE, "no board found");
  expect("usb@115200", NNFDRV_ERR_NO_DEVICE, "no board found");
  expect("usb:1209:0001", NNFDRV_ERR_NO_DEVICE, "no device 1209:0001 \"nnfpga\"");
  expect("usb:0403:6010", NNFDRV_ERR_NO_DEVICE, "no FTDI bridge at 0403:6010");
  /* the shared test PID with another product string: not ours */
  nnfu_emu *e = nnfu_emu_plug(NNFU_EMU_NATIVE, 4, "someone else");
  expect("usb:1209:0001", NNFDRV_ERR_NO_DEVICE, "is \"someone else\", not \"nnfpga\"");
  expect("usb", NNFDRV_ERR_NO_DEVICE, "is \"someone else\", not \"nnfpga\"");
  expect("usb:1209:0001:NOPE", NNFDRV_ERR_NO_DEVICE, "no device 1209:0001");
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
}

typedef struct {
  nnfu_emu *e;
  int after_ms;
} unplug_later;

static void *unplug_thread(void *p) {
  unplug_later *u = p;
  usleep((useconds_t)u->after_ms * 1000);
  nnfu_emu_unplug(u->e);
  return NULL;
}

static void unplug_case(nnfu_emu_kind kind, const char *uri, int devnum, int mid_read) {
  nnfu_emu *e = nnfu_emu_plug(kind, devnum, NULL);
  nnfdrv *d;
  char err[512];
  nnf_test_ctx("%s %s", uri, mid_read ? "mid-READ" : "while waiting");
  CHECK_EQ(nnfdrv_open(uri, &d, err, sizeof err), NNFDRV_OK);
  nnfdrv_set_timeout_ms(d, 10000);
  static uint8_t buf[60000];
  pthread_t th;
  unplug_later ul = {e, 300};
  int rc;
  double t0;
  if (mid_read) {
    CHECK_EQ(nnfdrv_write(d, NNFDRV_ACT, 0, buf, sizeof buf), NNFDRV_OK);
    nnfu_emu_unplug_after_in(e, 3000);   /* in the middle of the answers */
    t0 = mono_ms();
    rc = nnfdrv_read(d, NNFDRV_ACT, 0, buf, sizeof buf);
  } else {
    nnfu_emu_delay_next_answer(e, 8000);   /* a long RUN: the answer comes late */
    CHECK(pthread_create(&th, NULL, unplug_thread, &ul) == 0);
    t0 = mono_ms() + ul.after_ms;
    nnfdrv_counters c;
    rc = nnfdrv_get_counters(d, &c);
  }
  double t1 = mono_ms();
  if (!mid_read) pthread_join(th, NULL);
  printf("  %-16s unplugged %s: %d after %.1f ms: %s\n", uri, mid_read ? "mid-READ" : "while waiting", rc, t1 - t0,
         nnfdrv_errmsg(d));
  CHECK_EQ(rc, NNFDRV_ERR_IO);
  CHECK(strstr(nnfdrv_errmsg(d), "device unplugged") != NULL);
  CHECK(t1 - t0 < 1000);
  /* later commands fail at once too */
  nnfdrv_state st;
  CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_ERR_IO);
  double t2 = mono_ms();
  nnfdrv_close(d);
  double t3 = mono_ms();
  CHECK(t3 - t2 < 1000);
  nnfu_emu_stats s = nnfu_emu_get_stats(e);
  CHECK_EQ(s.submits, s.reaps);   /* every URB came back before the driver freed it */
  if (mid_read) nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  nnf_test_ctx("");
}

static void mode_unplug(void) {
  unplug_case(NNFU_EMU_NATIVE, "usb:1209:0001", 5, 1);
  unplug_case(NNFU_EMU_NATIVE, "usb:1209:0001", 6, 0);
  unplug_case(NNFU_EMU_FT2232H, "usb:0403:6010", 7, 1);
  unplug_case(NNFU_EMU_FT2232H, "usb:0403:6010", 8, 0);
}

/* CPU of this thread (the driver's) and of the process while a command's
 * answer is held back wait_ms. */
typedef struct {
  double wait_ms, thread_pct, process_pct;
} cpu_fig;

static cpu_fig cpu_case(nnfu_emu_kind kind, const char *uri, int devnum, int wait_ms) {
  nnfu_emu *e = nnfu_emu_plug(kind, devnum, NULL);
  nnfdrv *d;
  char err[512];
  CHECK_EQ(nnfdrv_open(uri, &d, err, sizeof err), NNFDRV_OK);
  nnfdrv_set_timeout_ms(d, wait_ms + 5000);
  nnfu_emu_delay_next_answer(e, wait_ms);
  double w0 = mono_ms(), c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID), p0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
  nnfdrv_state st;
  CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
  double w1 = mono_ms(), c1 = cpu_ms(CLOCK_THREAD_CPUTIME_ID), p1 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
  CHECK(w1 - w0 >= wait_ms * 0.95);
  double pct = 100 * (c1 - c0) / (w1 - w0);
  printf("  %-16s waiting %.0f ms for a late answer: driver thread %.2f ms CPU (%.2f %%), whole process "
         "(emulator included) %.1f ms (%.1f %%)\n",
         uri, w1 - w0, c1 - c0, pct, p1 - p0, 100 * (p1 - p0) / (w1 - w0));
  CHECK(pct < 5);
  nnfdrv_close(d);
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  return (cpu_fig){w1 - w0, pct, 100 * (p1 - p0) / (w1 - w0)};
}

#ifdef NNFU_HAVE_FTDI
/* The FTDI backend's receive loop before this change: ftdi_read_data until
 * the time-out, over the same emulated bridge, nothing to read. */
static cpu_fig old_ftdi_loop(int devnum, int wait_ms) {
  nnfu_emu *e = nnfu_emu_plug(NNFU_EMU_FT2232H, devnum, NULL);
  struct ftdi_context *f = ftdi_new();
  ftdi_set_interface(f, INTERFACE_B);
  CHECK_EQ(ftdi_usb_open(f, 0x0403, 0x6010), 0);
  CHECK(ftdi_set_baudrate(f, 3000000) == 0 && ftdi_set_latency_timer(f, 1) == 0);
  uint8_t b[1024];
  double w0 = mono_ms(), c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID), p0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
  long calls = 0;
  while (mono_ms() - w0 < wait_ms) {
    CHECK(ftdi_read_data(f, b, sizeof b) >= 0);
    calls++;
  }
  double w1 = mono_ms(), c1 = cpu_ms(CLOCK_THREAD_CPUTIME_ID), p1 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
  printf("  %-16s the old ftdi_read_data loop, %.0f ms with nothing to read: %ld calls, driver thread %.1f ms CPU "
         "(%.1f %%), whole process %.1f ms (%.1f %%)\n",
         "usb:0403:6010", w1 - w0, calls, c1 - c0, 100 * (c1 - c0) / (w1 - w0), p1 - p0, 100 * (p1 - p0) / (w1 - w0));
  ftdi_usb_close(f);
  ftdi_free(f);
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  return (cpu_fig){w1 - w0, 100 * (c1 - c0) / (w1 - w0), 100 * (p1 - p0) / (w1 - w0)};
}
#endif

/* The FTDI knobs (NNFDRV_FTDI_* in the environment, read at open): per
 * setting, the mean round trip of a small command, a 60000-byte WRITE and
 * READ, and the driver thread's CPU over a 1 s wait. Printed: the figures
 * behind the defaults in nnfdrv_usb_internal.h (docs/usb-host.md). */
static void ftdi_knobs(int devnum, const char *uri, const char *latency, const char *idle, const char *in_size,
                       const char *out_chunk) {
  setenv("NNFDRV_FTDI_LATENCY", latency, 1);
  setenv("NNFDRV_FTDI_IDLE_LATENCY", idle, 1);
  setenv("NNFDRV_FTDI_IN_SIZE", in_size, 1);
  setenv("NNFDRV_FTDI_OUT_CHUNK", out_chunk, 1);
  nnfu_emu *e = nnfu_emu_plug(NNFU_EMU_FT2232H, devnum, NULL);
  nnfdrv *d;
  char err[512];
  CHECK_EQ(nnfdrv_open(uri, &d, err, sizeof err), NNFDRV_OK);
  nnfdrv_state st;
  double t0 = mono_ms();
  for (int i = 0; i < 50; i++) CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
  double rt = (mono_ms() - t0) / 50;
  static uint8_t buf[60000];
  t0 = mono_ms();
  CHECK_EQ(nnfdrv_write(d, NNFDRV_ACT, 0, buf, sizeof buf), NNFDRV_OK);
  CHECK_EQ(nnfdrv_read(d, NNFDRV_ACT, 0, buf, sizeof buf), NNFDRV_OK);
  double bulk = mono_ms() - t0;
  nnfdrv_set_timeout_ms(d, 5000);
  nnfu_emu_delay_next_answer(e, 1000);
  double w0 = mono_ms(), c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
  CHECK_EQ(nnfdrv_get_state(d, &st), NNFDRV_OK);
  double w1 = mono_ms(), c1 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
  printf("  latency %3s ms, idle %2s ms, IN %5s, OUT %5s: small command %5.2f ms, 60000 B write + read %6.0f ms "
         "(%.0f kB/s of payload), 1 s wait: driver thread %5.2f %% CPU\n",
         latency, idle, in_size, out_chunk, rt, bulk, 2 * 60000 / bulk, 100 * (c1 - c0) / (w1 - w0));
  nnfdrv_close(d);
  nnfu_emu_unplug(e);
  nnfu_emu_free(e);
  unsetenv("NNFDRV_FTDI_LATENCY");
  unsetenv("NNFDRV_FTDI_IDLE_LATENCY");
  unsetenv("NNFDRV_FTDI_IN_SIZE");
  unsetenv("NNFDRV_FTDI_OUT_CHUNK");
}

static void mode_ftdi_knobs(void) {
  int dev = 20;
  static const char *lat[] = {"1", "2", "4", "8", "16"};
  printf("FTDI latency timer at 3 Mbaud (idle latency off):\n");
  for (int i = 0; i < 5; i++) ftdi_knobs(dev++, "usb:0403:6010", lat[i], "0", "4096", "4096");
  printf("FTDI idle latency (latency 2 ms):\n");
  static const char *idle[] = {"16", "32", "64"};
  for (int i = 0; i < 3; i++) ftdi_knobs(dev++, "usb:0403:6010", "2", idle[i], "4096", "4096");
  printf("FTDI transfer sizes at 12 Mbaud (latency 2 ms):\n");
  static const char *sz[] = {"512", "4096", "16384"};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) ftdi_knobs(dev++, "usb:0403:6010@12000000", "2", "32", sz[i], sz[j]);
}

static void put_fig(FILE *f, const char *key, cpu_fig c, const char *sep) {
  fprintf(f, "  \"%s\": {\"wait_ms\": %.0f, \"driver_thread_cpu_pct\": %.3f, \"process_cpu_pct\": %.3f}%s\n", key,
          c.wait_ms, c.thread_pct, c.process_pct, sep);
}

/* json: NULL, or a file to write the figures to (bench.json's "usb_host"). */
static void mode_cpu(const char *json) {
  cpu_fig n = cpu_case(NNFU_EMU_NATIVE, "usb:1209:0001", 9, 2000);
  cpu_fig f = cpu_case(NNFU_EMU_FT2232H, "usb:0403:6010", 10, 2000);
  cpu_fig o = {0, 0, 0};
#ifdef NNFU_HAVE_FTDI
  o = old_ftdi_loop(11, 2000);
#endif
  if (json) {
    FILE *fp = fopen(json, "w");
    CHECK(fp != NULL);
    fprintf(fp, "{\n  \"what\": \"host CPU while the driver waits for a late answer, devices emulated "
                "(umockdev, tests/usbhost; docs/usb-host.md)\",\n");
    put_fig(fp, "native", n, ",");
    put_fig(fp, "ftdi", f, ",");
    put_fig(fp, "ftdi_old_read_loop", o, "");
    fprintf(fp, "}\n");
    CHECK(fclose(fp) == 0);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc != 2 && !(argc == 4 && !strcmp(argv[1], "cpu") && !strcmp(argv[2], "--json"))) {
    fprintf(stderr, "usage: umockdev-wrapper %s native|ftdi|uri|unplug|ftdi_knobs|cpu [--json FILE]\n", argv[0]);
    return 2;
  }
  const char *pre = getenv("LD_PRELOAD");
  if (!pre || !strstr(pre, "umockdev-preload")) {
    fprintf(stderr, "%s: run me under umockdev-wrapper (LD_PRELOAD=libumockdev-preload.so)\n", argv[0]);
    return 2;
  }
  const char *m = argv[1];
  if (!strcmp(m, "native")) mode_native();
  else if (!strcmp(m, "ftdi")) mode_ftdi();
  else if (!strcmp(m, "uri")) mode_uri();
  else if (!strcmp(m, "unplug")) mode_unplug();
  else if (!strcmp(m, "cpu")) mode_cpu(argc == 4 ? argv[3] : NULL);
  else if (!strcmp(m, "ftdi_knobs")) mode_ftdi_knobs();
  else {
    fprintf(stderr, "unknown mode %s\n", m);
    return 2;
  }
  return nnf_test_done(argv[0]);
}
