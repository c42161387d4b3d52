/*
 * nnf_calib.c - post-training calibration (nnf_calib.h): the observers and
 * the exact percentile of an activation's values.
 */
#include "nnf_calib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"

/* ---- observers ------------------------------------------------------------------ */

int nnf_observer_parse(const char *s, nnf_observer *o, char *err, size_t errlen) {
  o->kind = NNF_OBSERVER_MINMAX;
  o->percentile = NNF_PERCENTILE_DEFAULT;
  if (!strcmp(s, "minmax")) return 0;
  if (strncmp(s, "percentile", 10) || (s[10] && s[10] != ':'))
    return nnf_fail(err, errlen, "observer '%s': minmax, percentile or percentile:P", s);
  o->kind = NNF_OBSERVER_PERCENTILE;
  if (!s[10]) return 0;
  char *end;
  double p = strtod(s + 11, &end);
  if (end == s + 11 || *end || !(p > 50 && p <= 100))
    return nnf_fail(err, errlen, "observer '%s': P of percentile:P is a number in (50, 100], e.g. percentile:99.99", s);
  o->percentile = p;
  return 0;
}

void nnf_observer_describe(const nnf_observer *o, char *buf, size_t len) {
  if (o->kind == NNF_OBSERVER_MINMAX) snprintf(buf, len, "min/max");
  else snprintf(buf, len, "percentile %.10g", o->percentile);
}

/* ---- exact order statistics ------------------------------------------------------ */

/* A float's bits as a key whose unsigned order is the floats' order. */
static uint32_t order_key(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t k) {
  uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* The bin of h[0..65535] holding the element of rank *r (0-based, in
 * order); *r becomes its rank inside the bin. */
static uint32_t bin_of(const size_t *h, size_t *r) {
  uint32_t b = 0;
  while (*r >= h[b]) *r -= h[b++];
  return b;
}

/* The value of rank r (0-based, ascending) of v[0..cnt): the key's high
 * half from a histogram of every value, its low half from a histogram of
 * the values in that high bin. h: 65536 counters of scratch. */
static float select_rank(const float *v, size_t cnt, size_t r, size_t *h) {
  memset(h, 0, 65536 * sizeof *h);
  for (size_t i = 0; i < cnt; i++) h[order_key(v[i]) >> 16]++;
  uint32_t hi = bin_of(h, &r);
  memset(h, 0, 65536 * sizeof *h);
  for (size_t i = 0; i < cnt; i++) {
    uint32_t k = order_key(v[i]);
    if (k >> 16 == hi) h[k & 0xffffu]++;
  }
  return key_float(hi << 16 | bin_of(h, &r));
}

int nnf_percentile_range(const float *v, size_t cnt, double p, float *lo, float *hi, size_t *clipped) {
  /* m values beyond each end; the small slack absorbs (100 - P) / 100 * cnt
   * landing a rounding below an integer (P = 99.99, cnt = 10^4: m = 1) */
  size_t m = (size_t)floor((100.0 - p) / 100.0 * (double)cnt + 1e-7);
  if (m > (cnt - 1) / 2) m = (cnt - 1) / 2;
  size_t *h = malloc(65536 * sizeof *h);
  if (!h) return -1;
  *lo = select_rank(v, cnt, m, h);
  *hi = select_rank(v, cnt, cnt - 1 - m, h);
  free(h);
  if (clipped) *clipped = m;
  return 0;
}

/* ---- calibration ------------------------------------------------------------------ */

/* Forget every observed range of n, so that the pass's min / max are its own. */
static void forget_ranges(nnf_net *n) {
  for (int i = 0; i <= n->nlayers; i++) n->t[i].r.seen = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_qrange *rr;
    int k = nnf_layer_ranges(n->layer[i], &rr);
    for (int j = 0; j < k; j++) rr[j].seen = 0;
    if (n->layer[i]->ops->forget) n->layer[i]->ops->forget(n->layer[i]);
  }
}

/* Clip boundary i's observed range to the percentile of the values the
 * pass left there (the values its observer saw: their min / max are the
 * observed range; a range observed elsewhere keeps its min / max). */
static int clip_boundary(nnf_net *n, int i, int count, double p, char *err, size_t errlen) {
  nnf_tensor *t = &n->t[i];
  size_t cnt = (size_t)t->steps * count * t->width;
  if (t->r.fixed || t->r.seen != 1 || !cnt) return 0;
  float mn = t->f[0], mx = t->f[0];
  for (size_t k = 1; k < cnt; k++) {
    mn = t->f[k] < mn ? t->f[k] : mn;
    mx = t->f[k] > mx ? t->f[k] : mx;
  }
  if (mn != t->r.lo || mx != t->r.hi) return 0;
  if (nnf_percentile_range(t->f, cnt, p, &t->r.lo, &t->r.hi, NULL))
    return nnf_fail(err, errlen, "out of memory for the percentile of boundary %d", i);
  return 0;
}

int nnf_calibrate(nnf_net *n, const float *x, int count, const nnf_observer *o, char *err, size_t errlen) {
  if (nnf_net_spiking(n))
    return nnf_fail(err, errlen, "a spiking network has no float forward to calibrate on (its ranges come from "
                                 "training on the int8 path)");
  if (count < 1 || count > 65535) return nnf_fail(err, errlen, "%d calibration samples: 1..65535 in one pass", count);
  forget_ranges(n);
  if (nnf_net_observe(n, x, count, 1)) return nnf_fail(err, errlen, "the float pass over %d samples failed", count);
  for (int i = 0; o->kind == NNF_OBSERVER_PERCENTILE && i <= n->nlayers; i++)
    if (clip_boundary(n, i, count, o->percentile, err, errlen)) return -1;
  return nnf_net_quantize(n, err, errlen);
}
