/*
 * gen_actw_cases.c - ACTW cases for tb_vu_actw.v (rtl/core/nnf_vu_actw.v
 * against the functional model, bit for bit).
 *
 *   gen_actw_cases ROWS ACT_AW W_AW P_AW SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu_actw
 * with ROWS, ACT_AW, W_AW, P_AW, the hex file's path and its length.
 *
 * Each case runs nnfm_engine_actw on a model engine (rows = cols = ROWS,
 * act_words = 2^ACT_AW, w_words = 2^W_AW, p_words = 2^P_AW) whose ACT, W,
 * biases, m0 and shifts are random garbage first, and checks that the model
 * wrote nothing but the NT' * KT * ROWS words at w_base and (with sum) the
 * biases of the NT' entries at p_base:
 *   shape     N and M 1 .. 5*ROWS-1 (each a multiple of ROWS a quarter of
 *             the time); 1/16 long: one of them up to what the buffers
 *             hold, the other 1 .. ROWS; 1/25 N or M = 0 (touches nothing,
 *             done in cycle 2)
 *   command   tr and sum 0/1; za -128 a third of the time, 0 / 127 / -1 /
 *             1 a sixth, else uniform; a_base, w_base and p_base uniform
 *             in range, a fifth of them at the buffer's end exactly (the
 *             command always passes nnfm_engine_actw_check)
 *   data      A's lanes >= N: non-zero garbage (the unit must mask them);
 *             the valid bytes uniform, all -128, all 127, only -128 / 127,
 *             or small (-3 .. 3)
 *   abort     ~6% of the cases, at a random busy cycle; reset ~3% of the
 *             others (never two in a row: a case after one is plain)
 *   gap       idle cycles between done and the next start: 0 (start in the
 *             cycle done is high) in 40%, else 1..3 (abort pulsed while
 *             idle in 1/8 of the cases)
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case NF
 * fields of 2 words each (F_* below), the A words (F_AWORDS = CX*M words
 * from a_base, lanes >= N garbage), the expected W words (F_WWORDS = CX*CY*
 * ROWS words from w_base) and the expected biases of F_NP entries from
 * p_base (lane 0 first, 2 words each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_cases.h"
#include "nnf_test.h"
#include "nnfm.h"

enum {
  F_TR, F_SUM, F_ZA, F_N, F_M, F_ABASE, F_WBASE, F_PBASE, F_AWORDS, F_WWORDS, F_NP, F_CYCLES, F_ABORT,
  F_RESET, F_GAP, F_IABORT, F_MODE, NF
};

static nnf_rng rng;
static struct {
  int tr, sum, za128, zapos, ragged_n, ragged_m, exact, long_shapes, empty, aborts, resets, a_end, w_end,
      p_end, modes[5];
  uint64_t words, biases;
} cov;
static int R;
static uint32_t AWS, WWS, PWS; /* the buffers' depths */
static gen_hex hex;

static int64_t rnd(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }
static uint32_t ceil_r(uint32_t x) { return (x + (uint32_t)R - 1) / (uint32_t)R; }

/* a dimension: 1 .. 5R-1, a multiple of R a quarter of the time */
static uint32_t dim(void) {
  return (uint32_t)(rnd(0, 3) == 0 ? R * rnd(1, 4) : rnd(1, 5 * R - 1));
}

/* a base for `len` entries of a buffer of `depth`: a fifth at its end */
static uint32_t base(uint32_t len, uint32_t depth, int *at_end) {
  *at_end = rnd(0, 4) == 0;
  return *at_end ? depth - len : (uint32_t)rnd(0, depth - len);
}

static int8_t datum(int mode) {
  switch (mode) {
  case 1: return -128;
  case 2: return 127;
  case 3: return rnd(0, 1) ? 127 : -128;
  case 4: return (int8_t)rnd(-3, 3);
  default: return (int8_t)rnd(-128, 127);
  }
}

static int one_case(nnfm_engine *e, uint8_t *act0, uint8_t *w0, int32_t *b0, int32_t *m00, uint8_t *s0,
                    int plain) {
  nnfm_actw_cmd c;
  memset(&c, 0, sizeof c);
  c.tr = (int)rnd(0, 1), c.sum = (int)rnd(0, 1);
  const int zk = (int)rnd(0, 5);
  static const int32_t zsp[4] = {0, 127, -1, 1};
  c.za = zk < 2 ? -128 : zk == 2 ? zsp[rnd(0, 3)] : (int32_t)rnd(-128, 127);
  c.n = dim(), c.m = dim();
  const int is_long = rnd(0, 15) == 0;
  if (is_long) {
    /* one dimension long: A (CX * M words) and B (CX * CY * R) must fit */
    const int64_t lo = 5 * R, lim = (int64_t)(AWS < WWS ? AWS : WWS) / 2, hi = lim > lo ? lim : lo;
    if (rnd(0, 1)) c.n = (uint32_t)rnd(lo, hi), c.m = (uint32_t)rnd(1, R);
    else c.m = (uint32_t)rnd(lo, hi), c.n = (uint32_t)rnd(1, R);
  }
  if (rnd(0, 24) == 0) {
    if (rnd(0, 1)) c.n = 0; else c.m = 0;
  }
  const uint32_t CX = ceil_r(c.n), CY = ceil_r(c.m), NT = c.tr ? CY : CX;
  const uint32_t awords = CX * c.m, wwords = CX * CY * (uint32_t)R;
  if (awords > AWS || wwords > WWS) return 0;
  if (c.sum && NT > PWS) c.sum = 0;
  int ae = 0, we = 0, pe = 0;
  if (awords) {
    c.a_base = base(awords, AWS, &ae), c.w_base = base(wwords, WWS, &we);
    c.p_base = c.sum ? base(NT, PWS, &pe) : (uint32_t)rnd(0, PWS - 1);
  } else {
    c.a_base = (uint32_t)rnd(0, AWS - 1), c.w_base = (uint32_t)rnd(0, WWS - 1), c.p_base = (uint32_t)rnd(0, PWS - 1);
  }
  if (nnfm_engine_actw_check(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_actw_cases: nnfm_engine_actw_check refused an in-range case\n");
    exit(1);
  }
  /* every buffer garbage; A's lanes >= N non-zero garbage, its valid bytes by mode */
  nnf_rng_fill(&rng, e->act, (size_t)AWS * R);
  nnf_rng_fill(&rng, e->w, (size_t)WWS * R);
  nnf_rng_fill(&rng, e->bias, (size_t)PWS * R * sizeof *e->bias);
  nnf_rng_fill(&rng, e->m0, (size_t)PWS * R * sizeof *e->m0);
  nnf_rng_fill(&rng, e->shift, (size_t)PWS * R);
  const int mode = (int)(rnd(0, 9) < 5 ? 0 : rnd(1, 4));
  for (uint32_t i = 0; i < awords; i++)
    for (uint32_t r = 0; r < (uint32_t)R; r++) {
      const uint32_t ch = (i / c.m) * (uint32_t)R + r;
      e->act[((size_t)c.a_base + i) * R + r] = ch < c.n ? (uint8_t)datum(mode) : (uint8_t)rnd(1, 255);
    }
  memcpy(act0, e->act, (size_t)AWS * R);
  memcpy(w0, e->w, (size_t)WWS * R);
  memcpy(b0, e->bias, (size_t)PWS * R * sizeof *b0);
  memcpy(m00, e->m0, (size_t)PWS * R * sizeof *m00);
  memcpy(s0, e->shift, (size_t)PWS * R);
  if (nnfm_engine_actw(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_actw_cases: nnfm_engine_actw refused a checked case\n");
    exit(1);
  }
  /* the model touched only B's words and the NT' entries' biases */
  const uint32_t np = awords && c.sum ? NT : 0;
  if (memcmp(act0, e->act, (size_t)AWS * R) || memcmp(m00, e->m0, (size_t)PWS * R * sizeof *m00) ||
      memcmp(s0, e->shift, (size_t)PWS * R)) {
    fprintf(stderr, "gen_actw_cases: the model wrote ACT, m0 or a shift\n");
    exit(1);
  }
  for (uint32_t i = 0; i < WWS; i++)
    if ((i < c.w_base || i >= c.w_base + wwords) && memcmp(w0 + (size_t)i * R, e->w + (size_t)i * R, (size_t)R)) {
      fprintf(stderr, "gen_actw_cases: the model wrote W word %u outside B\n", i);
      exit(1);
    }
  for (uint32_t i = 0; i < PWS; i++)
    if ((i < c.p_base || i >= c.p_base + np) && memcmp(b0 + (size_t)i * R, e->bias + (size_t)i * R, (size_t)R * sizeof *b0)) {
      fprintf(stderr, "gen_actw_cases: the model wrote the biases of P entry %u\n", i);
      exit(1);
    }
  const uint64_t cycles =
      awords ? (uint64_t)CX * CY * (2u * (uint64_t)R + 3) + (uint64_t)NT * (c.sum ? 10 : 1) + 2 : 2;
  uint32_t f[NF] = {0};
  f[F_TR] = (uint32_t)c.tr, f[F_SUM] = (uint32_t)c.sum, f[F_ZA] = (uint32_t)c.za & 0xff;
  f[F_N] = c.n, f[F_M] = c.m, f[F_ABASE] = c.a_base, f[F_WBASE] = c.w_base, f[F_PBASE] = c.p_base;
  f[F_AWORDS] = awords, f[F_WWORDS] = wwords, f[F_NP] = np, f[F_CYCLES] = (uint32_t)cycles;
  f[F_ABORT] = plain || rnd(0, 15) ? 0 : (uint32_t)rnd(1, (int64_t)cycles - 1);
  f[F_RESET] = plain || f[F_ABORT] || rnd(0, 31) ? 0 : (uint32_t)rnd(1, (int64_t)cycles - 1);
  f[F_GAP] = rnd(0, 4) < 2 ? 0 : (uint32_t)rnd(1, 3), f[F_IABORT] = rnd(0, 7) == 0;
  f[F_MODE] = (uint32_t)mode;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  for (uint32_t i = 0; i < awords; i++) gen_put_word(&hex, e->act + ((size_t)c.a_base + i) * R);
  for (uint32_t i = 0; i < wwords; i++) gen_put_word(&hex, e->w + ((size_t)c.w_base + i) * R);
  for (uint32_t i = 0; i < np; i++)
    for (uint32_t r = 0; r < (uint32_t)R; r++) gen_put_u32(&hex, (uint32_t)e->bias[((size_t)c.p_base + i) * R + r]);
  cov.tr += c.tr, cov.sum += c.sum, cov.za128 += c.za == -128, cov.zapos += c.za > 0;
  cov.ragged_n += c.n % (uint32_t)R != 0, cov.ragged_m += c.m % (uint32_t)R != 0;
  cov.exact += awords && c.n % (uint32_t)R == 0 && c.m % (uint32_t)R == 0;
  cov.long_shapes += is_long && awords, cov.empty += !awords;
  cov.aborts += f[F_ABORT] != 0, cov.resets += f[F_RESET] != 0;
  cov.a_end += awords && ae, cov.w_end += awords && we, cov.p_end += np && pe, cov.modes[mode]++;
  cov.words += wwords, cov.biases += (uint64_t)np * (uint64_t)R;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: gen_actw_cases ROWS ACT_AW W_AW P_AW SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]);
  const int aaw = atoi(argv[2]), waw = atoi(argv[3]), paw = atoi(argv[4]), ncases = atoi(argv[6]);
  const char *name = argv[7], *dir = argv[8];
  rng = nnf_rng_seed(strtoull(argv[5], NULL, 0));
  if (R < 2 || R > 64 || (R & (R - 1)) || aaw < 6 || aaw > 16 || waw < 6 || waw > 16 || paw < 3 ||
      paw > 10 || ncases < 1) {
    fprintf(stderr, "gen_actw_cases: ROWS a power of two 2..64, ACT_AW and W_AW 6..16, P_AW 3..10, NCASES >= 1\n");
    return 2;
  }
  AWS = 1u << aaw, WWS = 1u << waw, PWS = 1u << paw;
  if (AWS < 5u * (uint32_t)R * 5u || WWS < 25u * (uint32_t)R) {
    fprintf(stderr, "gen_actw_cases: ACT needs 25*ROWS words, W 25*ROWS (N, M up to 5*ROWS-1)\n");
    return 2;
  }
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = AWS, cfg.w_words = WWS, cfg.p_words = PWS;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  uint8_t *act0 = malloc((size_t)AWS * R), *w0 = malloc((size_t)WWS * R), *s0 = malloc((size_t)PWS * R);
  int32_t *b0 = malloc((size_t)PWS * R * sizeof *b0), *m00 = malloc((size_t)PWS * R * sizeof *m00);
  if (!e || !act0 || !w0 || !s0 || !b0 || !m00) {
    fprintf(stderr, "gen_actw_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  int prev_hit = 0; /* the last case had an abort or a reset: this one is plain */
  for (int i = 0; i < ncases;) {
    const int a = cov.aborts, r = cov.resets;
    if (one_case(e, act0, w0, b0, m00, s0, prev_hit)) {
      i++;
      prev_hit = cov.aborts != a || cov.resets != r;
    }
  }
  if (gen_hex_close(&hex)) return 1;
  printf("gen_actw_cases %s: %d cases; %d tr, %d sum, za %d at -128 %d > 0; %d N %% ROWS != 0, "
         "%d M %% ROWS != 0, %d both multiples, %d long, %d N or M 0; bases at the end: %d A, %d B, %d P; "
         "data %d uniform, %d -128, %d 127, %d extremes, %d small; %d with an abort, %d with a reset; "
         "%llu W words, %llu biases\n",
         name, ncases, cov.tr, cov.sum, cov.za128, cov.zapos, cov.ragged_n, cov.ragged_m, cov.exact,
         cov.long_shapes, cov.empty, cov.a_end, cov.w_end, cov.p_end, cov.modes[0], cov.modes[1], cov.modes[2],
         cov.modes[3], cov.modes[4], cov.aborts, cov.resets, (unsigned long long)cov.words,
         (unsigned long long)cov.biases);
  char origin[512], params[256];
  snprintf(origin, sizeof origin, "gen_actw_cases %s %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4],
           argv[5], argv[6]);
  snprintf(params, sizeof params, ".ROWS(%d), .ACT_AW(%d), .W_AW(%d), .P_AW(%d)", R, aaw, waw, paw);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu_actw", params)) return 1;
  free(act0), free(w0), free(s0), free(b0), free(m00);
  nnfm_engine_destroy(e);
  return 0;
}
