/*
 * test_rtl_conv.c - the RTL engine's CONV (Verilated, through nnfsim_conv)
 * against the functional model (nnfm_engine_conv), bit for bit.
 *
 *   test_rtl_conv [--seed S] [--cases N] [--first I] [--full-every F] [-v]
 *
 * Case i draws everything from its own generator seeded by (S, i) and
 * uploads what it reads, so `--first i --cases 1` replays it alone. A case:
 * input H, W 1..14, B 1..3, Cin and Cout 1..20 (channel counts not multiples
 * of the array's side), kernels 1..7 up to the padded input (a quarter 1x1,
 * a tenth exactly the padded input), strides 1..4 (also larger than the
 * kernel), padding 0..3 with the extra row / column EH / EW, the input
 * zero point, clamps, the LUT, realistic or saturating requantization, a
 * third of those with OH, OW >= 2 with the fused 2x2 max pooling; A, O,
 * W and P placed at random. Compared: the output region and its neighbour
 * words after every case, the MAC count, the whole ACT image every F cases
 * and at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "rtl_harness.h"

static int chance(nnf_rng *r, int pct) { return (int)nnf_rng_range(r, 0, 99) < pct; }

/* One random CONV that the model accepts, with its operands written to the
 * model image and uploaded. 0 when the draw does not fit the buffers. */
static int draw_case(rtl_h *h, nnf_rng *r, nnfm_conv_cmd *c, uint64_t *out_words) {
  const nnfm_config *cfg = &h->cfg;
  const uint32_t R = (uint32_t)cfg->rows, C = (uint32_t)cfg->cols;
  memset(c, 0, sizeof *c);
  c->h = (uint32_t)nnf_rng_range(r, 1, 14), c->w = (uint32_t)nnf_rng_range(r, 1, 14);
  c->b = (uint32_t)nnf_rng_range(r, 1, 3);
  c->cin = (uint32_t)nnf_rng_range(r, 1, 20), c->n = (uint32_t)nnf_rng_range(r, 1, 20);
  c->ph = (uint32_t)nnf_rng_range(r, 0, 3), c->pw = (uint32_t)nnf_rng_range(r, 0, 3);
  c->eh = chance(r, 25), c->ew = chance(r, 25);
  c->sh = (uint32_t)nnf_rng_range(r, 1, 4), c->sw = (uint32_t)nnf_rng_range(r, 1, 4);
  const uint32_t hp = c->h + 2 * c->ph + c->eh, wp = c->w + 2 * c->pw + c->ew;
  c->kh = (uint32_t)nnf_rng_range(r, 1, hp < 7 ? hp : 7);
  c->kw = (uint32_t)nnf_rng_range(r, 1, wp < 7 ? wp : 7);
  if (chance(r, 25)) c->kh = c->kw = 1, c->ph = c->pw = c->eh = c->ew = 0;
  if (chance(r, 10) && hp <= 7 && wp <= 7) c->kh = hp, c->kw = wp;
  c->zp_in = nnf_rng_i8(r), c->zp = nnf_rng_i8(r);
  int32_t lo = nnf_rng_i8(r), hi = nnf_rng_i8(r);
  if (chance(r, 50)) lo = -128, hi = 127;
  if (lo > hi) {
    int32_t t = lo;
    lo = hi, hi = t;
  }
  c->lo = lo, c->hi = hi, c->lut = chance(r, 20);
  nnfm_window g = {(int)c->b, (int)c->cin, (int)c->h, (int)c->w, (int)c->kh, (int)c->kw,
                   (int)c->sh, (int)c->sw, (int)c->ph, (int)c->pw, (int)c->eh, (int)c->ew};
  int oh, ow;
  if (nnfm_window_check(&g, 0, &oh, &ow) != NNFM_OK) return 0;
  if (oh >= 2 && ow >= 2 && chance(r, 30)) c->pool2 = 1, oh /= 2, ow /= 2; /* fused 2x2 max pooling */
  const uint64_t in = nnfm_fmap_words(cfg, c->cin, c->h, c->w, c->b);
  const uint64_t nt = (c->n + C - 1) / C, out = nt * (uint64_t)oh * (uint64_t)ow * c->b;
  const uint64_t ww = nnfm_conv_w_words(cfg, c->n, c->cin, c->kh, c->kw);
  if (in + out > cfg->act_words || ww > cfg->w_words || nt > cfg->p_words) return 0;
  /* A and O disjoint, in either order */
  const uint64_t slack = cfg->act_words - in - out;
  const uint64_t gap = (uint64_t)nnf_rng_range(r, 0, (int64_t)slack);
  const uint64_t first = (uint64_t)nnf_rng_range(r, 0, (int64_t)(slack - gap));
  if (chance(r, 50)) c->a_base = (uint32_t)first, c->o_base = (uint32_t)(first + in + gap);
  else c->o_base = (uint32_t)first, c->a_base = (uint32_t)(first + out + gap);
  c->w_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->w_words - ww));
  c->p_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->p_words - nt));
  /* operands: the input map and weights random, P realistic or saturating */
  nnfm_engine *e = h->e;
  nnf_rng_fill(r, e->act + (size_t)c->a_base * R, (size_t)in * R);
  nnf_rng_fill(r, e->w + (size_t)c->w_base * C, (size_t)ww * C);
  const int real = chance(r, 75);
  for (size_t s = (size_t)c->p_base * C; s < (size_t)(c->p_base + nt) * C; s++) {
    e->bias[s] = real ? (int32_t)nnf_rng_range(r, -20000, 20000) : (int32_t)nnf_rng_u32(r);
    e->m0[s] = (int32_t)nnf_rng_range(r, 1 << 30, INT32_MAX);
    e->shift[s] = (int8_t)(real ? nnf_rng_range(r, -14, -6) : nnf_rng_range(r, -31, 30));
  }
  rtl_upload_act_words(h, c->a_base, in);
  rtl_upload_w_words(h, c->w_base, ww);
  rtl_upload_p_entries(h, c->p_base, nt);
  *out_words = out;
  return 1;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  long cases = 300, first = 0, full_every = 100;
  int verbose = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--cases") && i + 1 < argc) cases = strtol(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--first") && i + 1 < argc) first = strtol(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--full-every") && i + 1 < argc) full_every = strtol(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "-v")) verbose = 1;
    else {
      fprintf(stderr, "usage: %s [--seed S] [--cases N] [--first I] [--full-every F] [-v]\n", argv[0]);
      return 2;
    }
  }
  rtl_h h;
  rtl_open(&h, seed);
  rtl_upload_lut(&h);
  long done = 0, skipped = 0;
  uint64_t macs_total = 0;
  for (long i = first; i < first + cases; i++) {
    nnf_rng r = nnf_rng_seed(seed * 1000003u + (uint64_t)i);
    nnfm_conv_cmd c = {0};
    uint64_t out = 0;
    if (!draw_case(&h, &r, &c, &out)) {
      skipped++;
      continue;
    }
    nnf_test_ctx("seed %" PRIu64 " case %ld: Cin %u H %u W %u B %u N %u K %ux%u S %u,%u P %u,%u E %u,%u "
                 "a %u w %u p %u o %u zp_in %d lut %d pool2 %u",
                 seed, i, c.cin, c.h, c.w, c.b, c.n, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.eh, c.ew,
                 c.a_base, c.w_base, c.p_base, c.o_base, c.zp_in, c.lut, c.pool2);
    if (verbose) fprintf(stderr, "%s\n", nnf_test_ctx_);
    uint64_t macs_rtl = 0, macs_model = 0;
    int rc = nnfsim_conv(h.s, &c, 0, NULL, &macs_rtl);
    if (rc) fprintf(stderr, "nnfsim_conv: %s\n", nnfsim_last_error(h.s));
    CHECK_OK(rc);
    CHECK_OK(nnfm_engine_conv(h.e, &c, &macs_model));
    CHECK_EQ_U64(macs_rtl, macs_model);
    macs_total += macs_model;
    rtl_compare_act_words(&h, (int64_t)c.o_base - 2, (int64_t)out + 4, "output and neighbours");
    done++;
    if (full_every > 0 && done % full_every == 0) rtl_compare_act_words(&h, 0, h.cfg.act_words, "whole ACT");
  }
  nnf_test_ctx("end");
  rtl_compare_all(&h, "all regions at the end");
  printf("conv: %ld cases (%ld draws did not fit), %" PRIu64 " MACs, RTL == model\n", done, skipped,
         macs_total);
  rtl_close(&h);
  return nnf_test_done(argv[0]);
}
