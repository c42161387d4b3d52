/*
 * nnf_net.c - the network as a sequence of layers: building it, its
 * boundaries and buffers, the input quantizer, observers, quantization, and
 * the forward and backward passes over the layer list; the ready-made MLP
 * and spiking networks (see nnf_layer.h).
 */
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

/* ---- ranges ----------------------------------------------------------------- */

void nnf_qrange_observe(nnf_qrange *q, const float *v, size_t cnt, float momentum) {
  if (q->fixed || cnt == 0) return;
  float lo = v[0], hi = v[0];
  for (size_t i = 1; i < cnt; i++) {
    lo = v[i] < lo ? v[i] : lo;
    hi = v[i] > hi ? v[i] : hi;
  }
  if (!q->seen) {
    q->lo = lo;
    q->hi = hi;
  } else {
    q->lo += momentum * (lo - q->lo);
    q->hi += momentum * (hi - q->hi);
  }
  q->seen++;
}

void nnf_qrange_params(nnf_qrange *q) {
  if (q->fixed) return;
  double lo = q->lo < 0 ? q->lo : 0, hi = q->hi > 0 ? q->hi : 0;
  if (!q->seen || hi - lo < 1e-8) {
    lo = 0;
    hi = 1;
  }
  q->scale = (hi - lo) / 255.0;
  q->zp = nnfm_clamp(-128 - nnfm_quantize_real(lo, q->scale, 0, -1000, 1000), -128, 127);
}

void nnf_qrange_dequantize(const nnf_qrange *r, const int8_t *q, float *y, size_t cnt) {
  for (size_t i = 0; i < cnt; i++) y[i] = (float)(((int)q[i] - r->zp) * r->scale);
}

void nnf_qrange_fix(nnf_qrange *q, double scale, int32_t zp) {
  q->fixed = 1;
  q->scale = scale;
  q->zp = zp;
}

float nnf_observer_momentum(const nnf_net *n, const nnf_pass *p) {
  float m = n->observer_momentum;
  if (p->every <= 1) return m;
  /* observing every `every` passes, move as far as `every` per-step updates would */
  return (float)(1.0 - pow(1.0 - (double)m, (double)p->every));
}

nnf_qrange *nnf_layer_range(nnf_layer *l) { return &l->net->t[l->index + 1].r; }

/* ---- building ---------------------------------------------------------------- */

nnf_net *nnf_net_create(int inputs, char *err, size_t errlen) {
  if (inputs < 1 || inputs > 65535) {
    nnf_fail(err, errlen, "a network takes 1..65535 inputs (got %d)", inputs);
    return NULL;
  }
  nnf_net *n = calloc(1, sizeof *n);
  if (!n) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  n->t[0].width = inputs;
  n->t[0].steps = 1;
  n->steps = 1;
  n->observer_momentum = 0.01f;
  n->rng = 0x52a7e5ull; /* seed 0's generator (nnf_snn_create reseeds) */
  return n;
}

static void free_buffers(nnf_net *n) {
  for (int i = 0; i <= NNF_MAX_LAYERS; i++) {
    free(n->t[i].f);
    free(n->t[i].q);
    n->t[i].f = NULL;
    n->t[i].q = NULL;
  }
  free(n->g0);
  free(n->g1);
  free(n->logits);
  free(n->counts);
  n->g0 = n->g1 = n->logits = NULL;
  n->counts = NULL;
  n->cap = 0;
}

void nnf_net_free(nnf_net *n) {
  if (!n) return;
  for (int i = 0; i < n->nlayers; i++) n->layer[i]->ops->destroy(n->layer[i]);
  free_buffers(n);
  free(n);
}

/* What layer i's consumer asks of it (the default: its own range, no clamp). */
static void fusion_of(nnf_net *n, int i) {
  nnf_layer *l = n->layer[i], *next = i + 1 < n->nlayers ? n->layer[i + 1] : NULL;
  nnf_fusion f = {NNF_ACT_NONE, NULL, -128, 127, 0, NULL};
  if (next && next->ops->fuse && nnf_layer_dense(l)) next->fused = next->ops->fuse(next, &f);
  l->fusion = f;
}

int nnf_net_add(nnf_net *n, nnf_layer *l, char *err, size_t errlen) {
  if (!l) return -1;
  if (n->nlayers == NNF_MAX_LAYERS) {
    l->ops->destroy(l);
    return nnf_fail(err, errlen, "a network has at most %d layers", NNF_MAX_LAYERS);
  }
  int i = n->nlayers, out = 0, steps = n->t[i].steps;
  l->net = n;
  l->index = i;
  l->in = n->t[i].width;
  if (l->ops->shape(l, l->in, &out, &steps, err, errlen)) {
    l->ops->destroy(l);
    return -1;
  }
  l->out = out;
  n->layer[i] = l;
  n->nlayers++;
  memset(&n->t[i + 1], 0, sizeof n->t[i + 1]);
  n->t[i + 1].width = out;
  n->t[i + 1].steps = steps;
  nnf_activation_fix_range(l);
  if (i > 0) fusion_of(n, i - 1);
  fusion_of(n, i);
  free_buffers(n);
  n->quantized = 0;
  return 0;
}

int nnf_net_inputs(const nnf_net *n) { return n->t[0].width; }
int nnf_net_outputs(const nnf_net *n) { return n->t[n->nlayers].width; }
int nnf_net_spiking(const nnf_net *n) { return n->t[n->nlayers].steps > 1 || nnf_layer_lif_config(n->layer[n->nlayers - 1]); }

void nnf_net_describe(const nnf_net *n, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < n->nlayers && used + 1 < len; i++) {
    if (i) buf[used++] = ',', buf[used] = 0;
    n->layer[i]->ops->describe(n->layer[i], buf + used, len - used);
    used += strlen(buf + used);
  }
}

static nnf_layer *linear_k(const nnf_net *n, int k) {
  for (int i = 0, seen = 0; i < n->nlayers; i++)
    if (nnf_layer_dense(n->layer[i]) && seen++ == k) return n->layer[i];
  return NULL;
}

nnf_dense *nnf_net_dense(nnf_net *n, int k) { return nnf_layer_dense(linear_k(n, k)); }
nnf_qlayer *nnf_net_qlayer(nnf_net *n, int k) { return nnf_layer_qlayer(linear_k(n, k)); }

int nnf_net_linears(const nnf_net *n) {
  int c = 0;
  for (int i = 0; i < n->nlayers; i++) c += nnf_layer_dense(n->layer[i]) != NULL;
  return c;
}

int nnf_net_size(const nnf_net *n, int i) {
  if (i == 0) return nnf_net_inputs(n);
  nnf_layer *l = linear_k(n, i - 1);
  return l ? l->out : 0;
}

int nnf_net_params(nnf_net *n, nnf_param *out, int max, int *owner) {
  int count = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_param p[NNF_MAX_PARAMS];
    int k = n->layer[i]->ops->params ? n->layer[i]->ops->params(n->layer[i], p) : 0;
    for (int j = 0; j < k && count < max; j++) {
      if (owner) owner[count] = i;
      out[count++] = p[j];
    }
  }
  return count;
}

int nnf_net_register(nnf_net *n, nnf_optim *o) {
  nnf_param p[4 * NNF_MAX_LAYERS];
  int k = nnf_net_params(n, p, 4 * NNF_MAX_LAYERS, NULL);
  for (int i = 0; i < k; i++) {
    size_t cnt = (size_t)p[i].shape[0] * (p[i].ndim > 1 ? (size_t)p[i].shape[1] : 1);
    if (nnf_optim_add(o, p[i].data, p[i].grad, cnt)) return -1;
  }
  return 0;
}

void nnf_net_zero_grad(nnf_net *n) {
  for (int i = 0; i < n->nlayers; i++)
    if (nnf_layer_dense(n->layer[i])) nnf_dense_zero_grad(nnf_layer_dense(n->layer[i]));
}

int nnf_net_init(nnf_net *n, const nnf_init_spec *s, uint64_t seed) {
  uint64_t rng = seed;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_dense *d = nnf_layer_dense(n->layer[i]);
    if (!d) continue;
    int a = i + 1 < n->nlayers ? nnf_layer_act(n->layer[i + 1]) : -1;
    if (nnf_init_layer(d, s, a < 0 ? NNF_ACT_NONE : (nnf_act)a, &rng)) return -1;
  }
  n->quantized = 0;
  return 0;
}

/* ---- buffers ------------------------------------------------------------------ */

int nnf_net_reserve(nnf_net *n, int batch, char *err, size_t errlen) {
  if (batch <= n->cap) return 0;
  free_buffers(n);
  size_t widest = 0;
  for (int i = 0; i <= n->nlayers; i++) {
    nnf_tensor *t = &n->t[i];
    size_t cnt = (size_t)t->steps * batch * t->width;
    widest = cnt > widest ? cnt : widest;
    if (!(t->f = malloc(cnt * sizeof(float))) || !(t->q = malloc(cnt))) goto oom;
  }
  size_t C = (size_t)nnf_net_outputs(n) * batch;
  if (!(n->g0 = malloc(widest * sizeof(float))) || !(n->g1 = malloc(widest * sizeof(float))) ||
      !(n->logits = malloc(C * sizeof(float))) || !(n->counts = malloc(C * sizeof(int32_t))))
    goto oom;
  n->cap = batch;
  return 0;
oom:
  free_buffers(n);
  return nnf_fail(err, errlen, "out of memory for a batch of %d", batch);
}

/* ---- the input quantizer -------------------------------------------------------- */

int nnf_rate_spike(uint64_t base, size_t r, int t, size_t i, float x) {
  uint64_t st = base ^ ((uint64_t)r * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(uint32_t)t << 40) ^
                ((uint64_t)i * 0xc2b2ae3d27d4eb4full);
  return nnf_rng_uniform(&st) < x;
}

void nnf_net_quantize_input(nnf_net *n, const float *x, int batch) {
  nnf_tensor *t = &n->t[0];
  size_t K = (size_t)t->width, cnt = (size_t)batch * K;
  if (n->t[0].steps > 1) {
    uint64_t base = nnf_rng_next(&n->rng);
    for (int s = 0; s < t->steps; s++)
      for (size_t i = 0; i < cnt; i++)
        t->q[(size_t)s * cnt + i] = (int8_t)nnf_rate_spike(base, i / K, s, i % K, x[i]);
  } else {
    for (size_t i = 0; i < cnt; i++) t->q[i] = (int8_t)nnfm_quantize_real(x[i], t->r.scale, t->r.zp, -128, 127);
  }
  nnf_qrange_dequantize(&t->r, t->q, t->f, (size_t)t->steps * cnt);
}

/* ---- quantization ---------------------------------------------------------------- */

int nnf_net_quantize(nnf_net *n, char *err, size_t errlen) {
  nnf_qrange_params(&n->t[0].r);
  for (int i = 0; i < n->nlayers; i++)
    if (n->layer[i]->ops->qparams) n->layer[i]->ops->qparams(n->layer[i]);
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    fusion_of(n, i);
    if (l->ops->quantize && l->ops->quantize(l, &n->t[i], &n->t[i + 1], err, errlen)) return -1;
  }
  n->quantized = 1;
  return 0;
}

/* ---- forward ---------------------------------------------------------------------- */

static void logits_of(nnf_net *n, int B) {
  const nnf_tensor *y = &n->t[n->nlayers];
  size_t C = (size_t)y->width, cnt = (size_t)B * C;
  if (!nnf_net_spiking(n)) {
    memcpy(n->logits, y->f, cnt * sizeof(float));
    return;
  }
  /* spike counts over the steps: snnTorch's count readout */
  memset(n->counts, 0, cnt * sizeof(int32_t));
  for (int t = 0; t < y->steps; t++)
    for (size_t i = 0; i < cnt; i++) n->counts[i] += y->q[(size_t)t * cnt + i];
  for (size_t i = 0; i < cnt; i++) n->logits[i] = (float)n->counts[i];
}

int nnf_net_forward(nnf_net *n, const nnf_pass *p, const float *x, char *err, size_t errlen) {
  int B = p->batch;
  if (B < 1 || B > 65535) return nnf_fail(err, errlen, "batch %d out of range 1..65535", B);
  if (nnf_net_reserve(n, B, err, errlen)) return -1;
  n->last_mode = p->mode;
  n->last_batch = B;
  nnf_tensor *t0 = &n->t[0];
  size_t cnt0 = (size_t)B * t0->width;
  if (p->mode == NNF_FWD_FLOAT) {
    memcpy(t0->f, x, cnt0 * sizeof(float));
    if (p->observe) nnf_qrange_observe(&t0->r, x, cnt0, nnf_observer_momentum(n, p));
  } else {
    if (!n->quantized && nnf_net_quantize(n, err, errlen)) return -1;
    if (p->mode == NNF_FWD_FAKEQUANT && p->observe) nnf_qrange_observe(&t0->r, x, cnt0, nnf_observer_momentum(n, p));
    if (p->mode != NNF_FWD_DEVICE) nnf_net_quantize_input(n, x, B);
  }
  n->input = t0->f;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    if (p->mode == NNF_FWD_DEVICE && !l->fused && l->ops->plan) {
      /* the device's outputs: dequantize them */
      nnf_tensor *y = &n->t[i + 1];
      y->steps = n->t[i].steps;
      const nnf_qrange *r = l->fusion.out ? l->fusion.out : nnf_layer_range(l);
      nnf_qrange_dequantize(r, y->q, y->f, (size_t)y->steps * B * y->width);
      continue;
    }
    nnf_pass q = *p;
    if (p->mode == NNF_FWD_DEVICE) q.mode = NNF_FWD_INT; /* pass-through layers copy */
    if (l->ops->forward(l, &q, &n->t[i], &n->t[i + 1], err, errlen)) return -1;
  }
  logits_of(n, B);
  return 0;
}

int nnf_net_run(nnf_net *n, nnf_fwd_mode mode, const float *x, int batch, char *err, size_t errlen) {
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = mode;
  p.batch = batch;
  p.steps = n->steps;
  p.observe = mode == NNF_FWD_FAKEQUANT;
  p.every = 1;
  p.rng = &n->rng;
  return nnf_net_forward(n, &p, x, err, errlen);
}

int nnf_net_observe(nnf_net *n, const float *x, int batch, int every) {
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = NNF_FWD_FLOAT;
  p.batch = batch;
  p.steps = n->steps;
  p.observe = 1;
  p.every = every;
  p.rng = &n->rng;
  int rc = nnf_net_forward(n, &p, x, NULL, 0);
  n->quantized = 0;
  return rc;
}

int nnf_net_calibrate(nnf_net *n, const float *x, int batch, char *err, size_t errlen) {
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = NNF_FWD_INT;
  p.batch = batch;
  p.steps = n->steps;
  p.observe = 1;
  p.calibrate = 1;
  p.every = 1;
  p.rng = &n->rng;
  /* two passes: the first sees ranges through default scales, the second
   * through the scales they give */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n->nlayers; i++) {
      int *seen;
      if (!nnf_layer_lif_current(n->layer[i], NULL, &seen, NULL, NULL)) *seen = 0;
    }
    if (nnf_net_forward(n, &p, x, err, errlen) || nnf_net_quantize(n, err, errlen)) return -1;
  }
  return 0;
}

/* ---- backward ---------------------------------------------------------------------- */

float nnf_net_backward(nnf_net *n, const int32_t *labels, float scale, int accumulate) {
  int L = n->nlayers, B = n->last_batch, C = nnf_net_outputs(n);
  const nnf_tensor *out = &n->t[L];
  size_t cntL = (size_t)B * C;
  float *g = n->g0, *gnext = n->g1;
  float loss = nnf_loss_softmax_ce(n->logits, labels, B, C, g);
  if (scale != 1.0f)
    for (size_t i = 0; i < cntL; i++) g[i] *= scale;
  /* a count readout: each step's spikes get the counts' gradient */
  for (int t = 1; t < out->steps; t++) memcpy(g + (size_t)t * cntL, g, cntL * sizeof(float));
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = n->last_mode;
  p.batch = B;
  p.steps = n->steps;
  for (int i = L - 1; i >= 0; i--) {
    nnf_layer *l = n->layer[i];
    l->ops->backward(l, &p, &n->t[i], &n->t[i + 1], g, i > 0 ? gnext : NULL, accumulate);
    float *tmp = g;
    g = gnext;
    gnext = tmp;
  }
  return loss;
}

int nnf_net_forward_int(nnf_net *n, const int8_t *xq, int batch, int8_t *out) {
  if (n->t[0].steps > 1 || nnf_net_reserve(n, batch, NULL, 0)) return -1;
  if (!n->quantized && nnf_net_quantize(n, NULL, 0)) return -1;
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = NNF_FWD_INT;
  p.batch = batch;
  p.steps = n->steps;
  p.rng = &n->rng;
  nnf_tensor *t0 = &n->t[0];
  memcpy(t0->q, xq, (size_t)batch * t0->width);
  nnf_qrange_dequantize(&t0->r, t0->q, t0->f, (size_t)batch * t0->width);
  for (int i = 0; i < n->nlayers; i++)
    if (n->layer[i]->ops->forward(n->layer[i], &p, &n->t[i], &n->t[i + 1], NULL, 0)) return -1;
  memcpy(out, n->t[n->nlayers].q, (size_t)batch * nnf_net_outputs(n));
  return 0;
}

const int32_t *nnf_net_counts(const nnf_net *n) { return n->counts; }

/* ---- ready-made networks --------------------------------------------------------------- */

int nnf_parse_layers(const char *spec, int *sizes, int max, char *err, size_t errlen) {
  int count = 0;
  const char *p = spec;
  if (!p || !*p) return nnf_fail(err, errlen, "empty layer list (want e.g. 784,128,10)");
  while (*p) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < 1 || v > 65535 || (*end && *end != ','))
      return nnf_fail(err, errlen, "bad layer list '%s': sizes are integers 1..65535 separated by commas", spec);
    if (count == max) return nnf_fail(err, errlen, "too many layers in '%s' (at most %d sizes)", spec, max);
    sizes[count++] = (int)v;
    p = *end ? end + 1 : end;
    if (*end && !*p) return nnf_fail(err, errlen, "bad layer list '%s': trailing comma", spec);
  }
  if (count < 2) return nnf_fail(err, errlen, "layer list '%s' needs at least an input and an output size", spec);
  return count;
}

static int check_sizes(const int *sizes, int nsizes, char *err, size_t errlen) {
  if (nsizes < 2 || nsizes > NNF_MAX_SIZES)
    return nnf_fail(err, errlen, "a network has 2..%d sizes (got %d)", NNF_MAX_SIZES, nsizes);
  for (int i = 0; i < nsizes; i++)
    if (sizes[i] < 1 || sizes[i] > 65535) return nnf_fail(err, errlen, "layer size %d out of range 1..65535", sizes[i]);
  return 0;
}

nnf_net *nnf_mlp_create(const int *sizes, int nsizes, nnf_act act, uint64_t seed, char *err, size_t errlen) {
  if (check_sizes(sizes, nsizes, err, errlen)) return NULL;
  if ((unsigned)act > NNF_ACT_TANH) {
    nnf_fail(err, errlen, "unknown activation %d", (int)act);
    return NULL;
  }
  nnf_net *n = nnf_net_create(sizes[0], err, errlen);
  uint64_t rng = seed;
  for (int k = 1; n && k < nsizes; k++) {
    if (nnf_net_add(n, nnf_linear(sizes[k], err, errlen), err, errlen) ||
        (k + 1 < nsizes && nnf_net_add(n, nnf_activation(act, err, errlen), err, errlen))) {
      nnf_net_free(n);
      return NULL;
    }
    nnf_dense_init_default(nnf_layer_dense(n->layer[n->nlayers - (k + 1 < nsizes ? 2 : 1)]), &rng);
  }
  return n;
}

const int8_t *nnf_mlp_output_q(const nnf_net *n, int k) {
  nnf_layer *l = linear_k(n, k - 1);
  return l ? n->t[l->index + 1].q : NULL;
}

nnf_snn_config nnf_snn_defaults(void) {
  nnf_snn_config c;
  memset(&c, 0, sizeof c);
  c.steps = 25;
  c.encoding = NNF_ENC_DIRECT;
  c.lif.beta = 1.0 - 205.0 / 4096.0; /* ~0.95, exactly representable as dv = 205 */
  c.lif.threshold = 1.0;
  c.lif.reset_sub = 1;
  c.lif.surrogate = NNF_SURR_ATAN;
  c.lif.slope = 2.0;
  c.lif.resolution = 48;
  return c;
}

int nnf_snn_config_check(const nnf_snn_config *c, char *err, size_t errlen) {
  if (c->steps < 1 || c->steps > 65535) return nnf_fail(err, errlen, "time steps T must be 1..65535 (got %d)", c->steps);
  if (!(c->lif.beta >= 0 && c->lif.beta <= 1)) return nnf_fail(err, errlen, "beta must be in [0, 1] (got %g)", c->lif.beta);
  if (!(c->lif.threshold > 0) || !isfinite(c->lif.threshold))
    return nnf_fail(err, errlen, "the threshold must be > 0 (got %g)", c->lif.threshold);
  if (!(c->lif.slope > 0) || !isfinite(c->lif.slope))
    return nnf_fail(err, errlen, "the surrogate slope must be > 0 (got %g)", c->lif.slope);
  if (c->lif.resolution < 1 || c->lif.resolution > NNFM_LIF_VTH_MAX)
    return nnf_fail(err, errlen, "the threshold resolution must be 1..%d", NNFM_LIF_VTH_MAX);
  if ((unsigned)c->encoding > NNF_ENC_RATE || (unsigned)c->lif.surrogate > NNF_SURR_ATAN || c->lif.reset_sub > 1 ||
      c->lif.reset_sub < 0)
    return nnf_fail(err, errlen, "unknown encoding, surrogate or reset");
  return 0;
}

/* The input as the spiking network's encoding has it. */
static void set_input(nnf_net *n, nnf_encoding e, int steps) {
  n->steps = steps;
  if (e == NNF_ENC_RATE) {
    n->t[0].steps = steps;
    nnf_qrange_fix(&n->t[0].r, 1.0, 0);
  } else {
    n->t[0].steps = 1;
    nnf_qrange_fix(&n->t[0].r, NNF_PIXEL_SCALE, NNF_PIXEL_ZP);
  }
}

nnf_net *nnf_snn_create(const int *sizes, int nsizes, const nnf_snn_config *c, uint64_t seed, char *err,
                        size_t errlen) {
  if (nnf_snn_config_check(c, err, errlen) || check_sizes(sizes, nsizes, err, errlen)) return NULL;
  nnf_net *n = nnf_net_create(sizes[0], err, errlen);
  if (!n) return NULL;
  set_input(n, c->encoding, c->steps);
  n->rng = seed ^ 0x52a7e5ull;
  uint64_t rng = seed;
  for (int k = 1; k < nsizes; k++) {
    if (nnf_net_add(n, nnf_linear(sizes[k], err, errlen), err, errlen) ||
        nnf_net_add(n, nnf_lif(&c->lif, err, errlen), err, errlen)) {
      nnf_net_free(n);
      return NULL;
    }
    nnf_dense_init_default(nnf_layer_dense(n->layer[n->nlayers - 2]), &rng);
  }
  return n;
}

int nnf_net_snn_config(const nnf_net *n, nnf_snn_config *c) {
  for (int i = 0; i < n->nlayers; i++) {
    const nnf_lif_config *l = nnf_layer_lif_config(n->layer[i]);
    if (!l) continue;
    c->steps = n->steps;
    c->encoding = n->t[0].steps > 1 ? NNF_ENC_RATE : NNF_ENC_DIRECT;
    c->lif = *l;
    return 0;
  }
  return -1;
}
