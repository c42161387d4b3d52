/*
 * gen_requant_cases.c - requantization cases for tb_requant.v (nnf_requant
 * with TFL_ROUND = 1 against nnfm_requantize_r, both roundings, bit for bit).
 *
 *   gen_requant_cases SEED NCASES OUT.hex
 *
 * Writes $readmemh 32-bit words: the case count, then per case acc,
 * m0 | rnd << 31, shift << 24 | zp << 16 | lo << 8 | hi, the expected q.
 * The cases:
 *   - every shift -31..30 in both roundings with m0 a power of two 2^p and
 *     acc built so that the product's bits that decide the two roundings
 *     take their critical values: bit 30 (TFLite's first rounding), the
 *     bits 31 .. k-2 (the second's remainder) all ones or all zeros, the
 *     sign; plus random low bits (ties and near-ties of both roundings);
 *   - random acc (full range, small, extremes) and m0 (random in
 *     [2^30, 2^31), 0, 2^31 - 1, small), shifts weighted to the negative
 *     ones TFLite uses;
 *   - zero points and clamps random, a quarter of them narrow, so the
 *     saturation paths are hit.
 * It prints how many cases the two roundings disagree on, and exits 1 when
 * fewer than one in twenty do (the cases would not exercise the difference).
 */
#include <stdio.h>
#include <stdlib.h>

#include "nnf_test.h"
#include "nnfm.h"

static int32_t pick_m0(nnf_rng *r) {
  int c = (int)nnf_rng_range(r, 0, 9);
  if (c < 2) return (int32_t)1 << nnf_rng_range(r, 0, 30);
  if (c == 6) return 0;
  if (c == 7) return INT32_MAX;
  if (c == 8) return (int32_t)nnf_rng_range(r, 1, 1000);
  return (int32_t)nnf_rng_range(r, (int64_t)1 << 30, INT32_MAX);
}

/* acc and m0 = 2^p with the product acc * 2^p shaped around the decision
 * bits of shift s: R = product bits 31 .. k-2 (acc bits 31-p .. k-2-p, so
 * p >= k - 32 keeps R below the sign) all ones or all zeros, bit 30 and
 * the sign chosen so that e = p[30] - p[63] is +1, -1 or 0. */
static int32_t shaped_acc(nnf_rng *r, int s, int32_t *m0) {
  int k = 31 - s;
  int p = (int)nnf_rng_range(r, k - 32 > 0 ? k - 32 : 0, 30);
  *m0 = (int32_t)1 << p;
  uint32_t a = nnf_rng_u32(r);
  int neg = (int)nnf_rng_range(r, 0, 1);
  int mode = (int)nnf_rng_range(r, 0, 3); /* 0 R ones, 1 R zeros, else random */
  int b30 = (int)nnf_rng_range(r, 0, 1);
  if (mode == 0) b30 = nnf_rng_range(r, 0, 3) ? !neg : b30; /* mostly e = +1 */
  if (mode == 1) b30 = nnf_rng_range(r, 0, 3) ? !neg : b30; /* mostly e = -1 */
  for (int b = 31 - p; b <= k - 2 - p && b < 31; b++) {
    if (b < 0) continue;
    if (mode == 0) a |= 1u << b;
    else if (mode == 1) a &= ~(1u << b);
  }
  if (30 - p >= 0) {
    if (b30) a |= 1u << (30 - p);
    else a &= ~(1u << (30 - p));
    /* now and then the product's bits below 30 all zero: exact ties */
    if (nnf_rng_range(r, 0, 3) == 0) a &= ~((1u << (30 - p)) - 1u);
  }
  /* the magnitude: bits from a point a little above R copy the sign, so
   * that y stays mostly inside int8 (|y| < 2^(top + p - k)) */
  int top = k - 1 - p + (int)nnf_rng_range(r, 0, 9);
  top = top < 0 ? 0 : top > 31 ? 31 : top;
  uint32_t m = top >= 31 ? 0x7fffffffu : ((1u << top) - 1u);
  a = neg ? (a | ~m) : (a & m);
  return (int32_t)a;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: gen_requant_cases SEED NCASES OUT.hex\n");
    return 2;
  }
  nnf_rng r = nnf_rng_seed(strtoull(argv[1], NULL, 0));
  long n = strtol(argv[2], NULL, 0);
  FILE *f = fopen(argv[3], "w");
  if (!f || n < 1) {
    fprintf(stderr, "gen_requant_cases: cannot write %s\n", argv[3]);
    return 2;
  }
  fprintf(f, "%08lx\n", (unsigned long)n);
  long differ = 0;
  for (long i = 0; i < n; i++) {
    int s, rnd = nnf_rng_range(&r, 0, 3) != 0;
    if (i < 62 * 2 * 40) {
      s = (int)(i / 80) % 62 - 31; /* every shift, both roundings, 40 each */
      rnd = (int)(i / 40) % 2;
    } else {
      s = nnf_rng_range(&r, 0, 3) ? (int)nnf_rng_range(&r, -31, -1) : (int)nnf_rng_range(&r, -31, 30);
    }
    int32_t m0 = pick_m0(&r), acc;
    int c = (int)nnf_rng_range(&r, 0, 9);
    if (c < 6) acc = shaped_acc(&r, s, &m0);
    else if (c < 8) acc = (int32_t)nnf_rng_u32(&r);
    else if (c < 9) acc = (int32_t)nnf_rng_range(&r, -70000, 70000);
    else acc = nnf_rng_range(&r, 0, 1) ? INT32_MIN : INT32_MAX;
    int32_t zp = nnf_rng_i8(&r), lo = -128, hi = 127;
    if (nnf_rng_range(&r, 0, 3) == 0) {
      lo = nnf_rng_i8(&r), hi = nnf_rng_i8(&r);
      if (lo > hi) { int32_t t = lo; lo = hi; hi = t; }
    }
    if (nnf_rng_range(&r, 0, 3) == 0) zp = 0;
    int32_t q = nnfm_requantize_r(acc, m0, s, zp, lo, hi, rnd ? NNFM_ROUND_TFLITE : NNFM_ROUND_SINGLE);
    int32_t q1 = nnfm_requantize_r(acc, m0, s, zp, lo, hi, NNFM_ROUND_SINGLE);
    int32_t q2 = nnfm_requantize_r(acc, m0, s, zp, lo, hi, NNFM_ROUND_TFLITE);
    differ += q1 != q2;
    fprintf(f, "%08x\n%08x\n%02x%02x%02x%02x\n%08x\n", (uint32_t)acc,
            (uint32_t)m0 | (rnd ? 0x80000000u : 0u), (uint8_t)s, (uint8_t)zp, (uint8_t)lo, (uint8_t)hi,
            (uint32_t)(uint8_t)q);
  }
  fclose(f);
  printf("gen_requant_cases: %ld cases, the two roundings differ on %ld\n", n, differ);
  return differ * 20 < n ? 1 : 0;
}
