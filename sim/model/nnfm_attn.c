/*
 * nnfm_attn.c - the integer rules of attention: softmax (TFLite's int8
 * SOFTMAX, gemmlowp's fixed point), LayerNorm (integer statistics, exact
 * square root), and the product of two int8 activations (see nnfm_attn.h,
 * docs/numerics.md). Written from gemmlowp's and TFLite's documented
 * semantics; checked against TFLite's interpreter's values
 * (tests/data/softmax_ref.json).
 */
#include "nnfm_attn.h"

#include <math.h>

#include "nnfm.h"

/* ---- gemmlowp's fixed point ------------------------------------------------------ */

int32_t nnfm_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * b;
  int64_t nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C's division truncates toward zero */
}

int32_t nnfm_rdbpot(int32_t x, int e) {
  if (e <= 0) return x;
  if (e > 62) e = 62; /* |x| < 2^31: the rounding is 0 from e = 33 on */
  const int64_t mask = ((int64_t)1 << e) - 1;
  const int64_t rem = (int64_t)x & mask, threshold = (mask >> 1) + (x < 0);
  return (int32_t)(((int64_t)x >> e) + (rem > threshold));
}

int32_t nnfm_sat_shl(int32_t x, int e) {
  if (e <= 0) return x;
  const int64_t threshold = ((int64_t)1 << (31 - e)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((int64_t)x * ((int64_t)1 << e));
}

/* exp(a) for a in [-1/4, 0) (Q0.31): the Taylor series around -1/8 to x^4. */
static int32_t exp_quarter(int32_t a) {
  const int32_t c = 1895147668;       /* exp(-1/8) */
  const int32_t one_third = 715827883; /* 1/3 */
  const int32_t x = a + (1 << 28);
  const int32_t x2 = nnfm_srdhm(x, x), x3 = nnfm_srdhm(x2, x), x4 = nnfm_srdhm(x2, x2);
  const int32_t x4_4 = nnfm_rdbpot(x4, 2);
  const int32_t poly = nnfm_rdbpot(nnfm_srdhm(x4_4 + x3, one_third) + x2, 1); /* x^2/2 + x^3/6 + x^4/24 */
  return c + nnfm_srdhm(c, x + poly);
}

int32_t nnfm_exp_on_negative_values(int32_t a) {
  /* a (Q5.26) = q + r with q a multiple of 1/4 and r in [-1/4, 0): exp(r)
   * from the series, times exp(-2^k) for each bit k of -q (k = -2..4) */
  static const int32_t factor[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int32_t quarter = 1 << 24;
  const int32_t r = (a & (quarter - 1)) - quarter;
  int32_t result = exp_quarter(nnfm_sat_shl(r, 5)); /* Q5.26 -> Q0.31 */
  const int64_t remainder = (int64_t)r - a;
  for (int k = 0; k < 7; k++)
    if (remainder & ((int64_t)1 << (24 + k))) result = nnfm_srdhm(result, factor[k]);
  return a == 0 ? INT32_MAX : result;
}

static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

int32_t nnfm_one_over_one_plus_x(int32_t a) {
  int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* (1 + a) / 2, Q0.31 */
  /* the additions wrap at 32 bits (gemmlowp's int32 arithmetic; the RTL's
   * adders): they never do for a sum of table terms from a real exp table,
   * only for hostile tables (nnf_vu_row must equal this on those too) */
  int32_t x = wrap_add(1515870810, nnfm_srdhm(half_den, -1010580540)); /* 48/17 - 32/17 d, Q2.29 */
  for (int i = 0; i < 3; i++) {
    const int32_t err = wrap_sub(1 << 29, nnfm_srdhm(half_den, x)); /* 1 - d x, Q2.29 */
    x = wrap_add(x, nnfm_sat_shl(nnfm_srdhm(x, err), 2));
  }
  return nnfm_sat_shl(x, 1); /* x / 2 in Q1.30 read as Q0.31 */
}

/* ---- softmax --------------------------------------------------------------------- */

int nnfm_softmax_prepare(double s_in, double beta, nnfm_softmax_params *p) {
  if (!p) return NNFM_ERR_NULL;
  if (!(s_in > 0) || !isfinite(s_in) || !(beta > 0) || !isfinite(beta)) return NNFM_ERR_RANGE;
  double real = beta * s_in * (double)(1 << 26);
  if (real > 2147483647.0) real = 2147483647.0;
  if (!(real > 1.0)) return NNFM_ERR_RANGE;
  int32_t m0;
  int shift;
  /* TFLite's QuantizeMultiplier allows a shift of 31 (real >= 2^30), the
   * model's stops at 30: halve the real (same mantissa) and add one */
  int big = real >= 1073741824.0;
  if (nnfm_quantize_multiplier(big ? real / 2 : real, &m0, &shift) != NNFM_OK) return NNFM_ERR_RANGE;
  shift += big;
  p->multiplier = m0;
  p->left_shift = shift;
  p->diff_min = -(int32_t)floor(31.0 * (double)(1 << 26) / (double)((int64_t)1 << shift));
  return NNFM_OK;
}

/* exp(beta * s_in * d) of one input difference d <= 0 (Q0.31), 0 below diff_min. */
static int32_t exp_term(const nnfm_softmax_params *p, int32_t d) {
  if (d < p->diff_min) return 0;
  /* |d| 2^left_shift <= 31 * 2^26 (diff_min's bound): the product fits int32 */
  int32_t scaled = nnfm_srdhm((int32_t)((int64_t)d * ((int64_t)1 << p->left_shift)), p->multiplier);
  return nnfm_exp_on_negative_values(scaled);
}

int nnfm_softmax_table(const nnfm_softmax_params *p, int32_t table[256]) {
  if (!p || !table) return NNFM_ERR_NULL;
  if (p->left_shift < 0 || p->left_shift > 31 || p->multiplier < 0 || p->diff_min > 0) return NNFM_ERR_RANGE;
  for (int i = 0; i < 256; i++) table[i] = exp_term(p, -i);
  return NNFM_OK;
}

/* 1 / sum (Q12.19 in, Q0.31 out) and the bits of sum above one, as TFLite's
 * GetReciprocal: sum = 2^nbou (1 + x), x in [0, 1). */
static int32_t reciprocal(int32_t sum, int *nbou) {
  int c = 0;
  while (c < 31 && !((uint32_t)sum & (0x80000000u >> c))) c++;
  *nbou = 12 - c;
  return nnfm_one_over_one_plus_x((int32_t)(((uint32_t)sum << c) - 0x80000000u));
}

static int8_t prob(int32_t inv, int nbou, int32_t e) {
  int32_t v = nnfm_rdbpot(nnfm_srdhm(inv, e), nbou + 31 - 8) - 128;
  return (int8_t)nnfm_clamp(v, -128, 127);
}

/* The row's max, sum of table terms, reciprocal and its shift. */
static int row_stats(const int32_t table[256], const int8_t *x, int n, int *m, int32_t *sum, int32_t *inv,
                     int *nbou) {
  if (!table || !x) return NNFM_ERR_NULL;
  if (n < 1 || n > 4095) return NNFM_ERR_RANGE;
  *m = -128;
  for (int j = 0; j < n; j++) *m = x[j] > *m ? x[j] : *m;
  *sum = 0; /* at most 4095 * 2^19 < 2^31 */
  for (int j = 0; j < n; j++) *sum += nnfm_rdbpot(table[*m - x[j]], 12);
  *inv = reciprocal(*sum, nbou);
  return NNFM_OK;
}

int nnfm_softmax_stats(const int32_t table[256], const int8_t *x, int n, int32_t *sum, int32_t *inv) {
  if (!sum || !inv) return NNFM_ERR_NULL;
  int m, nbou;
  return row_stats(table, x, n, &m, sum, inv, &nbou);
}

int nnfm_softmax(const int32_t table[256], const int8_t *x, int n, int8_t *y) {
  if (!y) return NNFM_ERR_NULL;
  int m, nbou;
  int32_t sum, inv;
  const int st = row_stats(table, x, n, &m, &sum, &inv, &nbou);
  if (st != NNFM_OK) return st;
  for (int j = 0; j < n; j++) y[j] = prob(inv, nbou, table[m - x[j]]);
  return NNFM_OK;
}

int nnfm_softmax_ref(const nnfm_softmax_params *p, const int8_t *x, int n, int8_t *y) {
  if (!p || !x || !y) return NNFM_ERR_NULL;
  if (n < 1 || n > 4095 || p->left_shift < 0 || p->left_shift > 31) return NNFM_ERR_RANGE;
  int8_t m = INT8_MIN;
  for (int j = 0; j < n; j++)
    if (x[j] > m) m = x[j];
  int32_t sum = 0;
  for (int j = 0; j < n; j++) {
    const int32_t d = (int32_t)x[j] - m;
    if (d >= p->diff_min) sum += nnfm_rdbpot(exp_term(p, d), 12); /* Rescale<12> */
  }
  int nbou;
  const int32_t inv = reciprocal(sum, &nbou);
  for (int j = 0; j < n; j++) {
    const int32_t d = (int32_t)x[j] - m;
    y[j] = d >= p->diff_min ? prob(inv, nbou, exp_term(p, d)) : INT8_MIN;
  }
  return NNFM_OK;
}

/* ---- LayerNorm --------------------------------------------------------------------- */

uint64_t nnfm_isqrt(uint64_t v) {
  /* digit by digit, two bits of v a step: r^2 <= v < (r + 1)^2 */
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

#define LN_MAX_D 1024
#define LN_EPS_MAX ((int64_t)1 << 62)
#define LN_Z_MAX (1 << 25)
#define LN_BIAS_MAX (1 << 24)

int nnfm_layernorm_prepare(int d, double s_in, double eps, const float *gamma, const float *beta, double s_out,
                           int32_t zp_out, nnfm_layernorm_params *p) {
  if (!p || !gamma || !beta || !p->m0 || !p->shift || !p->sign || !p->bias) return NNFM_ERR_NULL;
  if (d < 1 || d > LN_MAX_D || !(s_in > 0) || !isfinite(s_in) || !(s_out > 0) || !isfinite(s_out) || !(eps >= 0) ||
      !isfinite(eps) || zp_out < -128 || zp_out > 127)
    return NNFM_ERR_RANGE;
  for (int j = 0; j < d; j++) {
    int32_t m0;
    int sh;
    if (!isfinite(gamma[j]) || !isfinite(beta[j]) ||
        nnfm_quantize_multiplier(fabs((double)gamma[j]) / 65536.0 / s_out, &m0, &sh) != NNFM_OK)
      return NNFM_ERR_RANGE;
  }
  double e = (double)d * d * eps / (s_in * s_in) * 16777216.0; /* 2^24 d^2 eps / s_in^2 */
  p->d = d;
  p->eps_q = e >= 4.6e18 ? LN_EPS_MAX : (int64_t)llround(e);
  p->zp_out = zp_out;
  for (int j = 0; j < d; j++) {
    int sh;
    nnfm_quantize_multiplier(fabs((double)gamma[j]) / 65536.0 / s_out, &p->m0[j], &sh);
    p->shift[j] = (int8_t)sh;
    p->sign[j] = (int8_t)(gamma[j] > 0 ? 1 : gamma[j] < 0 ? -1 : 0);
    p->bias[j] = nnfm_quantize_real(256.0 * beta[j] / s_out, 1.0, 0, -LN_BIAS_MAX, LN_BIAS_MAX);
  }
  return NNFM_OK;
}

int nnfm_layernorm_row(int d, int64_t eps_q, const int8_t *x, int32_t zp_in, nnfm_ln_row *r) {
  if (!x || !r) return NNFM_ERR_NULL;
  if (d < 1 || d > LN_MAX_D || eps_q < 0 || eps_q > LN_EPS_MAX || zp_in < -128 || zp_in > 127) return NNFM_ERR_RANGE;
  /* |S| <= 255 d < 2^18, Q <= 65025 d < 2^26, 0 <= T = d Q - S^2 < 2^36 */
  int64_t S = 0, Q = 0;
  for (int j = 0; j < d; j++) {
    int64_t u = (int64_t)x[j] - zp_in;
    S += u, Q += u * u;
  }
  const int64_t T = (int64_t)d * Q - S * S;
  const uint64_t rt = nnfm_isqrt(((uint64_t)T << 24) + (uint64_t)eps_q); /* 4096 sqrt(d^2 (var + eps)) < 2^31.1 */
  int k = 0; /* inv keeps 24 significant bits: 2^(36+k) / r in (2^23, 2^24] */
  while (rt >> (13 + k)) k++;
  r->d = d;
  r->S = S;
  r->k = k;
  r->inv = rt ? (int64_t)((((uint64_t)1 << (36 + k)) + rt / 2) / rt) : 0; /* one division a row */
  return NNFM_OK;
}

int8_t nnfm_layernorm_elem(const nnfm_ln_row *r, int8_t x, int32_t zp_in, int sign, int32_t m0, int shift,
                           int32_t bias, int32_t zp_out) {
  const int k = r->k;
  const int64_t c = (int64_t)r->d * ((int64_t)x - zp_in) - r->S; /* |c| < 2^19 */
  const int64_t prod = c * r->inv * sign;                          /* |prod| < 2^43 */
  const int32_t a = (int32_t)((prod + (k ? (int64_t)1 << (k - 1) : 0)) >> k); /* xhat 2^24, |a| < 2^30 */
  const int32_t z = nnfm_requantize(a, m0, shift, 0, -LN_Z_MAX, LN_Z_MAX);
  const int32_t zb = wrap_add(z, bias); /* modulo 2^32 */
  return (int8_t)nnfm_requantize(zb, 1 << 30, -7, zp_out, -128, 127);
}

int nnfm_layernorm(const nnfm_layernorm_params *p, const int8_t *x, int32_t zp_in, int8_t *y) {
  if (!p || !x || !y || !p->m0 || !p->shift || !p->sign || !p->bias) return NNFM_ERR_NULL;
  nnfm_ln_row r;
  int st = nnfm_layernorm_row(p->d, p->eps_q, x, zp_in, &r);
  if (st != NNFM_OK) return st;
  for (int j = 0; j < p->d; j++)
    y[j] = nnfm_layernorm_elem(&r, x[j], zp_in, p->sign[j], p->m0[j], p->shift[j], p->bias[j], p->zp_out);
  return NNFM_OK;
}

/* ---- the product of two activations -------------------------------------------------- */

int nnfm_matmul_act(const nnfm_matmul_args *g, const int8_t *a, int lda, const int8_t *b, int sbk, int sbn,
                    int8_t *out, int ldo) {
  if (!g) return NNFM_ERR_NULL;
  if (g->M < 0 || g->K < 0 || g->N < 0 || !nnfm_requant_params_valid(g->m0, g->shift) || g->lo > g->hi ||
      g->za < -128 || g->za > 127 || g->zb < -128 || g->zb > 127)
    return NNFM_ERR_RANGE;
  if (g->M && g->N && (!out || (g->K && (!a || !b)))) return NNFM_ERR_NULL;
  for (int m = 0; m < g->M; m++)
    for (int n = 0; n < g->N; n++) {
      uint32_t acc = 0; /* the accumulator rule: wrapping int32 */
      for (int k = 0; k < g->K; k++)
        acc += (uint32_t)(((int32_t)a[(size_t)m * lda + k] - g->za) *
                          ((int32_t)b[(size_t)k * sbk + (size_t)n * sbn] - g->zb));
      out[(size_t)m * ldo + n] = (int8_t)nnfm_requantize((int32_t)acc, g->m0, g->shift, g->zp, g->lo, g->hi);
    }
  return NNFM_OK;
}
