/*
 * gen_icarus_case.c - write one case for the Icarus testbench: an operation
 * list (nnf_ops.h) and, from the functional model, the output expected of it.
 *
 *   gen_icarus_case [--config ROWS ACT_WORDS W_WORDS P_WORDS ACC_DEPTH] <case> <ops.hex> <expected.hex>
 *   gen_icarus_case [--config ...] random SEED <ops.hex> <expected.hex>
 *   gen_icarus_case --shape M K N <ops.hex> <expected.hex>
 *
 * Cases (default configuration, nnfm_config_default(), or the one given with
 * --config (COLS = ROWS); the list starts with it and the testbench checks
 * it against nnf_gemm's parameters):
 *   tiny     1x1x1 and 2x3x4
 *   ragged   ragged K and N, a block just long enough to stream back to back,
 *            zero point and ReLU clamp
 *   lut      the activation LUT, saturating gains, a lo == hi clamp
 *   zero     K = 0, and M = 0 / N = 0 commands with wild addresses
 *   mblock   M beyond ACC_DEPTH (two M blocks; one K and one N tile)
 *   chain    two layers back to back (the second reads the first's output)
 *            with host ACT writes streamed in while the first runs
 *   random   a seeded random sequence of 3..7 commands: sizes (ragged K and
 *            N tiles, K = 0, M beyond ACC_DEPTH), zero points and clamps,
 *            the LUT on or off (with a fresh random LUT), saturation corners
 *            (extreme bias, every shift, m0 up to 2^31 - 1), chains (a
 *            command reading the previous one's output, issued back to back)
 *            and ACT writes streamed in while a command runs
 *   --shape  one layer M x K x N (the bench workload)
 * Only words a command reads are written (the rest of Icarus' memories stay
 * X), and only written words are read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ops.h"
#include "nnf_test.h"

static nnf_rng rng;

static void die(const char *what, int st) {
  fprintf(stderr, "gen_icarus_case: %s: %s\n", what, nnfm_strerror(st));
  exit(1);
}
#define TRY(call, what)        \
  do {                         \
    int st_ = (call);          \
    if (st_) die(what, st_);   \
  } while (0)

typedef struct {
  int32_t bias_lo, bias_hi;
  int shift_lo, shift_hi; /* m0 in [2^30, 2^31) */
} pspec;

static const pspec P_NORMAL = {-20000, 20000, -14, -9};

/* Random data for a layer into the model (A unless keep_a, W, P), uploaded. */
static void layer_data(nnf_ops *o, const nnfm_cmd *c, int keep_a, pspec ps) {
  size_t an = (size_t)c->m * c->k, wn = (size_t)c->k * c->n;
  int8_t *a = malloc(an + 1), *w = malloc(wn + 1);
  int32_t *b = malloc(4 * ((size_t)c->n + 1)), *q = malloc(4 * ((size_t)c->n + 1));
  int8_t *s = malloc((size_t)c->n + 1);
  nnf_rng_fill(&rng, a, an);
  for (size_t i = 0; i < wn; i++) w[i] = (int8_t)nnf_rng_range(&rng, -127, 127);
  for (uint32_t j = 0; j < c->n; j++) {
    b[j] = (int32_t)nnf_rng_range(&rng, ps.bias_lo, ps.bias_hi);
    q[j] = (int32_t)nnf_rng_range(&rng, 1 << 30, INT32_MAX);
    s[j] = (int8_t)nnf_rng_range(&rng, ps.shift_lo, ps.shift_hi);
  }
  if (!keep_a) TRY(nnfm_engine_put_act(o->e, c->a_base, a, c->m, c->k), "put_act");
  TRY(nnfm_engine_put_weights(o->e, c->w_base, w, c->k, c->n), "put_weights");
  TRY(nnfm_engine_put_params(o->e, c->p_base, b, q, s, c->n), "put_params");
  TRY(nnf_ops_upload_layer(o, c, keep_a), "upload");
  free(a);
  free(w);
  free(b);
  free(q);
  free(s);
}

static nnfm_cmd cmd_at(uint32_t m, uint32_t k, uint32_t n, uint32_t a_base, uint32_t o_base) {
  nnfm_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.m = m, c.k = k, c.n = n, c.a_base = a_base, c.o_base = o_base;
  c.lo = -128, c.hi = 127;
  return c;
}

/* One layer at A = 0, O after it, W = P = 0: data, command, read back. */
static void simple(nnf_ops *o, nnfm_cmd c, pspec ps) {
  layer_data(o, &c, 0, ps);
  TRY(nnf_ops_cmd(o, &c), "command");
  TRY(nnf_ops_read_output(o, &c), "read");
}

static nnfm_cmd at0(const nnfm_config *cfg, uint32_t m, uint32_t k, uint32_t n) {
  return cmd_at(m, k, n, 0, nnfm_act_words(cfg, m, k));
}

/* Random parameters: normal, or one of the saturation corners. */
static pspec random_pspec(void) {
  switch (nnf_rng_range(&rng, 0, 5)) {
  case 0: return (pspec){INT32_MIN, INT32_MAX, 20, 30};  /* |y| huge: clamps */
  case 1: return (pspec){INT32_MIN, INT32_MAX, -31, 30}; /* every shift */
  case 2: return (pspec){-100, 100, -3, 0};              /* small sums, coarse scale */
  default: return P_NORMAL;
  }
}

static void random_clamp(nnfm_cmd *c) {
  c->zp = (int32_t)nnf_rng_range(&rng, -128, 127);
  c->lo = (int32_t)nnf_rng_range(&rng, -128, 127);
  c->hi = (int32_t)nnf_rng_range(&rng, c->lo, 127);
  if (nnf_rng_range(&rng, 0, 2)) c->lo = -128, c->hi = 127;
  c->lut = (int)nnf_rng_range(&rng, 0, 1);
}

/* One random size: mostly within a few tiles, sometimes larger. */
static uint32_t rdim(uint32_t lo, uint32_t tile) {
  uint32_t hi = nnf_rng_range(&rng, 0, 4) ? 3 * tile + 3 : 8 * tile + 5;
  return (uint32_t)nnf_rng_range(&rng, lo, hi);
}

/* The random case: commands at A = `at` (moving up ACT, wrapping to 0),
 * outputs read back after each command or pair. */
static void random_case(nnf_ops *o, const nnfm_config *cfg) {
  const uint32_t R = (uint32_t)cfg->rows, C = (uint32_t)cfg->cols;
  int ncmd = (int)nnf_rng_range(&rng, 3, 7);
  uint32_t at = 0;
  for (int i = 0; i < ncmd; i++) {
    if (i == 0 || nnf_rng_range(&rng, 0, 2) == 0) { /* a fresh LUT (Icarus: never unwritten) */
      int8_t lut[256];
      nnf_rng_fill(&rng, lut, sizeof lut);
      TRY(nnf_ops_write(o, 3, 0, (const uint8_t *)lut, 256), "lut");
    }
    uint32_t m = rdim(1, R);
    if (nnf_rng_range(&rng, 0, 7) == 0) m = cfg->acc_depth + (uint32_t)nnf_rng_range(&rng, 1, R + 3);
    uint32_t k = rdim(0, R), n = rdim(1, C), n2 = rdim(1, C);
    int chain = nnf_rng_range(&rng, 0, 2) == 0;
    uint32_t words = nnfm_act_words(cfg, m, k) + nnfm_act_words(cfg, m, n) + (chain ? nnfm_act_words(cfg, m, n2) : 0);
    uint32_t wwords = nnfm_w_words(cfg, k, n) + (chain ? nnfm_w_words(cfg, n, n2) : 0);
    uint32_t pwords = nnfm_p_entries(cfg, n) + (chain ? nnfm_p_entries(cfg, n2) : 0);
    if (words + 64 > cfg->act_words || wwords > cfg->w_words || pwords > cfg->p_words) {
      i--; /* does not fit this configuration: draw again */
      continue;
    }
    if (at + words + 64 > cfg->act_words) at = 0;
    nnfm_cmd c1 = cmd_at(m, k, n, at, at + nnfm_act_words(cfg, m, k));
    c1.w_base = (uint32_t)nnf_rng_range(&rng, 0, cfg->w_words - wwords);
    c1.p_base = (uint32_t)nnf_rng_range(&rng, 0, cfg->p_words - pwords);
    random_clamp(&c1);
    layer_data(o, &c1, 0, random_pspec());
    TRY(nnf_ops_cmd(o, &c1), "command");
    uint32_t end = c1.o_base + nnfm_act_words(cfg, m, n);
    if (chain) {
      nnfm_cmd c2 = cmd_at(m, n, n2, c1.o_base, end);
      c2.w_base = c1.w_base + nnfm_w_words(cfg, k, n);
      c2.p_base = c1.p_base + nnfm_p_entries(cfg, n);
      random_clamp(&c2);
      /* W and P of the second layer go in before the first runs */
      layer_data(o, &c2, 1, random_pspec());
      TRY(nnf_ops_cmd(o, &c2), "chained command"); /* taken as soon as the first is done */
      end = c2.o_base + nnfm_act_words(cfg, m, n2);
      if (nnf_rng_range(&rng, 0, 1)) { /* ACT writes while it runs, after its output */
        uint8_t buf[48];
        uint32_t len = (uint32_t)nnf_rng_range(&rng, 1, sizeof buf);
        nnf_rng_fill(&rng, buf, len);
        TRY(nnf_ops_write(o, 0, (end + 1) * R, buf, len), "writes while busy");
        nnf_ops_sync(o);
        TRY(nnf_ops_read(o, 0, (end + 1) * R, len), "read written");
      }
      TRY(nnf_ops_read_output(o, &c1), "read 1");
      TRY(nnf_ops_read_output(o, &c2), "read 2");
    } else {
      TRY(nnf_ops_read_output(o, &c1), "read");
    }
    at = end + 64 <= cfg->act_words ? end : 0;
  }
}

int main(int argc, char **argv) {
  nnfm_config cfg = nnfm_config_default();
  if (argc > 6 && !strcmp(argv[1], "--config")) {
    cfg.rows = cfg.cols = atoi(argv[2]);
    cfg.act_words = (uint32_t)strtoul(argv[3], NULL, 0);
    cfg.w_words = (uint32_t)strtoul(argv[4], NULL, 0);
    cfg.p_words = (uint32_t)strtoul(argv[5], NULL, 0);
    cfg.acc_depth = (uint32_t)strtoul(argv[6], NULL, 0);
    argc -= 6;
    argv += 6;
  }
  const char *name = argc > 1 ? argv[1] : "";
  int shape = !strcmp(name, "--shape"), rnd = !strcmp(name, "random");
  if (argc != (shape ? 7 : rnd ? 5 : 4)) {
    fprintf(stderr,
            "usage: gen_icarus_case [--config ROWS ACT W P ACC] <tiny|ragged|lut|zero|mblock|chain> <ops.hex> <expected.hex>\n"
            "       gen_icarus_case [--config ROWS ACT W P ACC] random SEED <ops.hex> <expected.hex>\n"
            "       gen_icarus_case --shape M K N <ops.hex> <expected.hex>\n");
    return 2;
  }
  uint64_t seed = 0x1CA2u;
  for (const char *p = name; *p; p++) seed = seed * 131 + (unsigned char)*p;
  if (rnd) seed = seed * 1000003u + strtoull(argv[2], NULL, 0);
  rng = nnf_rng_seed(seed);
  const uint32_t R = (uint32_t)cfg.rows, C = (uint32_t)cfg.cols;
  nnf_ops o;
  memset(&o, 0, sizeof o);
  o.e = nnfm_engine_create(&cfg);
  o.ops = fopen(argv[argc - 2], "w");
  o.expect = fopen(argv[argc - 1], "w");
  if (!o.e || !o.ops || !o.expect) {
    fprintf(stderr, "gen_icarus_case: cannot create the engine or the files\n");
    return 1;
  }
  nnf_ops_cfg(&o);

  if (rnd) {
    random_case(&o, &cfg);
  } else if (shape) {
    nnfm_cmd c = at0(&cfg, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
    simple(&o, c, P_NORMAL);
  } else if (!strcmp(name, "tiny")) {
    simple(&o, at0(&cfg, 1, 1, 1), P_NORMAL);
    nnfm_cmd c = at0(&cfg, 2, 3, 4);
    c.zp = -7;
    simple(&o, c, (pspec){-100, 100, -6, -4});
  } else if (!strcmp(name, "ragged")) {
    nnfm_cmd c = at0(&cfg, 5, 13, 11);
    c.zp = 3, c.lo = 3; /* ReLU */
    simple(&o, c, P_NORMAL);
    c = at0(&cfg, R + C + 1, 2 * R + 1, C - 1); /* back-to-back tiles */
    c.zp = -20;
    simple(&o, c, P_NORMAL);
    c = at0(&cfg, 3, 3 * R - 1, 2 * C + 1);
    simple(&o, c, P_NORMAL);
  } else if (!strcmp(name, "lut")) {
    int8_t lut[256];
    for (int i = 0; i < 256; i++) lut[i] = (int8_t)nnf_rng_u32(&rng);
    TRY(nnf_ops_write(&o, 3, 0, (const uint8_t *)lut, 256), "lut");
    nnfm_cmd c = at0(&cfg, 9, 20, 10);
    c.lut = 1, c.zp = 5;
    simple(&o, c, P_NORMAL);
    c.lo = -100, c.hi = 90;
    simple(&o, c, (pspec){INT32_MIN, INT32_MAX, 20, 30}); /* saturating */
    c.lo = c.hi = 42;
    c.lut = 0;
    simple(&o, c, P_NORMAL);
    TRY(nnf_ops_read(&o, 3, 0, 256), "read lut");
  } else if (!strcmp(name, "zero")) {
    nnfm_cmd c = at0(&cfg, 4, 0, 5);
    c.zp = 9;
    simple(&o, c, (pspec){-1000000, 1000000, -14, -12});
    nnfm_cmd z = cmd_at(0, 7, 9, 0xFFFFFFF0u, 0x12345678u);
    z.w_base = 0xFFFFFFFFu, z.p_base = 0xABCDu;
    TRY(nnf_ops_cmd(&o, &z), "M = 0");
    z.m = 6, z.n = 0;
    TRY(nnf_ops_cmd(&o, &z), "N = 0");
    TRY(nnf_ops_read_output(&o, &c), "read again"); /* nothing changed */
    simple(&o, at0(&cfg, 2, 2, 2), P_NORMAL);
  } else if (!strcmp(name, "mblock")) {
    simple(&o, at0(&cfg, cfg.acc_depth + 37, R - 3, C - 1), P_NORMAL);
  } else if (!strcmp(name, "chain")) {
    /* layer 1: 20 x 2R+5 -> C+3 at A = 0; layer 2 reads its output */
    const uint32_t M = 20;
    nnfm_cmd c1 = at0(&cfg, M, 2 * R + 5, C + 3);
    c1.zp = -10, c1.lo = -10;
    nnfm_cmd c2 = cmd_at(M, c1.n, C - 2, c1.o_base, c1.o_base + nnfm_act_words(&cfg, M, c1.n));
    c2.w_base = nnfm_w_words(&cfg, c1.k, c1.n);
    c2.p_base = nnfm_p_entries(&cfg, c1.n);
    layer_data(&o, &c1, 0, P_NORMAL);
    layer_data(&o, &c2, 1, P_NORMAL);
    TRY(nnf_ops_cmd(&o, &c1), "layer 1");
    TRY(nnf_ops_cmd(&o, &c2), "layer 2"); /* held valid: taken right after layer 1 */
    /* host ACT writes while layer 2 runs, after both regions */
    uint32_t free_word = c2.o_base + nnfm_act_words(&cfg, M, c2.n) + 3;
    uint8_t buf[100];
    nnf_rng_fill(&rng, buf, sizeof buf);
    TRY(nnf_ops_write(&o, 0, free_word * R, buf, sizeof buf), "writes while busy");
    nnf_ops_sync(&o);
    TRY(nnf_ops_read_output(&o, &c1), "read 1");
    TRY(nnf_ops_read_output(&o, &c2), "read 2");
    TRY(nnf_ops_read(&o, 0, free_word * R, sizeof buf), "read written");
  } else {
    fprintf(stderr, "gen_icarus_case: no case %s\n", name);
    return 2;
  }
  nnf_ops_end(&o);
  int bad = ferror(o.ops) || ferror(o.expect);
  bad |= fclose(o.ops) != 0;
  bad |= fclose(o.expect) != 0;
  nnfm_engine_destroy(o.e);
  if (bad) {
    fprintf(stderr, "gen_icarus_case: write error\n");
    return 1;
  }
  return 0;
}
