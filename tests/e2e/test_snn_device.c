/*
 * test_snn_device.c - spiking programs (GEMM + LIF + LOOP) through the driver, on
 * the RTL simulator ("sim") and the functional model ("model") side by side.
 *
 *   test_snn_device [CASES [SEED]]
 *
 * - driver refusals: every LIF field out of range, LOOP count 0 (T = 0),
 *   targets outside program memory; nothing reaches the device;
 * - the STATE region: byte round trips and the canonical read-back (u held in
 *   25 bits, v in 24, ref in 4), identical on both devices;
 * - LOOP semantics on both devices (count, one active LOOP, a nested LOOP
 *   falling through, a target past the end), compared with STATUS;
 * - the u = +2^23 corner reached on the device from host-written state;
 * - CASES random two-layer SNN programs in the lead's form
 *     GEMM1 (x -> cur1); LIF1 (clear) GEMM2 LIF2 (clear, count);
 *     body: LIF1 GEMM2 LIF2 (count); LOOP(body, T - 1)
 *   with random shapes, parameters (full ranges) and layouts (in-place LIF
 *   output, odd bases, ragged tiles), and random recurrent programs that
 *   start from host-written random state bytes; ACT and STATE compared byte
 *   for byte between the RTL and the model, and the model's spike counts
 *   and final spikes against a row-major reference (nnfm_gemm +
 *   nnfm_lif_step) that knows nothing of the device's layouts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm.h"
#include "nnfm_lif.h"

static nnf_rng rng;
static int64_t rr(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }

static nnfdrv *open_dev(const char *uri) {
  char err[256];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc != NNFDRV_OK) {
    fprintf(stderr, "cannot open %s: %s (%s)\n", uri, err, nnfdrv_strerror(rc));
    exit(1);
  }
  return d;
}

/* Both devices, every operation done on each. */
static nnfdrv *dev[2];
static const char *dev_name[2] = {"sim", "model"};

static void both_write(int region, uint32_t addr, const void *buf, size_t len) {
  for (int i = 0; i < 2; i++) CHECK_EQ(nnfdrv_write(dev[i], region, addr, buf, len), NNFDRV_OK);
}

static void both_run(uint32_t entry) {
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(nnfdrv_run(dev[i], entry), NNFDRV_OK);
    CHECK_EQ(nnfdrv_wait(dev[i]), NNFDRV_OK);
  }
}

/* Read [addr, addr+len) of a region from both and require equal bytes;
 * the model's copy goes to out (may be NULL). */
static void both_compare(int region, uint32_t addr, size_t len, uint8_t *out) {
  uint8_t *b[2];
  for (int i = 0; i < 2; i++) {
    b[i] = malloc(len + 1);
    CHECK_EQ(nnfdrv_read(dev[i], region, addr, b[i], len), NNFDRV_OK);
  }
  CHECK_MEM_EQ(b[0], b[1], len);
  if (out) memcpy(out, b[1], len);
  free(b[0]);
  free(b[1]);
}

static void both_status(uint16_t *pc) {
  nnfdrv_state st[2];
  for (int i = 0; i < 2; i++) CHECK_EQ(nnfdrv_get_state(dev[i], &st[i]), NNFDRV_OK);
  CHECK_EQ(st[0].running, 0);
  CHECK_EQ(st[0].pc, st[1].pc);
  CHECK_EQ(st[0].last_error, st[1].last_error);
  if (pc) *pc = st[1].pc;
}

/* ---- driver refusals --------------------------------------------------------- */

static nnfdrv_lif lif_ok(void) {
  nnfdrv_lif l;
  memset(&l, 0, sizeof l);
  l.m = 1;
  l.n = 1;
  return l;
}

static void expect_lif_refused(const nnfdrv_lif *l) {
  uint8_t out[32];
  memset(out, 0xEE, sizeof out);
  CHECK_EQ(nnfdrv_insn_lif(out, l), NNFDRV_ERR_ARG);
  for (int i = 0; i < 32; i++) CHECK_EQ(out[i], 0xEE); /* nothing written */
}

static void test_driver_refusals(void) {
  uint8_t out[32];
  nnfdrv_lif l = lif_ok();
  CHECK_EQ(nnfdrv_insn_lif(out, &l), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_lif(NULL, &l), NNFDRV_ERR_ARG);
  CHECK_EQ(nnfdrv_insn_lif(out, NULL), NNFDRV_ERR_ARG);
  l.m = 0; expect_lif_refused(&l); l = lif_ok();
  l.n = 0; expect_lif_refused(&l); l = lif_ok();
  l.du = 4096; expect_lif_refused(&l); l = lif_ok();
  l.dv = 4096; expect_lif_refused(&l); l = lif_ok();
  l.vth = 131072; expect_lif_refused(&l); l = lif_ok();
  l.vth = -1; expect_lif_refused(&l); l = lif_ok();
  l.bias_mant = 4096; expect_lif_refused(&l); l = lif_ok();
  l.bias_mant = -4097; expect_lif_refused(&l); l = lif_ok();
  l.bias_exp = 8; expect_lif_refused(&l); l = lif_ok();
  l.reset_sub = 2; expect_lif_refused(&l); l = lif_ok();
  l.refractory = 16; expect_lif_refused(&l); l = lif_ok();
  l.count = 2; expect_lif_refused(&l); l = lif_ok();
  l.clear = 2; expect_lif_refused(&l); l = lif_ok();
  /* the extremes are accepted and encoded as documented */
  l.m = 65535; l.n = 65535; l.du = 4095; l.dv = 4095; l.vth = 131071; l.bias_mant = -4096;
  l.bias_exp = 7; l.reset_sub = 1; l.refractory = 15; l.count = 1; l.clear = 1;
  l.a_base = 0x11223344; l.s_base = 0x55667788; l.o_base = 0x99AABBCC;
  CHECK_EQ(nnfdrv_insn_lif(out, &l), NNFDRV_OK);
  CHECK_EQ(out[0], NNFP_OP_LIF);
  CHECK_EQ(out[1], NNFP_LIF_RESET_SUB | NNFP_LIF_COUNT | NNFP_LIF_CLEAR);
  CHECK_EQ(out[2], 15);
  CHECK_EQ(out[3], 7);
  CHECK_EQ((int16_t)nnfp_get16(out + 4), -4096);
  CHECK_EQ(nnfp_get16(out + 8), 65535);
  CHECK_EQ(nnfp_get16(out + 10), 4095);
  CHECK_EQ(nnfp_get16(out + 12), 65535);
  CHECK_EQ(nnfp_get16(out + 14), 4095);
  CHECK_EQ(nnfp_get32(out + 16), 0x11223344u);
  CHECK_EQ(nnfp_get32(out + 20), 131071);
  CHECK_EQ(nnfp_get32(out + 24), 0x55667788u);
  CHECK_EQ(nnfp_get32(out + 28), 0x99AABBCCu);
  /* LOOP: T = 0 (count 0) and counts / targets that cannot be */
  memset(out, 0xEE, sizeof out);
  CHECK_EQ(nnfdrv_insn_loop(out, 0, 0), NNFDRV_ERR_ARG);
  CHECK_EQ(out[0], 0xEE);
  CHECK_EQ(nnfdrv_insn_loop(out, 0, 65536), NNFDRV_ERR_ARG);
  CHECK_EQ(nnfdrv_insn_loop(out, 65536, 2), NNFDRV_ERR_ARG);
  CHECK_EQ(out[0], 0xEE);
  CHECK_EQ(nnfdrv_insn_loop(out, 3, 65535), NNFDRV_OK);
  CHECK_EQ(out[0], NNFP_OP_LOOP);
  CHECK_EQ(nnfp_get16(out + 8), 65535);
  CHECK_EQ(nnfp_get32(out + 16), 3);
  /* a LOOP outside this device's program memory is refused before sending */
  for (int i = 0; i < 2; i++) {
    const nnfdrv_info *in = nnfdrv_get_info(dev[i]);
    uint8_t prog[64];
    nnfdrv_insn_end(prog);
    CHECK_EQ(nnfdrv_insn_loop(prog + 32, in->prog_words, 2), NNFDRV_OK);
    uint64_t sent = nnfdrv_get_link_stats(dev[i]).frames_sent;
    CHECK_EQ(nnfdrv_write(dev[i], NNFDRV_PROG, 0, prog, 64), NNFDRV_ERR_ARG);
    CHECK_EQ(nnfdrv_get_link_stats(dev[i]).frames_sent, sent);
    CHECK_EQ(nnfdrv_insn_loop(prog + 32, in->prog_words - 1, 2), NNFDRV_OK);
    CHECK_EQ(nnfdrv_write(dev[i], NNFDRV_PROG, 0, prog, 64), NNFDRV_OK);
    /* the STATE region's end */
    uint8_t b[16];
    CHECK_EQ(nnfdrv_read(dev[i], NNFDRV_STATE, in->state_words * 16 - 8, b, 16), NNFDRV_ERR_ARG);
  }
}

/* ---- INFO and the STATE region ------------------------------------------------- */

static void test_info_and_state(void) {
  const nnfdrv_info *a = nnfdrv_get_info(dev[0]), *b = nnfdrv_get_info(dev[1]);
  /* the same INFO, CONV and POOL included on both ... */
  CHECK_EQ(a->features & NNFP_FEAT_CONV, NNFP_FEAT_CONV);
  /* ... but the configuration: the RTL's is configs/sim.json's, the model's none */
  CHECK_EQ(a->config_id, (uint32_t)NNF_SIM_CONFIG_ID);
  CHECK_EQ(b->config_id, 0u);
  nnfdrv_info bm;
  memcpy(&bm, b, sizeof bm);
  bm.config_id = a->config_id;
  CHECK(memcmp(a, &bm, sizeof *a) == 0);
  CHECK(a->features & 4);
  CHECK_EQ(a->state_words, 16384);
  CHECK_EQ(a->rtl_version, 0x0002);
  /* canonical read-back: u sign-extends bit 24, v bit 23, ref keeps 4 bits,
   * bytes 13..15 read 0; count is stored whole */
  uint8_t e[4][16] = {
      {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
      {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x78, 0x56, 0x34, 0x12, 0x3A, 0x00, 0x00, 0x00},
      {0x00, 0x00, 0x00, 0xFE, 0x12, 0x34, 0x7F, 0xFF, 0, 0, 0, 0, 0x10, 0x55, 0x66, 0x77},
      {0x34, 0x12, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 9, 0, 0, 0, 5, 0, 0, 0},
  };
  uint8_t want[4][16] = {
      {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0},
      {0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x80, 0xFF, 0x78, 0x56, 0x34, 0x12, 0x0A, 0, 0, 0},
      {0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x7F, 0x00, 0, 0, 0, 0, 0x00, 0, 0, 0},
      {0x34, 0x12, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 9, 0, 0, 0, 5, 0, 0, 0},
  };
  both_write(NNFDRV_STATE, 16 * 100, e, sizeof e);
  uint8_t got[4][16];
  both_compare(NNFDRV_STATE, 16 * 100, sizeof got, &got[0][0]);
  CHECK_MEM_EQ(&got[0][0], &want[0][0], sizeof want);
  /* single bytes, at odd places */
  uint8_t one = 0x81;
  both_write(NNFDRV_STATE, 16 * 100 + 3, &one, 1); /* u bit 24 set: u reads back 0xFF...... */
  both_write(NNFDRV_STATE, 16 * 100 + 7, &one, 1); /* v byte 3: ignored */
  both_compare(NNFDRV_STATE, 16 * 100, 16, &got[0][0]);
  CHECK_EQ(got[0][3], 0xFF);
  CHECK_EQ(got[0][7], 0xFF);
}

/* ---- LOOP semantics ------------------------------------------------------------ */

/* A LIF used as an observable "tick": one neuron with vth 0, bias 1 and
 * count 1 spikes every step, so its count is the number of executions. */
static void tick(uint8_t out[32], uint32_t entry) {
  nnfdrv_lif l = lif_ok();
  l.vth = 0;
  l.bias_mant = 1;
  l.count = 1;
  l.a_base = 0;
  l.o_base = 1;
  l.s_base = entry;
  CHECK_EQ(nnfdrv_insn_lif(out, &l), NNFDRV_OK);
}

static uint32_t count_of(uint32_t entry) {
  uint8_t b[NNFP_STATE_BYTES];
  both_compare(NNFDRV_STATE, entry * NNFP_STATE_BYTES, NNFP_STATE_BYTES, b);
  return nnfp_state_get_count(b);
}

static void clear_ticks(void) {
  uint8_t z[16 * 4] = {0};
  both_write(NNFDRV_STATE, 0, z, sizeof z);
}

static void test_loops(void) {
  uint8_t prog[16][32];
  uint16_t pc;
  uint8_t zero[16] = {0};
  both_write(NNFDRV_ACT, 0, zero, sizeof zero);
  /* T = 1: no loop; T = 5: body once, LOOP count 4 (the lead's unrolled form) */
  for (uint32_t count = 1; count <= 5; count++) {
    clear_ticks();
    tick(prog[0], 0);
    tick(prog[1], 1);
    CHECK_EQ(nnfdrv_insn_loop(prog[2], 1, count), NNFDRV_OK);
    tick(prog[3], 2);
    nnfdrv_insn_end(prog[4]);
    both_write(NNFDRV_PROG, 0, prog, 5 * 32);
    both_run(0);
    CHECK_EQ(count_of(0), 1);
    CHECK_EQ(count_of(1), count);
    CHECK_EQ(count_of(2), 1);
    both_status(&pc);
    CHECK_EQ(pc, 4);
  }
  /* nested: the inner LOOP met while the outer is active falls through; when
   * the inner one is reached first it runs fully, then the outer takes over */
  clear_ticks();
  tick(prog[0], 0);                                 /* 0: outer body start */
  tick(prog[1], 1);                                 /* 1: inner body */
  CHECK_EQ(nnfdrv_insn_loop(prog[2], 1, 3), NNFDRV_OK); /* 2: inner x3 */
  CHECK_EQ(nnfdrv_insn_loop(prog[3], 0, 4), NNFDRV_OK); /* 3: outer x4 */
  nnfdrv_insn_end(prog[4]);
  both_write(NNFDRV_PROG, 0, prog, 5 * 32);
  both_run(0);
  /* first pass: inner runs 3 times (body 1 x3), outer then jumps back 3 times
   * with the inner LOOP falling through: tick 0 x4, tick 1 x(3 + 3) */
  CHECK_EQ(count_of(0), 4);
  CHECK_EQ(count_of(1), 6);
  both_status(&pc);
  CHECK_EQ(pc, 4);
  /* a forward target skips; a target past the end (raw write, the driver
   * refuses it) ends the program with pc = prog_words */
  clear_ticks();
  CHECK_EQ(nnfdrv_insn_loop(prog[0], 2, 2), NNFDRV_OK);
  tick(prog[1], 0);
  tick(prog[2], 1);
  CHECK_EQ(nnfdrv_insn_loop(prog[3], 3, 3), NNFDRV_OK); /* target = itself: 3 visits */
  tick(prog[4], 2);
  nnfdrv_insn_end(prog[5]);
  both_write(NNFDRV_PROG, 0, prog, 6 * 32);
  both_run(0);
  /* LOOP 0 activates and jumps to 2 (skipping 1); LOOP 3 is met while LOOP 0 is
   * active and not its own: falls through; tick 2; END */
  CHECK_EQ(count_of(0), 0);
  CHECK_EQ(count_of(1), 1);
  CHECK_EQ(count_of(2), 1);
  for (int i = 0; i < 2; i++) {
    const nnfdrv_info *in = nnfdrv_get_info(dev[i]);
    uint8_t lp[32];
    CHECK_EQ(nnfdrv_insn_loop(lp, 0, 2), NNFDRV_OK);
    nnfp_put32(lp + 16, in->prog_words + 7);
    uint16_t n;
    CHECK_EQ(nnfdrv_transact(dev[i], -1, NNFP_WRITE, (uint32_t)NNFDRV_PROG << NNFP_ARG_REGION_LSB, lp, 32, NULL, 0, &n),
             NNFDRV_OK);
  }
  both_run(0);
  both_status(&pc);
  CHECK_EQ(pc, nnfdrv_get_info(dev[0])->prog_words);
}

/* ---- the overflow corner on the device ---------------------------------------- */

static void test_corner_on_device(void) {
  /* 4 neurons of one row: u = 8382527, -8382527, 8382528, 2^23 (a state only
   * the corner itself reaches), currents 127, -127, 127, 127; du = 0, dv = 0,
   * vth max (8388544), clear 0 */
  int32_t u0[4] = {8382527, -8382527, 8382528, 8388608};
  int8_t a[8] = {127, -127, 127, 127, 0, 0, 0, 0};
  int32_t u_want[4] = {8388608, 8388608, -8388607, -8382528};
  uint8_t st[4][16];
  memset(st, 0, sizeof st);
  for (int i = 0; i < 4; i++) nnfp_put32(st[i], (uint32_t)u0[i]);
  both_write(NNFDRV_STATE, 16 * 200, st, sizeof st);
  both_write(NNFDRV_ACT, 8 * 40, a, 8);
  nnfdrv_lif l = lif_ok();
  l.n = 4;
  l.vth = 131071;
  l.count = 1;
  l.a_base = 40;
  l.o_base = 41;
  l.s_base = 200;
  uint8_t prog[2][32];
  CHECK_EQ(nnfdrv_insn_lif(prog[0], &l), NNFDRV_OK);
  nnfdrv_insn_end(prog[1]);
  both_write(NNFDRV_PROG, 0, prog, sizeof prog);
  both_run(0);
  uint8_t got[4][16], spk[8];
  both_compare(NNFDRV_STATE, 16 * 200, sizeof got, &got[0][0]);
  both_compare(NNFDRV_ACT, 8 * 41, 8, spk);
  for (int i = 0; i < 4; i++) {
    nnf_test_ctx("corner neuron %d", i);
    CHECK_EQ((int32_t)nnfp_get32(got[i]), u_want[i]);
  }
  nnf_test_ctx("");
  /* v' = clip(u') spikes exactly where u' = +2^23 */
  CHECK_EQ(spk[0], 1);
  CHECK_EQ(spk[1], 1);
  CHECK_EQ(spk[2], 0);
  CHECK_EQ(spk[3], 0);
}

/* ---- random SNN programs ----------------------------------------------------------- */

typedef struct {
  nnfm_lif_params p;
  int count, clear;
} lif_cfg;

static lif_cfg random_lif(void) {
  lif_cfg c;
  int kind = (int)rr(0, 3);
  c.p.du = (uint16_t)(kind == 0 ? 4095 : rr(0, 4095));
  c.p.dv = (uint16_t)(kind == 1 ? rr(0, 64) : rr(0, 4095));
  c.p.vth = (int32_t)(kind == 2 ? rr(0, 131071) : kind == 3 ? rr(0, 20) : rr(0, 400));
  c.p.bias_mant = (int16_t)rr(-4096, 4095);
  c.p.bias_exp = (uint8_t)(rr(0, 3) == 0 ? rr(0, 7) : 0);
  if (rr(0, 1)) c.p.bias_mant = (int16_t)rr(-64, 64);
  c.p.reset_sub = (uint8_t)rr(0, 1);
  c.p.refractory = (uint8_t)(rr(0, 2) == 0 ? rr(0, 15) : 0);
  c.count = (int)rr(0, 1);
  c.clear = 0;
  return c;
}

static void enc_lif(uint8_t out[32], const lif_cfg *c, int m, int n, uint32_t a, uint32_t o,
                    uint32_t s, int clear, int count) {
  nnfdrv_lif l;
  memset(&l, 0, sizeof l);
  l.m = (uint16_t)m;
  l.n = (uint16_t)n;
  l.a_base = a;
  l.o_base = o;
  l.s_base = s;
  l.du = c->p.du;
  l.dv = c->p.dv;
  l.vth = c->p.vth;
  l.bias_mant = c->p.bias_mant;
  l.bias_exp = c->p.bias_exp;
  l.reset_sub = c->p.reset_sub;
  l.refractory = c->p.refractory;
  l.count = (uint8_t)count;
  l.clear = (uint8_t)clear;
  CHECK_EQ(nnfdrv_insn_lif(out, &l), NNFDRV_OK);
}

typedef struct {
  int k, n;
  int8_t *w;
  int32_t *bias, *m0;
  int8_t *shift;
  int8_t zp, lo, hi;
} dense;

static void dense_random(dense *L, int k, int n) {
  L->k = k;
  L->n = n;
  L->w = malloc((size_t)k * n + 1);
  L->bias = malloc(sizeof(int32_t) * (size_t)n);
  L->m0 = malloc(sizeof(int32_t) * (size_t)n);
  L->shift = malloc((size_t)n);
  for (int i = 0; i < k * n; i++) L->w[i] = (int8_t)rr(-127, 127);
  for (int j = 0; j < n; j++) {
    L->bias[j] = (int32_t)rr(-3000, 3000);
    L->m0[j] = (int32_t)rr(1 << 30, (1LL << 31) - 1);
    L->shift[j] = (int8_t)rr(-9, -3);
  }
  L->zp = (int8_t)rr(-10, 10);
  L->lo = -128;
  L->hi = 127;
}

static void dense_free(dense *L) {
  free(L->w);
  free(L->bias);
  free(L->m0);
  free(L->shift);
}

/* Place a layer's weights and parameters into both devices (through a
 * scratch engine image for the layouts). */
static void put_dense(nnfm_engine *img, const dense *L, uint32_t w_base, uint32_t p_base) {
  const nnfm_config *c = &img->cfg;
  CHECK_OK(nnfm_engine_put_weights(img, w_base, L->w, (uint32_t)L->k, (uint32_t)L->n));
  CHECK_OK(nnfm_engine_put_params(img, p_base, L->bias, L->m0, L->shift, (uint32_t)L->n));
  uint32_t ww = nnfm_w_words(c, (uint32_t)L->k, (uint32_t)L->n), pe = nnfm_p_entries(c, (uint32_t)L->n);
  size_t wb = (size_t)ww * c->cols, pb = (size_t)pe * c->cols * 16;
  uint8_t *buf = malloc(wb + pb + 1);
  CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_W, w_base * c->cols, buf, wb));
  both_write(NNFDRV_W, w_base * c->cols, buf, wb);
  CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_P, p_base * c->cols * 16, buf, pb));
  both_write(NNFDRV_P, p_base * c->cols * 16, buf, pb);
  free(buf);
}

static void enc_gemm(uint8_t out[32], const dense *L, int m, uint32_t a, uint32_t w, uint32_t p,
                     uint32_t o) {
  nnfdrv_gemm g;
  memset(&g, 0, sizeof g);
  g.m = (uint16_t)m;
  g.k = (uint16_t)L->k;
  g.n = (uint16_t)L->n;
  g.a_base = a;
  g.w_base = w;
  g.p_base = p;
  g.o_base = o;
  g.zp = L->zp;
  g.lo = L->lo;
  g.hi = L->hi;
  nnfdrv_insn_gemm(out, &g);
}

static void ref_gemm(const dense *L, int m, const int8_t *a, int8_t *y) {
  nnfm_gemm_args g = {m, L->k, L->n, L->zp, L->lo, L->hi, NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&g, a, L->w, L->bias, L->m0, L->shift, y));
}

static void ref_lif(const lif_cfg *c, nnfm_lif_state *s, uint32_t *cnt, const int8_t *a, int8_t *out,
                    int count, int clear, int len) {
  if (clear) {
    memset(s, 0, sizeof *s * (size_t)len);
    memset(cnt, 0, sizeof *cnt * (size_t)len);
  }
  for (int i = 0; i < len; i++) {
    int sp = nnfm_lif_step(&c->p, &s[i], a[i]);
    out[i] = (int8_t)sp;
    if (count) cnt[i] += (uint32_t)sp;
  }
}

static uint64_t total_updates, total_spikes;

/* The lead's two-layer program, checked three ways. */
static void snn_case(nnfm_engine *img, int cs) {
  const nnfm_config *c = &img->cfg;
  int m = (int)rr(1, 24), k = (int)rr(1, 40), h = (int)rr(1, 48), o = (int)rr(1, 20);
  int T = (int)rr(1, 7);
  if (cs % 7 == 0) T = 1;
  dense L1, L2;
  dense_random(&L1, k, h);
  dense_random(&L2, h, o);
  lif_cfg c1 = random_lif(), c2 = random_lif();
  nnf_test_ctx("snn case %d: m %d k %d h %d o %d T %d", cs, m, k, h, o, T);
  /* ACT layout with random gaps; LIF2 sometimes in place */
  uint32_t x_at = (uint32_t)rr(0, 50);
  uint32_t c1_at = x_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)k) + (uint32_t)rr(0, 5);
  uint32_t s1_at = c1_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)h) + (uint32_t)rr(0, 5);
  uint32_t c2_at = s1_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)h) + (uint32_t)rr(0, 5);
  uint32_t s2_at = rr(0, 1) ? c2_at : c2_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)o) + (uint32_t)rr(0, 5);
  uint32_t st1 = (uint32_t)rr(0, 300), st2 = st1 + (uint32_t)(m * h) + (uint32_t)rr(0, 300);
  uint32_t w1 = (uint32_t)rr(0, 20), w2 = w1 + nnfm_w_words(c, (uint32_t)k, (uint32_t)h);
  uint32_t p1 = (uint32_t)rr(0, 3), p2 = p1 + nnfm_p_entries(c, (uint32_t)h);
  put_dense(img, &L1, w1, p1);
  put_dense(img, &L2, w2, p2);
  int8_t *x = malloc((size_t)(m * k));
  for (int i = 0; i < m * k; i++) x[i] = (int8_t)rr(-128, 127);
  CHECK_OK(nnfm_engine_put_act(img, x_at, x, (uint32_t)m, (uint32_t)k));
  size_t xb = (size_t)nnfm_act_words(c, (uint32_t)m, (uint32_t)k) * c->rows;
  uint8_t *xbuf = malloc(xb);
  CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_ACT, x_at * c->rows, xbuf, xb));
  both_write(NNFDRV_ACT, x_at * c->rows, xbuf, xb);
  free(xbuf);
  /* junk in the state entries: clear must hide it */
  size_t sb = (size_t)(st2 + (uint32_t)(m * o)) * 16;
  uint8_t *junk = malloc(sb);
  nnf_rng_fill(&rng, junk, sb);
  both_write(NNFDRV_STATE, 0, junk, sb);
  free(junk);

  uint8_t prog[9][32];
  int np = 0;
  enc_gemm(prog[np++], &L1, m, x_at, w1, p1, c1_at);
  enc_lif(prog[np++], &c1, m, h, c1_at, s1_at, st1, 1, c1.count);
  enc_gemm(prog[np++], &L2, m, s1_at, w2, p2, c2_at);
  enc_lif(prog[np++], &c2, m, o, c2_at, s2_at, st2, 1, 1);
  if (T > 1) {
    int body = np;
    enc_lif(prog[np++], &c1, m, h, c1_at, s1_at, st1, 0, c1.count);
    enc_gemm(prog[np++], &L2, m, s1_at, w2, p2, c2_at);
    enc_lif(prog[np++], &c2, m, o, c2_at, s2_at, st2, 0, 1);
    CHECK_EQ(nnfdrv_insn_loop(prog[np++], (uint32_t)body, (uint32_t)(T - 1)), NNFDRV_OK);
  }
  nnfdrv_insn_end(prog[np++]);
  both_write(NNFDRV_PROG, 0, prog, (size_t)np * 32);
  both_run(0);
  both_status(NULL);
  total_updates += (uint64_t)T * (uint64_t)(m * (h + o));

  /* RTL == model, every byte the program touched (and the gaps) */
  uint32_t act_end = s2_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)o);
  if (c2_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)o) > act_end)
    act_end = c2_at + nnfm_act_words(c, (uint32_t)m, (uint32_t)o);
  uint8_t *act = malloc((size_t)act_end * c->rows);
  both_compare(NNFDRV_ACT, 0, (size_t)act_end * c->rows, act);
  uint8_t *state = malloc(sb);
  both_compare(NNFDRV_STATE, 0, sb, state);

  /* the model against the row-major reference */
  int8_t *cur1 = malloc((size_t)(m * h)), *spk1 = malloc((size_t)(m * h));
  int8_t *cur2 = malloc((size_t)(m * o)), *spk2 = malloc((size_t)(m * o));
  nnfm_lif_state *s1 = calloc((size_t)(m * h), sizeof *s1), *s2 = calloc((size_t)(m * o), sizeof *s2);
  uint32_t *n1 = calloc((size_t)(m * h), 4), *n2 = calloc((size_t)(m * o), 4);
  ref_gemm(&L1, m, x, cur1);
  for (int t = 0; t < T; t++) {
    ref_lif(&c1, s1, n1, cur1, spk1, c1.count, t == 0, m * h);
    ref_gemm(&L2, m, spk1, cur2);
    ref_lif(&c2, s2, n2, cur2, spk2, 1, t == 0, m * o);
  }
  int8_t *dev_spk2 = malloc((size_t)(m * o));
  nnfm_engine *rd = img; /* reuse the image's layout helpers on the read-back bytes */
  memcpy(rd->act, act, (size_t)act_end * c->rows);
  CHECK_OK(nnfm_engine_get_act(rd, s2_at, dev_spk2, (uint32_t)m, (uint32_t)o));
  CHECK_MEM_EQ(dev_spk2, spk2, (size_t)(m * o));
  for (int i = 0; i < m * o; i++) {
    const uint8_t *e = state + (size_t)(st2 + (uint32_t)i) * NNFP_STATE_BYTES;
    CHECK_EQ(nnfp_state_get_count(e), n2[i]);
    total_spikes += n2[i];
    CHECK_EQ((int32_t)nnfp_get32(e), s2[i].u);
    CHECK_EQ((int32_t)nnfp_get32(e + 4), s2[i].v);
    CHECK_EQ(e[12], s2[i].ref);
  }
  for (int i = 0; i < m * h; i++) {
    const uint8_t *e = state + (size_t)(st1 + (uint32_t)i) * 16;
    CHECK_EQ(nnfp_get32(e + 8), n1[i]);
    total_spikes += n1[i];
    CHECK_EQ((int32_t)nnfp_get32(e + 4), s1[i].v);
  }
  nnf_test_ctx("");
  free(x); free(act); free(state); free(cur1); free(spk1); free(cur2); free(spk2);
  free(s1); free(s2); free(n1); free(n2); free(dev_spk2);
  dense_free(&L1);
  dense_free(&L2);
}

/* A recurrent layer from random host-written state: GEMM (spk -> cur) LIF
 * (cur -> spk, in place or not) in a LOOP, many steps; RTL == model. */
static void recurrent_case(nnfm_engine *img, int cs) {
  const nnfm_config *c = &img->cfg;
  int m = (int)rr(1, 6), n = (int)rr(1, 40), T = (int)rr(2, 60);
  dense L;
  dense_random(&L, n, n);
  lif_cfg lc = random_lif();
  nnf_test_ctx("recurrent case %d: m %d n %d T %d", cs, m, n, T);
  uint32_t words = nnfm_act_words(c, (uint32_t)m, (uint32_t)n);
  uint32_t spk_at = (uint32_t)rr(0, 30), cur_at = spk_at + words + (uint32_t)rr(0, 3);
  uint32_t out_at = rr(0, 1) ? cur_at : cur_at + words;
  uint32_t s_at = (uint32_t)rr(0, 1000);
  put_dense(img, &L, 0, 0);
  /* random spikes in, random state bytes (any u, v, ref, count) */
  size_t ab = (size_t)words * c->rows;
  uint8_t *buf = malloc(ab + (size_t)(m * n) * 16);
  for (size_t i = 0; i < ab; i++) buf[i] = (uint8_t)rr(0, 1);
  both_write(NNFDRV_ACT, spk_at * c->rows, buf, ab);
  nnf_rng_fill(&rng, buf, (size_t)(m * n) * 16);
  both_write(NNFDRV_STATE, s_at * 16, buf, (size_t)(m * n) * 16);
  free(buf);
  uint8_t prog[8][32];
  int np = 0;
  enc_gemm(prog[np++], &L, m, spk_at, 0, 0, cur_at);
  enc_lif(prog[np++], &lc, m, n, cur_at, out_at, s_at, 0, lc.count);
  /* two steps per iteration, the spikes of one feeding the GEMM of the next */
  if (out_at == cur_at) {
    enc_gemm(prog[np++], &L, m, cur_at, 0, 0, spk_at);
    enc_lif(prog[np++], &lc, m, n, spk_at, spk_at, s_at, 0, lc.count);
  } else {
    enc_gemm(prog[np++], &L, m, out_at, 0, 0, cur_at);
    enc_lif(prog[np++], &lc, m, n, cur_at, spk_at, s_at, 0, lc.count);
  }
  CHECK_EQ(nnfdrv_insn_loop(prog[np++], 0, (uint32_t)T), NNFDRV_OK);
  nnfdrv_insn_end(prog[np++]);
  both_write(NNFDRV_PROG, 0, prog, (size_t)np * 32);
  both_run(0);
  both_status(NULL);
  total_updates += (uint64_t)T * 2 * (uint64_t)(m * n);
  both_compare(NNFDRV_ACT, 0, (size_t)(cur_at + 2 * words) * c->rows, NULL);
  both_compare(NNFDRV_STATE, s_at * 16, (size_t)(m * n) * 16, NULL);
  nnf_test_ctx("");
  dense_free(&L);
}

int main(int argc, char **argv) {
  int cases = argc > 1 ? atoi(argv[1]) : 40;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 5;
  rng = nnf_rng_seed(seed);
  for (int i = 0; i < 2; i++) dev[i] = open_dev(dev_name[i]);
  test_driver_refusals();
  test_info_and_state();
  test_loops();
  test_corner_on_device();
  const nnfdrv_info *in = nnfdrv_get_info(dev[1]);
  nnfm_config cfg = {in->rows, in->cols, in->act_words, in->w_words, in->p_words, in->acc_depth, in->luts};
  nnfm_engine *img = nnfm_engine_create(&cfg);
  CHECK(img != NULL);
  for (int cs = 0; cs < cases; cs++) {
    snn_case(img, cs);
    recurrent_case(img, cs);
  }
  printf("test_snn_device: %d random programs, %llu neuron updates compared (%llu counted spikes)\n",
         2 * cases, (unsigned long long)total_updates, (unsigned long long)total_spikes);
  nnfm_engine_destroy(img);
  for (int i = 0; i < 2; i++) nnfdrv_close(dev[i]);
  return nnf_test_done("test_snn_device");
}
