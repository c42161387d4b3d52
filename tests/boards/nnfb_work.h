/*
 * nnfb_work.h - a seeded random workload for one shipped board
 * configuration, cut into chunks (one frame, or a burst of garbage), each
 * with the answer bytes the functional model (nnfm_device) gives to it. A
 * test sends chunk i to the RTL (nnf_core's stream port, or the board top's
 * UART), waits for the answer and compares it with nnfb_work_check: stop
 * and wait, as the driver talks.
 *
 * The configuration is the board's as scripts/synth.py builds it
 * (nnfb_board_config.h).
 *
 * What a workload holds (weighted at random until its byte budget is spent):
 *   - GEMM programs: 1..3 chained layers (random M, K, N: ragged tiles, K = 0,
 *     M beyond ACC_DEPTH when it fits), zero points and clamps, the LUT,
 *     saturating (m0, shift) corners, BARRIERs, an M = 0 / N = 0 GEMM with
 *     wild addresses, END, a reserved opcode or a LOOP over the whole
 *     program (count 0..3) at the end, a random entry point; ACT written
 *     while the program runs (outside what it touches); sometimes the RUN
 *     sent twice with one seq (answered, not run, again); with flow control
 *     (the stream port), sometimes a WRITE to another region that the device
 *     holds until the program ends; WAIT and STATUS, or straight to the
 *     outputs' READs (which wait for the program);
 *   - with a LIF core (STATE_WORDS > 0): spiking programs (GEMM, LIF, GEMM,
 *     LIF, LOOP with random count, as docs/protocol.md's T-step network),
 *     random LIF parameters, spikes in place or not, host-written state with
 *     or without `clear`; spikes and STATE entries READ;
 *   - without one: a program stopped by a LIF opcode (STATUS pc) and STATE
 *     reads / writes refused (RANGE);
 *   - WRITE / READ round trips of random ranges of every region; refusals
 *     (RANGE, BAD_LEN, UNKNOWN, BAD_PROG, BAD_CRC); garbage; INFO, STATUS,
 *     COUNTERS, RESET of the counters; optionally a frame cut short (the
 *     device's TIMEOUT, ERR TIMEOUT).
 * Every program is inside the contract (the model refuses nothing:
 * nnfb_work_build checks its statistics), so every answer byte must agree.
 *
 * Header-only (static functions), shared by test_board_core.c and
 * test_board_uart.c.
 */
#ifndef NNFB_WORK_H
#define NNFB_WORK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_board_config.h"
#include "nnf_proto.h"
#include "nnfm_device.h"

enum {
  NNFB_W_FRAME = 0,     /* answer compared byte for byte */
  NNFB_W_COUNTERS = 1,  /* COUNTERS: cycles, busy and stall are the RTL's own (see check) */
  NNFB_W_GARBAGE = 2,   /* not a frame */
  NNFB_W_CUT = 3,       /* a frame cut short: the answer comes after TIMEOUT idle cycles */
};

typedef struct {
  uint8_t *in, *out;
  size_t nin, nout;
  int kind;
} nnfb_wchunk;

typedef struct {
  int gemm_progs, lif_progs, gemms, lifs, loops, refusals, roundtrips, counters, cuts, held_writes;
} nnfb_wstats;

typedef struct {
  nnfb_wchunk *c;
  int n, cap;
  uint8_t seq;
  nnfm_device_config cfg;
  nnfm_device *dev;   /* the model, fed chunk by chunk */
  nnfm_engine *img;   /* scratch engine for packing layouts */
  nnf_rng r;
  size_t bytes;       /* bytes in + out so far */
  size_t max_dim;     /* upper bound for a layer's M, K, N */
  int flow;           /* 1: the link has flow control (a stream port): frames
                         that wait for a running program may carry payloads */
  nnfb_wstats st;
} nnfb_work;

/* ---- chunks ------------------------------------------------------------- */

static inline nnfb_wchunk *nnfb_new_chunk(nnfb_work *w, size_t nin, int kind) {
  if (w->n == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 256;
    w->c = realloc(w->c, (size_t)w->cap * sizeof *w->c);
    CHECK(w->c != NULL);
  }
  nnfb_wchunk *c = &w->c[w->n];
  memset(c, 0, sizeof *c);
  c->in = malloc(nin);
  CHECK(c->in != NULL);
  c->nin = nin;
  c->kind = kind;
  return c;
}

/* Close the chunk being built: the model answers it. */
static inline void nnfb_close_chunk(nnfb_work *w) {
  nnfb_wchunk *c = &w->c[w->n];
  nnfm_device_rx(w->dev, c->in, c->nin);
  if (c->kind == NNFB_W_CUT) nnfm_device_idle_timeout(w->dev);
  size_t pend = nnfm_device_tx_pending(w->dev);
  c->out = malloc(pend + 1);
  CHECK(c->out != NULL);
  c->nout = nnfm_device_tx(w->dev, c->out, pend);
  CHECK_EQ(nnfm_device_tx_pending(w->dev), 0);
  w->bytes += c->nin + c->nout;
  w->n++;
}

static inline void nnfb_frame_seq(nnfb_work *w, uint8_t type, uint8_t seq, uint32_t arg, const void *pl,
                           uint16_t len) {
  nnfb_wchunk *c = nnfb_new_chunk(w, nnfp_frame_size(len), type == NNFP_COUNTERS ? NNFB_W_COUNTERS : NNFB_W_FRAME);
  c->nin = nnfp_encode(c->in, type, seq, arg, pl, len);
  nnfb_close_chunk(w);
}

static inline void nnfb_frame(nnfb_work *w, uint8_t type, uint32_t arg, const void *pl, uint16_t len) {
  nnfb_frame_seq(w, type, ++w->seq, arg, pl, len);
}

/* WRITE in frames of at most max_payload bytes (random sizes). */
static inline void nnfb_write(nnfb_work *w, int region, uint32_t addr, const uint8_t *p, size_t len) {
  while (len > 0) {
    size_t most = w->cfg.max_payload;
    if (nnf_rng_range(&w->r, 0, 2) == 0) most = (size_t)nnf_rng_range(&w->r, 1, (int64_t)most);
    uint16_t n = (uint16_t)(len > most ? most : len);
    nnfb_frame(w, NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, p, n);
    p += n;
    addr += n;
    len -= n;
  }
}

static inline void nnfb_read(nnfb_work *w, int region, uint32_t addr, size_t len) {
  while (len > 0) {
    uint32_t n = (uint32_t)(len > w->cfg.max_payload ? w->cfg.max_payload : len);
    uint8_t c[4];
    nnfp_put32(c, n);
    nnfb_frame(w, NNFP_READ, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, c, 4);
    addr += n;
    len -= n;
  }
}

/* Bytes of each region (protocol.md). */
static inline uint32_t nnfb_region_bytes(const nnfm_device_config *cfg, int region) {
  const nnfm_config *e = &cfg->engine;
  switch (region) {
  case 0: return e->act_words * (uint32_t)e->rows;
  case 1: return e->w_words * (uint32_t)e->cols;
  case 2: return e->p_words * (uint32_t)e->cols * 16u;
  case 3: return 256;
  case 4: return cfg->prog_words * 32u;
  case 5: return cfg->state_words * 16u;
  default: return 0;
  }
}

/* ---- instructions (docs/protocol.md, Micro-program) ---------------------- */

static inline void nnfb_insn_gemm(uint8_t o[32], const nnfm_cmd *c) {
  memset(o, 0, 32);
  nnfp_gemm_put_opcode(o, NNFP_OP_GEMM);
  nnfp_gemm_put_lut(o, (uint32_t)c->lut);
  nnfp_gemm_put_zp(o, c->zp);
  nnfp_gemm_put_lo(o, c->lo);
  nnfp_gemm_put_hi(o, c->hi);
  nnfp_gemm_put_m(o, (uint32_t)c->m);
  nnfp_gemm_put_k(o, (uint32_t)c->k);
  nnfp_gemm_put_n(o, (uint32_t)c->n);
  nnfp_gemm_put_a_base(o, c->a_base);
  nnfp_gemm_put_w_base(o, c->w_base);
  nnfp_gemm_put_p_base(o, c->p_base);
  nnfp_gemm_put_o_base(o, c->o_base);
}

typedef struct {
  uint16_t m, n, du, dv;
  uint32_t a_base, o_base, s_base, vth;
  int16_t bias_mant;
  uint8_t bias_exp, flags, refractory;
} nnfb_lif;

static inline void nnfb_insn_lif(uint8_t o[32], const nnfb_lif *l) {
  memset(o, 0, 32);
  nnfp_lif_put_opcode(o, NNFP_OP_LIF);
  o[NNFP_LIF_RESET_SUB_OFS] = l->flags; /* NNFP_LIF_RESET_SUB | _COUNT | _CLEAR */
  nnfp_lif_put_refractory(o, l->refractory);
  nnfp_lif_put_bias_exp(o, l->bias_exp);
  nnfp_lif_put_bias_mant(o, l->bias_mant);
  nnfp_lif_put_m(o, l->m);
  nnfp_lif_put_du(o, l->du);
  nnfp_lif_put_n(o, l->n);
  nnfp_lif_put_dv(o, l->dv);
  nnfp_lif_put_a_base(o, l->a_base);
  nnfp_lif_put_vth(o, l->vth);
  nnfp_lif_put_s_base(o, l->s_base);
  nnfp_lif_put_o_base(o, l->o_base);
}

static inline void nnfb_insn_op(uint8_t o[32], uint8_t op) {
  memset(o, 0, 32);
  nnfp_insn_put_opcode(o, op);
}

static inline void nnfb_insn_loop(uint8_t o[32], uint32_t target, uint16_t count) {
  nnfb_insn_op(o, NNFP_OP_LOOP);
  nnfp_loop_put_count(o, count);
  nnfp_loop_put_target(o, target);
}

/* ---- data ---------------------------------------------------------------- */

static inline uint32_t nnfb_dim(nnfb_work *w, uint32_t lo) {
  uint32_t hi = (uint32_t)w->max_dim;
  /* mostly small, sometimes up to the bound */
  if (nnf_rng_range(&w->r, 0, 3)) hi = hi < 3u * (uint32_t)w->cfg.engine.rows + 3 ? hi : 3u * (uint32_t)w->cfg.engine.rows + 3;
  return (uint32_t)nnf_rng_range(&w->r, lo, hi < lo ? lo : hi);
}

/* Random (bias, m0, shift) for n channels: normal, or a saturating corner. */
static inline void nnfb_params(nnfb_work *w, uint32_t n, int32_t *b, int32_t *m0, int8_t *s) {
  int corner = nnf_rng_range(&w->r, 0, 5) == 0;
  for (uint32_t j = 0; j < n; j++) {
    if (corner) {
      b[j] = (int32_t)nnf_rng_range(&w->r, INT32_MIN, INT32_MAX);
      m0[j] = (int32_t)nnf_rng_range(&w->r, 0, INT32_MAX);
      s[j] = (int8_t)nnf_rng_range(&w->r, -31, 30);
    } else {
      b[j] = (int32_t)nnf_rng_range(&w->r, -30000, 30000);
      m0[j] = (int32_t)nnf_rng_range(&w->r, 1 << 30, INT32_MAX);
      s[j] = (int8_t)nnf_rng_range(&w->r, -12, -3);
    }
  }
}

/* Write a layer's W and P (k x n at w_base / p_base) through the scratch image. */
static inline void nnfb_layer_wp(nnfb_work *w, uint32_t k, uint32_t n, uint32_t w_base, uint32_t p_base) {
  const nnfm_config *e = &w->cfg.engine;
  int8_t *wt = malloc((size_t)k * n + 1);
  int32_t *b = malloc(4 * (size_t)n + 4), *m0 = malloc(4 * (size_t)n + 4);
  int8_t *s = malloc((size_t)n + 1);
  CHECK(wt && b && m0 && s);
  for (size_t i = 0; i < (size_t)k * n; i++) wt[i] = (int8_t)nnf_rng_range(&w->r, -127, 127);
  nnfb_params(w, n, b, m0, s);
  CHECK_OK(nnfm_engine_put_weights(w->img, w_base, wt, k, n));
  CHECK_OK(nnfm_engine_put_params(w->img, p_base, b, m0, s, n));
  size_t nb = (size_t)nnfm_w_words(e, k, n) * (size_t)e->cols;
  uint8_t *buf = malloc(nb + (size_t)nnfm_p_entries(e, n) * (size_t)e->cols * 16u + 1);
  CHECK(buf != NULL);
  CHECK_OK(nnfm_engine_read_bytes(w->img, 1, w_base * (uint32_t)e->cols, buf, nb));
  nnfb_write(w, 1, w_base * (uint32_t)e->cols, buf, nb);
  nb = (size_t)nnfm_p_entries(e, n) * (size_t)e->cols * 16u;
  CHECK_OK(nnfm_engine_read_bytes(w->img, 2, p_base * (uint32_t)e->cols * 16u, buf, nb));
  nnfb_write(w, 2, p_base * (uint32_t)e->cols * 16u, buf, nb);
  free(buf);
  free(wt);
  free(b);
  free(m0);
  free(s);
}

/* Write an m x k int8 input (or 0/1 spikes) at ACT word a_base. */
static inline void nnfb_layer_act(nnfb_work *w, uint32_t a_base, uint32_t m, uint32_t k, int spikes) {
  const nnfm_config *e = &w->cfg.engine;
  int8_t *a = malloc((size_t)m * k + 1);
  CHECK(a != NULL);
  for (size_t i = 0; i < (size_t)m * k; i++)
    a[i] = spikes ? (int8_t)nnf_rng_range(&w->r, 0, 1) : nnf_rng_i8(&w->r);
  CHECK_OK(nnfm_engine_put_act(w->img, a_base, a, m, k));
  size_t nb = (size_t)nnfm_act_words(e, m, k) * (size_t)e->rows;
  uint8_t *buf = malloc(nb + 1);
  CHECK(buf != NULL);
  CHECK_OK(nnfm_engine_read_bytes(w->img, 0, a_base * (uint32_t)e->rows, buf, nb));
  nnfb_write(w, 0, a_base * (uint32_t)e->rows, buf, nb);
  free(buf);
  free(a);
}

static inline void nnfb_random_clamp(nnfb_work *w, nnfm_cmd *c) {
  c->zp = (int32_t)nnf_rng_range(&w->r, -128, 127);
  c->lo = (int32_t)nnf_rng_range(&w->r, -128, 127);
  c->hi = (int32_t)nnf_rng_range(&w->r, c->lo, 127);
  if (nnf_rng_range(&w->r, 0, 2)) c->lo = -128, c->hi = 127;
  c->lut = (int)nnf_rng_range(&w->r, 0, 1);
}

/* RUN (sometimes sent twice with one seq), maybe an ACT write while it
 * runs at [free_word, act_words); then WAIT and maybe STATUS, or (a third of
 * the time) nothing: the caller's READs wait for the program. With flow
 * control, sometimes a WRITE to another region first, which the device holds
 * until the program has finished (docs/protocol.md), wherever it points:
 * the model, whose RUN completes at once, writes it after the program too. */
static inline void nnfb_run(nnfb_work *w, uint32_t entry, uint32_t free_word) {
  const nnfm_config *e = &w->cfg.engine;
  nnfb_frame(w, NNFP_RUN, entry, NULL, 0);
  if (nnf_rng_range(&w->r, 0, 4) == 0) nnfb_frame_seq(w, NNFP_RUN, w->seq, entry, NULL, 0);
  if (free_word < e->act_words && nnf_rng_range(&w->r, 0, 2) == 0) {
    uint32_t room = (e->act_words - free_word) * (uint32_t)e->rows;
    uint32_t len = (uint32_t)nnf_rng_range(&w->r, 1, room < 300 ? room : 300);
    uint32_t at = free_word * (uint32_t)e->rows + (uint32_t)nnf_rng_range(&w->r, 0, room - len);
    uint8_t buf[300];
    nnf_rng_fill(&w->r, buf, len);
    nnfb_frame(w, NNFP_WRITE, at, buf, (uint16_t)len);
  }
  if (w->flow && nnf_rng_range(&w->r, 0, 3) == 0) {
    int region = (int)nnf_rng_range(&w->r, 1, w->cfg.state_words ? 5 : 4); /* W, P, LUT, PROG, STATE */
    uint32_t size = nnfb_region_bytes(&w->cfg, region);
    uint32_t len = (uint32_t)nnf_rng_range(&w->r, 1, size < 200 ? size : 200);
    uint32_t at = (uint32_t)nnf_rng_range(&w->r, 0, size - len);
    uint8_t buf[200];
    nnf_rng_fill(&w->r, buf, len);
    nnfb_frame(w, NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | at, buf, (uint16_t)len);
    w->st.held_writes++;
  }
  if (nnf_rng_range(&w->r, 0, 2) == 0) return; /* the READs wait */
  nnfb_frame(w, NNFP_WAIT, 0, NULL, 0);
  if (nnf_rng_range(&w->r, 0, 1)) nnfb_frame(w, NNFP_STATUS, 0, NULL, 0);
}

/* ---- a GEMM program ------------------------------------------------------ */

static inline void nnfb_gemm_program(nnfb_work *w) {
  const nnfm_config *e = &w->cfg.engine;
  const uint32_t AW = e->act_words, WW = e->w_words, PW = e->p_words, PR = w->cfg.prog_words;
  uint32_t L = (uint32_t)nnf_rng_range(&w->r, 1, 3), m, k[4], n[3];
  uint32_t a0 = 0, wb[3], pb[3], abase[4], total;
  for (int attempt = 0;; attempt++) {
    m = attempt > 30 ? 1 : nnfb_dim(w, 1);
    if (attempt < 30 && nnf_rng_range(&w->r, 0, 7) == 0) m = e->acc_depth + (uint32_t)nnf_rng_range(&w->r, 1, 9);
    k[0] = attempt > 30 ? 1 : nnfb_dim(w, 0);
    uint32_t wsum = 0, psum = 0;
    for (uint32_t i = 0; i < L; i++) {
      n[i] = attempt > 30 ? 1 : nnfb_dim(w, 1);
      k[i + 1] = n[i];
      wsum += nnfm_w_words(e, k[i], n[i]);
      psum += nnfm_p_entries(e, n[i]);
    }
    total = nnfm_act_words(e, m, k[0]);
    for (uint32_t i = 0; i < L; i++) total += nnfm_act_words(e, m, n[i]);
    if (total <= AW && wsum <= WW && psum <= PW) {
      a0 = (uint32_t)nnf_rng_range(&w->r, 0, AW - total);
      uint32_t wfree = WW - wsum, pfree = PW - psum, wp = 0, pp = 0;
      for (uint32_t i = 0; i < L; i++) {
        uint32_t gw = (uint32_t)nnf_rng_range(&w->r, 0, wfree / L), gp = (uint32_t)nnf_rng_range(&w->r, 0, pfree / L);
        wb[i] = wp + gw;
        pb[i] = pp + gp;
        wp = wb[i] + nnfm_w_words(e, k[i], n[i]);
        pp = pb[i] + nnfm_p_entries(e, n[i]);
      }
      break;
    }
    if (attempt > 30) L = 1;
    CHECK(attempt < 40);
  }
  abase[0] = a0;
  for (uint32_t i = 0; i < L; i++) abase[i + 1] = abase[i] + nnfm_act_words(e, m, k[i]);
  uint32_t end_word = abase[L] + nnfm_act_words(e, m, n[L - 1]);

  nnfb_layer_act(w, a0, m, k[0], 0);
  for (uint32_t i = 0; i < L; i++) nnfb_layer_wp(w, k[i], n[i], wb[i], pb[i]);
  if (nnf_rng_range(&w->r, 0, 2) == 0) {
    uint8_t lut[256];
    nnf_rng_fill(&w->r, lut, sizeof lut);
    nnfb_write(w, 3, 0, lut, 256);
  }

  /* instructions: the GEMMs, BARRIERs, an empty GEMM, then a stop */
  uint8_t prog[16 * 32];
  uint32_t ni = 0;
  for (uint32_t i = 0; i < L; i++) {
    nnfm_cmd c = {0};
    memset(&c, 0, sizeof c);
    c.m = m, c.k = k[i], c.n = n[i];
    c.a_base = abase[i], c.o_base = abase[i + 1], c.w_base = wb[i], c.p_base = pb[i];
    nnfb_random_clamp(w, &c);
    nnfb_insn_gemm(prog + 32 * ni++, &c);
    w->st.gemms++;
    if (nnf_rng_range(&w->r, 0, 3) == 0) nnfb_insn_op(prog + 32 * ni++, NNFP_OP_BARRIER);
    if (nnf_rng_range(&w->r, 0, 7) == 0) { /* M = 0 or N = 0: nothing happens, wherever it points */
      nnfm_cmd z = {0};
      memset(&z, 0, sizeof z);
      z.m = nnf_rng_range(&w->r, 0, 1) ? 0 : (uint32_t)nnf_rng_range(&w->r, 1, 50);
      z.n = z.m ? 0 : (uint32_t)nnf_rng_range(&w->r, 0, 50);
      z.k = (uint32_t)nnf_rng_range(&w->r, 0, 50);
      z.a_base = nnf_rng_u32(&w->r), z.o_base = nnf_rng_u32(&w->r);
      z.w_base = nnf_rng_u32(&w->r), z.p_base = nnf_rng_u32(&w->r);
      z.lo = -128, z.hi = 127;
      nnfb_insn_gemm(prog + 32 * ni++, &z);
    }
  }
  /* the stop: END, a reserved opcode, a LOOP over the whole program (count
   * 0..3: the GEMMs run again on the same inputs) then END, or (no LIF
   * core) a LIF opcode */
  int stop = (int)nnf_rng_range(&w->r, 0, 3);
  uint32_t loop_at = 0xFFFFFFFFu;
  if (stop == 2) {
    loop_at = ni;
    nnfb_insn_loop(prog + 32 * ni++, 0, (uint16_t)nnf_rng_range(&w->r, 0, 3)); /* target: the entry, below */
    stop = 0;
  }
  if (stop == 1) { /* (not BANK: the cores have FEAT_BANKS) */
    uint8_t op = (uint8_t)nnf_rng_range(&w->r, 5, 254);
    nnfb_insn_op(prog + 32 * ni++, op >= NNFP_OP_BANK ? (uint8_t)(op + 1) : op);
  }
  else if (stop == 3 && w->cfg.state_words == 0) nnfb_insn_op(prog + 32 * ni++, NNFP_OP_LIF);
  else nnfb_insn_op(prog + 32 * ni++, NNFP_OP_END);
  CHECK(ni <= 16);
  uint32_t entry = 0;
  if (ni < PR) entry = (uint32_t)nnf_rng_range(&w->r, 0, PR - ni);
  if (ni > PR) ni = PR; /* the end of program memory stops it too */
  if (loop_at < ni) nnfp_put32(prog + 32 * loop_at + 16, entry);
  nnfb_write(w, 4, entry * 32, prog, (size_t)ni * 32);
  nnfb_run(w, entry, end_word);
  nnfb_read(w, 0, abase[1] * (uint32_t)e->rows, (size_t)(end_word - abase[1]) * (size_t)e->rows);
  w->st.gemm_progs++;
}

/* ---- a spiking program (LIF core) ----------------------------------------- */

static inline void nnfb_random_lif(nnfb_work *w, nnfb_lif *l) {
  l->du = (uint16_t)(nnf_rng_range(&w->r, 0, 3) ? nnf_rng_range(&w->r, 0, 4095) : 4095);
  l->dv = (uint16_t)nnf_rng_range(&w->r, 0, 4095);
  l->vth = (uint32_t)nnf_rng_range(&w->r, 0, nnf_rng_range(&w->r, 0, 1) ? 80 : 131071);
  l->bias_mant = (int16_t)nnf_rng_range(&w->r, -4096, 4095);
  l->bias_exp = (uint8_t)nnf_rng_range(&w->r, 0, 7);
  l->refractory = (uint8_t)(nnf_rng_range(&w->r, 0, 1) ? nnf_rng_range(&w->r, 0, 15) : 0);
  l->flags = (uint8_t)nnf_rng_range(&w->r, 0, 1) * NNFP_LIF_RESET_SUB;
}

static inline void nnfb_lif_program(nnfb_work *w) {
  const nnfm_config *e = &w->cfg.engine;
  const uint32_t AW = e->act_words, SW = w->cfg.state_words, PR = w->cfg.prog_words;
  uint32_t m, k0, n1, n2, tot;
  int inplace2 = (int)nnf_rng_range(&w->r, 0, 1);
  for (int attempt = 0;; attempt++) {
    m = attempt > 30 ? 1 : nnfb_dim(w, 1);
    k0 = attempt > 30 ? 1 : nnfb_dim(w, 1);
    n1 = attempt > 30 ? 1 : nnfb_dim(w, 1);
    n2 = attempt > 30 ? 1 : nnfb_dim(w, 1);
    tot = nnfm_act_words(e, m, k0) + 2 * nnfm_act_words(e, m, n1) + (inplace2 ? 1 : 2) * nnfm_act_words(e, m, n2);
    if (tot <= AW && m * (n1 + n2) <= SW && nnfm_w_words(e, k0, n1) + nnfm_w_words(e, n1, n2) <= e->w_words &&
        nnfm_p_entries(e, n1) + nnfm_p_entries(e, n2) <= e->p_words)
      break;
    CHECK(attempt < 40);
  }
  /* ACT: x | cur1 | spk1 | cur2 (| spk2) */
  uint32_t x = (uint32_t)nnf_rng_range(&w->r, 0, AW - tot);
  uint32_t cur1 = x + nnfm_act_words(e, m, k0), spk1 = cur1 + nnfm_act_words(e, m, n1);
  uint32_t cur2 = spk1 + nnfm_act_words(e, m, n1), spk2 = inplace2 ? cur2 : cur2 + nnfm_act_words(e, m, n2);
  uint32_t end_word = x + tot;
  uint32_t s1 = (uint32_t)nnf_rng_range(&w->r, 0, SW - m * (n1 + n2));
  uint32_t s2 = s1 + m * n1 + (uint32_t)nnf_rng_range(&w->r, 0, SW - m * (n1 + n2) - s1);
  uint32_t w2 = nnfm_w_words(e, k0, n1), p2 = nnfm_p_entries(e, n1);

  nnfb_layer_act(w, x, m, k0, 0);
  nnfb_layer_wp(w, k0, n1, 0, 0);
  nnfb_layer_wp(w, n1, n2, w2, p2);
  /* host-written state: random bytes (read back canonical), kept when the
   * first step does not clear */
  int clear = (int)nnf_rng_range(&w->r, 0, 1);
  {
    size_t nb = (size_t)m * (n1 + n2) * 16u;
    uint8_t *st = malloc(nb);
    CHECK(st != NULL);
    nnf_rng_fill(&w->r, st, nb);
    for (size_t i = 0; i < nb; i += 16) { /* keep |u|, |v| moderate mostly */
      if (nnf_rng_range(&w->r, 0, 3)) {
        st[i + 2] = st[i + 3] = st[i + 6] = st[i + 7] = 0;
        st[i + 8] = st[i + 9] = st[i + 10] = st[i + 11] = 0;
      }
    }
    nnfb_write(w, 5, s1 * 16u, st, (size_t)m * n1 * 16u);
    nnfb_write(w, 5, s2 * 16u, st + (size_t)m * n1 * 16u, (size_t)m * n2 * 16u);
    free(st);
  }
  nnfm_cmd g1, g2;
  memset(&g1, 0, sizeof g1);
  g1.m = m, g1.k = k0, g1.n = n1, g1.a_base = x, g1.o_base = cur1;
  nnfb_random_clamp(w, &g1);
  memset(&g2, 0, sizeof g2);
  g2.m = m, g2.k = n1, g2.n = n2, g2.a_base = spk1, g2.o_base = cur2, g2.w_base = w2, g2.p_base = p2;
  nnfb_random_clamp(w, &g2);
  nnfb_lif l1, l2;
  memset(&l1, 0, sizeof l1);
  memset(&l2, 0, sizeof l2);
  nnfb_random_lif(w, &l1);
  nnfb_random_lif(w, &l2);
  l1.m = l2.m = (uint16_t)m;
  l1.n = (uint16_t)n1, l1.a_base = cur1, l1.o_base = spk1, l1.s_base = s1;
  l2.n = (uint16_t)n2, l2.a_base = cur2, l2.o_base = spk2, l2.s_base = s2;
  uint8_t f1 = l1.flags, f2 = l2.flags | NNFP_LIF_COUNT;

  uint8_t prog[9 * 32];
  uint32_t T = (uint32_t)nnf_rng_range(&w->r, 0, 6), ni = 0;
  nnfb_insn_gemm(prog + 32 * ni++, &g1);
  l1.flags = f1 | (clear ? NNFP_LIF_CLEAR : 0);
  nnfb_insn_lif(prog + 32 * ni++, &l1);
  nnfb_insn_gemm(prog + 32 * ni++, &g2);
  l2.flags = f2 | (clear ? NNFP_LIF_CLEAR : 0);
  nnfb_insn_lif(prog + 32 * ni++, &l2);
  const uint32_t body = ni;
  l1.flags = f1;
  l2.flags = f2;
  nnfb_insn_lif(prog + 32 * ni++, &l1);
  nnfb_insn_gemm(prog + 32 * ni++, &g2);
  nnfb_insn_lif(prog + 32 * ni++, &l2);
  uint32_t entry = (uint32_t)nnf_rng_range(&w->r, 0, PR - 9);
  nnfb_insn_loop(prog + 32 * ni++, entry + body, (uint16_t)T);
  nnfb_insn_op(prog + 32 * ni++, NNFP_OP_END);
  nnfb_write(w, 4, entry * 32, prog, (size_t)ni * 32);
  w->st.gemms += 3;
  w->st.lifs += 4;
  w->st.loops++;
  nnfb_run(w, entry, end_word);
  nnfb_read(w, 0, cur1 * (uint32_t)e->rows, (size_t)(end_word - cur1) * (size_t)e->rows);
  nnfb_read(w, 5, s1 * 16u, (size_t)m * n1 * 16u);
  nnfb_read(w, 5, s2 * 16u, (size_t)m * n2 * 16u);
  w->st.lif_progs++;
}

/* ---- the rest of the protocol --------------------------------------------- */

static inline void nnfb_misc(nnfb_work *w) {
  const int nreg = w->cfg.state_words ? 6 : 5;
  uint8_t buf[4096 + 16], c4[4];
  switch ((int)nnf_rng_range(&w->r, 0, 11)) {
  case 0: nnfb_frame(w, NNFP_INFO, 0, NULL, 0); break;
  case 1: nnfb_frame(w, NNFP_STATUS, 0, NULL, 0); break;
  case 2:
    nnfb_frame(w, NNFP_COUNTERS, 0, NULL, 0);
    w->st.counters++;
    break;
  case 3: { /* a round trip of a random range of a random region */
    int region = (int)nnf_rng_range(&w->r, 0, nreg - 1);
    uint32_t size = nnfb_region_bytes(&w->cfg, region);
    uint32_t most = w->cfg.max_payload < size ? w->cfg.max_payload : size;
    uint32_t len = (uint32_t)nnf_rng_range(&w->r, 1, nnf_rng_range(&w->r, 0, 3) ? (most < 64 ? most : 64) : most);
    uint32_t at = (uint32_t)nnf_rng_range(&w->r, 0, size - len);
    nnf_rng_fill(&w->r, buf, len);
    nnfb_frame(w, NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | at, buf, (uint16_t)len);
    nnfp_put32(c4, len);
    nnfb_frame(w, NNFP_READ, ((uint32_t)region << NNFP_ARG_REGION_LSB) | at, c4, 4);
    w->st.roundtrips++;
    break;
  }
  case 4: { /* out of range: past a region's end, or no such region */
    int region = (int)nnf_rng_range(&w->r, 0, 15);
    uint32_t size = nnfb_region_bytes(&w->cfg, region);
    uint32_t len = (uint32_t)nnf_rng_range(&w->r, 1, 40);
    uint32_t at = size - (uint32_t)nnf_rng_range(&w->r, 0, len - 1 < size ? len - 1 : size);
    if (nnf_rng_range(&w->r, 0, 3) == 0) at = (uint32_t)nnf_rng_range(&w->r, 0, 0x0FFFFFFF);
    nnf_rng_fill(&w->r, buf, len);
    if (nnf_rng_range(&w->r, 0, 1)) {
      nnfb_frame(w, NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | at, buf, (uint16_t)len);
    } else {
      nnfp_put32(c4, len);
      nnfb_frame(w, NNFP_READ, ((uint32_t)region << NNFP_ARG_REGION_LSB) | at, c4, 4);
    }
    w->st.refusals++;
    break;
  }
  case 5: { /* BAD_LEN: READ counts 0 or past max_payload, payloads where none belongs */
    int what = (int)nnf_rng_range(&w->r, 0, 3);
    if (what == 0) {
      nnfp_put32(c4, nnf_rng_range(&w->r, 0, 1) ? 0 : w->cfg.max_payload + (uint32_t)nnf_rng_range(&w->r, 1, 9));
      nnfb_frame(w, NNFP_READ, 0, c4, 4);
    } else if (what == 1) {
      nnfb_frame(w, NNFP_READ, 0, c4, (uint16_t)nnf_rng_range(&w->r, 1, 3));
    } else {
      static const uint8_t types[] = {NNFP_INFO, NNFP_RUN, NNFP_WAIT, NNFP_STATUS, NNFP_COUNTERS, NNFP_RESET};
      nnf_rng_fill(&w->r, buf, 8);
      nnfb_frame(w, types[nnf_rng_range(&w->r, 0, 5)], 0, buf, (uint16_t)nnf_rng_range(&w->r, 1, 8));
    }
    w->st.refusals++;
    break;
  }
  case 6: { /* UNKNOWN */
    static const uint8_t types[] = {0x00, 0x0B, 0x0F, 0x7F, 0x80, 0x81, 0xFE, 0xFF};
    nnfb_frame(w, types[nnf_rng_range(&w->r, 0, 7)], nnf_rng_u32(&w->r), NULL, 0);
    w->st.refusals++;
    break;
  }
  case 7: /* BAD_PROG */
    nnfb_frame(w, NNFP_RUN, w->cfg.prog_words + (uint32_t)nnf_rng_range(&w->r, 0, 1000), NULL, 0);
    w->st.refusals++;
    break;
  case 8: { /* a damaged payload: ERR BAD_CRC, nothing written */
    uint16_t len = (uint16_t)nnf_rng_range(&w->r, 1, 64);
    nnf_rng_fill(&w->r, buf, len);
    nnfb_wchunk *c = nnfb_new_chunk(w, nnfp_frame_size(len), NNFB_W_FRAME);
    c->nin = nnfp_encode(c->in, NNFP_WRITE, ++w->seq, 0, buf, len);
    c->in[14 + nnf_rng_range(&w->r, 0, len + 3)] ^= (uint8_t)(1u << nnf_rng_range(&w->r, 0, 7));
    nnfb_close_chunk(w);
    w->st.refusals++;
    break;
  }
  case 9: { /* garbage with sync bytes, then zeros so a header it began ends */
    size_t n = (size_t)nnf_rng_range(&w->r, 1, 100);
    nnfb_wchunk *c = nnfb_new_chunk(w, n + 16, NNFB_W_GARBAGE);
    nnf_rng_fill(&w->r, c->in, n);
    for (size_t i = 0; i + 1 < n; i += (size_t)nnf_rng_range(&w->r, 5, 30)) {
      c->in[i] = 0xA5;
      c->in[i + 1] = 0x5A;
    }
    memset(c->in + n, 0, 16);
    nnfb_close_chunk(w);
    break;
  }
  case 10: /* RESET: counters (bit 0), abort (bit 1, nothing runs) */
    nnfb_frame(w, NNFP_RESET, (uint32_t)nnf_rng_range(&w->r, 0, 3), NULL, 0);
    break;
  default: /* WAIT with nothing running */
    nnfb_frame(w, NNFP_WAIT, 0, NULL, 0);
    break;
  }
}

/* A frame cut short after a good header: ERR TIMEOUT after TIMEOUT cycles. */
static inline void nnfb_cut(nnfb_work *w) {
  uint8_t pl[64];
  uint16_t len = (uint16_t)nnf_rng_range(&w->r, 1, sizeof pl);
  nnf_rng_fill(&w->r, pl, len);
  nnfb_wchunk *c = nnfb_new_chunk(w, nnfp_frame_size(len), NNFB_W_CUT);
  nnfp_encode(c->in, NNFP_WRITE, ++w->seq, 0, pl, len);
  c->nin = 14 + (size_t)nnf_rng_range(&w->r, 0, len + 2);
  nnfb_close_chunk(w);
  w->st.cuts++;
}

/* Build a workload of about `budget` bytes in and out; `cuts` frames cut
 * short; largest layer dimension max_dim; flow: see nnfb_work. */
static inline void nnfb_work_build(nnfb_work *w, uint64_t seed, size_t budget, size_t max_dim, int cuts, int flow) {
  memset(w, 0, sizeof *w);
  w->cfg = nnfb_board_config();
  w->r = nnf_rng_seed(seed);
  w->max_dim = max_dim;
  w->flow = flow;
  w->dev = nnfm_device_create(&w->cfg);
  w->img = nnfm_engine_create(&w->cfg.engine);
  CHECK(w->dev != NULL && w->img != NULL);
  nnfb_frame(w, NNFP_INFO, 0, NULL, 0);
  while (w->bytes < budget) {
    int pick = (int)nnf_rng_range(&w->r, 0, 9);
    if (pick < 3) nnfb_gemm_program(w);
    else if (pick < 5 && w->cfg.state_words) nnfb_lif_program(w);
    else nnfb_misc(w);
  }
  for (int i = 0; i < cuts; i++) {
    nnfb_cut(w);
    nnfb_frame(w, NNFP_INFO, 0, NULL, 0);
  }
  nnfb_frame(w, NNFP_STATUS, 0, NULL, 0);
  nnfb_frame(w, NNFP_COUNTERS, 0, NULL, 0);
  /* every program was inside the contract: the model refused nothing */
  nnfm_device_stats s = nnfm_device_get_stats(w->dev);
  CHECK_EQ_U64(s.refused_gemms, 0);
  CHECK_EQ_U64(s.refused_lifs, 0);
}

/* Read whole regions at the end (after the workload; a stream port can). */
static inline void nnfb_work_dump(nnfb_work *w) {
  const int nreg = w->cfg.state_words ? 6 : 5;
  for (int region = 0; region < nreg; region++) nnfb_read(w, region, 0, nnfb_region_bytes(&w->cfg, region));
  nnfb_frame(w, NNFP_COUNTERS, 0, NULL, 0);
}

static inline void nnfb_work_free(nnfb_work *w) {
  for (int i = 0; i < w->n; i++) {
    free(w->c[i].in);
    free(w->c[i].out);
  }
  free(w->c);
  nnfm_engine_destroy(w->img);
  nnfm_device_destroy(w->dev);
  memset(w, 0, sizeof *w);
}

/* Compare the device's answer to chunk i with the model's. COUNTERS: MACs,
 * link bytes in / out and frame errors must be equal; cycles, busy and
 * stall cycles (the model has no time) must fit CNT_W bits; the frame's
 * header and CRCs must be right. Everything else: byte for byte. */
static inline void nnfb_work_check(const nnfb_work *w, int i, const uint8_t *got, size_t ngot) {
  const nnfb_wchunk *c = &w->c[i];
  if (c->kind != NNFB_W_COUNTERS || c->nout != nnfp_frame_size(NNFP_COUNTERS_BYTES) || nnfp_hdr_get_type(c->out) != NNFP_OK(NNFP_COUNTERS)) {
    CHECK_EQ(ngot, c->nout);
    CHECK_MEM_EQ(got, c->out, c->nout);
    return;
  }
  CHECK_EQ(ngot, c->nout);
  CHECK_MEM_EQ(got, c->out, 14); /* header: type, seq, len, arg, hcrc */
  const uint8_t *g = got + 14, *m = c->out + 14;
  CHECK_EQ(nnfp_get32(g + NNFP_COUNTERS_BYTES), nnfp_crc32(0, g, NNFP_COUNTERS_BYTES));
  CHECK_MEM_EQ(g + 16, m + 16, 8);  /* MACs */
  CHECK_MEM_EQ(g + 32, m + 32, 24); /* bytes in, bytes out, frame errors */
  static const int timed[] = {0, 8, 24};
  for (int t = 0; t < 3; t++) {
    CHECK_EQ_U64(nnfp_get64(m + timed[t]), 0);
    for (int b = NNFB_P_CNT_W / 8; b < 8; b++) CHECK_EQ(g[timed[t] + b], 0);
  }
  CHECK(nnfp_get64(g) > 0); /* cycles ran */
}

#endif /* NNFB_WORK_H */
