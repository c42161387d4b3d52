/*
 * test_usb_dev.c - the whole USB device (rtl/link/usb/nnf_usb_dev.v,
 * Verilated as nnfu_dev.h) against the host controller (nnfu_hc.h), at the
 * wire, one 48 MHz clock at a time.
 *
 *   test_usb_dev enum EP0_MAX      enumeration as Linux does it (GET_DESCRIPTOR
 *                                  device 64 at address 0, bus reset, SET_ADDRESS,
 *                                  device 18, configuration 9 then all, strings,
 *                                  SET_CONFIGURATION 1), every byte against the
 *                                  tables below; wLength truncations; the address
 *                                  used only after the status stage; EP0_MAX 8:
 *                                  multi-packet data stages and the zero-length
 *                                  packet after a full last one
 *   test_usb_dev bulk SEED N       N random transfers each way (0..5000 bytes,
 *                                  multiples of 64 often) with the sink and the
 *                                  source stalling in bursts (NAKs): every byte,
 *                                  in order, none lost or doubled; the ZLP rule
 *   test_usb_dev faults SEED       OUT with a bad CRC16 / a stuffing error (no
 *                                  answer, retried, data intact); the device's ACK
 *                                  lost (the OUT repeated: ACKed, dropped); IN with
 *                                  the host's ACK missing (resent, same toggle) or
 *                                  damaged (resent, the host discards the repeat);
 *                                  a token instead of the DATA after OUT / SETUP;
 *                                  the device's time-outs
 *   test_usb_dev reset SEED        bus resets in the middle of OUT and IN
 *                                  transfers: address 0, not configured, buffers
 *                                  empty; enumerates again, transfers again
 *   test_usb_dev stall             STALL on unknown requests, cleared by the next
 *                                  SETUP; GET_STATUS; SET/CLEAR_FEATURE(ENDPOINT_HALT)
 *                                  on EP1 OUT and IN, toggles back to DATA0
 *   test_usb_dev speed             bulk OUT and IN payload throughput with the
 *                                  host scheduling back to back, printed
 *                                  (docs/usb.md); at least 0.9 MB/s asserted
 *   test_usb_dev record FILE       a short enumeration and bulk transfer, the
 *                                  line and the device's outputs per clock, for
 *                                  the Icarus run (run_usb_dev_icarus.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfu_dev.h"
#include "nnfu_hc.h"

enum { ADDR = 23, BUF = 1 << 20 };
static unsigned g_addr = ADDR;   /* the bulk checks' device address */

/* ---- the device behind the step callback ------------------------------------ */

typedef struct {
  nnfu_dev *d;
  nnf_rng rng;
  /* EP1 OUT sink: bytes received; stalls in bursts */
  uint8_t *got;
  size_t ngot;
  long sink_stall, sink_burst;       /* clocks left stalled; 1/N per clock to start a burst (0: never) */
  /* EP1 IN source */
  uint8_t *src;
  size_t nsrc, psrc;
  long src_stall, src_burst;
  long max_burst;
  /* events */
  long bus_resets, errors;
  int configured, pullup;
  FILE *rec;                         /* record: line and outputs per clock */
} dev_ctx;

static int stalled(dev_ctx *c, long *left, long burst) {
  if (*left > 0) {
    (*left)--;
    return 1;
  }
  if (burst > 0 && nnf_rng_range(&c->rng, 0, burst - 1) == 0) *left = nnf_rng_range(&c->rng, 1, c->max_burst);
  return 0;
}

static int dev_step(void *ctx, int dp, int dm, int host_drives, int *dev_dp, int *dev_dm, int *dev_oe) {
  (void)host_drives;
  dev_ctx *c = ctx;
  nnfu_dev_in in;
  nnfu_dev_out o;
  in.dp = dp;
  in.dm = dm;
  in.out_ready = !stalled(c, &c->sink_stall, c->sink_burst);
  in.in_valid = c->psrc < c->nsrc && !stalled(c, &c->src_stall, c->src_burst);
  in.in_data = in.in_valid ? c->src[c->psrc] : 0;
  nnfu_dev_step(c->d, &in, &o);
  if (o.out_valid && in.out_ready) {
    if (c->ngot >= BUF) return 1;
    c->got[c->ngot++] = (uint8_t)o.out_data;
  }
  if (in.in_valid && o.in_ready) c->psrc++;
  if (o.bus_reset) c->bus_resets++;
  if (o.error) c->errors++;
  c->configured = o.configured;
  c->pullup = o.pullup;
  if (c->rec)   /* tb_usb_dev_icarus.v: the inputs, then the outputs (before / after the edge) */
    fprintf(c->rec, "%03x_%04x\n",
            dp << 11 | dm << 10 | in.out_ready << 9 | in.in_valid << 8 | (in.in_data & 0xFF),
            o.dp_o << 12 | o.dm_o << 11 | o.oe << 10 | o.out_valid << 9 | o.in_ready << 8 |
                (o.out_valid ? o.out_data & 0xFF : 0));
  *dev_dp = o.dp_o;
  *dev_dm = o.dm_o;
  *dev_oe = o.oe;
  return 0;
}

static dev_ctx *ctx_new(int ep0_max, uint64_t seed) {
  dev_ctx *c = calloc(1, sizeof *c);
  CHECK(c != NULL);
  c->d = nnfu_dev_create(ep0_max);
  CHECK(c->d != NULL);
  c->rng = nnf_rng_seed(seed);
  c->got = malloc(BUF);
  c->src = malloc(BUF);
  CHECK(c->got && c->src);
  c->max_burst = 20000;
  return c;
}

static void ctx_free(dev_ctx *c) {
  nnfu_dev_destroy(c->d);
  free(c->got);
  free(c->src);
  free(c);
}

/* ---- the expected descriptors ----------------------------------------------- */

static const uint8_t DEV_DESC[18] = {0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 64, 0x09, 0x12,
                                     0x01, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01};
static const uint8_t CFG_DESC[32] = {
    0x09, 0x02, 32, 0x00, 0x01, 0x01, 0x00, 0x80, 50,          /* configuration, bus powered, 100 mA */
    0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0x00, 0x00, 0x00,      /* interface 0, vendor specific */
    0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,                  /* EP1 OUT bulk 64 */
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00};                 /* EP1 IN bulk 64 */
static const uint8_t STR0[4] = {0x04, 0x03, 0x09, 0x04};

/* A string descriptor from ASCII. */
static size_t str_desc(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  out[0] = (uint8_t)(2 + 2 * n);
  out[1] = 3;
  for (size_t i = 0; i < n; i++) {
    out[2 + 2 * i] = (uint8_t)s[i];
    out[3 + 2 * i] = 0;
  }
  return 2 + 2 * n;
}

/* ---- helpers -------------------------------------------------------------------- */

static int get_desc(nnfu_hc *h, unsigned addr, int type, int index, unsigned lang, unsigned wlen, uint8_t *out,
                    size_t *n) {
  uint8_t s[8];
  nnfu_hc_req(s, 0x80, 6, (unsigned)(type << 8 | index), lang, wlen);
  return nnfu_hc_control(h, addr, s, out, n);
}

static int std_req(nnfu_hc *h, unsigned addr, int bm, int req, unsigned value, unsigned index) {
  uint8_t s[8];
  nnfu_hc_req(s, bm, req, value, index, 0);
  return nnfu_hc_control(h, addr, s, NULL, NULL);
}

static void expect_desc(nnfu_hc *h, unsigned addr, int type, int index, unsigned lang, unsigned wlen,
                        const uint8_t *want, size_t full) {
  uint8_t got[300];
  size_t n = 0;
  nnf_test_ctx("GET_DESCRIPTOR type %d index %d wLength %u", type, index, wlen);
  CHECK_EQ(get_desc(h, addr, type, index, lang, wlen, got, &n), NNFU_OK);
  size_t expect = wlen < full ? wlen : full;
  CHECK_EQ(n, expect);
  CHECK_MEM_EQ(got, want, expect);
}

/* Linux's enumeration, then SET_CONFIGURATION 1. */
static void enumerate(nnfu_hc *h, dev_ctx *c, int ep0_max, unsigned addr) {
  uint8_t buf[300], want[64];
  size_t n = 0;
  uint8_t dev[18];
  memcpy(dev, DEV_DESC, 18);
  dev[7] = (uint8_t)ep0_max;
  h->ep0_max = 64;
  CHECK_OK(nnfu_hc_bus_reset(h, 480000, 48000));    /* 10 ms of SE0 */
  CHECK_EQ(c->configured, 0);
  /* the first GET_DESCRIPTOR: 64 bytes asked, the device answers what it has
   * (an 8-byte EP0 ends the data stage with its first, short-for-64 packet) */
  nnf_test_ctx("first GET_DESCRIPTOR at address 0");
  CHECK_EQ(get_desc(h, 0, 1, 0, 0, 64, buf, &n), NNFU_OK);
  CHECK_EQ(n, ep0_max == 64 ? 18 : 8);
  CHECK_MEM_EQ(buf, dev, n);
  CHECK_OK(nnfu_hc_bus_reset(h, 480000, 48000));
  h->ep0_max = buf[7];
  nnf_test_ctx("SET_ADDRESS %u", addr);
  CHECK_EQ(std_req(h, 0, 0x00, 5, addr, 0), NNFU_OK);
  CHECK_OK(nnfu_hc_idle(h, 96000));                 /* 2 ms recovery */
  /* the old address no longer answers */
  CHECK_EQ(nnfu_hc_setup(h, 0, (const uint8_t[8]){0x80, 6, 0, 1, 0, 0, 18, 0}), NNFU_HC_TIMEOUT);
  expect_desc(h, addr, 1, 0, 0, 18, dev, 18);
  expect_desc(h, addr, 2, 0, 0, 9, CFG_DESC, 32);
  expect_desc(h, addr, 2, 0, 0, 32, CFG_DESC, 32);
  expect_desc(h, addr, 3, 0, 0, 255, STR0, 4);
  n = str_desc(want, "nnfpga");
  expect_desc(h, addr, 3, 2, 0x0409, 255, want, n);
  n = str_desc(want, "nnfpga project");
  expect_desc(h, addr, 3, 1, 0x0409, 255, want, n);
  n = str_desc(want, "0001");
  expect_desc(h, addr, 3, 3, 0x0409, 255, want, n);
  CHECK_EQ(c->configured, 0);
  /* EP1 does not answer before the configuration */
  size_t k;
  CHECK_EQ(nnfu_hc_in(h, addr, 1, buf, 64, &k), NNFU_HC_TIMEOUT);
  nnf_test_ctx("SET_CONFIGURATION 1");
  CHECK_EQ(std_req(h, addr, 0x00, 9, 1, 0), NNFU_OK);
  CHECK_EQ(c->configured, 1);
  nnf_test_ctx("");
}

static nnfu_hc *hc_new(dev_ctx *c) {
  nnfu_hc *h = malloc(sizeof *h);
  CHECK(h != NULL);
  CHECK_OK(nnfu_hc_init(h, dev_step, c));
  return h;
}

static void hc_del(nnfu_hc *h) {
  nnfu_hc_free(h);
  free(h);
}

static void check_gaps(const nnfu_hc *h) {
  /* the device's answers begin 2..6.5 bit times after the host's EOP */
  CHECK(h->stats.gap_min >= 8);
  CHECK(h->stats.gap_max <= 26);
}

/* ---- enumeration ---------------------------------------------------------------- */

static int cmd_enum(int ep0_max) {
  dev_ctx *c = ctx_new(ep0_max, 1);
  nnfu_hc *h = hc_new(c);
  uint8_t buf[300], dev[18];
  memcpy(dev, DEV_DESC, 18);
  dev[7] = (uint8_t)ep0_max;
  CHECK_OK(nnfu_hc_idle(h, 100));
  CHECK_EQ(c->pullup, 1);
  enumerate(h, c, ep0_max, ADDR);
  CHECK_EQ(c->bus_resets, 2);
  /* wLength truncations, in every stage shape (with EP0_MAX 8: 8 / 16 / 24 / 32
   * bytes end on a full packet; asked for more, a zero-length packet ends them) */
  static const unsigned wl[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 18, 19, 24, 31, 32, 33, 64, 255, 4096};
  for (size_t i = 0; i < sizeof wl / sizeof wl[0]; i++) {
    expect_desc(h, ADDR, 1, 0, 0, wl[i], dev, 18);
    expect_desc(h, ADDR, 2, 0, 0, wl[i], CFG_DESC, 32);
  }
  /* GET_CONFIGURATION, GET_STATUS */
  uint8_t s[8];
  size_t n;
  nnfu_hc_req(s, 0x80, 8, 0, 0, 1);
  CHECK_EQ(nnfu_hc_control(h, ADDR, s, buf, &n), NNFU_OK);
  CHECK_EQ(n, 1);
  CHECK_EQ(buf[0], 1);
  nnfu_hc_req(s, 0x80, 0, 0, 0, 2);
  CHECK_EQ(nnfu_hc_control(h, ADDR, s, buf, &n), NNFU_OK);
  CHECK_EQ(n, 2);
  CHECK_EQ(buf[0] | buf[1] << 8, 0);
  printf("EP0 %d: enumerated at address %d; %llu SOFs, %llu tokens, %llu NAKs; answers %d..%d clocks after "
         "the host's EOP\n",
         ep0_max, ADDR, (unsigned long long)h->stats.sofs, (unsigned long long)h->stats.tokens,
         (unsigned long long)h->stats.naks, h->stats.gap_min, h->stats.gap_max);
  check_gaps(h);
  CHECK_EQ(h->stats.bad, 0);
  CHECK_EQ(c->errors, 0);   /* a bus reset is no damaged packet */
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- bulk ----------------------------------------------------------------------- */

static size_t rand_len(nnf_rng *r) {
  switch (nnf_rng_range(r, 0, 5)) {
    case 0: return (size_t)nnf_rng_range(r, 0, 3) * 64;
    case 1: return (size_t)nnf_rng_range(r, 1, 80) * 64;
    case 2: return (size_t)nnf_rng_range(r, 0, 130);
    default: return (size_t)nnf_rng_range(r, 0, 5000);
  }
}

/* OUT: n random bytes; the sink must hold exactly them afterwards. */
static void bulk_out_check(nnfu_hc *h, dev_ctx *c, size_t n) {
  static uint8_t p[BUF];
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)nnf_rng_u32(&c->rng);
  c->ngot = 0;
  size_t sent = 0;
  CHECK_EQ(nnfu_hc_bulk_out(h, g_addr, 1, 64, p, n, 1, &sent), NNFU_OK);
  CHECK_EQ(sent, n);
  /* the last packet drains */
  for (int i = 0; i < 100 && c->ngot < n; i++) CHECK_OK(nnfu_hc_idle(h, c->max_burst + 100));
  CHECK_EQ(c->ngot, n);
  CHECK_MEM_EQ(c->got, p, n);
}

/* IN: the source gets n random bytes; the host reads until it has them all. */
static void bulk_in_check(nnfu_hc *h, dev_ctx *c, size_t n) {
  static uint8_t got[BUF];
  for (size_t i = 0; i < n; i++) c->src[i] = (uint8_t)nnf_rng_u32(&c->rng);
  c->psrc = 0;
  c->nsrc = n;
  size_t have = 0;
  int calls = 0;
  while (have < n || calls == 0) {
    size_t k = 0;
    int rc = nnfu_hc_bulk_in(h, g_addr, 1, 64, got + have, BUF - have, &k);
    if (getenv("NNFU_DEBUG"))
      fprintf(stderr, "bulk_in %zu/%zu: %s, %zu bytes; source %zu/%zu\n", have, n, nnfu_hc_strerror(rc), k,
              c->psrc, c->nsrc);
    CHECK(rc == NNFU_OK || rc == NNFU_HC_E_NAKS);
    have += k;
    calls++;
    CHECK(calls < 100000);
    if (n == 0) break;
  }
  CHECK_EQ(have, n);
  CHECK_MEM_EQ(got, c->src, n);
}

static int cmd_bulk(uint64_t seed, long cases) {
  dev_ctx *c = ctx_new(64, seed);
  nnfu_hc *h = hc_new(c);
  /* the host's clock exact, 0.25 % slow or fast by seed, edges jittered */
  static const double offs[] = {0.0, 0.0025, -0.0025};
  h->timing.offset = offs[seed % 3];
  h->timing.jitter = 0.3;
  h->timing.rng = seed;
  enumerate(h, c, 64, ADDR);
  h->nak_limit = 2000;
  c->sink_burst = c->src_burst = 3000;
  c->max_burst = 20000;
  size_t tot_out = 0, tot_in = 0;
  long mult64 = 0;
  for (long i = 0; i < cases; i++) {
    size_t n = rand_len(&c->rng);
    mult64 += n % 64 == 0;
    nnf_test_ctx("seed %llu case %ld: %zu bytes", (unsigned long long)seed, i, n);
    if (i % 2 == 0) {
      bulk_out_check(h, c, n);
      tot_out += n;
    } else {
      bulk_in_check(h, c, n);
      tot_in += n;
    }
  }
  nnf_test_ctx("ZLP rule");
  /* the ZLP rule: 128 bytes buffered before the host asks: two full packets and a
   * zero-length one end the host's read; the next read finds nothing (NAK) */
  c->sink_burst = c->src_burst = 0;
  c->sink_stall = c->src_stall = 0;
  for (size_t i = 0; i < 64; i++) c->src[i] = (uint8_t)(i * 7);
  c->psrc = 0;
  c->nsrc = 64;
  CHECK_OK(nnfu_hc_idle(h, 1000));
  uint8_t got[4096];
  size_t k = 0;
  CHECK_EQ(nnfu_hc_bulk_in(h, ADDR, 1, 64, got, sizeof got, &k), NNFU_OK);
  CHECK_EQ(k, 64);
  CHECK_MEM_EQ(got, c->src, 64);
  h->nak_limit = 5;
  uint64_t naks = h->stats.naks;
  CHECK_EQ(nnfu_hc_bulk_in(h, ADDR, 1, 64, got, sizeof got, &k), NNFU_HC_E_NAKS);
  CHECK_EQ(k, 0);
  CHECK_EQ(h->stats.naks - naks, 6);
  printf("host clock %+.2f %%, jitter 0.3 samples: ", h->timing.offset * 100);
  printf("%ld transfers (%ld of a multiple of 64 bytes, zero included): %zu bytes out, %zu in, "
         "%llu NAKs, %llu frames\n",
         cases, mult64, tot_out, tot_in, (unsigned long long)h->stats.naks, (unsigned long long)h->stats.sofs);
  check_gaps(h);
  CHECK_EQ(h->stats.bad, 0);
  CHECK_EQ(h->stats.timeouts, 2);   /* in enumerate(): the old address, EP1 before the configuration */
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- faults --------------------------------------------------------------------- */

static int cmd_faults(uint64_t seed) {
  dev_ctx *c = ctx_new(64, seed);
  nnfu_hc *h = hc_new(c);
  enumerate(h, c, 64, ADDR);
  uint64_t t0;
  /* OUT: a CRC16 error in the first packet: no handshake, the host retries */
  nnf_test_ctx("OUT with a bad CRC16");
  t0 = h->stats.timeouts;
  long e0 = c->errors;
  h->faults.crc = 1;
  bulk_out_check(h, c, 200);
  CHECK_EQ(h->stats.timeouts - t0, 1);
  CHECK_EQ(c->errors - e0, 1);
  /* ... in the second packet, and twice in a row */
  h->faults.crc = 2;
  t0 = h->stats.timeouts;
  bulk_out_check(h, c, 64);
  CHECK_EQ(h->stats.timeouts - t0, 2);
  nnf_test_ctx("OUT with a stuffing error");
  h->faults.stuff = 1;
  t0 = h->stats.timeouts;
  bulk_out_check(h, c, 130);
  CHECK_EQ(h->stats.timeouts - t0, 1);
  /* the device's ACK lost: the host sends the packet again, same toggle; the
   * device ACKs it and drops it */
  nnf_test_ctx("OUT, the device's ACK lost");
  h->faults.lose_hs = 1;
  bulk_out_check(h, c, 150);
  h->faults.lose_hs = 3;   /* three in a row: the transfer fails ... */
  c->ngot = 0;
  uint8_t p[64] = {1, 2, 3};
  size_t sent;
  CHECK_EQ(nnfu_hc_bulk_out(h, ADDR, 1, 64, p, 3, 0, &sent), NNFU_HC_E_ERRORS);
  CHECK_OK(nnfu_hc_idle(h, 1000));
  CHECK_EQ(c->ngot, 3);    /* ... but the device got the packet once */
  CHECK_MEM_EQ(c->got, p, 3);
  h->toggle[1][0] ^= 1;    /* as the host's driver would learn: it was ACKed */
  bulk_out_check(h, c, 70);
  /* IN: the host's ACK missing: the device times out, sends the same packet
   * again with the same toggle */
  nnf_test_ctx("IN, the host's ACK missing");
  uint64_t d0 = h->stats.dups, b0 = h->stats.bad;
  h->faults.drop_ack = 1;
  bulk_in_check(h, c, 100);
  CHECK_EQ(h->stats.bad - b0, 1);
  CHECK_EQ(h->stats.dups - d0, 0);
  /* ... and the IN again only after a long while (the device waits for nothing) */
  h->faults.drop_ack = 1;
  c->psrc = 0;
  c->nsrc = 64;
  for (int i = 0; i < 64; i++) c->src[i] = (uint8_t)(0xA0 ^ i);
  CHECK_OK(nnfu_hc_idle(h, 1000));
  uint8_t got[64];
  size_t k;
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_BAD);
  CHECK_OK(nnfu_hc_idle(h, 5000));
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_DATA);
  CHECK_EQ(k, 64);
  CHECK_MEM_EQ(got, c->src, 64);
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_DATA);   /* the ZLP */
  CHECK_EQ(k, 0);
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_NAK);
  /* an OUT token whose DATA never comes, then at once an IN: answered */
  nnf_test_ctx("OUT token without its DATA");
  for (int i = 0; i < 10; i++) c->src[i] = (uint8_t)(0x55 + i);
  c->psrc = 0;
  c->nsrc = 10;
  CHECK_OK(nnfu_hc_idle(h, 500));
  CHECK_OK(nnfu_hc_token(h, NNFU_PID_OUT, ADDR, 1));
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_DATA);
  CHECK_EQ(k, 10);
  CHECK_MEM_EQ(got, c->src, 10);
  CHECK_OK(nnfu_hc_token(h, NNFU_PID_SETUP, ADDR, 0));
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, got, 64, &k), NNFU_HC_NAK);
  bulk_out_check(h, c, 100);
  /* the host's ACK damaged on the wire: the host moved on, the device sends the
   * packet again with the old toggle: the host ACKs it and discards it */
  nnf_test_ctx("IN, the host's ACK damaged");
  d0 = h->stats.dups;
  h->faults.bad_ack = 1;
  bulk_in_check(h, c, 300);
  CHECK_EQ(h->stats.dups - d0, 1);
  /* EP0 too: an ACK missing in a data stage */
  nnf_test_ctx("EP0, the host's ACK missing");
  h->faults.drop_ack = 1;
  expect_desc(h, ADDR, 2, 0, 0, 32, CFG_DESC, 32);
  h->faults.bad_ack = 1;
  expect_desc(h, ADDR, 1, 0, 0, 18, DEV_DESC, 18);
  /* a SETUP damaged: no answer; the next one works */
  h->faults.crc = 1;
  CHECK_EQ(nnfu_hc_setup(h, ADDR, (const uint8_t[8]){0x80, 6, 0, 1, 0, 0, 18, 0}), NNFU_HC_TIMEOUT);
  expect_desc(h, ADDR, 1, 0, 0, 18, DEV_DESC, 18);
  printf("faults: %llu time-outs, %llu bad answers, %llu repeats discarded, %ld damaged packets seen by the "
         "device\n",
         (unsigned long long)h->stats.timeouts, (unsigned long long)h->stats.bad,
         (unsigned long long)h->stats.dups, c->errors);
  check_gaps(h);
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- reset mid-transfer --------------------------------------------------------- */

static int cmd_reset(uint64_t seed) {
  dev_ctx *c = ctx_new(64, seed);
  nnfu_hc *h = hc_new(c);
  static uint8_t p[8192];
  for (int round = 0; round < 4; round++) {
    nnf_test_ctx("round %d", round);
    enumerate(h, c, 64, ADDR + (unsigned)round);
    const unsigned addr = ADDR + (unsigned)round;
    c->sink_burst = c->src_burst = round & 1 ? 3000 : 0;
    long at = nnf_rng_range(&c->rng, 1, 40);
    h->faults.reset_at = at;
    if (round % 2 == 0) {
      for (size_t i = 0; i < sizeof p; i++) p[i] = (uint8_t)nnf_rng_u32(&c->rng);
      c->ngot = 0;
      size_t sent = 0;
      CHECK_EQ(nnfu_hc_bulk_out(h, addr, 1, 64, p, sizeof p, 1, &sent), NNFU_HC_E_RESET);
      /* what the device handed on is a prefix of what was ACKed */
      CHECK(c->ngot <= sent);
      CHECK_MEM_EQ(c->got, p, c->ngot);
    } else {
      for (size_t i = 0; i < 8192; i++) c->src[i] = (uint8_t)nnf_rng_u32(&c->rng);
      c->psrc = 0;
      c->nsrc = 8192;
      size_t have = 0, k = 0;
      int rc;
      while ((rc = nnfu_hc_bulk_in(h, addr, 1, 64, p + have, sizeof p - have, &k)) == NNFU_OK) have += k;
      CHECK_EQ(rc, NNFU_HC_E_RESET);
      have += k;
      CHECK_MEM_EQ(p, c->src, have);
    }
    /* the device is back at address 0, not configured */
    CHECK_EQ(c->configured, 0);
    size_t n;
    uint8_t buf[64];
    CHECK_EQ(nnfu_hc_in(h, addr, 1, buf, 64, &n), NNFU_HC_TIMEOUT);
    CHECK_EQ(get_desc(h, 0, 1, 0, 0, 18, buf, &n), NNFU_OK);
    CHECK_EQ(n, 18);
    c->nsrc = c->psrc = 0;
    /* the IN buffer is empty after the reset: configured again, nothing to read */
    enumerate(h, c, 64, addr);
    h->nak_limit = 3;
    CHECK_EQ(nnfu_hc_bulk_in(h, addr, 1, 64, buf, 64, &n), NNFU_HC_E_NAKS);
    CHECK_EQ(n, 0);
    h->nak_limit = 2000;
    g_addr = addr;
    bulk_out_check(h, c, 1000);
    bulk_in_check(h, c, 1000);
  }
  printf("4 resets mid-transfer (OUT and IN, with and without stalls): enumerated and transferred again\n");
  check_gaps(h);
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- STALL, status, halt -------------------------------------------------------- */

static void expect_status(nnfu_hc *h, int bm, unsigned index, int want) {
  uint8_t s[8], buf[2];
  size_t n;
  nnfu_hc_req(s, bm, 0, 0, index, 2);
  CHECK_EQ(nnfu_hc_control(h, ADDR, s, buf, &n), NNFU_OK);
  CHECK_EQ(n, 2);
  CHECK_EQ(buf[0] | buf[1] << 8, want);
}

static int cmd_stall(void) {
  dev_ctx *c = ctx_new(64, 5);
  nnfu_hc *h = hc_new(c);
  enumerate(h, c, 64, ADDR);
  uint8_t s[8], buf[64];
  size_t n;
  /* unknown requests STALL (in the data or the status stage); the next SETUP clears it */
  static const int bad[][5] = {
      {0x40, 0x01, 0, 0, 0},      /* vendor request */
      {0xC0, 0x01, 0, 0, 8},      /* vendor IN */
      {0x80, 6, 0x0600, 0, 10},   /* device qualifier: full speed only */
      {0x80, 6, 0x0304, 0, 255},  /* string 4 */
      {0x80, 6, 0x0201, 0, 255},  /* configuration 1 (only index 0) */
      {0x80, 6, 0x0700, 0, 9},    /* other speed configuration */
      {0x00, 9, 2, 0, 0},         /* SET_CONFIGURATION 2 */
      {0x00, 7, 0x0100, 0, 18},   /* SET_DESCRIPTOR */
      {0x01, 11, 1, 0, 0},        /* SET_INTERFACE alternate 1 */
      {0x21, 0x0A, 0, 0, 0},      /* class request */
      {0x82, 0, 0, 0x02, 2},      /* GET_STATUS of an endpoint that does not exist */
      {0x02, 3, 0, 0x00, 0},      /* SET_FEATURE halt on EP0 */
      {0x00, 3, 1, 0, 0},         /* SET_FEATURE remote wake-up */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nnf_test_ctx("request %zu: %02x %02x", i, bad[i][0], bad[i][1]);
    nnfu_hc_req(s, bad[i][0], bad[i][1], (unsigned)bad[i][2], (unsigned)bad[i][3], (unsigned)bad[i][4]);
    uint8_t data[300] = {0};
    CHECK_EQ(nnfu_hc_control(h, ADDR, s, data, &n), NNFU_HC_E_STALL);
    expect_desc(h, ADDR, 1, 0, 0, 18, DEV_DESC, 18);
  }
  nnf_test_ctx("GET_STATUS");
  expect_status(h, 0x80, 0, 0);
  expect_status(h, 0x81, 0, 0);
  expect_status(h, 0x82, 0x00, 0);
  expect_status(h, 0x82, 0x81, 0);
  expect_status(h, 0x82, 0x01, 0);
  /* halt EP1 IN: STALL to IN, its status bit; clear: toggle back to DATA0 */
  nnf_test_ctx("halt EP1 IN");
  for (int i = 0; i < 100; i++) c->src[i] = (uint8_t)i;
  c->psrc = 0;
  c->nsrc = 100;
  CHECK_OK(nnfu_hc_idle(h, 500));
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, buf, 64, &n), NNFU_HC_DATA);   /* toggle now 1 */
  CHECK_EQ(std_req(h, ADDR, 0x02, 3, 0, 0x81), NNFU_OK);
  expect_status(h, 0x82, 0x81, 1);
  expect_status(h, 0x82, 0x01, 0);
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, buf, 64, &n), NNFU_HC_STALL);
  CHECK_EQ(nnfu_hc_bulk_in(h, ADDR, 1, 64, buf, 64, &n), NNFU_HC_E_STALL);
  CHECK_EQ(std_req(h, ADDR, 0x02, 1, 0, 0x81), NNFU_OK);
  expect_status(h, 0x82, 0x81, 0);
  h->toggle[1][1] = 0;
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, buf, 64, &n), NNFU_HC_DATA);   /* DATA0 again */
  CHECK_EQ(n, 36);
  CHECK_EQ(buf[0], 64);
  /* halt EP1 OUT */
  nnf_test_ctx("halt EP1 OUT");
  c->ngot = 0;
  CHECK_EQ(nnfu_hc_out(h, ADDR, 1, buf, 5), NNFU_HC_ACK);
  CHECK_EQ(std_req(h, ADDR, 0x02, 3, 0, 0x01), NNFU_OK);
  expect_status(h, 0x82, 0x01, 1);
  CHECK_EQ(nnfu_hc_out(h, ADDR, 1, buf, 5), NNFU_HC_STALL);
  CHECK_EQ(std_req(h, ADDR, 0x02, 1, 0, 0x01), NNFU_OK);
  expect_status(h, 0x82, 0x01, 0);
  h->toggle[1][0] = 0;
  CHECK_EQ(nnfu_hc_out(h, ADDR, 1, buf + 5, 5), NNFU_HC_ACK);    /* DATA0: new */
  CHECK_OK(nnfu_hc_idle(h, 500));
  CHECK_EQ(c->ngot, 10);
  /* SET_CONFIGURATION 0 / 1 */
  CHECK_EQ(std_req(h, ADDR, 0x00, 9, 0, 0), NNFU_OK);
  CHECK_EQ(c->configured, 0);
  CHECK_EQ(nnfu_hc_in(h, ADDR, 1, buf, 64, &n), NNFU_HC_TIMEOUT);
  CHECK_EQ(std_req(h, ADDR, 0x00, 9, 1, 0), NNFU_OK);
  CHECK_EQ(c->configured, 1);
  printf("stall: %llu STALLs, halts set and cleared on EP1 OUT and IN\n", (unsigned long long)h->stats.stalls);
  check_gaps(h);
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- throughput ----------------------------------------------------------------- */

static int cmd_speed(void) {
  dev_ctx *c = ctx_new(64, 9);
  nnfu_hc *h = hc_new(c);
  enumerate(h, c, 64, ADDR);
  const size_t n = 256 * 1024;
  /* OUT: the sink always ready */
  static uint8_t p[256 * 1024];
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 13 + (i >> 8));
  CHECK_OK(nnfu_hc_idle(h, 48000 - h->stats.clocks % 48000));
  c->ngot = 0;
  uint64_t t0 = h->stats.clocks, f0 = h->stats.sofs, nk = h->stats.naks;
  size_t sent;
  CHECK_EQ(nnfu_hc_bulk_out(h, ADDR, 1, 64, p, n, 0, &sent), NNFU_OK);
  double out_s = (double)(h->stats.clocks - t0) / 48e6;
  double out_rate = (double)n / out_s;
  double out_ppf = (double)n / 64 / (double)(h->stats.sofs - f0);
  CHECK_OK(nnfu_hc_idle(h, 200));
  CHECK_EQ(c->ngot, n);
  CHECK_MEM_EQ(c->got, p, n);
  uint64_t out_naks = h->stats.naks - nk;
  /* IN: the source always has bytes */
  memcpy(c->src, p, n);
  c->psrc = 0;
  c->nsrc = n;
  static uint8_t got[256 * 1024 + 64];
  CHECK_OK(nnfu_hc_idle(h, 48000 - h->stats.clocks % 48000));
  t0 = h->stats.clocks;
  f0 = h->stats.sofs;
  nk = h->stats.naks;
  size_t k = 0;
  CHECK_EQ(nnfu_hc_bulk_in(h, ADDR, 1, 64, got, n, &k), NNFU_OK);
  double in_s = (double)(h->stats.clocks - t0) / 48e6;
  double in_rate = (double)n / in_s;
  double in_ppf = (double)n / 64 / (double)(h->stats.sofs - f0);
  CHECK_EQ(k, n);
  CHECK_MEM_EQ(got, p, n);
  printf("bulk OUT: %zu bytes in %.3f ms of USB time: %.3f MB/s of payload, %.1f packets per frame, %llu NAKs\n",
         n, out_s * 1e3, out_rate / 1e6, out_ppf, (unsigned long long)out_naks);
  printf("bulk IN:  %zu bytes in %.3f ms of USB time: %.3f MB/s of payload, %.1f packets per frame, %llu NAKs\n",
         n, in_s * 1e3, in_rate / 1e6, in_ppf, (unsigned long long)(h->stats.naks - nk));
  CHECK(out_rate >= 0.9e6);
  CHECK(in_rate >= 0.9e6);
  check_gaps(h);
  hc_del(h);
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

/* ---- a recording for Icarus ------------------------------------------------------- */

static int cmd_record(const char *path) {
  dev_ctx *c = ctx_new(64, 3);
  c->rec = fopen(path, "w");
  CHECK(c->rec != NULL);
  nnfu_hc *h = hc_new(c);
  /* short: a bus reset of 3 us, SET_ADDRESS, the device descriptor, configuration, a SOF,
   * 70 bytes OUT (a full packet and a short one), 100 bytes IN */
  CHECK_OK(nnfu_hc_bus_reset(h, 150, 200));
  CHECK_EQ(std_req(h, 0, 0x00, 5, 9, 0), NNFU_OK);
  uint8_t buf[64];
  size_t n;
  CHECK_EQ(get_desc(h, 9, 1, 0, 0, 18, buf, &n), NNFU_OK);
  CHECK_MEM_EQ(buf, DEV_DESC, 18);
  CHECK_EQ(std_req(h, 9, 0x00, 9, 1, 0), NNFU_OK);
  CHECK_OK(nnfu_hc_idle(h, 48000 - h->stats.clocks % 48000 + 100));   /* a SOF */
  CHECK(h->stats.sofs >= 1);
  for (int i = 0; i < 100; i++) c->src[i] = (uint8_t)(i * 3);
  c->nsrc = 100;
  uint8_t p[70];
  for (int i = 0; i < 70; i++) p[i] = (uint8_t)(0xF0 + i);
  size_t sent;
  CHECK_EQ(nnfu_hc_bulk_out(h, 9, 1, 64, p, 70, 0, &sent), NNFU_OK);
  uint8_t got[128];
  CHECK_EQ(nnfu_hc_bulk_in(h, 9, 1, 64, got, 128, &n), NNFU_OK);
  CHECK_EQ(n, 100);
  CHECK_MEM_EQ(got, c->src, 100);
  CHECK_OK(nnfu_hc_idle(h, 200));
  CHECK_EQ(c->ngot, 70);
  fclose(c->rec);
  printf("recorded %llu clocks to %s\n", (unsigned long long)h->stats.clocks, path);
  hc_del(h);
  c->rec = NULL;
  ctx_free(c);
  return nnf_test_done("test_usb_dev");
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "enum") == 0) return cmd_enum(atoi(argv[2]));
  if (argc >= 4 && strcmp(argv[1], "bulk") == 0) return cmd_bulk(strtoull(argv[2], NULL, 0), atol(argv[3]));
  if (argc >= 3 && strcmp(argv[1], "faults") == 0) return cmd_faults(strtoull(argv[2], NULL, 0));
  if (argc >= 3 && strcmp(argv[1], "reset") == 0) return cmd_reset(strtoull(argv[2], NULL, 0));
  if (argc >= 2 && strcmp(argv[1], "stall") == 0) return cmd_stall();
  if (argc >= 2 && strcmp(argv[1], "speed") == 0) return cmd_speed();
  if (argc >= 3 && strcmp(argv[1], "record") == 0) return cmd_record(argv[2]);
  fprintf(stderr, "usage: test_usb_dev enum 64|8 | bulk SEED N | faults SEED | reset SEED | stall | speed | record FILE\n");
  return 2;
}
