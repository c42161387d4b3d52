/*
 * nnf_difffuzz.c - the differential fuzzer: the Verilated nnf_core
 * (nnfsim_core) and the functional model (nnfm_device) are fed the same
 * random sessions and every answer byte is compared (docs/testing.md,
 * "Differential fuzzer").
 *
 * A session is a list of chunks: bytes for the receiver, then an idle gap
 * of exactly `gap` cycles after the last of them is taken. The generator
 * writes random buffers and micro-programs (GEMM, LIF, LOOP, BARRIER, END,
 * reserved opcodes; valid, out of range, overlapping, invalid m0/shift,
 * lo > hi, huge sizes), then random commands: every type, damaged headers
 * and payloads, truncated frames, garbage and frames hidden in it, gaps
 * around the receive timeout, ACT writes while a program runs, BWAIT and
 * BPOST (good and bad banks and lengths), and ends with a WAIT, INFO,
 * STATUS, COUNTERS and a READ of every region. With FEAT_BANKS some sessions
 * are bank sessions (gen_bank_events): straight-line programs of BANK
 * acquires and releases (refused ones, ones without flags), GEMMs reading
 * the banks they hold and BARRIERs, and a host that keeps the bank protocol
 * (BWAIT before writing a bank's W and P while the program runs and before
 * posting it) but otherwise does anything: BWAITs answered ERR BANK, BPOST
 * retries, RUN while the program waits at an acquire, RESET with abort while
 * it waits, STATUS while it waits.
 *
 * What is compared, frame by frame: type, seq, arg, length and payload of
 * every answer, with only what the model cannot know masked: the cycle,
 * busy and stall counters always; STATUS's running and waiting flags and
 * pc, and the MAC counter, while a program may still run (between an OK RUN
 * or BPOST and the next OK WAIT / READ / WRITE outside ACT, W and P: the
 * program is quiet then, ended or waiting at an acquire as the model's
 * is); STATUS's last error while an error frame
 * and the running program race. Every RTL answer must carry good CRCs.
 * A hang is an answer that does not come within a bound derived from the
 * work the model did (instructions, streamed rows, weight tiles, LIF
 * updates).
 *
 * The link (--link) is how the bytes reach the device: nnf_core's stream
 * port directly, or the same core behind a board's link adapter with input
 * pacing, a UART (bit by bit at the adapter's divider, --div) or an FT245
 * FIFO bridge (its handshake, random RXF# / TXE# gaps); the answers are
 * decoded from the wire. Everything else (generator, model, comparison,
 * hang bound, replay, minimiser) is one code path. On the paced links a
 * gap is measured on the wire, so the generator makes every silence
 * clearly shorter (<= T/2, the link's own pace counted in) or clearly
 * longer (>= 2T) than the receive timeout T, and, on the UART, which has
 * no flow control, sends WAIT before a WRITE that would hold its payload
 * while a program runs, as the driver does.
 *
 *   nnf_difffuzz [--link stream|uart|ft245] [--div N] [--gaps exact|paced]
 *                [--seed S] [--sessions N] [--events N] [--save DIR] [--quiet]
 *   nnf_difffuzz [--link L] [--div N] --replay FILE [--minimize OUT]
 *
 * A failing session is saved as DIR/nnf_difffuzz-<seed>-<i>.bin (replay it
 * with --replay; --minimize drops chunks while it still fails). The core's
 * configuration is the one this binary was built with; the model is
 * configured from the core's own INFO answer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnf_proto.h"
#include "nnfb_sim.h"
#include "nnfm_device.h"
#include "nnfsim_core.h"

/* ---- sessions ------------------------------------------------------------ */

typedef struct {
  uint8_t *b;
  uint32_t n;
  uint32_t gap; /* idle cycles after the last byte is taken; | NOWAIT: */
} chunk;
/* the next chunk's bytes follow the gap at once, without waiting for the
 * answers first (so a byte can arrive in the very cycle a timeout fires) */
#define NOWAIT 0x80000000u
#define GAP(c) ((c)->gap & ~NOWAIT)

typedef struct {
  chunk *c;
  size_t n, cap;
} session;

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "nnf_difffuzz: out of memory\n");
    exit(2);
  }
  return q;
}

static void sess_free(session *s) {
  for (size_t i = 0; i < s->n; i++) free(s->c[i].b);
  free(s->c);
  memset(s, 0, sizeof *s);
}

static void sess_add(session *s, const uint8_t *b, size_t n, uint32_t gap) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 64;
    s->c = xrealloc(s->c, s->cap * sizeof *s->c);
  }
  chunk *c = &s->c[s->n++];
  c->b = xrealloc(NULL, n);
  if (n) memcpy(c->b, b, n);
  c->n = (uint32_t)n;
  c->gap = gap;
}

/* File format: "NNFDIFF1", u32 chunk count, then per chunk u32 n, u32 gap, n bytes. */
static int sess_save(const session *s, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  uint8_t h[8];
  fwrite("NNFDIFF1", 1, 8, f);
  nnfp_put32(h, (uint32_t)s->n);
  fwrite(h, 1, 4, f);
  for (size_t i = 0; i < s->n; i++) {
    nnfp_put32(h, s->c[i].n);
    nnfp_put32(h + 4, s->c[i].gap);
    fwrite(h, 1, 8, f);
    fwrite(s->c[i].b, 1, s->c[i].n, f);
  }
  return fclose(f);
}

static int sess_load(session *s, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t h[8];
  int rc = -1;
  if (fread(h, 1, 8, f) != 8 || memcmp(h, "NNFDIFF1", 8) != 0 || fread(h, 1, 4, f) != 4) goto out;
  uint32_t n = nnfp_get32(h);
  for (uint32_t i = 0; i < n; i++) {
    if (fread(h, 1, 8, f) != 8) goto out;
    uint32_t len = nnfp_get32(h), gap = nnfp_get32(h + 4);
    if (len > (1u << 24)) goto out;
    uint8_t *b = xrealloc(NULL, len);
    if (fread(b, 1, len, f) != len) {
      free(b);
      goto out;
    }
    sess_add(s, b, len, gap);
    free(b);
  }
  rc = 0;
out:
  fclose(f);
  return rc;
}

static uint8_t rtl_out[1 << 22];

/* ---- the link: how a session's bytes reach the device ---------------------------- */

/* The transport under a session, one code path for the rest:
 *   stream  nnf_core's byte port directly (valid/ready, a byte a cycle; gaps
 *           exact to the cycle);
 *   uart    the UART board device (nnf_dev_uart: nnf_uart + nnf_core)
 *           behind a bit-level peer at the adapter's divider: start bit,
 *           8 data bits, stop bit, `div` cycles each, and now and then up
 *           to 3 bits of extra idle between characters; the answers are
 *           decoded from the device's transmit line. No flow control: a
 *           byte the adapter's FIFO cannot take is lost (its error light,
 *           watched every cycle, fails the session);
 *   ft245   nnf_ft245 + nnf_core (tests/boards/tb_ft245_core.v) behind a cycle-level
 *           model of the FT2232H bridge in synchronous FIFO mode: bytes
 *           offered on RXF# / taken with OE# then RD#, answers taken on
 *           TXE# / WR#, random RXF# and TXE# gaps of 1..20 cycles, the bus
 *           protocol checked every cycle.
 * Time is device cycles on every link (the UART's bit is `div` cycles of
 * the core's clock; the bridge's FIFO clock is the core's). The pacing is
 * random but reproducible: reseeded per chunk from the chunk's contents, so
 * a replayed (or minimised) session paces its chunks as the run that saved
 * it did. */
enum { LINK_STREAM, LINK_UART, LINK_FT245 };
static const char *const link_names[] = {"stream", "uart", "ft245"};

enum { FT_GAP_MAX = 20 };  /* the bridge's RXF# / TXE# gaps, cycles */

typedef struct {
  int kind;
  unsigned div;          /* uart: cycles per bit */
  nnfsim_core *core;
  nnfb_uart *uart;
  nnfb_ft245 *ft;
  nnf_rng r;             /* pacing (wire_pace) */
  uint8_t *out;          /* the answer bytes as received */
  size_t cap, n;
  uint64_t cyc;          /* cycles run (uart, ft245; the stream asks the core) */
  char err[256];         /* the first link-level fault */
  int txd, rx_on, rx_bit; /* uart: the device's line, the peer's receiver */
  int run_seen;          /* uart: the run light was on in this character */
  uint64_t chars_running; /* uart: characters sent while a program ran */
  unsigned rx_cnt, rx_sh;
  const uint8_t *q;      /* ft245: host bytes the bridge still offers */
  size_t nq;
  int ft_drives, rxf_hold, txe_hold;
} wire;

/* The most cycles one input byte takes on the wire, and one answer byte
 * (for the hang bound): the stream's are the bound's own allowance. */
static uint64_t wire_byte_cycles(int kind, unsigned div) {
  return kind == LINK_UART ? 13ull * div : kind == LINK_FT245 ? FT_GAP_MAX + 12 : 0;
}

static void wire_fault(wire *w, const char *msg, uint64_t at) {
  if (!w->err[0]) snprintf(w->err, sizeof w->err, "%s link: %s (cycle %llu)", link_names[w->kind], msg,
                           (unsigned long long)at);
}

static void wire_put(wire *w, uint8_t b) {
  if (w->n < w->cap) w->out[w->n++] = b;
  else wire_fault(w, "answer buffer full", w->cyc);
}

static int wire_open(wire *w, int kind, unsigned div, uint8_t *out, size_t cap) {
  memset(w, 0, sizeof *w);
  w->kind = kind;
  w->div = div;
  w->out = out;
  w->cap = cap;
  w->txd = 1;
  w->r = nnf_rng_seed(1);
  if (kind == LINK_UART) w->uart = nnfb_uart_create(div);
  else if (kind == LINK_FT245) w->ft = nnfb_ft245_create();
  else w->core = nnfsim_core_create();
  return w->uart || w->ft || w->core ? 0 : -1;
}

static void wire_close(wire *w) {
  if (w->uart) nnfb_uart_destroy(w->uart);
  if (w->ft) nnfb_ft245_destroy(w->ft);
  if (w->core) nnfsim_core_destroy(w->core);
  w->uart = NULL;
  w->ft = NULL;
  w->core = NULL;
}

static uint64_t wire_cycles(const wire *w) { return w->core ? nnfsim_core_cycles(w->core) : w->cyc; }

/* Reseed the pacing from a chunk (FNV-1a over its gap and bytes). */
static void wire_pace(wire *w, const uint8_t *b, uint32_t n, uint32_t gap) {
  uint64_t h = 0xcbf29ce484222325ull ^ gap;
  for (uint32_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  w->r = nnf_rng_seed(h);
}

static uint32_t wire_rnd(wire *w, uint32_t n) { return n ? (uint32_t)(nnf_rng_u64(&w->r) % n) : 0; }

/* uart: one cycle with the line at rxd; the peer samples the device's txd
 * in the middle of each bit (the device sends at exactly `div`). */
static void uart_tick(wire *w, int rxd) {
  const int v = w->txd; /* the level during this cycle */
  if (!w->rx_on && !v) {
    w->rx_on = 1;
    w->rx_cnt = 0;
    w->rx_bit = 0;
    w->rx_sh = 0;
  }
  if (w->rx_on) {
    if (w->rx_cnt == (unsigned)w->rx_bit * w->div + w->div / 2) {
      if (w->rx_bit == 0 && v) {
        w->rx_on = 0;
        wire_fault(w, "a start bit under half a bit long on the device's txd", w->cyc);
      } else if (w->rx_bit >= 1 && w->rx_bit <= 8) {
        w->rx_sh |= (unsigned)v << (w->rx_bit - 1);
      } else if (w->rx_bit == 9) {
        if (!v) wire_fault(w, "framing error on the device's txd (stop bit low)", w->cyc);
        wire_put(w, (uint8_t)w->rx_sh);
        w->rx_on = 0;
      }
      w->rx_bit++;
    }
    w->rx_cnt++;
  }
  w->txd = nnfb_uart_step(w->uart, rxd);
  if (nnfb_uart_leds(w->uart) & 4u) w->run_seen = 1;
  if (nnfb_uart_leds(w->uart) & 2u)
    wire_fault(w, "the adapter's error light: a received byte was lost (FIFO overrun) or misframed", w->cyc);
  w->cyc++;
}

/* uart: one character, then now and then up to 3 bits of extra idle. */
static void uart_send(wire *w, uint8_t b) {
  w->run_seen = 0;
  for (int k = 0; k < 10; k++) {
    const int level = k == 0 ? 0 : k <= 8 ? (b >> (k - 1)) & 1 : 1;
    for (unsigned i = 0; i < w->div; i++) uart_tick(w, level);
  }
  w->chars_running += w->run_seen;
  if (wire_rnd(w, 4) == 0)
    for (uint32_t i = wire_rnd(w, 3 * w->div); i > 0; i--) uart_tick(w, 1);
}

/* ft245: one cycle of the bridge (after test_ft245_link.c's model). */
static void ft_tick(wire *w) {
  const nnfb_ft245_out o = nnfb_ft245_outputs(w->ft);
  nnfb_ft245_in in;
  if (w->rxf_hold == 0 && wire_rnd(w, 41) == 0) w->rxf_hold = 1 + (int)wire_rnd(w, FT_GAP_MAX);
  if (w->txe_hold == 0 && wire_rnd(w, 41) == 0) w->txe_hold = 1 + (int)wire_rnd(w, FT_GAP_MAX);
  in.rxf_n = w->nq == 0 || w->rxf_hold > 0;
  in.txe_n = w->txe_hold > 0;
  in.d_in = w->ft_drives && w->nq ? w->q[0] : 0xEE;
  if (o.d_oe && w->ft_drives) wire_fault(w, "bus contention (the FPGA drives while OE# is low)", w->cyc);
  if (!o.rd_n && !in.rxf_n) {
    if (!w->ft_drives) wire_fault(w, "RD# low without OE# low the cycle before", w->cyc);
    w->q++;
    w->nq--;
  }
  if (!o.wr_n && !in.txe_n) {
    if (!o.d_oe) wire_fault(w, "WR# low while the FPGA does not drive the bus", w->cyc);
    wire_put(w, (uint8_t)o.d_out);
  }
  w->ft_drives = !o.oe_n;
  nnfb_ft245_step(w->ft, &in);
  if (w->rxf_hold) w->rxf_hold--;
  if (w->txe_hold) w->txe_hold--;
  w->cyc++;
}

/* Send n bytes: returns the cycles spent; *used = the bytes the device (the
 * stream port, or the FT245 adapter) took within `bound` cycles (a UART
 * cannot refuse: all of them, in n characters' time). */
static uint64_t wire_send(wire *w, const uint8_t *b, uint32_t n, uint64_t bound, size_t *used) {
  uint64_t spent = 0;
  *used = 0;
  if (w->kind == LINK_STREAM) {
    while (*used < n && spent < bound)
      spent += nnfsim_core_run(w->core, b, n, used, w->out, w->cap, &w->n, bound - spent,
                               NNFSIM_RUN_UNTIL_TAKEN);
  } else if (w->kind == LINK_UART) {
    const uint64_t c0 = w->cyc;
    for (uint32_t i = 0; i < n; i++) uart_send(w, b[i]);
    *used = n;
    spent = w->cyc - c0;
  } else {
    w->q = b;
    w->nq = n;
    while (w->nq && spent < bound) {
      ft_tick(w);
      spent++;
    }
    *used = n - w->nq;
    w->q = NULL;
    w->nq = 0;
  }
  return spent;
}

/* The line idle (nothing offered) for exactly `cycles` cycles; answers are
 * still received. */
static uint64_t wire_idle(wire *w, uint64_t cycles) {
  if (w->kind == LINK_STREAM) {
    size_t none = 0;
    return nnfsim_core_run(w->core, NULL, 0, &none, w->out, w->cap, &w->n, cycles, 0);
  }
  for (uint64_t i = 0; i < cycles; i++) {
    if (w->kind == LINK_UART) uart_tick(w, 1);
    else ft_tick(w);
  }
  return cycles;
}

/* ---- the device's configuration (from the core's INFO) ---------------------- */

typedef struct {
  nnfm_device_config cfg;
  uint32_t rows;
  uint64_t act_bytes, w_bytes, p_bytes, prog_bytes, state_bytes;
  uint32_t timeout;
  int link;              /* LINK_* the sessions run over */
  unsigned div;          /* uart: cycles per bit */
  int actw;              /* FEAT_ACTW (the model's cfg.row gives ROW and ACTW together) */
} devinfo;

/* INFO over the link the sessions will use. */
static int read_info(devinfo *di, int link, unsigned div) {
  wire w;
  if (wire_open(&w, link, div, rtl_out, sizeof rtl_out) != 0) return -1;
  uint8_t f[64];
  size_t n = nnfp_encode(f, NNFP_INFO, 1, 0, NULL, 0), used = 0;
  const size_t want = nnfp_frame_size(NNFP_INFO_BYTES);
  const uint64_t bound = 100000 + 2 * (want + n) * wire_byte_cycles(link, div);
  wire_send(&w, f, (uint32_t)n, bound, &used);
  for (uint64_t waited = 0; w.n < want && waited < bound;) waited += wire_idle(&w, 64);
  wire_idle(&w, 1000 + 20ull * wire_byte_cycles(link, div)); /* nothing more may come */
  const size_t got = w.n;
  const int fault = w.err[0] != 0;
  if (fault) fprintf(stderr, "nnf_difffuzz: INFO: %s\n", w.err);
  wire_close(&w);
  if (fault || got != want || nnfp_hdr_get_type(rtl_out) != NNFP_OK(NNFP_INFO)) return -1;
  const uint8_t *r = rtl_out + NNFP_HDR_BYTES;
  memset(di, 0, sizeof *di);
  di->link = link;
  di->div = div;
  di->cfg.engine.rows = (int)nnfp_info_get_rows(r);
  di->cfg.engine.cols = (int)nnfp_info_get_cols(r);
  di->cfg.vec_serial = (nnfp_info_get_features(r) & NNFP_FEAT_VEC_SERIAL) != 0;
  di->cfg.engine.act_words = nnfp_info_get_act_words(r);
  di->cfg.engine.w_words = nnfp_info_get_w_words(r);
  di->cfg.engine.p_words = nnfp_info_get_p_words(r);
  di->cfg.engine.acc_depth = nnfp_info_get_acc_depth(r);
  di->cfg.prog_words = nnfp_info_get_prog_words(r);
  di->cfg.max_payload = nnfp_info_get_max_payload(r);
  di->cfg.timeout_cycles = nnfp_info_get_timeout_cycles(r);
  di->cfg.clock_hz = nnfp_info_get_clock_hz(r);
  di->cfg.config_id = nnfp_info_get_config_id(r);
  di->cfg.state_words = nnfp_info_get_state_words(r);
  di->cfg.conv = (nnfp_info_get_features(r) & NNFP_FEAT_CONV) != 0;
  di->cfg.ew = (nnfp_info_get_features(r) & NNFP_FEAT_EW) != 0;
  di->cfg.row = (nnfp_info_get_features(r) & NNFP_FEAT_ROW) != 0;
  di->cfg.dw = (nnfp_info_get_features(r) & NNFP_FEAT_DW) != 0;
  di->actw = (nnfp_info_get_features(r) & NNFP_FEAT_ACTW) != 0;
  if (di->actw != di->cfg.row) return -1; /* the model has the two together (nnfm_device_config row) */
  di->cfg.rel = (nnfp_info_get_features(r) & NNFP_FEAT_REL) != 0;
  di->cfg.tfl_round = (nnfp_info_get_features(r) & NNFP_FEAT_TFL_ROUND) != 0;
  di->cfg.engine.luts = nnfp_info_get_luts(r) ? nnfp_info_get_luts(r) : 1;
  di->cfg.banks = (nnfp_info_get_features(r) & NNFP_FEAT_BANKS) ? nnfp_info_get_banks(r) : 0;
  di->rows = nnfp_info_get_rows(r);
  di->act_bytes = (uint64_t)di->cfg.engine.act_words * di->rows;
  di->w_bytes = (uint64_t)di->cfg.engine.w_words * di->rows;
  di->p_bytes = (uint64_t)di->cfg.engine.p_words * di->rows * 16;
  di->prog_bytes = (uint64_t)di->cfg.prog_words * NNFP_INSN_BYTES;
  di->state_bytes = (uint64_t)di->cfg.state_words * NNFP_STATE_BYTES;
  di->timeout = di->cfg.timeout_cycles;
  return 0;
}

/* ---- running one session on both --------------------------------------------- */

static char fail_msg[4096];

/* What the sessions exercised (printed at the end): answers by kind, and the
 * model's program statistics. */
static struct {
  uint64_t ok, err[16], timeouts_hdr, frames, bytes_in, bytes_out;
  uint64_t bank_sessions, bwaits, bposts, bank_waits, refused_banks, wp_writes_running;
  uint64_t gaps_short, gaps_long, act_writes_running, chars_running, held;
  uint64_t insns, refused_gemms, refused_lifs, gemm_rows, lif_updates;
  uint64_t convs, pools, refused_convs, refused_pools, packs, refused_packs, ews, refused_ews;
  uint64_t rows, refused_rows, actws, refused_actws, dwconvs, refused_dwconvs;
} cov;

static int failf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
  va_end(ap);
  return 1;
}

static void hex(char *dst, size_t cap, const uint8_t *p, size_t n) {
  size_t o = 0;
  dst[0] = 0;
  for (size_t i = 0; i < n && o + 4 < cap; i++) o += (size_t)snprintf(dst + o, cap - o, "%02x ", p[i]);
}

/* Answers split into frames: offsets of each frame in a byte stream. */
typedef struct {
  size_t off[4096];
  int n;
  size_t used; /* bytes of complete frames */
} framing;

/* Answers follow each other with nothing between them: each frame starts
 * where the one before ended. -1 on a bad header or CRC, or bytes between. */
static int split_frames(const uint8_t *b, size_t n, framing *fr) {
  static uint8_t pl[65536];
  nnfp_parser p;
  nnfp_parser_init(&p, pl, 65535);
  fr->n = 0;
  fr->used = 0;
  for (size_t i = 0; i < n; i++) {
    nnfp_parse_event ev = nnfp_parse_byte(&p, b[i]);
    if (ev == NNFP_PARSE_BAD_HDR) return -1;
    if (ev == NNFP_PARSE_FRAME) {
      if (!p.crc_ok || fr->n >= 4096) return -1;
      if (i + 1 - nnfp_frame_size(p.h.len) != fr->used) return -1;
      fr->off[fr->n++] = fr->used;
      fr->used = i + 1;
    }
  }
  return 0;
}

typedef struct {
  int running;         /* a program may still run on the RTL */
  int ref_pending;     /* the running program is one the model refused (STATUS error 7) */
  int err_uncertain;   /* STATUS's last error: the RTL's refusal may not have happened yet */
  int err_stuck;       /* an error frame raced the refusal: uncertain until the next error */
  int macs_uncertain;  /* COUNTERS' MACs were cleared while a program ran */
  uint64_t pending;    /* cycle bound of the program work not yet synchronised */
} track;

/* Cycles a serial vector stage spends on each lane of an output row: 1 with
 * VEC_SERIAL = 1, the fabric requantizer's 17 with VEC_SERIAL = 2 (INFO says
 * only "serial"; tests/diff/CMakeLists.txt defines it per configuration). */
#ifndef NNF_DIFF_VEC_LANE_CYCLES
#define NNF_DIFF_VEC_LANE_CYCLES 1
#endif

/* A bound on the cycles the model's program work since `a` takes on the RTL:
 * with a serial vector stage, the output rows are spaced R lanes apart, and
 * each tile's last row drains through it as well. */
static uint64_t work_bound(const devinfo *di, nnfm_device_stats a, nnfm_device_stats b) {
  uint64_t R = di->rows, per_vec_row = di->cfg.vec_serial ? R * NNF_DIFF_VEC_LANE_CYCLES + 2 : 0;
  return 2000 + 200 * (b.insns - a.insns) + 2 * (b.gemm_rows - a.gemm_rows) +
         per_vec_row * (b.vec_rows - a.vec_rows) +
         (4 * R + 64 + per_vec_row) * (b.gemm_tiles - a.gemm_tiles) + 16 * (b.lif_updates - a.lif_updates) +
         (R + 4) * (b.ew_words - a.ew_words) + (3 * R + 180) * (b.row_words - a.row_words) +
         16 * (b.actw_words - a.actw_words) + 16 * (b.dw_words - a.dw_words);
}

/* Compare one answer frame (RTL vs model) with the masks of the header's doc. */
static int compare_frame(const uint8_t *r, const uint8_t *m, size_t len, const track *t,
                         size_t chunk_i, int frame_i) {
  size_t plen = nnfp_hdr_get_len(m);
  if (memcmp(r, m, NNFP_HDR_BYTES) != 0) {
    char a[200], b[200];
    hex(a, sizeof a, r, NNFP_HDR_BYTES);
    hex(b, sizeof b, m, NNFP_HDR_BYTES);
    return failf("chunk %zu answer %d: header differs\n  rtl:   %s\n  model: %s", chunk_i, frame_i, a, b);
  }
  uint8_t mask[65536];
  memset(mask, 0, plen);
  uint8_t type = (uint8_t)nnfp_hdr_get_type(m);
  if (type == NNFP_OK(NNFP_COUNTERS) && plen == NNFP_COUNTERS_BYTES) {
    memset(mask + NNFP_COUNTERS_CYCLES_OFS, 1, NNFP_COUNTERS_CYCLES_SIZE);
    memset(mask + NNFP_COUNTERS_BUSY_OFS, 1, NNFP_COUNTERS_BUSY_SIZE);
    memset(mask + NNFP_COUNTERS_STALL_OFS, 1, NNFP_COUNTERS_STALL_SIZE);
    if (t->running || t->macs_uncertain) memset(mask + NNFP_COUNTERS_MACS_OFS, 1, NNFP_COUNTERS_MACS_SIZE);
  } else if (type == NNFP_OK(NNFP_STATUS) && plen == NNFP_STATUS_BYTES) {
    if (t->running) {
      memset(mask + NNFP_STATUS_RUNNING_OFS, 1, NNFP_STATUS_RUNNING_SIZE);
      memset(mask + NNFP_STATUS_PC_OFS, 1, NNFP_STATUS_PC_SIZE);
    }
    if (t->err_uncertain) mask[NNFP_STATUS_LAST_ERROR_OFS] = 1;
  }
  const uint8_t *rp = r + NNFP_HDR_BYTES, *mp = m + NNFP_HDR_BYTES;
  for (size_t i = 0; i < plen; i++)
    if (!mask[i] && rp[i] != mp[i]) {
      char a[400], b[400];
      size_t lo = i >= 8 ? i - 8 : 0, n = plen - lo < 32 ? plen - lo : 32;
      hex(a, sizeof a, rp + lo, n);
      hex(b, sizeof b, mp + lo, n);
      return failf("chunk %zu answer %d (type %02x, %zu bytes): payload byte %zu differs\n"
                   "  rtl   [%zu..]: %s\n  model [%zu..]: %s",
                   chunk_i, frame_i, type, plen, i, lo, a, lo, b);
    }
  (void)len;
  return 0;
}

/* The host side's view of what the model executed: the same parser and
 * timeouts as the model, fed the same bytes (for RESET's argument). */
typedef struct {
  nnfp_parser p;
  uint8_t pl[65536];
  nnfp_header ex[4096]; /* the frames executed (answered) in this chunk, in order */
  int nex;
} shadow;

static void shadow_feed(shadow *s, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (nnfp_parse_byte(&s->p, b[i]) == NNFP_PARSE_FRAME && s->nex < 4096) s->ex[s->nex++] = s->p.h;
}

static void shadow_timeout(shadow *s) {
  if (!nnfp_parser_in_frame(&s->p)) return;
  if (nnfp_parser_in_payload(&s->p) && s->nex < 4096) s->ex[s->nex++] = s->p.h;
  nnfp_parser_reset(&s->p);
}

/* Run a session; 0 = agree, 1 = differ (fail_msg says how). */
static int run_session(const devinfo *di, const session *s, uint64_t *cycles_out) {
  static wire w;
  nnfm_device *m = nnfm_device_create(&di->cfg);
  if (wire_open(&w, di->link, di->div, rtl_out, sizeof rtl_out) != 0 || !m) {
    fprintf(stderr, "nnf_difffuzz: cannot create the device\n");
    exit(2);
  }
  static uint8_t mod_out[1 << 22];
  static shadow sh;
  nnfp_parser_init(&sh.p, sh.pl, di->cfg.max_payload);
  sh.nex = 0;
  const uint64_t bc = wire_byte_cycles(di->link, di->div);
  size_t mod_n = 0, cmp_done = 0; /* bytes of both streams compared; the RTL's: w.n */
  int frames_done = 0, rc = 0;
  track t;
  memset(&t, 0, sizeof t);
  fail_msg[0] = 0;
  /* after the last chunk the line stays idle (past the timeout): nothing
   * more may come, a frame left open is abandoned on both sides */
  const chunk tail = {NULL, 0, (uint32_t)(2ull * di->timeout + 1000 + 20 * bc)};
  for (size_t ci = 0; ci <= s->n && rc == 0; ci++) {
    const chunk *ch = ci < s->n ? &s->c[ci] : &tail;
    nnfm_device_stats st0 = nnfm_device_get_stats(m);
    /* the model */
    nnfm_device_rx(m, ch->b, ch->n);
    shadow_feed(&sh, ch->b, ch->n);
    if (GAP(ch) >= di->timeout && nnfm_device_in_frame(m)) {
      nnfm_device_idle_timeout(m);
      shadow_timeout(&sh);
    }
    mod_n += nnfm_device_tx(m, mod_out + mod_n, sizeof mod_out - mod_n);
    nnfm_device_stats st1 = nnfm_device_get_stats(m);
    uint64_t work = work_bound(di, st0, st1);
    /* the RTL: the bytes over the link, then exactly `gap` idle cycles on
     * the wire (bc: the link's cycles per byte, either way) */
    uint64_t bound = 20000 + (64 + bc) * ch->n + bc * (mod_n - cmp_done) + t.pending + work;
    size_t used = 0;
    cov.bytes_in += ch->n;
    if (GAP(ch) && ch != &tail) {
      if (GAP(ch) < di->timeout) cov.gaps_short++;
      else cov.gaps_long++;
    }
    wire_pace(&w, ch->b, ch->n, ch->gap);
    uint64_t spent = wire_send(&w, ch->b, ch->n, bound, &used);
    if (used < ch->n) {
      rc = failf("chunk %zu: the RTL took %zu of %u bytes in %llu cycles (hang)", ci, used, ch->n,
                 (unsigned long long)spent);
      break;
    }
    if (GAP(ch)) wire_idle(&w, GAP(ch));
    /* then, unless the model waits inside a frame, until the answers are out */
    if (!nnfm_device_in_frame(m) && !(ch->gap & NOWAIT)) {
      uint64_t waited = 0;
      while (w.n < mod_n && waited < bound && !w.err[0]) waited += wire_idle(&w, 64);
      if (w.err[0]) {
        rc = failf("chunk %zu: %s", ci, w.err);
        break;
      }
      if (w.n < mod_n) {
        rc = failf("chunk %zu: the RTL sent %zu answer bytes, the model %zu, after %llu cycles "
                   "(bound %llu): an answer is missing or the device hangs",
                   ci, w.n - cmp_done, mod_n - cmp_done, (unsigned long long)waited,
                   (unsigned long long)bound);
        break;
      }
    }
    if (w.err[0]) {
      rc = failf("chunk %zu: %s", ci, w.err);
      break;
    }
    const size_t rtl_n = w.n;
    /* compare the complete frames so far */
    if (rtl_n > mod_n) {
      char a[200];
      hex(a, sizeof a, rtl_out + mod_n, rtl_n - mod_n < 48 ? rtl_n - mod_n : 48);
      rc = failf("chunk %zu: the RTL sent %zu bytes more than the model: %s", ci, rtl_n - mod_n, a);
      break;
    }
    if (rtl_n == mod_n && rtl_n > cmp_done) {
      framing fr_r, fr_m;
      if (split_frames(rtl_out + cmp_done, rtl_n - cmp_done, &fr_r) != 0 ||
          fr_r.used != rtl_n - cmp_done) {
        rc = failf("chunk %zu: the RTL's answers are not well-formed frames (bad CRC or header)", ci);
        break;
      }
      split_frames(mod_out + cmp_done, mod_n - cmp_done, &fr_m);
      if (fr_m.n != sh.nex) {
        fprintf(stderr, "nnf_difffuzz: internal: %d model answers for %d frames\n", fr_m.n, sh.nex);
        exit(2);
      }
      if (fr_r.n != fr_m.n) {
        rc = failf("chunk %zu: %d answers from the RTL, %d from the model", ci, fr_r.n, fr_m.n);
        break;
      }
      int refused = st1.refused_gemms + st1.refused_lifs + st1.refused_convs + st1.refused_pools +
                        st1.refused_packs + st1.refused_ews + st1.refused_rows + st1.refused_actws + st1.refused_banks + st1.refused_dwconvs !=
                    st0.refused_gemms + st0.refused_lifs + st0.refused_convs + st0.refused_pools +
                        st0.refused_packs + st0.refused_ews + st0.refused_rows + st0.refused_actws + st0.refused_banks + st0.refused_dwconvs;
      for (int f = 0; f < fr_m.n && rc == 0; f++) {
        const uint8_t *mf = mod_out + cmp_done + fr_m.off[f];
        const uint8_t *rf = rtl_out + cmp_done + fr_r.off[f];
        uint8_t type = (uint8_t)nnfp_hdr_get_type(mf);
        const nnfp_header *req = &sh.ex[f];
        rc = compare_frame(rf, mf, nnfp_frame_size(nnfp_hdr_get_len(mf)), &t, ci, frames_done + f);
        cov.frames++;
        if (type == NNFP_ERR) cov.err[nnfp_err_get_code(mf + NNFP_HDR_BYTES) & 15]++;
        else cov.ok++;
        /* what the answer tells about the program (docs/protocol.md: READ,
         * WAIT and a WRITE outside ACT (with banks: outside ACT, W and P)
         * run once the program is quiet: finished, or waiting at a BANK
         * acquire with its work done, as the model's is) */
        const unsigned wreg = nnfp_arg_region_of(req->arg);
        const int wr_running = wreg == NNFP_REGION_ACT ||
                               (di->cfg.banks && (wreg == NNFP_REGION_W || wreg == NNFP_REGION_P));
        if (type == NNFP_OK(NNFP_WRITE) && wreg == NNFP_REGION_ACT && t.running)
          cov.act_writes_running++;
        if (type == NNFP_OK(NNFP_WRITE) && wr_running && wreg != NNFP_REGION_ACT && t.running)
          cov.wp_writes_running++;
        if (type == NNFP_OK(NNFP_BWAIT) || (type == NNFP_ERR && req->type == NNFP_BWAIT)) cov.bwaits++;
        if (type == NNFP_OK(NNFP_BPOST)) cov.bposts++;
        int sync = type == NNFP_OK(NNFP_RUN) || type == NNFP_OK(NNFP_WAIT) ||
                   type == NNFP_OK(NNFP_READ) || (type == NNFP_OK(NNFP_WRITE) && !wr_running);
        if (sync && t.running && type != NNFP_OK(NNFP_WRITE)) cov.held++;
        if (sync) { /* the program before has finished: its refusal has happened */
          if (t.ref_pending && !t.err_stuck) t.err_uncertain = 0;
          t.running = 0;
          t.ref_pending = 0;
          t.pending = 0;
        }
        if (type == NNFP_OK(NNFP_RUN)) {
          t.running = 1;
          t.ref_pending = refused;
          if (refused) t.err_uncertain = 1; /* the model has set error 7; the RTL will */
        } else if (type == NNFP_OK(NNFP_BPOST)) { /* a waiting program may go on */
          t.running = 1;
          if (refused) t.ref_pending = t.err_uncertain = 1;
        } else if (type == NNFP_ERR) {
          int race = t.running && t.ref_pending;
          t.err_uncertain = race;
          t.err_stuck = race;
        } else if (type == NNFP_OK(NNFP_RESET) && (req->arg & 1u)) {
          t.macs_uncertain = t.running;
        }
      }
      frames_done += fr_m.n;
      cmp_done = rtl_n;
      sh.nex = 0; /* every executed frame so far has been answered and compared */
    }
    if (st1.insns != st0.insns) t.pending += work;
  }
  if (cycles_out) *cycles_out = wire_cycles(&w);
  cov.bytes_out += w.n;
  cov.chars_running += w.chars_running;
  nnfm_device_stats sf = nnfm_device_get_stats(m);
  cov.insns += sf.insns;
  cov.refused_gemms += sf.refused_gemms;
  cov.refused_lifs += sf.refused_lifs;
  cov.convs += sf.convs;
  cov.pools += sf.pools;
  cov.refused_convs += sf.refused_convs;
  cov.refused_pools += sf.refused_pools;
  cov.packs += sf.packs;
  cov.refused_packs += sf.refused_packs;
  cov.ews += sf.ews;
  cov.refused_ews += sf.refused_ews;
  cov.rows += sf.rows;
  cov.dwconvs += sf.dwconvs;
  cov.refused_dwconvs += sf.refused_dwconvs;
  cov.refused_rows += sf.refused_rows;
  cov.actws += sf.actws;
  cov.refused_actws += sf.refused_actws;
  cov.bank_waits += sf.bank_waits;
  cov.refused_banks += sf.refused_banks;
  cov.gemm_rows += sf.gemm_rows;
  cov.lif_updates += sf.lif_updates;
  wire_close(&w);
  nnfm_device_destroy(m);
  return rc;
}

/* ---- the generator -------------------------------------------------------------- */

typedef struct {
  nnf_rng r;
  const devinfo *di;
  session *s;
  uint8_t seq;
  int running;     /* the generator's conservative view: a program may run */
  int clean_prog;  /* the program in PROG touches only the lower half of ACT */
  int paced;       /* gaps clearly off the receive timeout (gen_paced) */
  uint32_t pace;   /* paced: the most idle cycles the link itself puts between two bytes */
  int noflow;      /* the link has no flow control: WAIT before a WRITE that would wait */
  /* bank sessions: banks 0 .. nb-1 own W words [b*wb, (b+1)*wb) and P
   * entries [b*pb, (b+1)*pb) (docs/protocol.md, Banks) */
  uint32_t nb, wb, pb;
} gen;

static uint32_t rnd(gen *g, uint32_t n) { return n ? (uint32_t)(nnf_rng_u64(&g->r) % n) : 0; }
static int chance(gen *g, unsigned pct) { return rnd(g, 100) < pct; }

static size_t frame(gen *g, uint8_t *out, uint8_t type, uint32_t arg, const uint8_t *pl, uint32_t len) {
  return nnfp_encode(out, type, g->seq++, arg, pl, (uint16_t)len);
}

static void emit(gen *g, const uint8_t *b, size_t n, uint32_t gap) { sess_add(g->s, b, n, gap); }

static void emit_write(gen *g, unsigned region, uint32_t addr, const uint8_t *pl, uint32_t len) {
  static uint8_t f[70000];
  /* a WRITE outside ACT holds its payload at the receiver until the
   * program has finished: on a link without flow control those bytes
   * would be lost, so WAIT first, as the driver does (docs/protocol.md) */
  const int taken = region == NNFP_REGION_ACT ||
                    (g->di->cfg.banks && (region == NNFP_REGION_W || region == NNFP_REGION_P));
  if (g->noflow && !taken && g->running) {
    emit(g, f, frame(g, f, NNFP_WAIT, 0, NULL, 0), 0);
    g->running = 0;
  }
  emit(g, f, frame(g, f, NNFP_WRITE, (region << NNFP_ARG_REGION_LSB) | addr, pl, len), 0);
  if (!taken) g->running = 0;
}

/* WAIT, intact: once answered the program is quiet */
static void wait_quiet(gen *g) {
  static uint8_t f[64];
  emit(g, f, frame(g, f, NNFP_WAIT, 0, NULL, 0), 0);
  g->running = 0;
}

/* Silences around the receive timeout T. Exact (the stream link): T - 1,
 * T, T + 1 idle cycles, and the next frame in the very cycle the timeout
 * fires. Paced (the UART and FT245 links, where a gap is measured on the
 * wire and the link adds its own idle between bytes): clearly shorter,
 * at most T/2 cycles between two bytes reaching the core with the link's
 * own pace counted in, or clearly longer, at least 2T. */
static uint32_t gap_short(gen *g) {
  uint32_t T = g->di->timeout;
  return g->paced ? rnd(g, T / 2 - g->pace + 1) : rnd(g, T / 2);
}

static uint32_t gap_long(gen *g) {
  uint32_t T = g->di->timeout;
  return g->paced ? 2 * T + rnd(g, T) : 2 * T;
}

static uint64_t region_bytes(const devinfo *di, unsigned region) {
  switch (region) {
  case 0: return di->act_bytes;
  case 1: return di->w_bytes;
  case 2: return di->p_bytes;
  case 3: return 256u * (di->cfg.engine.luts ? di->cfg.engine.luts : 1);
  case 4: return di->prog_bytes;
  case 5: return di->state_bytes;
  default: return 0;
  }
}

/* Write [addr, addr + n) of a region with random or given bytes, in payload-sized frames. */
static void write_region(gen *g, unsigned region, uint64_t addr, uint64_t n, const uint8_t *src) {
  static uint8_t buf[65536];
  uint32_t mp = g->di->cfg.max_payload;
  while (n) {
    uint32_t k = n < mp ? (uint32_t)n : mp;
    if (src) memcpy(buf, src, k);
    else nnf_rng_fill(&g->r, buf, k);
    emit_write(g, region, (uint32_t)addr, buf, k);
    addr += k;
    n -= k;
    if (src) src += k;
  }
}

/* P entries: valid (m0 in [2^30, 2^31), shift -31..30, mostly small) or not. */
static void wait_quiet(gen *g);

static void gen_params(gen *g, int bad_pct) {
  const devinfo *di = g->di;
  /* with banks a P write is taken while the program runs: wait for it first */
  if (di->cfg.banks && g->running) wait_quiet(g);
  uint64_t slots = (uint64_t)di->cfg.engine.p_words * di->rows;
  uint8_t *p = calloc(slots, NNFP_P_BYTES);
  for (uint64_t i = 0; i < slots; i++) {
    uint8_t *e = p + i * NNFP_P_BYTES;
    nnfp_p_put_bias(e, (int32_t)nnf_rng_range(&g->r, -20000, 20000));
    nnfp_p_put_m0(e, (int32_t)((1u << 30) | (nnf_rng_u32(&g->r) >> 2)));
    nnfp_p_put_shift(e, (int8_t)nnf_rng_range(&g->r, -12, -4));
    if (chance(g, bad_pct)) {
      if (chance(g, 50)) e[NNFP_P_M0_OFS + NNFP_P_M0_SIZE - 1] |= 0x80; /* m0 < 0 */
      else nnfp_p_put_shift(e, chance(g, 50) ? (int8_t)(31 + rnd(g, 97)) : (int8_t)(-32 - (int)rnd(g, 96)));
    } else if (chance(g, 10)) {
      nnfp_p_put_shift(e, chance(g, 50) ? -31 : 30);                   /* the ends */
    }
  }
  write_region(g, NNFP_REGION_P, 0, slots * NNFP_P_BYTES, p);
  free(p);
}

/* A CONV or POOL (devices with FEAT_CONV): small maps in the lower half of
 * ACT, every shape field over its range (1x1, kernel == padded input,
 * stride > kernel, EH / EW, global pools, ragged channel tiles), and now and
 * then a wild field the check must refuse exactly as the model does. */
static void gen_conv_pool(gen *g, uint8_t *in, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  const int pool = chance(g, 40), global = pool && chance(g, 25);
  /* a DWCONV (FEAT_DW): CONV's record, N = C, kernels 1..3, every window
   * with an in-map tap (now and then not: refused) */
  const int dw = !pool && di->cfg.dw && chance(g, 40);
  uint32_t c = 1 + rnd(g, 2 * R + 3), n = 1 + rnd(g, 2 * R + 3);
  uint32_t h = 1 + rnd(g, 8), w = 1 + rnd(g, 8), b = 1 + rnd(g, 3);
  uint32_t ph = rnd(g, 3), pw = rnd(g, 3), eh = chance(g, 25), ew = chance(g, 25);
  uint32_t sh = 1 + rnd(g, 4), sw = 1 + rnd(g, 4);
  uint32_t hp = h + 2 * ph + eh, wp = w + 2 * pw + ew;
  uint32_t kh = 1 + rnd(g, hp < 7 ? hp : 7), kw = 1 + rnd(g, wp < 7 ? wp : 7);
  if (dw) {
    kh = 1 + rnd(g, hp < 3 ? hp : 3), kw = 1 + rnd(g, wp < 3 ? wp : 3), n = c;
    if (chance(g, 90) && ph >= kh) ph = kh - 1;
    if (chance(g, 90) && pw >= kw) pw = kw - 1;
  }
  if (pool) { /* a pooling window always has an in-map tap: padding below the kernel */
    if (ph >= kh) ph = kh - 1;
    if (pw >= kw) pw = kw - 1;
  }
  if (global) kh = kw = 0, sh = sw = 1, ph = pw = eh = ew = 0;
  const uint32_t gkh = global ? h : kh, gkw = global ? w : kw;
  uint32_t oh = (h + 2 * ph + eh - gkh) / sh + 1, ow = (w + 2 * pw + ew - gkw) / sw + 1;
  /* a CONV with fused 2x2 max pooling (FEAT_CONV_POOL), now and then one
   * whose output is too small for it (refused) */
  const int pool2 = !pool && !dw && di->cfg.conv && ((oh >= 2 && ow >= 2) || chance(g, 10)) &&
                    chance(g, 35);
  if (pool2) oh /= 2, ow /= 2;
  const uint32_t ct = (c + R - 1) / R, nt = (pool || dw) ? ct : (n + R - 1) / R;
  uint32_t iw = ct * h * w * b, owds = nt * oh * ow * b;
  while (iw + owds > half && b > 1) b--, iw = ct * h * w * b, owds = nt * oh * ow * b;
  uint32_t a = iw + owds <= half ? rnd(g, half - iw - owds + 1) : 0;
  uint32_t o = a + iw + (iw + owds <= half ? rnd(g, half - a - iw - owds + 1) : 0);
  if (chance(g, 50) && iw + owds <= half) { uint32_t t = rnd(g, half - iw - owds + 1); o = t; a = t + owds; }
  uint32_t ww = dw ? ct * gkh * gkw : nt * gkh * gkw * ct * R, wb = ww <= di->cfg.engine.w_words ? rnd(g, di->cfg.engine.w_words - ww + 1) : 0;
  uint32_t pb = nt <= di->cfg.engine.p_words ? rnd(g, di->cfg.engine.p_words - nt + 1) : 0;
  int8_t lo = (int8_t)nnf_rng_range(&g->r, -128, 0), hi = (int8_t)nnf_rng_range(&g->r, 0, 127);
  if (chance(g, 30)) { lo = -128; hi = 127; }
  switch (chance(g, 25) ? rnd(g, 10) : 99) {
  case 0: kh = 0; break;                                   /* kernel 0 (or a global's non-zero) */
  case 1: kh = hp + 1 > 7 ? 7 : hp + 1; break;              /* larger than the padded input, maybe */
  case 2: { int8_t t = lo; lo = hi; hi = t; if (lo == hi) hi = (int8_t)(lo - 1); } break;
  case 3: a = act - rnd(g, 3); break;                       /* past the end */
  case 4: o = a + rnd(g, iw ? iw : 1); break;               /* A/O overlap */
  case 5: wb = di->cfg.engine.w_words - rnd(g, ww ? ww : 1); break;
  case 6: pb = di->cfg.engine.p_words - rnd(g, nt ? nt : 1); break;
  case 7: h = 1024; w = 1024; break;                        /* far too large */
  case 8: c = 0; break;
  case 9: ph = 7; pw = 7; break;                            /* windows of padding only */
  default: break;
  }
  if (dw && chance(g, 4)) n = c + 1 + rnd(g, 3); /* N != C */
  if (pool) {
    nnfp_pool_put_opcode(in, NNFP_OP_POOL);
    nnfp_pool_put_avg(in, rnd(g, 2));
    nnfp_pool_put_global(in, (uint32_t)global);
    nnfp_pool_put_lo(in, lo);
    nnfp_pool_put_hi(in, hi);
    nnfp_pool_put_c(in, c);
  } else {
    nnfp_conv_put_opcode(in, NNFP_OP_CONV);
    nnfp_conv_put_lut(in, rnd(g, 2));
    nnfp_conv_put_zp(in, (int32_t)nnf_rng_range(&g->r, -20, 20));
    nnfp_conv_put_lo(in, lo);
    nnfp_conv_put_hi(in, hi);
    nnfp_conv_put_zp_in(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
    nnfp_conv_put_cin(in, c);
    nnfp_conv_put_n(in, n);
    nnfp_conv_put_w_base(in, wb);
    nnfp_conv_put_p_base(in, pb);
    nnfp_conv_put_pool2(in, (uint32_t)pool2);
    if (dw) {
      nnfp_insn_put_opcode(in, NNFP_OP_DWCONV);
      nnfp_conv_put_pool2(in, rnd(g, 2)); /* reserved bits: ignored */
      nnfp_conv_put_lut_idx(in, rnd(g, 8));
    }
  }
  /* the shape fields sit where CONV's do in both records */
  nnfp_conv_put_kh(in, kh);
  nnfp_conv_put_kw(in, kw);
  nnfp_conv_put_sh_m1(in, sh - 1);
  nnfp_conv_put_sw_m1(in, sw - 1);
  nnfp_conv_put_ph(in, ph);
  nnfp_conv_put_pw(in, pw);
  nnfp_conv_put_h_m1(in, h - 1);
  nnfp_conv_put_w_m1(in, w - 1);
  nnfp_conv_put_b_m1(in, b - 1);
  nnfp_conv_put_eh(in, eh);
  nnfp_conv_put_ew(in, ew);
  nnfp_conv_put_a_base(in, a);
  nnfp_conv_put_o_base(in, o);
  /* clean unless a valid range may reach the upper half (recomputed from the fields) */
  const uint32_t hp2 = h + 2 * ph + eh, wp2 = w + 2 * pw + ew;
  const uint32_t k2h = global ? h : kh, k2w = global ? w : kw;
  if (c && k2h && k2w && k2h <= hp2 && k2w <= wp2) {
    const uint64_t ct2 = (c + R - 1) / R, nt2 = (pool || dw) ? ct2 : (n + R - 1) / R;
    const uint64_t ae = (uint64_t)a + ct2 * h * w * b;
    const uint64_t oh2 = (hp2 - k2h) / sh + 1, ow2 = (wp2 - k2w) / sw + 1;
    const uint64_t oe = (uint64_t)o + nt2 * (pool2 ? (oh2 / 2) * (ow2 / 2) : oh2 * ow2) * b;
    if (!(ae > act || oe > act) && (ae > half || oe > half)) *clean = 0;
  }
}

/* A PACK (docs/conv.md): a dense input of Cin <= rows channels folded into
 * a KW-column map, now and then with a field that refuses it. */
static void gen_pack(gen *g, uint8_t *in, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  uint32_t cin = 1 + rnd(g, R), h = 1 + rnd(g, 8), w = 1 + rnd(g, 12), b = 1 + rnd(g, 3);
  uint32_t pw = rnd(g, 4), ew = chance(g, 25), sw = 1 + rnd(g, 4);
  uint32_t wp = w + 2 * pw + ew, kw = 1 + rnd(g, wp < 7 ? wp : 7);
  if (pw >= kw) pw = kw - 1; /* usually no column of padding only */
  const uint32_t ow = (w + 2 * pw + ew - kw) / sw + 1, ct = (kw * cin + R - 1) / R;
  uint32_t iw = (h * w * b * cin + R - 1) / R, owds = ct * h * ow * b; /* the dense bytes' words */
  while (iw + owds > half && b > 1) b--, iw = (h * w * b * cin + R - 1) / R, owds = ct * h * ow * b;
  uint32_t a = iw + owds <= half ? rnd(g, half - iw - owds + 1) : 0;
  uint32_t o = a + iw + (iw + owds <= half ? rnd(g, half - a - iw - owds + 1) : 0);
  if (chance(g, 50) && iw + owds <= half) { uint32_t t = rnd(g, half - iw - owds + 1); o = t; a = t + owds; }
  switch (chance(g, 25) ? rnd(g, 9) : 99) {
  case 0: cin = 0; break;
  case 1: cin = R + 1 + rnd(g, 3); break;                  /* more channels than lanes */
  case 2: kw = 0; break;
  case 3: pw = kw + rnd(g, 2); if (pw > 7) pw = 7; break;  /* a column of padding only */
  case 4: a = act - rnd(g, 3); break;                       /* past the end */
  case 5: o = a + rnd(g, iw ? iw : 1); break;               /* A/O overlap */
  case 6: h = 1024; w = 1024; break;                        /* far too large */
  case 7: kw = 7; break;                                    /* maybe wider than the padded row */
  case 8: /* the input's end at ACT's end, or one word past it (the rounding up) */
    a = act - iw + rnd(g, 2);
    o = owds <= a ? rnd(g, a - owds + 1) : 0;
    break;
  default: break;
  }
  nnfp_pack_put_opcode(in, NNFP_OP_PACK);
  nnfp_pack_put_zp_in(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
  nnfp_pack_put_kw(in, kw);
  nnfp_pack_put_sw_m1(in, sw - 1);
  nnfp_pack_put_pw(in, pw);
  nnfp_pack_put_cin(in, cin);
  nnfp_pack_put_h_m1(in, h - 1);
  nnfp_pack_put_w_m1(in, w - 1);
  nnfp_pack_put_b_m1(in, b - 1);
  nnfp_pack_put_ew(in, ew);
  nnfp_pack_put_a_base(in, a);
  nnfp_pack_put_o_base(in, o);
  if (chance(g, 20)) { /* the bits PACK does not read: POOL's KH, SH, PH, EH, LO, HI */
    nnfp_conv_put_kh(in, rnd(g, 8));
    nnfp_conv_put_sh_m1(in, rnd(g, 4));
    nnfp_conv_put_ph(in, rnd(g, 8));
    nnfp_conv_put_eh(in, rnd(g, 2));
    nnfp_conv_put_lo(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
    nnfp_conv_put_hi(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
  }
  /* clean unless a valid range may reach the upper half */
  const uint32_t wp2 = w + 2 * pw + ew;
  if (cin && cin <= R && kw && kw <= wp2) {
    const uint64_t ae = (uint64_t)a + ((uint64_t)h * w * b * cin + R - 1) / R;
    const uint64_t oe = (uint64_t)o + (uint64_t)((kw * cin + R - 1) / R) * h * ((wp2 - kw) / sw + 1) * b;
    if (!(ae > act || oe > act) && (ae > half || oe > half)) *clean = 0;
  }
}

/* TFLite's double rounding in half the GEMMs, CONVs and EWs (FEAT_TFL_ROUND:
 * without it the device ignores the flag and rounds once, as the model does
 * with tfl_round = 0). */
static void g_round(gen *g, uint8_t *in) {
  if (!chance(g, 50)) return;
  uint32_t op = nnfp_insn_get_opcode(in);
  if (op == NNFP_OP_GEMM) nnfp_gemm_put_tfl_round(in, 1);
  else if (op == NNFP_OP_CONV) nnfp_conv_put_tfl_round(in, 1);
  else if (op == NNFP_OP_EW) nnfp_ew_put_tfl_round(in, 1);
}

/* Relative bases now and then (FEAT_REL: without it the device ignores the
 * flags); a relocated range may go anywhere, so the program is not clean. */
static void g_rel(gen *g, uint8_t *in, int *clean) {
  if (!chance(g, 25)) return;
  in[1] |= (uint8_t)(rnd(g, 4) << 6);
  if (nnfp_insn_get_opcode(in) == NNFP_OP_EW && chance(g, 50)) in[1] |= NNFP_EW_B_REL;
  if (g->di->cfg.rel && (in[1] & 0xE0)) *clean = 0;
}

/* EW (FEAT_EW): random ops, shapes, numbers and LUTs; operands in the lower
 * half of ACT (disjoint, in place, or A == B), or a wild field now and then. */
static void gen_ew(gen *g, uint8_t *in, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  uint32_t n = 1 + rnd(g, 3 * R), m = 1 + rnd(g, 10);
  if (chance(g, 4)) n = 0;
  if (chance(g, 4)) m = 0;
  uint32_t words = ((n + R - 1) / R) * m;
  if (3 * words > half) { m = 1; words = (n + R - 1) / R; }
  uint32_t a = rnd(g, half - 3 * words + 1), b = a + words, o = b + words;
  switch (rnd(g, 4)) {
  case 0: o = a; break;               /* in place over A */
  case 1: o = b; break;               /* over B */
  case 2: b = a; break;               /* A == B */
  default: break;
  }
  unsigned op = rnd(g, 4);
  int8_t lo = (int8_t)nnf_rng_range(&g->r, -128, 0), hi = (int8_t)nnf_rng_range(&g->r, 0, 127);
  if (chance(g, 30)) { lo = -128; hi = 127; }
  int shift = (int)nnf_rng_range(&g->r, -31, 30);
  if (chance(g, 60)) shift = (int)nnf_rng_range(&g->r, -24, -8); /* mostly in range of the values */
  nnfp_ew_put_opcode(in, NNFP_OP_EW);
  in[NNFP_EW_LUT_OFS] = (uint8_t)(rnd(g, 2) | rnd(g, 2) << 1 |
                                 (chance(g, 85) ? rnd(g, di->cfg.engine.luts) : rnd(g, 8)) << 2);
  nnfp_ew_put_zp(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
  nnfp_ew_put_lo(in, lo);
  nnfp_ew_put_hi(in, hi);
  nnfp_ew_put_zp_a(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
  nnfp_ew_put_zp_b(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
  nnfp_ew_put_shift(in, shift);
  nnfp_ew_put_op(in, op);
  nnfp_ew_put_nshift_s(in, chance(g, 20) ? 0 : rnd(g, 32));
  nnfp_ew_put_m0_s(in, nnf_rng_u32(&g->r) & 0x7FFFFFFFu);
  nnfp_ew_put_m0(in, chance(g, 5) ? 0 : (nnf_rng_u32(&g->r) & 0x7FFFFFFFu) | 0x40000000u);
  switch (chance(g, 25) ? rnd(g, 8) : 99) {
  case 0: nnfp_ew_put_lo(in, hi); nnfp_ew_put_hi(in, lo); if (lo == hi) nnfp_ew_put_hi(in, lo - 1); break; /* lo > hi */
  case 1: nnfp_ew_put_shift(in, chance(g, 50) ? 31 + (int)rnd(g, 97) : -32 - (int)rnd(g, 97)); break;
  case 2: a = act - rnd(g, 3); break;                                 /* past the end */
  case 3: o = a + 1 + rnd(g, words ? words : 1); break;               /* partial overlap */
  case 4: b = o + 1 + rnd(g, words ? words : 1); break;
  case 5: n = m = 65535; break;
  case 6: o = nnf_rng_u32(&g->r); break;
  case 7: b = act - rnd(g, 2) ; break;                                /* B past the end (not for MAP) */
  default: break;
  }
  nnfp_ew_put_n(in, n);
  nnfp_ew_put_m(in, m);
  nnfp_ew_put_a_base(in, a);
  nnfp_ew_put_b_base(in, b & 0xFFFFFFu);
  nnfp_ew_put_o_base(in, o);
  uint64_t w64 = (uint64_t)((n + R - 1) / R) * m;
  if (n && m && (a + w64 > half || o + w64 > half || (op != 3 && (b & 0xFFFFFFu) + w64 > half))) *clean = 0;
}

/* ROW (FEAT_ROW): SOFTMAX over rows of random lengths, the exp table in
 * whatever the LUTs hold (the sessions write them at random: hostile
 * tables), or LAYERNORM with random zero points and eps_q and whatever P
 * holds (hostile parameters: shifts out of range, either sign); operands in
 * the lower half of ACT (disjoint or in place), or a wild field now and
 * then (an unknown op, the second table without eight LUTs, N over 4095
 * (LAYERNORM: 1024), eps_q over 2^62, P past the end, past the end of ACT,
 * a partial overlap). */
static void gen_row(gen *g, uint8_t *in, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  uint32_t n = 1 + rnd(g, 3 * R), m = 1 + rnd(g, 6);
  if (chance(g, 10)) n = 1 + rnd(g, 40 * R);
  if (chance(g, 3)) n = 0;
  if (chance(g, 3)) m = 0;
  uint32_t words = ((n + R - 1) / R) * m;
  if (2 * words > half) { m = 1; words = (n + R - 1) / R; }
  if (2 * words > half) { n = R; words = 1; }
  uint32_t a = rnd(g, half - 2 * words + 1), o = chance(g, 35) ? a : a + words + rnd(g, half - a - 2 * words + 1);
  nnfp_row_put_opcode(in, NNFP_OP_ROW);
  nnfp_row_put_tbl(in, di->cfg.engine.luts >= 8 ? rnd(g, 2) : (uint32_t)chance(g, 5));
  const int ln = chance(g, 45);
  nnfp_row_put_op(in, chance(g, 95) ? (ln ? NNFP_ROWOP_LAYERNORM : NNFP_ROWOP_SOFTMAX) : 2 + rnd(g, 254));
  if (ln) {
    const uint32_t P = di->cfg.engine.p_words, ct = (n + R - 1) / R;
    nnfp_row_put_zp_in(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
    nnfp_row_put_zp_out(in, (int32_t)nnf_rng_range(&g->r, -128, 127));
    uint64_t eps = chance(g, 50) ? rnd(g, 1u << 20) : chance(g, 50) ? nnf_rng_u32(&g->r) : (uint64_t)1 << 62;
    if (chance(g, 5)) eps = ((uint64_t)1 << 62) + 1 + rnd(g, 1000); /* refused */
    nnfp_row_put_eps_hi(in, (uint32_t)(eps >> 32));
    nnfp_row_put_eps_lo(in, (uint32_t)eps);
    nnfp_row_put_p_base(in, chance(g, 95) && ct <= P ? rnd(g, P - ct + 1) : P - rnd(g, 2));
    if (n > 1024 && chance(g, 80)) n = 1 + rnd(g, 1024);
  }
  switch (chance(g, 20) ? rnd(g, 5) : 99) {
  case 0: n = 4096 + rnd(g, 61440); break;                            /* N over 4095 */
  case 1: a = act - rnd(g, 3); break;                                 /* past the end */
  case 2: o = a + 1 + rnd(g, words ? words : 1); break;               /* partial overlap */
  case 3: o = nnf_rng_u32(&g->r); break;
  case 4: n = 4095; m = 65535; break;
  default: break;
  }
  nnfp_row_put_n(in, n);
  nnfp_row_put_m(in, m);
  nnfp_row_put_a_base(in, a);
  nnfp_row_put_o_base(in, o);
  uint64_t w64 = (uint64_t)((n + R - 1) / R) * m;
  if (n && m && n <= 4095 && (a + w64 > half || o + w64 > half)) *clean = 0;
}

/* ACTW (FEAT_ACTW, with ROW): A of random shape (neither side a multiple
 * of the array, now and then) in the lower half of ACT, into W anywhere,
 * transposed or not, with the biases of P entries anywhere now and then
 * (za random); or a wild field (past the end of ACT, W or P). */
static void gen_actw(gen *g, uint8_t *in, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  const uint32_t W = di->cfg.engine.w_words, P = di->cfg.engine.p_words;
  uint32_t n = 1 + rnd(g, 3 * R), m = 1 + rnd(g, 3 * R + 2);
  if (chance(g, 3)) n = 0;
  if (chance(g, 3)) m = 0;
  const int tr = (int)rnd(g, 2), sum = chance(g, 60);
  uint32_t cx = (n + R - 1) / R, cy = (m + R - 1) / R, aw = cx * m, ww = cx * cy * R, pe = tr ? cy : cx;
  if (aw > half || ww > W || pe > P) { n = R; m = 1; cx = cy = 1; aw = 1; ww = R; pe = 1; }
  uint32_t a = rnd(g, half - aw + 1), w = rnd(g, W - ww + 1), p = rnd(g, P - pe + 1);
  switch (chance(g, 15) ? rnd(g, 4) : 99) {
  case 0: a = act - rnd(g, 3); break;                    /* past the end */
  case 1: w = W - rnd(g, ww ? ww : 1); break;
  case 2: p = P - rnd(g, pe ? pe : 1); break;
  case 3: p = nnf_rng_u32(&g->r); break;                 /* (harmless without SUM) */
  default: break;
  }
  nnfp_actw_put_opcode(in, NNFP_OP_ACTW);
  nnfp_actw_put_tr(in, (uint32_t)tr);
  nnfp_actw_put_sum(in, (uint32_t)sum);
  nnfp_actw_put_za(in, chance(g, 50) ? -128 : (int32_t)nnf_rng_range(&g->r, -128, 127));
  nnfp_actw_put_n(in, n);
  nnfp_actw_put_m(in, m);
  nnfp_actw_put_a_base(in, a);
  nnfp_actw_put_w_base(in, w);
  nnfp_actw_put_p_base(in, p);
  if (n && m && a + aw <= act && a + aw > half) *clean = 0;
}

/* One instruction. `clean`: a GEMM, LIF, CONV or POOL whose ACT ranges lie
 * in the lower half of ACT (or that the limits refuse outright), with no
 * relative base. */
static void gen_insn(gen *g, uint8_t *in, uint32_t pc, int *clean) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, act = di->cfg.engine.act_words, half = act / 2;
  memset(in, 0, NNFP_INSN_BYTES);
  unsigned kind = rnd(g, 100);
  if (di->cfg.conv && chance(g, 20)) {
    if (chance(g, 25)) gen_pack(g, in, clean);
    else gen_conv_pool(g, in, clean);
    g_round(g, in);
    g_rel(g, in, clean);
    return;
  }
  if (di->cfg.row && chance(g, 8)) {
    gen_row(g, in, clean);
    g_rel(g, in, clean);
    return;
  }
  if (di->actw && chance(g, 8)) {
    gen_actw(g, in, clean);
    g_rel(g, in, clean);
    return;
  }
  if (di->cfg.ew && chance(g, 20)) {
    gen_ew(g, in, clean);
    g_round(g, in);
    g_rel(g, in, clean);
    return;
  }
  if (kind < 40) { /* GEMM */
    uint32_t m = 1 + rnd(g, 12), k = rnd(g, 3 * R + 2), n = 1 + rnd(g, 3 * R);
    if (chance(g, 5)) m = 0;
    if (chance(g, 5)) n = 0;
    uint32_t kt = k ? (k + R - 1) / R : 1, nt = (n + R - 1) / R;
    uint32_t aw = kt * m, ow = nt * m;
    if (aw + ow > half) { m = 1; aw = kt; ow = nt; }
    uint32_t a = rnd(g, half - aw - ow + 1), o = a + aw + rnd(g, half - a - aw - ow + 1);
    if (chance(g, 50)) { uint32_t tmp = a; a = half - aw - rnd(g, 2); if (a > half) a = tmp; o = rnd(g, a >= ow ? a - ow + 1 : 1); if (o + ow > a) o = a + aw; }
    uint32_t ww = nt * kt * R, w = ww <= di->cfg.engine.w_words ? rnd(g, di->cfg.engine.w_words - ww + 1) : 0;
    uint32_t p = nt <= di->cfg.engine.p_words ? rnd(g, di->cfg.engine.p_words - nt + 1) : 0;
    int8_t lo = (int8_t)nnf_rng_range(&g->r, -128, 0), hi = (int8_t)nnf_rng_range(&g->r, 0, 127);
    if (chance(g, 20)) { lo = -128; hi = 127; }
    nnfp_gemm_put_opcode(in, NNFP_OP_GEMM);
    in[NNFP_GEMM_LUT_OFS] = (uint8_t)rnd(g, 2); /* the flags byte */
    if (di->cfg.engine.luts > 1 || chance(g, 10)) /* a LUT index, now and then one too large */
      nnfp_gemm_put_lut_idx(in, chance(g, 90) ? rnd(g, di->cfg.engine.luts ? di->cfg.engine.luts : 1) : rnd(g, 8));
    nnfp_gemm_put_zp(in, (int32_t)nnf_rng_range(&g->r, -20, 20));
    nnfp_gemm_put_lo(in, lo);
    nnfp_gemm_put_hi(in, hi);
    /* a wild field now and then: refused (or harmless), never a clean range outside */
    switch (chance(g, 30) ? rnd(g, 10) : 99) {
    case 0: nnfp_gemm_put_lo(in, hi); nnfp_gemm_put_hi(in, hi == -128 ? -128 : lo); if (lo == hi) nnfp_gemm_put_hi(in, lo - 1); break; /* lo > hi */
    case 1: m = k = n = 65535; break;
    case 2: a = act - rnd(g, 3); break;                                  /* past the end */
    case 3: o = a + rnd(g, aw ? aw : 1); break;                          /* A/O overlap */
    case 4: w = di->cfg.engine.w_words - rnd(g, ww ? ww : 1); break;
    case 5: p = di->cfg.engine.p_words - rnd(g, nt ? nt : 1); break;
    case 6: a = nnf_rng_u32(&g->r); break;
    case 7: o = act + rnd(g, 1000); break;
    case 8: m = act + 1; break;
    case 9: k = 65535; break;
    default: break;
    }
    nnfp_gemm_put_m(in, m);
    nnfp_gemm_put_k(in, k);
    nnfp_gemm_put_n(in, n);
    nnfp_gemm_put_a_base(in, a);
    nnfp_gemm_put_w_base(in, w);
    nnfp_gemm_put_p_base(in, p);
    nnfp_gemm_put_o_base(in, o);
    /* clean unless a range may reach the upper half while valid */
    uint32_t kt2 = k ? (k + R - 1) / R : 1, nt2 = (n + R - 1) / R;
    uint64_t ae = (uint64_t)a + (uint64_t)kt2 * m, oe = (uint64_t)o + (uint64_t)nt2 * m;
    if (m && n && !((ae > act) || (oe > act)) && (ae > half || oe > half)) *clean = 0;
    g_round(g, in);
    g_rel(g, in, clean);
  } else if (kind < 70 && di->cfg.state_words) { /* LIF */
    uint32_t m = 1 + rnd(g, 8), n = 1 + rnd(g, 3 * R), nt = (n + R - 1) / R, words = nt * m;
    if (words * 2 > half) { m = 1; words = nt; }
    uint32_t a = rnd(g, half - words + 1), o = chance(g, 40) ? a : rnd(g, half - words + 1);
    if (o != a && o < a + words && a < o + words) o = a;
    uint32_t sw = di->cfg.state_words, s = (uint64_t)m * n <= sw ? rnd(g, sw - m * n + 1) : 0;
    /* every field over its whole width and beyond (the device takes each
     * modulo its width); thresholds mostly low enough to spike */
    nnfp_lif_put_opcode(in, NNFP_OP_LIF);
    in[NNFP_LIF_RESET_SUB_OFS] = (uint8_t)nnf_rng_u32(&g->r); /* the flags byte, all of it */
    nnfp_lif_put_refractory(in, nnf_rng_u32(&g->r));             /* the field's whole bytes */
    nnfp_lif_put_bias_exp(in, nnf_rng_u32(&g->r));
    nnfp_lif_put_bias_mant(in, (int32_t)nnf_rng_u32(&g->r));
    nnfp_lif_put_du(in, chance(g, 20) ? 4095 : nnf_rng_u32(&g->r));
    nnfp_lif_put_dv(in, nnf_rng_u32(&g->r));
    nnfp_lif_put_vth(in, chance(g, 70) ? rnd(g, 1u << 8) : nnf_rng_u32(&g->r));
    switch (chance(g, 25) ? rnd(g, 5) : 99) {
    case 0: s = sw - rnd(g, m * n); break;
    case 1: o = a + 1 + rnd(g, words); break;
    case 2: a = act - rnd(g, words); break;
    case 3: m = 65535; n = 65535; break;
    case 4: s = nnf_rng_u32(&g->r); break;
    default: break;
    }
    nnfp_lif_put_m(in, m);
    nnfp_lif_put_n(in, n);
    nnfp_lif_put_a_base(in, a);
    nnfp_lif_put_s_base(in, s);
    nnfp_lif_put_o_base(in, o);
    uint64_t ntt = (n + R - 1) / R, ae = (uint64_t)a + ntt * m, oe = (uint64_t)o + ntt * m;
    if (m && n && ae <= act && oe <= act && (ae > half || oe > half)) *clean = 0;
    if ((in[NNFP_LIF_RESET_SUB_OFS] & (NNFP_INSN_A_REL | NNFP_INSN_O_REL)) && di->cfg.rel) *clean = 0;
  } else if (kind < 78) { /* LOOP */
    nnfp_loop_put_opcode(in, NNFP_OP_LOOP);
    nnfp_loop_put_count(in, chance(g, 95) ? rnd(g, 5) : nnf_rng_u32(&g->r) % 40);
    nnfp_loop_put_target(in, chance(g, 90) ? rnd(g, pc + 1) : rnd(g, di->cfg.prog_words + 4));
    if (chance(g, 40)) /* a stride: small, or now and then any (FEAT_REL; ignored without) */
      nnfp_loop_put_stride(in, chance(g, 85) ? rnd(g, 3 * R) : nnf_rng_u32(&g->r));
  } else if (kind < 88) {
    nnfp_insn_put_opcode(in, NNFP_OP_BARRIER);
  } else if (kind < 93) {
    nnfp_insn_put_opcode(in, NNFP_OP_END);
  } else {
    /* reserved: stops like END (so do CONV and POOL without FEAT_CONV, and
     * BANK without FEAT_BANKS; with it, BANK is the bank sessions') */
    uint32_t op = di->cfg.ew ? 9 + rnd(g, 247) : di->cfg.conv ? 7 + rnd(g, 249) : 5 + rnd(g, 251);
    if (di->cfg.banks && op == NNFP_OP_BANK) op = NNFP_OP_BANK + 1 + rnd(g, 255 - NNFP_OP_BANK);
    if (di->cfg.row && op == NNFP_OP_ROW) op = NNFP_OP_ROW + 1 + rnd(g, 255 - NNFP_OP_ROW); /* gen_row's */
    if (di->actw && op == NNFP_OP_ACTW) op = NNFP_OP_ACTW + 1 + rnd(g, 255 - NNFP_OP_ACTW); /* gen_actw's */
    if (di->cfg.dw && op == NNFP_OP_DWCONV) op = NNFP_OP_DWCONV + 1 + rnd(g, 255 - NNFP_OP_DWCONV); /* gen_conv_pool's */
    nnfp_insn_put_opcode(in, op);
    nnf_rng_fill(&g->r, in + 1, NNFP_INSN_BYTES - 1);
  }
}

/* Paced links: a clean program that runs long (a valid GEMM in the lower
 * half of ACT, looped 20..219 times), so frames cross the slower wire while
 * it runs: ACT writes then, and READ / RUN / WAIT held until it ends. */
static void gen_long_program(gen *g) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, half = di->cfg.engine.act_words / 2, words = di->cfg.prog_words;
  uint8_t *prog = calloc(words, NNFP_INSN_BYTES);
  uint32_t m = 1 + rnd(g, 12), k = 1 + rnd(g, 2 * R), n = 1 + rnd(g, 2 * R);
  uint32_t kt = (k + R - 1) / R, nt = (n + R - 1) / R;
  if ((kt + nt) * m > half) m = 1;
  nnfp_gemm_put_opcode(prog, NNFP_OP_GEMM);
  nnfp_gemm_put_lut(prog, rnd(g, 2));
  nnfp_gemm_put_lo(prog, -128);
  nnfp_gemm_put_hi(prog, 127);
  nnfp_gemm_put_m(prog, m);
  nnfp_gemm_put_k(prog, k);
  nnfp_gemm_put_n(prog, n);
  nnfp_gemm_put_a_base(prog, 0);     /* A: words 0 .. kt*m - 1 */
  nnfp_gemm_put_w_base(prog, 0);
  nnfp_gemm_put_p_base(prog, 0);
  nnfp_gemm_put_o_base(prog, kt * m); /* O right behind it */
  nnfp_loop_put_opcode(prog + NNFP_INSN_BYTES, NNFP_OP_LOOP);
  nnfp_loop_put_count(prog + NNFP_INSN_BYTES, 20 + rnd(g, 200));
  write_region(g, NNFP_REGION_PROG, 0, (uint64_t)words * NNFP_INSN_BYTES, prog);
  g->clean_prog = 1;
  free(prog);
}

static void gen_program(gen *g) {
  const devinfo *di = g->di;
  if (g->paced && chance(g, 30)) {
    gen_long_program(g);
    return;
  }
  uint32_t words = di->cfg.prog_words, n = 1 + rnd(g, words);
  uint8_t *prog = calloc(words, NNFP_INSN_BYTES);
  int clean = 1;
  for (uint32_t i = 0; i < n; i++) gen_insn(g, prog + (size_t)i * NNFP_INSN_BYTES, i, &clean);
  write_region(g, NNFP_REGION_PROG, 0, (uint64_t)words * NNFP_INSN_BYTES, prog);
  g->clean_prog = clean;
  free(prog);
}

/* A WRITE of len random bytes to the upper half of ACT (what a clean
 * program leaves alone, so allowed while it runs). */
static size_t gen_act_write(gen *g, uint8_t *f, uint32_t len) {
  static uint8_t pl[65536];
  uint64_t half = g->di->act_bytes / 2;
  if (len > half) len = (uint32_t)half;
  nnf_rng_fill(&g->r, pl, len);
  uint32_t addr = (uint32_t)(half + rnd(g, (uint32_t)(half - len + 1)));
  return frame(g, f, NNFP_WRITE, addr, pl, len);
}

/* One command frame, well-formed; returns its length in f. */
static size_t gen_command(gen *g, uint8_t *f) {
  const devinfo *di = g->di;
  static uint8_t pl[65536];
  unsigned k = rnd(g, 100);
  if (k < 8) return frame(g, f, NNFP_INFO, 0, NULL, 0);
  if (k < 16) return frame(g, f, NNFP_STATUS, 0, NULL, 0);
  if (k < 24) return frame(g, f, NNFP_COUNTERS, 0, NULL, 0);
  if (k < 34) return frame(g, f, NNFP_WAIT, 0, NULL, 0);
  if (k < 40) { /* RESET: counters only while a program may run (abort is a timing matter) */
    uint32_t arg = g->running ? 1 : rnd(g, 4);
    if (chance(g, 5) && !g->running) arg |= 0xF0;
    return frame(g, f, NNFP_RESET, arg, NULL, 0);
  }
  if (k < 52) { /* RUN */
    uint32_t entry = chance(g, 85) ? rnd(g, 3) : rnd(g, di->cfg.prog_words + 3);
    g->running = 1;
    return frame(g, f, NNFP_RUN, entry, NULL, 0);
  }
  if (k < 66) { /* READ */
    unsigned region = chance(g, 95) ? rnd(g, di->cfg.state_words ? 6 : 5) : rnd(g, 16);
    uint64_t size = region_bytes(di, region);
    uint32_t cnt = 1 + rnd(g, chance(g, 80) ? 64 : di->cfg.max_payload + 2);
    if (chance(g, 3)) cnt = 0;
    uint32_t addr = size > cnt && chance(g, 90) ? (uint32_t)rnd(g, (uint32_t)(size - cnt + 1))
                                                : (uint32_t)(size - rnd(g, 8));
    nnfp_put32(pl, cnt);
    uint32_t len = chance(g, 95) ? 4 : rnd(g, 8);
    return frame(g, f, NNFP_READ, nnfp_arg_with_region(nnfp_arg_with_addr(0, addr), region), pl, len);
  }
  if (k < 94) { /* WRITE */
    unsigned region;
    uint32_t len = 1 + rnd(g, chance(g, 80) ? 48 : di->cfg.max_payload);
    if (g->running) {
      /* ACT only, upper half, and only under a clean program; else wait first */
      if (!g->clean_prog) return frame(g, f, NNFP_WAIT, 0, NULL, 0);
      return gen_act_write(g, f, len);
    }
    region = chance(g, 95) ? rnd(g, di->cfg.state_words ? 6 : 5) : rnd(g, 16);
    uint64_t size = region_bytes(di, region);
    uint32_t addr = size > len && chance(g, 90) ? rnd(g, (uint32_t)(size - len + 1))
                                                : (uint32_t)(size + 1 - rnd(g, 8));
    nnf_rng_fill(&g->r, pl, len);
    if (region == 2) /* keep most P lanes valid */
      for (uint32_t i = 0; i < len; i++)
        if (((addr + i) & 15) == 7 && chance(g, 80)) pl[i] &= 0x7F;
    if (chance(g, 2)) len = 0;
    return frame(g, f, NNFP_WRITE, nnfp_arg_with_region(nnfp_arg_with_addr(0, addr), region), pl, len);
  }
  if (di->cfg.banks && k < 97) { /* BWAIT / BPOST: no program here waits at a BANK */
    uint8_t type = chance(g, 50) ? NNFP_BWAIT : NNFP_BPOST;
    uint32_t arg = chance(g, 85) ? rnd(g, di->cfg.banks) : chance(g, 50) ? di->cfg.banks + rnd(g, 4) : nnf_rng_u32(&g->r);
    uint32_t len = chance(g, 90) ? 0 : 1 + rnd(g, 8);
    nnf_rng_fill(&g->r, pl, len);
    return frame(g, f, type, arg, pl, len);
  }
  /* unknown types */
  uint8_t type = (uint8_t)(chance(g, 50) ? 0 : 9 + rnd(g, 240));
  if (di->cfg.banks && (type == NNFP_BWAIT || type == NNFP_BPOST)) type = (uint8_t)(NNFP_BPOST + 1 + rnd(g, 200));
  uint32_t len = rnd(g, 3) == 0 ? 1 + rnd(g, 16) : 0;
  nnf_rng_fill(&g->r, pl, len);
  return frame(g, f, type, nnf_rng_u32(&g->r), pl, len);
}


/* ---- bank sessions (docs/protocol.md, Banks) ------------------------------------------ */

/* A bank session keeps the protocol, so that what the RTL and the model do
 * cannot depend on time: the program reads a bank's W words and P entries
 * only between its acquire and its release of that bank (straight-line
 * programs, RUN only at entry 0); the host writes a bank's W and P while a
 * program may run only after a BWAIT of that bank (answered OK: empty, so
 * the program is done with it and cannot take it before the next BPOST; or
 * ERR BANK: the program waits, quiet), and posts a bank while a program may
 * run only right after such a BWAIT. Otherwise anything goes: BWAIT and
 * BPOST of any bank, bad arguments and lengths, BPOST retries, RUN while
 * the program waits (abandoning it), RESET with abort while it waits, STATUS
 * while it waits, refused BANKs, BANKs without flags, reads and writes of
 * every region while the program is quiet. */

static void bank_insn(uint8_t *in, int acq, uint32_t ab, int rel, uint32_t rb) {
  memset(in, 0, NNFP_INSN_BYTES);
  nnfp_bank_put_opcode(in, NNFP_OP_BANK);
  nnfp_bank_put_acquire(in, (uint32_t)acq);
  nnfp_bank_put_release(in, (uint32_t)rel);
  nnfp_bank_put_acq_bank(in, ab);
  nnfp_bank_put_rel_bank(in, rb);
}

/* A GEMM reading bank b's W words and P entries, ACT in the lower half. */
static void bank_gemm(gen *g, uint8_t *in, uint32_t b) {
  const devinfo *di = g->di;
  const uint32_t R = di->rows, half = di->cfg.engine.act_words / 2;
  uint32_t ntmax = g->pb < 3 ? g->pb : 3, nt = 1 + rnd(g, ntmax);
  uint32_t ktmax = g->wb / (nt * R);
  if (ktmax > 3) ktmax = 3;
  uint32_t kt = 1 + rnd(g, ktmax), m = 1 + rnd(g, 12);
  uint32_t n = (nt - 1) * R + 1 + rnd(g, R), k = (kt - 1) * R + 1 + rnd(g, R);
  uint32_t aw = kt * m, ow = nt * m;
  if (aw + ow > half) { m = 1; aw = kt; ow = nt; }
  uint32_t a = rnd(g, half - aw - ow + 1), o = a + aw + rnd(g, half - a - aw - ow + 1);
  if (chance(g, 30)) { uint32_t t = rnd(g, half - aw - ow + 1); o = t; a = t + ow; }
  memset(in, 0, NNFP_INSN_BYTES);
  nnfp_gemm_put_opcode(in, NNFP_OP_GEMM);
  nnfp_gemm_put_lut(in, rnd(g, 2));
  nnfp_gemm_put_lut_idx(in, rnd(g, di->cfg.engine.luts ? di->cfg.engine.luts : 1));
  nnfp_gemm_put_zp(in, (int32_t)nnf_rng_range(&g->r, -20, 20));
  nnfp_gemm_put_lo(in, (int32_t)nnf_rng_range(&g->r, -128, 0));
  nnfp_gemm_put_hi(in, (int32_t)nnf_rng_range(&g->r, 0, 127));
  if (chance(g, 4)) { nnfp_gemm_put_lo(in, 5); nnfp_gemm_put_hi(in, -5); } /* refused: lo > hi */
  nnfp_gemm_put_m(in, m);
  nnfp_gemm_put_k(in, k);
  nnfp_gemm_put_n(in, n);
  nnfp_gemm_put_a_base(in, a);
  nnfp_gemm_put_w_base(in, b * g->wb + rnd(g, g->wb - kt * nt * R + 1));
  nnfp_gemm_put_p_base(in, b * g->pb + rnd(g, g->pb - nt + 1));
  nnfp_gemm_put_o_base(in, o);
}

static uint32_t pick_bank(gen *g, uint32_t set, int in_set) {
  uint32_t c[8], n = 0;
  for (uint32_t b = 0; b < g->nb; b++)
    if (((set >> b) & 1u) == (uint32_t)in_set) c[n++] = b;
  return n ? c[rnd(g, n)] : 0;
}

/* A straight-line program of BANK, GEMM (of a held bank), BARRIER and END,
 * written while nothing runs (WAIT, RESET with abort first: every bank
 * empty). */
static void gen_bank_program(gen *g) {
  const devinfo *di = g->di;
  const uint32_t words = di->cfg.prog_words, all = (1u << g->nb) - 1, banks = di->cfg.banks;
  static uint8_t f[64];
  wait_quiet(g);
  emit(g, f, frame(g, f, NNFP_RESET, 2, NULL, 0), 0);
  uint8_t *prog = calloc(words, NNFP_INSN_BYTES);
  uint32_t held = 0, i = 0, len = 2 + rnd(g, words - 1);
  for (int tries = 0; i + 1 < len && tries < 200; tries++) {
    uint8_t *in = prog + (size_t)i * NNFP_INSN_BYTES;
    unsigned k = rnd(g, 100);
    if (k < 30 && held != all) {          /* acquire, maybe with a release */
      uint32_t ab = pick_bank(g, held, 0);
      if (held && chance(g, 50)) {
        uint32_t rb = pick_bank(g, held, 1);
        bank_insn(in, 1, ab, 1, rb);
        held &= ~(1u << rb);
        if (chance(g, 25)) ab = rb, in[NNFP_BANK_ACQ_BANK_OFS] = (uint8_t)rb; /* release and take it again */
      } else {
        bank_insn(in, 1, ab, 0, chance(g, 30) ? rnd(g, 256) : 0); /* REL_BANK ignored */
      }
      held |= 1u << ab;
    } else if (k < 42 && held) {          /* release */
      uint32_t rb = pick_bank(g, held, 1);
      bank_insn(in, 0, chance(g, 30) ? rnd(g, 256) : 0, 1, rb); /* ACQ_BANK ignored */
      held &= ~(1u << rb);
    } else if (k < 78 && held) {
      bank_gemm(g, in, pick_bank(g, held, 1));
    } else if (k < 84) {
      nnfp_insn_put_opcode(in, NNFP_OP_BARRIER);
    } else if (k < 89) {                  /* no flags: a no-op, whatever the banks say */
      bank_insn(in, 0, rnd(g, 256), 0, rnd(g, 256));
      in[1] = (uint8_t)(rnd(g, 64) << 2); /* the other flag bits, reserved */
    } else if (k < 92) {                  /* refused: a bank at or above BANKS (it stops there) */
      uint32_t bad = banks + rnd(g, 256 - banks);
      if (chance(g, 50)) bank_insn(in, 1, bad, 0, rnd(g, 256));
      else bank_insn(in, 0, rnd(g, 256), 1, bad);
    } else if (k < 94) {
      nnfp_insn_put_opcode(in, NNFP_OP_END);
    } else {
      continue;
    }
    i++;
  }
  while (held && i < words) { /* release what it holds, then END (zeros) */
    uint32_t rb = pick_bank(g, held, 1);
    bank_insn(prog + (size_t)i++ * NNFP_INSN_BYTES, 0, 0, 1, rb);
    held &= ~(1u << rb);
  }
  write_region(g, NNFP_REGION_PROG, 0, (uint64_t)words * NNFP_INSN_BYTES, prog);
  g->clean_prog = 1;
  free(prog);
}

/* BWAIT b, new W words and P entries for bank b (while the program may
 * run), BPOST b (now and then twice with one seq: a retry) */
static void bank_refill(gen *g, uint32_t b) {
  const devinfo *di = g->di;
  static uint8_t f[128];
  uint8_t *p;
  emit(g, f, frame(g, f, NNFP_BWAIT, b, NULL, 0), 0);
  if (b < g->nb) {
    const uint32_t R = di->rows;
    if (chance(g, 85)) {
      uint32_t n = 1 + rnd(g, g->wb), a = b * g->wb + rnd(g, g->wb - n + 1);
      write_region(g, NNFP_REGION_W, (uint64_t)a * R, (uint64_t)n * R, NULL);
    }
    if (chance(g, 60)) {
      uint32_t slots = g->pb * R;
      p = calloc(slots, NNFP_P_BYTES);
      for (uint32_t i = 0; i < slots; i++) {
        uint8_t *e = p + (size_t)i * NNFP_P_BYTES;
        nnfp_p_put_bias(e, (int32_t)nnf_rng_range(&g->r, -20000, 20000));
        nnfp_p_put_m0(e, (int32_t)((1u << 30) | (nnf_rng_u32(&g->r) >> 2)));
        nnfp_p_put_shift(e, (int8_t)nnf_rng_range(&g->r, -12, -4));
        if (chance(g, 2)) nnfp_p_put_shift(e, 40); /* refused */
      }
      write_region(g, NNFP_REGION_P, (uint64_t)b * g->pb * R * NNFP_P_BYTES, (uint64_t)slots * NNFP_P_BYTES, p);
      free(p);
    }
  }
  size_t n = frame(g, f, NNFP_BPOST, b, NULL, 0);
  emit(g, f, n, 0);
  if (chance(g, 15)) emit(g, f, n, 0); /* a retry: answered, not executed */
  g->running = 1;
}

static void gen_bank_events(gen *g, int events) {
  const devinfo *di = g->di;
  static uint8_t f[70000];
  const uint32_t banks = di->cfg.banks;
  cov.bank_sessions++;
  gen_bank_program(g);
  for (uint32_t b = 0; b < g->nb; b++)
    if (chance(g, 60)) bank_refill(g, b);
  g->running = 0; /* (nothing runs yet) */
  emit(g, f, frame(g, f, NNFP_RUN, 0, NULL, 0), 0);
  g->running = 1;
  for (int e = 0; e < events; e++) {
    unsigned k = rnd(g, 100);
    if (k < 30) {
      bank_refill(g, chance(g, 90) ? rnd(g, g->nb) : rnd(g, banks));
    } else if (k < 38) {
      emit(g, f, frame(g, f, NNFP_BWAIT, rnd(g, banks), NULL, 0), 0);
    } else if (k < 44) { /* a BPOST alone: only while nothing runs (else a refill) */
      uint32_t b = rnd(g, banks);
      if (g->running) { bank_refill(g, b); continue; }
      size_t n = frame(g, f, NNFP_BPOST, b, NULL, 0);
      emit(g, f, n, 0);
      if (chance(g, 20)) emit(g, f, n, 0);
      g->running = 1;
    } else if (k < 49) { /* refused at once: RANGE or BAD_LEN */
      uint8_t pl[8];
      uint32_t len = chance(g, 50) ? 1 + rnd(g, 8) : 0;
      uint32_t arg = len && chance(g, 50) ? rnd(g, banks) : banks + (chance(g, 70) ? rnd(g, 8) : nnf_rng_u32(&g->r) % 1000000);
      nnf_rng_fill(&g->r, pl, len);
      emit(g, f, frame(g, f, chance(g, 50) ? NNFP_BWAIT : NNFP_BPOST, arg, pl, len), 0);
    } else if (k < 57) {
      wait_quiet(g);
    } else if (k < 64) {
      emit(g, f, frame(g, f, NNFP_STATUS, 0, NULL, 0), 0);
    } else if (k < 67) {
      emit(g, f, frame(g, f, chance(g, 50) ? NNFP_INFO : NNFP_COUNTERS, 0, NULL, 0), 0);
    } else if (k < 73) { /* RUN: entry 0 (abandons a waiting program), or a bad entry */
      emit(g, f, frame(g, f, NNFP_RUN, chance(g, 90) ? 0 : di->cfg.prog_words + rnd(g, 3), NULL, 0), 0);
      g->running = 1;
    } else if (k < 77) { /* RESET: abort (empties the banks) only while quiet */
      emit(g, f, frame(g, f, NNFP_RESET, g->running ? 1 : rnd(g, 4), NULL, 0), 0);
    } else if (k < 83) {
      unsigned region = rnd(g, di->cfg.state_words ? 6 : 5);
      uint64_t size = region_bytes(di, region);
      uint32_t cnt = 1 + rnd(g, 64);
      if (cnt > size) cnt = (uint32_t)size;
      uint8_t pl[NNFP_READ_REQ_BYTES];
      nnfp_read_req_put_count(pl, cnt);
      emit(g, f, frame(g, f, NNFP_READ, (region << NNFP_ARG_REGION_LSB) | rnd(g, (uint32_t)(size - cnt + 1)), pl,
                       NNFP_READ_REQ_BYTES), 0);
    } else if (k < 90) { /* a WRITE: ACT's upper half while the program may run, else not PROG */
      uint32_t len = 1 + rnd(g, 48);
      if (g->running) {
        emit(g, f, gen_act_write(g, f, len), 0);
      } else {
        static const unsigned regs[] = {NNFP_REGION_ACT, NNFP_REGION_W, NNFP_REGION_P, NNFP_REGION_LUT, NNFP_REGION_STATE};
        unsigned region = regs[rnd(g, di->cfg.state_words ? 5 : 4)];
        uint64_t size = region_bytes(di, region);
        if (len > size) len = (uint32_t)size;
        write_region(g, region, rnd(g, (uint32_t)(size - len + 1)), len, NULL);
      }
    } else if (k < 93) {
      gen_bank_program(g);
      for (uint32_t b = 0; b < g->nb; b++)
        if (chance(g, 50)) bank_refill(g, b);
      g->running = 0;
      if (chance(g, 70)) {
        emit(g, f, frame(g, f, NNFP_RUN, 0, NULL, 0), 0);
        g->running = 1;
      }
    } else {
      emit(g, f, frame(g, f, NNFP_STATUS, 0, NULL, 0), 0);
    }
  }
}

static void gen_session(gen *g, int events) {
  const devinfo *di = g->di;
  static uint8_t f[70000], junk[256];
  uint32_t T = di->timeout;
  g->running = 0;
  /* buffers and a program */
  write_region(g, NNFP_REGION_ACT, 0, di->act_bytes, NULL);
  write_region(g, NNFP_REGION_W, 0, di->w_bytes, NULL);
  gen_params(g, chance(g, 30) ? 10 : 0);
  write_region(g, NNFP_REGION_LUT, 0, NNFP_LUT_BYTES, NULL);
  if (di->state_bytes) {
    /* canonical entries mostly, a few raw ones */
    uint64_t n = di->state_bytes < 4096 ? di->state_bytes : 4096;
    write_region(g, NNFP_REGION_STATE, 0, n, NULL);
  }
  /* a bank session, now and then (devices with FEAT_BANKS and room for
   * three banks and a spare quarter of W and P) */
  g->nb = di->cfg.banks < 3 ? di->cfg.banks : 3;
  g->wb = di->cfg.engine.w_words / 4;
  g->pb = di->cfg.engine.p_words / 4;
  if (g->nb && g->pb && g->wb >= di->rows && chance(g, 30)) {
    gen_bank_events(g, events);
    events = 0;
  } else {
    gen_program(g);
  }
  for (int e = 0; e < events; e++) {
    unsigned k = rnd(g, 100);
    if (k < 8) { gen_program(g); continue; }
    if (k < 10) { gen_params(g, 10); continue; }
    size_t n = gen_command(g, f);
    unsigned dmg = rnd(g, 100);
    int is_wait = nnfp_hdr_get_type(f) == NNFP_WAIT;
    if (dmg < 70) {
      if (is_wait) g->running = 0; /* intact: the program has finished when it is answered */
      /* intact; sometimes garbage before it (a hidden frame) or a byte after */
      if (chance(g, 10)) {
        uint32_t gn = 1 + rnd(g, 40);
        nnf_rng_fill(&g->r, junk, gn);
        for (uint32_t i = 0; i < gn; i++)
          if (junk[i] == 0xA5 && chance(g, 50)) junk[i] = 0x5A;
        emit(g, junk, gn, g->running ? 0 : (chance(g, 20) ? (g->paced ? gap_long(g) : T + rnd(g, 3)) : 0));
      }
      if (chance(g, 10)) { /* bytes right behind it, in the same chunk (no wait) */
        uint32_t gn = 1 + rnd(g, 3);
        for (uint32_t i = 0; i < gn; i++) f[n + i] = (uint8_t)(rnd(g, 0xA5));
        n += gn;
      }
      emit(g, f, n, 0);
      if (g->paced && nnfp_hdr_get_type(f) == NNFP_RUN && g->clean_prog && chance(g, 50)) {
        /* paced links: ACT writes right behind the RUN, while the program
         * runs (the UART's FIFO must absorb the writer's waits) */
        for (unsigned i = 1 + rnd(g, 4); i > 0; i--)
          emit(g, f, gen_act_write(g, f, 1 + rnd(g, chance(g, 50) ? 48 : di->cfg.max_payload)), 0);
      }
    } else if (dmg < 78) { /* a flipped bit in the header: no answer */
      f[2 + rnd(g, 12)] ^= (uint8_t)(1u << rnd(g, 8));
      emit(g, f, n, g->running ? 0 : (chance(g, 50) ? (g->paced ? gap_long(g) | (g->noflow ? 0 : NOWAIT) : (T + rnd(g, 2)) | NOWAIT) : 0));
    } else if (dmg < 86 && n > 14) { /* a flipped bit in the payload or its CRC: BAD_CRC */
      f[14 + rnd(g, (uint32_t)(n - 14))] ^= (uint8_t)(1u << rnd(g, 8));
      emit(g, f, n, 0);
    } else if (!g->running) { /* cut inside the frame, silence around the timeout */
      uint32_t cut = 2 + rnd(g, (uint32_t)(n - 2));
      uint32_t gap;
      unsigned w = rnd(g, 4);
      if (g->paced) gap = chance(g, 50) ? gap_short(g) : gap_long(g);
      else gap = w == 0 ? T - 1 : w == 1 ? T : w == 2 ? T + 1 : (chance(g, 50) ? gap_short(g) : gap_long(g));
      emit(g, f, cut, gap | (gap >= T && chance(g, 50) && !g->noflow ? NOWAIT : 0));
      if (gap < T) {
        emit(g, f + cut, n - cut, 0); /* the rest: the frame completes */
        if (is_wait) g->running = 0;
      }
    } else {
      emit(g, f, n, 0);
    }
  }
  /* epilogue: everything must be answered and every buffer agree */
  size_t n = nnfp_encode(f, NNFP_WAIT, g->seq++, 0, NULL, 0);
  emit(g, f, n, 0);
  g->running = 0;
  emit(g, f, nnfp_encode(f, NNFP_INFO, g->seq++, 0, NULL, 0), 0);
  emit(g, f, nnfp_encode(f, NNFP_STATUS, g->seq++, 0, NULL, 0), 0);
  emit(g, f, nnfp_encode(f, NNFP_COUNTERS, g->seq++, 0, NULL, 0), 0);
  for (unsigned region = 0; region < 6; region++) {
    uint64_t size = region_bytes(di, region);
    for (uint64_t a = 0; a < size; a += di->cfg.max_payload) {
      uint8_t pl[NNFP_READ_REQ_BYTES];
      uint64_t cnt = size - a < di->cfg.max_payload ? size - a : di->cfg.max_payload;
      nnfp_read_req_put_count(pl, (uint32_t)cnt);
      emit(g, f, nnfp_encode(f, NNFP_READ, g->seq++, (region << NNFP_ARG_REGION_LSB) | (uint32_t)a, pl,
                             NNFP_READ_REQ_BYTES), 0);
    }
  }
}

/* ---- minimiser ------------------------------------------------------------------- */

static void sess_copy_without(session *dst, const session *src, size_t from, size_t to) {
  memset(dst, 0, sizeof *dst);
  for (size_t i = 0; i < src->n; i++)
    if (i < from || i >= to) sess_add(dst, src->c[i].b, src->c[i].n, src->c[i].gap);
}

static void minimize(const devinfo *di, session *s) {
  size_t step = s->n / 2;
  while (step >= 1) {
    int progress = 0;
    for (size_t from = 0; from < s->n;) {
      session t;
      sess_copy_without(&t, s, from, from + step);
      if (t.n < s->n && run_session(di, &t, NULL) != 0) {
        sess_free(s);
        *s = t;
        progress = 1;
      } else {
        sess_free(&t);
        from += step;
      }
    }
    if (!progress) step /= 2;
  }
  run_session(di, s, NULL); /* leave fail_msg describing the minimal session */
}

/* ---- main -------------------------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: nnf_difffuzz [--link stream|uart|ft245] [--div N] [--gaps exact|paced]\n"
          "                    [--seed S] [--sessions N] [--events N] [--save DIR] [--quiet]\n"
          "       nnf_difffuzz [--link L] [--div N] --replay FILE [--minimize OUT]\n"
          "Feeds the same random sessions to the Verilated nnf_core (directly, or behind the\n"
          "UART or FT245 board adapter: --link; --div: the UART's cycles per bit, default 8)\n"
          "and the functional model and compares every answer byte (see the comment at the\n"
          "top of the source). --gaps: silences at the receive timeout exactly (the\n"
          "stream's default) or clearly off it (paced, the default on the board links).\n");
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  long sessions = 20, events = 40;
  const char *save = ".", *replay = NULL, *min_out = NULL;
  int quiet = 0, link = LINK_STREAM, gaps = -1; /* gaps: -1 the link's default, 0 exact, 1 paced */
  unsigned div = 8;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--seed") && v) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(a, "--sessions") && v) sessions = strtol(argv[++i], NULL, 0);
    else if (!strcmp(a, "--events") && v) events = strtol(argv[++i], NULL, 0);
    else if (!strcmp(a, "--save") && v) save = argv[++i];
    else if (!strcmp(a, "--replay") && v) replay = argv[++i];
    else if (!strcmp(a, "--minimize") && v) min_out = argv[++i];
    else if (!strcmp(a, "--quiet")) quiet = 1;
    else if (!strcmp(a, "--link") && v) {
      const char *l = argv[++i];
      link = !strcmp(l, "stream") ? LINK_STREAM : !strcmp(l, "uart") ? LINK_UART : !strcmp(l, "ft245") ? LINK_FT245 : -1;
      if (link < 0) { usage(stderr); return 2; }
    } else if (!strcmp(a, "--div") && v) div = (unsigned)strtoul(argv[++i], NULL, 0);
    else if (!strcmp(a, "--gaps") && v) {
      const char *m = argv[++i];
      gaps = !strcmp(m, "exact") ? 0 : !strcmp(m, "paced") ? 1 : -2;
      if (gaps < -1) { usage(stderr); return 2; }
    }
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
  }
  if (link == LINK_UART && (div < 4 || div > 65535)) {
    fprintf(stderr, "nnf_difffuzz: --div must be 4..65535 (the adapter's clocks per bit)\n");
    return 2;
  }
  if (gaps < 0) gaps = link != LINK_STREAM;
  if (gaps == 0 && link != LINK_STREAM) {
    fprintf(stderr, "nnf_difffuzz: exact gaps need the stream link (a paced link adds its own idle)\n");
    return 2;
  }
  devinfo di;
  if (read_info(&di, link, div) != 0) {
    fprintf(stderr, "nnf_difffuzz: the device does not answer INFO over the %s link\n", link_names[link]);
    return 1;
  }
  /* paced gaps: the link's own idle between two bytes must leave room under T/2 */
  const uint32_t pace = (uint32_t)wire_byte_cycles(link, div);
  if (gaps && (uint64_t)2 * pace >= di.timeout) {
    fprintf(stderr, "nnf_difffuzz: timeout_cycles %u is too short for paced gaps on the %s link "
            "(up to %u cycles between two bytes; a smaller --div?)\n", di.timeout, link_names[link], pace);
    return 2;
  }
  if (replay) {
    session s = {0};
    if (sess_load(&s, replay) != 0) {
      fprintf(stderr, "nnf_difffuzz: cannot read session %s: %s\n", replay,
              errno ? strerror(errno) : "bad format");
      return 2;
    }
    if (link != LINK_STREAM)
      for (size_t i = 0; i < s.n; i++)
        if (GAP(&s.c[i]) + pace > di.timeout / 2 && GAP(&s.c[i]) < 2 * di.timeout) {
          fprintf(stderr, "nnf_difffuzz: warning: chunk %zu's gap (%u cycles) is near the receive "
                  "timeout (%u): on the %s link its outcome is not defined\n",
                  i, GAP(&s.c[i]), di.timeout, link_names[link]);
          break;
        }
    int rc = run_session(&di, &s, NULL);
    printf("replay %s over the %s link: %zu chunks: %s\n", replay, link_names[link], s.n,
           rc ? "DIFFERS" : "agrees");
    if (rc) printf("%s\n", fail_msg);
    if (rc && min_out) {
      minimize(&di, &s);
      sess_save(&s, min_out);
      printf("minimised to %zu chunks: %s\n%s\n", s.n, min_out, fail_msg);
    }
    sess_free(&s);
    return rc;
  }
  uint64_t total_cycles = 0, total_chunks = 0;
  for (long i = 0; i < sessions; i++) {
    session s = {0};
    gen g;
    memset(&g, 0, sizeof g);
    g.r = nnf_rng_seed(seed * 1000003u + (uint64_t)i);
    g.di = &di;
    g.s = &s;
    g.paced = gaps;
    g.pace = gaps ? pace : 0;
    g.noflow = link == LINK_UART;
    gen_session(&g, (int)events);
    uint64_t cyc = 0;
    int rc = run_session(&di, &s, &cyc);
    total_cycles += cyc;
    total_chunks += s.n;
    if (rc) {
      char path[4096], divarg[32] = "";
      if (link == LINK_UART) snprintf(divarg, sizeof divarg, " --div %u", div);
      snprintf(path, sizeof path, "%s/nnf_difffuzz-%llu-%ld.bin", save, (unsigned long long)seed, i);
      int saved = sess_save(&s, path) == 0;
      fprintf(stderr,
              "nnf_difffuzz: seed %llu session %ld: RTL and model differ\n%s\n"
              "replay: %s --link %s%s --replay %s [--minimize min.bin]%s\n",
              (unsigned long long)seed, i, fail_msg, argv[0], link_names[link], divarg, path,
              saved ? "" : " (could not save)");
      sess_free(&s);
      return 1;
    }
    sess_free(&s);
  }
  if (!quiet) {
    printf("nnf_difffuzz: %s link", link_names[link]);
    if (link == LINK_UART) printf(" (div %u)", div);
    printf(", %s gaps, seed %llu: %ld sessions, %llu chunks, %llu bytes in, %llu bytes out, "
           "%llu RTL cycles: RTL == model\n",
           gaps ? "paced" : "exact", (unsigned long long)seed, sessions,
           (unsigned long long)total_chunks, (unsigned long long)cov.bytes_in,
           (unsigned long long)cov.bytes_out, (unsigned long long)total_cycles);
    printf("  gaps: %llu under the receive timeout (%u cycles), %llu at or over it; while a "
           "program may run: %llu ACT writes, %llu READ / RUN / WAIT\n",
           (unsigned long long)cov.gaps_short, di.timeout, (unsigned long long)cov.gaps_long,
           (unsigned long long)cov.act_writes_running, (unsigned long long)cov.held);
    if (link == LINK_UART)
      printf("  %llu characters sent while a program ran (the run light)\n",
             (unsigned long long)cov.chars_running);
    printf("  answers %llu: OK %llu, ERR BAD_CRC %llu UNKNOWN %llu BAD_LEN %llu RANGE %llu "
           "BAD_PROG %llu TIMEOUT %llu\n",
           (unsigned long long)cov.frames, (unsigned long long)cov.ok, (unsigned long long)cov.err[1],
           (unsigned long long)cov.err[2], (unsigned long long)cov.err[3],
           (unsigned long long)cov.err[4], (unsigned long long)cov.err[5],
           (unsigned long long)cov.err[6]);
    printf("  programs: %llu instructions, %llu GEMMs and %llu LIFs refused, %llu rows streamed, "
           "%llu LIF updates\n",
           (unsigned long long)cov.insns, (unsigned long long)cov.refused_gemms,
           (unsigned long long)cov.refused_lifs, (unsigned long long)cov.gemm_rows,
           (unsigned long long)cov.lif_updates);
    printf("  CONV: %llu run, %llu refused; POOL: %llu run, %llu refused; PACK: %llu run, %llu refused; "
           "EW: %llu run, %llu refused; ROW: %llu run, %llu refused; ACTW: %llu run, %llu refused\n",
           (unsigned long long)cov.convs, (unsigned long long)cov.refused_convs,
           (unsigned long long)cov.pools, (unsigned long long)cov.refused_pools,
           (unsigned long long)cov.packs, (unsigned long long)cov.refused_packs,
           (unsigned long long)cov.ews, (unsigned long long)cov.refused_ews,
           (unsigned long long)cov.rows, (unsigned long long)cov.refused_rows,
           (unsigned long long)cov.actws, (unsigned long long)cov.refused_actws);
    if (di.cfg.dw)
      printf("  DWCONV: %llu run, %llu refused\n", (unsigned long long)cov.dwconvs,
             (unsigned long long)cov.refused_dwconvs);
    if (di.cfg.banks)
      printf("  banks (%u): %llu bank sessions, %llu BWAIT (ERR BANK %llu), %llu BPOST answered, "
             "%llu waits at an acquire, %llu BANKs refused, %llu W / P writes while a program may run\n",
             di.cfg.banks, (unsigned long long)cov.bank_sessions, (unsigned long long)cov.bwaits,
             (unsigned long long)cov.err[NNFP_E_BANK], (unsigned long long)cov.bposts,
             (unsigned long long)cov.bank_waits, (unsigned long long)cov.refused_banks,
             (unsigned long long)cov.wp_writes_running);
  }
  return 0;
}
