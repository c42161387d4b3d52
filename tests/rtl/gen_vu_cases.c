/*
 * gen_vu_cases.c - POOL cases for tb_vu.v (nnf_vu against the functional
 * model, bit for bit).
 *
 *   gen_vu_cases ROWS ACT_AW SUITE SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu with
 * ROWS, ACT_AW, the hex file's absolute path and its length.
 *
 * SUITE random: NCASES random POOLs on an ACT of 2^ACT_AW words (max and
 *   average; 1x1 windows, kernel == input, strides larger than the kernel,
 *   padding with windows partly outside, extra padding below / right,
 *   channel counts not multiples of ROWS, batches, global pools, clamps;
 *   data uniform, small (rounding ties), the int8 extremes; ~4% aborted).
 * SUITE pack: NCASES random PACKs (nnfm_engine_pack: Cin 1..ROWS, kernel
 *   widths 1..7 up to the padded row, strides 1..4, padding left / right,
 *   batches, channel tiles, the input's spare bytes garbage; ~4% aborted),
 *   with the cycles and reads of nnf_vu_pack.v's documented timing.
 * SUITE global: NCASES global pools of large maps (up to what ACT holds),
 *   max and average, data at the extremes and sums set on rounding ties,
 *   positive and negative. The first four are the largest square map of
 *   one tile and one image: max, average of all -128 (|sum| = 128*count,
 *   the largest), of all 127, and on ties (at ACT_AW = 21: 1024 x 1024,
 *   count 2^20, sum -2^27).
 *
 * Each case is run on a model engine (nnfm_engine_pool) whose ACT holds the
 * input; the file carries the fields, the input words and the output words
 * the model wrote. The testbench fills the rest of its ACT with garbage, so
 * comparing its whole ACT afterwards also checks nothing else was written.
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case
 * NF fields of 2 words each (lo, hi 16 bits; the order of F_* below), the
 * n_in input words (ACT a_base ..), the n_out expected words (o_base ..).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_cases.h"
#include "nnf_test.h"
#include "nnfm.h"

enum {
  F_AVG, F_C, F_CT, F_H, F_W, F_B, F_KH, F_KW, F_SH, F_SW, F_PH, F_PW, F_OH, F_OW, F_M, F_WB,
  F_HWB, F_ABASE, F_OBASE, F_LO, F_HI, F_ABORT, F_NIN, F_NOUT, F_READS, F_CYCLES,
  F_PACK, F_CIN, F_ZPIN, NF
};

/* nnf_vu's fixed cycles per command: the walker's set-up and the drain */
#define CYC_MAX 8
#define CYC_AVG 17

static nnf_rng rng;
/* what the cases cover (printed at the end) */
static struct {
  int max, avg, global, padded, stride_gt_k, k_eq_in, one, c_ragged, tiles, batch, clamp, aborts;
} cov;
static int R, AW;
static uint32_t A; /* ACT words */
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

/* Set one lane's global sum (the pixels of image bi, tile ct) to a rounding
 * tie: k*count + count/2 or its negative, count even. */
static void make_tie(nnfm_engine *e, const nnfm_pool_cmd *c, uint32_t ct, uint32_t bi, int r) {
  const uint32_t n = c->h * c->w;
  int64_t s = 0;
  for (uint32_t p = 0; p < n; p++) s += (int8_t)e->act[((size_t)c->a_base + ((size_t)ct * n + p) * c->b + bi) * R + r];
  int64_t k = rnd(0, 126), t = k * n + n / 2;
  if (rnd(0, 1)) t = -t;
  int64_t d = t - s;
  for (uint32_t p = 0; p < n && d; p++) {
    uint8_t *q = &e->act[((size_t)c->a_base + ((size_t)ct * n + p) * c->b + bi) * R + r];
    int v = (int8_t)*q;
    int64_t room = d > 0 ? 127 - v : -128 - v;
    int64_t step = d > 0 ? (d < room ? d : room) : (d > room ? d : room);
    *q = (uint8_t)(int8_t)(v + step);
    d -= step;
  }
}

/* The in-map taps of the walk (reads the RTL must issue). */
static uint64_t reads_of(const nnfm_pool_cmd *w, uint32_t ct, uint32_t oh, uint32_t ow) {
  uint64_t n = 0;
  for (uint32_t oy = 0; oy < oh; oy++)
    for (uint32_t ox = 0; ox < ow; ox++)
      for (uint32_t ky = 0; ky < w->kh; ky++)
        for (uint32_t kx = 0; kx < w->kw; kx++) {
          int64_t iy = (int64_t)oy * w->sh - w->ph + ky, ix = (int64_t)ox * w->sw - w->pw + kx;
          n += iy >= 0 && iy < (int64_t)w->h && ix >= 0 && ix < (int64_t)w->w;
        }
  return n * w->b * ct;
}

static int emit(nnfm_engine *e, nnfm_pool_cmd *c, int mode, int ties, int abort_ok) {
  if (nnfm_engine_pool_check(e, c) != NNFM_OK) return 0;
  nnfm_pool_cmd w = *c; /* as walked */
  if (c->global) w.kh = c->h, w.kw = c->w;
  nnfm_window win = {(int)c->b, (int)c->c, (int)c->h, (int)c->w, (int)w.kh, (int)w.kw, (int)c->sh,
                     (int)c->sw, (int)c->ph, (int)c->pw, (int)c->eh, (int)c->ew};
  int oh, ow;
  if (nnfm_window_check(&win, 1, &oh, &ow) != NNFM_OK) return 0;
  const uint32_t ct = (c->c + R - 1) / R, m = (uint32_t)oh * ow * c->b;
  const uint32_t nin = ct * c->h * c->w * c->b, nout = ct * m;
  /* the input (lanes of channels >= C too: the RTL must ignore them) */
  for (uint32_t i = 0; i < nin; i++)
    for (int r = 0; r < R; r++) e->act[((size_t)c->a_base + i) * R + r] = (uint8_t)data_of(mode);
  if (ties)
    for (uint32_t t = 0; t < ct; t++)
      for (uint32_t bi = 0; bi < c->b; bi++)
        for (int r = 0; r < R; r++) make_tie(e, c, t, bi, r);
  memset(e->act + (size_t)c->o_base * R, 0x5a, (size_t)nout * R);
  if (nnfm_engine_pool(e, c) != NNFM_OK) {
    fprintf(stderr, "gen_vu_cases: nnfm_engine_pool refused a checked case\n");
    exit(1);
  }
  /* nnf_vu's cycles from start to done (docs/conv.md): the walker's set-up,
   * KH*KW cycles per output word (max) or max(KH*KW, 9) but the first's
   * KH*KW (avg), and the drain */
  const uint64_t kt = (uint64_t)w.kh * w.kw, per = c->op == NNFM_POOL_AVG && kt < 9 ? 9 : kt;
  const uint64_t cycles = c->op == NNFM_POOL_AVG ? CYC_AVG + kt + (uint64_t)(nout - 1) * per
                                                 : CYC_MAX + (uint64_t)nout * kt;
  uint32_t f[NF] = {0};
  f[F_AVG] = c->op == NNFM_POOL_AVG, f[F_C] = c->c, f[F_CT] = ct, f[F_H] = c->h, f[F_W] = c->w;
  f[F_B] = c->b, f[F_KH] = w.kh, f[F_KW] = w.kw, f[F_SH] = c->sh, f[F_SW] = c->sw;
  f[F_PH] = c->ph, f[F_PW] = c->pw, f[F_OH] = (uint32_t)oh, f[F_OW] = (uint32_t)ow, f[F_M] = m;
  f[F_WB] = (c->w * c->b) & (A - 1), f[F_HWB] = (c->h * c->w * c->b) & (A - 1);
  f[F_ABASE] = c->a_base, f[F_OBASE] = c->o_base;
  f[F_LO] = (uint8_t)(int8_t)c->lo, f[F_HI] = (uint8_t)(int8_t)c->hi;
  /* abort at a random cycle (a quarter of them in the walker's set-up) */
  f[F_ABORT] = !abort_ok || rnd(0, 24) ? 0
               : rnd(0, 3) ? (uint32_t)rnd(1, (int64_t)(cycles < 4000 ? cycles : 4000)) : (uint32_t)rnd(1, 4);
  f[F_NIN] = nin, f[F_NOUT] = nout, f[F_READS] = (uint32_t)reads_of(&w, ct, (uint32_t)oh, (uint32_t)ow);
  f[F_CYCLES] = (uint32_t)cycles;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  cov.max += c->op == NNFM_POOL_MAX, cov.avg += c->op == NNFM_POOL_AVG, cov.global += (int)c->global;
  cov.padded += f[F_READS] < (uint64_t)nout * kt, cov.stride_gt_k += c->sh > w.kh || c->sw > w.kw;
  cov.k_eq_in += !c->global && w.kh == c->h && w.kw == c->w, cov.one += kt == 1;
  cov.c_ragged += c->c % R != 0, cov.tiles += ct > 1, cov.batch += c->b > 1;
  cov.clamp += c->lo > -128 || c->hi < 127, cov.aborts += f[F_ABORT] != 0;
  for (uint32_t i = 0; i < nin; i++) gen_put_word(&hex, e->act + ((size_t)c->a_base + i) * R);
  for (uint32_t i = 0; i < nout; i++) gen_put_word(&hex, e->act + ((size_t)c->o_base + i) * R);
  return 1;
}

/* floor(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* One output word of a PACK (tile t, image b, row y, column ox): where its
 * row starts (rb) and its first byte (pos) in ACT bytes, whether it uses
 * input bytes at all (need), and the input words it uses: w0 (nlo) and
 * w0 + 1 (nhi). */
typedef struct {
  int64_t rb, pos, w0;
  int need, nlo, nhi;
} pack_word;

static pack_word pack_word_at(const nnfm_pack_cmd *c, uint32_t t, uint32_t b, uint32_t y, uint32_t ox) {
  const int64_t wc = (int64_t)c->w * c->cin, cp = (int64_t)c->kw * c->cin;
  const int64_t r = ((int64_t)ox * c->sw - c->pw) * c->cin + (int64_t)t * R;
  pack_word p;
  p.rb = (int64_t)c->a_base * R + ((int64_t)b * c->h + y) * wc, p.pos = p.rb + r;
  const int64_t lo = r < 0 ? (-r < R ? -r : R) : 0, hi = wc - r < 0 ? 0 : (wc - r < R ? wc - r : R);
  const int64_t ocl = cp - (int64_t)t * R < R ? cp - (int64_t)t * R : R, he = hi < ocl ? hi : ocl;
  p.need = lo < he;
  p.w0 = floor_div(p.pos, R);
  const int64_t sh = p.pos - p.w0 * R;
  p.nlo = p.need && sh + lo < R, p.nhi = p.need && sh + he > R;
  return p;
}

/* nnf_vu_pack's cycles from start to done and its reads, cycle by cycle
 * as the module's "Timing" describes them: a window of PACK_NS words cw ..
 * cw + PACK_NS - 1 with valid bits; a word is made when it uses none or its
 * used words are valid at offset d = floor(pos/ROWS) - cw of 0..PACK_NS - 2; a word that
 * uses some moves the window to floor(pos/ROWS) (keeping what it holds); a
 * read issued in a cycle lands two cycles later. The read issued: the
 * lowest word of the window as it was at the cycle's start that is not
 * valid, not on the port and not landing, inside the rows of the previous
 * cycle's position (the current row's bytes and the next row's of the
 * tile). Set-up bits(Cin) + 2 cycles; done 3 cycles after the last word is
 * made, 4 when a read was issued in that cycle. */
enum { PACK_NS = 6 }; /* nnf_vu_pack's NS */

static void pack_timing(const nnfm_pack_cmd *c, uint32_t ow, uint32_t ct, uint64_t *cycles, uint64_t *reads) {
  const int64_t wc = (int64_t)c->w * c->cin, ab = (int64_t)c->a_base * R;
  int64_t cw = 0, ra = 0, da = 0;
  int v[PACK_NS] = {0}, re = 0, dv = 0, L = 0, last_pf = 0;
  /* the first row's bounds, made in set-up */
  int64_t lo_w = floor_div(ab, R), hi_w = floor_div(ab + (c->h == 1 && c->b == 1 ? wc - 1 : 2 * wc - 1), R);
  for (uint32_t x = c->cin; x; x >>= 1) L++;
  uint64_t cyc = (uint64_t)L + 2, rd = 0;
  for (uint32_t t = 0; t < ct; t++)
    for (uint32_t b = 0; b < c->b; b++)
      for (uint32_t y = 0; y < c->h; y++)
        for (uint32_t ox = 0; ox < ow;) {
          const pack_word p = pack_word_at(c, t, b, y, ox);
          const int64_t rb = p.rb, w0 = p.w0;
          const int need = p.need, nlo = p.nlo, nhi = p.nhi;
          const int64_t d = w0 - cw;
          const int d_in = d >= 0 && d < PACK_NS;
          const int make = !need || (d_in && d <= PACK_NS - 2 && (!nlo || v[d]) && (!nhi || v[d + 1]));
          const int move = need && d != 0;
          const int64_t cw_n = move ? w0 : cw;
          int vn[PACK_NS];
          for (int j = 0; j < PACK_NS; j++) vn[j] = move ? (d_in && j + d < PACK_NS && v[j + d]) : v[j];
          if (dv && da - cw_n >= 0 && da - cw_n < PACK_NS) vn[da - cw_n] = 1;
          int pf = -1;
          for (int j = 0; j < PACK_NS && pf < 0; j++)
            if (!v[j] && !(re && ra == cw + j) && !(dv && da == cw + j) && cw + j >= lo_w && cw + j <= hi_w) pf = j;
          const int last_row = y + 1 == c->h && b + 1 == c->b; /* the bounds the next cycle uses */
          lo_w = floor_div(rb, R), hi_w = floor_div(rb + (last_row ? wc - 1 : 2 * wc - 1), R);
          dv = re, da = ra;
          re = pf >= 0, ra = cw + (pf >= 0 ? pf : 0), rd += (uint64_t)re;
          cw = cw_n;
          memcpy(v, vn, sizeof v);
          cyc++;
          last_pf = re;
          ox += (uint32_t)make;
        }
  *cycles = cyc + 3 + (uint64_t)last_pf, *reads = rd;
}

/* The same with FAST = 0 (nnf_vu_pack's two-word cache, read on a miss): a
 * word in 1 cycle when the cached window holds its used bytes or it uses
 * none; otherwise a refill first, 1, 3 or 4 cycles for 0, 1 or 2 reads;
 * bits(Cin) + 4 cycles of set-up and drain. */
static void pack_timing_small(const nnfm_pack_cmd *c, uint32_t ow, uint32_t ct, uint64_t *cycles, uint64_t *reads) {
  int64_t cw = INT64_MIN / 2;
  int lv = 0, hv = 0, L = 0;
  for (uint32_t v = c->cin; v; v >>= 1) L++;
  uint64_t cyc = (uint64_t)L + 4, rd = 0;
  for (uint32_t t = 0; t < ct; t++)
    for (uint32_t b = 0; b < c->b; b++)
      for (uint32_t y = 0; y < c->h; y++)
        for (uint32_t ox = 0; ox < ow; ox++) {
          const pack_word p = pack_word_at(c, t, b, y, ox);
          const int64_t w0 = p.w0;
          const int need = p.need, nlo = p.nlo, nhi = p.nhi;
          const int same = w0 == cw, slide = w0 == cw + 1;
          if (!need || (same && (!nlo || lv) && (!nhi || hv))) {
            cyc += 1;
            continue;
          }
          const int n_lv = same ? lv : (slide && hv), n_hv = same && hv;
          const int k = (nlo && !n_lv) + (nhi && !n_hv);
          cyc += 1 + (k == 0 ? 1 : k == 1 ? 3 : 4) , rd += (uint64_t)k;
          cw = w0, lv = n_lv || nlo, hv = n_hv || nhi;
        }
  *cycles = cyc, *reads = rd;
}

/* One random PACK: the dense input's words full of data, the bytes past
 * its H*W*B*Cin in the last word garbage the PACK must not use. */
static int pack_fast = 1; /* the suite: pack (FAST = 1) or pack-small (FAST = 0) */

static int pack_case(nnfm_engine *e) {
  nnfm_pack_cmd c;
  memset(&c, 0, sizeof c);
  c.cin = (uint32_t)rnd(1, R);
  c.h = (uint32_t)rnd(1, rnd(0, 3) ? 6 : 12), c.w = (uint32_t)rnd(1, rnd(0, 3) ? 10 : 30);
  c.b = (uint32_t)(rnd(0, 2) ? 1 : rnd(2, 4));
  c.sw = (uint32_t)(rnd(0, 2) ? 1 : rnd(2, 4)), c.pw = (uint32_t)rnd(0, 3), c.ew = rnd(0, 3) == 0;
  c.kw = (uint32_t)rnd(1, 7);
  if (c.pw >= c.kw) c.pw = c.kw - 1;
  c.zp_in = (int32_t)rnd(-128, 127);
  if (nnfm_engine_pack_check(e, &c) == NNFM_ERR_RANGE) return 0;
  const uint32_t ow = (c.w + 2 * c.pw + c.ew - c.kw) / c.sw + 1, ct = (c.kw * c.cin + R - 1) / R;
  const uint64_t nin = nnfm_dense_words(&e->cfg, c.cin, c.h, c.w, c.b), nout = (uint64_t)ct * c.h * ow * c.b;
  if (nin + nout > A) return 0;
  uint64_t free = A - nin - nout, g0 = (uint64_t)rnd(0, (int64_t)free), g1 = (uint64_t)rnd(0, (int64_t)(free - g0));
  if (rnd(0, 1)) c.a_base = (uint32_t)g0, c.o_base = (uint32_t)(g0 + nin + g1);
  else c.o_base = (uint32_t)g0, c.a_base = (uint32_t)(g0 + nout + g1);
  if (nnfm_engine_pack_check(e, &c) != NNFM_OK) return 0;
  static const int modes[] = {0, 0, 0, 1, 2, 5};
  const int mode = modes[rnd(0, 5)];
  for (uint64_t i = 0; i < nin * (uint64_t)R; i++) e->act[(size_t)c.a_base * R + i] = (uint8_t)data_of(mode);
  memset(e->act + (size_t)c.o_base * R, 0x5a, (size_t)nout * R);
  if (nnfm_engine_pack(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_vu_cases: nnfm_engine_pack refused a checked case\n");
    exit(1);
  }
  uint64_t cycles, reads;
  if (pack_fast) pack_timing(&c, ow, ct, &cycles, &reads);
  else pack_timing_small(&c, ow, ct, &cycles, &reads);
  uint32_t f[NF] = {0};
  f[F_PACK] = 1, f[F_CIN] = c.cin, f[F_ZPIN] = (uint8_t)(int8_t)c.zp_in;
  f[F_C] = c.kw * c.cin, f[F_CT] = ct, f[F_H] = c.h, f[F_W] = c.w, f[F_B] = c.b;
  f[F_KH] = 1, f[F_KW] = c.kw, f[F_SH] = 1, f[F_SW] = c.sw, f[F_PW] = c.pw;
  f[F_OH] = c.h, f[F_OW] = ow, f[F_M] = (uint32_t)(c.h * ow * c.b);
  f[F_WB] = (c.w * c.b) & (A - 1), f[F_HWB] = (c.h * c.w * c.b) & (A - 1);
  f[F_ABASE] = c.a_base, f[F_OBASE] = c.o_base, f[F_LO] = 0x80, f[F_HI] = 0x7f;
  f[F_ABORT] = rnd(0, 24) ? 0 : (uint32_t)rnd(1, (int64_t)(cycles < 4000 ? cycles : 4000));
  f[F_NIN] = (uint32_t)nin, f[F_NOUT] = (uint32_t)nout, f[F_READS] = (uint32_t)reads;
  f[F_CYCLES] = (uint32_t)cycles;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  cov.tiles += ct > 1, cov.batch += c.b > 1, cov.aborts += f[F_ABORT] != 0, cov.padded += c.pw > 0 || c.ew;
  cov.c_ragged += (c.kw * c.cin) % R != 0, cov.stride_gt_k += c.sw > c.kw, cov.one += c.kw == 1;
  for (uint64_t i = 0; i < nin; i++) gen_put_word(&hex, e->act + ((size_t)c.a_base + i) * R);
  for (uint64_t i = 0; i < nout; i++) gen_put_word(&hex, e->act + ((size_t)c.o_base + i) * R);
  return 1;
}

/* a_base / o_base: the two regions disjoint, in random order, random gaps. */
static int place(nnfm_pool_cmd *c) {
  const uint64_t ct = (c->c + R - 1) / R;
  uint64_t kh = c->global ? c->h : c->kh, kw = c->global ? c->w : c->kw;
  int64_t oh = ((int64_t)c->h + 2 * c->ph + c->eh - (int64_t)kh) / c->sh + 1;
  int64_t ow = ((int64_t)c->w + 2 * c->pw + c->ew - (int64_t)kw) / c->sw + 1;
  if (oh < 1 || ow < 1) return 0;
  const uint64_t nin = ct * c->h * c->w * c->b, nout = ct * (uint64_t)oh * ow * c->b;
  if (nin + nout > A) return 0;
  uint64_t free = A - nin - nout, g0 = (uint64_t)rnd(0, (int64_t)free), g1 = (uint64_t)rnd(0, (int64_t)(free - g0));
  if (rnd(0, 1)) c->a_base = (uint32_t)g0, c->o_base = (uint32_t)(g0 + nin + g1);
  else c->o_base = (uint32_t)g0, c->a_base = (uint32_t)(g0 + nout + g1);
  return 1;
}

static void clampf(nnfm_pool_cmd *c) {
  c->lo = -128, c->hi = 127;
  if (rnd(0, 4) == 0) {
    c->lo = (int32_t)rnd(-128, 127), c->hi = (int32_t)rnd(c->lo, 127);
    if (rnd(0, 3) == 0) c->lo = c->hi; /* lo == hi */
  }
}

static int random_case(nnfm_engine *e) {
  nnfm_pool_cmd c;
  memset(&c, 0, sizeof c);
  c.op = (int)rnd(0, 1);
  c.c = (uint32_t)(rnd(0, 3) ? rnd(1, 3 * R + 1) : rnd(1, R));
  c.h = (uint32_t)rnd(1, rnd(0, 3) ? 7 : 14), c.w = (uint32_t)rnd(1, rnd(0, 3) ? 7 : 14);
  c.b = (uint32_t)(rnd(0, 2) ? 1 : rnd(2, 4));
  c.sh = (uint32_t)rnd(1, 4), c.sw = (uint32_t)rnd(1, 4);
  c.ph = (uint32_t)(rnd(0, 1) ? 0 : rnd(0, 7)), c.pw = (uint32_t)(rnd(0, 1) ? 0 : rnd(0, 7));
  c.eh = (uint32_t)rnd(0, 3) == 0, c.ew = (uint32_t)rnd(0, 3) == 0;
  c.kh = (uint32_t)rnd(1, 7), c.kw = (uint32_t)rnd(1, 7);
  switch (rnd(0, 9)) {
  case 0: c.kh = c.kw = 1; break;                                   /* 1x1 */
  case 1: if (c.h <= 7 && c.w <= 7) c.kh = c.h, c.kw = c.w, c.ph = c.pw = c.eh = c.ew = 0; break; /* kernel == input */
  case 2: c.kh = (uint32_t)rnd(1, 2), c.kw = (uint32_t)rnd(1, 2), c.sh = c.sw = 4; break; /* stride > kernel */
  case 3: /* global */
    c.global = 1, c.kh = c.kw = 0, c.sh = c.sw = 1, c.ph = c.pw = c.eh = c.ew = 0;
    break;
  default: break;
  }
  clampf(&c);
  if (!place(&c)) return 0;
  static const int modes[] = {0, 0, 0, 1, 1, 1, 2, 3, 4, 5};
  return emit(e, &c, modes[rnd(0, 9)], 0, 1);
}

static int global_case(nnfm_engine *e, int i) {
  nnfm_pool_cmd c;
  memset(&c, 0, sizeof c);
  c.op = i % 3 == 0 ? NNFM_POOL_MAX : NNFM_POOL_AVG;
  c.global = 1, c.sh = c.sw = 1;
  c.c = (uint32_t)rnd(1, 2 * R + 1);
  c.b = (uint32_t)rnd(1, 2);
  if (i < 4) c.c = (uint32_t)R, c.b = 1; /* the largest map: one tile, one image */
  /* the largest map the ACT holds at this C and B, or smaller */
  uint64_t per = (uint64_t)((c.c + R - 1) / R) * c.b, most = (A - per) / per;
  uint32_t s = 1;
  while ((uint64_t)(s + 1) * (s + 1) <= most && s < 1024) s++;
  c.h = (uint32_t)rnd(s / 2 > 1 ? s / 2 : 1, s), c.w = (uint32_t)rnd(c.h > 1 ? c.h - 1 : 1, s);
  if (i < 4) c.h = c.w = s;
  if (i >= 1 && i <= 3) c.op = NNFM_POOL_AVG;
  int mode = i == 1 ? 3 : i == 2 ? 4 : i == 3 ? 0 : (int)rnd(0, 5); /* all -128, all 127 */
  int ties = c.op == NNFM_POOL_AVG && mode != 3 && mode != 4 && (i == 3 || rnd(0, 1));
  if (ties && (c.h * c.w) % 2) c.w = c.w > 1 ? c.w - 1 : c.w + 1; /* an even count */
  clampf(&c);
  if (i < 4) c.lo = -128, c.hi = 127;
  if (!place(&c)) return 0;
  return emit(e, &c, mode, ties, 0);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: gen_vu_cases ROWS ACT_AW random|global|pack|pack-small SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]), AW = atoi(argv[2]);
  const char *suite = argv[3], *name = argv[6], *dir = argv[7];
  int ncases = atoi(argv[5]);
  rng = nnf_rng_seed(strtoull(argv[4], NULL, 0));
  if (R < 2 || R > 64 || AW < 4 || AW > 21 || ncases < 1) {
    fprintf(stderr, "gen_vu_cases: ROWS 2..64, ACT_AW 4..21, NCASES >= 1\n");
    return 2;
  }
  A = 1u << AW;
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = A;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  if (!e) {
    fprintf(stderr, "gen_vu_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  int global = strcmp(suite, "global") == 0, pack = strcmp(suite, "pack") == 0 || strcmp(suite, "pack-small") == 0;
  pack_fast = strcmp(suite, "pack-small") != 0;
  if (!global && !pack && strcmp(suite, "random") != 0) {
    fprintf(stderr, "gen_vu_cases: unknown suite %s\n", suite);
    return 2;
  }
  for (int i = 0; i < ncases;)
    i += global ? global_case(e, i) : pack ? pack_case(e) : random_case(e);
  if (gen_hex_close(&hex)) return 1;
  printf("gen_vu_cases %s: %d cases: %d max, %d avg, %d global, %d with padding taps, %d stride > "
         "kernel, %d kernel == input, %d 1x1, %d C %% ROWS != 0, %d CT > 1, %d B > 1, %d clamped, "
         "%d with an abort\n",
         name, ncases, cov.max, cov.avg, cov.global, cov.padded, cov.stride_gt_k, cov.k_eq_in, cov.one,
         cov.c_ragged, cov.tiles, cov.batch, cov.clamp, cov.aborts);
  char origin[512], params[256];
  snprintf(origin, sizeof origin, "gen_vu_cases %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4], argv[5]);
  snprintf(params, sizeof params, ".ROWS(%d), .ACT_AW(%d), .PACK_FAST(%d)", R, AW, pack_fast);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu", params)) return 1;
  nnfm_engine_destroy(e);
  return 0;
}
