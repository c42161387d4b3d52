/*
 * test_numerics.c - the numeric contract (sim/model/nnfm.c, docs/numerics.md):
 * requantize on hand-worked values (every value below was worked out by hand
 * and cross-checked with exact integer arithmetic), quantize_multiplier,
 * clamp, LUT, the wrapping accumulator, and requantize against an
 * independent 128-bit reference on random inputs.
 */
#include <math.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfm.h"

#define I32_LO INT32_MIN
#define I32_HI INT32_MAX
#define M0_MAX INT32_MAX /* 2^31 - 1 */
#define HALF (1 << 30)   /* m0 = 2^30: multiplier 0.5 at shift 0 */

/* requantize with a clamp wide enough never to bite */
static int32_t rq(int32_t acc, int32_t m0, int shift) {
  return nnfm_requantize(acc, m0, shift, 0, I32_LO, I32_HI);
}

static void test_ties(void) {
  /* k = 1 (shift 30), m0 = 1: y = (acc + 1) >> 1 = acc / 2 with ties up */
  CHECK_EQ(rq(3, 1, 30), 2);   /*  1.5 ->  2 */
  CHECK_EQ(rq(-3, 1, 30), -1); /* -1.5 -> -1 */
  CHECK_EQ(rq(1, 1, 30), 1);   /*  0.5 ->  1 */
  CHECK_EQ(rq(-1, 1, 30), 0);  /* -0.5 ->  0 */
  CHECK_EQ(rq(2, 1, 30), 1);
  CHECK_EQ(rq(-2, 1, 30), -1);
  /* k = 31 (shift 0), m0 = 2^30: multiplier 0.5 */
  CHECK_EQ(rq(5, HALF, 0), 3);   /*  2.5 ->  3 */
  CHECK_EQ(rq(-5, HALF, 0), -2); /* -2.5 -> -2 */
  CHECK_EQ(rq(7, HALF, 0), 4);   /*  3.5 ->  4 */
  CHECK_EQ(rq(-7, HALF, 0), -3); /* -3.5 -> -3 */
  CHECK_EQ(rq(4, HALF, 0), 2);
  CHECK_EQ(rq(-4, HALF, 0), -2);
  /* m0 = 3 * 2^29 (0.75), shift -3, k = 34: multiplier 3/32 */
  CHECK_EQ(rq(16, 3 << 29, -3), 2);   /*  1.5 ->  2 */
  CHECK_EQ(rq(-16, 3 << 29, -3), -1); /* -1.5 -> -1 */
  CHECK_EQ(rq(48, 3 << 29, -3), 5);   /*  4.5 ->  5 */
  CHECK_EQ(rq(-48, 3 << 29, -3), -4); /* -4.5 -> -4 */
  CHECK_EQ(rq(-49, 3 << 29, -3), -5); /* -4.59375 -> -5 (not a tie: nearest) */
  CHECK_EQ(rq(-47, 3 << 29, -3), -4); /* -4.40625 -> -4 */
}

static void test_extremes(void) {
  /* k = 62 (shift -31), m0 = 2^31 - 1: multiplier 1/2^31 - 1/2^62 */
  CHECK_EQ(rq(I32_LO, M0_MAX, -31), -1); /* -(1 - 2^-31)       -> -1 */
  CHECK_EQ(rq(I32_HI, M0_MAX, -31), 1);  /* (1-2^-31)^2        ->  1 */
  CHECK_EQ(rq(1, M0_MAX, -31), 0);
  CHECK_EQ(rq(-1, M0_MAX, -31), 0);
  CHECK_EQ(rq(-(1 << 30), M0_MAX, -31), 0); /* -(0.5 - 2^-32): just above the tie */
  /* k = 1 (shift 30), m0 = 2^31 - 1: y is far outside int32; the clamp is
   * applied to the int64 value, not to a truncated one. */
  CHECK_EQ(rq(I32_HI, M0_MAX, 30), I32_HI); /* y = 2305843007066210305 */
  CHECK_EQ(rq(I32_LO, M0_MAX, 30), I32_LO); /* y = -2305843008139952128 */
  CHECK_EQ(nnfm_requantize(I32_HI, M0_MAX, 30, -128, -128, 127), 127);
  CHECK_EQ(nnfm_requantize(I32_LO, M0_MAX, 30, 127, -128, 127), -128);
  /* k = 31, m0 = 2^31 - 1: multiplier 1 - 2^-31 */
  CHECK_EQ(rq(I32_HI, M0_MAX, 0), 2147483646);  /* 2^31 - 2 + 2^-31 */
  CHECK_EQ(rq(I32_LO, M0_MAX, 0), -2147483647); /* exactly -(2^31 - 1) */
  /* shift 1, m0 = 2^30: multiplier exactly 1 */
  CHECK_EQ(rq(12345, HALF, 1), 12345);
  CHECK_EQ(rq(I32_LO, HALF, 1), I32_LO);
  CHECK_EQ(rq(I32_HI, HALF, 1), I32_HI);
  /* a realistic multiplier: 0.65/128 -> m0 = 1395864371, shift = -7 */
  CHECK_EQ(rq(1000, 1395864371, -7), 5);  /*  5.078 */
  CHECK_EQ(rq(-1000, 1395864371, -7), -5);
  CHECK_EQ(rq(I32_HI, 1395864371, -7), 10905190);
  /* s_in 0.02, s_w 0.005, s_out 0.1: 0.001 -> m0 1099511628, shift -9 (k 40).
   * 500 * m0 = 2^39 + 112: just above the tie, so +-0.5 round away here. */
  int32_t m0;
  int shift;
  CHECK_OK(nnfm_quantize_multiplier(0.02 * 0.005 / 0.1, &m0, &shift));
  CHECK_EQ(m0, 1099511628);
  CHECK_EQ(shift, -9);
  const int32_t acc[8] = {12345, -12345, 500, -500, 1500, -1500, 2500, -2500};
  const int32_t want[8] = {9, -15, -2, -4, -1, -5, 0, -6}; /* y + zp, zp = -3 */
  for (int i = 0; i < 8; i++) CHECK_EQ(nnfm_requantize(acc[i], m0, shift, -3, -128, 127), want[i]);
}

static void test_zp_clamp(void) {
  /* y = 50 (acc 100, multiplier 0.5) */
  CHECK_EQ(nnfm_requantize(100, HALF, 0, -10, -128, 127), 40);
  CHECK_EQ(nnfm_requantize(100, HALF, 0, 100, -128, 127), 127); /* 150 saturates */
  CHECK_EQ(nnfm_requantize(-400, HALF, 0, 0, -128, 127), -128);
  /* ReLU with zp = -5: clamp at lo = zp */
  CHECK_EQ(nnfm_requantize(-20, HALF, 0, -5, -5, 127), -5);
  CHECK_EQ(nnfm_requantize(20, HALF, 0, -5, -5, 127), 5);
  /* ReLU6 with output scale 0.1, zp 0: lo = zp = 0, hi = zp + 6 / 0.1 = 60 */
  CHECK_EQ(nnfm_requantize(200, HALF, 0, 0, 0, 60), 60);
  CHECK_EQ(nnfm_requantize(100, HALF, 0, 0, 0, 60), 50);
  /* m0 = 0: y = 0 at every shift, the result is clamp(zp) */
  CHECK_EQ(nnfm_requantize(123456, 0, -31, 7, -128, 127), 7);
  CHECK_EQ(nnfm_requantize(I32_LO, 0, 30, -3, -128, 127), -3);
  CHECK_EQ(nnfm_requantize(I32_HI, 0, 0, 100, -128, 50), 50);
  /* outside the preconditions: as m0 = 0 */
  CHECK_EQ(nnfm_requantize(1000, -1, 0, 9, -128, 127), 9);
  CHECK_EQ(nnfm_requantize(1000, HALF, 31, 9, -128, 127), 9);
  CHECK_EQ(nnfm_requantize(1000, HALF, -32, 9, -128, 127), 9);
  /* clamp order (below first): lo > hi gives lo below lo, else hi */
  CHECK_EQ(nnfm_clamp(-5, 3, 1), 3);
  CHECK_EQ(nnfm_clamp(2, 3, 1), 3);
  CHECK_EQ(nnfm_clamp(5, 3, 1), 1);
  CHECK_EQ(nnfm_clamp(I32_LO, -128, 127), -128);
  CHECK_EQ(nnfm_clamp(I32_HI, -128, 127), 127);
  CHECK_EQ(nnfm_clamp(-7, -128, 127), -7);
}

static void test_params_valid(void) {
  CHECK_EQ(nnfm_requant_params_valid(0, 0), 1);
  CHECK_EQ(nnfm_requant_params_valid(M0_MAX, -31), 1);
  CHECK_EQ(nnfm_requant_params_valid(M0_MAX, 30), 1);
  CHECK_EQ(nnfm_requant_params_valid(-1, 0), 0);
  CHECK_EQ(nnfm_requant_params_valid(I32_LO, 0), 0);
  CHECK_EQ(nnfm_requant_params_valid(HALF, -32), 0);
  CHECK_EQ(nnfm_requant_params_valid(HALF, 31), 0);
}

static void check_qm(double real, int32_t m0_want, int shift_want) {
  int32_t m0 = -7;
  int shift = -77;
  nnf_test_ctx("real = %.17g", real);
  CHECK_OK(nnfm_quantize_multiplier(real, &m0, &shift));
  CHECK_EQ(m0, m0_want);
  CHECK_EQ(shift, shift_want);
  nnf_test_ctx("");
}

static void check_qm_refused(double real) {
  int32_t m0 = -7;
  int shift = -77;
  nnf_test_ctx("real = %.17g", real);
  CHECK_EQ(nnfm_quantize_multiplier(real, &m0, &shift), NNFM_ERR_RANGE);
  CHECK_EQ(m0, -7); /* untouched */
  CHECK_EQ(shift, -77);
  nnf_test_ctx("");
}

static void test_quantize_multiplier(void) {
  check_qm(0.5, 1 << 30, 0);
  check_qm(1.0, 1 << 30, 1);
  check_qm(0.75, 3 << 29, 0);
  check_qm(0.25, 1 << 30, -1);
  check_qm(1.0 / 3.0, 1431655765, -1);     /* 2/3 * 2^31 = 1431655765.33 */
  check_qm(0.65 / 128, 1395864371, -7);
  check_qm(0.0, 0, 0);
  check_qm(-0.0, 0, 0);
  /* m0 = round(q * 2^31), ties away from zero */
  check_qm((1073741824.0 + 0.5) / 2147483648.0, 1073741825, 0);
  /* q rounds up to 1.0: renormalised to 2^30 and shift + 1 */
  check_qm(1.0 - ldexp(1.0, -32), 1 << 30, 1);
  /* the small end: shift -31 is the last one kept ... */
  check_qm(ldexp(1.0, -31), 1 << 30, -30);
  check_qm(ldexp(1.0, -32), 1 << 30, -31);
  check_qm(ldexp(1.0 - ldexp(1.0, -40), -32), 1 << 30, -31); /* rounds up into range */
  /* ... smaller ones flush to (0, 0) with NNFM_OK (exact: y would be 0) */
  check_qm(ldexp(1.0, -33), 0, 0);
  check_qm(ldexp(1.9, -34), 0, 0);
  check_qm(5e-324, 0, 0); /* smallest subnormal */
  /* the large end: shift 30 is the last one */
  check_qm(ldexp(1.0, 29), 1 << 30, 30);
  check_qm(ldexp(1.0, 30) * (1.0 - ldexp(1.0, -30)), 2147483646, 30);
  check_qm_refused(ldexp(1.0, 30));
  check_qm_refused(ldexp(1.0, 30) * (1.0 - ldexp(1.0, -40))); /* rounds up out of range */
  check_qm_refused(1e300);
  /* negative, NaN, infinities */
  check_qm_refused(-0.5);
  check_qm_refused(-5e-324);
  check_qm_refused(NAN);
  check_qm_refused(INFINITY);
  check_qm_refused(-INFINITY);
  int32_t m0;
  int shift;
  CHECK_EQ(nnfm_quantize_multiplier(0.5, NULL, &shift), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_quantize_multiplier(0.5, &m0, NULL), NNFM_ERR_NULL);

  /* random multipliers: m0 in [2^30, 2^31), |m0 * 2^(shift-31) - real| <= 2^(shift-32) */
  nnf_rng r = nnf_rng_seed(42);
  for (int i = 0; i < 2000; i++) {
    /* q in [0.5, 1], exponent up to 29 so that rounding up stays in range */
    double q = 0.5 + 0.5 * ((double)nnf_rng_u64(&r) / 18446744073709551616.0);
    double real = ldexp(q, (int)nnf_rng_range(&r, -31, 29));
    nnf_test_ctx("random real %.17g", real);
    CHECK_OK(nnfm_quantize_multiplier(real, &m0, &shift));
    CHECK(m0 >= (1 << 30));
    CHECK(nnfm_requant_params_valid(m0, shift));
    double err = fabs(ldexp((double)m0, shift - 31) - real);
    CHECK(err <= ldexp(1.0, shift - 32));
  }
  nnf_test_ctx("");
}

/* docs/numerics.md: a sigmoid table, input scale 1/16, output 1/256 zp -128 */
static void test_sigmoid_lut(void) {
  int8_t lut[256];
  for (int i = 0; i < 256; i++) {
    int x = i < 128 ? i : i - 256;
    double q = round(256.0 / (1.0 + exp(-x / 16.0))) - 128;
    lut[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
  }
  const int8_t x[6] = {0, 16, -16, -1, -128, 127};
  const int8_t want[6] = {0, 59, -59, -4, -128, 127};
  for (int i = 0; i < 6; i++) CHECK_EQ(nnfm_lut(lut, x[i]), want[i]);
  /* after the clamp: y = 50 clamped to [-128, 16] indexes lut[16] */
  CHECK_EQ(nnfm_vector_stage(100, HALF, 0, 0, -128, 16, lut, NNFM_ROUND_SINGLE), 59);
}

static void test_lut_acc(void) {
  int8_t lut[256];
  for (int i = 0; i < 256; i++) lut[i] = (int8_t)(127 - i / 2); /* 127 .. -0 */
  CHECK_EQ(nnfm_lut(lut, 0), lut[0]);
  CHECK_EQ(nnfm_lut(lut, 127), lut[127]);
  CHECK_EQ(nnfm_lut(lut, -1), lut[255]);   /* (uint8_t)-1 = 255 */
  CHECK_EQ(nnfm_lut(lut, -128), lut[128]); /* (uint8_t)-128 = 128 */
  CHECK_EQ(nnfm_acc_add(I32_HI, 1), I32_LO);
  CHECK_EQ(nnfm_acc_add(I32_LO, -1), I32_HI);
  CHECK_EQ(nnfm_acc_add(I32_LO, I32_LO), 0);
  CHECK_EQ(nnfm_acc_add(I32_HI, I32_HI), -2);
  CHECK_EQ(nnfm_acc_add(-5, 3), -2);
  /* the vector stage: requantize, clamp, then the LUT on the clamped value */
  CHECK_EQ(nnfm_vector_stage(100, HALF, 0, -10, -128, 127, NULL, NNFM_ROUND_SINGLE), 40);
  CHECK_EQ(nnfm_vector_stage(100, HALF, 0, -10, -128, 127, lut, NNFM_ROUND_SINGLE), lut[40]);
  CHECK_EQ(nnfm_vector_stage(-1000, HALF, 0, 0, -20, 127, lut, NNFM_ROUND_SINGLE), lut[(uint8_t)-20]);
}

/* An independent reference for requantize: exact 128-bit product and a
 * floor division written with / and %, not shifts. */
#ifdef __SIZEOF_INT128__
static int32_t ref_requant(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo, int32_t hi) {
  int k = 31 - shift;
  __int128 x = (__int128)acc * m0 + ((__int128)1 << (k - 1));
  __int128 d = (__int128)1 << k;
  __int128 q = x / d;
  if (x % d != 0 && x < 0) q -= 1; /* floor */
  q += zp;
  if (q < lo) q = lo;
  if (q > hi) q = hi;
  return (int32_t)q;
}

static void test_random_vs_ref(void) {
  nnf_rng r = nnf_rng_seed(7);
  for (int i = 0; i < 200000; i++) {
    int32_t acc;
    switch (i % 4) { /* full range, small, near the extremes, near ties */
    case 0: acc = (int32_t)nnf_rng_u32(&r); break;
    case 1: acc = (int32_t)nnf_rng_range(&r, -70000, 70000); break;
    case 2: acc = (int32_t)(nnf_rng_range(&r, 0, 1) ? I32_HI - nnf_rng_range(&r, 0, 99) : I32_LO + nnf_rng_range(&r, 0, 99)); break;
    default: acc = (int32_t)nnf_rng_range(&r, -64, 64) * 16; break;
    }
    int32_t m0 = (int32_t)(i % 5 == 0 ? nnf_rng_range(&r, 0, 4) : nnf_rng_range(&r, 0, I32_HI));
    if (i % 7 == 0) m0 = (int32_t)nnf_rng_range(&r, 1 << 30, I32_HI);
    int shift = (int)nnf_rng_range(&r, -31, 30);
    int32_t zp = (int32_t)nnf_rng_range(&r, -128, 127);
    int32_t lo = (int32_t)nnf_rng_range(&r, -128, 127);
    int32_t hi = (int32_t)nnf_rng_range(&r, lo, 127);
    if (i % 3 == 0) lo = I32_LO, hi = I32_HI, zp = (int32_t)nnf_rng_u32(&r);
    nnf_test_ctx("acc %d m0 %d shift %d zp %d lo %d hi %d", acc, m0, shift, zp, lo, hi);
    CHECK_EQ(nnfm_requantize(acc, m0, shift, zp, lo, hi), ref_requant(acc, m0, shift, zp, lo, hi));
  }
  nnf_test_ctx("");
}
#else
static void test_random_vs_ref(void) {}
#endif

static void test_strerror(void) {
  CHECK(nnfm_strerror(NNFM_OK) != NULL);
  CHECK(strcmp(nnfm_strerror(NNFM_ERR_SHAPE), nnfm_strerror(NNFM_ERR_RANGE)) != 0);
  CHECK(strcmp(nnfm_strerror(NNFM_ERR_NULL), nnfm_strerror(NNFM_ERR_RANGE)) != 0);
  CHECK(nnfm_strerror(-999) != NULL);
}

/* nnfm_quantize_real: ties away from zero, zero point, clamp, bad scales. */
static void test_quantize_real(void) {
  CHECK_EQ(nnfm_quantize_real(2.5, 1.0, 0, -128, 127), 3);
  CHECK_EQ(nnfm_quantize_real(-2.5, 1.0, 0, -128, 127), -3);
  CHECK_EQ(nnfm_quantize_real(0.5 / 255.0, 1.0 / 255.0, -128, -128, 127), -127); /* 0.5 -> 1 */
  CHECK_EQ(nnfm_quantize_real(1.0, 1.0 / 255.0, -128, -128, 127), 127);
  CHECK_EQ(nnfm_quantize_real(7.0, 0.5, 3, -128, 127), 17);
  CHECK_EQ(nnfm_quantize_real(1000.0, 1.0, 0, -128, 127), 127);
  CHECK_EQ(nnfm_quantize_real(-1e30, 1e-30, 5, -128, 127), -128);
  CHECK_EQ(nnfm_quantize_real(1e300, 1e-300, 0, INT32_MIN, INT32_MAX), INT32_MAX);
  CHECK_EQ(nnfm_quantize_real(1.0, 0.0, 9, -128, 127), 9);
  CHECK_EQ(nnfm_quantize_real(1.0, -1.0, 9, -128, 127), 9);
  CHECK_EQ(nnfm_quantize_real(NAN, 1.0, 200, -128, 127), 127);
}


/* ---- elementwise ops (nnfm_ew, docs/numerics.md "Elementwise ops") -------- */

/* prepare + one element, wide clamp */
static int ew1(int op, double sa, int32_t za, double sb, int32_t zb, double so, int32_t zp, int8_t a,
               int8_t b) {
  nnfm_ew_params p;
  CHECK_OK(nnfm_ew_prepare(op, sa, za, sb, zb, so, zp, -128, 127, &p));
  return nnfm_ew(&p, a, b, NULL);
}

static void test_ew_worked(void) {
  nnfm_ew_params p;
  /* ADD: s_a 0.02 (zp -3), s_b 0.01 (zp 5), s_out 0.05 (zp 1). twice = 0.04:
   * b is the smaller-scale input, 0.01 / 0.04 = 0.25 = 2^30 * 2^(-1-31);
   * the output 0.04 / (2^20 * 0.05) = 0.8 * 2^-20: m0 = round(0.8 * 2^31) =
   * 1717986918, shift -20. */
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.02, -3, 0.01, 5, 0.05, 1, -128, 127, &p));
  CHECK_EQ(p.a_small, 0);
  CHECK_EQ(p.m0_s, 1 << 30);
  CHECK_EQ(p.shift_s, -1);
  CHECK_EQ(p.m0, 1717986918);
  CHECK_EQ(p.shift, -20);
  /* a 47 = 1.0, b 105 = 1.0: sa = 50 << 19, sb = (100 * 2^50 + 2^31) >> 32
   * = 100 << 18, acc = 52428800 = 50 * 2^20; 50 * 2^20 * m0 = 40 * 2^51 -
   * 20 * 2^20, plus 2^50, >> 51 = 40; + 1 */
  CHECK_EQ(nnfm_ew(&p, 47, 105, NULL), 41);
  CHECK_EQ(nnfm_ew(&p, -128, 127, NULL), -25); /* -2.5 + 1.22 = -1.28 -> -25.6 -> -26, + 1 */
  CHECK_EQ(nnfm_ew(&p, 127, 127, NULL), 77);   /* 2.6 + 1.22 = 3.82 -> 76.4 -> 76, + 1 */
  CHECK_EQ(nnfm_ew(&p, -3, 5, NULL), 1);       /* 0 + 0 */
  p.op = NNFM_EW_SUB;
  CHECK_EQ(nnfm_ew(&p, 47, 105, NULL), 1);     /* 1.0 - 1.0 */
  CHECK_EQ(nnfm_ew(&p, -3, 105, NULL), -19);   /* 0 - 1.0 -> -20, + 1 */
  /* the smaller scale on A: s_a 0.01 (zp 0), s_b 0.04 (zp 10), s_out 0.03 (zp -7):
   * a's multiplier 0.125 (2^30, shift -2), the output 0.08 / (2^20 * 0.03) */
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.01, 0, 0.04, 10, 0.03, -7, -128, 127, &p));
  CHECK_EQ(p.a_small, 1);
  CHECK_EQ(p.m0_s, 1 << 30);
  CHECK_EQ(p.shift_s, -2);
  CHECK_EQ(p.m0, 1431655765);
  CHECK_EQ(p.shift, -18);
  CHECK_EQ(nnfm_ew(&p, 100, 20, NULL), 40);     /* 1.0 + 0.4 = 1.4 -> 46.67 -> 47, - 7 */
  CHECK_EQ(nnfm_ew(&p, -100, -128, NULL), -128); /* -1.0 - 5.52 -> -217: clamped */
  /* MUL: a sigmoid output (1/256, zp -128) times a tanh output (1/128, zp 0)
   * into 1/128: the multiplier 1/256 = 2^30 * 2^(-7-31) */
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_MUL, 1.0 / 256, -128, 1.0 / 128, 0, 1.0 / 128, 0, -128, 127, &p));
  CHECK_EQ(p.m0, 1 << 30);
  CHECK_EQ(p.shift, -7);
  CHECK_EQ(nnfm_ew(&p, 127, 127, NULL), 127); /* 255 * 127 / 256 = 126.504 -> 127 */
  CHECK_EQ(nnfm_ew(&p, 0, 64, NULL), 32);     /* 0.5 * 0.5 */
  CHECK_EQ(nnfm_ew(&p, 0, -64, NULL), -32);
  CHECK_EQ(nnfm_ew(&p, -128, -128, NULL), 0); /* 0 * -1 */
  /* MAP: 0.1 (zp 3) into 0.05 (zp -2): the multiplier 2 = 2^30 * 2^(2-31) */
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_MAP, 0.1, 3, 0.0, 0, 0.05, -2, -128, 127, &p));
  CHECK_EQ(p.m0, 1 << 30);
  CHECK_EQ(p.shift, 2);
  CHECK_EQ(nnfm_ew(&p, 13, 99, NULL), 18);     /* 1.0 -> 20, - 2 (b ignored) */
  CHECK_EQ(nnfm_ew(&p, 127, 0, NULL), 127);    /* 12.4 -> 248: clamped */
  CHECK_EQ(nnfm_ew(&p, -128, 0, NULL), -128);
  /* ties, equal scales 0.5 into 1.0: (ia + ib) / 2, ties toward +infinity
   * (TFLite's double-rounding default would give -1 for -0.5) */
  CHECK_EQ(ew1(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, 1, 0), 1);
  CHECK_EQ(ew1(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -1, 0), 0);
  CHECK_EQ(ew1(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, 3, 0), 2);
  CHECK_EQ(ew1(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -3, 0), -1);
  CHECK_EQ(ew1(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -2, -1), -1);
  /* the clamp and the LUT come last */
  int8_t lut[256];
  for (int i = 0; i < 256; i++) lut[i] = (int8_t)(i ^ 0x5A);
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.02, -3, 0.01, 5, 0.05, 1, -10, 30, &p));
  CHECK_EQ(nnfm_ew(&p, 47, 105, NULL), 30);
  CHECK_EQ(nnfm_ew(&p, 47, 105, lut), (int8_t)(30 ^ 0x5A));
  CHECK_EQ(nnfm_ew(&p, -128, -128, lut), (int8_t)((uint8_t)-10 ^ 0x5A));
}

/* Properties: ADD within one step of the real sum, SUB of equal inputs is
 * the zero point, the smaller-scale input on either side gives the same. */
static void test_ew_properties(void) {
  nnf_rng r = nnf_rng_seed(15);
  for (int t = 0; t < 20000; t++) {
    double sa = 0.001 + 0.1 * nnf_rng_unit(&r), sb = 0.001 + 0.1 * nnf_rng_unit(&r);
    double so = (sa + sb) * (0.3 + 2.0 * nnf_rng_unit(&r));
    int32_t za = (int32_t)nnf_rng_range(&r, -128, 127), zb = (int32_t)nnf_rng_range(&r, -128, 127);
    int32_t zo = (int32_t)nnf_rng_range(&r, -128, 127);
    int8_t a = (int8_t)nnf_rng_range(&r, -128, 127), b = (int8_t)nnf_rng_range(&r, -128, 127);
    nnfm_ew_params p, q;
    CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, sa, za, sb, zb, so, zo, -128, 127, &p));
    double real = ((a - za) * sa + (b - zb) * sb) / so + zo;
    double want = real < -128 ? -128 : real > 127 ? 127 : real;
    int got = nnfm_ew(&p, a, b, NULL);
    if (fabs(got - want) > 1.0) {
      nnf_test_ctx("sa %g sb %g so %g za %d zb %d zo %d a %d b %d", sa, sb, so, za, zb, zo, a, b);
      CHECK_EQ(got, (int)lround(want));
    }
    CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, sb, zb, sa, za, so, zo, -128, 127, &q));
    CHECK_EQ(nnfm_ew(&q, b, a, NULL), got);
    CHECK_OK(nnfm_ew_prepare(NNFM_EW_SUB, sa, za, sa, za, so, zo, -128, 127, &q));
    CHECK_EQ(nnfm_ew(&q, a, a, NULL), zo);
    double m = (a - za) * sa * ((b - zb) * sb) / so + zo;
    CHECK_OK(nnfm_ew_prepare(NNFM_EW_MUL, sa, za, sb, zb, so, zo, -128, 127, &q));
    got = nnfm_ew(&q, a, b, NULL);
    want = m < -128 ? -128 : m > 127 ? 127 : m;
    CHECK(fabs(got - want) <= 0.5 + 1e-6);
  }
}

static void test_ew_params(void) {
  nnfm_ew_params p, ok;
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -128, 127, &ok));
  CHECK_EQ(ok.m0_s, 1 << 30); /* equal scales: both 0.5 */
  CHECK_EQ(ok.shift_s, 0);
  CHECK_OK(nnfm_ew_params_check(&ok));
  CHECK_EQ(nnfm_ew_params_check(NULL), NNFM_ERR_NULL);
  p = ok, p.op = 4;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.zp_a = 128;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.lo = 5, p.hi = 4;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.shift_s = 1; /* a multiplier over 0.5's exponent */
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.shift_s = -32;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.m0_s = -1;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.shift = 31;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  p = ok, p.a_small = 2;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
  /* scales: not positive, not finite; a multiplier too large; untouched on error */
  p = ok;
  CHECK_EQ(nnfm_ew_prepare(NNFM_EW_ADD, 0.0, 0, 0.5, 0, 1.0, 0, -128, 127, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_ew_prepare(NNFM_EW_MUL, 0.5, 0, NAN, 0, 1.0, 0, -128, 127, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_ew_prepare(NNFM_EW_MAP, 1.0, 0, 0.0, 0, 1e-12, 0, -128, 127, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_ew_prepare(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, 3, 2, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_ew_prepare(7, 0.5, 0, 0.5, 0, 1.0, 0, -128, 127, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_ew_prepare(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -128, 127, NULL), NNFM_ERR_NULL);
  CHECK_EQ(memcmp(&p, &ok, sizeof p), 0);
  /* MAP ignores B's scale (0 allowed) */
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_MAP, 0.5, 0, 0.0, 0, 1.0, 0, -128, 127, &p));
}

/* ---- TFLite's double rounding ----------------------------------------------
 * An independent transcription of TFLite's reference arithmetic
 * (MultiplyByQuantizedMultiplier: a left shift for shift > 0, gemmlowp's
 * SaturatingRoundingDoublingHighMul with its nudge and C's truncating
 * division, then RoundingDivideByPOT with its mask and threshold), written
 * from their published definitions, not from nnfm.c. Cases where TFLite's
 * own int32 left shift would overflow (undefined there) are skipped. */
static int tfl_ref(int32_t x, int32_t m, int shift, int32_t *out) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int64_t xs = (int64_t)x * ((int64_t)1 << left);
  if (xs < INT32_MIN || xs > INT32_MAX) return 0;
  int32_t a = (int32_t)xs;
  int32_t h;
  if (a == INT32_MIN && m == INT32_MIN) {
    h = INT32_MAX;
  } else {
    int64_t ab = (int64_t)a * m;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    h = (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division: toward zero */
  }
  int64_t mask = ((int64_t)1 << right) - 1;
  int64_t rem = (int64_t)h & mask;
  int64_t thr = (mask >> 1) + (h < 0 ? 1 : 0);
  int64_t fl = h >= 0 ? (int64_t)h >> right : -((-(int64_t)h + mask) >> right); /* floor(h / 2^right) */
  *out = (int32_t)(fl + (rem > thr ? 1 : 0));
  return 1;
}

static int32_t rq_tfl(int32_t acc, int32_t m0, int shift) {
  return nnfm_requantize_r(acc, m0, shift, 0, I32_LO, I32_HI, NNFM_ROUND_TFLITE);
}

static void test_tflite_rounding(void) {
  /* hand-worked: multiplier 2^30 * 2^-31 * 2^-1 = 1/4 (m0 = 2^30, shift -1).
   * acc = 2: h = round(2 * 2^30 / 2^31) = 1, then 1 / 2 = 0.5 -> 1 (away from
   * zero); single rounding: 2 / 4 = 0.5 -> 1 too. acc = -2: h = -1 (the
   * first rounding of -1.0 is exact), -1 / 2 = -0.5 -> -1 (away from zero);
   * single: -0.5 -> 0 (toward +inf). */
  CHECK_EQ(rq_tfl(2, HALF, -1), 1);
  CHECK_EQ(rq_tfl(-2, HALF, -1), -1);
  CHECK_EQ(rq(-2, HALF, -1), 0);
  /* acc = 1: h = round(0.5) = 1 (ties up), 1 / 2 -> 1; single: 0.25 -> 0 */
  CHECK_EQ(rq_tfl(1, HALF, -1), 1);
  CHECK_EQ(rq(1, HALF, -1), 0);
  /* acc = -1: h = round(-0.5) = 0 (ties toward +inf), so 0; single 0 */
  CHECK_EQ(rq_tfl(-1, HALF, -1), 0);
  /* acc = -3: h = round(-1.5) = -1, -1 / 2 -> -1; single -0.75 -> -1 */
  CHECK_EQ(rq_tfl(-3, HALF, -1), -1);
  /* acc = 6: h = 3, 3 / 2 = 1.5 -> 2; single 1.5 -> 2. acc = -6: h = -3,
   * -1.5 -> -2 (away); single -1.5 -> -1 */
  CHECK_EQ(rq_tfl(6, HALF, -1), 2);
  CHECK_EQ(rq_tfl(-6, HALF, -1), -2);
  CHECK_EQ(rq(-6, HALF, -1), -1);
  /* shift >= 0: one rounding, the same as nnfpga's */
  CHECK_EQ(rq_tfl(-5, HALF, 0), -2);
  CHECK_EQ(rq_tfl(3, 1, 30), 2);
  /* zero point and clamp after the rounding, as for single rounding */
  CHECK_EQ(nnfm_requantize_r(-6, HALF, -1, 5, -128, 127, NNFM_ROUND_TFLITE), 3);
  CHECK_EQ(nnfm_requantize_r(-600, HALF, -1, 0, -100, 127, NNFM_ROUND_TFLITE), -100);
  /* any other round value is single rounding */
  CHECK_EQ(nnfm_requantize_r(-6, HALF, -1, 0, I32_LO, I32_HI, 7), -1);

  /* every shift, against the transcription: structured and random cases */
  nnf_rng r = nnf_rng_seed(20261204);
  long differ = 0, cases = 0;
  for (int shift = NNFM_SHIFT_MIN; shift <= NNFM_SHIFT_MAX; shift++) {
    for (int i = 0; i < 40000; i++) {
      int32_t m0, acc;
      int c = (int)nnf_rng_range(&r, 0, 5);
      if (c == 0) m0 = (int32_t)1 << nnf_rng_range(&r, 0, 30);
      else if (c == 1) m0 = (int32_t)nnf_rng_range(&r, 0, 70000);
      else m0 = (int32_t)nnf_rng_range(&r, (int64_t)1 << 30, INT32_MAX);
      int d = (int)nnf_rng_range(&r, 0, 3);
      if (d == 0) acc = (int32_t)nnf_rng_u32(&r);
      else if (d == 1) acc = (int32_t)nnf_rng_range(&r, -5000, 5000);
      else if (d == 2) acc = (int32_t)(nnf_rng_u32(&r) >> nnf_rng_range(&r, 0, 31)) * (nnf_rng_range(&r, 0, 1) ? 1 : -1);
      else acc = (int32_t)nnf_rng_range(&r, -2, 2) + (nnf_rng_range(&r, 0, 1) ? INT32_MIN + 2 : INT32_MAX - 2);
      int32_t want;
      if (!tfl_ref(acc, m0, shift, &want)) continue;
      int32_t got = rq_tfl(acc, m0, shift);
      cases++;
      differ += got != rq(acc, m0, shift);
      if (got != want) {
        CHECK_EQ(got, want);
        fprintf(stderr, "  acc %d m0 %d shift %d\n", acc, m0, shift);
        return;
      }
    }
  }
  /* the cases reach the difference between the roundings */
  printf("TFLite's rounding: %ld cases equal to the transcription, %ld of them differing from single rounding\n",
         cases, differ);
  CHECK(cases > 1000000);
  CHECK(differ > 1000);
  /* the ew ops round every MBQM the op's way: ADD of equal scales 0.5 into
   * 1.0 halves ia + ib; -1 + 0 is -0.5: 0 single, -1 TFLite (the EW
   * instruction's docs/numerics.md example) */
  nnfm_ew_params p;
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.5, 0, 0.5, 0, 1.0, 0, -128, 127, &p));
  CHECK_EQ(nnfm_ew(&p, -1, 0, NULL), 0);
  CHECK_EQ(nnfm_ew(&p, -3, 0, NULL), -1);
  p.round = NNFM_ROUND_TFLITE;
  CHECK_EQ(nnfm_ew(&p, -1, 0, NULL), -1);
  CHECK_EQ(nnfm_ew(&p, -3, 0, NULL), -2);
  p.round = 2;
  CHECK_EQ(nnfm_ew_params_check(&p), NNFM_ERR_RANGE);
}

int main(int argc, char **argv) {
  (void)argc;
  test_tflite_rounding();
  test_ties();
  test_extremes();
  test_zp_clamp();
  test_params_valid();
  test_quantize_multiplier();
  test_lut_acc();
  test_sigmoid_lut();
  test_random_vs_ref();
  test_strerror();
  test_quantize_real();
  test_ew_worked();
  test_ew_properties();
  test_ew_params();
  return nnf_test_done(argv[0]);
}
