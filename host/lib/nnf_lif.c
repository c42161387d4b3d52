/*
 * nnf_lif.c - the LIF layer: leaky integrate-and-fire neurons over the
 * network's T steps (docs/snn.md). Its input is the int8 synaptic current
 * a Linear layer computes (quantized with s_a = theta / vth, zp 0); the
 * update is the functional model's nnfm_lif_step_ex with du = 4095 (the
 * current does not persist) and dv = round((1 - beta) 4096), so the host's
 * spikes are the device's. Backward: surrogate-gradient BPTT (fast sigmoid
 * 1/(1 + k|x|)^2, or arctan (alpha/2)/(1 + (pi alpha x/2)^2), x = v - theta)
 * with a detached reset; the Linear layer before it passes the gradient
 * straight through the current's rounding.
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

typedef struct {
  nnf_layer base;
  nnf_lif_config cfg;
  nnfm_lif_params lif;     /* du, dv, reset (vth per quantization) */
  double scale;            /* s_a = threshold / vth */
  int32_t vth;
  float range;             /* observed max |I| (moving average) */
  int seen;
  float *v;                /* T x cap x out: membrane before reset (float units) */
  float *carry;            /* cap x out */
  int vcap;
  uint32_t state_base;
} lif_layer;

static const nnf_layer_ops lif_ops;

static lif_layer *as_lif(const nnf_layer *l) { return l && l->ops == &lif_ops ? (lif_layer *)l : NULL; }

const nnf_lif_config *nnf_layer_lif_config(const nnf_layer *l) {
  lif_layer *L = as_lif(l);
  return L ? &L->cfg : NULL;
}

int nnf_layer_lif_params(const nnf_layer *l, nnfm_lif_params *p) {
  lif_layer *L = as_lif(l);
  if (!L) return -1;
  *p = L->lif;
  p->vth = L->vth;
  return 0;
}

int nnf_layer_lif_current(nnf_layer *l, float **range, int **seen, int32_t **vth, double **scale) {
  lif_layer *L = as_lif(l);
  if (!L) return -1;
  if (range) *range = &L->range;
  if (seen) *seen = &L->seen;
  if (vth) *vth = &L->vth;
  if (scale) *scale = &L->scale;
  return 0;
}

static int lif_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  (void)err, (void)errlen;
  *out = in;
  *steps = l->net->steps;
  return 0;
}

/* The Linear layer before it computes the current at this layer's scale. */
static int lif_fuse(nnf_layer *l, nnf_fusion *f) {
  f->act = NNF_ACT_NONE;
  f->out = &l->net->t[l->index].r;
  f->lut = 0;
  f->lo = -128;
  f->hi = 127;
  f->current = l;
  return 0;
}

/* vth: at least `resolution` steps per threshold (currents beyond 127 /
 * resolution thresholds clamp: with them a neuron fires every step anyway),
 * finer when the observed currents are smaller. */
static void lif_qparams(nnf_layer *l) {
  lif_layer *L = (lif_layer *)l;
  double theta = L->cfg.threshold, range = L->range > 1e-9 ? L->range : theta;
  long vth = (long)floor(127.0 * theta / range);
  if (vth < L->cfg.resolution) vth = L->cfg.resolution;
  if (vth > NNFM_LIF_VTH_MAX) vth = NNFM_LIF_VTH_MAX;
  L->vth = (int32_t)vth;
  L->scale = theta / (double)vth;
  nnf_qrange_fix(&l->net->t[l->index].r, L->scale, 0);
  nnf_qrange_fix(&l->net->t[l->index + 1].r, 1.0, 0); /* spikes */
}

static void lif_forget(nnf_layer *l) { ((lif_layer *)l)->seen = 0; }

static void lif_observe_current(nnf_layer *l, double mx, const nnf_pass *p) {
  lif_layer *L = (lif_layer *)l;
  float momentum = p->calibrate ? 1.0f : (float)(1.0 - pow(0.99, p->every < 1 ? 1 : p->every));
  if (!L->seen) L->range = (float)mx;
  else L->range += momentum * ((float)mx - L->range);
  L->seen++;
}

static int lif_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  lif_layer *L = (lif_layer *)l;
  int T = l->net->steps, B = p->batch;
  size_t cnt = (size_t)B * l->out;
  if (p->mode == NNF_FWD_FLOAT || p->mode == NNF_FWD_FAKEQUANT)
    return nnf_fail(err, errlen, "layer %d (LIF) runs on the integer path only (INT or a device)", l->index);
  if (L->vcap < B) {
    free(L->v);
    free(L->carry);
    L->v = malloc((size_t)T * cnt * sizeof(float));
    L->carry = malloc(cnt * sizeof(float));
    L->vcap = L->v && L->carry ? B : 0;
    if (!L->vcap) return nnf_fail(err, errlen, "out of memory");
  }
  nnfm_lif_state *st = calloc(cnt, sizeof *st);
  if (!st) return nnf_fail(err, errlen, "out of memory");
  nnfm_lif_params prm = L->lif;
  prm.vth = L->vth;
  float vs = (float)(L->scale / 64.0);
  y->steps = T;
  for (int t = 0; t < T; t++) {
    const int8_t *a = x->q + (x->steps == 1 ? 0 : (size_t)t * cnt);
    size_t off = (size_t)t * cnt;
    for (size_t i = 0; i < cnt; i++) {
      int32_t vpre;
      int sp = nnfm_lif_step_ex(&prm, &st[i], a[i], &vpre);
      y->q[off + i] = (int8_t)sp;
      y->f[off + i] = (float)sp;
      L->v[off + i] = (float)vpre * vs;
    }
  }
  free(st);
  return 0;
}

static float surrogate(const lif_layer *L, float x) {
  double k = L->cfg.slope;
  if (L->cfg.surrogate == NNF_SURR_FAST_SIGMOID) {
    double d = 1.0 + k * fabs(x);
    return (float)(1.0 / (d * d));
  }
  double z = M_PI * k * x / 2.0;
  return (float)((k / 2.0) / (1.0 + z * z));
}

/* dy (T x B x N, at the spikes) -> the gradient at the currents, in place
 * per step; then summed over the steps (ascending) when the current was
 * the same every step. */
static void lif_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                         float *dx, int accumulate) {
  lif_layer *L = (lif_layer *)l;
  int T = l->net->steps;
  size_t cnt = (size_t)p->batch * l->out;
  float beta = (float)(1.0 - L->lif.dv / 4096.0), theta = (float)L->cfg.threshold;
  float *carry = L->carry;
  (void)accumulate;
  memset(carry, 0, cnt * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    size_t off = (size_t)t * cnt;
    const float *v = L->v + off;
    float *gt = dy + off;
    for (size_t i = 0; i < cnt; i++) {
      /* dL/dv_pre(t) = ds(t) surrogate'(v - theta) + carry from v(t+1) */
      float dv = gt[i] * surrogate(L, v[i] - theta) + carry[i];
      /* into v(t-1) after its reset: v_pre(t) = beta v'(t-1) + I(t); the reset is
       * detached: zero reset passes (1 - s(t-1)), subtract passes all */
      carry[i] = dv * beta;
      if (!L->lif.reset_sub && t > 0 && y->q[off - cnt + i]) carry[i] = 0;
      gt[i] = dv;
    }
  }
  if (!dx) return;
  if (x->steps == T) {
    memcpy(dx, dy, (size_t)T * cnt * sizeof(float));
    return;
  }
  memset(dx, 0, cnt * sizeof(float));
  for (int t = 0; t < T; t++)
    for (size_t i = 0; i < cnt; i++) dx[i] += dy[(size_t)t * cnt + i];
}

/* ---- device hooks: the spikes in ACT, the neurons in STATE; one LIF ------ */

static int lif_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  lif_layer *L = (lif_layer *)l;
  (void)err, (void)errlen;
  p->act[l->index + 1] = nnf_plan_act(p, nnfm_act_words(p->cfg, (uint32_t)p->B, (uint32_t)l->out));
  L->state_base = nnf_plan_state(p, (uint32_t)p->B * (uint32_t)l->out);
  return 0;
}

static int lif_emit(nnf_layer *l, nnf_plan *p) {
  lif_layer *L = (lif_layer *)l;
  nnfdrv_lif f;
  memset(&f, 0, sizeof f);
  f.m = (uint16_t)p->B;
  f.n = (uint16_t)l->out;
  f.a_base = p->act[l->index];
  f.o_base = p->act[l->index + 1];
  f.s_base = L->state_base;
  f.du = L->lif.du;
  f.dv = L->lif.dv;
  f.vth = L->vth;
  f.bias_mant = L->lif.bias_mant;
  f.bias_exp = L->lif.bias_exp;
  f.reset_sub = L->lif.reset_sub;
  f.refractory = L->lif.refractory;
  f.count = l->index + 1 == l->net->nlayers;
  f.clear = (uint8_t)p->clear;
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn || nnfdrv_insn_lif(insn, &f) != NNFDRV_OK) {
    p->ok = 0;
    return -1;
  }
  return 0;
}

/* The state entry of neuron n of row m (the last layer's spike counts). */
uint32_t nnf_lif_state_base(const nnf_layer *l) {
  const lif_layer *L = as_lif(l);
  return L ? L->state_base : 0;
}

static void lif_describe(const nnf_layer *l, char *buf, size_t len) {
  const lif_layer *L = (const lif_layer *)l;
  snprintf(buf, len, "LIF(beta=%.17g,threshold=%.17g,reset=%s,surrogate=%s,slope=%.17g,resolution=%d)", L->cfg.beta,
           L->cfg.threshold, L->cfg.reset_sub ? "subtract" : "zero",
           L->cfg.surrogate == NNF_SURR_ATAN ? "atan" : "fast_sigmoid", L->cfg.slope, L->cfg.resolution);
}

static void lif_destroy(nnf_layer *l) {
  lif_layer *L = (lif_layer *)l;
  free(L->v);
  free(L->carry);
  free(L);
}

static const nnf_layer_ops lif_ops = {
    .kind = "LIF",
    .spiking = 1,
    .shape = lif_shape,
    .forward = lif_forward,
    .backward = lif_backward,
    .fuse = lif_fuse,
    .qparams = lif_qparams,
    .forget = lif_forget,
    .observe_current = lif_observe_current,
    .plan = lif_plan,
    .emit = lif_emit,
    .describe = lif_describe,
    .destroy = lif_destroy,
};

nnf_layer *nnf_lif(const nnf_lif_config *c, char *err, size_t errlen) {
  if (!(c->beta >= 0 && c->beta <= 1)) {
    nnf_fail(err, errlen, "beta must be in [0, 1] (got %g)", c->beta);
    return NULL;
  }
  if (!(c->threshold > 0) || !isfinite(c->threshold) || !(c->slope > 0) || !isfinite(c->slope) ||
      c->resolution < 1 || c->resolution > NNFM_LIF_VTH_MAX || c->reset_sub < 0 || c->reset_sub > 1 ||
      (unsigned)c->surrogate > NNF_SURR_ATAN) {
    nnf_fail(err, errlen, "a LIF layer needs threshold > 0, slope > 0, resolution 1..%d and a known reset "
                          "and surrogate", NNFM_LIF_VTH_MAX);
    return NULL;
  }
  lif_layer *L = calloc(1, sizeof *L);
  if (!L) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  L->base.ops = &lif_ops;
  L->cfg = *c;
  L->lif.du = 4095;
  L->lif.dv = (uint16_t)lround((1.0 - c->beta) * 4096.0);
  if (L->lif.dv > 4095) L->lif.dv = 4095;
  L->lif.reset_sub = (uint8_t)c->reset_sub;
  L->range = (float)(4.0 * c->threshold);
  return &L->base;
}
