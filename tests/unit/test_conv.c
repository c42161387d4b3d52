/*
 * test_conv.c - convolution and pooling in the functional model
 * (docs/conv.md, docs/numerics.md "Pooling"):
 *   - nnfm_avg_round on hand-worked ties and, for every count 1..49 and
 *     every int8 sum, against the exact rational rounding;
 *   - window geometry (nnfm_window_check) and its refusals;
 *   - the references (nnfm_conv2d_ref, nnfm_maxpool_ref, nnfm_avgpool_ref)
 *     on hand-computed maps, and the conv reference against an independent
 *     im2col + nnfm_gemm with the folded bias (nnfm_conv_fold_input_zp ==
 *     nnfm_fold_input_zp on the im2col weights); flatten + dense is the conv
 *     with the kernel the whole map;
 *   - the engine's CONV and POOL in the device layout against the
 *     references on thousands of seeded random shapes and configurations
 *     (ROWS 2, 4, 8, 16; M blocks of 2..256 rows), comparing the WHOLE
 *     buffer images (output words as expected, padded lanes 0, every other
 *     byte untouched) with garbage in every lane the engine must ignore;
 *   - a 1x1 CONV equals a GEMM byte for byte (buffers and MAC count);
 *   - every refusal of nnfm_engine_conv_check / nnfm_engine_pool_check with
 *     its exact code, at the exact boundaries, buffers untouched.
 */
#include <math.h>

#include "nnf_test.h"
#include "nnfm.h"
#include "nnfm_snap.h"


static uint32_t cdiv(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

/* ---- average rounding ------------------------------------------------------- */

/* The mean rounded to nearest, ties away from zero, written independently of
 * TFLite's form: |q| = floor((2|sum| + count) / (2 count)). */
static int32_t round_half_away(int32_t sum, int32_t count) {
  int64_t a = sum < 0 ? -(int64_t)sum : sum;
  int64_t q = (2 * a + count) / (2 * (int64_t)count);
  return (int32_t)(sum < 0 ? -q : q);
}

static void test_avg_round(void) {
  /* ties (.5) go away from zero, in both signs */
  CHECK_EQ(nnfm_avg_round(1, 2), 1);    /*  0.5 */
  CHECK_EQ(nnfm_avg_round(-1, 2), -1);  /* -0.5 */
  CHECK_EQ(nnfm_avg_round(3, 2), 2);    /*  1.5 */
  CHECK_EQ(nnfm_avg_round(-3, 2), -2);  /* -1.5 */
  CHECK_EQ(nnfm_avg_round(2, 4), 1);    /*  0.5 */
  CHECK_EQ(nnfm_avg_round(-2, 4), -1);
  CHECK_EQ(nnfm_avg_round(10, 4), 3);   /*  2.5 */
  CHECK_EQ(nnfm_avg_round(-10, 4), -3); /* -2.5 (ties to +inf would give -2) */
  CHECK_EQ(nnfm_avg_round(21, 6), 4);   /*  3.5, a 6-tap border window */
  CHECK_EQ(nnfm_avg_round(-21, 6), -4);
  CHECK_EQ(nnfm_avg_round(-27, 6), -5); /* -4.5 */
  /* not ties */
  CHECK_EQ(nnfm_avg_round(5, 4), 1);    /*  1.25 */
  CHECK_EQ(nnfm_avg_round(-5, 4), -1);
  CHECK_EQ(nnfm_avg_round(7, 4), 2);    /*  1.75 */
  CHECK_EQ(nnfm_avg_round(-7, 4), -2);
  CHECK_EQ(nnfm_avg_round(4, 9), 0);    /*  0.444 */
  CHECK_EQ(nnfm_avg_round(5, 9), 1);    /*  0.556 */
  CHECK_EQ(nnfm_avg_round(-4, 9), 0);
  CHECK_EQ(nnfm_avg_round(-5, 9), -1);
  CHECK_EQ(nnfm_avg_round(24, 49), 0);  /*  0.490 (7x7) */
  CHECK_EQ(nnfm_avg_round(25, 49), 1);  /*  0.510 */
  CHECK_EQ(nnfm_avg_round(-24, 49), 0);
  CHECK_EQ(nnfm_avg_round(-25, 49), -1);
  CHECK_EQ(nnfm_avg_round(127 * 49, 49), 127);
  CHECK_EQ(nnfm_avg_round(-128 * 49, 49), -128);
  CHECK_EQ(nnfm_avg_round(0, 7), 0);
  CHECK_EQ(nnfm_avg_round(-77, 1), -77);
  CHECK_EQ(nnfm_avg_round(5, 0), 0); /* no taps: defined, refused by the engine */
  CHECK_EQ(nnfm_avg_round(5, -3), 0);
  CHECK_EQ(nnfm_avg_round(INT32_MAX, 2), 1073741824); /* no overflow of sum + count/2 */
  CHECK_EQ(nnfm_avg_round(INT32_MIN, 2), -1073741824);
  /* every count a 7x7 window can have, every sum its int8 taps can make */
  for (int32_t count = 1; count <= 49; count++)
    for (int32_t sum = -128 * count; sum <= 127 * count; sum++) {
      int32_t got = nnfm_avg_round(sum, count), want = round_half_away(sum, count);
      if (got != want) {
        nnf_test_ctx("sum %d count %d", sum, count);
        CHECK_EQ(got, want);
      }
    }
  nnf_test_ctx("");
}

/* ---- window geometry -------------------------------------------------------- */

static nnfm_window win(int b, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
  nnfm_window g = {b, c, h, w, kh, kw, sh, sw, ph, pw, 0, 0};
  return g;
}

static void test_window(void) {
  int oh = -1, ow = -1;
  nnfm_window g = win(1, 1, 28, 28, 5, 5, 1, 1, 2, 2);
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 28); CHECK_EQ(ow, 28);
  g = win(2, 3, 28, 27, 2, 3, 2, 2, 0, 0); /* (28-2)/2+1, (27-3)/2+1 */
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 14); CHECK_EQ(ow, 13);
  g = win(1, 1, 3, 3, 5, 7, 1, 1, 1, 2); /* kernel == padded input: one output */
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 1); CHECK_EQ(ow, 1);
  g = win(1, 1, 7, 7, 1, 1, 4, 3, 0, 0); /* stride > kernel: taps skipped */
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 2); CHECK_EQ(ow, 3);
  CHECK_OK(nnfm_window_check(&g, 0, NULL, NULL));
  /* refusals, outputs untouched */
  oh = ow = -7;
  g = win(1, 1, 3, 3, 6, 1, 1, 1, 1, 0); /* 6 > 3 + 2 */
  CHECK_EQ(nnfm_window_check(&g, 0, &oh, &ow), NNFM_ERR_RANGE);
  g = win(1, 1, 3, 3, 1, 8, 1, 1, 0, 2);
  CHECK_EQ(nnfm_window_check(&g, 0, &oh, &ow), NNFM_ERR_RANGE);
  const nnfm_window ok = win(2, 3, 5, 6, 3, 3, 2, 1, 1, 1);
  for (int f = 0; f < 10; f++) { /* each field at 0 (or -1 for the padding) */
    g = ok;
    int *fld[10] = {&g.b, &g.c, &g.h, &g.w, &g.kh, &g.kw, &g.sh, &g.sw, &g.ph, &g.pw};
    *fld[f] = f >= 8 ? -1 : 0;
    nnf_test_ctx("field %d", f);
    CHECK_EQ(nnfm_window_check(&g, 0, &oh, &ow), NNFM_ERR_RANGE);
  }
  nnf_test_ctx("");
  CHECK_EQ(oh, -7); CHECK_EQ(ow, -7);
  CHECK_EQ(nnfm_window_check(NULL, 0, &oh, &ow), NNFM_ERR_NULL);
  g = win(1, 1, INT32_MAX, 1, 1, 1, 1, 1, 1, 0); /* INT32_MAX + 2 output rows: no int holds it */
  CHECK_EQ(nnfm_window_check(&g, 0, &oh, &ow), NNFM_ERR_RANGE);
  g.ph = 0;
  CHECK_OK(nnfm_window_check(&g, 0, &oh, &ow));
  CHECK_EQ(oh, INT32_MAX);
  /* padding >= kernel: windows of padding only; a conv takes them, a pool not */
  g = win(1, 1, 4, 4, 2, 2, 1, 1, 2, 0);
  CHECK_OK(nnfm_window_check(&g, 0, &oh, &ow));
  CHECK_EQ(oh, 7); CHECK_EQ(ow, 3);
  CHECK_EQ(nnfm_window_check(&g, 1, NULL, NULL), NNFM_ERR_RANGE);
  g = win(1, 1, 4, 4, 2, 2, 1, 1, 0, 2);
  CHECK_EQ(nnfm_window_check(&g, 1, NULL, NULL), NNFM_ERR_RANGE);
  /* TFLite's SAME with an odd total: H 4, K 3, S 2 pads 0 above and 1 below */
  g = win(1, 1, 4, 5, 3, 3, 2, 2, 0, 0);
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 1);
  CHECK_EQ(ow, 2);
  g.eh = 1;
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 2);
  CHECK_EQ(ow, 2);
  g.ew = 1; /* W 5: total 0, one more column changes nothing */
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(ow, 2);
  g = win(1, 1, 2, 2, 2, 2, 1, 1, 1, 0), g.eh = 1; /* padding k-1 plus one: the last window is empty */
  CHECK_OK(nnfm_window_check(&g, 0, &oh, &ow));
  CHECK_EQ(oh, 4);
  CHECK_EQ(nnfm_window_check(&g, 1, NULL, NULL), NNFM_ERR_RANGE);
  g = win(1, 1, 2, 2, 5, 1, 1, 1, 1, 0); /* the kernel needs the extra row */
  CHECK_EQ(nnfm_window_check(&g, 0, NULL, NULL), NNFM_ERR_RANGE);
  g.eh = 1;
  CHECK_OK(nnfm_window_check(&g, 0, &oh, NULL));
  CHECK_EQ(oh, 1);
  g.eh = -1;
  CHECK_EQ(nnfm_window_check(&g, 0, NULL, NULL), NNFM_ERR_RANGE);
  g = win(1, 1, 4, 4, 3, 3, 3, 3, 2, 2); /* padding k-1: every window has a tap */
  CHECK_OK(nnfm_window_check(&g, 1, &oh, &ow));
  CHECK_EQ(oh, 2); CHECK_EQ(ow, 2);
}

/* ---- references on hand-worked maps -------------------------------------- */

static void test_conv_ref_hand(void) {
  /* x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]], zp_in 1, pad 1, stride 2:
   * windows start at -1 and 1; padding taps are x = zp_in, i.e. add 0:
   *   (0,0): (1-1)*-1 = 0       (0,1): (3-1)*-1 = -2
   *   (1,0): (7-1)*-1 = -6      (1,1): (5-1) - (9-1) = -4
   * bias 10, multiplier 1.0 (m0 2^30, shift 1), zp_out 0: y = [10, 8, 4, 6] */
  const int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1};
  const int32_t bias[1] = {10}, m0[1] = {1 << 30};
  const int8_t shift[1] = {1};
  nnfm_conv_args a = {win(1, 1, 3, 3, 2, 2, 2, 2, 1, 1), 1, 1, 0, -128, 127, NULL, NNFM_ROUND_SINGLE, 1};
  int8_t y[4];
  CHECK_OK(nnfm_conv2d_ref(&a, x, w, bias, m0, shift, y));
  const int8_t want[4] = {10, 8, 4, 6};
  CHECK_MEM_EQ(y, want, 4);
  /* folded bias: 10 - 1 * (1 + 0 + 0 - 1) = 10; with zp_in 5 and w = all 2: 10 - 5*8 */
  int32_t bf[1];
  CHECK_OK(nnfm_conv_fold_input_zp(w, 1, 1, 2, 2, 1, bias, bf));
  CHECK_EQ(bf[0], 10);
  const int8_t w2[4] = {2, 2, 2, 2};
  CHECK_OK(nnfm_conv_fold_input_zp(w2, 1, 1, 2, 2, 5, bias, bf));
  CHECK_EQ(bf[0], 10 - 40);
  CHECK_OK(nnfm_conv_fold_input_zp(w2, 1, 1, 2, 2, 5, NULL, bf));
  CHECK_EQ(bf[0], -40);
  CHECK_EQ(nnfm_conv_fold_input_zp(w2, 1, -1, 2, 2, 5, NULL, bf), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_conv_fold_input_zp(NULL, 1, 1, 2, 2, 5, NULL, bf), NNFM_ERR_NULL);
  CHECK_OK(nnfm_conv_fold_input_zp(NULL, 0, 1, 2, 2, 5, NULL, NULL));
  /* a map equal to its zero point is the real 0.0: every output is the bias,
   * padding or not (zp_in -128 and 127) */
  for (int zi = 0; zi < 2; zi++) {
    int8_t xz[9], yz[4];
    a.zp_in = zi ? 127 : -128;
    memset(xz, (int)(int8_t)a.zp_in, sizeof xz);
    CHECK_OK(nnfm_conv2d_ref(&a, xz, w2, bias, m0, shift, yz));
    for (int i = 0; i < 4; i++) CHECK_EQ(yz[i], 10);
  }
  /* TFLite SAME, 3x3 of ones, stride 2 over 4x4 = 0..15: pads one row below
   * and one column right; the windows' in-map sums are 45, 39, 66, 50 */
  int8_t x16[16], y4[4];
  const int8_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  const int32_t zero[1] = {0};
  for (int i = 0; i < 16; i++) x16[i] = (int8_t)i;
  nnfm_conv_args same = {win(1, 1, 4, 4, 3, 3, 2, 2, 0, 0), 1, 0, 0, -128, 127, NULL, NNFM_ROUND_SINGLE, 1};
  same.win.eh = same.win.ew = 1;
  CHECK_OK(nnfm_conv2d_ref(&same, x16, ones, zero, m0, shift, y4));
  const int8_t want_same[4] = {45, 39, 66, 50};
  CHECK_MEM_EQ(y4, want_same, 4);
  same.zp_in = 3; /* padding is the zero point: in-map taps give x - 3 */
  CHECK_OK(nnfm_conv2d_ref(&same, x16, ones, zero, m0, shift, y4));
  const int8_t want_same3[4] = {45 - 27, 39 - 18, 66 - 18, 50 - 12};
  CHECK_MEM_EQ(y4, want_same3, 4);

  /* refusals, y untouched */
  int8_t keep[4] = {1, 2, 3, 4};
  a.zp_in = 1;
  nnfm_conv_args b = a;
  b.n = 0;
  CHECK_EQ(nnfm_conv2d_ref(&b, x, w, bias, m0, shift, keep), NNFM_ERR_RANGE);
  b = a, b.zp_in = 128;
  CHECK_EQ(nnfm_conv2d_ref(&b, x, w, bias, m0, shift, keep), NNFM_ERR_RANGE);
  b = a, b.lo = 3, b.hi = 2;
  CHECK_EQ(nnfm_conv2d_ref(&b, x, w, bias, m0, shift, keep), NNFM_ERR_RANGE);
  b = a, b.win.kh = 6;
  CHECK_EQ(nnfm_conv2d_ref(&b, x, w, bias, m0, shift, keep), NNFM_ERR_RANGE);
  const int8_t bad_shift[1] = {31};
  CHECK_EQ(nnfm_conv2d_ref(&a, x, w, bias, m0, bad_shift, keep), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_conv2d_ref(&a, NULL, w, bias, m0, shift, keep), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_conv2d_ref(NULL, x, w, bias, m0, shift, keep), NNFM_ERR_NULL);
  const int8_t keep0[4] = {1, 2, 3, 4};
  CHECK_MEM_EQ(keep, keep0, 4);
}

static void test_pool_ref_hand(void) {
  /* avg 3x3, stride 1, pad 1 over a 3x3 map: corner windows have 4 taps,
   * edges 6, the centre 9 (padding skipped, not counted) */
  const int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  nnfm_pool_args p = {win(1, 1, 3, 3, 3, 3, 1, 1, 1, 1), -128, 127};
  int8_t y[9], xn[9];
  CHECK_OK(nnfm_avgpool_ref(&p, x, y));
  /* 12/4=3, 21/6=3.5->4, 16/4=4, 27/6=4.5->5, 46/9->5, 34/6->6, 24/4=6, 40/6->7, 29/4->7 */
  const int8_t want[9] = {3, 4, 4, 5, 5, 6, 6, 7, 7};
  CHECK_MEM_EQ(y, want, 9);
  for (int i = 0; i < 9; i++) xn[i] = (int8_t)-x[i];
  CHECK_OK(nnfm_avgpool_ref(&p, xn, y));
  const int8_t want_n[9] = {-3, -4, -4, -5, -5, -6, -6, -7, -7}; /* ties away from zero */
  CHECK_MEM_EQ(y, want_n, 9);
  p.lo = -5, p.hi = 4; /* clamp after the rounding */
  CHECK_OK(nnfm_avgpool_ref(&p, xn, y));
  const int8_t want_c[9] = {-3, -4, -4, -5, -5, -5, -5, -5, -5};
  CHECK_MEM_EQ(y, want_c, 9);
  /* max, pad 1: padding taps are skipped (not 0, not a zero point) */
  const int8_t xm[4] = {-100, -90, -80, -70};
  nnfm_pool_args q = {win(1, 1, 2, 2, 2, 2, 1, 1, 1, 1), -128, 127};
  int8_t ym[9];
  CHECK_OK(nnfm_maxpool_ref(&q, xm, ym));
  const int8_t want_m[9] = {-100, -90, -90, -80, -70, -70, -80, -70, -70};
  CHECK_MEM_EQ(ym, want_m, 9);
  q.lo = -85, q.hi = -72;
  CHECK_OK(nnfm_maxpool_ref(&q, xm, ym));
  const int8_t want_mc[9] = {-85, -85, -85, -80, -72, -72, -80, -72, -72};
  CHECK_MEM_EQ(ym, want_mc, 9);
  /* 2x2 stride 2, two channels, two images; global average over 2x3 */
  int8_t x4[2 * 2 * 2 * 3], y4[2 * 2], yg[2 * 2];
  for (int i = 0; i < 24; i++) x4[i] = (int8_t)(i * 11 - 128);
  nnfm_pool_args g = {win(2, 2, 2, 3, 2, 3, 1, 1, 0, 0), -128, 127};
  CHECK_OK(nnfm_avgpool_ref(&g, x4, yg));
  for (int bc = 0; bc < 4; bc++) { /* mean of a, a+11, .., a+55: a + 27.5, a tie */
    int a0 = bc * 66 - 128;
    CHECK_EQ(yg[bc], a0 + 27.5 > 0 ? a0 + 28 : a0 + 27); /* -100.5 -> -101, 31.5 -> 32 */
  }
  nnfm_pool_args m2 = {win(2, 2, 2, 3, 2, 2, 2, 2, 0, 0), -128, 127};
  CHECK_OK(nnfm_maxpool_ref(&m2, x4, y4)); /* one window per map: x[1][1] */
  for (int bc = 0; bc < 4; bc++) CHECK_EQ(y4[bc], bc * 66 - 128 + 4 * 11);
  /* refusals: empty windows (padding >= kernel), lo > hi, NULL */
  nnfm_pool_args e = {win(1, 1, 2, 2, 2, 2, 1, 1, 2, 0), -128, 127};
  int8_t keep[9] = {0};
  CHECK_EQ(nnfm_maxpool_ref(&e, xm, keep), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_avgpool_ref(&e, xm, keep), NNFM_ERR_RANGE);
  e = q, e.lo = 1, e.hi = 0;
  CHECK_EQ(nnfm_maxpool_ref(&e, xm, keep), NNFM_ERR_RANGE);
  e = q, e.hi = 128;
  CHECK_EQ(nnfm_avgpool_ref(&e, xm, keep), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_avgpool_ref(&q, NULL, keep), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_maxpool_ref(NULL, xm, keep), NNFM_ERR_NULL);
  for (int i = 0; i < 9; i++) CHECK_EQ(keep[i], 0);
}

/* ---- random operands -------------------------------------------------------- */

typedef struct {
  nnfm_window g;
  int n;
  int oh, ow;
  int32_t zp_in, zp, lo, hi;
  int lut;
  int8_t *x, *w, *y;          /* NCHW, OIHW, NCHW out */
  int32_t *bias, *fbias, *m0; /* bias unfolded and folded */
  int8_t *shift;
} conv_case;

static void conv_case_free(conv_case *t) {
  free(t->x), free(t->w), free(t->y), free(t->bias), free(t->fbias), free(t->m0), free(t->shift);
}

/* Operands for a geometry: int8 map, symmetric weights, multipliers that
 * spread the outputs (some saturate: `sat`), a bias that may wrap. */
static void conv_case_fill(nnf_rng *r, conv_case *t, int sat) {
  const nnfm_window *g = &t->g;
  size_t nx = (size_t)g->b * g->c * g->h * g->w, nw = (size_t)t->n * g->c * g->kh * g->kw;
  size_t ny = (size_t)g->b * t->n * t->oh * t->ow;
  t->x = malloc(nx), t->w = malloc(nw), t->y = malloc(ny);
  t->bias = malloc(sizeof(int32_t) * t->n), t->fbias = malloc(sizeof(int32_t) * t->n);
  t->m0 = malloc(sizeof(int32_t) * t->n), t->shift = malloc((size_t)t->n);
  CHECK(t->x && t->w && t->y && t->bias && t->fbias && t->m0 && t->shift);
  nnf_rng_fill(r, t->x, nx);
  for (size_t i = 0; i < nw; i++) t->w[i] = (int8_t)nnf_rng_range(r, -127, 127);
  if (nnf_rng_range(r, 0, 4) == 0) /* some maps sit at the extremes */
    for (size_t i = 0; i < nx; i++) t->x[i] = nnf_rng_range(r, 0, 1) ? 127 : -128;
  double taps = (double)g->c * g->kh * g->kw;
  for (int j = 0; j < t->n; j++) {
    int s;
    /* |acc| ~ 70 * 73 * sqrt(taps): aim for a spread of about +-64 */
    double real = 48.0 / (5000.0 * sqrt(taps)) * (0.5 + (double)nnf_rng_u32(r) / 4294967296.0);
    if (sat) real *= 64.0; /* most outputs clamp */
    CHECK_OK(nnfm_quantize_multiplier(real, &t->m0[j], &s));
    t->shift[j] = (int8_t)s;
    t->bias[j] = (int32_t)nnf_rng_range(r, -20000, 20000);
    if (j % 7 == 3) t->bias[j] = (int32_t)nnf_rng_u32(r); /* may wrap */
  }
  CHECK_OK(nnfm_conv_fold_input_zp(t->w, t->n, g->c, g->kh, g->kw, t->zp_in, t->bias, t->fbias));
}

static int conv_ref_of(const conv_case *t, const int8_t *lut, int8_t *y) {
  nnfm_conv_args a = {t->g, t->n, t->zp_in, t->zp, t->lo, t->hi, t->lut ? lut : NULL, NNFM_ROUND_SINGLE, 1};
  return nnfm_conv2d_ref(&a, t->x, t->w, t->bias, t->m0, t->shift, y);
}

/* The conv reference against im2col + nnfm_gemm with the folded bias: a
 * second formulation (padding as explicit zp_in columns, fold by the GEMM's
 * own helper on the im2col weights). */
static void check_ref_vs_im2col(const conv_case *t, const int8_t *lut) {
  const nnfm_window *g = &t->g;
  const int B = g->b, C = g->c, H = g->h, W = g->w, N = t->n, OH = t->oh, OW = t->ow;
  const int K = C * g->kh * g->kw, M = B * OH * OW;
  int8_t *a = malloc((size_t)M * K), *wk = malloc((size_t)K * N), *yg = malloc((size_t)M * N);
  int8_t *yr = malloc((size_t)M * N);
  int32_t *fb = malloc(sizeof(int32_t) * N), *fb2 = malloc(sizeof(int32_t) * N);
  CHECK(a && wk && yg && yr && fb && fb2);
  for (int b = 0; b < B; b++) /* row (b, oy, ox), column (c, ky, kx): PyTorch's unfold order */
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        for (int c = 0; c < C; c++)
          for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
              int iy = oy * g->sh - g->ph + ky, ix = ox * g->sw - g->pw + kx;
              int row = (b * OH + oy) * OW + ox, col = (c * g->kh + ky) * g->kw + kx;
              int in = iy >= 0 && iy < H && ix >= 0 && ix < W;
              a[(size_t)row * K + col] = in ? t->x[(((size_t)b * C + c) * H + iy) * W + ix] : (int8_t)t->zp_in;
            }
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) wk[(size_t)k * N + n] = t->w[(size_t)n * K + k];
  CHECK_OK(nnfm_fold_input_zp(wk, K, N, t->zp_in, t->bias, fb));
  CHECK_OK(nnfm_conv_fold_input_zp(t->w, N, C, g->kh, g->kw, t->zp_in, t->bias, fb2));
  CHECK_MEM_EQ(fb, fb2, sizeof(int32_t) * N);
  nnfm_gemm_args ga = {M, K, N, t->zp, t->lo, t->hi, t->lut ? lut : NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&ga, a, wk, fb, t->m0, t->shift, yg));
  CHECK_OK(conv_ref_of(t, lut, yr));
  for (int b = 0; b < B; b++) /* yr is NCHW, yg is (b, oy, ox) x n */
    for (int n = 0; n < N; n++)
      for (int p = 0; p < OH * OW; p++)
        CHECK_EQ(yr[((size_t)b * N + n) * OH * OW + p], yg[((size_t)b * OH * OW + p) * N + n]);
  free(a), free(wk), free(yg), free(yr), free(fb), free(fb2);
}

/* A random geometry with the engine's limits. */
static nnfm_window random_window(nnf_rng *r, int rows, int pool) {
  nnfm_window g;
  int corner = (int)nnf_rng_range(r, 0, 9);
  g.b = (int)nnf_rng_range(r, 1, 3);
  g.c = (int)nnf_rng_range(r, 1, 2 * rows + 3);
  if (corner == 1) g.c = rows * (int)nnf_rng_range(r, 1, 2); /* whole channel tiles */
  g.kh = (int)nnf_rng_range(r, 1, 7), g.kw = (int)nnf_rng_range(r, 1, 7);
  if (corner == 2) g.kh = g.kw = 1;
  g.sh = (int)nnf_rng_range(r, 1, 4), g.sw = (int)nnf_rng_range(r, 1, 4);
  /* padding up to k-1 (a conv also beyond, up to 7) */
  g.ph = (int)nnf_rng_range(r, 0, g.kh - 1), g.pw = (int)nnf_rng_range(r, 0, g.kw - 1);
  if (!pool && corner == 3) g.ph = (int)nnf_rng_range(r, 0, 7), g.pw = (int)nnf_rng_range(r, 0, 7);
  /* one more padding row below / column right (TFLite's SAME with an odd total) */
  g.eh = nnf_rng_range(r, 0, 3) == 0, g.ew = nnf_rng_range(r, 0, 3) == 0;
  if (pool && g.ph + g.eh >= g.kh) g.eh = 0; /* else the last window is padding only */
  if (pool && g.pw + g.ew >= g.kw) g.ew = 0;
  g.h = (int)nnf_rng_range(r, 1, 9), g.w = (int)nnf_rng_range(r, 1, 9);
  if (g.kh > g.h + 2 * g.ph + g.eh) g.h = g.kh - 2 * g.ph - g.eh; /* may stay < 1: fixed below */
  if (g.kw > g.w + 2 * g.pw + g.ew) g.w = g.kw - 2 * g.pw - g.ew;
  if (g.h < 1) g.h = 1;
  if (g.w < 1) g.w = 1;
  if (corner == 4) g.h = g.kh - 2 * g.ph - g.eh > 0 ? g.kh - 2 * g.ph - g.eh : g.h; /* kernel == padded input */
  if (corner == 5) { /* stride > kernel */
    g.kh = (int)nnf_rng_range(r, 1, 3), g.sh = g.kh + 1, g.ph = 0, g.eh = 0;
    g.kw = (int)nnf_rng_range(r, 1, 3), g.sw = g.kw + 1, g.pw = 0, g.ew = 0;
    if (g.h < g.kh) g.h = g.kh;
    if (g.w < g.kw) g.w = g.kw;
  }
  if (corner == 6 && pool) { /* global: the window is the whole map */
    g.h = (int)nnf_rng_range(r, 1, 7), g.w = (int)nnf_rng_range(r, 1, 7);
    g.kh = g.h, g.kw = g.w, g.sh = g.sw = 1, g.ph = g.pw = g.eh = g.ew = 0;
  }
  return g;
}

/* ---- the engine against the references ------------------------------------ */

/* Place bases: two ACT ranges (in, out) disjoint in random order with gaps. */
static int place_act(nnf_rng *r, uint32_t depth, uint64_t in_w, uint64_t out_w, uint32_t *a_base,
                     uint32_t *o_base) {
  if (in_w + out_w > depth) return 0;
  uint64_t slack = depth - in_w - out_w;
  uint64_t g0 = (uint64_t)nnf_rng_range(r, 0, (int64_t)slack);
  uint64_t g1 = (uint64_t)nnf_rng_range(r, 0, (int64_t)(slack - g0));
  if (nnf_rng_range(r, 0, 1)) *a_base = (uint32_t)g0, *o_base = (uint32_t)(g0 + in_w + g1);
  else *o_base = (uint32_t)g0, *a_base = (uint32_t)(g0 + out_w + g1);
  return 1;
}

/* Garbage into the lanes of channels >= c of a map at base (the engine must
 * not look at them). */
static void scribble_spare_lanes(nnf_rng *r, nnfm_engine *e, uint32_t base, uint32_t c, uint32_t h,
                                 uint32_t w, uint32_t b) {
  const uint32_t R = (uint32_t)e->cfg.rows, CT = cdiv(c, R);
  if (c % R == 0) return;
  uint64_t words = (uint64_t)h * w * b; /* the last channel tile */
  for (uint64_t i = 0; i < words; i++)
    for (uint32_t lane = c % R; lane < R; lane++)
      e->act[((size_t)base + (size_t)(CT - 1) * words + i) * R + lane] = (uint8_t)nnf_rng_u32(r);
}

/* One CONV on the engine vs the reference; 0 when it does not fit. */
static int run_conv_case(nnf_rng *r, nnfm_engine *e, nnfm_window g, int n) {
  const nnfm_config *cfg = &e->cfg;
  const uint32_t R = (uint32_t)cfg->rows, C = (uint32_t)cfg->cols;
  conv_case t;
  memset(&t, 0, sizeof t);
  t.g = g, t.n = n;
  CHECK_OK(nnfm_window_check(&t.g, 0, &t.oh, &t.ow));
  const uint32_t CT = cdiv((uint32_t)g.c, R), NT = cdiv((uint32_t)n, C);
  const uint64_t M = (uint64_t)t.oh * t.ow * g.b, KT = (uint64_t)g.kh * g.kw * CT;
  const uint64_t in_w = (uint64_t)CT * g.h * g.w * g.b, out_w = NT * M, ww = NT * KT * R;
  if (ww > cfg->w_words || NT > cfg->p_words) return 0;
  nnfm_conv_cmd c = {0};
  memset(&c, 0, sizeof c);
  if (!place_act(r, cfg->act_words, in_w, out_w, &c.a_base, &c.o_base)) return 0;
  c.w_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->w_words - ww));
  c.p_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->p_words - NT));
  int pick = (int)nnf_rng_range(r, 0, 5);
  t.zp_in = pick == 0 ? -128 : pick == 1 ? 127 : (int32_t)nnf_rng_range(r, -128, 127);
  t.zp = (int32_t)nnf_rng_range(r, -128, 127);
  t.lo = (int32_t)nnf_rng_range(r, -128, 127), t.hi = (int32_t)nnf_rng_range(r, t.lo, 127);
  if (nnf_rng_range(r, 0, 2)) t.lo = -128, t.hi = 127;
  t.lut = nnf_rng_range(r, 0, 3) == 0;
  conv_case_fill(r, &t, nnf_rng_range(r, 0, 7) == 0);

  c.cin = (uint32_t)g.c, c.h = (uint32_t)g.h, c.w = (uint32_t)g.w, c.b = (uint32_t)g.b;
  c.n = (uint32_t)n, c.kh = (uint32_t)g.kh, c.kw = (uint32_t)g.kw, c.sh = (uint32_t)g.sh;
  c.sw = (uint32_t)g.sw, c.ph = (uint32_t)g.ph, c.pw = (uint32_t)g.pw;
  c.eh = (uint32_t)g.eh, c.ew = (uint32_t)g.ew;
  c.zp_in = t.zp_in, c.zp = t.zp, c.lo = t.lo, c.hi = t.hi, c.lut = t.lut;

  /* the operands into the device layout, garbage where the engine must not look */
  nnf_rng_fill(r, e->lut, 256);
  CHECK_OK(nnfm_engine_put_fmap(e, c.a_base, t.x, c.b, c.cin, c.h, c.w));
  scribble_spare_lanes(r, e, c.a_base, c.cin, c.h, c.w, c.b);
  CHECK_OK(nnfm_engine_put_conv_weights(e, c.w_base, t.w, c.n, c.cin, c.kh, c.kw));
  for (uint64_t word = 0; word < ww; word++) { /* rows of channels >= Cin, lanes n >= N */
    uint32_t row = (uint32_t)(word % ((uint64_t)KT * R)), nt = (uint32_t)(word / ((uint64_t)KT * R));
    uint32_t ch = (row / R % CT) * R + row % R;
    for (uint32_t j = 0; j < C; j++)
      if (ch >= c.cin || nt * C + j >= c.n) e->w[((size_t)c.w_base + word) * C + j] = (uint8_t)nnf_rng_u32(r);
  }
  CHECK_OK(nnfm_engine_put_params(e, c.p_base, t.fbias, t.m0, t.shift, c.n));
  for (uint32_t j = c.n; j < NT * C; j++) { /* invalid parameters in padding lanes */
    e->m0[(size_t)c.p_base * C + j] = -(int32_t)nnf_rng_range(r, 1, 1000);
    e->shift[(size_t)c.p_base * C + j] = (int8_t)nnf_rng_range(r, 31, 127);
  }

  /* expectation: the snapshot with the output words replaced */
  CHECK_OK(conv_ref_of(&t, e->lut, t.y));
  snap s = snap_take(e);
  for (uint32_t nt = 0; nt < NT; nt++)
    for (uint64_t m = 0; m < M; m++) {
      uint32_t b = (uint32_t)(m % c.b), pix = (uint32_t)(m / c.b); /* m = (oy*OW + ox)*B + b */
      for (uint32_t j = 0; j < C; j++) {
        uint32_t nn = nt * C + j;
        s.act[((size_t)c.o_base + nt * M + m) * R + j] =
            nn < c.n ? (uint8_t)t.y[((size_t)b * c.n + nn) * t.oh * t.ow + pix] : 0;
      }
    }
  uint64_t macs = 1;
  nnf_test_ctx("rows %d acc %u: B %d C %d H %d W %d N %d k %dx%d s %d,%d p %d+%d,%d+%d zp_in %d lut %d "
               "a %u o %u w %u p %u",
               cfg->rows, cfg->acc_depth, g.b, g.c, g.h, g.w, n, g.kh, g.kw, g.sh, g.sw, g.ph, g.eh,
               g.pw, g.ew, t.zp_in, t.lut, c.a_base, c.o_base, c.w_base, c.p_base);
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  CHECK_OK(nnfm_engine_conv(e, &c, &macs));
  check_same(e, &s);
  CHECK_EQ_U64(macs, M * g.kh * g.kw * g.c * (uint64_t)n);
  int8_t *back = malloc((size_t)g.b * n * t.oh * t.ow);
  CHECK(back != NULL);
  CHECK_OK(nnfm_engine_get_fmap(e, c.o_base, back, c.b, c.n, (uint32_t)t.oh, (uint32_t)t.ow));
  CHECK_MEM_EQ(back, t.y, (size_t)g.b * n * t.oh * t.ow);
  nnf_test_ctx("");
  free(back);
  snap_free(&s);
  conv_case_free(&t);
  return 1;
}

/* One POOL on the engine vs the reference; 0 when it does not fit. */
/* One POOL on the engine against the reference; global: as a global POOL
 * (g must then be the whole map: kernel H x W, stride 1, no padding). */
static int run_pool_case(nnf_rng *r, nnfm_engine *e, nnfm_window g, int op, int global) {
  const nnfm_config *cfg = &e->cfg;
  const uint32_t R = (uint32_t)cfg->rows, CT = cdiv((uint32_t)g.c, R);
  int oh, ow;
  if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0;
  const uint64_t M = (uint64_t)oh * ow * g.b, in_w = (uint64_t)CT * g.h * g.w * g.b, out_w = CT * M;
  nnfm_pool_cmd c;
  memset(&c, 0, sizeof c);
  if (!place_act(r, cfg->act_words, in_w, out_w, &c.a_base, &c.o_base)) return 0;
  c.op = op;
  c.c = (uint32_t)g.c, c.h = (uint32_t)g.h, c.w = (uint32_t)g.w, c.b = (uint32_t)g.b;
  c.kh = (uint32_t)g.kh, c.kw = (uint32_t)g.kw, c.sh = (uint32_t)g.sh, c.sw = (uint32_t)g.sw;
  c.ph = (uint32_t)g.ph, c.pw = (uint32_t)g.pw, c.eh = (uint32_t)g.eh, c.ew = (uint32_t)g.ew;
  if (global) c.global = 1, c.kh = c.kw = 0;
  c.lo = (int32_t)nnf_rng_range(r, -128, 127), c.hi = (int32_t)nnf_rng_range(r, c.lo, 127);
  if (nnf_rng_range(r, 0, 2)) c.lo = -128, c.hi = 127;
  size_t nx = (size_t)g.b * g.c * g.h * g.w, ny = (size_t)g.b * g.c * oh * ow;
  int8_t *x = malloc(nx), *y = malloc(ny), *back = malloc(ny);
  CHECK(x && y && back);
  nnf_rng_fill(r, x, nx);
  if (nnf_rng_range(r, 0, 3) == 0) /* small values: many exact ties */
    for (size_t i = 0; i < nx; i++) x[i] = (int8_t)nnf_rng_range(r, -3, 3);
  if (nnf_rng_range(r, 0, 5) == 0) /* extremes: saturated sums */
    for (size_t i = 0; i < nx; i++) x[i] = nnf_rng_range(r, 0, 1) ? 127 : -128;
  CHECK_OK(nnfm_engine_put_fmap(e, c.a_base, x, c.b, c.c, c.h, c.w));
  scribble_spare_lanes(r, e, c.a_base, c.c, c.h, c.w, c.b);
  nnfm_pool_args pa = {g, c.lo, c.hi};
  CHECK_OK(op == NNFM_POOL_MAX ? nnfm_maxpool_ref(&pa, x, y) : nnfm_avgpool_ref(&pa, x, y));
  snap s = snap_take(e);
  for (uint32_t ct = 0; ct < CT; ct++)
    for (uint64_t m = 0; m < M; m++) {
      uint32_t b = (uint32_t)(m % c.b), pix = (uint32_t)(m / c.b);
      for (uint32_t j = 0; j < R; j++) {
        uint32_t ch = ct * R + j;
        s.act[((size_t)c.o_base + ct * M + m) * R + j] =
            ch < c.c ? (uint8_t)y[((size_t)b * c.c + ch) * oh * ow + pix] : 0;
      }
    }
  nnf_test_ctx("rows %d: %s B %d C %d H %d W %d k %dx%d s %d,%d p %d,%d clamp %d..%d a %u o %u",
               cfg->rows, op ? "avg" : "max", g.b, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph,
               g.pw, c.lo, c.hi, c.a_base, c.o_base);
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  CHECK_OK(nnfm_engine_pool(e, &c));
  check_same(e, &s);
  CHECK_OK(nnfm_engine_get_fmap(e, c.o_base, back, c.b, c.c, (uint32_t)oh, (uint32_t)ow));
  CHECK_MEM_EQ(back, y, ny);
  nnf_test_ctx("");
  snap_free(&s);
  free(x), free(y), free(back);
  return 1;
}

static const nnfm_config *random_cfgs(int *count);

/* One DWCONV on the engine against nnfm_conv2d_ref with groups = C (the
 * bias not folded, padding taps zp_in: (zp_in - zp_in) * w adds nothing, so
 * the reference's padding is DWCONV's skipping); 0 when it does not fit. */
static int run_dwconv_case(nnf_rng *r, nnfm_engine *e, nnfm_window g) {
  const nnfm_config *cfg = &e->cfg;
  const uint32_t R = (uint32_t)cfg->rows, CT = cdiv((uint32_t)g.c, R);
  conv_case t;
  memset(&t, 0, sizeof t);
  t.g = g, t.n = g.c;
  if (nnfm_window_check(&t.g, 1, &t.oh, &t.ow) != NNFM_OK) return 0;
  const uint64_t M = (uint64_t)t.oh * t.ow * g.b, in_w = (uint64_t)CT * g.h * g.w * g.b, out_w = CT * M;
  const uint64_t ww = (uint64_t)CT * g.kh * g.kw;
  if (ww > cfg->w_words || CT > cfg->p_words) return 0;
  nnfm_dwconv_cmd c;
  memset(&c, 0, sizeof c);
  if (!place_act(r, cfg->act_words, in_w, out_w, &c.a_base, &c.o_base)) return 0;
  c.w_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->w_words - ww));
  c.p_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->p_words - CT));
  int pick = (int)nnf_rng_range(r, 0, 5);
  t.zp_in = pick == 0 ? -128 : pick == 1 ? 127 : (int32_t)nnf_rng_range(r, -128, 127);
  t.zp = (int32_t)nnf_rng_range(r, -128, 127);
  t.lo = (int32_t)nnf_rng_range(r, -128, 127), t.hi = (int32_t)nnf_rng_range(r, t.lo, 127);
  if (nnf_rng_range(r, 0, 2)) t.lo = -128, t.hi = 127;
  /* conv_case_fill's weights are OIHW with Cin taps an output: fill for one input channel */
  nnfm_window g1 = g;
  g1.c = 1;
  conv_case u = t;
  u.g = g1, u.n = g.c;
  conv_case_fill(r, &u, nnf_rng_range(r, 0, 7) == 0);
  free(u.x);
  u.x = malloc((size_t)g.b * g.c * g.h * g.w);
  CHECK(u.x != NULL);
  nnf_rng_fill(r, u.x, (size_t)g.b * g.c * g.h * g.w);
  free(u.y);
  u.y = malloc((size_t)g.b * g.c * t.oh * t.ow);
  CHECK(u.y != NULL);
  const int round = (int)nnf_rng_range(r, 0, 1) ? NNFM_ROUND_TFLITE : NNFM_ROUND_SINGLE;

  c.c = (uint32_t)g.c, c.h = (uint32_t)g.h, c.w = (uint32_t)g.w, c.b = (uint32_t)g.b;
  c.kh = (uint32_t)g.kh, c.kw = (uint32_t)g.kw, c.sh = (uint32_t)g.sh, c.sw = (uint32_t)g.sw;
  c.ph = (uint32_t)g.ph, c.pw = (uint32_t)g.pw, c.eh = (uint32_t)g.eh, c.ew = (uint32_t)g.ew;
  c.zp_in = t.zp_in, c.zp = t.zp, c.lo = t.lo, c.hi = t.hi, c.round = round;

  CHECK_OK(nnfm_engine_put_fmap(e, c.a_base, u.x, c.b, c.c, c.h, c.w));
  scribble_spare_lanes(r, e, c.a_base, c.c, c.h, c.w, c.b);
  CHECK_OK(nnfm_engine_put_dw_weights(e, c.w_base, u.w, c.c, c.kh, c.kw));
  for (uint64_t word = 0; word < ww; word++) /* lanes of channels >= C: garbage the unit must not use */
    for (uint32_t j = 0; j < R; j++)
      if ((word / ((uint64_t)g.kh * g.kw)) * R + j >= c.c) e->w[((size_t)c.w_base + word) * R + j] = (uint8_t)nnf_rng_u32(r);
  CHECK_OK(nnfm_engine_put_params(e, c.p_base, u.bias, u.m0, u.shift, c.c));
  for (uint32_t j = c.c; j < CT * R; j++) { /* invalid parameters in padding lanes */
    e->m0[(size_t)c.p_base * R + j] = -(int32_t)nnf_rng_range(r, 1, 1000);
    e->shift[(size_t)c.p_base * R + j] = (int8_t)nnf_rng_range(r, 31, 127);
  }
  nnfm_conv_args a = {g, g.c, t.zp_in, t.zp, t.lo, t.hi, NULL, round, g.c};
  CHECK_OK(nnfm_conv2d_ref(&a, u.x, u.w, u.bias, u.m0, u.shift, u.y));
  snap s = snap_take(e);
  for (uint32_t ct = 0; ct < CT; ct++)
    for (uint64_t m = 0; m < M; m++) {
      uint32_t b = (uint32_t)(m % c.b), pix = (uint32_t)(m / c.b);
      for (uint32_t j = 0; j < R; j++) {
        uint32_t ch = ct * R + j;
        s.act[((size_t)c.o_base + ct * M + m) * R + j] =
            ch < c.c ? (uint8_t)u.y[((size_t)b * c.c + ch) * t.oh * t.ow + pix] : 0;
      }
    }
  nnf_test_ctx("rows %d: dwconv B %d C %d H %d W %d k %dx%d s %d,%d p %d+%d,%d+%d zp_in %d round %d a %u o %u w %u p %u",
               cfg->rows, g.b, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.eh, g.pw, g.ew, t.zp_in, round,
               c.a_base, c.o_base, c.w_base, c.p_base);
  CHECK_OK(nnfm_engine_dwconv_check(e, &c));
  CHECK_OK(nnfm_engine_dwconv(e, &c));
  check_same(e, &s);
  nnf_test_ctx("");
  snap_free(&s);
  conv_case_free(&u);
  return 1;
}

static void test_engine_dwconv_random(void) {
  nnf_rng r = nnf_rng_seed(3131);
  int ncfg, ran = 0, tried = 0;
  const nnfm_config *cfgs = random_cfgs(&ncfg);
  for (int ci = 0; ci < ncfg; ci++) {
    nnfm_engine *e = nnfm_engine_create(&cfgs[ci]);
    CHECK(e != NULL);
    fill_garbage(&r, e);
    for (int t = 0; t < 300; t++) {
      nnfm_window g = random_window(&r, cfgs[ci].rows, 1);
      if (g.kh > 3 || g.kw > 3) { /* the unit's kernels: 1..3 */
        g.kh = 1 + (g.kh - 1) % 3, g.kw = 1 + (g.kw - 1) % 3;
        if (g.ph >= g.kh) g.ph = g.kh - 1;
        if (g.pw >= g.kw) g.pw = g.kw - 1;
        if (g.ph + g.eh >= g.kh) g.eh = 0;
        if (g.pw + g.ew >= g.kw) g.ew = 0;
      }
      if (t % 5 == 0) g.c = 1 + (int)nnf_rng_range(&r, 0, 4 * cfgs[ci].rows); /* several tiles */
      tried++;
      ran += run_dwconv_case(&r, e, g);
    }
    nnfm_engine_destroy(e);
  }
  CHECK(ran >= tried * 9 / 10);
  printf("dwconv: %d random shapes, engine == reference\n", ran);
}

/* DWCONV's refusals, each with its code, the buffers untouched. */
static void test_dwconv_check(void) {
  nnfm_config cfg = small_cfg(4, 256, 64, 16, 8);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  nnf_rng r = nnf_rng_seed(77);
  fill_garbage(&r, e);
  int8_t w[6 * 9];
  int32_t bias[6] = {1, 2, 3, 4, 5, 6}, m0[6];
  int8_t shift[6];
  for (int i = 0; i < 6; i++) m0[i] = 1 << 30, shift[i] = -3;
  for (int i = 0; i < 6 * 9; i++) w[i] = (int8_t)(i - 20);
  CHECK_OK(nnfm_engine_put_dw_weights(e, 10, w, 6, 3, 3));
  CHECK_OK(nnfm_engine_put_params(e, 2, bias, m0, shift, 6));
  /* 6 channels (2 tiles of 4) of 5 x 5, one image: 50 words in, 50 out */
  const nnfm_dwconv_cmd ok = {6, 5, 5, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 10, 2, 60, 3, 0, -128, 127, NNFM_ROUND_TFLITE};
  nnfm_dwconv_cmd c = ok;
  CHECK_OK(nnfm_engine_dwconv_check(e, &c));
  snap s = snap_take(e);
#define DW_REFUSED(code, stmt)                                         \
  do {                                                                 \
    c = ok;                                                            \
    stmt;                                                              \
    CHECK_EQ(nnfm_engine_dwconv(e, &c), code);                         \
    check_same(e, &s);                                                 \
  } while (0)
  CHECK_EQ(nnfm_engine_dwconv_check(NULL, &c), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_dwconv_check(e, NULL), NNFM_ERR_NULL);
  DW_REFUSED(NNFM_ERR_RANGE, c.c = 0);
  DW_REFUSED(NNFM_ERR_RANGE, c.kh = 4);
  DW_REFUSED(NNFM_ERR_RANGE, c.kw = 0);
  DW_REFUSED(NNFM_ERR_RANGE, c.sh = 5);
  DW_REFUSED(NNFM_ERR_RANGE, c.ph = 8);
  DW_REFUSED(NNFM_ERR_RANGE, c.ew = 2);
  DW_REFUSED(NNFM_ERR_RANGE, c.h = 1025);
  DW_REFUSED(NNFM_ERR_RANGE, c.zp_in = 128);
  DW_REFUSED(NNFM_ERR_RANGE, (c.lo = 5, c.hi = 4));
  DW_REFUSED(NNFM_ERR_RANGE, c.round = 7);
  DW_REFUSED(NNFM_ERR_RANGE, (c.ph = 3, c.kh = 3));  /* the first window's rows all padding */
  DW_REFUSED(NNFM_ERR_RANGE, (c.h = 1, c.ph = 0));   /* the kernel over the padded input */
  DW_REFUSED(NNFM_ERR_SHAPE, c.a_base = 256 - 49);   /* the input past ACT */
  DW_REFUSED(NNFM_ERR_SHAPE, c.o_base = 40);         /* the output overlaps the input */
  DW_REFUSED(NNFM_ERR_SHAPE, c.w_base = 64 - 17);    /* 18 weight words past W */
  DW_REFUSED(NNFM_ERR_SHAPE, c.p_base = 15);         /* the second tile's entry past P */
  DW_REFUSED(NNFM_ERR_SHAPE, (c.b = 1000, c.h = 300, c.w = 300)); /* M over the walk's counter */
  e->m0[2 * 4 + 5 % 4 + 4] = -1;                    /* channel 5's multiplier (entry 3, lane 1) */
  s = (snap_free(&s), snap_take(e));
  DW_REFUSED(NNFM_ERR_RANGE, (void)0);
  e->m0[2 * 4 + 5 % 4 + 4] = 1 << 30;
  e->m0[2 * 4 + 7] = -1;                             /* lane 3 of entry 3: channel 7, unused */
  s = (snap_free(&s), snap_take(e));
  c = ok;
  CHECK_OK(nnfm_engine_dwconv(e, &c));
#undef DW_REFUSED
  snap_free(&s);
  /* rows != cols: refused */
  nnfm_config rect = small_cfg(4, 256, 64, 16, 8);
  rect.cols = 8;
  nnfm_engine *e2 = nnfm_engine_create(&rect);
  if (e2) {
    c = ok;
    CHECK_EQ(nnfm_engine_dwconv_check(e2, &c), NNFM_ERR_RANGE);
    nnfm_engine_destroy(e2);
  }
  /* the weight layout: tile t's taps at w_base + t*KH*KW + ky*KW + kx, lane c % rows */
  CHECK_EQ(nnfm_dwconv_w_words(&cfg, 6, 3, 3), 18u);
  CHECK_EQ((int8_t)e->w[(10 + 9 + 2 * 3 + 1) * 4 + 1], w[5 * 9 + 2 * 3 + 1]);
  CHECK_EQ(e->w[(10 + 9) * 4 + 2], 0); /* channel 6: none */
  CHECK_EQ(nnfm_engine_put_dw_weights(e, 60, w, 6, 3, 3), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_dw_weights(e, 0, w, 6, 4, 3), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_put_dw_weights(e, 0, NULL, 6, 3, 3), NNFM_ERR_NULL);
  nnfm_engine_destroy(e);
}

static const nnfm_config *random_cfgs(int *count) {
  static nnfm_config cfgs[5];
  cfgs[0] = small_cfg(2, 8192, 8192, 64, 2);
  cfgs[1] = small_cfg(4, 8192, 8192, 32, 8);
  cfgs[2] = small_cfg(8, 8192, 16384, 16, 16);
  cfgs[3] = nnfm_config_default(); /* 8 x 8, ACC_DEPTH 256 */
  cfgs[4] = small_cfg(16, 4096, 16384, 8, 4);
  *count = 5;
  return cfgs;
}

static void test_engine_conv_random(void) {
  nnf_rng r = nnf_rng_seed(1414);
  int ncfg, ran = 0, tried = 0;
  const nnfm_config *cfgs = random_cfgs(&ncfg);
  const int per_cfg[5] = {500, 500, 500, 150, 150};
  for (int ci = 0; ci < ncfg; ci++) {
    nnfm_engine *e = nnfm_engine_create(&cfgs[ci]);
    CHECK(e != NULL);
    fill_garbage(&r, e);
    for (int t = 0; t < per_cfg[ci]; t++) {
      nnfm_window g = random_window(&r, cfgs[ci].rows, 0);
      int n = (int)nnf_rng_range(&r, 1, 2 * cfgs[ci].rows + 3);
      if (t % 10 == 0) n = cfgs[ci].rows * (int)nnf_rng_range(&r, 1, 2);
      tried++;
      ran += run_conv_case(&r, e, g, n);
    }
    nnfm_engine_destroy(e);
  }
  CHECK(ran >= tried * 9 / 10); /* nearly every shape fits */
  printf("conv: %d random shapes, engine == reference\n", ran);
}

static void test_engine_pool_random(void) {
  nnf_rng r = nnf_rng_seed(2828);
  int ncfg, ran = 0, tried = 0;
  const nnfm_config *cfgs = random_cfgs(&ncfg);
  for (int ci = 0; ci < ncfg; ci++) {
    nnfm_engine *e = nnfm_engine_create(&cfgs[ci]);
    CHECK(e != NULL);
    fill_garbage(&r, e);
    for (int t = 0; t < 500; t++) {
      nnfm_window g = random_window(&r, cfgs[ci].rows, 1);
      tried++;
      ran += run_pool_case(&r, e, g, t % 2 ? NNFM_POOL_AVG : NNFM_POOL_MAX, 0);
    }
    nnfm_engine_destroy(e);
  }
  CHECK(ran >= tried * 9 / 10);
  printf("pool: %d random shapes, engine == reference\n", ran);
}

/* A first layer of the Fashion-MNIST CNN: M = 28*28*2 = 1568 rows, six
 * blocks of ACC_DEPTH 256 (the last one ragged), and its 2x2 max pool. */
static void test_engine_large(void) {
  nnf_rng r = nnf_rng_seed(28);
  nnfm_config cfg = nnfm_config_default();
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  fill_garbage(&r, e);
  CHECK_EQ(run_conv_case(&r, e, win(2, 1, 28, 28, 5, 5, 1, 1, 2, 2), 16), 1);
  CHECK_EQ(run_conv_case(&r, e, win(1, 16, 14, 14, 5, 5, 1, 1, 2, 2), 32), 1);
  CHECK_EQ(run_pool_case(&r, e, win(2, 16, 28, 28, 2, 2, 2, 2, 0, 0), NNFM_POOL_MAX, 0), 1);
  CHECK_EQ(run_pool_case(&r, e, win(3, 32, 7, 7, 7, 7, 1, 1, 0, 0), NNFM_POOL_AVG, 0), 1);
  nnfm_engine_destroy(e);
}

/* ---- conv reference vs im2col + GEMM; flatten + dense --------------------- */

static void test_ref_vs_im2col(void) {
  nnf_rng r = nnf_rng_seed(77);
  int8_t lut[256];
  nnf_rng_fill(&r, lut, sizeof lut);
  for (int t = 0; t < 400; t++) {
    conv_case c;
    memset(&c, 0, sizeof c);
    c.g = random_window(&r, 4, 0);
    c.n = (int)nnf_rng_range(&r, 1, 9);
    CHECK_OK(nnfm_window_check(&c.g, 0, &c.oh, &c.ow));
    int pick = (int)nnf_rng_range(&r, 0, 3);
    c.zp_in = pick == 0 ? -128 : pick == 1 ? 127 : (int32_t)nnf_rng_range(&r, -128, 127);
    c.zp = (int32_t)nnf_rng_range(&r, -128, 127), c.lo = -128, c.hi = 127;
    if (t % 3 == 0) c.lo = c.zp; /* ReLU */
    c.lut = t % 4 == 0;
    conv_case_fill(&r, &c, t % 5 == 0);
    nnf_test_ctx("im2col case %d", t);
    check_ref_vs_im2col(&c, lut);
    conv_case_free(&c);
  }
  nnf_test_ctx("");
}

/* Flatten + dense over a C x H x W map is the conv with the kernel the whole
 * map and a 1 x 1 output: the dense weight row k = (c*H + y)*W + x (PyTorch's
 * flatten order) is the conv weight w[n][c][y][x]. On the reference and on
 * the engine. */
static void test_flatten_dense(void) {
  nnf_rng r = nnf_rng_seed(4242);
  nnfm_config cfg = small_cfg(4, 4096, 4096, 16, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  fill_garbage(&r, e);
  for (int t = 0; t < 40; t++) {
    conv_case c;
    memset(&c, 0, sizeof c);
    int H = (int)nnf_rng_range(&r, 1, 7), W = (int)nnf_rng_range(&r, 1, 7);
    c.g = win((int)nnf_rng_range(&r, 1, 9), (int)nnf_rng_range(&r, 1, 6), H, W, H, W, 1, 1, 0, 0);
    c.n = (int)nnf_rng_range(&r, 1, 10);
    CHECK_OK(nnfm_window_check(&c.g, 0, &c.oh, &c.ow));
    CHECK_EQ(c.oh, 1); CHECK_EQ(c.ow, 1);
    c.zp_in = (int32_t)nnf_rng_range(&r, -128, 127);
    c.zp = (int32_t)nnf_rng_range(&r, -128, 127), c.lo = -128, c.hi = 127;
    conv_case_fill(&r, &c, 0);
    const int B = c.g.b, K = c.g.c * H * W, N = c.n;
    int8_t *wk = malloc((size_t)K * N), *yd = malloc((size_t)B * N), *yc = malloc((size_t)B * N);
    CHECK(wk && yd && yc);
    for (int n = 0; n < N; n++)
      for (int k = 0; k < K; k++) wk[(size_t)k * N + n] = c.w[(size_t)n * K + k];
    int32_t *fb = malloc(sizeof(int32_t) * N);
    CHECK(fb != NULL);
    CHECK_OK(nnfm_fold_input_zp(wk, K, N, c.zp_in, c.bias, fb));
    nnfm_gemm_args ga = {B, K, N, c.zp, c.lo, c.hi, NULL, NNFM_ROUND_SINGLE};
    CHECK_OK(nnfm_gemm(&ga, c.x, wk, fb, c.m0, c.shift, yd)); /* x is B x (C*H*W): flattened */
    CHECK_OK(conv_ref_of(&c, NULL, yc));
    for (int b = 0; b < B; b++)
      for (int n = 0; n < N; n++) CHECK_EQ(yc[b * N + n], yd[b * N + n]); /* 1x1: NCHW == B x N */
    nnf_test_ctx("flatten case %d", t);
    CHECK_EQ(run_conv_case(&r, e, c.g, c.n), 1);
    nnf_test_ctx("");
    free(wk), free(yd), free(yc), free(fb);
    conv_case_free(&c);
  }
  nnfm_engine_destroy(e);
}

/* ---- a 1x1 CONV is the GEMM ----------------------------------------------- */

static void test_conv_is_gemm(void) {
  nnf_rng r = nnf_rng_seed(11);
  const nnfm_config cfgs[3] = {small_cfg(2, 16384, 2048, 32, 4), small_cfg(8, 16384, 4096, 16, 32),
                               nnfm_config_default()};
  int ran = 0;
  for (int ci = 0; ci < 3; ci++) {
    nnfm_engine *e1 = nnfm_engine_create(&cfgs[ci]), *e2 = nnfm_engine_create(&cfgs[ci]);
    CHECK(e1 && e2);
    const uint32_t R = (uint32_t)cfgs[ci].rows;
    for (int t = 0; t < 60; t++) {
      uint64_t seed = nnf_rng_u64(&r);
      nnf_rng g1 = nnf_rng_seed(seed), g2 = nnf_rng_seed(seed);
      fill_garbage(&g1, e1), fill_garbage(&g2, e2); /* identical images */
      uint32_t m = (uint32_t)nnf_rng_range(&r, 1, 600), k = (uint32_t)nnf_rng_range(&r, 1, 5 * R + 3);
      uint32_t n = (uint32_t)nnf_rng_range(&r, 1, 3 * R + 2);
      if (t % 4 == 0) m = (uint32_t)nnf_rng_range(&r, 1, 1024);
      const uint32_t KT = cdiv(k, R), NT = cdiv(n, R);
      if ((uint64_t)(KT + NT) * m > cfgs[ci].act_words || (uint64_t)NT * KT * R > cfgs[ci].w_words) continue;
      int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)k * n), *woi = malloc((size_t)k * n);
      int32_t *bias = malloc(sizeof(int32_t) * n), *m0 = malloc(sizeof(int32_t) * n);
      int8_t *shift = malloc(n);
      CHECK(a && w && woi && bias && m0 && shift);
      nnf_rng_fill(&r, a, (size_t)m * k);
      nnf_rng_fill(&r, w, (size_t)k * n);
      for (uint32_t kk = 0; kk < k; kk++)
        for (uint32_t nn = 0; nn < n; nn++) woi[(size_t)nn * k + kk] = w[(size_t)kk * n + nn];
      for (uint32_t j = 0; j < n; j++) {
        int s;
        CHECK_OK(nnfm_quantize_multiplier(ldexp(1.0 + (double)nnf_rng_u32(&r) / 4294967296.0, -12), &m0[j], &s));
        shift[j] = (int8_t)s;
        bias[j] = (int32_t)nnf_rng_range(&r, -500000, 500000);
      }
      nnfm_cmd g = {m, k, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, NNFM_ROUND_SINGLE};
      CHECK(place_act(&r, cfgs[ci].act_words, (uint64_t)KT * m, (uint64_t)NT * m, &g.a_base, &g.o_base));
      g.w_base = (uint32_t)nnf_rng_range(&r, 0, (int64_t)(cfgs[ci].w_words - NT * KT * R));
      g.p_base = (uint32_t)nnf_rng_range(&r, 0, (int64_t)(cfgs[ci].p_words - NT));
      g.zp = (int32_t)nnf_rng_range(&r, -128, 127), g.lo = -128, g.hi = 127, g.lut = t % 2;
      /* the same layouts: put_act == put_fmap (H = W = 1, B = m), put_weights == put_conv_weights */
      CHECK_OK(nnfm_engine_put_act(e1, g.a_base, a, m, k));
      CHECK_OK(nnfm_engine_put_fmap(e2, g.a_base, a, m, k, 1, 1));
      CHECK_OK(nnfm_engine_put_weights(e1, g.w_base, w, k, n));
      CHECK_OK(nnfm_engine_put_conv_weights(e2, g.w_base, woi, n, k, 1, 1));
      CHECK_OK(nnfm_engine_put_params(e1, g.p_base, bias, m0, shift, n));
      CHECK_OK(nnfm_engine_put_params(e2, g.p_base, bias, m0, shift, n));
      CHECK_MEM_EQ(e1->act, e2->act, act_bytes(e1));
      CHECK_MEM_EQ(e1->w, e2->w, w_bytes(e1));
      /* garbage in the same spare lanes of both */
      uint64_t sseed = nnf_rng_u64(&r);
      nnf_rng s1 = nnf_rng_seed(sseed), s2 = nnf_rng_seed(sseed);
      scribble_spare_lanes(&s1, e1, g.a_base, k, 1, 1, m);
      scribble_spare_lanes(&s2, e2, g.a_base, k, 1, 1, m);
      nnfm_conv_cmd c = {k, 1, 1, m, n, 1, 1, 1, 1, 0, 0, 0, 0, g.a_base, g.w_base, g.p_base, g.o_base,
                         (int32_t)nnf_rng_range(&r, -128, 127), g.zp, g.lo, g.hi, g.lut, 0, 0, NNFM_ROUND_SINGLE};
      uint64_t mg = 0, mc = 1;
      nnf_test_ctx("rows %u: m %u k %u n %u", R, m, k, n);
      CHECK_OK(nnfm_engine_gemm(e1, &g, &mg));
      CHECK_OK(nnfm_engine_conv(e2, &c, &mc));
      CHECK_EQ_U64(mc, mg);
      snap s = snap_take(e1);
      check_same(e2, &s);
      snap_free(&s);
      nnf_test_ctx("");
      ran++;
      free(a), free(w), free(woi), free(bias), free(m0), free(shift);
    }
    nnfm_engine_destroy(e1);
    nnfm_engine_destroy(e2);
  }
  CHECK(ran >= 120);
}

/* ---- packing and refusals ------------------------------------------------- */

static void test_packing(void) {
  nnfm_config cfg = small_cfg(4, 64, 64, 4, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  nnf_rng r = nnf_rng_seed(3);
  fill_garbage(&r, e);
  /* B 2, C 5 (CT 2), H 2, W 3 at word 7: word 7 + ((ct*2 + y)*3 + x)*2 + b, lane c%4 */
  int8_t x[60], back[60];
  for (int i = 0; i < 60; i++) x[i] = (int8_t)(i * 7 - 100);
  snap s = snap_take(e);
  CHECK_OK(nnfm_engine_put_fmap(e, 7, x, 2, 5, 2, 3));
  for (int ct = 0; ct < 2; ct++)
    for (int y = 0; y < 2; y++)
      for (int xx = 0; xx < 3; xx++)
        for (int b = 0; b < 2; b++)
          for (int lane = 0; lane < 4; lane++) {
            int c = ct * 4 + lane;
            s.act[(7 + ((ct * 2 + y) * 3 + xx) * 2 + b) * 4 + lane] =
                c < 5 ? (uint8_t)x[((b * 5 + c) * 2 + y) * 3 + xx] : 0;
          }
  check_same(e, &s);
  CHECK_OK(nnfm_engine_get_fmap(e, 7, back, 2, 5, 2, 3));
  CHECK_MEM_EQ(back, x, 60);
  CHECK_EQ(nnfm_fmap_words(&cfg, 5, 2, 3, 2), 24);
  CHECK_EQ(nnfm_fmap_words(&cfg, 65535, 65535, 65535, 65535), UINT32_MAX);
  /* bounds: the last word fits, one more does not; refusals write nothing */
  CHECK_OK(nnfm_engine_put_fmap(e, 64 - 24, x, 2, 5, 2, 3));
  snap_free(&s);
  s = snap_take(e);
  CHECK_EQ(nnfm_engine_put_fmap(e, 64 - 23, x, 2, 5, 2, 3), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_get_fmap(e, 64 - 23, back, 2, 5, 2, 3), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_fmap(e, UINT32_MAX, x, 2, 5, 2, 3), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_fmap(e, 0, x, 0, 5, 2, 3), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_put_fmap(e, 0, x, 2, 65536, 2, 3), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_put_fmap(e, 0, NULL, 2, 5, 2, 3), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_get_fmap(NULL, 0, back, 2, 5, 2, 3), NNFM_ERR_NULL);
  check_same(e, &s);
  /* conv weights: Cout 5 (NT 2), Cin 3 (CT 1), 2 x 2: KT 4, 2*4*4 = 32 words;
   * word 3 + (nt*4 + kt)*4 + r, kt = ky*2 + kx, byte n%4 */
  int8_t w[60];
  for (int i = 0; i < 60; i++) w[i] = (int8_t)(90 - 3 * i);
  CHECK_EQ(nnfm_conv_w_words(&cfg, 5, 3, 2, 2), 32);
  CHECK_EQ(nnfm_conv_w_words(&cfg, 65535, 65535, 65535, 65535), UINT32_MAX);
  CHECK_OK(nnfm_engine_put_conv_weights(e, 3, w, 5, 3, 2, 2));
  for (int nt = 0; nt < 2; nt++)
    for (int ky = 0; ky < 2; ky++)
      for (int kx = 0; kx < 2; kx++)
        for (int rr = 0; rr < 4; rr++)
          for (int j = 0; j < 4; j++) {
            int n = nt * 4 + j, kt = ky * 2 + kx;
            s.w[(3 + (nt * 4 + kt) * 4 + rr) * 4 + j] =
                (n < 5 && rr < 3) ? (uint8_t)w[((n * 3 + rr) * 2 + ky) * 2 + kx] : 0;
          }
  check_same(e, &s);
  CHECK_EQ(nnfm_engine_put_conv_weights(e, 64 - 31, w, 5, 3, 2, 2), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_conv_weights(e, 0, w, 5, 3, 8, 2), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_put_conv_weights(e, 0, w, 0, 3, 2, 2), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_put_conv_weights(e, 0, NULL, 5, 3, 2, 2), NNFM_ERR_NULL);
  check_same(e, &s);
  snap_free(&s);
  nnfm_engine_destroy(e);
}

static void test_conv_check(void) {
  nnfm_config cfg = small_cfg(4, 1024, 1024, 8, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  for (size_t i = 0; i < p_slots(e); i++) e->m0[i] = 1 << 30, e->shift[i] = 0;
  /* Cin 6 (CT 2), H 5, W 4, B 3, N 9 (NT 3), 3x2 kernel, stride 2,1, pad 1,0:
   * OH = (5+2-3)/2+1 = 3, OW = 3, M = 27; in 2*5*4*3 = 120 words, out 81,
   * W 3 * 3*2*2 * 4 = 144 words, P 3 entries */
  const nnfm_conv_cmd ok = {6, 5, 4, 3, 9, 3, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 500, -5, 0, -128, 127, 0, 0, 0, NNFM_ROUND_SINGLE};
  nnfm_conv_cmd c = ok;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  CHECK_EQ(nnfm_engine_conv_check(NULL, &c), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_conv_check(e, NULL), NNFM_ERR_NULL);
  /* field ranges */
  struct { uint32_t *f; uint32_t bad, good_max; } fields[] = {
      {&c.cin, 0, 65535}, {&c.cin, 65536, 65535}, {&c.n, 0, 65535},   {&c.n, 65536, 65535},
      {&c.h, 0, 1024},    {&c.h, 1025, 1024},     {&c.w, 0, 1024},    {&c.w, 1025, 1024},
      {&c.b, 0, 1024},    {&c.b, 1025, 1024},     {&c.kh, 0, 7},      {&c.kh, 8, 7},
      {&c.kw, 0, 7},      {&c.kw, 8, 7},          {&c.sh, 0, 4},      {&c.sh, 5, 4},
      {&c.sw, 0, 4},      {&c.sw, 5, 4},          {&c.ph, 8, 7},      {&c.pw, 8, 7},
      {&c.eh, 2, 1},      {&c.ew, 2, 1},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    c = ok;
    *fields[i].f = fields[i].bad;
    nnf_test_ctx("conv field %zu = %u", i, fields[i].bad);
    CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  }
  nnf_test_ctx("");
  c = ok, c.zp_in = 128;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.zp_in = -129;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.zp = 200;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lo = 3, c.hi = 2;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lut = 2;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  /* the kernel against the padded input: 7 = 5 + 2*1 fits, with no padding it does not */
  c = ok, c.kh = 7, c.w_base = 0;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.ph = 0;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.kw = 5, c.w_base = 0;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c.pw = 1;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c = ok, c.w = 1, c.kw = 2, c.pw = 0; /* 2 > 1: the extra column makes it fit */
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  c.ew = 1;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c = ok, c.ph = 3, c.pw = 2; /* windows of padding only: a conv takes them */
  c.o_base = 200;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  /* extents, at the exact boundaries */
  c = ok, c.a_base = 1024 - 120, c.o_base = 0;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.a_base++;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 1024 - 81;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.o_base++;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = UINT32_MAX;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.w_base = 1024 - 144;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.w_base++;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.p_base = 8 - 3;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.p_base++;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  /* A and O sharing a word, either way */
  c = ok, c.o_base = 119;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c.o_base = 120;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c = ok, c.o_base = 0, c.a_base = 80;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  c.a_base = 81;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  /* P: a used lane invalid (entry 2, lane 0 = n 8), a padding lane not looked at */
  e->m0[2 * 4 + 1] = -1;
  c = ok;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  e->shift[2 * 4 + 0] = 31;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  /* a refused CONV touches nothing */
  nnf_rng r = nnf_rng_seed(9);
  nnf_rng_fill(&r, e->act, act_bytes(e));
  snap s = snap_take(e);
  uint64_t macs = 99;
  CHECK_EQ(nnfm_engine_conv(e, &c, &macs), NNFM_ERR_RANGE);
  CHECK_EQ_U64(macs, 99);
  c = ok, c.a_base = 1000;
  CHECK_EQ(nnfm_engine_conv(e, &c, NULL), NNFM_ERR_SHAPE);
  check_same(e, &s);
  snap_free(&s);
  nnfm_engine_destroy(e);
}

/* The walk's 16-bit counters (NNFM_WALK_MAX, as a GEMM's M): a CONV's
 * M = OH*OW*B and KT = KH*KW*CT, a POOL's M, up to 65535 taken and beyond
 * refused with NNFM_ERR_SHAPE, in a configuration whose buffers hold both. */
static void test_walk_limits(void) {
  nnfm_config cfg = small_cfg(2, 1u << 21, 1u << 20, 8, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  for (size_t i = 0; i < p_slots(e); i++) e->m0[i] = 1 << 30, e->shift[i] = 0;
  /* M: W 1000 padded by 4 each side, 1x1 kernel: OW 1008; B 65 -> 65520 rows, B 66 -> 66528 */
  nnfm_conv_cmd c = {.cin = 1, .h = 1, .w = 1000, .b = 65, .n = 1, .kh = 1, .kw = 1, .sh = 1,
                     .sw = 1, .pw = 4, .o_base = 1u << 20, .lo = -128, .hi = 127};
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.b = 66;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_SHAPE);
  /* KT: 7x7 over 1337 channel tiles is 65513, over 1338 it is 65562 */
  nnfm_conv_cmd k = {.cin = 2674, .h = 7, .w = 7, .b = 1, .n = 1, .kh = 7, .kw = 7, .sh = 1,
                     .sw = 1, .o_base = 1u << 20, .lo = -128, .hi = 127};
  CHECK_OK(nnfm_engine_conv_check(e, &k));
  k.cin = 2675;
  CHECK_EQ(nnfm_engine_conv_check(e, &k), NNFM_ERR_SHAPE);
  /* POOL: 1024 x 63 rows taken, 1024 x 64 = 65536 refused */
  nnfm_pool_cmd p = {.op = NNFM_POOL_MAX, .c = 1, .h = 1, .w = 1024, .b = 63, .kh = 1, .kw = 1,
                     .sh = 1, .sw = 1, .o_base = 1u << 20, .lo = -128, .hi = 127};
  CHECK_OK(nnfm_engine_pool_check(e, &p));
  p.b = 64;
  CHECK_EQ(nnfm_engine_pool_check(e, &p), NNFM_ERR_SHAPE);
  nnfm_engine_destroy(e);
}

static void test_pool_check(void) {
  nnfm_config cfg = small_cfg(4, 1024, 16, 2, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  /* C 5 (CT 2), H 6, W 5, B 2, 3x3 stride 2 pad 1: OH 3, OW 3;
   * in 2*6*5*2 = 120 words, out 2*3*3*2 = 36 */
  const nnfm_pool_cmd ok = {NNFM_POOL_AVG, 5, 6, 5, 2, 3, 3, 2, 2, 1, 1, 0, 0, 0, 300, -128, 127, 0};
  nnfm_pool_cmd c = ok;
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  c.op = NNFM_POOL_MAX;
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  c.op = 2;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  c.op = -1;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_pool_check(NULL, &ok), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_pool_check(e, NULL), NNFM_ERR_NULL);
  struct { uint32_t *f; uint32_t bad; } fields[] = {
      {&c.c, 0},  {&c.c, 65536}, {&c.h, 0},  {&c.h, 1025}, {&c.w, 0},  {&c.w, 1025}, {&c.b, 0},
      {&c.b, 1025}, {&c.kh, 0},  {&c.kh, 8}, {&c.kw, 0},   {&c.kw, 8}, {&c.sh, 0},   {&c.sh, 5},
      {&c.sw, 0}, {&c.sw, 5},    {&c.ph, 8}, {&c.pw, 8},  {&c.eh, 2},   {&c.ew, 2},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    c = ok;
    *fields[i].f = fields[i].bad;
    nnf_test_ctx("pool field %zu = %u", i, fields[i].bad);
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  }
  nnf_test_ctx("");
  c = ok, c.lo = 0, c.hi = -1;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.hi = 128;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  /* windows of padding only (pad >= kernel), for max and avg alike */
  for (int op = 0; op < 2; op++) {
    c = ok, c.op = op, c.ph = 3;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
    c.ph = 2;
    CHECK_OK(nnfm_engine_pool_check(e, &c));
    c = ok, c.op = op, c.kw = 2, c.pw = 2;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  }
  c = ok, c.h = 1, c.ph = 0; /* kernel 3 > padded input 1 */
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
  /* extents */
  c = ok, c.a_base = 1024 - 120;
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  c.a_base++;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 1024 - 36;
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  c.o_base++;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 119;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 0, c.a_base = 35;
  CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_SHAPE);
  c.a_base = 36;
  CHECK_OK(nnfm_engine_pool_check(e, &c));
  nnf_rng r = nnf_rng_seed(10);
  nnf_rng_fill(&r, e->act, act_bytes(e));
  snap s = snap_take(e);
  c = ok, c.ph = 3;
  CHECK_EQ(nnfm_engine_pool(e, &c), NNFM_ERR_RANGE);
  c = ok, c.o_base = 119;
  CHECK_EQ(nnfm_engine_pool(e, &c), NNFM_ERR_SHAPE);
  check_same(e, &s);
  snap_free(&s);
  nnfm_engine_destroy(e);
}

/* Global pooling (POOL's global flag): the window is the whole map, of any
 * size (DS-CNN's 25 x 5, ResNet's 8 x 8, 32 x 32), against the reference's
 * H x W window; a global POOL with window fields set is refused. */
static void test_engine_pool_global(void) {
  nnf_rng r = nnf_rng_seed(14);
  int ncfg;
  const nnfm_config *cfgs = random_cfgs(&ncfg);
  static const int hw[][2] = {{25, 5}, {8, 8}, {1, 1}, {13, 11}, {32, 32}, {7, 9}};
  int done = 0;
  for (int k = 0; k < ncfg; k++) {
    nnfm_engine *e = nnfm_engine_create(&cfgs[k]);
    CHECK(e != NULL);
    for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
      for (int op = 0; op < 2; op++) {
        fill_garbage(&r, e);
        nnfm_window g;
        memset(&g, 0, sizeof g);
        g.b = (int)nnf_rng_range(&r, 1, 3), g.c = (int)nnf_rng_range(&r, 1, 20);
        g.h = hw[i][0], g.w = hw[i][1], g.kh = g.h, g.kw = g.w, g.sh = g.sw = 1;
        done += run_pool_case(&r, e, g, op, 1);
      }
    nnfm_pool_cmd c;
    memset(&c, 0, sizeof c);
    c.op = NNFM_POOL_AVG, c.c = 3, c.h = 25, c.w = 5, c.b = 1, c.sh = c.sw = 1, c.o_base = 400;
    c.lo = -128, c.hi = 127, c.global = 1;
    CHECK_OK(nnfm_engine_pool_check(e, &c));
    c.kh = 1;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE); /* window fields must be 0 */
    c.kh = 0, c.sh = 2;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
    c.sh = 1, c.global = 2;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE);
    c.global = 0;
    CHECK_EQ(nnfm_engine_pool_check(e, &c), NNFM_ERR_RANGE); /* a 0 x 0 window */
    nnfm_engine_destroy(e);
  }
  CHECK(done >= 40);
}

/* A grouped conv (depthwise: G = Cin) is G convs side by side: for random
 * shapes, groups and multipliers, each group's output channels equal the
 * full conv (groups 1) of the group's input channels alone, with the
 * group's weights, biases and multipliers, bit for bit; groups that do not
 * divide the channels are refused. */
static void test_conv_groups(void) {
  nnf_rng r = nnf_rng_seed(2701);
  for (int it = 0; it < 60; it++) {
    const int G = 1 + (int)nnf_rng_range(&r, 0, 5), cg = 1 + (int)nnf_rng_range(&r, 0, it % 3 ? 0 : 3),
              ng = 1 + (int)nnf_rng_range(&r, 0, 2), B = 1 + (int)nnf_rng_range(&r, 0, 2);
    const int kh = 1 + (int)nnf_rng_range(&r, 0, 3), kw = 1 + (int)nnf_rng_range(&r, 0, 3);
    const int H = kh + (int)nnf_rng_range(&r, 0, 5), W = kw + (int)nnf_rng_range(&r, 0, 5);
    const int C = G * cg, N = G * ng;
    nnfm_window win = {B, C, H, W, kh, kw, 1 + (int)nnf_rng_range(&r, 0, 1), 1 + (int)nnf_rng_range(&r, 0, 1),
                       (int)nnf_rng_range(&r, 0, kh - 1), (int)nnf_rng_range(&r, 0, kw - 1), (int)nnf_rng_range(&r, 0, 1),
                       (int)nnf_rng_range(&r, 0, 1)};
    int OH, OW;
    CHECK_OK(nnfm_window_check(&win, 0, &OH, &OW));
    const size_t nx = (size_t)B * C * H * W, nw = (size_t)N * cg * kh * kw, ny = (size_t)B * N * OH * OW;
    int8_t *x = malloc(nx), *w = malloc(nw), *y = malloc(ny), *xg = malloc(nx), *yg = malloc(ny);
    int32_t bias[64], m0[64];
    int8_t shift[64];
    for (size_t i = 0; i < nx; i++) x[i] = (int8_t)nnf_rng_range(&r, -128, 127);
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)nnf_rng_range(&r, -127, 127);
    for (int n = 0; n < N; n++) {
      int s;
      CHECK_OK(nnfm_quantize_multiplier(0.001 + 0.01 * (double)nnf_rng_range(&r, 0, 50), &m0[n], &s));
      shift[n] = (int8_t)s;
      bias[n] = (int32_t)nnf_rng_range(&r, -30000, 30000);
    }
    const int zp_in = (int)nnf_rng_range(&r, -128, 127), zp = (int)nnf_rng_range(&r, -20, 20);
    nnfm_conv_args a = {win, N, zp_in, zp, -128, 127, NULL, (int)nnf_rng_range(&r, 0, 1), G};
    nnf_test_ctx("groups case %d: G %d, %d -> %d channels, %d x %d kernel over %d x %d", it, G, C, N, kh, kw, H, W);
    CHECK_OK(nnfm_conv2d_ref(&a, x, w, bias, m0, shift, y));
    for (int g = 0; g < G; g++) {
      /* the group's channels alone */
      for (int b = 0; b < B; b++)
        memcpy(xg + (size_t)b * cg * H * W, x + ((size_t)b * C + (size_t)g * cg) * H * W, (size_t)cg * H * W);
      nnfm_conv_args ag = a;
      ag.win.c = cg, ag.n = ng, ag.groups = 1;
      CHECK_OK(nnfm_conv2d_ref(&ag, xg, w + (size_t)g * ng * cg * kh * kw, bias + g * ng, m0 + g * ng, shift + g * ng,
                               yg));
      for (int b = 0; b < B; b++)
        CHECK_MEM_EQ(y + ((size_t)b * N + (size_t)g * ng) * OH * OW, yg + (size_t)b * ng * OH * OW,
                     (size_t)ng * OH * OW);
    }
    free(x), free(w), free(y), free(xg), free(yg);
  }
  /* groups dividing neither count, or negative: refused */
  int8_t x[16] = {0}, w[16] = {0}, y[16];
  int32_t bias[4] = {0}, m0[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30};
  int8_t shift[4] = {1, 1, 1, 1};
  nnfm_conv_args bad = {{1, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0}, 3, 0, 0, -128, 127, NULL, NNFM_ROUND_SINGLE, 2};
  CHECK_EQ(nnfm_conv2d_ref(&bad, x, w, bias, m0, shift, y), NNFM_ERR_RANGE); /* 2 groups, 3 outputs */
  bad.n = 4, bad.groups = 3;
  CHECK_EQ(nnfm_conv2d_ref(&bad, x, w, bias, m0, shift, y), NNFM_ERR_RANGE); /* 3 groups, 2 inputs */
  bad.groups = -1;
  CHECK_EQ(nnfm_conv2d_ref(&bad, x, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  bad.groups = 2;
  CHECK_OK(nnfm_conv2d_ref(&bad, x, w, bias, m0, shift, y));
}

int main(int argc, char **argv) {
  (void)argc;
  test_avg_round();
  test_conv_groups();
  test_window();
  test_conv_ref_hand();
  test_pool_ref_hand();
  test_ref_vs_im2col();
  test_packing();
  test_conv_check();
  test_pool_check();
  test_walk_limits();
  test_conv_is_gemm();
  test_flatten_dense();
  test_engine_conv_random();
  test_engine_pool_random();
  test_engine_pool_global();
  test_engine_dwconv_random();
  test_dwconv_check();
  test_engine_large();
  return nnf_test_done(argv[0]);
}
