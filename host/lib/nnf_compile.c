/*
 * nnf_compile.c - the buffer plan and program emission helpers (see
 * nnf_compile.h).
 */
#include "nnf_compile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nnf_layer.h"
#include "nnf_proto.h"

_Static_assert(NNF_PLAN_BOUNDARIES == NNF_MAX_LAYERS + 1, "a plan has a boundary for each of a network's");

/* Take `words` from a region whose use so far is *used: the base. */
static uint32_t take(uint64_t *used, uint32_t words) {
  uint32_t base = (uint32_t)*used;
  *used += words;
  return base;
}

static int streamed(const nnf_plan *p) { return p->cur >= 0 && p->cur < NNF_PLAN_BOUNDARIES && p->stream[p->cur]; }

uint32_t nnf_plan_w(nnf_plan *p, uint32_t words) {
  if (!streamed(p)) return take(&p->w, words);
  p->s_words[p->cur] = words;
  return p->s_wbase[p->cur] = p->cfg->w_words + take(&p->vw, words);
}
uint32_t nnf_plan_p(nnf_plan *p, uint32_t entries) {
  if (!streamed(p)) return take(&p->p, entries);
  return p->s_pbase[p->cur] = p->cfg->p_words + take(&p->vp, entries);
}
static int act_clear(const nnf_plan *p, uint64_t b, uint64_t e) {
  for (int k = 0; k < p->nlive; k++)
    if (e > p->live_base[k] && b < (uint64_t)p->live_base[k] + p->live_words[k]) return 0;
  return 1;
}

/* Where a region of `words` goes among the live ones: the lowest base that
 * is free (0 or a live region's end: bottom up), or the highest base that
 * ends at ACT's end or at a live region's start (top down), whichever lies
 * farther from the region the layer reads. A chain's layer reads one region
 * and writes the next, so its outputs alternate between the two ends and
 * the free words between them stay in one piece. Bottom up may end past
 * ACT: the plan's check then refuses the batch with the high-water mark. */
static uint32_t act_fit(const nnf_plan *p, uint32_t words) {
  uint64_t bu = UINT64_MAX, top = p->cfg->act_words;
  for (int c = -1; c < p->nlive; c++) {
    uint64_t b = c < 0 ? 0 : (uint64_t)p->live_base[c] + p->live_words[c];
    if (b < bu && act_clear(p, b, b + words)) bu = b;
  }
  int64_t td = -1;
  for (int c = -1; c < p->nlive; c++) {
    int64_t b = (int64_t)(c < 0 ? top : p->live_base[c]) - (int64_t)words;
    if (b > td && act_clear(p, (uint64_t)b, (uint64_t)b + words)) td = b;
  }
  if (td < 0 || p->cur < 0 || p->cur >= NNF_PLAN_BOUNDARIES) return (uint32_t)bu;
  double in = p->act[p->cur], dbu = (double)bu - in, dtd = (double)td - in;
  return fabs(dtd) > fabs(dbu) ? (uint32_t)td : (uint32_t)bu;
}

uint32_t nnf_plan_act(nnf_plan *p, uint32_t words) {
  if (!p->reuse || p->nlive == NNF_PLAN_LIVE) {
    uint32_t base = take(&p->a, words);
    if (p->reuse) p->reuse = 0; /* the table is full: every region from here on stays */
    return base;
  }
  uint32_t base = act_fit(p, words);
  p->live_base[p->nlive] = base, p->live_words[p->nlive] = words, p->live_keep[p->nlive++] = 0;
  if ((uint64_t)base + words > p->a) p->a = (uint64_t)base + words;
  return base;
}

static int live_index(const nnf_plan *p, uint32_t base) {
  for (int k = 0; k < p->nlive; k++)
    if (p->live_base[k] == base) return k;
  return -1;
}

void nnf_plan_act_free(nnf_plan *p, uint32_t base) {
  int k = p->reuse ? live_index(p, base) : -1;
  if (k < 0 || p->live_keep[k]) return;
  p->nlive--;
  p->live_base[k] = p->live_base[p->nlive], p->live_words[k] = p->live_words[p->nlive];
  p->live_keep[k] = p->live_keep[p->nlive];
}

void nnf_plan_act_keep(nnf_plan *p, uint32_t base) {
  int k = p->reuse ? live_index(p, base) : -1;
  if (k >= 0) p->live_keep[k] = 1;
}

uint32_t nnf_plan_state(nnf_plan *p, uint32_t entries) { return take(&p->st, entries); }
uint32_t nnf_plan_act_const(nnf_plan *p, uint32_t words) {
  uint32_t base = nnf_plan_act(p, words);
  nnf_plan_act_keep(p, base);
  if (p->nconst < 2 * NNF_PLAN_BOUNDARIES) p->const_base[p->nconst] = base, p->const_words[p->nconst++] = words;
  return base;
}

uint32_t nnf_plan_input(const nnf_plan *p, int i) {
  return i == 0 || p->act[i] == p->act[0] ? p->in_base[p->copy] : p->act[i];
}

int nnf_layer_streamable(const struct nnf_layer *l) {
  nnf_conv_spec s;
  if (!nnf_conv_spec_of(l, &s) && s.groups != 1) return 0; /* a depthwise conv: a CONV a channel tile */
  return l && l->ops->plan && (!strcmp(l->ops->kind, "Linear") || !strcmp(l->ops->kind, "Conv2d"));
}

int nnf_plan_runs(const nnf_plan *p, const struct nnf_layer *l) {
  return l->ops->plan && !l->fused && !p->pool_fused[l->index];
}

uint8_t *nnf_plan_insn(nnf_plan *p) {
  if (p->pc >= p->cap) {
    p->ok = 0;
    return NULL;
  }
  uint8_t *i = p->prog + 32 * (size_t)p->pc++;
  memset(i, 0, 32);
  return i;
}

int nnf_plan_need_conv(const nnf_plan *p, int index, const char *what, char *err, size_t errlen) {
  if (p->features & NNFP_FEAT_CONV) return 0;
  if (err && errlen)
    snprintf(err, errlen,
             "device %s does not run CONV / POOL (its INFO lacks feature bit 4, FEAT_CONV): layer %d (%s) needs them",
             p->dev ? p->dev : "?", index, what);
  return -1;
}

int nnf_plan_walk_fits(const nnf_plan *p, int index, const char *what, uint32_t h, uint32_t w, uint32_t oh,
                       uint32_t ow, uint32_t kt, char *err, size_t errlen) {
  uint64_t m = (uint64_t)oh * ow * (uint64_t)p->B;
  const char *why = NULL;
  char buf[160];
  if (h > 1024 || w > 1024) {
    snprintf(buf, sizeof buf, "its %u x %u input map is larger than 1024 x 1024", h, w);
    why = buf;
  } else if (p->B > 1024) {
    snprintf(buf, sizeof buf, "a batch of %d is more than 1024 images", p->B);
    why = buf;
  } else if (m > NNFM_WALK_MAX) {
    snprintf(buf, sizeof buf, "%u x %u outputs x %d images = %llu rows, more than %u", oh, ow, p->B,
             (unsigned long long)m, NNFM_WALK_MAX);
    why = buf;
  } else if (kt > NNFM_WALK_MAX) {
    snprintf(buf, sizeof buf, "%u K tiles, more than %u", kt, NNFM_WALK_MAX);
    why = buf;
  }
  if (!why) return 0;
  if (err && errlen) snprintf(err, errlen, "layer %d (%s) does not fit the device's walk: %s", index, what, why);
  return -1;
}
