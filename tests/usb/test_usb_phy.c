/*
 * test_usb_phy.c - the USB device core's bit and packet layers (rtl/link/usb,
 * Verilated as nnfu_dut.v) against the host model at the wire (nnfu_host.h).
 *
 *   test_usb_phy rx SEED CASES         random tokens, SOFs, handshakes and
 *                                      data packets (every length 0..64,
 *                                      DATA0/1, stuffing-heavy payloads),
 *                                      a third of them damaged (CRC, PID,
 *                                      stuffing error, cut mid-byte, short
 *                                      SYNC): every byte and verdict of
 *                                      both layers as a reference receiver
 *                                      expects
 *   test_usb_phy rx_clock SEED CASES   the same with the host's clock off by
 *                                      +-0.25 % (and +-1 %) and jittered edges
 *   test_usb_phy rx_faults             directed: each CRC5 / CRC16 bit flipped,
 *                                      a stuffing error at every bit of a
 *                                      packet, cuts at every non-byte boundary,
 *                                      PID check nibbles, lengths, unused PIDs
 *   test_usb_phy tx SEED CASES         handshakes and data packets of every
 *                                      length sent, the line decoded by the
 *                                      host model bit-exact (timing exact to
 *                                      the sample, EOP, release of the pins),
 *                                      0xFF runs and other stuffing-heavy
 *                                      payloads, a slow payload source; an
 *                                      underrun spoils its packet
 *   test_usb_phy margin SEED           prints the largest host clock error
 *                                      the receiver takes (0xFF-heavy
 *                                      packets, no jitter); at least 0.25 %
 *   test_usb_phy --gen SEED CASES STIM EXPECT
 *                                      the rx cases as a stimulus file (one
 *                                      line state a clock) and the events
 *                                      expected, for the Icarus testbench
 *
 * Events (the text both simulators log, one line each): "S" packet start,
 * "B xx" a byte, "E e" packet end with nnf_usb_rx's error bits, "P xx" a
 * payload byte, "K p ok why" nnf_usb_pkt_rx's verdict (tokens that pass
 * add "aa e": address and endpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfu_dut.h"
#include "nnfu_host.h"

enum { MAX_PAYLOAD = 64, SYM_CAP = 4096, SAMP_CAP = 20000, LOG_CAP = 16384 };

/* ---- event logs ----------------------------------------------------------- */

typedef struct {
  char s[LOG_CAP];
  size_t n;
} evlog;

static void ev(evlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev(evlog *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof l->s - l->n) {
    fprintf(stderr, "event log full\n");
    exit(1);
  }
  l->n += (size_t)k;
}

/* The events of one clock of the DUT's receive side. */
static void log_rx(evlog *l, const nnfu_dut_out *o) {
  if (o->rx_start) ev(l, "S\n");
  if (o->rx_valid) ev(l, "B %02x\n", o->rx_data);
  if (o->rx_end) ev(l, "E %d\n", o->rx_err);
  if (o->out_valid) ev(l, "P %02x\n", o->out_data);
  if (o->end_valid) {
    if (o->end_ok && (o->end_pid & 3) == 1)
      ev(l, "K %x %d %d %02x %x\n", o->end_pid, o->end_ok, o->end_why, o->tok_addr, o->tok_ep);
    else
      ev(l, "K %x %d %d\n", o->end_pid, o->end_ok, o->end_why);
  }
}

/* ---- the reference receiver ---------------------------------------------------
 * What nnf_usb_rx and nnf_usb_pkt_rx must report for a symbol stream (one
 * line state per bit, as nnfu_encode makes it): NRZI, SYNC (>= 3 zeros
 * then a one), unstuffing (a one after six ones is an error, reported at
 * once), bytes, EOP (SE0 then J; mid-byte: error bit 1). Then the packet
 * layer: payload bytes two behind, the verdict from nnfu_pkt_parse. */
static int why_of(int code) {
  switch (code) {
    case NNFU_OK: return 0;
    case NNFU_E_PID: return 2;
    case NNFU_E_LEN: return 3;
    case NNFU_E_CRC5: return 4;
    case NNFU_E_CRC16: return 5;
    default: return 6;
  }
}

static void ref_rx(const uint8_t *sym, size_t n, evlog *l) {
  size_t i = 0;
  int lvl = NNFU_J, zeros = 0;
  while (i < n && sym[i] == NNFU_J) i++;
  if (i == n || sym[i] != NNFU_K) return;
  /* SYNC */
  for (; i < n; i++) {
    if (sym[i] != NNFU_J && sym[i] != NNFU_K) return;
    int bit = sym[i] == lvl;
    lvl = sym[i];
    if (!bit) {
      zeros++;
      continue;
    }
    if (zeros < 3) return;  /* noise: nothing reported */
    break;
  }
  i++;
  ev(l, "S\n");
  uint8_t b[2048];
  size_t nb = 0;
  int ones = 1, nbit = 0, err = -1;
  unsigned sh = 0;
  for (; i < n; i++) {
    const int s = sym[i];
    if (s == NNFU_SE0) {
      size_t k = i;
      while (k < n && sym[k] == NNFU_SE0) k++;
      err = (k - i <= 3 && k < n && sym[k] == NNFU_J) ? (nbit ? 2 : 0) : 4 | (nbit ? 2 : 0);
      break;
    }
    if (s == NNFU_SE1) {
      err = 4;
      break;
    }
    int bit = s == lvl;
    lvl = s;
    if (ones == 6) {
      if (bit) {
        err = 1;
        break;
      }
      ones = 0;
      continue;
    }
    ones = bit ? ones + 1 : 0;
    sh |= (unsigned)bit << nbit;
    if (++nbit == 8) {
      ev(l, "B %02x\n", sh);
      b[nb] = (uint8_t)sh;
      int pid_good = (b[0] >> 4) == (~b[0] & 0xF);
      int is_data = (b[0] & 0xF) == NNFU_PID_DATA0 || (b[0] & 0xF) == NNFU_PID_DATA1;
      if (nb >= 3 && is_data && pid_good && nb - 3 < MAX_PAYLOAD) ev(l, "P %02x\n", b[nb - 2]);
      nb++;
      sh = 0;
      nbit = 0;
    }
  }
  if (err < 0) err = 4;  /* the stream ended without an EOP: not made by nnfu_encode */
  ev(l, "E %d\n", err);
  const int pid = nb ? b[0] & 0xF : 0;
  if (err) {
    ev(l, "K %x 0 1\n", pid);
    return;
  }
  nnfu_pkt p;
  int rc = nnfu_pkt_parse(b, nb, MAX_PAYLOAD, &p);
  if (rc == NNFU_OK && (pid & 3) == 1)
    ev(l, "K %x 1 0 %02x %x\n", pid, p.addr, p.ep);
  else
    ev(l, "K %x %d %d\n", pid, rc == NNFU_OK, why_of(rc));
}

/* ---- random packets ----------------------------------------------------------- */

typedef struct {
  uint8_t b[MAX_PAYLOAD + 8];
  size_t n;
  nnfu_enc_opts o;
  const char *what;
} rx_case;

/* A payload: random, or one of the stuffing-heavy patterns. */
static void payload(nnf_rng *r, uint8_t *p, size_t n) {
  int kind = (int)nnf_rng_range(r, 0, 5);
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
      case 0: p[i] = 0xFF; break;                                        /* all ones */
      case 1: p[i] = (i % 3 == 2) ? (uint8_t)nnf_rng_u32(r) : 0xFF; break; /* long 0xFF runs */
      case 2: p[i] = (uint8_t)(0x7F << (i % 2)); break;                   /* 7F FE ... */
      case 3: p[i] = 0x00; break;                                         /* all transitions */
      default: p[i] = (uint8_t)nnf_rng_u32(r); break;
    }
  }
}

static void make_case(nnf_rng *r, long idx, int faults, rx_case *c) {
  static const int tok[] = {NNFU_PID_OUT, NNFU_PID_IN, NNFU_PID_SETUP};
  static const int hs[] = {NNFU_PID_ACK, NNFU_PID_NAK, NNFU_PID_STALL};
  uint8_t pl[MAX_PAYLOAD];
  c->o = nnfu_enc_default();
  switch (nnf_rng_range(r, 0, 9)) {
    case 0: case 1:
      c->n = nnfu_pkt_token(c->b, tok[nnf_rng_range(r, 0, 2)], (unsigned)nnf_rng_range(r, 0, 127),
                            (unsigned)nnf_rng_range(r, 0, 15));
      c->what = "token";
      break;
    case 2:
      c->n = nnfu_pkt_sof(c->b, (unsigned)nnf_rng_range(r, 0, 2047));
      c->what = "SOF";
      break;
    case 3:
      c->n = nnfu_pkt_handshake(c->b, hs[nnf_rng_range(r, 0, 2)]);
      c->what = "handshake";
      break;
    default: {
      size_t len = (size_t)(idx % (MAX_PAYLOAD + 1));   /* every length in turn */
      payload(r, pl, len);
      c->n = nnfu_pkt_data(c->b, nnf_rng_range(r, 0, 1) ? NNFU_PID_DATA1 : NNFU_PID_DATA0, pl, len);
      c->what = "data";
    }
  }
  if (nnf_rng_range(r, 0, 4) == 0) c->o.sync_bits = (int)nnf_rng_range(r, 5, 8);  /* a hub ate some */
  if (!faults || nnf_rng_range(r, 0, 2) != 0) return;
  const long bits = (long)c->n * 8;
  switch (nnf_rng_range(r, 0, 3)) {
    case 0:  /* one bit flipped: the CRC (or the PID check, or the type) fails */
      c->b[nnf_rng_range(r, 0, (long)c->n - 1)] ^= (uint8_t)(1u << nnf_rng_range(r, 0, 7));
      c->what = "bit flipped";
      break;
    case 1:
      c->o.ones_at = nnf_rng_range(r, 0, bits);
      c->what = "stuffing error";
      break;
    case 2:
      do c->o.cut_bits = nnf_rng_range(r, 1, bits - 1); while (c->o.cut_bits % 8 == 0 && bits > 8);
      if (bits == 8) c->o.cut_bits = nnf_rng_range(r, 1, 7);
      c->what = "cut mid-byte";
      break;
    default:
      c->o.sync_bits = 3;   /* 2 zeros then the one: noise, nothing reported */
      c->what = "short SYNC";
      break;
  }
}

/* ---- the receive side through the DUT ---------------------------------------- */

static nnfu_dut_in idle_in(void) {
  nnfu_dut_in in;
  memset(&in, 0, sizeof in);
  in.dp = 1;
  return in;
}

/* Play the samples (after `gap` idle ones, then 48 idle) and log the events. */
static void play(nnfu_dut *d, const uint8_t *samp, size_t n, int gap, evlog *l) {
  nnfu_dut_in in = idle_in();
  nnfu_dut_out o;
  for (int i = 0; i < gap; i++) {
    nnfu_dut_step(d, &in, &o);
    log_rx(l, &o);
  }
  for (size_t i = 0; i < n + 48; i++) {
    const int s = i < n ? samp[i] : NNFU_J;
    in.dp = (s >> 1) & 1;
    in.dm = s & 1;
    nnfu_dut_step(d, &in, &o);
    log_rx(l, &o);
  }
}

static void check_logs(const evlog *want, const evlog *got, long idx, const char *what) {
  if (want->n == got->n && memcmp(want->s, got->s, want->n) == 0) {
    nnf_test_checks_++;
    return;
  }
  fprintf(stderr, "case %ld (%s): events differ\n--- expected\n%.*s--- RTL\n%.*s", idx, what,
          (int)want->n, want->s, (int)got->n, got->s);
  nnf_test_fail_(__FILE__, __LINE__, "receive events");
}

static uint8_t g_sym[SYM_CAP], g_samp[SAMP_CAP];

/* One case: encode, render with `t`, play, compare with the reference. */
static void run_rx_case(nnfu_dut *d, const rx_case *c, nnfu_timing *t, int gap, long idx) {
  static evlog want, got;
  want.n = got.n = 0;
  size_t ns = nnfu_encode(c->b, c->n, &c->o, g_sym, SYM_CAP);
  CHECK(ns > 0);
  ref_rx(g_sym, ns, &want);
  size_t n = nnfu_render(t, g_sym, ns, g_samp, SAMP_CAP);
  CHECK(n > 0);
  play(d, g_samp, n, gap, &got);
  check_logs(&want, &got, idx, c->what);
}

static int cmd_rx(uint64_t seed, long cases, int clock) {
  nnf_rng r = nnf_rng_seed(seed);
  nnfu_dut *d = nnfu_dut_create();
  CHECK(d != NULL);
  static const double offs[] = {0.0025, -0.0025, 0.01, -0.01, 0.0};
  long counts[5] = {0};
  static long seen[MAX_PAYLOAD + 1][2];   /* undamaged data packets by length and DATA0/1 */
  memset(seen, 0, sizeof seen);
  for (long i = 0; i < cases; i++) {
    rx_case c;
    make_case(&r, i, 1, &c);
    if (strcmp(c.what, "data") == 0) seen[c.n - 3][(c.b[0] & 0xF) == NNFU_PID_DATA1]++;
    nnfu_timing t = {0, 0, nnf_rng_unit(&r), nnf_rng_u64(&r), 0};
    if (clock) {
      int k = (int)(i % 5);
      t.offset = offs[k];
      t.jitter = k < 2 ? 0.4 : (k < 4 ? 0.25 : 0.45);  /* samples (a quarter bit); docs/usb.md: the margin */
      if (i % 2) t.glitch = 0.3;   /* D+ and D- crossing apart: SE0 / SE1 for a sample at J <-> K */
      counts[k]++;
    }
    nnf_test_ctx("seed %llu case %ld (%s, %zu bytes, offset %+.4f, jitter %.2f, glitches %.1f)",
                 (unsigned long long)seed, i, c.what, c.n, t.offset, t.jitter, t.glitch);
    run_rx_case(d, &c, &t, (int)nnf_rng_range(&r, 1, 40), i);
  }
  /* coverage: every payload length, as DATA0 and as DATA1, undamaged */
  long least = cases;
  for (int n = 0; n <= MAX_PAYLOAD; n++)
    for (int k = 0; k < 2; k++) least = seen[n][k] < least ? seen[n][k] : least;
  printf("%ld cases; every payload length 0..%d as DATA0 and DATA1 at least %ld times undamaged\n",
         cases, MAX_PAYLOAD, least);
  if (cases >= 5000) CHECK(least >= 10);
  if (clock)
    printf("offsets +0.25%%/-0.25%% (jitter 0.4), +1%%/-1%% (0.25), 0 (0.45): %ld %ld %ld %ld %ld cases,"
           " half of them with one-sample SE0/SE1 at J <-> K edges\n",
           counts[0], counts[1], counts[2], counts[3], counts[4]);
  nnfu_dut_destroy(d);
  return 0;
}

/* ---- directed receive faults ------------------------------------------------- */

/* Play one packet and return its verdict line ("K ...") and rx error. */
static void directed(nnfu_dut *d, const uint8_t *b, size_t n, const nnfu_enc_opts *o, const char *what,
                     int want_err, int want_why) {
  rx_case c;
  memcpy(c.b, b, n);
  c.n = n;
  c.o = *o;
  c.what = what;
  nnfu_timing t = {0, 0, 0.5, 1, 0};
  run_rx_case(d, &c, &t, 8, -1);   /* the reference receiver's events, exactly */
  /* and the verdict itself, from the reference's log (a reference that
   * agreed with a wrong RTL would be caught here) */
  static evlog l;
  l.n = 0;
  size_t ns = nnfu_encode(b, n, o, g_sym, SYM_CAP);
  ref_rx(g_sym, ns, &l);
  char e[16], k[16];
  snprintf(e, sizeof e, "E %d\n", want_err);
  snprintf(k, sizeof k, "%d\n", want_why);
  nnf_test_ctx("%s", what);
  CHECK(strstr(l.s, e) != NULL);
  const char *kl = strrchr(l.s, 'K');
  CHECK(kl != NULL);
  CHECK(want_why == 0 || strcmp(kl + strlen(kl) - strlen(k), k) == 0);
}

static int cmd_rx_faults(void) {
  nnfu_dut *d = nnfu_dut_create();
  CHECK(d != NULL);
  const nnfu_enc_opts def = nnfu_enc_default();
  uint8_t b[MAX_PAYLOAD + 8], pl[MAX_PAYLOAD];
  char what[96];
  /* good ones first: the known token bytes (SETUP addr 0 ep 0 = 2D 00 10) */
  size_t n = nnfu_pkt_token(b, NNFU_PID_SETUP, 0, 0);
  CHECK(b[0] == 0x2D && b[1] == 0x00 && b[2] == 0x10);
  directed(d, b, n, &def, "SETUP 0/0", 0, 0);
  /* every bit of a token's address / endpoint / CRC5 flipped: CRC5 */
  for (int bit = 0; bit < 16; bit++) {
    n = nnfu_pkt_token(b, NNFU_PID_OUT, 0x15, 0xE);
    b[1 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    snprintf(what, sizeof what, "token bit %d flipped", bit);
    directed(d, b, n, &def, what, 0, 4);
  }
  /* every bit of a 4-byte data packet and of its CRC16 flipped: CRC16 */
  for (int i = 0; i < 4; i++) pl[i] = (uint8_t)(0x11 * (i + 1));
  for (int bit = 0; bit < 48; bit++) {
    n = nnfu_pkt_data(b, NNFU_PID_DATA0, pl, 4);
    b[1 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    snprintf(what, sizeof what, "data bit %d flipped", bit);
    directed(d, b, n, &def, what, 0, 5);
  }
  /* the PID's check nibble wrong, each bit */
  for (int bit = 0; bit < 8; bit++) {
    n = nnfu_pkt_handshake(b, NNFU_PID_ACK);
    b[0] ^= (uint8_t)(1u << bit);
    snprintf(what, sizeof what, "PID bit %d flipped", bit);
    directed(d, b, n, &def, what, 0, 2);
  }
  /* lengths: a token of 4 bytes, a handshake of 2, a data packet of 2 */
  n = nnfu_pkt_token(b, NNFU_PID_IN, 1, 1);
  b[n++] = 0x55;
  directed(d, b, n, &def, "token 4 bytes", 0, 3);
  n = nnfu_pkt_handshake(b, NNFU_PID_NAK);
  b[n++] = 0x00;
  directed(d, b, n, &def, "handshake 2 bytes", 0, 3);
  n = nnfu_pkt_data(b, NNFU_PID_DATA1, pl, 0);
  directed(d, b, n - 1, &def, "data 2 bytes", 0, 3);
  /* a payload over MAX_PAYLOAD: 65 bytes */
  {
    static uint8_t big[80], bp[66];
    memset(bp, 0x5A, sizeof bp);
    n = nnfu_pkt_data(big, NNFU_PID_DATA0, bp, 65);
    directed(d, big, n, &def, "data 65 bytes", 0, 3);
  }
  /* PIDs full speed does not use: PRE, SPLIT, PING, DATA2, MDATA, 0 */
  static const int unsup[] = {0xC, 0x8, 0x4, 0x7, 0xF, 0x0};
  for (int i = 0; i < 6; i++) {
    b[0] = (uint8_t)(((~unsup[i] & 0xF) << 4) | unsup[i]);
    snprintf(what, sizeof what, "PID %x", unsup[i]);
    directed(d, b, 1, &def, what, 0, 6);
  }
  /* a stuffing error after every data bit of a token and of a data packet */
  for (int k = 0; k <= 24; k++) {
    nnfu_enc_opts o = def;
    o.ones_at = k;
    n = nnfu_pkt_token(b, NNFU_PID_OUT, 0x7F, 0xF);
    snprintf(what, sizeof what, "token, stuffing error after %d bits", k);
    directed(d, b, n, &o, what, 1, 1);
  }
  memset(pl, 0xFF, 8);
  for (int k = 0; k <= 88; k += 3) {
    nnfu_enc_opts o = def;
    o.ones_at = k;
    n = nnfu_pkt_data(b, NNFU_PID_DATA1, pl, 8);
    snprintf(what, sizeof what, "0xFF data, stuffing error after %d bits", k);
    directed(d, b, n, &o, what, 1, 1);
  }
  /* cut at every non-byte boundary of a 3-byte payload */
  for (int k = 1; k < 48; k++) {
    if (k % 8 == 0) continue;
    nnfu_enc_opts o = def;
    o.cut_bits = k;
    for (int i = 0; i < 3; i++) pl[i] = (uint8_t)(0xA5 + i);
    n = nnfu_pkt_data(b, NNFU_PID_DATA0, pl, 3);
    snprintf(what, sizeof what, "data cut after %d bits", k);
    directed(d, b, n, &o, what, 2, 1);
  }
  /* cut on a byte boundary: bytes short, so the CRC (or length) fails */
  {
    nnfu_enc_opts o = def;
    o.cut_bits = 32;
    n = nnfu_pkt_data(b, NNFU_PID_DATA0, pl, 3);
    directed(d, b, n, &o, "data cut after 4 bytes", 0, 5);
  }
  /* an EOP with one SE0 bit, and with three: still an EOP */
  for (int se0 = 1; se0 <= 3; se0 += 2) {
    nnfu_enc_opts o = def;
    o.eop_se0 = se0;
    n = nnfu_pkt_handshake(b, NNFU_PID_STALL);
    snprintf(what, sizeof what, "EOP of %d SE0 bits", se0);
    directed(d, b, n, &o, what, 0, 0);
  }
  /* SE0 for four bits is no EOP (a reset begins): line error */
  {
    nnfu_enc_opts o = def;
    o.eop_se0 = 4;
    n = nnfu_pkt_handshake(b, NNFU_PID_STALL);
    directed(d, b, n, &o, "SE0 of 4 bits", 4, 1);
  }
  nnfu_dut_destroy(d);
  return 0;
}

/* ---- the transmit side --------------------------------------------------------- */

typedef struct {
  nnfu_dut *d;
  nnfu_dut_in in;
  nnfu_dut_out o;
  nnfu_mon mon;
  long cycle;
  int oe_prev, eop_j;    /* pin release timing */
  int pkts;              /* packets the monitor completed */
  int underruns;
} txh;

static int line_of(const nnfu_dut_out *o) { return o->oe ? (o->dp_o << 1 | o->dm_o) : NNFU_J; }

/* One clock: step, check the pins, feed the monitor. */
static void tx_clock(txh *h) {
  nnfu_dut_step(h->d, &h->in, &h->o);
  h->cycle++;
  const int line = line_of(&h->o);
  /* the pins are driven from the SYNC's first K, and released one bit
   * after the EOP's J began */
  if (h->o.oe && !h->oe_prev) CHECK_EQ(line, NNFU_K);
  if (h->o.oe && h->o.dp_o && !h->o.dm_o && h->eop_j >= 0) h->eop_j++;
  if (!h->o.oe && h->oe_prev) {
    CHECK_EQ(h->eop_j, 4);
    h->eop_j = -1;
  }
  if (h->o.oe && !h->o.dp_o && !h->o.dm_o) h->eop_j = 0;
  h->oe_prev = h->o.oe;
  if (h->o.underrun) h->underruns++;
  if (nnfu_mon_feed(&h->mon, line)) h->pkts++;
}

/* Send one packet: pid, payload (n bytes) with the source stalling up to
 * `stall` clocks before each byte; stall_at >= 0: that byte comes after
 * `long_stall` clocks. Runs until the monitor has the packet. */
static void tx_send(txh *h, nnf_rng *r, int pid, const uint8_t *pl, int n, int stall, int stall_at,
                    int long_stall) {
  const int pkts0 = h->pkts;
  h->in.send_valid = 1;
  h->in.send_pid = pid;
  h->in.send_len = n;
  nnfu_dut_peek(h->d, &h->in, &h->o);
  while (!h->o.send_ready) {
    tx_clock(h);
    nnfu_dut_peek(h->d, &h->in, &h->o);
  }
  tx_clock(h);
  h->in.send_valid = 0;
  const int is_data = pid == NNFU_PID_DATA0 || pid == NNFU_PID_DATA1;
  int k = 0, wait = 0;
  if (is_data && n > 0) wait = (int)nnf_rng_range(r, 0, stall);
  long guard = 0;
  while (h->pkts == pkts0) {
    CHECK(++guard < 100000);
    if (is_data && k < n && h->underruns == 0) {
      if (wait > 0) {
        h->in.pl_valid = 0;
        wait--;
      } else {
        h->in.pl_valid = 1;
        h->in.pl_data = pl[k];
      }
    } else {
      h->in.pl_valid = 0;
    }
    nnfu_dut_peek(h->d, &h->in, &h->o);
    const int took = h->in.pl_valid && h->o.pl_ready;
    tx_clock(h);
    if (took) {
      k++;
      wait = (int)nnf_rng_range(r, 0, stall);
      if (k == stall_at) wait = long_stall;
    }
  }
  h->in.pl_valid = 0;
  /* let the pins go before the next packet is asked for */
  while (h->o.oe || h->o.tx_busy) tx_clock(h);
}

static void tx_expect(txh *h, int pid, const uint8_t *pl, int n) {
  uint8_t want[MAX_PAYLOAD + 3];
  const int is_data = pid == NNFU_PID_DATA0 || pid == NNFU_PID_DATA1;
  size_t wn = is_data ? nnfu_pkt_data(want, pid, pl, (size_t)n) : nnfu_pkt_handshake(want, pid);
  CHECK_EQ(h->mon.status, NNFU_OK);
  CHECK_EQ(h->mon.info.nbytes, wn);
  CHECK_MEM_EQ(h->mon.bytes, want, wn);
  nnfu_pkt p;
  CHECK_EQ(nnfu_pkt_parse(h->mon.bytes, h->mon.info.nbytes, MAX_PAYLOAD, &p), NNFU_OK);
}

static int cmd_tx(uint64_t seed, long cases) {
  nnf_rng r = nnf_rng_seed(seed);
  txh h;
  memset(&h, 0, sizeof h);
  h.d = nnfu_dut_create();
  CHECK(h.d != NULL);
  CHECK_OK(nnfu_mon_init(&h.mon, 0));   /* the device's clock is the sampler's: exact */
  h.in = idle_in();
  h.eop_j = -1;
  static const int hs[] = {NNFU_PID_ACK, NNFU_PID_NAK, NNFU_PID_STALL};
  uint8_t pl[MAX_PAYLOAD];
  long stuffed_ff = 0;
  static long seen[MAX_PAYLOAD + 1][2];
  memset(seen, 0, sizeof seen);
  for (long i = 0; i < cases; i++) {
    int pid, n = 0;
    if (i % 9 == 8) {
      pid = hs[nnf_rng_range(&r, 0, 2)];
    } else {
      pid = (i & 1) ? NNFU_PID_DATA1 : NNFU_PID_DATA0;
      n = (int)(i % (MAX_PAYLOAD + 1));
      payload(&r, pl, (size_t)n);
      if (n >= 4 && pl[0] == 0xFF && pl[1] == 0xFF) stuffed_ff++;
    }
    nnf_test_ctx("seed %llu case %ld: pid %x, %d bytes", (unsigned long long)seed, i, pid, n);
    tx_send(&h, &r, pid, pl, n, (int)(i % 4) * 6, -1, 0);
    tx_expect(&h, pid, pl, n);
    CHECK_EQ(h.underruns, 0);
    if (pid == NNFU_PID_DATA0 || pid == NNFU_PID_DATA1) seen[n][pid == NNFU_PID_DATA1]++;
  }
  if (cases >= 1000)   /* every length as DATA0 and as DATA1 */
    for (int n = 0; n <= MAX_PAYLOAD; n++) CHECK(seen[n][0] > 0 && seen[n][1] > 0);
  /* an underrun: the source withholds byte 5 for 200 clocks; the packet
   * is spoiled (a stuffing error for the host), the layer starts over, and
   * the next packet goes out whole */
  for (int i = 0; i < 20; i++) pl[i] = (uint8_t)(i * 37);
  nnf_test_ctx("underrun");
  tx_send(&h, &r, NNFU_PID_DATA0, pl, 20, 0, 5, 200);
  CHECK_EQ(h.underruns, 1);
  CHECK_EQ(h.mon.status, NNFU_E_STUFF);
  h.underruns = 0;
  nnf_test_ctx("after the underrun");
  tx_send(&h, &r, NNFU_PID_DATA1, pl, 20, 3, -1, 0);
  tx_expect(&h, NNFU_PID_DATA1, pl, 20);
  CHECK_EQ(h.underruns, 0);
  /* the byte after a stall of every length 0..90 clocks: early, in the
   * very cycle it is due (straight to the line), or late (an underrun:
   * spoiled, and the next packet whole) */
  int on_time = 0, late = 0, max_ok = -1;
  for (int ls = 0; ls <= 90; ls++) {
    nnf_test_ctx("a stall of %d clocks before byte 5", ls);
    for (int i = 0; i < 20; i++) pl[i] = (uint8_t)(0x35 ^ (i * 11));   /* the same each time: the due cycle stays put */
    tx_send(&h, &r, NNFU_PID_DATA0, pl, 20, 0, 5, ls);
    if (h.underruns == 0) {
      tx_expect(&h, NNFU_PID_DATA0, pl, 20);
      on_time++;
      CHECK(late == 0);   /* once late, always late */
      max_ok = ls;
    } else {
      CHECK_EQ(h.underruns, 1);
      CHECK_EQ(h.mon.status, NNFU_E_STUFF);
      h.underruns = 0;
      late++;
      tx_send(&h, &r, NNFU_PID_DATA1, pl, 20, 0, -1, 0);
      tx_expect(&h, NNFU_PID_DATA1, pl, 20);
    }
  }
  CHECK(on_time > 40 && late > 20);
  printf("%ld packets sent and decoded (%ld starting with 0xFF 0xFF), %ld clocks; "
         "a byte may come up to %d clocks late without an underrun\n",
         cases, stuffed_ff, h.cycle, max_ok);
  nnfu_mon_free(&h.mon);
  nnfu_dut_destroy(h.d);
  return 0;
}

/* ---- host model self-checks (no RTL) ------------------------------------------- */

static void host_selftest(void) {
  /* CRC-16/USB of "123456789" is 0xB4C8; the USB CRC5 examples (sent LSB
   * first): address 0x15 endpoint 0xE -> 0x1D, 0x3A / 0xA -> 0x07 */
  CHECK_EQ(nnfu_crc16((const uint8_t *)"123456789", 9), 0xB4C8);
  CHECK_EQ(nnfu_crc5(0x15 | 0xE << 7), 0x1D);
  CHECK_EQ(nnfu_crc5(0x3A | 0xA << 7), 0x07);
  /* encode -> render (exact) -> decode round trip, a stuffing-heavy packet */
  uint8_t pl[64], b[80], out[80];
  memset(pl, 0xFF, sizeof pl);
  size_t n = nnfu_pkt_data(b, NNFU_PID_DATA0, pl, 64);
  nnfu_enc_opts o = nnfu_enc_default();
  size_t ns = nnfu_encode(b, n, &o, g_sym, SYM_CAP);
  nnfu_timing t = {0, 0, 0, 0, 0};
  size_t nsm = nnfu_render(&t, g_sym, ns, g_samp, SAMP_CAP);
  nnfu_dec_info info;
  CHECK_EQ(nnfu_decode(g_samp, nsm, 0, out, sizeof out, &info), NNFU_OK);
  CHECK_EQ(info.nbytes, n);
  CHECK_MEM_EQ(out, b, n);
  /* ... and the decoder refuses a stuffing error and a cut */
  o.ones_at = 20;
  ns = nnfu_encode(b, n, &o, g_sym, SYM_CAP);
  nsm = nnfu_render(&t, g_sym, ns, g_samp, SAMP_CAP);
  CHECK_EQ(nnfu_decode(g_samp, nsm, 0, out, sizeof out, &info), NNFU_E_STUFF);
  o = nnfu_enc_default();
  o.cut_bits = 13;
  ns = nnfu_encode(b, n, &o, g_sym, SYM_CAP);
  nsm = nnfu_render(&t, g_sym, ns, g_samp, SAMP_CAP);
  CHECK_EQ(nnfu_decode(g_samp, nsm, 0, out, sizeof out, &info), NNFU_E_ALIGN);
  /* glitches: with probability 1 every J <-> K change starts with SE0 or SE1 */
  o = nnfu_enc_default();
  ns = nnfu_encode(b, n, &o, g_sym, SYM_CAP);
  nnfu_timing tg = {0, 0, 0, 7, 1.0};
  nsm = nnfu_render(&tg, g_sym, ns, g_samp, SAMP_CAP);
  size_t odd = 0;
  for (size_t i = 0; i + 8 < nsm; i++) odd += g_samp[i] == NNFU_SE1 || (g_samp[i] == NNFU_SE0 && g_samp[i + 1] != NNFU_SE0);
  CHECK(odd > 20);
}

/* ---- the receiver's clock margin ---------------------------------------------------
 * The largest host rate error (in steps of 0.25 %, each sign) at which 200
 * random good packets with 0xFF-heavy payloads (stuffing: 7-bit runs) are
 * all received right, with no jitter. Printed for docs/usb.md; the test
 * asserts at least USB's full-speed data rate tolerance, 12 Mbit/s
 * +-0.25 % (the margin shows how far beyond it the receiver goes). */
static int cmd_margin(uint64_t seed) {
  nnfu_dut *d = nnfu_dut_create();
  CHECK(d != NULL);
  double best[2] = {0, 0};
  for (int sign = 0; sign < 2; sign++) {
    for (int step = 1; step <= 40; step++) {
      const double off = (sign ? -1 : 1) * 0.0025 * step;
      nnf_rng r = nnf_rng_seed(seed);
      int ok = 1;
      for (int i = 0; i < 200 && ok; i++) {
        static evlog want, got;
        rx_case c;
        uint8_t pl[MAX_PAYLOAD];
        size_t len = (size_t)nnf_rng_range(&r, 0, MAX_PAYLOAD);
        for (size_t k = 0; k < len; k++) pl[k] = (k % 4 == 3) ? (uint8_t)nnf_rng_u32(&r) : 0xFF;
        c.n = nnfu_pkt_data(c.b, NNFU_PID_DATA0, pl, len);
        c.o = nnfu_enc_default();
        nnfu_timing t = {off, 0, nnf_rng_unit(&r), 1, 0};
        want.n = got.n = 0;
        size_t ns = nnfu_encode(c.b, c.n, &c.o, g_sym, SYM_CAP);
        ref_rx(g_sym, ns, &want);
        size_t n = nnfu_render(&t, g_sym, ns, g_samp, SAMP_CAP);
        play(d, g_samp, n, 40, &got);
        ok = want.n == got.n && memcmp(want.s, got.s, want.n) == 0;
      }
      if (!ok) break;
      best[sign] = off;
      /* a failed run may leave the receiver waiting: let it idle */
      play(d, g_samp, 0, 64, &(evlog){.n = 0});
    }
  }
  printf("receiver margin (no jitter): host bits up to %+.2f %% long and %+.2f %% short\n",
         100 * best[0], 100 * best[1]);
  CHECK(best[0] >= 0.0025 && best[1] <= -0.0025);
  nnfu_dut_destroy(d);
  return 0;
}

/* ---- the stimulus for Icarus ----------------------------------------------------- */

static int cmd_gen(uint64_t seed, long cases, const char *stim, const char *expect) {
  FILE *fs = fopen(stim, "w"), *fe = fopen(expect, "w");
  if (!fs || !fe) {
    fprintf(stderr, "cannot write %s / %s\n", stim, expect);
    return 2;
  }
  nnf_rng r = nnf_rng_seed(seed);
  static evlog want;
  long total = 0;
  for (long i = 0; i < cases; i++) {
    rx_case c;
    make_case(&r, i, 1, &c);
    nnfu_timing t = {(i % 3 == 0) ? 0.0025 : (i % 3 == 1) ? -0.0025 : 0.0, 0.3, nnf_rng_unit(&r),
                     nnf_rng_u64(&r), (i % 2) ? 0.2 : 0.0};
    want.n = 0;
    size_t ns = nnfu_encode(c.b, c.n, &c.o, g_sym, SYM_CAP);
    ref_rx(g_sym, ns, &want);
    size_t n = nnfu_render(&t, g_sym, ns, g_samp, SAMP_CAP);
    const int gap = (int)nnf_rng_range(&r, 1, 40);
    for (int k = 0; k < gap; k++) fprintf(fs, "%d\n", NNFU_J);
    for (size_t k = 0; k < n; k++) fprintf(fs, "%d\n", g_samp[k]);
    for (int k = 0; k < 48; k++) fprintf(fs, "%d\n", NNFU_J);
    total += gap + (long)n + 48;
    fwrite(want.s, 1, want.n, fe);
  }
  fclose(fs);
  fclose(fe);
  printf("%ld samples\n", total);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_usb_phy rx|rx_clock|tx SEED CASES | rx_faults | margin SEED | --gen SEED CASES STIM EXPECT\n");
    return 2;
  }
  const uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
  const long cases = argc > 3 ? strtol(argv[3], NULL, 0) : 1000;
  if (strcmp(argv[1], "--gen") == 0 && argc == 6) return cmd_gen(seed, cases, argv[4], argv[5]);
  host_selftest();
  int rc;
  if (strcmp(argv[1], "rx") == 0) rc = cmd_rx(seed, cases, 0);
  else if (strcmp(argv[1], "rx_clock") == 0) rc = cmd_rx(seed, cases, 1);
  else if (strcmp(argv[1], "rx_faults") == 0) rc = cmd_rx_faults();
  else if (strcmp(argv[1], "tx") == 0) rc = cmd_tx(seed, cases);
  else if (strcmp(argv[1], "margin") == 0) rc = cmd_margin(seed);
  else {
    fprintf(stderr, "test_usb_phy: unknown command %s\n", argv[1]);
    return 2;
  }
  return rc ? rc : nnf_test_done(argv[0]);
}
