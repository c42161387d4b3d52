/*
 * gen_row_cases.c - ROW (SOFTMAX) cases for tb_vu_row.v (rtl/core/nnf_vu_row.v
 * against the functional model, bit for bit).
 *
 *   gen_row_cases ROWS ACT_AW LUT_COUNT SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu_row
 * with ROWS, ACT_AW, LUT_COUNT, the hex file's path and its length.
 *
 * Each case runs nnfm_engine_row on a model engine (rows = ROWS, act_words =
 * 2^ACT_AW, luts = LUT_COUNT) whose whole ACT is random garbage first:
 *   shape     N 1..40 (a quarter multiples of ROWS), M 1..6; 1/10 with N up
 *             to 300, 1/40 with N up to 4095 (as ACT allows), M 1..2; ~2%
 *             with N or M = 0 (touches nothing)
 *   bases     A and O disjoint (random gaps, either order), or O == A
 *   table     c_tbl 0 or 1 (LUT_COUNT 8); the table written through the
 *             unit's lw_* port (all LUTs in the first case, then a new
 *             table in a third of the cases): TFLite's exp table
 *             (nnfm_softmax_prepare + nnfm_softmax_table) for a random
 *             input scale (2^-9 .. 2^2) and beta (1/4 .. 4), or random
 *             bytes (bit 31 too: ignored), or a special one (all 0, only
 *             entry 0 at INT32_MAX, all INT32_MAX, entries 2^k, small
 *             entries under 2^(8..16), entries under 2^11: a sum of 0)
 *   data      uniform; every element of a row equal; a cluster near the
 *             row's max; only -128 and 127; all -128 but one 127
 *   abort     ~6% of the cases, at a random cycle of the command; reset
 *             ~3% of the others
 *   gap       the idle cycles between done and the next start: 0 (start in
 *             the cycle done is high) in 40% of them, else 1..3
 *
 * Besides the output words, each row's pass-1 sum and reciprocal (as
 * nnfm_softmax computes them) are checked inside the unit: a reciprocal
 * off by a unit (the Newton steps' constants, their rounding) moves an
 * output byte only at a rounding tie, about once in 2^22 bytes.
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case NF
 * fields of 2 words each (F_* below), F_NLW LUT writes of 2 words each
 * (addr << 8 | data), the A words (F_WORDS), the expected O words (F_NO:
 * F_WORDS, or 0 when N or M is 0), and F_NREC pairs of 2-word values (the
 * row's sum, its reciprocal) for rows 0 .. F_NREC-1.
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
  F_TBL, F_N, F_M, F_WORDS, F_ABASE, F_OBASE, F_ABORT, F_NO, F_CYCLES, F_NLW, F_MODE, F_GAP, F_IABORT,
  F_RESET, F_NREC, NF
};

/* nnf_vu_row's cycles from start to done (its header, "Timing"):
 * M (3 CT (ROWS + 3) + ROW_CYC_ROW) + 1, or ROW_CYC_EMPTY */
#define ROW_CYC_ROW 46
#define ROW_CYC_EMPTY 2

static nnf_rng rng;
static struct {
  int tables[3], data[5], ragged, tiles, long_rows, empty, in_place, aborts, resets, lut_writes;
  uint64_t bytes, sat_hi, sat_lo;
} cov;
static int R, AW, NL;
static uint32_t A; /* ACT words */
static gen_hex hex;

static int64_t rnd(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }

static void lut_write(nnfm_engine *e, uint32_t addr, uint8_t v, uint32_t *lw, uint32_t *nlw) {
  e->lut[addr] = (int8_t)v;
  lw[(*nlw)++] = addr << 8 | v;
}

/* a new exp table in LUTs 4*tbl .. 4*tbl+3: 0 TFLite's, 1 random bytes, 2 special */
static int new_table(nnfm_engine *e, int tbl, uint32_t *lw, uint32_t *nlw) {
  uint32_t t[256];
  int kind = (int)rnd(0, 5);
  kind = kind < 3 ? 0 : kind == 3 ? 1 : 2;
  if (kind == 0) {
    nnfm_softmax_params p;
    const double s_in = ldexp(1.0 + (double)rnd(0, 1 << 20) / (1 << 20), (int)rnd(-9, 1));
    const double beta = ldexp(1.0 + (double)rnd(0, 1 << 20) / (1 << 20), (int)rnd(-2, 1));
    int32_t tab[256];
    if (nnfm_softmax_prepare(s_in, beta, &p) != NNFM_OK || nnfm_softmax_table(&p, tab) != NNFM_OK) return -1;
    for (int i = 0; i < 256; i++) t[i] = (uint32_t)tab[i];
  } else if (kind == 1) {
    for (int i = 0; i < 256; i++) t[i] = nnf_rng_u32(&rng);
  } else {
    /* all 0; only entry 0; all INT32_MAX; powers of two; small entries
     * (under 2^k: small sums, so the reciprocal's normalisation shift is
     * large and pass 2's rounding shift small: its ties, the sum's
     * rounding bit 11 and the reciprocal's steps all reach the bytes);
     * entries under 2^11 (their terms are 0: the sum is 0) */
    const int sp = (int)rnd(0, 7), k = (int)rnd(8, 16);
    for (int i = 0; i < 256; i++)
      t[i] = sp == 0 ? 0 : sp == 1 ? (i ? 0 : 0x7fffffffu) : sp == 2 ? 0xffffffffu : sp == 3 ? 1u << (i % 32)
           : sp <= 5 ? (uint32_t)rnd(0, ((int64_t)1 << k) - 1) | (nnf_rng_u32(&rng) & 0x80000000u)
                     : (uint32_t)rnd(1, 2047);
  }
  for (int b = 0; b < 4; b++)
    for (int i = 0; i < 256; i++) lut_write(e, (uint32_t)(4 * tbl + b) * 256 + (uint32_t)i, (uint8_t)(t[i] >> (8 * b)), lw, nlw);
  return kind;
}

static int8_t datum(int mode, int8_t base) {
  switch (mode) {
  case 1: return base;
  case 2: {
    int v = base - (int)rnd(0, 3);
    return (int8_t)(v < -128 ? -128 : v);
  }
  case 3: return rnd(0, 1) ? 127 : -128;
  case 4: return -128;
  default: return (int8_t)rnd(-128, 127);
  }
}

static int one_case(nnfm_engine *e, int first, uint8_t *before) {
  static int tbl_kind[2] = {-1, -1};
  nnfm_row_cmd c;
  memset(&c, 0, sizeof c);
  c.op = NNFM_ROW_SOFTMAX;
  c.tbl = NL >= 8 ? (int)rnd(0, 1) : 0;
  c.n = (uint32_t)(rnd(0, 3) == 0 ? R * rnd(1, 40 / R > 1 ? 40 / R : 2) : rnd(1, 40));
  c.m = (uint32_t)rnd(1, 6);
  switch (rnd(0, 39)) {
  case 0: c.n = (uint32_t)rnd(1, NNFM_ROW_N_MAX), c.m = (uint32_t)rnd(1, 2); break;
  case 1: case 2: case 3: case 4: c.n = (uint32_t)rnd(41, 300), c.m = (uint32_t)rnd(1, 3); break;
  default: break;
  }
  if ((uint64_t)((c.n + R - 1) / R) * 2 > A) c.n = (uint32_t)R * (A / 2), c.m = 1;
  if (rnd(0, 49) == 0) {
    if (rnd(0, 1)) c.n = 0; else c.m = 0;
  }
  const uint32_t ct = (c.n + R - 1) / R;
  const int in_place = rnd(0, 2) == 0;
  if (ct && (uint64_t)ct * c.m * (in_place ? 1 : 2) > A) c.m = A / (in_place ? 1 : 2) / ct;
  if (c.n && !c.m) return 0;
  const uint32_t words = ct * c.m;
  if (words) {
    if (in_place) {
      c.a_base = c.o_base = (uint32_t)rnd(0, A - words);
    } else {
      uint32_t lo = (uint32_t)rnd(0, A - 2 * words), hi = lo + words + (uint32_t)rnd(0, A - 2 * words - lo);
      if (rnd(0, 1)) c.a_base = lo, c.o_base = hi; else c.a_base = hi, c.o_base = lo;
    }
  } else {
    c.a_base = (uint32_t)rnd(0, A - 1), c.o_base = (uint32_t)rnd(0, A - 1);
  }
  if (nnfm_engine_row_check(e, &c) != NNFM_OK) return 0;
  static uint32_t lw[8 * 256 * 2];
  uint32_t nlw = 0;
  if (first) {
    for (uint32_t a = 0; a < 256 * (uint32_t)NL; a++) lut_write(e, a, (uint8_t)nnf_rng_u32(&rng), lw, &nlw);
    for (int t = 0; t < NL / 4; t++)
      if ((tbl_kind[t] = new_table(e, t, lw, &nlw)) < 0) return 0;
  } else if (rnd(0, 2) == 0) {
    const uint32_t keep = nlw;
    const int k = new_table(e, c.tbl, lw, &nlw);
    if (k < 0) {
      nlw = keep;
      return 0;
    }
    tbl_kind[c.tbl] = k;
  }
  /* ACT: garbage, then the rows */
  nnf_rng_fill(&rng, e->act, (size_t)A * R);
  const int dmode = (int)(rnd(0, 9) < 5 ? 0 : rnd(1, 4));
  for (uint32_t m = 0; m < c.m; m++) {
    const int8_t base = (int8_t)rnd(-128, 127);
    const uint32_t one = (uint32_t)rnd(0, c.n ? c.n - 1 : 0);
    for (uint32_t j = 0; j < c.n; j++) {
      int8_t v = datum(dmode, base);
      if (dmode == 4 && j == one) v = 127;
      e->act[((size_t)c.a_base + (j / R) * c.m + m) * R + j % R] = (uint8_t)v;
    }
  }
  memcpy(before, e->act, (size_t)A * R);
  if (nnfm_engine_row(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_row_cases: nnfm_engine_row refused a checked case\n");
    exit(1);
  }
  const uint64_t cycles = words ? (uint64_t)c.m * (3ull * ct * (R + 3) + ROW_CYC_ROW) + 1 : ROW_CYC_EMPTY;
  uint32_t f[NF] = {0};
  f[F_TBL] = (uint32_t)c.tbl, f[F_N] = c.n, f[F_M] = c.m, f[F_WORDS] = words;
  f[F_ABASE] = c.a_base, f[F_OBASE] = c.o_base;
  f[F_ABORT] = rnd(0, 15) ? 0 : (uint32_t)rnd(1, (int64_t)cycles);
  f[F_NO] = words, f[F_CYCLES] = (uint32_t)cycles, f[F_NLW] = nlw;
  f[F_MODE] = (uint32_t)(tbl_kind[c.tbl] * 8 + dmode);
  f[F_GAP] = rnd(0, 4) < 2 ? 0 : (uint32_t)rnd(1, 3), f[F_IABORT] = rnd(0, 7) == 0;
  f[F_RESET] = f[F_ABORT] || rnd(0, 31) ? 0 : (uint32_t)rnd(1, (int64_t)cycles);
  f[F_NREC] = words ? c.m : 0;
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  for (uint32_t i = 0; i < nlw; i++) gen_put_u32(&hex, lw[i]);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, before + ((size_t)c.a_base + i) * R);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, e->act + ((size_t)c.o_base + i) * R);
  if (words) { /* each row's sum and reciprocal, nnfm_softmax's */
    int32_t table[256];
    nnfm_engine_row_table(e, c.tbl, table);
    static int8_t x[NNFM_ROW_N_MAX];
    for (uint32_t m = 0; m < c.m; m++) {
      for (uint32_t j = 0; j < c.n; j++) x[j] = (int8_t)before[((size_t)c.a_base + (j / R) * c.m + m) * R + j % R];
      int32_t sum, inv;
      if (nnfm_softmax_stats(table, x, (int)c.n, &sum, &inv) != NNFM_OK) {
        fprintf(stderr, "gen_row_cases: nnfm_softmax_stats refused a checked row\n");
        exit(1);
      }
      gen_put_u32(&hex, (uint32_t)sum);
      gen_put_u32(&hex, (uint32_t)inv);
    }
  }
  for (uint32_t i = 0; i < A; i++)
    if ((!words || i < c.o_base || i >= c.o_base + words) && memcmp(before + (size_t)i * R, e->act + (size_t)i * R, (size_t)R)) {
      fprintf(stderr, "gen_row_cases: the model wrote word %u outside O\n", i);
      exit(1);
    }
  for (uint32_t i = 0; i < words; i++)
    for (uint32_t r = 0; r < (uint32_t)R && (i / c.m) * R + r < c.n; r++) {
      const int8_t y = (int8_t)e->act[((size_t)c.o_base + i) * R + r];
      cov.bytes++, cov.sat_hi += y == 127, cov.sat_lo += y == -128;
    }
  cov.tables[tbl_kind[c.tbl]]++, cov.data[dmode]++, cov.ragged += c.n % R != 0, cov.tiles += ct > 1;
  cov.long_rows += c.n > 40, cov.empty += !words, cov.in_place += words && in_place;
  cov.aborts += f[F_ABORT] != 0, cov.resets += f[F_RESET] != 0, cov.lut_writes += nlw != 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: gen_row_cases ROWS ACT_AW LUT_COUNT SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]), AW = atoi(argv[2]), NL = atoi(argv[3]);
  const char *name = argv[6], *dir = argv[7];
  int ncases = atoi(argv[5]);
  rng = nnf_rng_seed(strtoull(argv[4], NULL, 0));
  if (R < 2 || R > 64 || (R & (R - 1)) || AW < 6 || AW > 16 || ncases < 1 || (NL != 4 && NL != 8)) {
    fprintf(stderr, "gen_row_cases: ROWS a power of two 2..64, ACT_AW 6..16, LUT_COUNT 4 or 8, NCASES >= 1\n");
    return 2;
  }
  A = 1u << AW;
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = A, cfg.luts = (uint32_t)NL;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  uint8_t *before = malloc((size_t)A * R);
  if (!e || !before) {
    fprintf(stderr, "gen_row_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  for (int i = 0; i < ncases;) i += one_case(e, i == 0, before);
  if (gen_hex_close(&hex)) return 1;
  printf("gen_row_cases %s: %d cases; tables %d TFLite, %d random, %d special; data %d uniform, %d equal, "
         "%d clustered, %d extremes, %d one 127; %d N %% ROWS != 0, %d CT > 1, %d N > 40, %d N or M 0, "
         "%d in place; %d with an abort, %d with a reset, %d with LUT writes; %llu output bytes, %llu at "
         "127, %llu at -128\n",
         name, ncases, cov.tables[0], cov.tables[1], cov.tables[2], cov.data[0], cov.data[1], cov.data[2],
         cov.data[3], cov.data[4], cov.ragged, cov.tiles, cov.long_rows, cov.empty, cov.in_place, cov.aborts,
         cov.resets, cov.lut_writes, (unsigned long long)cov.bytes, (unsigned long long)cov.sat_hi,
         (unsigned long long)cov.sat_lo);
  char origin[512], params[256];
  snprintf(origin, sizeof origin, "gen_row_cases %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4], argv[5]);
  snprintf(params, sizeof params, ".ROWS(%d), .ACT_AW(%d), .LUT_COUNT(%d)", R, AW, NL);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu_row", params)) return 1;
  free(before);
  nnfm_engine_destroy(e);
  return 0;
}
