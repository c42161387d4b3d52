/*
 * gen_ew_cases.c - EW cases for tb_vu_ew.v (rtl/core/nnf_vu_ew.v against the
 * functional model, bit for bit).
 *
 *   gen_ew_cases ROWS ACT_AW LANES LUT_COUNT SEED NCASES NAME OUTDIR
 *
 * Writes OUTDIR/NAME.hex (the cases, $readmemh of ROWS*8-bit words) and
 * OUTDIR/NAME.v, the testbench's top: module NAME instantiating tb_vu_ew
 * with ROWS, ACT_AW, LANES, LUT_COUNT, the hex file's path and its length.
 *
 * Each case runs nnfm_engine_ew on a model engine (rows = ROWS, act_words =
 * 2^ACT_AW, luts = LUT_COUNT) whose whole ACT is random garbage first:
 *   op        ADD, SUB, MUL, MAP
 *   N, M      N 1..40 (a quarter of them multiples of ROWS), M 1..30 (fewer
 *             when the operands would not fit ACT); 1/12 with many tiles
 *             (N up to ROWS*ACT/4, M 1..2), 1/12 with one tile and many
 *             rows; ~2% with N or M = 0 (touches nothing)
 *   bases     A, B, O disjoint in random order with random gaps; O == A or
 *             O == B (in place); A == B; A == B == O; B overlapping A
 *             partly; MAP: B anywhere (never read)
 *   numbers   zero points and clamps random (a quarter narrow, some lo ==
 *             hi); multipliers either from nnfm_ew_prepare on random real
 *             scales (log-uniform 2^-14 .. 2^3), or raw: m0_s, shift_s,
 *             a_small, m0, shift drawn over their full legal ranges (with
 *             their extremes and powers of two: saturation, rounding ties,
 *             k' = 11 .. 42), or raw with the output shift near the op's
 *             natural one; the fields an op does not use random
 *   data      uniform, near the zero points (small differences, ties), or
 *             the int8 extremes
 *   rounding  single or TFLite's double rounding (TFL_ROUND), half the cases each;
 *             a fifth of the ADD / SUB cases are fine: the larger-scale input
 *             at its zero point, the other near its own, m0_s near
 *             2^(10 - shift_s) and the output multiplier near 1, so the
 *             small term's last unit (where the two roundings differ)
 *             reaches the output
 *   LUT       on in a third of the cases, lut_sel random < LUT_COUNT; the
 *             tables are written through the unit's lw_* port: all of them
 *             in the first case, then now and then a few random bytes or a
 *             whole table again (the model's LUT region follows)
 *   abort     ~6% of the cases, at a random cycle of the command; 1/8 of
 *             them pulse abort in the idle cycles before the start too
 *   reset     ~3% of the others: rst for one cycle at a random cycle of the
 *             command (then idle, no port activity, O a prefix)
 *   gap       the idle cycles between done and the next start: 0 (start in
 *             the cycle done is high) in 40% of them, else 1..3, plus the
 *             LUT writes' cycles
 *
 * File layout: 2 words (lo, hi 16 bits) of the case count, then per case NF
 * fields of 2 words each (the order of F_* below), F_NLW LUT writes of 2
 * words each (addr << 8 | data), the A words (F_WORDS of them, ACT a_base
 * ..), the B words (F_NB: F_WORDS, or 0 for MAP), and the expected O words
 * (F_NO: F_WORDS, or 0 when N or M is 0). The testbench fills the rest of
 * its ACT with garbage, so comparing the whole ACT also checks that nothing
 * else was written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_cases.h"
#include "nnf_test.h"
#include "nnfm.h"

enum {
  F_OP, F_N, F_M, F_WORDS, F_ABASE, F_BBASE, F_OBASE, F_ZPA, F_ZPB, F_M0S, F_NSHIFTS, F_ASMALL,
  F_M0, F_SHIFT, F_ZP, F_LO, F_HI, F_LUT, F_LUTSEL, F_ABORT, F_NB, F_NO, F_CYCLES, F_NLW, F_MODE,
  F_GAP, F_IABORT, F_RESET, F_RND, NF
};

/* nnf_vu_ew's cycles from start to done (its header, "Timing"): with W =
 * CT*M words and the period P = max(G, reads per word), W ? (W-1)*P + G +
 * EW_CYC_FIXED : EW_CYC_EMPTY */
#define EW_CYC_FIXED 18
#define EW_CYC_EMPTY 2

static nnf_rng rng;
static struct {
  int op[4], ragged, tiles, empty, disjoint, o_eq_a, o_eq_b, a_eq_b, all_eq, ab_overlap, prepared,
      raw, narrow, lo_eq_hi, lut, aborts, resets, lut_writes;
  uint64_t bytes, at_bound;
} cov;
static int R, AW, LANES, NL;
static uint32_t A; /* ACT words */
static gen_hex hex;

static int64_t rnd(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }

/* a multiplier m0 in [0, 2^31): uniform, its extremes, or a power of two */
static int32_t rnd_m0(void) {
  switch (rnd(0, 9)) {
  case 0: return 0;
  case 1: return 1;
  case 2: return INT32_MAX;
  case 3: return (int32_t)1 << rnd(0, 30);
  case 4: return (int32_t)rnd((int64_t)1 << 30, INT32_MAX); /* a normalised one */
  default: return (int32_t)rnd(0, INT32_MAX);
  }
}

static int32_t rnd_i8(void) { return (int32_t)rnd(-128, 127); }

static double log_scale(void) { return ldexp(1.0 + (double)rnd(0, 1 << 20) / (1 << 20), (int)rnd(-14, 2)); }

/* the numbers of a case: 0 prepared from real scales, 1 raw over the full
 * ranges, 2 raw with the output shift near the op's natural one */
static int numbers(nnfm_ew_params *p, int op, int *mode) {
  int32_t zp_a = rnd_i8(), zp_b = rnd_i8(), zp = rnd_i8(), lo = -128, hi = 127;
  switch (rnd(0, 7)) {
  case 0: lo = rnd_i8(), hi = (int32_t)rnd(lo, 127); break;
  case 1: lo = hi = rnd_i8(); break;
  case 2: lo = rnd_i8(), hi = lo + (int32_t)rnd(0, 3) > 127 ? 127 : lo + (int32_t)rnd(0, 3); break;
  case 3: lo = 0; break;
  default: break;
  }
  if (rnd(0, 9) == 0) zp_a = rnd(0, 1) ? -128 : 127, zp_b = rnd(0, 1) ? -128 : 127;
  *mode = (int)rnd(0, 2);
  if (*mode == 0) {
    if (nnfm_ew_prepare(op, log_scale(), zp_a, log_scale(), zp_b, log_scale(), zp, lo, hi, p) != NNFM_OK)
      return 0;
    if (op == NNFM_EW_MAP) p->zp_b = rnd_i8(); /* unused: garbage */
    if (op >= NNFM_EW_MUL) p->m0_s = (int32_t)rnd(0, INT32_MAX), p->shift_s = (int)rnd(-31, 0), p->a_small = (int)rnd(0, 1);
    p->round = (int)rnd(0, 1);
    return 1;
  }
  memset(p, 0, sizeof *p);
  p->op = op, p->zp_a = zp_a, p->zp_b = zp_b, p->zp = zp, p->lo = lo, p->hi = hi;
  p->m0_s = rnd_m0();
  p->shift_s = rnd(0, 3) == 0 ? (rnd(0, 1) ? -31 : 0) : (int)rnd(-31, 0);
  p->a_small = (int)rnd(0, 1);
  p->m0 = rnd_m0();
  if (*mode == 1) {
    p->shift = rnd(0, 4) == 0 ? (rnd(0, 1) ? NNFM_SHIFT_MIN : NNFM_SHIFT_MAX)
                              : (int)rnd(NNFM_SHIFT_MIN, NNFM_SHIFT_MAX);
  } else {
    /* |acc| up to ~2^27 (ADD / SUB), 2^16 (MUL), 2^8 (MAP): y ~ 2^7 */
    static const int centre[4] = {-20, -20, -9, -1};
    int s = centre[op] + (int)rnd(-6, 6);
    p->shift = s < NNFM_SHIFT_MIN ? NNFM_SHIFT_MIN : s > NNFM_SHIFT_MAX ? NNFM_SHIFT_MAX : s;
    if (rnd(0, 1)) p->m0 = (int32_t)rnd((int64_t)1 << 30, INT32_MAX);
  }
  p->round = (int)rnd(0, 1);
  return nnfm_ew_params_check(p) == NNFM_OK;
}

static uint8_t data_of(int mode, int32_t zp) {
  switch (mode) {
  case 1: {
    int32_t v = zp + (int32_t)rnd(-3, 3);
    return (uint8_t)(int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  case 2: return (uint8_t)(int8_t)(rnd(0, 1) ? 127 : -128);
  default: return (uint8_t)nnf_rng_u32(&rng);
  }
}

static void lut_write(nnfm_engine *e, uint32_t addr, uint8_t v, uint32_t *lw, uint32_t *nlw) {
  e->lut[addr] = (int8_t)v;
  lw[(*nlw)++] = addr << 8 | v;
}

static int one_case(nnfm_engine *e, int first, uint8_t *before) {
  const uint32_t luts = (uint32_t)NL, G = (uint32_t)(R / LANES);
  nnfm_ew_cmd c;
  memset(&c, 0, sizeof c);
  int op = (int)rnd(0, 3), mode;
  if (!numbers(&c.p, op, &mode)) return 0;
  /* fine ADD / SUB (1 in 5): the larger-scale input at its zero point and an
   * output multiplier near 1, so that the output shows the small term's
   * last unit: its rounding (single or TFLite's) decides the result */
  const int fine = op <= NNFM_EW_SUB && rnd(0, 4) == 0;
  if (fine) {
    /* the small term is ib * m0_s / 2^(11+n) with |ib| <= 4: m0_s near
     * 2^(10+n) (a power of two, or 2^10 (2^n - 1), whose products carry
     * the long runs of ones or zeros under bit 10 + n where TFLite's two
     * roundings part from the single one) */
    const int n = (int)rnd(1, 31), j = 10 + n + (int)rnd(-3, 0);
    c.p.shift_s = -n;
    c.p.m0_s = rnd(0, 1) && n <= 21 ? ((int32_t)1 << 10) * (((int32_t)1 << n) - 1)
                                     : (int32_t)1 << (j < 0 ? 0 : j > 30 ? 30 : j);
    c.p.m0 = (int32_t)rnd((int64_t)1 << 30, INT32_MAX), c.p.shift = (int)rnd(0, 1);
    c.p.lo = -128, c.p.hi = 127, c.p.zp = (int32_t)rnd(-8, 8);
  }
  const int binary = op != NNFM_EW_MAP;
  c.n = (uint32_t)(rnd(0, 3) == 0 ? R * rnd(1, 40 / R > 1 ? 40 / R : 2) : rnd(1, 40));
  c.m = (uint32_t)rnd(1, rnd(0, 3) ? 30 : 4);
  switch (rnd(0, 11)) {
  case 0: c.n = (uint32_t)rnd(1, (int64_t)R * (A / 4)), c.m = (uint32_t)rnd(1, 2); break; /* many tiles */
  case 1: c.n = (uint32_t)rnd(1, R), c.m = (uint32_t)rnd(30, A / 3); break;              /* many rows */
  default: break;
  }
  if (rnd(0, 49) == 0) {
    if (rnd(0, 1)) c.n = 0; else c.m = 0;
  }
  c.lut = rnd(0, 2) == 0;
  c.lut_sel = (uint32_t)rnd(0, luts - 1);
  const uint32_t ct = (c.n + R - 1) / R;
  /* placement: 0 disjoint, 1 O == A, 2 O == B, 3 A == B, 4 A == B == O, 5 B overlaps A partly */
  int place = (int)rnd(0, 9);
  if (place > 5) place = 0;
  if (!binary && place >= 2) place = (int)rnd(0, 1);
  if (place == 5 && (uint64_t)ct * c.m < 2) place = 0;
  /* the distinct regions, in units of W words (5: A u B is under 2W) */
  static const int units[6] = {3, 2, 2, 2, 1, 3};
  const int nunit = binary ? units[place] : place == 0 ? 2 : 1;
  if (ct && (uint64_t)ct * c.m * nunit > A) {
    c.m = A / nunit / ct;
    if (c.m == 0) return 0;
  }
  const uint32_t words = ct * c.m;
  if (c.n && c.m) {
    /* sizes of the regions: A, B, O less the shared ones; then random order, random gaps */
    uint32_t size[3], pos[3], nreg = 0, span = words;
    if (place == 5) span = words + (uint32_t)rnd(1, words - 1);
    switch (place) {
    case 0: nreg = binary ? 3 : 2; break;
    case 1: nreg = binary ? 2 : 1; break;
    case 4: nreg = 1; break;
    default: nreg = 2; break;
    }
    uint32_t need = 0;
    for (uint32_t r = 0; r < nreg; r++) size[r] = (place == 5 && r == 0) ? span : words, need += size[r];
    if (need > A) return 0;
    uint32_t perm[3] = {0, 1, 2}, cut[3];
    for (uint32_t r = nreg; r > 1; r--) {
      uint32_t j = (uint32_t)rnd(0, r - 1), t = perm[r - 1];
      perm[r - 1] = perm[j], perm[j] = t;
    }
    for (uint32_t r = 0; r < nreg; r++) cut[r] = (uint32_t)rnd(0, A - need);
    for (uint32_t r = 1; r < nreg; r++) /* sort the cuts */
      for (uint32_t q = r; q > 0 && cut[q - 1] > cut[q]; q--) {
        uint32_t t = cut[q];
        cut[q] = cut[q - 1], cut[q - 1] = t;
      }
    uint32_t at = 0, prev = 0;
    if (rnd(0, 3) == 0) { /* packed: adjacent regions, at one end of ACT or the other */
      const uint32_t end = rnd(0, 1) ? 0 : A - need;
      for (uint32_t r = 0; r < nreg; r++) cut[r] = end;
    }
    for (uint32_t r = 0; r < nreg; r++) {
      at += cut[r] - prev, prev = cut[r];
      pos[perm[r]] = at;
      at += size[perm[r]];
    }
    const uint32_t p0 = pos[0], p1 = nreg > 1 ? pos[1] : 0, p2 = nreg > 2 ? pos[2] : 0;
    switch (place) {
    case 0:
      c.a_base = p0, c.o_base = p1, c.b_base = p2;
      break;
    case 1: c.a_base = c.o_base = p0, c.b_base = p1; break;
    case 2: c.b_base = c.o_base = p0, c.a_base = p1; break;
    case 3: c.a_base = c.b_base = p0, c.o_base = p1; break;
    case 4: c.a_base = c.b_base = c.o_base = p0; break;
    default: /* A and B inside the first region, overlapping */
      if (rnd(0, 1)) c.a_base = p0, c.b_base = p0 + (span - words);
      else c.b_base = p0, c.a_base = p0 + (span - words);
      c.o_base = p1;
      break;
    }
    if (!binary) c.b_base = (uint32_t)rnd(0, A - 1); /* never read */
  } else {
    c.a_base = (uint32_t)rnd(0, A - 1), c.b_base = (uint32_t)rnd(0, A - 1), c.o_base = (uint32_t)rnd(0, A - 1);
  }
  if (nnfm_engine_ew_check(e, &c) != NNFM_OK) return 0;
  /* LUT writes (the model's LUT region follows them) */
  static uint32_t lw[8 * 256 * 2];
  uint32_t nlw = 0;
  if (first) {
    for (uint32_t a = 0; a < 256 * luts; a++) lut_write(e, a, (uint8_t)nnf_rng_u32(&rng), lw, &nlw);
  } else if (rnd(0, 39) == 0) {
    uint32_t t = (uint32_t)rnd(0, luts - 1);
    for (uint32_t a = 0; a < 256; a++) lut_write(e, t * 256 + a, (uint8_t)nnf_rng_u32(&rng), lw, &nlw);
  } else if (rnd(0, 7) == 0) {
    for (int k = (int)rnd(1, 16); k > 0; k--)
      lut_write(e, (uint32_t)rnd(0, 256 * luts - 1), (uint8_t)nnf_rng_u32(&rng), lw, &nlw);
  }
  /* ACT: garbage, then the inputs' data */
  nnf_rng_fill(&rng, e->act, (size_t)A * R);
  const int dmode = (int)(rnd(0, 5) < 3 ? 0 : rnd(1, 2));
  for (uint32_t i = 0; i < words; i++)
    for (int r = 0; r < R; r++) {
      /* fine: the larger-scale input at its zero point (B when a_small) */
      e->act[((size_t)c.a_base + i) * R + r] =
          fine ? (c.p.a_small ? data_of(1, c.p.zp_a) : (uint8_t)c.p.zp_a) : data_of(dmode, c.p.zp_a);
      if (binary)
        e->act[((size_t)c.b_base + i) * R + r] =
            fine ? (c.p.a_small ? (uint8_t)c.p.zp_b : data_of(1, c.p.zp_b)) : data_of(dmode, c.p.zp_b);
    }
  memcpy(before, e->act, (size_t)A * R);
  if (nnfm_engine_ew(e, &c) != NNFM_OK) {
    fprintf(stderr, "gen_ew_cases: nnfm_engine_ew refused a checked case\n");
    exit(1);
  }
  const uint32_t P = G > (uint32_t)(binary ? 2 : 1) ? G : (uint32_t)(binary ? 2 : 1);
  const uint64_t cycles = words ? (uint64_t)(words - 1) * P + G + EW_CYC_FIXED : EW_CYC_EMPTY;
  uint32_t f[NF] = {0};
  f[F_OP] = (uint32_t)op, f[F_N] = c.n, f[F_M] = c.m, f[F_WORDS] = words;
  f[F_ABASE] = c.a_base, f[F_BBASE] = c.b_base, f[F_OBASE] = c.o_base;
  f[F_ZPA] = (uint8_t)(int8_t)c.p.zp_a, f[F_ZPB] = (uint8_t)(int8_t)c.p.zp_b;
  f[F_M0S] = (uint32_t)c.p.m0_s, f[F_NSHIFTS] = (uint32_t)-c.p.shift_s, f[F_ASMALL] = (uint32_t)c.p.a_small;
  f[F_M0] = (uint32_t)c.p.m0, f[F_SHIFT] = (uint8_t)(int8_t)c.p.shift;
  f[F_ZP] = (uint8_t)(int8_t)c.p.zp, f[F_LO] = (uint8_t)(int8_t)c.p.lo, f[F_HI] = (uint8_t)(int8_t)c.p.hi;
  f[F_LUT] = (uint32_t)c.lut, f[F_LUTSEL] = c.lut_sel, f[F_RND] = (uint32_t)c.p.round;
  f[F_ABORT] = rnd(0, 15) ? 0 : (uint32_t)rnd(1, (int64_t)cycles);
  f[F_NB] = binary ? words : 0, f[F_NO] = words, f[F_CYCLES] = (uint32_t)cycles, f[F_NLW] = nlw;
  f[F_MODE] = (uint32_t)(place * 4 + mode);
  /* idle cycles before the start (0: start in the cycle done is high), and
   * abort pulsed in them (and in the LUT writes' cycles) */
  f[F_GAP] = rnd(0, 4) < 2 ? 0 : (uint32_t)rnd(1, 3), f[F_IABORT] = rnd(0, 7) == 0;
  /* a reset in a random cycle of the command instead (~3%) */
  f[F_RESET] = f[F_ABORT] || rnd(0, 31) ? 0 : (uint32_t)rnd(1, (int64_t)cycles);
  for (int i = 0; i < NF; i++) gen_put_u32(&hex, f[i]);
  for (uint32_t i = 0; i < nlw; i++) gen_put_u32(&hex, lw[i]);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, before + ((size_t)c.a_base + i) * R);
  if (binary)
    for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, before + ((size_t)c.b_base + i) * R);
  for (uint32_t i = 0; i < words; i++) gen_put_word(&hex, e->act + ((size_t)c.o_base + i) * R);
  /* the model touched nothing outside O */
  for (uint32_t i = 0; i < A; i++)
    if ((!words || i < c.o_base || i >= c.o_base + words) && memcmp(before + (size_t)i * R, e->act + (size_t)i * R, (size_t)R)) {
      fprintf(stderr, "gen_ew_cases: the model wrote word %u outside O\n", i);
      exit(1);
    }
  for (uint32_t i = 0; i < words; i++)
    for (uint32_t r = 0; r < (uint32_t)R && (i / c.m) * R + r < c.n; r++) {
      const int8_t y = (int8_t)e->act[((size_t)c.o_base + i) * R + r];
      cov.bytes++, cov.at_bound += !c.lut && (y == c.p.lo || y == c.p.hi);
    }
  cov.op[op]++, cov.ragged += c.n % R != 0, cov.tiles += ct > 1, cov.empty += !words;
  if (words) {
    cov.disjoint += place == 0, cov.o_eq_a += place == 1, cov.o_eq_b += place == 2;
    cov.a_eq_b += place == 3, cov.all_eq += place == 4, cov.ab_overlap += place == 5;
  }
  cov.prepared += mode == 0, cov.raw += mode != 0, cov.narrow += c.p.lo > -128 || c.p.hi < 127;
  cov.lo_eq_hi += c.p.lo == c.p.hi, cov.lut += c.lut, cov.aborts += f[F_ABORT] != 0, cov.resets += f[F_RESET] != 0, cov.lut_writes += nlw != 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: gen_ew_cases ROWS ACT_AW LANES LUT_COUNT SEED NCASES NAME OUTDIR\n");
    return 2;
  }
  R = atoi(argv[1]), AW = atoi(argv[2]), LANES = atoi(argv[3]), NL = atoi(argv[4]);
  const char *name = argv[7], *dir = argv[8];
  int ncases = atoi(argv[6]);
  rng = nnf_rng_seed(strtoull(argv[5], NULL, 0));
  if (R < 2 || R > 64 || AW < 6 || AW > 16 || ncases < 1 || LANES < 1 || LANES > R || R % LANES ||
      (LANES & (LANES - 1)) || NL < 1 || NL > NNFM_LUTS_MAX || (NL & (NL - 1))) {
    fprintf(stderr, "gen_ew_cases: ROWS 2..64, ACT_AW 6..16, LANES a power of two dividing ROWS, "
                    "LUT_COUNT 1, 2, 4 or 8, NCASES >= 1\n");
    return 2;
  }
  A = 1u << AW;
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = cfg.cols = R, cfg.act_words = A, cfg.luts = (uint32_t)NL;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  uint8_t *before = malloc((size_t)A * R);
  if (!e || !before) {
    fprintf(stderr, "gen_ew_cases: bad configuration\n");
    return 1;
  }
  if (gen_hex_open(&hex, dir, name, R)) return 1;
  gen_put_u32(&hex, (uint32_t)ncases);
  for (int i = 0; i < ncases;) i += one_case(e, i == 0, before);
  if (gen_hex_close(&hex)) return 1;
  printf("gen_ew_cases %s: %d cases: %d ADD, %d SUB, %d MUL, %d MAP; %d N %% ROWS != 0, %d CT > 1, "
         "%d N or M 0; %d disjoint, %d O == A, %d O == B, %d A == B, %d A == B == O, %d B overlapping A; "
         "%d prepared, %d raw multipliers; %d clamped, %d lo == hi; %d with the LUT, %d with LUT writes; "
         "%d with an abort, %d with a reset; %llu output bytes, %llu of them (no LUT) at lo or hi\n",
         name, ncases, cov.op[0], cov.op[1], cov.op[2], cov.op[3], cov.ragged, cov.tiles, cov.empty,
         cov.disjoint, cov.o_eq_a, cov.o_eq_b, cov.a_eq_b, cov.all_eq, cov.ab_overlap, cov.prepared,
         cov.raw, cov.narrow, cov.lo_eq_hi, cov.lut, cov.lut_writes, cov.aborts, cov.resets,
         (unsigned long long)cov.bytes, (unsigned long long)cov.at_bound);
  char origin[512], params[256];
  snprintf(origin, sizeof origin, "gen_ew_cases %s %s %s %s %s %s", argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]);
  snprintf(params, sizeof params, ".ROWS(%d), .ACT_AW(%d), .LANES(%d), .LUT_COUNT(%d)", R, AW, LANES, NL);
  if (gen_write_top(&hex, dir, name, origin, "tb_vu_ew", params)) return 1;
  free(before);
  nnfm_engine_destroy(e);
  return 0;
}
