/*
 * nnf_compile.c - the buffer plan and program emission helpers (see
 * nnf_compile.h).
 */
#include "nnf_compile.h"

#include <stdio.h>
#include <string.h>

#include "nnf_layer.h"
#include "nnf_proto.h"

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
uint32_t nnf_plan_act(nnf_plan *p, uint32_t words) { return take(&p->a, words); }
uint32_t nnf_plan_state(nnf_plan *p, uint32_t entries) { return take(&p->st, entries); }
uint32_t nnf_plan_act_const(nnf_plan *p, uint32_t words) {
  uint32_t base = take(&p->a, words);
  if (p->nconst < 2 * NNF_PLAN_BOUNDARIES) p->const_base[p->nconst] = base, p->const_words[p->nconst++] = words;
  return base;
}

uint32_t nnf_plan_input(const nnf_plan *p, int i) {
  return i == 0 || p->act[i] == p->act[0] ? p->in_base[p->copy] : p->act[i];
}

int nnf_layer_streamable(const struct nnf_layer *l) {
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
