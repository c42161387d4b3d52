/*
 * test_rtl_gemm.c - the RTL GEMM engine (Verilated, through nnfsim) against
 * the functional model (nnfm_engine_gemm), bit for bit.
 *
 *   test_rtl_gemm [--seed S] [--cases N] [--first I] [--full-every F]
 *                 [--big PCT] [--no-directed] [-v]
 *
 * Directed cases first (corners: 1x1x1, zero sizes with wild addresses,
 * K = 0, maximum sizes, accumulator wrap, saturation, the command port
 * changing while busy, host ACT writes while busy with hp_wait, reset in the
 * middle of a command, cnt_clear), then N seeded random cases. Case i draws
 * everything from its own generator seeded by (S, i), and uploads everything
 * it reads, so `--first i --cases 1` replays one case alone.
 *
 * A random case: shapes from 0 to M=128/K=784/N=128 (a few M-blocked, M up
 * to 2.5 x ACC_DEPTH; shrunk to fit the device's buffers), random placement
 * of A, O, W and P, int8 data in several distributions (uniform, extremes,
 * sparse), bias / m0 / shift from realistic to saturating, zero points,
 * clamps (none, ReLU, ReLU6-like, random, lo == hi), the LUT; sometimes a
 * second, chained layer (its input is the first layer's output region, left
 * on the device), issued back to back on the command port (held valid while
 * the first runs) or after it; sometimes host ACT writes streamed in while a
 * command runs.
 *
 * What is compared (the device read back through the host port):
 *   - after every case: each command's whole output region, the words just
 *     before and after it, the region written while busy, a few words of the
 *     input region and a few random words anywhere in ACT; the cnt_macs
 *     increment against the model's MAC count, and cnt_busy against the
 *     structural lower bound (at most one row enters the array per cycle);
 *   - every F cases and at the end: the WHOLE ACT image, and at the end all
 *     four regions. Reading the whole ACT image (ACT_WORDS * ROWS bytes, one
 *     per cycle) after every case would cost more than the cases themselves;
 *     since the model and the device start from the same image and every
 *     write goes to both, a stray RTL write anywhere is still caught, at the
 *     latest by the next full comparison (and most by the neighbour words).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "rtl_harness.h"

static int verbose;

/* ---- random helpers ------------------------------------------------------------ */

static int chance(nnf_rng *r, int pct) { return (int)nnf_rng_range(r, 0, 99) < pct; }

/* An integer in [lo, hi], skewed toward small values (uniform exponent). */
static uint32_t skewed(nnf_rng *r, uint32_t lo, uint32_t hi) {
  int bits = 0;
  while (bits < 31 && ((uint64_t)1 << bits) <= hi) bits++;
  uint32_t top = (uint32_t)((uint64_t)1 << nnf_rng_range(r, 0, bits));
  if (top > hi) top = hi;
  if (top < lo) top = lo;
  return (uint32_t)nnf_rng_range(r, lo, top);
}

static uint32_t pick(nnf_rng *r, const uint32_t *v, int n) { return v[nnf_rng_range(r, 0, n - 1)]; }

/* ---- placement ----------------------------------------------------------------- */

typedef struct {
  int64_t lo, hi; /* [lo, hi) */
} ivl;

/* A base b in [0, depth - len] with [b, b + len) disjoint from every avoided
 * interval; -1 if there is none. */
static int64_t place(nnf_rng *r, int64_t len, int64_t depth, const ivl *avoid, int navoid) {
  if (len > depth) return -1;
  for (int t = 0; t < 200; t++) {
    int64_t b = nnf_rng_range(r, 0, depth - len), ok = 1;
    for (int i = 0; i < navoid && ok; i++)
      if (avoid[i].lo < avoid[i].hi && b < avoid[i].hi && avoid[i].lo < b + len) ok = 0;
    if (ok) return b;
  }
  /* dense: try the gaps' starts */
  for (int j = -1; j < navoid; j++) {
    int64_t b = j < 0 ? 0 : avoid[j].hi, ok = b + len <= depth;
    for (int i = 0; i < navoid && ok; i++)
      if (avoid[i].lo < avoid[i].hi && b < avoid[i].hi && avoid[i].lo < b + len) ok = 0;
    if (ok) return b;
  }
  return -1;
}

/* ---- layers ---------------------------------------------------------------------- */

typedef struct {
  nnfm_cmd c;
  uint32_t a_words, o_words, w_words, p_entries;
} layer;

static void describe(char *buf, size_t n, const nnfm_cmd *c) {
  snprintf(buf, n, "M=%u K=%u N=%u a=%u w=%u p=%u o=%u zp=%d lo=%d hi=%d lut=%d", c->m, c->k, c->n,
           c->a_base, c->w_base, c->p_base, c->o_base, (int)c->zp, (int)c->lo, (int)c->hi, c->lut);
}

static void sizes(const nnfm_config *cfg, layer *L) {
  L->a_words = nnfm_act_words(cfg, L->c.m, L->c.k);
  L->o_words = nnfm_p_entries(cfg, L->c.n) * L->c.m;
  L->w_words = nnfm_w_words(cfg, L->c.k, L->c.n);
  L->p_entries = nnfm_p_entries(cfg, L->c.n);
}

/* Shrink (m, k, n) until a layer fits the device with room to spare. */
static void fit(const nnfm_config *cfg, uint32_t *m, uint32_t *k, uint32_t *n) {
  for (;;) {
    layer L;
    memset(&L, 0, sizeof L);
    L.c.m = *m;
    L.c.k = *k;
    L.c.n = *n;
    sizes(cfg, &L);
    int big_act = (uint64_t)L.a_words + L.o_words > (uint64_t)cfg->act_words / 2;
    int big_w = L.w_words > cfg->w_words;
    int big_p = L.p_entries > cfg->p_words;
    if (!big_act && !big_w && !big_p) return;
    if (big_p || (big_w && *n > *k)) *n = *n / 2;
    else if (big_w) *k = *k / 2;
    else if (*m > 2 * (uint32_t)cfg->rows && *m >= *k / 4) *m = *m / 2;
    else if (*k > *n) *k = *k / 2;
    else *n = *n / 2;
  }
}

/* int8 data in one of a few distributions. */
static void fill_i8(nnf_rng *r, int8_t *v, size_t n, int symmetric) {
  int mode = (int)nnf_rng_range(r, 0, 9);
  for (size_t i = 0; i < n; i++) {
    int x;
    if (mode <= 5) x = (int)nnf_rng_range(r, symmetric ? -127 : -128, 127); /* uniform */
    else if (mode == 6) x = chance(r, 50) ? (symmetric ? -127 : -128) : 127; /* extremes */
    else if (mode == 7) x = chance(r, 85) ? 0 : (int)nnf_rng_range(r, -128, 127); /* sparse */
    else if (mode == 8) x = (int)nnf_rng_range(r, -4, 4); /* small */
    else x = (int)nnf_rng_range(r, 0, 127); /* non-negative (post-ReLU) */
    v[i] = (int8_t)x;
  }
}

/* Per-channel parameters, from realistic to saturating; always valid. */
static void gen_params(nnf_rng *r, uint32_t n, uint32_t k, int32_t *bias, int32_t *m0, int8_t *shift) {
  int bmode = (int)nnf_rng_range(r, 0, 9), qmode = (int)nnf_rng_range(r, 0, 9);
  /* an accumulator scale: |acc| is of the order of 2^(13 + log2(sqrt(K))) */
  int lg = 13;
  for (uint32_t t = k; t > 1; t >>= 2) lg++;
  for (uint32_t j = 0; j < n; j++) {
    int32_t b;
    if (bmode <= 4) b = (int32_t)nnf_rng_range(r, -(1 << lg), 1 << lg);
    else if (bmode == 5) b = 0;
    else if (bmode == 6) b = (int32_t)nnf_rng_u32(r); /* anything: wraps */
    else if (bmode == 7) {
      static const int32_t ext[] = {INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30)};
      b = ext[nnf_rng_range(r, 0, 5)];
    } else b = (int32_t)nnf_rng_range(r, -(1 << 24), 1 << 24);
    int32_t q;
    int s;
    if (qmode <= 5) { /* output spans int8 */
      q = (int32_t)nnf_rng_range(r, 1 << 30, INT32_MAX);
      s = 7 - lg + (int)nnf_rng_range(r, -2, 2);
    } else if (qmode == 6) { /* anything valid */
      q = (int32_t)nnf_rng_range(r, 0, INT32_MAX);
      s = (int)nnf_rng_range(r, NNFM_SHIFT_MIN, NNFM_SHIFT_MAX);
    } else if (qmode == 7) { /* saturating: huge gain */
      q = (int32_t)nnf_rng_range(r, 1 << 30, INT32_MAX);
      s = (int)nnf_rng_range(r, 20, NNFM_SHIFT_MAX);
    } else if (qmode == 8) { /* extreme pairs */
      static const int32_t qs[] = {0, 1, 1 << 30, INT32_MAX};
      static const int ss[] = {NNFM_SHIFT_MIN, NNFM_SHIFT_MIN + 1, -1, 0, 1, NNFM_SHIFT_MAX};
      q = qs[nnf_rng_range(r, 0, 3)];
      s = ss[nnf_rng_range(r, 0, 5)];
    } else { /* tiny gain: rounding of small values */
      q = (int32_t)nnf_rng_range(r, 1 << 30, INT32_MAX);
      s = (int)nnf_rng_range(r, NNFM_SHIFT_MIN, -20);
    }
    if (s < NNFM_SHIFT_MIN) s = NNFM_SHIFT_MIN;
    if (s > NNFM_SHIFT_MAX) s = NNFM_SHIFT_MAX;
    bias[j] = b;
    m0[j] = q;
    shift[j] = (int8_t)s;
  }
}

/* Output format: zero point, clamp, LUT flag. */
static void gen_format(nnf_rng *r, nnfm_cmd *c) {
  int zp = chance(r, 30) ? 0 : (int)nnf_rng_range(r, -128, 127);
  int lo = -128, hi = 127;
  switch (nnf_rng_range(r, 0, 5)) {
  case 0: case 1: break; /* none */
  case 2: lo = zp; break; /* ReLU */
  case 3: /* ReLU6-like: [zp, zp + 6 / scale] */
    lo = zp;
    hi = zp + (int)nnf_rng_range(r, 0, 60);
    if (hi > 127) hi = 127;
    break;
  case 4: /* random interval */
    lo = (int)nnf_rng_range(r, -128, 127);
    hi = (int)nnf_rng_range(r, lo, 127);
    break;
  default: /* lo == hi */
    lo = hi = (int)nnf_rng_range(r, -128, 127);
    break;
  }
  c->zp = zp;
  c->lo = lo;
  c->hi = hi;
  c->lut = chance(r, 25);
}

/* The padding of a layer's inputs (A lanes k >= K, W rows k >= K and
 * columns n >= N, P lanes n >= N) holds garbage: the engine masks it (the
 * host need not pad), so the results must not change. P padding may even
 * hold invalid (m0, shift): only lanes n < N are checked. */
static void garble_padding(rtl_h *h, nnf_rng *r, const layer *L, int keep_a, int garble_p) {
  const nnfm_cmd *c = &L->c;
  const uint32_t R = (uint32_t)h->cfg.rows, C = (uint32_t)h->cfg.cols;
  const uint32_t KT = c->k ? (c->k + R - 1) / R : 1, NT = (c->n + C - 1) / C;
  const uint32_t k_last = c->k - (KT - 1) * R; /* valid lanes of the last K tile (0 if K = 0) */
  const uint32_t n_last = c->n - (NT - 1) * C;
  if (!keep_a)
    for (uint32_t m = 0; m < c->m; m++) {
      uint8_t *word = h->e->act + ((size_t)c->a_base + (size_t)(KT - 1) * c->m + m) * R;
      for (uint32_t b = k_last; b < R; b++) word[b] = (uint8_t)nnf_rng_u32(r);
    }
  for (uint32_t nt = 0; nt < NT; nt++)
    for (uint32_t kt = 0; kt < KT; kt++)
      for (uint32_t row = 0; row < R; row++) {
        uint8_t *word = h->e->w + ((size_t)c->w_base + ((size_t)nt * KT + kt) * R + row) * C;
        int pad_row = kt == KT - 1 && row >= k_last;
        for (uint32_t b = 0; b < C; b++)
          if (pad_row || (nt == NT - 1 && b >= n_last)) word[b] = (uint8_t)nnf_rng_u32(r);
      }
  if (NT && garble_p)
    for (uint32_t j = n_last; j < C; j++) {
      size_t slot = ((size_t)c->p_base + NT - 1) * C + j;
      h->e->bias[slot] = (int32_t)nnf_rng_u32(r);
      h->e->m0[slot] = (int32_t)nnf_rng_u32(r);
      h->e->shift[slot] = (int8_t)nnf_rng_u32(r);
    }
}

/* Put a layer's A (unless keep_a), W and P into the model and the device.
 * garble_p: P padding lanes may get garbage (not when they are lanes another
 * layer of the case uses). */
static void load_layer(rtl_h *h, nnf_rng *r, const layer *L, int keep_a, int garble_p) {
  const nnfm_cmd *c = &L->c;
  if (!keep_a) {
    int8_t *a = malloc((size_t)c->m * c->k + 1);
    fill_i8(r, a, (size_t)c->m * c->k, 0);
    CHECK_OK(nnfm_engine_put_act(h->e, c->a_base, a, c->m, c->k));
    free(a);
  }
  int8_t *w = malloc((size_t)c->k * c->n + 1);
  fill_i8(r, w, (size_t)c->k * c->n, chance(r, 70));
  CHECK_OK(nnfm_engine_put_weights(h->e, c->w_base, w, c->k, c->n));
  free(w);
  int32_t *bias = malloc(((size_t)c->n + 1) * 4), *m0 = malloc(((size_t)c->n + 1) * 4);
  int8_t *sh = malloc((size_t)c->n + 1);
  gen_params(r, c->n, c->k, bias, m0, sh);
  CHECK_OK(nnfm_engine_put_params(h->e, c->p_base, bias, m0, sh, c->n));
  if (chance(r, 50)) garble_padding(h, r, L, keep_a, garble_p);
  if (!keep_a) rtl_upload_act_words(h, c->a_base, L->a_words);
  rtl_upload_w_words(h, c->w_base, L->w_words);
  rtl_upload_p_entries(h, c->p_base, L->p_entries);
  free(bias);
  free(m0);
  free(sh);
  if (c->lut) {
    nnf_rng_fill(r, h->e->lut, 256);
    rtl_upload_lut(h);
  }
}

/* Choose W and P bases for a layer (anywhere they fit). */
static void place_wp(rtl_h *h, nnf_rng *r, layer *L) {
  L->c.w_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)h->cfg.w_words - L->w_words);
  L->c.p_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)h->cfg.p_words - L->p_entries);
}

/* Model and counters of one command already run on the device. */
static void check_counts(rtl_h *h, const nnfm_cmd *c, uint64_t busy, uint64_t macs_dev, uint64_t macs_model) {
  CHECK_EQ_U64(macs_dev, macs_model);
  uint64_t R = (uint64_t)h->cfg.rows, C = (uint64_t)h->cfg.cols;
  uint64_t KT = c->k ? (c->k + R - 1) / R : 1, NT = (c->n + C - 1) / C;
  if (c->m && c->n) CHECK(busy >= (uint64_t)c->m * KT * NT); /* one row per cycle at most */
  else CHECK(busy <= 2);                                      /* completes at once */
}

/* After a layer ran on both sides: its output region and the words around it,
 * a few words of its input region. */
static void compare_layer(rtl_h *h, nnf_rng *r, const layer *L, const char *what) {
  const nnfm_cmd *c = &L->c;
  if (!c->m || !c->n) return;
  rtl_compare_act_words(h, c->o_base, L->o_words, what);
  rtl_compare_act_words(h, (int64_t)c->o_base - 1, 1, "word before the output region");
  rtl_compare_act_words(h, (int64_t)c->o_base + L->o_words, 1, "word after the output region");
  for (int i = 0; i < 2; i++)
    rtl_compare_act_words(h, c->a_base + nnf_rng_range(r, 0, (int64_t)L->a_words - 1), 1, "input region");
}

static void compare_random_words(rtl_h *h, nnf_rng *r, int n) {
  for (int i = 0; i < n; i++)
    rtl_compare_act_words(h, nnf_rng_range(r, 0, (int64_t)h->cfg.act_words - 1), 1, "random ACT word");
}

/* Run on the device with nnfsim_gemm (or start + host ACT writes to
 * [wr_word, +wr_words) + wait), then on the model; check the counters. */
static void run_layer(rtl_h *h, nnf_rng *r, const layer *L, int64_t wr_word, int64_t wr_words) {
  uint64_t busy = 0, macs = 0, macs_model = 0;
  if (wr_words > 0) {
    nnfsim_ports *p = nnfsim_ports_of(h->s);
    uint64_t b0 = p->cnt_busy, m0 = p->cnt_macs;
    size_t len = (size_t)wr_words * (size_t)h->cfg.rows;
    uint8_t *buf = malloc(len);
    nnf_rng_fill(r, buf, len);
    int rc = nnfsim_gemm_start(h->s, &L->c);
    if (rc) fprintf(stderr, "%s\n", nnfsim_last_error(h->s));
    CHECK_OK(rc);
    uint32_t addr = (uint32_t)wr_word * (uint32_t)h->cfg.rows;
    CHECK_OK(nnfsim_write(h->s, 0, addr, buf, len));
    for (size_t i = 0; i < len; i++) CHECK_OK(nnfm_engine_write_byte(h->e, 0, addr + (uint32_t)i, buf[i]));
    CHECK_OK(nnfsim_gemm_wait(h->s, 0));
    busy = p->cnt_busy - b0;
    macs = p->cnt_macs - m0;
    free(buf);
  } else {
    int rc = nnfsim_gemm(h->s, &L->c, 0, &busy, &macs);
    if (rc) fprintf(stderr, "%s\n", nnfsim_last_error(h->s));
    CHECK_OK(rc);
  }
  CHECK_OK(nnfm_engine_gemm(h->e, &L->c, &macs_model));
  check_counts(h, &L->c, busy, macs, macs_model);
}

/* Two commands back to back: the first through nnfsim_gemm_start, the second
 * held on the command port (cmd_valid high, its fields on the port while the
 * first runs) until the engine takes it, the cycle after the first's done. */
static void run_back_to_back(rtl_h *h, const layer *A, const layer *B) {
  nnfsim_ports *p = nnfsim_ports_of(h->s);
  uint64_t m0 = p->cnt_macs, ma = 0, mb = 0;
  CHECK_OK(nnfm_engine_check(h->e, &B->c)); /* B's parameters are valid on the device too */
  int rc = nnfsim_gemm_start(h->s, &A->c);
  if (rc) fprintf(stderr, "%s\n", nnfsim_last_error(h->s));
  CHECK_OK(rc);
  p->cmd_m = (uint16_t)B->c.m;
  p->cmd_k = (uint16_t)B->c.k;
  p->cmd_n = (uint16_t)B->c.n;
  p->cmd_a_base = B->c.a_base;
  p->cmd_w_base = B->c.w_base;
  p->cmd_p_base = B->c.p_base;
  p->cmd_o_base = B->c.o_base;
  p->cmd_zp = (int8_t)B->c.zp;
  p->cmd_lo = (int8_t)B->c.lo;
  p->cmd_hi = (int8_t)B->c.hi;
  p->cmd_lut = (uint8_t)B->c.lut;
  p->cmd_valid = 1;
  int saw_done = 0;
  for (uint64_t n = 0;; n++) {
    CHECK(n < 100000000);
    int ready = p->cmd_ready;
    nnfsim_step(h->s, 1);
    saw_done |= p->done;
    if (ready) break; /* taken on this edge */
  }
  p->cmd_valid = 0;
  CHECK(saw_done); /* A's done came before B was taken */
  CHECK(p->busy);
  CHECK_OK(nnfsim_gemm_wait(h->s, 100000000));
  CHECK_OK(nnfm_engine_gemm(h->e, &A->c, &ma));
  CHECK_OK(nnfm_engine_gemm(h->e, &B->c, &mb));
  CHECK_EQ_U64(p->cnt_macs - m0, ma + mb);
}

/* ---- random cases ---------------------------------------------------------------- */

typedef struct {
  uint64_t seed;
  int big_pct; /* percentage of large shapes */
} opts;

static void gen_shape(rtl_h *h, nnf_rng *r, const opts *o, uint32_t *m, uint32_t *k, uint32_t *n) {
  const uint32_t R = (uint32_t)h->cfg.rows, D = h->cfg.acc_depth;
  int kind = (int)nnf_rng_range(r, 0, 99);
  if (kind < o->big_pct) { /* large: up to M=128, K=784, N=128 */
    *m = skewed(r, 1, 128);
    *k = skewed(r, 1, 784);
    *n = skewed(r, 1, 128);
    if (chance(r, 10)) *m = 128, *k = 784, *n = 128;
  } else if (kind < o->big_pct + 3) { /* M-blocked */
    *m = (uint32_t)nnf_rng_range(r, D + 1, D * 5 / 2);
    *k = skewed(r, 0, 3 * R);
    *n = skewed(r, 1, 2 * R);
  } else if (kind < o->big_pct + 8) { /* a zero size */
    *m = skewed(r, 0, 40);
    *k = skewed(r, 0, 40);
    *n = skewed(r, 0, 40);
    int z = (int)nnf_rng_range(r, 0, 3);
    if (z == 0) *m = 0;
    else if (z == 1) *n = 0;
    else if (z == 2) *k = 0;
    else *m = *n = *k = 0;
  } else if (kind < o->big_pct + 25) { /* tile edges: ragged K and N, short blocks */
    const uint32_t ks[] = {1, R - 1, R, R + 1, 2 * R - 1, 2 * R, 2 * R + 1, 3 * R + 1};
    const uint32_t ms[] = {1, 2, R - 1, R, R + (uint32_t)h->cfg.cols - 1, R + (uint32_t)h->cfg.cols,
                           R + (uint32_t)h->cfg.cols + 1, R + (uint32_t)h->cfg.cols + 2, D - 1, D};
    *m = pick(r, ms, 10);
    *k = pick(r, ks, 8);
    *n = pick(r, ks, 8);
  } else if (kind < o->big_pct + 55) { /* medium */
    *m = skewed(r, 1, 64);
    *k = skewed(r, 1, 200);
    *n = skewed(r, 1, 64);
  } else { /* small */
    *m = skewed(r, 1, 20);
    *k = skewed(r, 0, 40);
    *n = skewed(r, 1, 24);
  }
  fit(&h->cfg, m, k, n);
}

static uint64_t g_b2b, g_chain, g_busy_writes, g_cases_mblock;

static void random_case(rtl_h *h, const opts *o, uint64_t idx) {
  nnf_rng r = nnf_rng_seed(o->seed * 0x9E3779B97F4A7C15ull + idx * 0xD1B54A32D192ED03ull + 1);
  const int64_t AW = h->cfg.act_words;
  layer A, B;
  memset(&A, 0, sizeof A);
  memset(&B, 0, sizeof B);
  gen_shape(h, &r, o, &A.c.m, &A.c.k, &A.c.n);
  if (A.c.m > h->cfg.acc_depth) g_cases_mblock++;
  sizes(&h->cfg, &A);
  gen_format(&r, &A.c);
  place_wp(h, &r, &A);
  ivl av[4];
  A.c.a_base = (uint32_t)place(&r, A.a_words, AW, NULL, 0);
  av[0] = (ivl){A.c.a_base, (int64_t)A.c.a_base + A.a_words};
  int64_t ob = place(&r, A.o_words, AW, av, 1);
  CHECK(ob >= 0);
  A.c.o_base = (uint32_t)ob;
  if (!A.c.m || !A.c.n) { /* touches nothing: any addresses at all */
    if (chance(&r, 50)) {
      A.c.a_base = nnf_rng_u32(&r);
      A.c.o_base = nnf_rng_u32(&r);
      A.c.w_base = nnf_rng_u32(&r);
      A.c.p_base = nnf_rng_u32(&r);
    }
  }
  av[1] = (ivl){A.c.o_base, (int64_t)A.c.o_base + A.o_words};

  /* a second layer: chained (input = A's output region) or independent */
  int second = chance(&r, 30), chained = second && A.c.m && A.c.n && chance(&r, 70);
  int b2b = second && chance(&r, 50);
  if (second) {
    if (chained) {
      B.c.m = A.c.m;
      B.c.k = A.c.n;
      B.c.n = skewed(&r, 1, 64);
      uint32_t mm = B.c.m, kk = B.c.k;
      fit(&h->cfg, &mm, &kk, &B.c.n);
      if (mm != B.c.m || kk != B.c.k) chained = 0;
    }
    if (!chained) {
      gen_shape(h, &r, o, &B.c.m, &B.c.k, &B.c.n);
      sizes(&h->cfg, &B);
    }
    sizes(&h->cfg, &B);
    gen_format(&r, &B.c);
    place_wp(h, &r, &B);
    int64_t bb;
    if (chained) {
      bb = A.c.o_base;
      av[2] = (ivl){bb, bb + B.a_words};
    } else { /* B's input must not be overwritten by A's output */
      bb = place(&r, B.a_words, AW, av, 2);
      av[2] = (ivl){bb, bb + B.a_words};
    }
    int64_t bo = bb < 0 ? -1 : place(&r, B.o_words, AW, av, 3);
    if (bb < 0 || bo < 0) { /* no room: one layer only */
      second = chained = b2b = 0;
      av[2] = av[3] = (ivl){0, 0};
    } else {
      B.c.a_base = (uint32_t)bb;
      B.c.o_base = (uint32_t)bo;
      av[3] = (ivl){bo, bo + B.o_words};
    }
  } else {
    av[2] = av[3] = (ivl){0, 0};
  }
  /* B's regions avoid A's, so B's upload cannot disturb A; both sides run A
   * before B (back to back, B starts after A's done). */

  /* host ACT writes while the first command runs, into words nobody uses */
  int64_t wr_word = -1, wr_words = 0;
  if (!b2b && A.c.m && A.c.n && chance(&r, 12)) {
    wr_words = skewed(&r, 1, 200);
    wr_word = place(&r, wr_words, AW, av, 4);
    if (wr_word < 0) wr_words = 0;
  }

  char d1[200], d2[200] = "-";
  describe(d1, sizeof d1, &A.c);
  if (second) describe(d2, sizeof d2, &B.c);
  nnf_test_ctx("seed %" PRIu64 " case %" PRIu64 " (--seed %" PRIu64 " --first %" PRIu64
               " --cases 1): A: %s; B%s%s: %s; busy writes %" PRId64 "@%" PRId64,
               o->seed, idx, o->seed, idx, d1, chained ? " chained" : "", b2b ? " back-to-back" : "", d2,
               wr_words, wr_word);
  if (verbose) fprintf(stderr, "case %" PRIu64 ": %s\n", idx, nnf_test_ctx_);

  /* upload everything both commands read (B's A region after A's, unless
   * chained: then it is A's output, computed on the device) */
  if (A.c.m && A.c.n) load_layer(h, &r, &A, 0, 1);
  if (second && B.c.m && B.c.n) { /* may reload the LUT: for both */
    int p_shared = A.c.m && A.c.n && B.c.p_base < A.c.p_base + A.p_entries &&
                   A.c.p_base < B.c.p_base + B.p_entries;
    load_layer(h, &r, &B, chained, !p_shared);
  }

  if (b2b) {
    run_back_to_back(h, &A, &B);
    g_b2b++;
  } else {
    run_layer(h, &r, &A, wr_word, wr_words);
    if (second) run_layer(h, &r, &B, -1, 0);
  }
  if (chained) g_chain++;
  if (wr_words) g_busy_writes++;

  compare_layer(h, &r, &A, "output region");
  if (second) compare_layer(h, &r, &B, "second layer's output region");
  if (wr_words) rtl_compare_act_words(h, wr_word, wr_words, "ACT written while busy");
  compare_random_words(h, &r, 4);
}

/* ---- directed cases --------------------------------------------------------------- */

/* A layer's word counts only. */
static layer fixed_layer_probe(rtl_h *h, uint32_t m, uint32_t k, uint32_t n) {
  layer L;
  memset(&L, 0, sizeof L);
  L.c.m = m;
  L.c.k = k;
  L.c.n = n;
  sizes(&h->cfg, &L);
  return L;
}

/* A layer at fixed places: A at 0, O right after it, W and P at 0. */
static layer fixed_layer(rtl_h *h, uint32_t m, uint32_t k, uint32_t n) {
  layer L;
  memset(&L, 0, sizeof L);
  L.c.m = m;
  L.c.k = k;
  L.c.n = n;
  L.c.lo = -128;
  L.c.hi = 127;
  sizes(&h->cfg, &L);
  L.c.o_base = L.a_words;
  CHECK((uint64_t)L.a_words + L.o_words <= h->cfg.act_words);
  return L;
}

/* Upload A (a: M x K), W (K x N), P (all lanes the same) and run; compare. */
static void run_fixed(rtl_h *h, nnf_rng *r, layer *L, const int8_t *a, const int8_t *w, int32_t bias,
                      int32_t m0, int shift, const char *name) {
  nnfm_cmd *c = &L->c;
  char d[200];
  describe(d, sizeof d, c);
  nnf_test_ctx("directed %s: %s", name, d);
  CHECK_OK(nnfm_engine_put_act(h->e, c->a_base, a, c->m, c->k));
  rtl_upload_act_words(h, c->a_base, L->a_words);
  CHECK_OK(nnfm_engine_put_weights(h->e, c->w_base, w, c->k, c->n));
  rtl_upload_w_words(h, c->w_base, L->w_words);
  int32_t *b = malloc(((size_t)c->n + 1) * 4), *q = malloc(((size_t)c->n + 1) * 4);
  int8_t *s = malloc((size_t)c->n + 1);
  for (uint32_t j = 0; j < c->n; j++) b[j] = bias, q[j] = m0, s[j] = (int8_t)shift;
  CHECK_OK(nnfm_engine_put_params(h->e, c->p_base, b, q, s, c->n));
  rtl_upload_p_entries(h, c->p_base, L->p_entries);
  free(b);
  free(q);
  free(s);
  run_layer(h, r, L, -1, 0);
  compare_layer(h, r, L, name);
}

static int8_t *filled(size_t n, int v) {
  int8_t *p = malloc(n + 1);
  memset(p, v, n + 1);
  return p;
}

static int8_t *randomized(nnf_rng *r, size_t n) {
  int8_t *p = malloc(n + 1);
  nnf_rng_fill(r, p, n + 1);
  return p;
}

static void directed_corners(rtl_h *h, nnf_rng *r) {
  const uint32_t R = (uint32_t)h->cfg.rows;
  /* 1x1x1 over signs and extremes */
  static const int vals[] = {-128, -127, -1, 0, 1, 127};
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++) {
      layer L = fixed_layer(h, 1, 1, 1);
      int8_t a = (int8_t)vals[i], w = (int8_t)vals[j];
      run_fixed(h, r, &L, &a, &w, (int32_t)nnf_rng_range(r, -1000, 1000), 1 << 30, -6, "1x1x1");
    }
  /* K = 0: Y = f(requantize(bias)) */
  {
    layer L = fixed_layer(h, 5, 0, 9);
    L.c.zp = -3;
    run_fixed(h, r, &L, NULL, NULL, 12345, 1518500250, -8, "K=0");
  }
  /* rounding ties both ways: K = 0, so acc = bias; m0 = 2^30 and shift -1
   * give y = round(bias / 4) with ties up (+0.5 -> 1, -0.5 -> 0); then
   * shift 30 with bias = +-1 and the largest m0 */
  {
    const uint32_t n = 8 * (uint32_t)h->cfg.cols;
    layer L = fixed_layer(h, 2, 0, n);
    int32_t b[512], q[512];
    int8_t s[512];
    for (uint32_t j = 0; j < n; j++) b[j] = (int32_t)j - (int32_t)n / 2, q[j] = 1 << 30, s[j] = -1;
    b[0] = INT32_MIN, b[1] = INT32_MAX, b[2] = -(1 << 30) - 2, b[3] = (1 << 30) + 2;
    for (int pass = 0; pass < 3; pass++) {
      if (pass == 1)
        for (uint32_t j = 0; j < n; j++) q[j] = INT32_MAX, s[j] = (int8_t)(j % 2 ? -31 : -30);
      if (pass == 2)
        for (uint32_t j = 0; j < n; j++) b[j] = (int32_t)(j % 3) - 1, q[j] = INT32_MAX - (int32_t)j, s[j] = 30;
      nnf_test_ctx("directed rounding ties, pass %d", pass);
      CHECK_OK(nnfm_engine_put_act(h->e, 0, NULL, 2, 0));
      rtl_upload_act_words(h, 0, L.a_words);
      CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, n));
      rtl_upload_p_entries(h, 0, L.p_entries);
      run_layer(h, r, &L, -1, 0);
      compare_layer(h, r, &L, "rounding ties");
    }
  }
  /* accumulator wrap: bias near INT32_MAX plus positive products */
  {
    uint32_t k = 2 * R + 3;
    layer L = fixed_layer(h, 3, k, R + 1);
    int8_t *a = filled(3 * k, 127), *w = filled(k * (R + 1), 127);
    run_fixed(h, r, &L, a, w, INT32_MAX - 1000, 1 << 30, -24, "accumulator wrap up");
    int8_t *wn = filled(k * (R + 1), -128);
    L = fixed_layer(h, 3, k, R + 1);
    run_fixed(h, r, &L, a, wn, INT32_MIN + 1000, 1 << 30, -24, "accumulator wrap down");
    free(a);
    free(w);
    free(wn);
  }
  /* saturation both ways, and the smallest gain */
  {
    uint32_t m = 7, k = 3 * R - 1, n = 2 * R - 3;
    int8_t *a = randomized(r, (size_t)m * k), *w = randomized(r, (size_t)k * n);
    layer L = fixed_layer(h, m, k, n);
    run_fixed(h, r, &L, a, w, 0, INT32_MAX, NNFM_SHIFT_MAX, "saturation");
    L = fixed_layer(h, m, k, n);
    L.c.zp = 17;
    L.c.lo = -5;
    L.c.hi = 6;
    run_fixed(h, r, &L, a, w, -77, INT32_MAX, 10, "saturation into a clamp");
    L = fixed_layer(h, m, k, n);
    L.c.zp = -128;
    run_fixed(h, r, &L, a, w, INT32_MAX, INT32_MAX, NNFM_SHIFT_MIN, "smallest gain");
    L = fixed_layer(h, m, k, n);
    run_fixed(h, r, &L, a, w, 1 << 20, 0, 0, "m0 = 0");
    free(a);
    free(w);
  }
  /* the largest layers: M=128, K=784, N=128 and a full accumulator block
   * M = ACC_DEPTH (shrunk to the buffers of small configurations) */
  for (int big = 0; big < 2; big++) {
    uint32_t m = big ? h->cfg.acc_depth : 128, k = 784, n = 128;
    for (;;) {
      layer t = fixed_layer_probe(h, m, k, n);
      if ((uint64_t)t.a_words + t.o_words <= h->cfg.act_words && t.w_words <= h->cfg.w_words &&
          t.p_entries <= h->cfg.p_words)
        break;
      if (t.w_words > h->cfg.w_words || t.p_entries > h->cfg.p_words) {
        if (n > k / 4) n /= 2;
        else k /= 2;
      } else k /= 2;
    }
    int8_t *a = randomized(r, (size_t)m * k), *w = randomized(r, (size_t)k * n);
    layer L = fixed_layer(h, m, k, n);
    L.c.lut = 1;
    nnf_rng_fill(r, h->e->lut, 256);
    rtl_upload_lut(h);
    run_fixed(h, r, &L, a, w, (int32_t)nnf_rng_range(r, -100000, 100000), 1 << 30, -11,
              big ? "largest M block" : "largest layer");
    free(a);
    free(w);
  }
}

/* While a command runs: its command port fields change every cycle (cmd_valid
 * low), and the host reads W, P and the LUT and writes the LUT, which the
 * engine must not take while busy (hp_wait high: hold it), and writes W and
 * P outside what the command reads, which it takes at once (banks: the
 * host fills one while the engine reads another; docs/memory.md); then
 * every region is compared in full with the model, which got the same
 * writes. */
enum { HP_W = 1, HP_P = 2, HP_LUT = 3 }; /* host-port regions (nnf_bufs' hp_sel) */

static void directed_port_noise(rtl_h *h, nnf_rng *r) {
  const uint32_t m = 40, k = 3 * (uint32_t)h->cfg.rows + 2, n = 2 * (uint32_t)h->cfg.cols + 1;
  int8_t *a = randomized(r, (size_t)m * k), *w = randomized(r, (size_t)k * n);
  layer L = fixed_layer(h, m, k, n);
  L.c.zp = 5;
  nnf_test_ctx("directed port noise");
  CHECK_OK(nnfm_engine_put_act(h->e, 0, a, m, k));
  rtl_upload_act_words(h, 0, L.a_words);
  CHECK_OK(nnfm_engine_put_weights(h->e, 0, w, k, n));
  rtl_upload_w_words(h, 0, L.w_words);
  int32_t b[64], q[64];
  int8_t s[64];
  for (uint32_t j = 0; j < n; j++) b[j] = (int32_t)nnf_rng_range(r, -5000, 5000), q[j] = 1 << 30, s[j] = -9;
  CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, n));
  rtl_upload_p_entries(h, 0, L.p_entries);
  nnfsim_ports *p = nnfsim_ports_of(h->s);
  uint64_t m0 = p->cnt_macs, mm = 0;
  CHECK_OK(nnfsim_gemm_start(h->s, &L.c));
  uint64_t cycles = 0;
  while (p->busy) {
    p->cmd_m = (uint16_t)nnf_rng_u32(r);
    p->cmd_k = (uint16_t)nnf_rng_u32(r);
    p->cmd_n = (uint16_t)nnf_rng_u32(r);
    p->cmd_a_base = nnf_rng_u32(r);
    p->cmd_w_base = nnf_rng_u32(r);
    p->cmd_p_base = nnf_rng_u32(r);
    p->cmd_o_base = nnf_rng_u32(r);
    p->cmd_zp = (int8_t)nnf_rng_u32(r);
    p->cmd_lo = (int8_t)nnf_rng_u32(r);
    p->cmd_hi = (int8_t)nnf_rng_u32(r);
    p->cmd_lut = (uint8_t)(nnf_rng_u32(r) & 1);
    int region = (int)nnf_rng_range(r, 1, 3); /* W, P, LUT */
    /* W and P writes go past the command's words and entries */
    uint64_t used = region == HP_W ? (uint64_t)L.w_words * h->cfg.cols
                    : region == HP_P ? (uint64_t)L.p_entries * h->cfg.cols * 16 : 0;
    uint64_t size = rtl_region_bytes(&h->cfg, region);
    int write = chance(r, 50), taken_write = write && region != HP_LUT;
    p->hp_sel = (uint8_t)region;
    p->hp_addr = (uint32_t)(taken_write ? (uint64_t)nnf_rng_range(r, (int64_t)used, (int64_t)size - 1)
                                        : (uint64_t)nnf_rng_range(r, 0, (int64_t)size - 1));
    p->hp_wdata = (uint8_t)nnf_rng_u32(r);
    p->hp_we = (uint8_t)write;
    p->hp_re = (uint8_t)!write;
    int was_busy = p->busy;
    nnfsim_step(h->s, 1);
    /* nnf_bufs: a W or P write while busy is taken; any other W, P or LUT
     * access is not, and says so */
    if (was_busy && taken_write) {
      CHECK(!p->hp_wait);
      CHECK_OK(nnfm_engine_write_byte(h->e, region, p->hp_addr, p->hp_wdata));
    } else if (p->busy) {
      CHECK(p->hp_wait);
    }
    CHECK(++cycles < 10000000);
  }
  p->hp_we = p->hp_re = 0;
  CHECK_OK(nnfm_engine_gemm(h->e, &L.c, &mm));
  CHECK_EQ_U64(p->cnt_macs - m0, mm);
  rtl_compare_all(h, "after host accesses and command port noise while busy");
  free(a);
  free(w);
}

/* Host ACT writes while a command streams one output row per cycle: the
 * writer must hold some of them (hp_wait) and lose none. A raw port loop, so
 * the waits can be counted; then the same through nnfsim_write. */
static void directed_hp_wait(rtl_h *h, nnf_rng *r) {
  const uint32_t R = (uint32_t)h->cfg.rows, C = (uint32_t)h->cfg.cols;
  uint32_t m = h->cfg.acc_depth, k = R, n = 2 * C;
  while ((uint64_t)3 * m * 2 > h->cfg.act_words) m /= 2;
  int8_t *a = randomized(r, (size_t)m * k), *w = randomized(r, (size_t)k * n);
  for (int pass = 0; pass < 2; pass++) {
    layer L = fixed_layer(h, m, k, n);
    nnf_test_ctx("directed hp_wait pass %d", pass);
    CHECK_OK(nnfm_engine_put_act(h->e, 0, a, m, k));
    rtl_upload_act_words(h, 0, L.a_words);
    CHECK_OK(nnfm_engine_put_weights(h->e, 0, w, k, n));
    rtl_upload_w_words(h, 0, L.w_words);
    int32_t b[64], q[64];
    int8_t s[64];
    for (uint32_t j = 0; j < n; j++) b[j] = 0, q[j] = 1 << 30, s[j] = -7;
    CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, n));
    rtl_upload_p_entries(h, 0, L.p_entries);
    /* the bytes: a region after the output, as long as the command runs */
    uint32_t wr_word = L.c.o_base + L.o_words;
    size_t len = (size_t)m * 3 * R;
    if ((uint64_t)wr_word * R + len > (uint64_t)h->cfg.act_words * R) len = ((size_t)h->cfg.act_words - wr_word) * R;
    uint8_t *buf = malloc(len);
    nnf_rng_fill(r, buf, len);
    CHECK_OK(nnfsim_gemm_start(h->s, &L.c));
    nnfsim_ports *p = nnfsim_ports_of(h->s);
    uint64_t waits = 0, taken_busy = 0;
    if (pass == 0) {
      p->hp_we = 1;
      p->hp_sel = 0;
      for (size_t i = 0; i < len; i++) {
        p->hp_addr = wr_word * R + (uint32_t)i;
        p->hp_wdata = buf[i];
        for (;;) {
          int was_busy = p->busy;
          nnfsim_step(h->s, 1);
          if (!p->hp_wait) {
            taken_busy += (uint64_t)was_busy;
            break;
          }
          waits++;
          CHECK(waits < 100000000);
        }
      }
      p->hp_we = 0;
      CHECK(waits > 0);      /* the output writer had the port ... */
      CHECK(taken_busy > 0); /* ... and the host got the free cycles */
    } else {
      CHECK_OK(nnfsim_write(h->s, 0, wr_word * R, buf, len));
    }
    CHECK_OK(nnfsim_gemm_wait(h->s, 0));
    for (size_t i = 0; i < len; i++) CHECK_OK(nnfm_engine_write_byte(h->e, 0, wr_word * R + (uint32_t)i, buf[i]));
    CHECK_OK(nnfm_engine_gemm(h->e, &L.c, NULL));
    rtl_compare_act_words(h, 0, (int64_t)wr_word + (int64_t)(len / R) + 1, "ACT after writes while busy");
    if (verbose && pass == 0) fprintf(stderr, "hp_wait: %" PRIu64 " writes held\n", waits);
    free(buf);
  }
  free(a);
  free(w);
}

/* Reset in the middle of a command: the engine is idle at once, the
 * counters are zero, and the next command runs normally. */
static void directed_reset(rtl_h *h, nnf_rng *r) {
  uint32_t m = 64, k = 5 * (uint32_t)h->cfg.rows, n = 4 * (uint32_t)h->cfg.cols;
  layer L = fixed_layer(h, m, k, n);
  int8_t *a = randomized(r, (size_t)m * k), *w = randomized(r, (size_t)k * n);
  nnf_test_ctx("directed reset");
  CHECK_OK(nnfm_engine_put_act(h->e, 0, a, m, k));
  rtl_upload_act_words(h, 0, L.a_words);
  CHECK_OK(nnfm_engine_put_weights(h->e, 0, w, k, n));
  rtl_upload_w_words(h, 0, L.w_words);
  int32_t b[64], q[64];
  int8_t s[64];
  for (uint32_t j = 0; j < n; j++) b[j] = (int32_t)j * 100, q[j] = 1 << 30, s[j] = -10;
  CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, n));
  rtl_upload_p_entries(h, 0, L.p_entries);
  nnfsim_ports *p = nnfsim_ports_of(h->s);
  CHECK_OK(nnfsim_gemm_start(h->s, &L.c));
  nnfsim_step(h->s, (uint64_t)m * 3); /* some outputs written, not all */
  CHECK(p->busy);
  nnfsim_reset(h->s, 2);
  CHECK(!p->busy);
  CHECK(p->cmd_ready);
  CHECK_EQ_U64(p->cnt_cycles, 0);
  CHECK_EQ_U64(p->cnt_busy, 0);
  CHECK_EQ_U64(p->cnt_macs, 0);
  nnfsim_step(h->s, 10);
  CHECK(!p->busy);
  CHECK_EQ_U64(p->cnt_cycles, 10);
  CHECK_EQ_U64(p->cnt_busy, 0);
  /* the model never ran it: bring the device's output region back */
  rtl_upload_act_words(h, L.c.o_base, L.o_words);
  run_layer(h, r, &L, -1, 0);
  compare_layer(h, r, &L, "after a reset");
  /* cnt_clear zeroes the counters like rst, and only them */
  p->cnt_clear = 1;
  nnfsim_step(h->s, 1);
  p->cnt_clear = 0;
  CHECK_EQ_U64(p->cnt_cycles, 0);
  CHECK_EQ_U64(p->cnt_busy, 0);
  CHECK_EQ_U64(p->cnt_macs, 0);
  nnfsim_step(h->s, 3);
  CHECK_EQ_U64(p->cnt_cycles, 3);
  free(a);
  free(w);
}

/* ---- main -------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  opts o = {1, 5};
  uint64_t cases = 1500, first = 0, full_every = 500;
  int directed = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) o.seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--cases") && i + 1 < argc) cases = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--first") && i + 1 < argc) first = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--full-every") && i + 1 < argc) full_every = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--big") && i + 1 < argc) o.big_pct = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-directed")) directed = 0;
    else if (!strcmp(argv[i], "-v")) verbose = 1;
    else {
      fprintf(stderr,
              "usage: %s [--seed S] [--cases N] [--first I] [--full-every F] [--big PCT] "
              "[--no-directed] [-v]\n",
              argv[0]);
      return 2;
    }
  }
  if (o.big_pct < 0 || o.big_pct > 40) o.big_pct = 5;
  rtl_h h;
  rtl_open(&h, o.seed);
  printf("device: %dx%d array, ACT %u, W %u, P %u, ACC %u words; VEC_SERIAL %ld, PE_DSP %ld\n",
         h.cfg.rows, h.cfg.cols, h.cfg.act_words, h.cfg.w_words, h.cfg.p_words, h.cfg.acc_depth,
         nnfsim_param(h.s, "VEC_SERIAL"), nnfsim_param(h.s, "PE_DSP"));
  nnf_test_ctx("initial image (seed %" PRIu64 ")", o.seed);
  rtl_compare_all(&h, "initial image");
  if (directed) {
    nnf_rng r = nnf_rng_seed(o.seed ^ 0xD1EC7EDull);
    directed_corners(&h, &r);
    directed_port_noise(&h, &r);
    directed_hp_wait(&h, &r);
    directed_reset(&h, &r);
    nnf_test_ctx("after the directed cases");
    rtl_compare_all(&h, "after the directed cases");
  }
  for (uint64_t i = first; i < first + cases; i++) {
    random_case(&h, &o, i);
    if (full_every && (i - first + 1) % full_every == 0) {
      nnf_test_ctx("full ACT comparison after case %" PRIu64 " (seed %" PRIu64 ")", i, o.seed);
      rtl_compare(&h, 0, 0, rtl_region_bytes(&h.cfg, 0), "whole ACT image");
    }
  }
  nnf_test_ctx("final comparison (seed %" PRIu64 ")", o.seed);
  rtl_compare_all(&h, "final image");
  printf("%" PRIu64 " random cases: %" PRIu64 " chained, %" PRIu64 " back to back, %" PRIu64
         " with ACT writes while busy, %" PRIu64 " M-blocked; %" PRIu64 " cycles simulated\n",
         cases, g_chain, g_b2b, g_busy_writes, g_cases_mblock, nnfsim_ports_of(h.s)->cnt_cycles);
  if (cases >= 1000) { /* the generator reaches every kind of case */
    CHECK(g_chain > 0);
    CHECK(g_b2b > 0);
    CHECK(g_busy_writes > 0);
    CHECK(g_cases_mblock > 0);
  }
  rtl_close(&h);
  return nnf_test_done(argv[0]);
}
