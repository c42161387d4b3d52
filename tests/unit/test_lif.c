/*
 * test_lif.c - the LIF neuron update (sim/model/nnfm_lif.c, docs/numerics.md
 * "LIF neurons") on values worked out by hand from Lava's published
 * equations for PyLifModelBitAcc (lava-nc/lava, AbstractPyLifModelFixed):
 *
 *   u' = sign(p) * (|p| >> 12) + (a << 6),  p = u * (4096 - (du + 1))
 *        u' > 2^23 -> u' - 2^24;  u' <= -2^23 -> u' + 2^24
 *   v' = clip(sign(q) * (|q| >> 12) + u' + (bias_mant << bias_exp), -(2^23-1), 2^23-1),
 *        q = v * (4096 - dv)
 *   spike = v' > (vth << 6); spike -> v' = 0
 *
 * plus the two documented extensions (reset by subtraction, refractory) and
 * the du = 4095 snnTorch Leaky equivalence. Every expected value below is
 * derived in the comment next to it.
 */
#include "nnf_test.h"
#include "nnfm.h"
#include "nnfm_lif.h"

#define TWO23 8388608 /* 2^23 */

/* Parameters that never spike (threshold 131071 << 6 = 8388544) unless a
 * test asks for it. */
static nnfm_lif_params quiet(uint16_t du, uint16_t dv) {
  nnfm_lif_params p;
  p.du = du;
  p.dv = dv;
  p.vth = 131071;
  p.bias_mant = 0;
  p.bias_exp = 0;
  p.reset_sub = 0;
  p.refractory = 0;
  return p;
}

static nnfm_lif_state st(int32_t u, int32_t v, uint8_t ref) {
  nnfm_lif_state s;
  s.u = u;
  s.v = v;
  s.ref = ref;
  return s;
}

static void test_decay_truncation(void) {
  nnfm_lif_params p = quiet(0, 0); /* u decays by 4095/4096, v does not decay */
  nnfm_lif_state s = st(1000, 0, 0);
  /* 1000 * 4095 = 4095000; 4095000 >> 12 = 999 (999.76) */
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 0);
  CHECK_EQ(s.u, 999);
  CHECK_EQ(s.v, 999); /* v' = 0 + u' */
  s = st(-1000, 0, 0);
  /* -4095000: magnitude >> 12 = 999, sign back: -999 (a floor would give -1000) */
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.u, -999);
  CHECK_EQ(s.v, -999);
  /* du = 2047: multiplier 4096 - 2048 = 2048, a halving: 3 -> 1 (1.5), -3 -> -1 (-1.5) */
  p = quiet(2047, 0);
  s = st(3, 0, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.u, 1);
  s = st(-3, 0, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.u, -1);
  /* v: dv = 2048 halves v: -3 -> -1, 5 -> 2, -5 -> -2 (u = 0, du = 4095 keeps u' = 64 a = 0) */
  p = quiet(4095, 2048);
  s = st(0, -3, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.v, -1);
  s = st(0, 5, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.v, 2);
  s = st(0, -5, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.v, -2);
  /* dv = 0: no leak at all, v' = v + u' exactly */
  p = quiet(4095, 0);
  s = st(0, -12345, 0);
  nnfm_lif_step(&p, &s, 3); /* u' = 192 */
  CHECK_EQ(s.u, 192);
  CHECK_EQ(s.v, -12345 + 192);
  /* dv = 4095: v keeps 1/4096: 100000 -> 24 (24.41), -100000 -> -24 */
  p = quiet(4095, 4095);
  s = st(0, 100000, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.v, 24);
  s = st(0, -100000, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.v, -24);
}

static void test_input_shift(void) {
  nnfm_lif_params p = quiet(4095, 4095);
  nnfm_lif_state s = st(0, 0, 0);
  nnfm_lif_step(&p, &s, 1);
  CHECK_EQ(s.u, 64);
  nnfm_lif_step(&p, &s, -128);
  CHECK_EQ(s.u, -8192);
  nnfm_lif_step(&p, &s, 127);
  CHECK_EQ(s.u, 8128);
  /* du = 0 keeps 4095/4096 of u: 8128 * 4095 = 33284160, >> 12 = 8126 (8126.02); + 64 */
  p = quiet(0, 4095);
  nnfm_lif_step(&p, &s, 1);
  CHECK_EQ(s.u, 8126 + 64);
}

/* Lava's wrap leaves u' = +2^23 alone (only u' > 2^23 wraps) and turns
 * u' = -2^23 into +2^23. */
static void test_u_overflow_corner(void) {
  nnfm_lif_params p = quiet(0, 0);
  /* u = 8382527: 8382527 * 4095 = 34326448065; >> 12 = 8380480 (.48).
   * + 127 * 64 = 8128: u' = 8388608 = 2^23 exactly: kept. */
  nnfm_lif_state s = st(8382527, 0, 0);
  int sp = nnfm_lif_step(&p, &s, 127);
  CHECK_EQ(s.u, TWO23);
  /* v' = 0 + 2^23 -> clipped to 2^23 - 1 = 8388607 > 8388544 = 131071 << 6: spike, v = 0 */
  CHECK_EQ(sp, 1);
  CHECK_EQ(s.v, 0);
  /* From u = 2^23: 2^23 * 4095 / 4096 = 2^23 - 2^11 = 8386560 exactly; + 8128 = 8394688
   * > 2^23: wraps to 8394688 - 2^24 = -8382528. v' = 0 - 8382528. */
  sp = nnfm_lif_step(&p, &s, 127);
  CHECK_EQ(s.u, -8382528);
  CHECK_EQ(s.v, -8382528);
  CHECK_EQ(sp, 0);
  /* One above the corner: u = 8382528 decays to 8380481 (8382528 * 4095 >> 12 = 8380481.5 -> 8380481);
   * + 8128 = 8388609 = 2^23 + 1 -> 2^23 + 1 - 2^24 = -8388607. */
  s = st(8382528, 0, 0);
  nnfm_lif_step(&p, &s, 127);
  CHECK_EQ(s.u, -8388607);
  /* Negative side: u = -8382527 decays to -8380480; - 8128 = -8388608 = -2^23:
   * <= -2^23, so + 2^24: u' = +2^23 (the other way to reach the corner). */
  s = st(-8382527, 0, 0);
  sp = nnfm_lif_step(&p, &s, -127);
  CHECK_EQ(s.u, TWO23);
  CHECK_EQ(sp, 1); /* v' = clip(2^23) = 8388607 > 8388544 */
  /* u = -8382526 decays to -8380479 (8382526 * 4095 >> 12 = 8380479.5); - 8128 = -8388607:
   * > -2^23, kept. */
  s = st(-8382526, 0, 0);
  nnfm_lif_step(&p, &s, -127);
  CHECK_EQ(s.u, -8388607);
  /* u = -8382528 -> -8380481 - 8192 (a = -128) = -8388673 -> + 2^24 = 8388543 */
  s = st(-8382528, 0, 0);
  nnfm_lif_step(&p, &s, -128);
  CHECK_EQ(s.u, 8388543);
  /* The corner value itself decays like any other: u = -2^23 (not reachable
   * by the wrap, but a state the host may write): -8386560 + 0, kept. */
  s = st(-TWO23, 0, 0);
  nnfm_lif_step(&p, &s, 0);
  CHECK_EQ(s.u, -8386560);
}

static void test_v_clamp(void) {
  /* du = 4095: u' = 64 a. dv = 0: v' = v + u' before the clip. */
  nnfm_lif_params p = quiet(4095, 0);
  nnfm_lif_state s = st(0, -8388607, 0);
  nnfm_lif_step(&p, &s, -128); /* -8388607 - 8192 -> clipped to -(2^23 - 1) */
  CHECK_EQ(s.v, -8388607);
  s = st(0, -8388600, 0);
  nnfm_lif_step(&p, &s, -1); /* -8388600 - 64 = -8388664 -> -8388607 */
  CHECK_EQ(s.v, -8388607);
  s = st(0, -8388543, 0);
  nnfm_lif_step(&p, &s, -1); /* -8388543 - 64 = -8388607: exactly the bound, kept */
  CHECK_EQ(s.v, -8388607);
  /* Positive clip with no spike possible: vth = 131071 is 8388544 < 8388607, so
   * a clipped v always spikes; with reset_sub it keeps 8388607 - 8388544 = 63. */
  p.reset_sub = 1;
  s = st(0, 8388000, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 127), 1); /* 8388000 + 8128 -> 8388607 -> spike -> 63 */
  CHECK_EQ(s.v, 63);
}

static void test_threshold(void) {
  nnfm_lif_params p = quiet(4095, 0);
  p.vth = 1; /* threshold 64 */
  nnfm_lif_state s = st(0, 0, 0);
  /* v' = 64: not > 64 */
  CHECK_EQ(nnfm_lif_step(&p, &s, 1), 0);
  CHECK_EQ(s.v, 64);
  /* v' = 64 + 64 = 128 > 64: spike, reset to 0 */
  CHECK_EQ(nnfm_lif_step(&p, &s, 1), 1);
  CHECK_EQ(s.v, 0);
  CHECK_EQ(s.u, 64); /* u is never reset */
  /* vth = 0: threshold 0, v' = 1 (the bias) spikes; v' = 0 does not */
  p.vth = 0;
  p.bias_mant = 1;
  s = st(0, 0, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 1);
  p.bias_mant = 0;
  s = st(0, 0, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 0);
  /* negative v never spikes at vth = 0 */
  s = st(0, -5, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 0);
  CHECK_EQ(s.v, -5);
  /* the largest threshold: 131071 << 6 = 8388544; v' = 8388544 no, 8388545 yes */
  p.vth = 131071;
  s = st(0, 8388544 - 64, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 1), 0);
  CHECK_EQ(s.v, 8388544);
  s = st(0, 8388545 - 64, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 1), 1);
  CHECK_EQ(s.v, 0);
}

static void test_reset_subtract(void) {
  nnfm_lif_params p = quiet(4095, 0);
  p.vth = 1; /* 64 */
  p.reset_sub = 1;
  nnfm_lif_state s = st(0, 0, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 2), 1); /* v' = 128 > 64 -> 128 - 64 = 64 */
  CHECK_EQ(s.v, 64);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 0); /* v' = 64: not > 64 */
  CHECK_EQ(s.v, 64);
  CHECK_EQ(nnfm_lif_step(&p, &s, 5), 1); /* 64 + 320 = 384 -> 320 (one subtraction only) */
  CHECK_EQ(s.v, 320);
}

static void test_refractory(void) {
  nnfm_lif_params p = quiet(4095, 0);
  p.vth = 0;
  p.bias_mant = 1; /* v' = v + 64 a + 1 */
  p.refractory = 2;
  nnfm_lif_state s = st(0, 0, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 1); /* v' = 1 > 0: spike, v = 0, ref = 2 */
  CHECK_EQ(s.ref, 2);
  CHECK_EQ(s.v, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 3), 0); /* refractory: u integrates, v held */
  CHECK_EQ(s.u, 192);
  CHECK_EQ(s.v, 0);
  CHECK_EQ(s.ref, 1);
  CHECK_EQ(nnfm_lif_step(&p, &s, 1), 0);
  CHECK_EQ(s.u, 64);
  CHECK_EQ(s.v, 0);
  CHECK_EQ(s.ref, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 1); /* free again: v' = 0 + 0 + 1 */
  CHECK_EQ(s.ref, 2);
  /* with reset_sub the held value is v - threshold */
  p.vth = 1;
  p.reset_sub = 1;
  p.refractory = 1;
  s = st(0, 0, 0);
  CHECK_EQ(nnfm_lif_step(&p, &s, 3), 1); /* 192 + 1 = 193 > 64 -> 129 */
  CHECK_EQ(s.v, 129);
  CHECK_EQ(nnfm_lif_step(&p, &s, 3), 0); /* held at 129 though 129 > 64 */
  CHECK_EQ(s.v, 129);
  CHECK_EQ(nnfm_lif_step(&p, &s, 0), 1); /* 129 + 0 + 1 = 130 -> 66 */
  CHECK_EQ(s.v, 66);
}

static void test_bias(void) {
  nnfm_lif_params p = quiet(4095, 0);
  struct { int16_t mant; uint8_t exp; int32_t bias; } c[] = {
      {1, 0, 1}, {-1, 0, -1}, {-3, 2, -12}, {5, 3, 40},
      {4095, 7, 524160}, {-4096, 7, -524288}, {-4096, 0, -4096}, {0, 7, 0},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    nnf_test_ctx("bias %d << %u", c[i].mant, c[i].exp);
    p.bias_mant = c[i].mant;
    p.bias_exp = c[i].exp;
    nnfm_lif_state s = st(0, 0, 0);
    nnfm_lif_step(&p, &s, 0);
    CHECK_EQ(s.v, c[i].bias);
    CHECK_EQ(s.u, 0); /* the bias goes to v, not u */
  }
  nnf_test_ctx("");
}

/* du = 4095: u' = a << 6 whatever u was (no current memory), so v follows
 * snnTorch's Leaky neuron mem' = beta * mem + x with beta = 1 - dv / 4096 and
 * x = 64 a, up to the truncation of beta * mem toward zero (the integer
 * trajectory stays within 1 / (1 - beta) of the real one). */
static void test_snntorch_leaky(void) {
  nnfm_lif_params p = quiet(4095, 1024); /* beta = 0.75 */
  nnfm_lif_state s = st(123456, 0, 0);
  nnf_rng rng = nnf_rng_seed(7);
  double mem = 0;
  for (int t = 0; t < 200; t++) {
    int32_t a = (int32_t)nnf_rng_range(&rng, -128, 127);
    nnfm_lif_step(&p, &s, a);
    mem = 0.75 * mem + 64.0 * a;
    CHECK_EQ(s.u, 64 * a);
    double err = (double)s.v - mem;
    CHECK(err < 4.0 + 1e-9 && err > -4.0 - 1e-9);
  }
  /* one step by hand: v = -7, a = 1: 0.75 * -7 = -5.25 -> -5; + 64 = 59 */
  s = st(0, -7, 0);
  nnfm_lif_step(&p, &s, 1);
  CHECK_EQ(s.v, 59);
}

static void test_layer_and_check(void) {
  nnfm_lif_params p = quiet(4095, 0);
  p.vth = 1;
  nnfm_lif_state s[3] = {st(0, 0, 0), st(0, 100, 0), st(0, -100, 0)};
  int8_t a[3] = {2, 0, 1}, out[3] = {9, 9, 9};
  uint32_t counts[3] = {5, 5, 5};
  nnfm_lif_layer(&p, s, a, out, counts, 3);
  /* 128 > 64 spike; 100 > 64 spike; -100 + 64 = -36 no */
  CHECK_EQ(out[0], 1);
  CHECK_EQ(out[1], 1);
  CHECK_EQ(out[2], 0);
  CHECK_EQ(counts[0], 6);
  CHECK_EQ(counts[1], 6);
  CHECK_EQ(counts[2], 5);
  nnfm_lif_layer(&p, s, a, out, NULL, 3);

  CHECK_EQ(nnfm_lif_params_check(&p), NNFM_OK);
  CHECK_EQ(nnfm_lif_params_check(NULL), NNFM_ERR_NULL);
  nnfm_lif_params q = p;
  q.du = 4096;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.dv = 4096;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.vth = 131072;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q.vth = -1;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.bias_mant = 4096;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q.bias_mant = -4097;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.bias_exp = 8;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.reset_sub = 2;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.refractory = 16;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_ERR_RANGE);
  q = p;
  q.du = q.dv = 4095;
  q.vth = 131071;
  q.bias_mant = -4096;
  q.bias_exp = 7;
  q.reset_sub = 1;
  q.refractory = 15;
  CHECK_EQ(nnfm_lif_params_check(&q), NNFM_OK);
}

/* An independent restatement of Lava's equations in 64-bit arithmetic with
 * C's truncating division (which is sign(x) * (|x| >> 12) for a divisor of
 * 4096), over random states, inputs and parameters. */
static void test_random_against_equations(void) {
  nnf_rng rng = nnf_rng_seed(2024);
  for (int i = 0; i < 200000; i++) {
    nnfm_lif_params p;
    p.du = (uint16_t)nnf_rng_range(&rng, 0, 4095);
    p.dv = (uint16_t)nnf_rng_range(&rng, 0, 4095);
    p.vth = (int32_t)nnf_rng_range(&rng, 0, 131071);
    p.bias_mant = (int16_t)nnf_rng_range(&rng, -4096, 4095);
    p.bias_exp = (uint8_t)nnf_rng_range(&rng, 0, 7);
    p.reset_sub = (uint8_t)nnf_rng_range(&rng, 0, 1);
    p.refractory = 0;
    int64_t u = nnf_rng_range(&rng, -TWO23 + 1, TWO23);
    int64_t v = nnf_rng_range(&rng, -TWO23 + 1, TWO23 - 1);
    int32_t a = (int32_t)nnf_rng_range(&rng, -128, 127);
    nnfm_lif_state s = st((int32_t)u, (int32_t)v, 0);
    int sp = nnfm_lif_step(&p, &s, a);
    int64_t u2 = (u * (4096 - (p.du + 1))) / 4096 + a * 64;
    if (u2 > TWO23) u2 -= 2 * (int64_t)TWO23;
    else if (u2 <= -TWO23) u2 += 2 * (int64_t)TWO23;
    int64_t v2 = (v * (4096 - p.dv)) / 4096 + u2 + (int64_t)p.bias_mant * (1 << p.bias_exp);
    if (v2 > TWO23 - 1) v2 = TWO23 - 1;
    if (v2 < -(TWO23 - 1)) v2 = -(TWO23 - 1);
    int sp2 = v2 > (int64_t)p.vth * 64;
    if (sp2) v2 = p.reset_sub ? v2 - (int64_t)p.vth * 64 : 0;
    nnf_test_ctx("case %d: u %lld v %lld a %d du %u dv %u", i, (long long)u, (long long)v, a, p.du, p.dv);
    CHECK_EQ(s.u, u2);
    CHECK_EQ(s.v, v2);
    CHECK_EQ(sp, sp2);
  }
  nnf_test_ctx("");
}

int main(void) {
  test_decay_truncation();
  test_input_shift();
  test_u_overflow_corner();
  test_v_clamp();
  test_threshold();
  test_reset_subtract();
  test_refractory();
  test_bias();
  test_snntorch_leaky();
  test_layer_and_check();
  test_random_against_equations();
  return nnf_test_done("test_lif");
}
