/*
 * nnfm_attn.h - the integer rules of attention (docs/numerics.md,
 * "Softmax", "LayerNorm", "Attention"): TFLite's int8 SOFTMAX with
 * gemmlowp's fixed-point arithmetic, in a table form for the device; an
 * integer LayerNorm with an exact floor square root; the matrix product of
 * two int8 activations. Each rule is defined here once; the host's INT
 * forward calls these functions and the RTL must match them bit for bit.
 *
 * Ownership and errors as in nnfm.h.
 */
#ifndef NNFM_ATTN_H
#define NNFM_ATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- gemmlowp's fixed-point primitives (int32 raw values) ------------------
 * SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties toward
 * +infinity (the nudge 2^30, or 1 - 2^30 for a negative product, then C's
 * truncating division: floor((a b + 2^30) / 2^31)); a = b = INT32_MIN
 * saturates to INT32_MAX. */
int32_t nnfm_srdhm(int32_t a, int32_t b);
/* RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero,
 * 0 <= e <= 31 as gemmlowp's; e > 31 (where gemmlowp's shift is undefined)
 * the same rounding, exactly (0, or -1 for x = -2^31 at e = 32); e < 0: x. */
int32_t nnfm_rdbpot(int32_t x, int e);
/* SaturatingRoundingMultiplyByPOT for a positive exponent: x * 2^e
 * saturated to int32; 0 <= e <= 30. */
int32_t nnfm_sat_shl(int32_t x, int e);
/* gemmlowp's exp_on_negative_values for an input with 5 integer bits
 * (Q5.26, a <= 0): exp(a / 2^26) in Q0.31 (a = 0 gives INT32_MAX). */
int32_t nnfm_exp_on_negative_values(int32_t a);
/* gemmlowp's one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a / 2^31) in Q0.31,
 * for 0 <= a (three Newton-Raphson steps in Q2.29). */
int32_t nnfm_one_over_one_plus_x(int32_t a);

/* ---- softmax: TFLite's int8 SOFTMAX (reference kernel) ----------------------
 * The parameters TFLite's Prepare derives from the input scale and beta
 * (PreprocessSoftmaxScaling with 5 integer bits, CalculateInputRadius):
 *   real = min(beta * s_in * 2^26, 2^31 - 1);  (multiplier, left_shift) =
 *   QuantizeMultiplier(real) (left_shift >= 0);
 *   diff_min = -floor(31 * 2^26 / 2^left_shift) ... -floor((2^5 - 1) *
 *   2^26 / 2^left_shift).
 * The output is int8 at scale 1/256, zero point -128. */
typedef struct {
  int32_t multiplier;
  int left_shift;   /* 0..31 */
  int32_t diff_min; /* <= 0: input differences below it give probability 0 (-128) */
} nnfm_softmax_params;

/* NNFM_ERR_RANGE: s_in or beta not positive and finite, or beta * s_in *
 * 2^26 <= 1 (TFLite's QuantizeMultiplierGreaterThanOne refuses it). */
int nnfm_softmax_prepare(double s_in, double beta, nnfm_softmax_params *p);

/* The exp term of every input difference d = x - max(row) = -i, i = 0..255:
 *   table[i] = exp_on_negative_values(SRDHM(d * 2^left_shift, multiplier))
 *              (Q0.31) when d >= diff_min, else 0.
 * An int8 row's differences take only these 256 values, so the device
 * holds this table (filled by the host) instead of the exp routine. */
int nnfm_softmax_table(const nnfm_softmax_params *p, int32_t table[256]);

/* One row of n int8 values (1 <= n <= 4095) -> n int8 probabilities,
 * through the table (the device's rule):
 *   m = max(x), e_j = table[m - x_j]
 *   sum = sum_j rdbpot(e_j, 12)                          (Q12.19)
 *   c = clz32(sum), nbou = 12 - c
 *   inv = one_over_one_plus_x((sum << c) - 2^31)         (Q0.31)
 *   y_j = clamp(rdbpot(srdhm(inv, e_j), nbou + 23) - 128, -128, 127)
 * (rdbpot's exponent above 31 rounds exactly: 0 here). NNFM_ERR_RANGE for
 * n outside 1..4095. */
int nnfm_softmax(const int32_t table[256], const int8_t *x, int n, int8_t *y);
/* The row values nnfm_softmax computes on the way: the sum of the table
 * terms and the reciprocal inv (Q0.31); the row unit's testbench checks
 * them inside the RTL. Same arguments and errors (x, n). */
int nnfm_softmax_stats(const int32_t table[256], const int8_t *x, int n, int32_t *sum, int32_t *inv);

/* The same row computed as TFLite's reference kernel writes it (the exp
 * routine on every element, no table): the definition the table form is
 * proved equal to (tests/unit/test_attn_numerics.c). */
int nnfm_softmax_ref(const nnfm_softmax_params *p, const int8_t *x, int n, int8_t *y);

/* ---- integer LayerNorm --------------------------------------------------------
 * floor(sqrt(v)) exactly, for every uint64 v. */
uint64_t nnfm_isqrt(uint64_t v);

/* LayerNorm over one token of d int8 values (1 <= d <= 1024) at input
 * zero point zp_in, per channel j (docs/numerics.md, "LayerNorm"):
 *   u_j = x_j - zp_in,  S = sum u,  Q = sum u^2,  T = d*Q - S^2    (= d^2 var)
 *   r   = isqrt((T << 24) + eps_q)                          (4096 sqrt(d^2 (var + eps)))
 *   k   = max(0, bitlength(r) - 13)                         (inv keeps 24 bits)
 *   inv = r ? floor((2^(36+k) + r/2) / r) : 0               (one division a row)
 *   a_j = (sign_j (d*u_j - S) * inv + 2^(k-1)) >> k          (xhat * 2^24, |a| < 2^30; no 2^(k-1) at k = 0)
 *   z_j = requantize(a_j, m0_j, shift_j, 0, -2^25, 2^25)     (256 * gamma xhat / s_out)
 *   y_j = requantize(z_j + bias_j, 2^30, -7, zp_out, -128, 127)     ((z + bias + 128) >> 8)
 * The parameters come from nnfm_layernorm_prepare. */
typedef struct {
  int d;
  int64_t eps_q;   /* round(2^24 d^2 eps / s_in^2), 0 .. 2^62 */
  int32_t zp_out;
  int32_t *m0;     /* d each: |gamma_j| * 2^-16 / s_out as (m0, shift) */
  int8_t *shift;
  int8_t *sign;    /* sign of gamma_j: -1, 0, 1 */
  int32_t *bias;   /* round(256 * beta_j / s_out), clamped to +-2^24 */
} nnfm_layernorm_params;

/* Fill p (its arrays of d entries allocated by the caller) from the real
 * parameters. NNFM_ERR_RANGE for d outside 1..1024, scales not positive
 * and finite, eps < 0, a multiplier |gamma| 2^-16 / s_out >= 2^30 or a
 * non-finite gamma or beta. */
int nnfm_layernorm_prepare(int d, double s_in, double eps, const float *gamma, const float *beta, double s_out,
                           int32_t zp_out, nnfm_layernorm_params *p);
int nnfm_layernorm(const nnfm_layernorm_params *p, const int8_t *x, int32_t zp_in, int8_t *y);

/* nnfm_layernorm in its two steps, the device's ROW LAYERNORM rule (the
 * row unit computes the row's constants once, then one element a cycle):
 * a token's S, k and inv from its d values (1 <= d <= 1024, 0 <= eps_q <=
 * 2^62, zp_in int8; else NNFM_ERR_RANGE), and one output y_j from x_j and
 * channel j's parameters. The element rule adds z_j + bias_j modulo 2^32
 * (prepared parameters never wrap: |bias| <= 2^24), and a (m0, shift)
 * outside the requantization contract acts as m0 = 0 (nnfm_requantize). */
typedef struct {
  int d;
  int64_t S;        /* sum of u = x - zp_in */
  int k;            /* inv's scale: 0 .. 19 */
  int64_t inv;      /* 0 .. 2^24, or up to 2^36 when T = 0 and eps_q < 2^24
                       (then every c is 0, so the device keeps only inv's low
                       25 bits and every output is the same) */
} nnfm_ln_row;
int nnfm_layernorm_row(int d, int64_t eps_q, const int8_t *x, int32_t zp_in, nnfm_ln_row *r);
int8_t nnfm_layernorm_elem(const nnfm_ln_row *r, int8_t x, int32_t zp_in, int sign, int32_t m0, int shift,
                           int32_t bias, int32_t zp_out);

/* ---- the product of two int8 activations ----------------------------------------
 * out[m][n] = requantize(sum_k (a[m][k] - za) * (b(k, n) - zb), m0, shift,
 * zp, lo, hi), the sum in wrapping int32 (the accumulator rule: exact for
 * K * 255 * 255 < 2^31), a[m][k] at a + m*lda + k, b(k, n) at b + k*sbk +
 * n*sbn (K^T: sbk = 1, sbn = the row stride; V: sbk = the row stride, sbn
 * = 1), out[m][n] at out + m*ldo + n. Attention's Q K^T (za = zb = 0) and
 * P V (za = -128, zb = 0). */
typedef struct {
  int M, K, N;
  int32_t za, zb;
  int32_t m0;
  int shift;
  int32_t zp, lo, hi;
} nnfm_matmul_args;
int nnfm_matmul_act(const nnfm_matmul_args *g, const int8_t *a, int lda, const int8_t *b, int sbk, int sbn,
                    int8_t *out, int ldo);

#ifdef __cplusplus
}
#endif

#endif /* NNFM_ATTN_H */
