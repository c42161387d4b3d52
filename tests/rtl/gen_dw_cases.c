/*
 * gen_dw_cases.c - DWCONV cases for tb_vu_dw.v (nnf_vu_dw against the
 * functional model, bit for bit).
 *
 *   gen_dw_cases ROWS ACT_AW W_AW P_AW DATA_REG SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu_dw
 * with ROWS, ACT_AW, W_AW, P_AW, DATA_REG, the hex file's absolute path and
 * its length.
 *
 * NCASES random DWCONVs (nnfm_engine_dwconv on a model engine of ROWS x
 * ROWS, 2^ACT_AW ACT words, 2^W_AW W words, 2^P_AW P entries): kernels 1..3
 * each axis, strides 1..4, padding 0..7 above / left with the extra row /
 * column below / right, batches, channel counts not multiples of ROWS,
 * both roundings, data / weights uniform, small or at the int8 extremes,
 * biases small, uniform or at the int32 extremes (the sum wraps), m0 and
 * shift over their valid range (the lanes of channels >= C garbage),
 * zero points, clamps; ~4% aborted. The first cases are 3x3 windows at
 * strides 1 and 2 inside a larger map (the unit's steady state).
 *
 * The file carries the fields, the input words (ACT a_base ..), the W
 * words (w_base ..), the P entries (p_base .., each 9 words: word j holds
 * byte j of every lane's 9-byte entry: bias, m0 little-endian, shift) and
 * the output words the model wrote (o_base ..), with the cycles from start
 * to done of nnf_vu_dw.v's documented timing and its ACT reads.
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case
 * NF fields of 2 words each (the order of F_* below) and the words above.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_cases.h"
#include "nnf_test.h"
#include "nnfm.h"

enum {
  F_C, F_CT, F_H, F_W, F_B, F_KH, F_KW, F_SH, F_SW, F_PH, F_PW, F_OH, F_OW, F_M, F_WB, F_HWB,
  F_ABASE, F_OBASE, F_WBASE, F_PBASE, F_ZPIN, F_ZP, F_LO, F_HI, F_RND, F_ABORT, F_NIN, F_NOUT,
  F_NW, F_READS, F_CYCLES, NF
};

/* nnf_vu_dw's timing (its header): the set-up, the drain between tiles and
 * after the last */
#define CYC_SET 2
#define CYC_GAP 3
#define CYC_END 13

static nnf_rng rng;
static struct {
  int rnd_tfl, padded, stride_gt_k, one, k33, c_ragged, tiles, batch, clamp, aborts, wrap;
} cov;
static int R, AW, WAW, PAW, DREG;
static uint32_t A, WN, PN;
static gen_hex hex;

static int64_t rnd(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }

static int8_t data_of(int mode) {
  static const int8_t ext4[4] = {-128, -127, 126, 127};
  switch (mode) {
  case 1: return (int8_t)rnd(-3, 3);
  case 2: return rnd(0, 1) ? 127 : -128;
  case 3: return -128;
  case 4: return 127;
  case 5: return ext4[rnd(0, 3)];
  default: return nnf_rng_i8(&rng);
  }
}

static int32_t bias_of(int mode) {
  switch (mode) {
  case 1: return (int32_t)rnd(-1000, 1000);
  case 2: return rnd(0, 1) ? INT32_MAX - (int32_t)rnd(0, 70000) : INT32_MIN + (int32_t)rnd(0, 70000);
  default: return (int32_t)(uint32_t)rnd(0, 0xffffffffLL);
  }
}

/* The unit's tokens of one tile (an output: max(1, in-map rows * new
 * in-map columns)) and its ACT reads. */
static void tile_tokens(const nnfm_dwconv_cmd *c, uint32_t oh, uint32_t ow, uint64_t *tokens, uint64_t *reads) {
  uint64_t t = 0, r = 0;
  for (uint32_t oy = 0; oy < oh; oy++) {
    uint32_t rows = 0;
    for (uint32_t ky = 0; ky < c->kh; ky++) {
      int64_t iy = (int64_t)oy * c->sh - c->ph + ky;
      rows += iy >= 0 && iy < (int64_t)c->h;
    }
    for (uint32_t ox = 0; ox < ow; ox++) {
      uint32_t cols = 0;
      for (uint32_t kx = 0; kx < c->kw; kx++) {
        int64_t ix = (int64_t)ox * c->sw - c->pw + kx;
        int fresh = ox == 0 || kx + c->sw >= c->kw;
        cols += fresh && ix >= 0 && ix < (int64_t)c->w;
      }
      uint64_t n = (uint64_t)rows * cols;
      t += n ? n : 1, r += n;
    }
  }
  *tokens = t * c->b, *reads = r * c->b;
}

static void put_p_entry(const nnfm_engine *e, uint32_t entry) {
  for (int j = 0; j < 9; j++) {
    uint8_t w[64];
    for (int l = 0; l < R; l++) {
      size_t i = (size_t)entry * R + l;
      uint32_t v = j < 4 ? (uint32_t)e->bias[i] : j < 8 ? (uint32_t)e->m0[i] : (uint32_t)(uint8_t)e->shift[i];
      w[l] = (uint8_t)(v >> (8 * (j % 4)));
    }
    gen_put_word(&hex, w);
  }
}

static int random_case(nnfm_engine *e, int idx) {
  nnfm_dwconv_cmd c;
  memset(&c, 0, sizeof c);
  c.c = (uint32_t)(rnd(0, 3) ? rnd(1, 3 * R + 1) : rnd(1, R));
  c.h = (uint32_t)rnd(1, rnd(0, 3) ? 7 : 14), c.w = (uint32_t)rnd(1, rnd(0, 3) ? 7 : 14);
  c.b = (uint32_t)(rnd(0, 2) ? 1 : rnd(2, 4));
  c.kh = (uint32_t)rnd(1, 3), c.kw = (uint32_t)rnd(1, 3);
  c.sh = (uint32_t)(rnd(0, 1) ? 1 : rnd(1, 4)), c.sw = (uint32_t)(rnd(0, 1) ? 1 : rnd(1, 4));
  c.ph = (uint32_t)(rnd(0, 3) ? rnd(0, c.kh - 1) : rnd(0, 7));
  c.pw = (uint32_t)(rnd(0, 3) ? rnd(0, c.kw - 1) : rnd(0, 7));
  c.eh = rnd(0, 3) == 0, c.ew = rnd(0, 3) == 0;
  if (idx < 4) { /* 3x3, stride 1 / 2, padding 1, one image, a wide map */
    c.kh = c.kw = 3, c.sh = c.sw = (uint32_t)(idx % 2 + 1), c.ph = c.pw = 1, c.eh = c.ew = 0;
    c.b = 1, c.h = (uint32_t)rnd(6, 10), c.w = (uint32_t)rnd(12, 20);
  }
  c.zp_in = data_of((int)rnd(0, 2) ? 0 : 5), c.zp = nnf_rng_i8(&rng);
  c.lo = -128, c.hi = 127;
  if (rnd(0, 3) == 0) {
    c.lo = (int32_t)rnd(-128, 127), c.hi = (int32_t)rnd(c.lo, 127);
    if (rnd(0, 3) == 0) c.lo = c.hi;
  }
  c.round = (int)rnd(0, 1);
  int oh = 0, ow = 0;
  {
    nnfm_window g = {(int)c.b, (int)c.c, (int)c.h, (int)c.w, (int)c.kh, (int)c.kw, (int)c.sh,
                     (int)c.sw, (int)c.ph, (int)c.pw, (int)c.eh, (int)c.ew};
    if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0;
  }
  const uint32_t ct = (c.c + R - 1) / R, m = (uint32_t)oh * ow * c.b;
  const uint32_t nin = ct * c.h * c.w * c.b, nout = ct * m, nw = ct * c.kh * c.kw;
  if ((uint64_t)nin + nout > A || nw > WN || ct > PN) return 0;
  uint64_t free = A - nin - nout, g0 = (uint64_t)rnd(0, (int64_t)free), g1 = (uint64_t)rnd(0, (int64_t)(free - g0));
  if (rnd(0, 1)) c.a_base = (uint32_t)g0, c.o_base = (uint32_t)(g0 + nin + g1);
  else c.o_base = (uint32_t)g0, c.a_base = (uint32_t)(g0 + nout + g1);
  c.w_base = (uint32_t)rnd(0, WN - nw), c.p_base = (uint32_t)rnd(0, PN - ct);
  /* the operands (every lane: those of channels >= C are garbage) */
  static const int modes[] = {0, 0, 0, 1, 1, 2, 3, 4, 5};
  const int dmode = modes[rnd(0, 8)], wmode = modes[rnd(0, 8)], bmode = (int)rnd(0, 2);
  for (uint32_t i = 0; i < nin; i++)
    for (int r = 0; r < R; r++) e->act[((size_t)c.a_base + i) * R + r] = (uint8_t)data_of(dmode);
  for (uint32_t i = 0; i < nw; i++)
    for (int r = 0; r < R; r++) e->w[((size_t)c.w_base + i) * R + r] = (uint8_t)data_of(wmode);
  const int smode = (int)rnd(0, 2);
  for (uint32_t t = 0; t < ct; t++)
    for (int r = 0; r < R; r++) {
      size_t i = ((size_t)c.p_base + t) * R + r;
      e->bias[i] = bias_of(bmode);
      e->m0[i] = rnd(0, 7) == 0 ? (int32_t)rnd(0, INT32_MAX) : (int32_t)rnd(1 << 30, INT32_MAX);
      if (rnd(0, 19) == 0) e->m0[i] = 0;
      e->shift[i] = (int8_t)(smode == 0 ? rnd(NNFM_SHIFT_MIN, NNFM_SHIFT_MAX)
                             : smode == 1 ? rnd(-16, 0) : rnd(-31, -24));
      if (t * R + r >= c.c) { /* unused lanes: anything */
        e->m0[i] = (int32_t)(uint32_t)rnd(0, 0xffffffffLL);
        e->shift[i] = (int8_t)rnd(-128, 127);
      }
    }
  if (nnfm_engine_dwconv_check(e, &c) != NNFM_OK) return 0;
  memset(e->act + (size_t)c.o_base * R, 0x5a, (size_t)nout * R);
  if (nnfm_engine_dwconv(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_dw_cases: nnfm_engine_dwconv refused a checked case\n");
    exit(1);
  }
  uint64_t tok, reads;
  tile_tokens(&c, (uint32_t)oh, (uint32_t)ow, &tok, &reads);
  const uint64_t cycles = CYC_SET + (uint64_t)ct * (c.kh * c.kw + tok) + (uint64_t)(ct - 1) * (CYC_GAP + DREG) +
                          CYC_END + DREG;
  uint32_t f[NF] = {0};
  f[F_C] = c.c, f[F_CT] = ct, f[F_H] = c.h, f[F_W] = c.w, f[F_B] = c.b, f[F_KH] = c.kh, f[F_KW] = c.kw;
  f[F_SH] = c.sh, f[F_SW] = c.sw, f[F_PH] = c.ph, f[F_PW] = c.pw, f[F_OH] = (uint32_t)oh, f[F_OW] = (uint32_t)ow;
  f[F_M] = m, f[F_WB] = (c.w * c.b) & (A - 1), f[F_HWB] = (c.h * c.w * c.b) & (A - 1);
  f[F_ABASE] = c.a_base, f[F_OBASE] = c.o_base, f[F_WBASE] = c.w_base, f[F_PBASE] = c.p_base;
  f[F_ZPIN] = (uint8_t)(int8_t)c.zp_in, f[F_ZP] = (uint8_t)(int8_t)c.zp;
  f[F_LO] = (uint8_t)(int8_t)c.lo, f[F_HI] = (uint8_t)(int8_t)c.hi, f[F_RND] = (uint32_t)c.round;
  f[F_ABORT] = idx < 4 || rnd(0, 24) ? 0 : (uint32_t)rnd(1, (int64_t)(cycles < 4000 ? cycles : 4000));
  f[F_NIN] = nin, f[F_NOUT] = nout, f[F_NW] = nw, f[F_READS] = (uint32_t)(reads * ct), f[F_CYCLES] = (uint32_t)cycles;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  for (uint32_t i = 0; i < nin; i++) gen_put_word(&hex, e->act + ((size_t)c.a_base + i) * R);
  for (uint32_t i = 0; i < nw; i++) gen_put_word(&hex, e->w + ((size_t)c.w_base + i) * R);
  for (uint32_t t = 0; t < ct; t++) put_p_entry(e, c.p_base + t);
  for (uint32_t i = 0; i < nout; i++) gen_put_word(&hex, e->act + ((size_t)c.o_base + i) * R);
  cov.rnd_tfl += c.round == NNFM_ROUND_TFLITE, cov.padded += c.ph || c.pw || c.eh || c.ew;
  cov.stride_gt_k += c.sh > c.kh || c.sw > c.kw, cov.one += c.kh * c.kw == 1, cov.k33 += c.kh == 3 && c.kw == 3;
  cov.c_ragged += c.c % R != 0, cov.tiles += ct > 1, cov.batch += c.b > 1;
  cov.clamp += c.lo > -128 || c.hi < 127, cov.aborts += f[F_ABORT] != 0, cov.wrap += bmode == 2;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: gen_dw_cases ROWS ACT_AW W_AW P_AW DATA_REG SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]), AW = atoi(argv[2]), WAW = atoi(argv[3]), PAW = atoi(argv[4]), DREG = atoi(argv[5]);
  const char *name = argv[8], *dir = argv[9];
  int ncases = atoi(argv[7]);
  rng = nnf_rng_seed(strtoull(argv[6], NULL, 0));
  if (R < 2 || R > 64 || AW < 4 || AW > 20 || WAW < 2 || WAW > 16 || PAW < 1 || PAW > 12 || DREG < 0 ||
      DREG > 1 || ncases < 1) {
    fprintf(stderr, "gen_dw_cases: ROWS 2..64, ACT_AW 4..20, W_AW 2..16, P_AW 1..12, DATA_REG 0..1, NCASES >= 1\n");
    return 2;
  }
  A = 1u << AW, WN = 1u << WAW, PN = 1u << PAW;
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = A, cfg.w_words = WN, cfg.p_words = PN;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  if (!e) {
    fprintf(stderr, "gen_dw_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  for (int i = 0; i < ncases;) i += random_case(e, i);
  if (gen_hex_close(&hex)) return 1;
  printf("gen_dw_cases %s: %d cases: %d TFLite rounding, %d with padding taps, %d stride > kernel, %d 1x1, "
         "%d 3x3, %d C %% ROWS != 0, %d CT > 1, %d B > 1, %d clamped, %d biases near the int32 ends, "
         "%d with an abort\n",
         name, ncases, cov.rnd_tfl, cov.padded, cov.stride_gt_k, cov.one, cov.k33, cov.c_ragged, cov.tiles,
         cov.batch, cov.clamp, cov.wrap, cov.aborts);
  char origin[512], params[256];
  snprintf(origin, sizeof origin, "gen_dw_cases %s %s %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4], argv[5],
           argv[6], argv[7]);
  snprintf(params, sizeof params, ".ROWS(%d), .ACT_AW(%d), .W_AW(%d), .P_AW(%d), .DATA_REG(%d)", R, AW, WAW, PAW,
           DREG);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu_dw", params)) return 1;
  nnfm_engine_destroy(e);
  return 0;
}
