/*
 * gen_ln_cases.c - ROW LAYERNORM cases for tb_vu_ln.v (rtl/core/nnf_vu_ln.v
 * against the functional model, bit for bit).
 *
 *   gen_ln_cases ROWS ACT_AW P_AW SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu_ln
 * with ROWS, ACT_AW, P_AW, the hex file's path and its length.
 *
 * Each case runs nnfm_engine_row (op NNFM_ROW_LAYERNORM) on a model engine
 * (rows = cols = ROWS, act_words = 2^ACT_AW, p_words = 2^P_AW) whose whole
 * ACT and P (biases, m0, shifts) are random garbage first:
 *   shape     N (d) 1 .. 4*ROWS+3 (a quarter multiples of ROWS), M 1..5;
 *             1/10 with N up to 300, 1/40 with N up to 1024 (a third of
 *             those exactly 1024; as ACT and P allow), M 1..2; ~2% with N
 *             or M = 0 (touches nothing, done in cycle 2)
 *   bases     A and O disjoint (random gaps, either order), or O == A (a
 *             third); p_base uniform, a fifth at P's end exactly
 *   params    the CT entries from p_base: 11/20 realistic
 *             (nnfm_layernorm_prepare with d = N: random s_in, s_out,
 *             gammas of both signs, a tenth 0, betas; an eighth with
 *             gammas so large that z and y saturate), 3/20 hostile (every
 *             lane's m0 and bias arbitrary 32 bits, its shift arbitrary:
 *             mostly outside -31..30, which acts as m0 = 0), 6/20 realistic
 *             with a quarter of the channels hostile; the lanes of channels
 *             >= N stay garbage (the unit must not use them)
 *   eps_q     the prepared one (eps 0, 1e-12, 1e-6, 1e-5, 1e-3 or 1) in
 *             4/5 of the cases, else huge: 2^b-ish for b up to 62, or 2^62
 *   zp        zp_in, zp_out uniform int8, -128 or 127 a tenth each
 *   data      per row: uniform; all equal (variance 0: with eps_q 0, r =
 *             inv = 0); -128 / 127 alternating; near zp_in (u in -3..3);
 *             all -128 but one 127 (|c| near its bound)
 *   abort     ~6% of the cases, half of them between a row's passes (the
 *             square root and the division; half of those around S_K, the
 *             longest latency); reset ~3% of the others, half of them in
 *             pass 1 (bytes in the element pipeline), and always one in
 *             pass 1 of the middle case (the case after an abort or a
 *             reset is a plain one)
 *   gap       idle cycles between done and the next start: 0 (start in the
 *             cycle done is high) in 40%, else 1..3 (abort pulsed while
 *             idle in 1/8 of the cases)
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case NF
 * fields of 2 words each (F_* below), the A words (F_WORDS = CT*M words
 * from a_base), the expected O words (F_WORDS from o_base), F_NP P entries
 * from p_base (per lane, lane 0 first: bias, m0, shift (sign-extended), 2
 * words each) and F_NREC rows' constants (S, k, inv, r: 2 words each, as
 * nnfm_layernorm_row computes them; r = isqrt((T << 24) + eps_q)). inv is
 * written modulo 2^25, the width of the unit's register: it is at most 2^24
 * but when T = 0 and eps_q < 2^24 (r < 2^12; then inv reaches 2^36), and T
 * = 0 only when every u of the row is the same, so that every c is 0 and
 * inv multiplies nothing but 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_cases.h"
#include "nnf_test.h"
#include "nnfm.h"
#include "nnfm_attn.h"

enum {
  F_N, F_M, F_ZPIN, F_ZPOUT, F_EPSLO, F_EPSHI, F_ABASE, F_OBASE, F_PBASE, F_WORDS, F_NP, F_CYCLES, F_ABORT,
  F_RESET, F_GAP, F_IABORT, F_MODE, F_NREC, NF
};

/* nnf_vu_ln's cycles from start to done, as its header's "Timing" states:
 * M * (2*CT*(ROWS + 3) + LN_CYC_ROW) + LN_CYC_ADD, or LN_CYC_EMPTY when N
 * or M is 0 (57 division steps, it_q 0 .. 56; done one cycle after the
 * last row's S_END). */
#define LN_CYC_ROW 102
#define LN_CYC_ADD 1
#define LN_CYC_EMPTY 2
/* the cycles before a row's pass 1 (its pass 0 is CT*(ROWS+3) of them):
 * the sums' last term, T, 32 root steps, k, 57 division steps; an abort in
 * pass-0-end + LN_CYC_K is sampled in S_K (done 59 cycles later) */
#define LN_CYC_MID 92
#define LN_CYC_K 35

static nnf_rng rng;
static struct {
  int pmodes[3], data[5], eps_huge, eps_zero, ragged, tiles, long_rows, n1024, empty, in_place, p_end, aborts,
      aborts_mid, resets, resets_p1;
  uint64_t bytes, sat_hi, sat_lo, zero_inv, hostile_lanes;
} cov;
static int R;
static uint32_t A, PW; /* ACT words, P entries */
static gen_hex hex;

static int64_t rnd(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }
static double frac(void) { return nnf_rng_unit(&rng); }

static int32_t zp(void) {
  const int k = (int)rnd(0, 9);
  return k == 0 ? -128 : k == 1 ? 127 : (int32_t)rnd(-128, 127);
}

/* one lane's hostile parameters: arbitrary m0 (bit 31 the sign) and bias, a
 * shift outside -31..30 three times in four */
static void hostile(int32_t *bias, int32_t *m0, int8_t *shift) {
  *bias = (int32_t)nnf_rng_u32(&rng), *m0 = (int32_t)nnf_rng_u32(&rng);
  *shift = rnd(0, 3) ? (int8_t)(rnd(0, 1) ? rnd(31, 127) : rnd(-128, -32)) : (int8_t)rnd(-31, 30);
  cov.hostile_lanes++;
}

/* the CT P entries from p_base (lanes of channels < n); 0 or -1 (prepare refused) */
static int params(nnfm_engine *e, const nnfm_row_cmd *c, int pmode, int64_t *eps_q) {
  static float gamma[NNFM_ROW_LN_N_MAX], beta[NNFM_ROW_LN_N_MAX];
  static int32_t m0[NNFM_ROW_LN_N_MAX], bias[NNFM_ROW_LN_N_MAX];
  static int8_t shift[NNFM_ROW_LN_N_MAX], sign[NNFM_ROW_LN_N_MAX];
  const int d = (int)c->n;
  const double s_in = ldexp(1.0 + frac(), (int)rnd(-9, 0));
  const double s_out = ldexp(1.0 + frac(), (int)rnd(-8, -2));
  static const double epss[6] = {0, 1e-12, 1e-6, 1e-5, 1e-3, 1};
  const double eps = epss[rnd(0, 5)];
  /* |gamma| / s_out mostly 2^3 .. 2^7 (the outputs spread over int8), an
   * eighth of the cases up to 2^14 (z and y saturate); |beta| / s_out up to
   * 2^7 */
  const int sat = rnd(0, 7) == 0;
  const double gmax = s_out * ldexp(1.0 + frac(), sat ? (int)rnd(7, 13) : (int)rnd(3, 6));
  const double bmax = s_out * ldexp(1.0 + frac(), (int)rnd(0, 6));
  for (int j = 0; j < d; j++) {
    gamma[j] = rnd(0, 9) == 0 ? 0.0f : (float)((rnd(0, 1) ? -1 : 1) * gmax * (0.05 + frac()));
    beta[j] = (float)(bmax * (2 * frac() - 1));
  }
  nnfm_layernorm_params p = {.m0 = m0, .shift = shift, .sign = sign, .bias = bias};
  if (nnfm_layernorm_prepare(d, s_in, eps, gamma, beta, s_out, 0, &p) != NNFM_OK) return -1;
  *eps_q = p.eps_q;
  for (int j = 0; j < d; j++) {
    const size_t pi = ((size_t)c->p_base + (size_t)j / (size_t)R) * (size_t)R + (size_t)j % (size_t)R;
    if (pmode == 1 || (pmode == 2 && rnd(0, 3) == 0)) {
      hostile(&e->bias[pi], &e->m0[pi], &e->shift[pi]);
    } else {
      e->bias[pi] = p.bias[j], e->shift[pi] = p.shift[j];
      e->m0[pi] = (int32_t)((uint32_t)p.m0[j] | (p.sign[j] < 0 ? 0x80000000u : 0));
    }
  }
  return 0;
}

/* row data: 0 uniform, 1 all equal, 2 -128 / 127 alternating, 3 near zp_in, 4 all -128 but one 127 */
static void row_data(int8_t *x, uint32_t n, int mode, int32_t zp_in) {
  const int8_t base = (int8_t)rnd(-128, 127);
  const uint32_t one = (uint32_t)rnd(0, n - 1), ph = (uint32_t)rnd(0, 1);
  for (uint32_t j = 0; j < n; j++) {
    int v;
    switch (mode) {
    case 1: v = base; break;
    case 2: v = (j + ph) % 2 ? 127 : -128; break;
    case 3: v = zp_in + (int)rnd(-3, 3), v = v < -128 ? -128 : v > 127 ? 127 : v; break;
    case 4: v = j == one ? 127 : -128; break;
    default: v = (int)rnd(-128, 127); break;
    }
    x[j] = (int8_t)v;
  }
}

static int one_case(nnfm_engine *e, uint8_t *before, int plain, int force_reset) {
  nnfm_row_cmd c;
  memset(&c, 0, sizeof c);
  c.op = NNFM_ROW_LAYERNORM;
  c.n = (uint32_t)(rnd(0, 3) == 0 ? R * rnd(1, 4) : rnd(1, 4 * R + 3));
  c.m = (uint32_t)rnd(1, 5);
  const int64_t sh = rnd(0, 39);
  if (sh == 0) c.n = rnd(0, 2) ? (uint32_t)rnd(301, NNFM_ROW_LN_N_MAX) : NNFM_ROW_LN_N_MAX, c.m = (uint32_t)rnd(1, 2);
  else if (sh <= 4) c.n = (uint32_t)rnd(4 * R + 4, 300), c.m = (uint32_t)rnd(1, 3);
  const int in_place = rnd(0, 2) == 0;
  /* A (and O when disjoint) must fit ACT, the CT entries P */
  while ((uint64_t)((c.n + R - 1) / R) * (in_place ? 1 : 2) > A || (c.n + R - 1) / R > PW) c.n /= 2;
  if (force_reset && c.n == 0) c.n = 1;
  if (!force_reset && rnd(0, 49) == 0) {
    if (rnd(0, 1)) c.n = 0; else c.m = 0;
  }
  const uint32_t ct = (c.n + (uint32_t)R - 1) / (uint32_t)R;
  if (ct && (uint64_t)ct * c.m * (in_place ? 1 : 2) > A) c.m = A / (in_place ? 1 : 2) / ct;
  if (c.n && !c.m) return 0;
  const uint32_t words = ct * c.m;
  int pe = 0;
  if (words) {
    if (in_place) {
      c.a_base = c.o_base = (uint32_t)rnd(0, A - words);
    } else {
      uint32_t lo = (uint32_t)rnd(0, A - 2 * words), hi = lo + words + (uint32_t)rnd(0, A - 2 * words - lo);
      if (rnd(0, 1)) c.a_base = lo, c.o_base = hi; else c.a_base = hi, c.o_base = lo;
    }
    pe = rnd(0, 4) == 0;
    c.p_base = pe ? PW - ct : (uint32_t)rnd(0, PW - ct);
  } else {
    c.a_base = (uint32_t)rnd(0, A - 1), c.o_base = (uint32_t)rnd(0, A - 1), c.p_base = (uint32_t)rnd(0, PW - 1);
  }
  c.zp_in = zp(), c.zp_out = zp();
  /* every buffer garbage, then the CT entries' parameters */
  nnf_rng_fill(&rng, e->act, (size_t)A * R);
  nnf_rng_fill(&rng, e->bias, (size_t)PW * R * sizeof *e->bias);
  nnf_rng_fill(&rng, e->m0, (size_t)PW * R * sizeof *e->m0);
  nnf_rng_fill(&rng, e->shift, (size_t)PW * R);
  const int pk = (int)rnd(0, 19), pmode = pk < 11 ? 0 : pk < 14 ? 1 : 2;
  int64_t eps_q = 0;
  if (c.n && params(e, &c, pmode, &eps_q)) return 0;
  const int eps_huge = rnd(0, 4) == 0;
  if (eps_huge) {
    const int b = (int)rnd(30, 62);
    eps_q = rnd(0, 5) == 0 ? NNFM_ROW_LN_EPS_MAX : (int64_t)((nnf_rng_u64(&rng) >> (64 - b)) | ((uint64_t)1 << (b - 1)));
  }
  c.eps_q = eps_q;
  if (nnfm_engine_row_check(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_ln_cases: nnfm_engine_row_check refused an in-range case\n");
    exit(1);
  }
  /* the rows, each with its data mode */
  static int8_t x[NNFM_ROW_LN_N_MAX];
  int dmask = 0;
  for (uint32_t m = 0; m < c.m && c.n; m++) {
    const int dmode = (int)(rnd(0, 9) < 4 ? 0 : rnd(1, 4));
    dmask |= 1 << dmode, cov.data[dmode]++;
    row_data(x, c.n, dmode, c.zp_in);
    for (uint32_t j = 0; j < c.n; j++) e->act[((size_t)c.a_base + (j / R) * c.m + m) * R + j % R] = (uint8_t)x[j];
  }
  memcpy(before, e->act, (size_t)A * R);
  if (nnfm_engine_row(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_ln_cases: nnfm_engine_row refused a checked case\n");
    exit(1);
  }
  for (uint32_t i = 0; i < A; i++)
    if ((!words || i < c.o_base || i >= c.o_base + words) && memcmp(before + (size_t)i * R, e->act + (size_t)i * R, (size_t)R)) {
      fprintf(stderr, "gen_ln_cases: the model wrote word %u outside O\n", i);
      exit(1);
    }
  const uint64_t row_cyc = 2ull * ct * (uint64_t)(R + 3) + LN_CYC_ROW;
  const uint64_t cycles = words ? (uint64_t)c.m * row_cyc + LN_CYC_ADD : LN_CYC_EMPTY;
  /* an abort or a reset time: uniform over the command, or (half of them) in
   * row m's span between the passes (abort) / in its pass 1 (reset) */
  const uint64_t p0 = (uint64_t)ct * (uint64_t)(R + 3);
  uint32_t f[NF] = {0};
  if (!plain && rnd(0, 15) == 0) {
    const uint64_t m = (uint64_t)rnd(0, c.m ? c.m - 1 : 0);
    const int mid = words && rnd(0, 1);
    const uint64_t off = rnd(0, 1) ? (uint64_t)rnd(LN_CYC_K - 2, LN_CYC_K + 2) : (uint64_t)rnd(0, LN_CYC_MID + 3);
    f[F_ABORT] = mid ? (uint32_t)(m * row_cyc + p0 + off)
                     : (uint32_t)rnd(1, (int64_t)cycles - 1);
    cov.aborts_mid += mid;
  }
  if (!plain && !f[F_ABORT] && (force_reset || rnd(0, 31) == 0)) {
    const uint64_t m = (uint64_t)rnd(0, c.m ? c.m - 1 : 0);
    const int p1 = words && (force_reset || rnd(0, 1));
    f[F_RESET] = p1 ? (uint32_t)(m * row_cyc + p0 + LN_CYC_MID + (uint64_t)rnd(2, (int64_t)p0 + 8))
                    : (uint32_t)rnd(1, (int64_t)cycles - 1);
    cov.resets_p1 += p1;
  }
  f[F_N] = c.n, f[F_M] = c.m, f[F_ZPIN] = (uint32_t)c.zp_in & 0xff, f[F_ZPOUT] = (uint32_t)c.zp_out & 0xff;
  f[F_EPSLO] = (uint32_t)c.eps_q, f[F_EPSHI] = (uint32_t)((uint64_t)c.eps_q >> 32);
  f[F_ABASE] = c.a_base, f[F_OBASE] = c.o_base, f[F_PBASE] = c.p_base, f[F_WORDS] = words;
  f[F_NP] = words ? ct : 0, f[F_CYCLES] = (uint32_t)cycles;
  f[F_GAP] = rnd(0, 4) < 2 ? 0 : (uint32_t)rnd(1, 3), f[F_IABORT] = rnd(0, 7) == 0;
  f[F_MODE] = (uint32_t)(pmode * 64 + dmask * 2 + eps_huge);
  f[F_NREC] = words ? c.m : 0;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, before + ((size_t)c.a_base + i) * R);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, e->act + ((size_t)c.o_base + i) * R);
  for (uint32_t i = 0; i < f[F_NP]; i++)
    for (uint32_t r = 0; r < (uint32_t)R; r++) {
      const size_t pi = ((size_t)c.p_base + i) * (size_t)R + r;
      gen_put_u32(&hex, (uint32_t)e->bias[pi]);
      gen_put_u32(&hex, (uint32_t)e->m0[pi]);
      gen_put_u32(&hex, (uint32_t)(int32_t)e->shift[pi]);
    }
  for (uint32_t m = 0; m < f[F_NREC]; m++) { /* each row's constants, nnfm_layernorm_row's */
    int64_t S = 0, Q = 0;
    for (uint32_t j = 0; j < c.n; j++) {
      x[j] = (int8_t)before[((size_t)c.a_base + (j / R) * c.m + m) * R + j % R];
      const int64_t u = (int64_t)x[j] - c.zp_in;
      S += u, Q += u * u;
    }
    nnfm_ln_row lr;
    if (nnfm_layernorm_row((int)c.n, c.eps_q, x, c.zp_in, &lr) != NNFM_OK || lr.S != S) {
      fprintf(stderr, "gen_ln_cases: nnfm_layernorm_row refused a checked row\n");
      exit(1);
    }
    const uint64_t rt = nnfm_isqrt(((uint64_t)((int64_t)c.n * Q - S * S) << 24) + (uint64_t)c.eps_q);
    gen_put_u32(&hex, (uint32_t)lr.S);
    gen_put_u32(&hex, (uint32_t)lr.k);
    gen_put_u32(&hex, (uint32_t)lr.inv & 0x1ffffffu); /* mod 2^25, see the top */
    gen_put_u32(&hex, (uint32_t)rt);
    cov.zero_inv += lr.inv == 0;
  }
  for (uint32_t i = 0; i < words; i++)
    for (uint32_t r = 0; r < (uint32_t)R && (i / c.m) * R + r < c.n; r++) {
      const int8_t y = (int8_t)e->act[((size_t)c.o_base + i) * R + r];
      cov.bytes++, cov.sat_hi += y == 127, cov.sat_lo += y == -128;
    }
  cov.pmodes[pmode] += words != 0, cov.eps_huge += words && eps_huge, cov.eps_zero += words && !c.eps_q;
  cov.ragged += words && c.n % (uint32_t)R, cov.tiles += ct > 1, cov.long_rows += c.n > 4u * R + 3;
  cov.n1024 += c.n == NNFM_ROW_LN_N_MAX, cov.empty += !words, cov.in_place += words && in_place, cov.p_end += pe;
  cov.aborts += f[F_ABORT] != 0, cov.resets += f[F_RESET] != 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: gen_ln_cases ROWS ACT_AW P_AW SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]);
  const int aaw = atoi(argv[2]), paw = atoi(argv[3]), ncases = atoi(argv[5]);
  const char *name = argv[6], *dir = argv[7];
  rng = nnf_rng_seed(strtoull(argv[4], NULL, 0));
  if (R < 2 || R > 64 || (R & (R - 1)) || aaw < 6 || aaw > 16 || paw < 3 || paw > 10 || ncases < 1) {
    fprintf(stderr, "gen_ln_cases: ROWS a power of two 2..64, ACT_AW 6..16, P_AW 3..10, NCASES >= 1\n");
    return 2;
  }
  A = 1u << aaw, PW = 1u << paw;
  if (A < 10u * 5u || PW < 5u) {
    fprintf(stderr, "gen_ln_cases: ACT needs 50 words, P 5 entries (N up to 4*ROWS+3, M up to 5)\n");
    return 2;
  }
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = A, cfg.p_words = PW;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  uint8_t *before = malloc((size_t)A * R);
  if (!e || !before) {
    fprintf(stderr, "gen_ln_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  int prev_hit = 0; /* the last case had an abort or a reset: this one is plain */
  for (int i = 0; i < ncases;) {
    const int a = cov.aborts, r = cov.resets;
    if (one_case(e, before, prev_hit, !prev_hit && i == ncases / 2)) {
      i++;
      prev_hit = cov.aborts != a || cov.resets != r;
    }
  }
  if (gen_hex_close(&hex)) return 1;
  printf("gen_ln_cases %s: %d cases; params %d realistic, %d hostile, %d mixed (%llu hostile lanes); eps_q %d "
         "huge, %d 0; rows %d uniform, %d equal, %d alternating, %d near zp_in, %d one 127 (%llu with inv 0); "
         "%d N %% ROWS != 0, %d CT > 1, %d N > 4*ROWS+3, %d N = 1024, %d N or M 0, %d in place, %d p_base at "
         "P's end; %d with an abort (%d between the passes), %d with a reset (%d in pass 1); %llu output "
         "bytes, %llu at 127, %llu at -128\n",
         name, ncases, cov.pmodes[0], cov.pmodes[1], cov.pmodes[2], (unsigned long long)cov.hostile_lanes,
         cov.eps_huge, cov.eps_zero, cov.data[0], cov.data[1], cov.data[2], cov.data[3], cov.data[4],
         (unsigned long long)cov.zero_inv, cov.ragged, cov.tiles, cov.long_rows, cov.n1024, cov.empty,
         cov.in_place, cov.p_end, cov.aborts, cov.aborts_mid, cov.resets, cov.resets_p1,
         (unsigned long long)cov.bytes, (unsigned long long)cov.sat_hi, (unsigned long long)cov.sat_lo);
  char origin[512], params_s[256];
  snprintf(origin, sizeof origin, "gen_ln_cases %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4], argv[5]);
  snprintf(params_s, sizeof params_s, ".ROWS(%d), .ACT_AW(%d), .P_AW(%d)", R, aaw, paw);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu_ln", params_s)) return 1;
  free(before);
  nnfm_engine_destroy(e);
  return 0;
}
