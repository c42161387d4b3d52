/*
 * gen_insn_check.c - cases for tb_insn_check.v: random GEMM, LIF, CONV and
 * POOL field sets, biased toward the boundaries, each with the functional
 * model's verdict and, when accepted, the sizes the engine walks with.
 *
 *   gen_insn_check ROWS ACT_WORDS W_WORDS P_WORDS STATE_WORDS SEED CASES out.hex
 *
 * The verdicts: nnfm_engine_check (GEMM), nnfm_engine_conv_check (CONV),
 * nnfm_engine_pool_check (POOL) on an engine whose P entries are all valid
 * (m0 = 0, shift = 0: the P-lane check passes, as nnf_insn_check leaves it
 * to nnf_gemm), and run_lif's rule (sim/model/nnfm_device.c, static there)
 * written out for LIF. The sizes: OH, OW from nnfm_window_check, the rest
 * as the model's conv_sizes / pool_sizes define them.
 *
 * One case per line, 16 hex words of 32 bits (a 512-bit $readmemh word),
 * most significant first:
 *   0  kind (1:0), expected ok (2), compare s_kt (3), eh (4), ew (5), global (6), DWCONV (7: kind CONV checked as a DWCONV)
 *   1  m << 16 | k          2  n << 16 | cin
 *   3  a_base  4  w_base  5  p_base  6  o_base
 *   7  lo << 24 | hi << 16 | kh << 12 | kw << 8 | sh_m1 << 4 | sw_m1
 *   8  ph << 16 | pw        9  h_m1 << 20 | w_m1 << 10 | b_m1
 *   10 OH << 16 | OW        11 walked KH << 16 | KW
 *   12 M << 16 | CT         13 KT        14 W*B        15 H*W*B
 * Exit status 0, or 1 with a message if the model could not be built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfm.h"

enum { K_GEMM = 0, K_LIF = 1, K_CONV = 2, K_POOL = 3 };

typedef struct {
  unsigned kind, eh, ew, global, dw; /* dw: kind CONV as a DWCONV */
  uint32_t m, k, n, cin;
  uint32_t a_base, w_base, p_base, o_base;
  int32_t lo, hi;
  uint32_t kh, kw, sh_m1, sw_m1, ph, pw, h_m1, w_m1, b_m1;
} fields;

static nnf_rng rng;
static nnfm_config cfg;
static uint32_t state_words;
static nnfm_engine *eng;

static uint32_t rr(uint32_t lo, uint32_t hi) { return (uint32_t)nnf_rng_range(&rng, lo, hi); }
static int chance(int pct) { return rr(0, 99) < (uint32_t)pct; }
static uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* A base for a range of `words` inside a buffer of `depth`: mostly near the
 * boundaries (exactly at the end, one past, 0), sometimes anywhere or with
 * high bits set. */
static uint32_t pick_base(uint64_t words, uint64_t depth) {
  uint64_t end = words <= depth ? depth - words : 0;
  if (chance(80)) { /* inside, when the range fits at all */
    switch (rr(0, 4)) {
    case 0: return 0;
    case 1:
    case 2: return (uint32_t)end;               /* ends exactly at the buffer's end */
    default: return rr(0, (uint32_t)(end < depth ? end : depth - 1));
    }
  }
  switch (rr(0, 3)) {
  case 0: return (uint32_t)(end + 1);           /* one past */
  case 1: return rr(0, (uint32_t)(depth - 1)) | (1u << rr(24, 31)); /* high bits set */
  case 2: return (uint32_t)(depth - 1 + rr(0, 2));
  default: return (uint32_t)(end ? end - 1 : 0);
  }
}

/* o_base against a_base: adjacent on either side, overlapping by one word
 * on either side, equal, or independent. */
static uint32_t pick_o(uint32_t a, uint64_t an, uint64_t on, uint64_t depth) {
  switch (rr(0, 11)) {
  case 0:
  case 1: return (uint32_t)(a + an);      /* just after A */
  case 2: return (uint32_t)(a + an - 1);  /* overlapping A's last word */
  case 3:
  case 4: return (uint32_t)(a - on);      /* just before A */
  case 5: return (uint32_t)(a - on + 1);  /* overlapping A's first word */
  case 6: return a;
  default: return pick_base(on, depth);
  }
}

/* A channel count: small, around multiples of ROWS, large, 0 rarely. */
static uint32_t pick_ch(void) {
  uint32_t R = cfg.rows;
  switch (rr(0, 9)) {
  case 0: return chance(30) ? 0 : 65535;
  case 1: return rr(1, 3);
  case 2:
  case 3: return rr(1, 8) * R + rr(0, 2) - 1;
  case 4: return rr(1, 65535);
  default: return rr(1, 4 * R);
  }
}

/* A size 1..1024 (stored minus one). */
static uint32_t pick_size_m1(void) {
  switch (rr(0, 9)) {
  case 0: return 0;
  case 1: return 1023;
  case 2: return rr(1000, 1023);
  case 3: return rr(0, 1023);
  case 4: return rr(16, 64);
  default: return rr(0, 12);
  }
}

/* ---- the model's verdicts and sizes --------------------------------------- */

typedef struct {
  uint32_t oh, ow, kh, kw, m, ct, kt, wb, hwb;
  int check_kt;
} sizes;

static int lif_ok(const fields *f) {
  uint64_t R = cfg.rows, A = cfg.act_words;
  if (f->m == 0 || f->n == 0) return 1;
  uint64_t words = cdiv(f->n, R) * f->m;
  uint64_t a = f->a_base, o = f->o_base, s = f->p_base;
  if (!(a < A && words <= A - a) || !(o < A && words <= A - o) ||
      !(s < state_words && (uint64_t)f->m * f->n <= state_words - s))
    return 0;
  if (a != o && a < o + words && o < a + words) return 0;
  return 1;
}

static nnfm_conv_cmd conv_of(const fields *f) {
  nnfm_conv_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.cin = f->cin, c.h = f->h_m1 + 1, c.w = f->w_m1 + 1, c.b = f->b_m1 + 1, c.n = f->n;
  c.kh = f->kh, c.kw = f->kw, c.sh = f->sh_m1 + 1, c.sw = f->sw_m1 + 1, c.ph = f->ph, c.pw = f->pw;
  c.eh = f->eh, c.ew = f->ew;
  c.a_base = f->a_base, c.w_base = f->w_base, c.p_base = f->p_base, c.o_base = f->o_base;
  c.zp_in = 0, c.zp = 0, c.lo = f->lo, c.hi = f->hi, c.lut = 0;
  return c;
}

static nnfm_pool_cmd pool_of(const fields *f) {
  nnfm_pool_cmd c;
  memset(&c, 0, sizeof c);
  c.op = (int)rr(0, 1);
  c.c = f->cin, c.h = f->h_m1 + 1, c.w = f->w_m1 + 1, c.b = f->b_m1 + 1;
  c.kh = f->kh, c.kw = f->kw, c.sh = f->sh_m1 + 1, c.sw = f->sw_m1 + 1, c.ph = f->ph, c.pw = f->pw;
  c.eh = f->eh, c.ew = f->ew;
  c.a_base = f->a_base, c.o_base = f->o_base, c.lo = f->lo, c.hi = f->hi, c.global = f->global;
  return c;
}

/* The model's verdict; when accepted, *s the sizes. */
static int verdict(const fields *f, sizes *s) {
  memset(s, 0, sizeof *s);
  if (f->kind == K_GEMM) {
    nnfm_cmd c = {0};
    memset(&c, 0, sizeof c);
    c.m = f->m, c.k = f->k, c.n = f->n;
    c.a_base = f->a_base, c.w_base = f->w_base, c.p_base = f->p_base, c.o_base = f->o_base;
    c.lo = f->lo, c.hi = f->hi;
    return nnfm_engine_check(eng, &c) == NNFM_OK;
  }
  if (f->kind == K_LIF) return lif_ok(f);
  int st;
  uint32_t kh = f->kh, kw = f->kw, sh = f->sh_m1 + 1, sw = f->sw_m1 + 1, ph = f->ph, pw = f->pw;
  if (f->kind == K_CONV && f->dw) {
    nnfm_dwconv_cmd c;
    memset(&c, 0, sizeof c);
    c.c = f->cin, c.h = f->h_m1 + 1, c.w = f->w_m1 + 1, c.b = f->b_m1 + 1;
    c.kh = f->kh, c.kw = f->kw, c.sh = f->sh_m1 + 1, c.sw = f->sw_m1 + 1, c.ph = f->ph, c.pw = f->pw;
    c.eh = f->eh, c.ew = f->ew, c.a_base = f->a_base, c.w_base = f->w_base, c.p_base = f->p_base;
    c.o_base = f->o_base, c.lo = f->lo, c.hi = f->hi;
    st = f->n == f->cin ? nnfm_engine_dwconv_check(eng, &c) : NNFM_ERR_RANGE; /* N must equal C */
  } else if (f->kind == K_CONV) {
    nnfm_conv_cmd c = conv_of(f);
    st = nnfm_engine_conv_check(eng, &c);
  } else {
    nnfm_pool_cmd c = pool_of(f);
    st = nnfm_engine_pool_check(eng, &c);
    if (f->global) kh = f->h_m1 + 1, kw = f->w_m1 + 1, sh = sw = 1, ph = pw = 0;
  }
  if (st != NNFM_OK) return 0;
  nnfm_window g;
  memset(&g, 0, sizeof g);
  g.b = (int)f->b_m1 + 1, g.c = (int)f->cin, g.h = (int)f->h_m1 + 1, g.w = (int)f->w_m1 + 1;
  g.kh = (int)kh, g.kw = (int)kw, g.sh = (int)sh, g.sw = (int)sw, g.ph = (int)ph, g.pw = (int)pw;
  g.eh = (int)f->eh, g.ew = (int)f->ew;
  int oh, ow;
  if (nnfm_window_check(&g, f->kind == K_POOL || f->dw, &oh, &ow) != NNFM_OK) {
    fprintf(stderr, "gen_insn_check: accepted but nnfm_window_check refuses\n");
    exit(1);
  }
  uint64_t B = f->b_m1 + 1, H = f->h_m1 + 1, W = f->w_m1 + 1, CT = cdiv(f->cin, cfg.rows);
  s->oh = (uint32_t)oh, s->ow = (uint32_t)ow, s->kh = kh, s->kw = kw;
  s->m = (uint32_t)((uint64_t)oh * ow * B);
  s->ct = (uint32_t)CT;
  s->kt = (uint32_t)(kh * kw * CT);
  s->check_kt = f->kind == K_CONV && !f->dw;
  s->wb = (uint32_t)((W * B) % cfg.act_words);
  s->hwb = (uint32_t)((H * W * B) % cfg.act_words);
  return 1;
}

/* ---- random field sets ------------------------------------------------------ */

static void pick_lohi(fields *f) {
  f->lo = nnf_rng_i8(&rng), f->hi = nnf_rng_i8(&rng);
  if (chance(85) && f->lo > f->hi) {
    int32_t t = f->lo;
    f->lo = f->hi, f->hi = t;
  }
  if (chance(5)) f->lo = f->hi;
}

static void gen_gemm_lif(fields *f, unsigned kind) {
  uint32_t R = cfg.rows;
  f->kind = kind;
  f->m = chance(5) ? 0 : chance(10) ? rr(0, 65535) : rr(1, 300);
  f->k = chance(5) ? 0 : chance(10) ? rr(0, 65535) : rr(1, 40 * R);
  f->n = chance(5) ? 0 : chance(10) ? rr(0, 65535) : rr(1, 6 * R);
  pick_lohi(f);
  uint64_t KT = f->k ? cdiv(f->k, R) : 1, NT = cdiv(f->n, R);
  uint64_t an = kind == K_LIF ? NT * f->m : KT * f->m, on = NT * f->m;
  f->a_base = pick_base(an, cfg.act_words);
  f->o_base = pick_o(f->a_base, an, on, cfg.act_words);
  if (kind == K_LIF) {
    uint64_t sd = state_words ? state_words : 1;
    f->p_base = pick_base((uint64_t)f->m * f->n, sd);
    f->w_base = nnf_rng_u32(&rng);
  } else {
    f->w_base = pick_base(NT * KT * R, cfg.w_words);
    f->p_base = pick_base(NT, cfg.p_words);
  }
}

/* CONV (kind 2) or POOL (kind 3). mode: 0 random, 1 the walk limits
 * (M or KT around 65535), 2 a kernel equal to the padded input or one more. */
static void gen_cv(fields *f, unsigned kind, int mode) {
  uint32_t R = cfg.rows;
  f->kind = kind;
  f->cin = pick_ch();
  f->n = kind == K_CONV ? pick_ch() : nnf_rng_u32(&rng) & 0xffff;
  f->h_m1 = pick_size_m1(), f->w_m1 = pick_size_m1(), f->b_m1 = chance(50) ? 0 : pick_size_m1();
  if (chance(60)) { /* a shape that mostly fits the buffers, fields in range */
    f->cin = rr(1, 3 * R), f->h_m1 = rr(0, 39), f->w_m1 = rr(0, 39), f->b_m1 = rr(0, 7);
    if (kind == K_CONV) f->n = rr(1, 3 * R);
    if (chance(70)) {
      f->kh = rr(1, 7), f->kw = rr(1, 7);
      f->ph = rr(0, f->kh - 1), f->pw = rr(0, f->kw - 1);
    }
  }
  f->kh = chance(4) ? 0 : rr(1, 7), f->kw = chance(4) ? 0 : rr(1, 7);
  f->sh_m1 = rr(0, 3), f->sw_m1 = rr(0, 3);
  f->ph = chance(40) ? 0 : rr(0, 7), f->pw = chance(40) ? 0 : rr(0, 7);
  f->eh = rr(0, 1) & rr(0, 1), f->ew = rr(0, 1) & rr(0, 1);
  f->global = 0;
  if (kind == K_POOL && chance(25)) {
    f->global = 1;
    if (chance(70)) f->kh = f->kw = f->sh_m1 = f->sw_m1 = f->ph = f->pw = f->eh = f->ew = 0;
    if (chance(30)) { /* one bad field */
      switch (rr(0, 7)) {
      case 0: f->kh = rr(1, 7); break;
      case 1: f->kw = rr(1, 7); break;
      case 2: f->sh_m1 = rr(1, 3); break;
      case 3: f->sw_m1 = rr(1, 3); break;
      case 4: f->ph = rr(1, 7); break;
      case 5: f->pw = rr(1, 7); break;
      case 6: f->eh = 1; break;
      default: f->ew = 1; break;
      }
    }
  }
  if (mode == 2) { /* kernel == padded input, or one more */
    uint32_t k = rr(1, 7);
    uint32_t p = rr(0, (k - 1) / 2), e = rr(0, 1);
    int64_t h = (int64_t)k - 2 * p - e + (chance(50) ? 0 : -1);
    if (h >= 1) f->h_m1 = (uint32_t)h - 1, f->kh = k, f->ph = p, f->eh = e;
    if (chance(50)) {
      k = rr(1, 7), p = rr(0, (k - 1) / 2), e = rr(0, 1);
      int64_t w = (int64_t)k - 2 * p - e + (chance(50) ? 0 : -1);
      if (w >= 1) f->w_m1 = (uint32_t)w - 1, f->kw = k, f->pw = p, f->ew = e;
    }
  }
  if (mode == 1) {
    /* M = OH*OW*B near 65535 with a 1x1 kernel, stride 1, no padding
     * (OH = H): M = H*W*B; or (CONV) KT = KH*KW*CT near 65535. */
    f->kh = f->kw = 1, f->sh_m1 = f->sw_m1 = 0, f->ph = f->pw = 0, f->eh = f->ew = 0, f->global = 0;
    static const uint32_t mshape[][3] = {
        {255, 257, 1},  {256, 256, 1}, {1, 1, 1},      {64, 1024, 1}, {1024, 64, 1},
        {16, 64, 64},   {15, 17, 257}, {1024, 1024, 1}, {32, 32, 64}, {17, 15, 257},
        {1, 65, 1009},  {3, 5, 4369}};
    if (kind == K_POOL || chance(50)) {
      const uint32_t *s = mshape[rr(0, 11)];
      uint32_t b = s[2];
      while (b > 1024) b = 1024; /* {3,5,4369} becomes 3*5*1024 */
      f->h_m1 = s[0] - 1, f->w_m1 = s[1] - 1, f->b_m1 = b - 1;
      if (chance(30)) f->b_m1 = f->b_m1 ? f->b_m1 - 1 : 0;
      if (kind == K_POOL && chance(30)) { /* global: M = B */
        f->global = 1, f->kh = f->kw = 0, f->b_m1 = 1023;
      }
      f->cin = chance(50) ? rr(1, R) : f->cin;
    } else {
      /* KT = KH*KW*CT around 65535: 49 * 1337 = 65513, 49 * 1338 = 65562;
       * 42 * 1560 = 65520, 42 * 1561 = 65562; 36 * 1820 = 65520, 36 * 1821 = 65556;
       * 15 * 4369 = 65535, 15 * 4370 = 65550; 16 * 4096 = 65536, 16 * 4095 = 65520 */
      static const uint32_t kk[6][3] = {{7, 7, 1337}, {6, 7, 1560}, {6, 6, 1820},
                                        {3, 5, 4369}, {5, 3, 4369}, {4, 4, 4095}};
      const uint32_t *q = kk[rr(0, 5)];
      f->kh = q[0], f->kw = q[1], f->ph = f->pw = 3, f->h_m1 = f->w_m1 = 0, f->b_m1 = rr(0, 2);
      uint32_t ct = q[2] + rr(0, 1) - (chance(20) ? 1 : 0);
      f->cin = ct * R - rr(0, R - 1);
      if (f->cin > 65535) f->cin = 65535;
      f->n = rr(1, R);
    }
  }
  pick_lohi(f);
  /* the extents, for the bases */
  uint64_t CT = cdiv(f->cin, R), NT = kind == K_CONV ? cdiv(f->n, R) : CT;
  uint64_t H = f->h_m1 + 1, W = f->w_m1 + 1, B = f->b_m1 + 1;
  int64_t kh = f->global ? (int64_t)H : f->kh, kw = f->global ? (int64_t)W : f->kw;
  int64_t dh = (int64_t)H + 2 * f->ph + f->eh - kh, dw = (int64_t)W + 2 * f->pw + f->ew - kw;
  uint64_t oh = dh >= 0 ? (uint64_t)dh / (f->sh_m1 + 1) + 1 : 1;
  uint64_t ow = dw >= 0 ? (uint64_t)dw / (f->sw_m1 + 1) + 1 : 1;
  uint64_t in = CT * H * W * B, out = NT * oh * ow * B;
  uint64_t kt = (uint64_t)(kh > 0 ? kh : 1) * (uint64_t)(kw > 0 ? kw : 1) * CT;
  f->a_base = pick_base(in, cfg.act_words);
  f->o_base = pick_o(f->a_base, in, out, cfg.act_words);
  if (kind == K_CONV) {
    f->w_base = pick_base(NT * kt * R, cfg.w_words);
    f->p_base = pick_base(NT, cfg.p_words);
  } else {
    f->w_base = nnf_rng_u32(&rng), f->p_base = nnf_rng_u32(&rng); /* ignored */
  }
  if (chance(35)) { /* in-range bases: the boundaries that must be accepted */
    f->a_base = chance(50) ? 0 : in <= cfg.act_words ? (uint32_t)(cfg.act_words - in) : 0;
    f->o_base = f->a_base ? (uint32_t)(f->a_base - out) : (uint32_t)in;
    if (kind == K_CONV) {
      uint64_t ww = NT * kt * R;
      f->w_base = chance(50) || ww > cfg.w_words ? 0 : (uint32_t)(cfg.w_words - ww);
      f->p_base = chance(50) || NT > cfg.p_words ? 0 : (uint32_t)(cfg.p_words - NT);
    }
  }
  /* sometimes fit everything from 0 */
  if (mode == 1 || chance(10)) {
    f->a_base = 0, f->o_base = (uint32_t)in;
    if (kind == K_CONV) f->w_base = 0, f->p_base = 0;
  }
}

/* A DWCONV: a CONV's fields (kind CONV, dw set) with N = C mostly, kernels
 * 1..3 mostly (0 and 4..7 refused), its W extent CT*KH*KW words at the
 * buffer's end and one past. */
static void gen_dw(fields *f) {
  gen_cv(f, K_CONV, chance(10) ? 1 : chance(10) ? 2 : 0);
  f->dw = 1;
  if (chance(90)) f->n = f->cin;
  if (chance(85)) f->kh = rr(1, 3), f->kw = rr(1, 3);
  if (chance(50)) f->ph = chance(70) ? rr(0, f->kh) : rr(0, 7), f->pw = chance(70) ? rr(0, f->kw) : rr(0, 7);
  uint64_t CT = cdiv(f->cin, cfg.rows), ww = CT * f->kh * f->kw;
  if (chance(40)) f->w_base = ww <= cfg.w_words ? (uint32_t)(cfg.w_words - ww + (chance(30) ? 1 : 0)) : 0;
  if (chance(20)) f->p_base = CT <= cfg.p_words ? (uint32_t)(cfg.p_words - CT + (chance(30) ? 1 : 0)) : 0;
}

/* ---- extents that wrap the check's saturating counters ------------------- *
 * nnf_insn_check counts in CW = 2 + log2(largest buffer) bits and flags a
 * product >= 2^CW as "big" (refused). An extent of exactly 2^CW words
 * (or W tiles of 2^CW / ROWS) wraps to 0 in CW bits: it must still be
 * refused. One of A, O, W is made exactly that, the rest small. */
static int cw_bits(void) {
  uint32_t mx = cfg.act_words;
  if (cfg.w_words > mx) mx = cfg.w_words;
  if (cfg.p_words > mx) mx = cfg.p_words;
  if (state_words > mx) mx = state_words;
  int b = 0;
  while ((1u << b) < mx) b++;
  return (b < 1 ? 1 : b) + 2;
}

static int log2u(uint32_t x) {
  int b = 0;
  while ((1u << b) < x) b++;
  return b;
}

/* e = sum of parts, part i at most cap[i] (exponents); 0 when impossible. */
static int split(int e, int n, const int *cap, int *part) {
  int left = e;
  for (int i = 0; i < n; i++) part[i] = 0;
  for (int pass = 0; pass < 4 && left > 0; pass++)
    for (int i = 0; i < n && left > 0; i++) {
      int room = cap[i] - part[i], t = room < left ? room : left;
      if (pass == 0) t = (int)rr(0, (uint32_t)t);
      part[i] += t, left -= t;
    }
  return left == 0;
}

static int gen_wrap(fields *f, unsigned kind) {
  int CW = cw_bits(), LR = log2u(cfg.rows), which = (int)rr(0, 2); /* A, O, W */
  int tmax = 15 - LR; /* tiles <= 2^tmax: k, n, Cin = tiles * ROWS <= 32768 */
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->lo = -1, f->hi = 1;
  if (kind == K_GEMM) {
    int part[2];
    if (which == 0) { /* m * kt */
      int cap[2] = {15, tmax};
      if (!split(CW, 2, cap, part)) return 0;
      f->m = 1u << part[0], f->k = (1u << part[1]) * cfg.rows, f->n = 1;
    } else if (which == 1) { /* m * nt */
      int cap[2] = {15, tmax};
      if (!split(CW, 2, cap, part)) return 0;
      f->m = 1u << part[0], f->n = (1u << part[1]) * cfg.rows, f->k = 1;
    } else { /* kt * nt tiles, * ROWS words */
      int cap[2] = {tmax, tmax};
      if (!split(CW - LR, 2, cap, part)) return 0;
      f->m = 1, f->k = (1u << part[0]) * cfg.rows, f->n = (1u << part[1]) * cfg.rows;
    }
    uint64_t KT = cdiv(f->k, cfg.rows), NT = cdiv(f->n, cfg.rows);
    f->a_base = 0, f->o_base = (uint32_t)(KT * f->m) % cfg.act_words;
    f->w_base = 0, f->p_base = 0;
    (void)NT;
    return 1;
  }
  /* CONV: H, W, B, CT, NT powers of two, kernel 1 */
  f->kh = f->kw = 1, f->sh_m1 = f->sw_m1 = 0, f->ph = f->pw = 0, f->eh = f->ew = 0;
  int part[5];
  int cap[5] = {10, 10, 10, tmax, tmax}; /* H, W, B, CT, NT */
  if (which == 0) { /* CT*H*W*B */
    cap[4] = 0;
    if (!split(CW, 5, cap, part)) return 0;
  } else if (which == 1) { /* NT*M, M = H*W*B, CT = 1 */
    cap[3] = 0;
    if (!split(CW, 5, cap, part)) return 0;
  } else { /* NT*KT tiles, KT = CT; H = W = B = 1 */
    cap[0] = cap[1] = cap[2] = 0;
    if (!split(CW - LR, 5, cap, part)) return 0;
  }
  f->h_m1 = (1u << part[0]) - 1, f->w_m1 = (1u << part[1]) - 1, f->b_m1 = (1u << part[2]) - 1;
  f->cin = (1u << part[3]) * cfg.rows, f->n = (1u << part[4]) * cfg.rows;
  if (f->cin > 65535 || f->n > 65535) return 0;
  uint64_t in = (uint64_t)(1u << part[3]) << (part[0] + part[1] + part[2]);
  f->a_base = 0, f->o_base = (uint32_t)(in % cfg.act_words);
  f->w_base = 0, f->p_base = 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: gen_insn_check ROWS ACT_WORDS W_WORDS P_WORDS STATE_WORDS SEED CASES out.hex\n");
    return 2;
  }
  cfg = nnfm_config_default();
  cfg.rows = cfg.cols = (uint32_t)strtoul(argv[1], NULL, 0);
  cfg.act_words = (uint32_t)strtoul(argv[2], NULL, 0);
  cfg.w_words = (uint32_t)strtoul(argv[3], NULL, 0);
  cfg.p_words = (uint32_t)strtoul(argv[4], NULL, 0);
  state_words = (uint32_t)strtoul(argv[5], NULL, 0);
  rng = nnf_rng_seed(strtoull(argv[6], NULL, 0));
  long cases = strtol(argv[7], NULL, 0);
  eng = nnfm_engine_create(&cfg);
  if (!eng) {
    fprintf(stderr, "gen_insn_check: configuration refused\n");
    return 1;
  }
  FILE *out = fopen(argv[8], "w");
  if (!out) {
    perror(argv[8]);
    return 1;
  }
  long n_ok[4] = {0}, n_all[4] = {0};
  for (long i = 0; i < cases; i++) {
    fields f;
    memset(&f, 0, sizeof f);
    uint32_t r = rr(0, 99);
    if (r < 2) {
      if (!gen_wrap(&f, K_GEMM)) gen_gemm_lif(&f, K_GEMM);
    } else if (r < 4) {
      if (!gen_wrap(&f, K_CONV)) gen_cv(&f, K_CONV, 0);
    } else if (r < 10) gen_gemm_lif(&f, K_GEMM);
    /* without a LIF core (STATE_WORDS 0) nnf_seq never starts a LIF check
       and nnf_insn_check has none (its LIF paths fold away): GEMMs instead */
    else if (r < 16) gen_gemm_lif(&f, state_words ? K_LIF : K_GEMM);
    else if (r < 44) gen_cv(&f, K_CONV, chance(12) ? 1 : chance(12) ? 2 : 0);
    else if (r < 58) gen_dw(&f);
    else gen_cv(&f, K_POOL, chance(12) ? 1 : chance(12) ? 2 : 0);
    if (f.m > 65535 || f.k > 65535 || f.n > 65535 || f.cin > 65535) {
      fprintf(stderr, "gen_insn_check: case %ld: a 16-bit field out of range\n", i);
      return 1;
    }
    sizes s;
    int ok = verdict(&f, &s);
    n_all[f.kind]++, n_ok[f.kind] += ok;
    uint32_t w[16];
    w[0] = f.kind | (uint32_t)ok << 2 | (uint32_t)s.check_kt << 3 | f.eh << 4 | f.ew << 5 | f.global << 6 |
           f.dw << 7;
    w[1] = f.m << 16 | f.k;
    w[2] = f.n << 16 | f.cin;
    w[3] = f.a_base, w[4] = f.w_base, w[5] = f.p_base, w[6] = f.o_base;
    w[7] = ((uint32_t)f.lo & 0xff) << 24 | ((uint32_t)f.hi & 0xff) << 16 | f.kh << 12 | f.kw << 8 |
           f.sh_m1 << 4 | f.sw_m1;
    w[8] = f.ph << 16 | f.pw;
    w[9] = f.h_m1 << 20 | f.w_m1 << 10 | f.b_m1;
    w[10] = s.oh << 16 | s.ow;
    w[11] = s.kh << 16 | s.kw;
    w[12] = s.m << 16 | s.ct;
    w[13] = s.kt, w[14] = s.wb, w[15] = s.hwb;
    for (int j = 0; j < 16; j++) fprintf(out, "%08x", w[j]);
    fprintf(out, "\n");
  }
  fclose(out);
  nnfm_engine_destroy(eng);
  printf("gen_insn_check: %ld cases: GEMM %ld (%ld ok), LIF %ld (%ld ok), CONV %ld (%ld ok), POOL %ld (%ld ok)\n",
         cases, n_all[0], n_ok[0], n_all[1], n_ok[1], n_all[2], n_ok[2], n_all[3], n_ok[3]);
  return 0;
}
