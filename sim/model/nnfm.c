/*
 * nnfm.c - the numeric contract of nnfpga (docs/numerics.md), defined once.
 *
 * Everything the device computes on numbers is here: requantization, the
 * clamp, the activation LUT, the wrapping accumulator and the plain GEMM
 * built from them. The engine model (nnfm_engine.c), the RTL tests and the
 * host library all call these functions; no other file restates a rule.
 *
 * Portability: the code relies on no implementation-defined behaviour of
 * signed integers. Arithmetic right shifts and unsigned-to-signed narrowing
 * go through the two helpers below.
 */
#include "nnfm.h"

#include <math.h>

/* ---- integer helpers -------------------------------------------------------- */

/* floor(x / 2^k) for 0 <= k <= 62: an arithmetic shift right. For x < 0,
 * ~x = -x - 1 >= 0 and floor(x / 2^k) = ~(~x >> k). */
static int64_t asr64(int64_t x, int k) { return x >= 0 ? x >> k : ~(~x >> k); }

/* The int32 whose two's complement bits are u (u mod 2^32 as a signed value). */
static int32_t i32_of_u32(uint32_t u) {
  if (u <= (uint32_t)INT32_MAX) return (int32_t)u;
  return (int32_t)(u - 0x80000000u) + INT32_MIN;
}

static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) {
  /* below first, then above: the order the RTL's clamp uses */
  if (x < lo) return lo;
  if (x > hi) return hi;
  return x;
}

/* ---- status ----------------------------------------------------------------- */

const char *nnfm_strerror(int status) {
  switch (status) {
  case NNFM_OK: return "success";
  case NNFM_ERR_NULL: return "a required pointer is NULL";
  case NNFM_ERR_RANGE: return "a parameter is outside its documented range";
  case NNFM_ERR_SHAPE: return "sizes do not fit the buffers";
  default: return "unknown nnfm status";
  }
}

/* ---- the numeric contract --------------------------------------------------- */

int nnfm_requant_params_valid(int32_t m0, int shift) {
  return m0 >= 0 && shift >= NNFM_SHIFT_MIN && shift <= NNFM_SHIFT_MAX;
}

int32_t nnfm_requantize_r(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo,
                          int32_t hi, int rnd) {
  if (!nnfm_requant_params_valid(m0, shift)) { /* outside the contract: as m0 = 0 */
    m0 = 0;
    shift = 0;
  }
  int64_t prod = (int64_t)acc * m0; /* |prod| < 2^62 */
  int64_t y;
  if (rnd == NNFM_ROUND_TFLITE && shift < 0) {
    /* TFLite: h = SaturatingRoundingDoublingHighMul(acc, m0) rounds
     * prod / 2^31 to nearest, ties toward +inf (its nudge and truncating
     * division; the saturating case needs m0 = INT32_MIN), then
     * RoundingDivideByPOT(h, r) rounds h / 2^r, ties away from zero. */
    int r = -shift;                                  /* 1 .. 31 */
    int64_t h = asr64(prod + ((int64_t)1 << 30), 31); /* |h| < 2^31 */
    y = asr64(h + ((int64_t)1 << (r - 1)) - (h < 0), r);
  } else {
    int k = 31 - shift;                              /* 1 .. 62 */
    y = asr64(prod + ((int64_t)1 << (k - 1)), k);    /* ties round toward +inf */
  }
  /* |y| < 2^61, so y + zp cannot overflow; clamp before narrowing. */
  return (int32_t)clamp64(y + zp, lo, hi);
}

int32_t nnfm_requantize(int32_t acc, int32_t m0, int shift, int32_t zp,
                        int32_t lo, int32_t hi) {
  return nnfm_requantize_r(acc, m0, shift, zp, lo, hi, NNFM_ROUND_SINGLE);
}

int nnfm_quantize_multiplier(double real, int32_t *m0, int *shift) {
  if (!m0 || !shift) return NNFM_ERR_NULL;
  if (!isfinite(real) || real < 0) return NNFM_ERR_RANGE; /* NaN is not finite */
  if (real == 0) {
    *m0 = 0;
    *shift = 0;
    return NNFM_OK;
  }
  int e;
  double q = frexp(real, &e);                   /* real = q * 2^e, q in [0.5, 1) */
  int64_t qf = (int64_t)round(q * 2147483648.0); /* [2^30, 2^31], ties away from 0 */
  if (qf == ((int64_t)1 << 31)) {               /* q rounded up to 1.0 */
    qf /= 2;
    e++;
  }
  if (e < NNFM_SHIFT_MIN) {
    /* real < 2^-32: |acc * real| <= 2^31 * real < 1/2 for every int32 acc,
     * so y = 0 exactly (ties toward +inf): m0 = 0 is the exact multiplier.
     * TFLite flushes the same way. */
    *m0 = 0;
    *shift = 0;
    return NNFM_OK;
  }
  if (e > NNFM_SHIFT_MAX) return NNFM_ERR_RANGE; /* real >= 2^30 */
  *m0 = (int32_t)qf;
  *shift = e;
  return NNFM_OK;
}

int32_t nnfm_clamp(int32_t x, int32_t lo, int32_t hi) { return (int32_t)clamp64(x, lo, hi); }

int32_t nnfm_quantize_real(double x, double scale, int32_t zp, int32_t lo, int32_t hi) {
  if (!(scale > 0.0) || !isfinite(scale) || isnan(x)) return nnfm_clamp(zp, lo, hi);
  double r = round(x / scale);
  int64_t q;
  if (r >= 9.2e18) q = INT64_MAX / 2;
  else if (r <= -9.2e18) q = INT64_MIN / 2;
  else q = (int64_t)r;
  return (int32_t)clamp64(q + zp, lo, hi);
}

int8_t nnfm_lut(const int8_t lut[256], int8_t x) { return lut[(uint8_t)x]; }

int32_t nnfm_acc_add(int32_t acc, int32_t x) {
  return i32_of_u32((uint32_t)acc + (uint32_t)x); /* mod 2^32, no signed overflow */
}

int8_t nnfm_vector_stage(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo,
                         int32_t hi, const int8_t *lut, int rnd) {
  int32_t q = nnfm_requantize_r(acc, m0, shift, zp, lo, hi, rnd);
  int8_t y = (int8_t)nnfm_clamp(q, INT8_MIN, INT8_MAX); /* no-op for int8 lo, hi */
  return lut ? nnfm_lut(lut, y) : y;
}

int nnfm_fold_input_zp(const int8_t *w, int k, int n, int32_t zp_in, const int32_t *bias,
                       int32_t *bias_out) {
  if (k < 0 || n < 0) return NNFM_ERR_RANGE;
  if (n == 0) return NNFM_OK;
  if (!bias_out || (k > 0 && !w)) return NNFM_ERR_NULL;
  for (int j = 0; j < n; j++) {
    /* bias_out[j] = bias[j] - zp_in * sum_i w[i][j]  (mod 2^32) */
    uint32_t colsum = 0;
    for (int i = 0; i < k; i++) colsum += (uint32_t)(int32_t)w[(size_t)i * n + j];
    uint32_t b = bias ? (uint32_t)bias[j] : 0u;
    bias_out[j] = i32_of_u32(b - (uint32_t)zp_in * colsum);
  }
  return NNFM_OK;
}

int32_t nnfm_avg_round(int32_t sum, int32_t count) {
  if (count <= 0) return 0;
  /* TFLite's rule; in int64 so that sum +- count/2 cannot overflow (for the
   * sums pooling produces, |sum| <= 128 * count, it equals the int32 form).
   * C division truncates toward zero, so adding half the count away from
   * zero first rounds the mean to nearest with ties away from zero. */
  int64_t s = sum, half = count / 2;
  return (int32_t)(s > 0 ? (s + half) / count : (s - half) / count);
}

/* ---- elementwise ops (TFLite's ADD, SUB, MUL, requantize) ------------------- */

static int in_int8(int32_t v) { return v >= INT8_MIN && v <= INT8_MAX; }

int nnfm_ew_params_check(const nnfm_ew_params *p) {
  if (!p) return NNFM_ERR_NULL;
  if (p->op < NNFM_EW_ADD || p->op > NNFM_EW_MAP) return NNFM_ERR_RANGE;
  if (!in_int8(p->zp_a) || !in_int8(p->zp_b) || !in_int8(p->zp) || !in_int8(p->lo) ||
      !in_int8(p->hi) || p->lo > p->hi)
    return NNFM_ERR_RANGE;
  if (p->m0_s < 0 || p->shift_s < NNFM_SHIFT_MIN || p->shift_s > 0) return NNFM_ERR_RANGE;
  if (p->a_small != 0 && p->a_small != 1) return NNFM_ERR_RANGE;
  if (p->round != NNFM_ROUND_SINGLE && p->round != NNFM_ROUND_TFLITE) return NNFM_ERR_RANGE;
  if (!nnfm_requant_params_valid(p->m0, p->shift)) return NNFM_ERR_RANGE;
  return NNFM_OK;
}

/* TFLite's MultiplyByQuantizedMultiplier with single rounding: nnfm_requantize
 * without zero point, over the whole int32 range (the clamp never binds for
 * the values the ops below pass: |x * m| < 2^59). */
static int32_t mbqm(int32_t x, int32_t m0, int shift, int rnd) {
  return nnfm_requantize_r(x, m0, shift, 0, INT32_MIN, INT32_MAX, rnd);
}

int8_t nnfm_ew(const nnfm_ew_params *p, int8_t a, int8_t b, const int8_t *lut) {
  int32_t ia = (int32_t)a - p->zp_a, ib = (int32_t)b - p->zp_b; /* |ia|, |ib| <= 255 */
  int32_t acc;
  switch (p->op) {
  case NNFM_EW_ADD:
  case NNFM_EW_SUB: {
    /* (ia << 20) fits: |ia| <= 255 < 2^8, so < 2^28 */
    int32_t xa = ia * (1 << NNFM_EW_LEFT_SHIFT), xb = ib * (1 << NNFM_EW_LEFT_SHIFT);
    int32_t half = (int32_t)1 << 30;
    int32_t sa = p->a_small ? mbqm(xa, p->m0_s, p->shift_s, p->round) : mbqm(xa, half, 0, p->round);
    int32_t sb = p->a_small ? mbqm(xb, half, 0, p->round) : mbqm(xb, p->m0_s, p->shift_s, p->round);
    acc = p->op == NNFM_EW_ADD ? sa + sb : sa - sb; /* |sa|, |sb| < 2^27 */
    break;
  }
  case NNFM_EW_MUL: acc = ia * ib; break;
  default: acc = ia; break; /* MAP */
  }
  return nnfm_vector_stage(acc, p->m0, p->shift, p->zp, p->lo, p->hi, lut, p->round);
}

int nnfm_ew_prepare(int op, double s_a, int32_t zp_a, double s_b, int32_t zp_b, double s_out,
                    int32_t zp, int32_t lo, int32_t hi, nnfm_ew_params *p) {
  if (!p) return NNFM_ERR_NULL;
  int binary = op != NNFM_EW_MAP;
  if (!(s_a > 0) || !isfinite(s_a) || !(s_out > 0) || !isfinite(s_out) ||
      (binary && (!(s_b > 0) || !isfinite(s_b))))
    return NNFM_ERR_RANGE;
  nnfm_ew_params q = {op, zp_a, binary ? zp_b : 0, 0, 0, 0, 0, 0, zp, lo, hi, NNFM_ROUND_SINGLE};
  double real;
  if (op == NNFM_EW_ADD || op == NNFM_EW_SUB) {
    double twice = 2.0 * (s_a > s_b ? s_a : s_b);
    q.a_small = s_a < s_b;
    if (nnfm_quantize_multiplier((q.a_small ? s_a : s_b) / twice, &q.m0_s, &q.shift_s) != NNFM_OK)
      return NNFM_ERR_RANGE;
    real = twice / ((double)(1 << NNFM_EW_LEFT_SHIFT) * s_out);
  } else if (op == NNFM_EW_MUL) {
    real = s_a * s_b / s_out;
  } else if (op == NNFM_EW_MAP) {
    real = s_a / s_out;
  } else {
    return NNFM_ERR_RANGE;
  }
  if (nnfm_quantize_multiplier(real, &q.m0, &q.shift) != NNFM_OK) return NNFM_ERR_RANGE;
  if (nnfm_ew_params_check(&q) != NNFM_OK) return NNFM_ERR_RANGE;
  *p = q;
  return NNFM_OK;
}

/* ---- plain GEMM ------------------------------------------------------------- */

static int gemm_args_check(const nnfm_gemm_args *g, const int8_t *a, const int8_t *w,
                           const int32_t *bias, const int32_t *m0, const int8_t *shift,
                           const int8_t *y) {
  if (!g) return NNFM_ERR_NULL;
  if (g->m < 0 || g->k < 0 || g->n < 0) return NNFM_ERR_RANGE;
  int64_t mk = (int64_t)g->m * g->k, kn = (int64_t)g->k * g->n, mn = (int64_t)g->m * g->n;
  if ((mk && !a) || (kn && !w) || (mn && !y)) return NNFM_ERR_NULL;
  if (g->n && (!bias || !m0 || !shift)) return NNFM_ERR_NULL;
  if (g->out_zp < INT8_MIN || g->out_zp > INT8_MAX || g->lo < INT8_MIN || g->hi > INT8_MAX ||
      g->lo > g->hi)
    return NNFM_ERR_RANGE;
  for (int j = 0; j < g->n; j++)
    if (!nnfm_requant_params_valid(m0[j], shift[j])) return NNFM_ERR_RANGE;
  return NNFM_OK;
}

int nnfm_gemm(const nnfm_gemm_args *g, const int8_t *a, const int8_t *w,
              const int32_t *bias, const int32_t *m0, const int8_t *shift,
              int8_t *y) {
  int st = gemm_args_check(g, a, w, bias, m0, shift, y);
  if (st != NNFM_OK) return st;
  const int M = g->m, K = g->k, N = g->n;
  for (int i = 0; i < M; i++) {
    const int8_t *arow = a ? a + (size_t)i * K : NULL; /* a[i][:], K */
    for (int j = 0; j < N; j++) {
      int32_t acc = bias[j];
      for (int kk = 0; kk < K; kk++)
        acc = nnfm_acc_add(acc, (int32_t)arow[kk] * w[(size_t)kk * N + j]);
      y[(size_t)i * N + j] = nnfm_vector_stage(acc, m0[j], shift[j], g->out_zp, g->lo, g->hi, g->lut, g->round);
    }
  }
  return NNFM_OK;
}
