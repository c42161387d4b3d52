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
  n->t[0].c = n->t[0].mc = inputs;
  n->t[0].h = n->t[0].w = n->t[0].mh = n->t[0].mw = 1;
  n->steps = 1;
  n->observer_momentum = 0.01f;
  n->rng = 0x52a7e5ull; /* seed 0's generator (nnf_snn_create reseeds) */
  return n;
}

nnf_net *nnf_net_create_map(int c, int h, int w, char *err, size_t errlen) {
  if (c < 1 || h < 1 || w < 1 || (int64_t)c * h * w > (1 << 24)) {
    nnf_fail(err, errlen, "a network takes c x h x w maps of 1..2^24 values (got %d x %d x %d)", c, h, w);
    return NULL;
  }
  nnf_net *n = nnf_net_create(1, err, errlen);
  if (!n) return NULL;
  nnf_tensor *t = &n->t[0];
  t->width = c * h * w;
  t->c = t->mc = c;
  t->h = t->mh = h;
  t->w = t->mw = w;
  t->map = 1;
  return n;
}

static void free_buffers(nnf_net *n) {
  for (int i = 0; i <= NNF_MAX_LAYERS; i++) {
    free(n->t[i].f);
    free(n->t[i].q);
    n->t[i].f = NULL;
    n->t[i].q = NULL;
  }
  for (int k = 0; k < n->ngrad; k++) free(n->grad[k]);
  n->ngrad = 0;
  free(n->logits);
  free(n->counts);
  n->logits = NULL;
  n->counts = NULL;
  n->cap = 0;
  n->widest = 0;
}

void nnf_net_free(nnf_net *n) {
  if (!n) return;
  for (int i = 0; i < n->nlayers; i++) n->layer[i]->ops->destroy(n->layer[i]);
  free_buffers(n);
  free(n);
}

/* What layer i's consumer asks of it (the default: its own range, no clamp).
 * A consumer fuses into it only as its output's one reader: a fused
 * activation changes the int8 output every reader sees. */
static void fusion_of(nnf_net *n, int i) {
  nnf_layer *l = n->layer[i], *next = i + 1 < n->nlayers ? n->layer[i + 1] : NULL;
  nnf_fusion f = {NNF_ACT_NONE, NULL, -128, 127, 0, NULL};
  if (next) next->fused = 0;
  if (next && next->ops->fuse && l->ops->fusable && next->src == i + 1 && nnf_net_readers(n, i + 1) == 1)
    next->fused = next->ops->fuse(next, &f);
  l->fusion = f;
}

int nnf_net_readers(const nnf_net *n, int b) {
  int k = 0;
  for (int j = 0; j < n->nlayers; j++) k += (n->layer[j]->src == b) + (n->layer[j]->src2 == b);
  return k;
}

int nnf_net_is_graph(const nnf_net *n) {
  for (int j = 0; j < n->nlayers; j++)
    if (n->layer[j]->src != j || n->layer[j]->src2 >= 0) return 1;
  return 0;
}

nnf_layer *nnf_layer_producer(const nnf_layer *l) { return l->src > 0 ? l->net->layer[l->src - 1] : NULL; }

int nnf_net_add(nnf_net *n, nnf_layer *l, char *err, size_t errlen) {
  return nnf_net_add_from(n, l, n->nlayers - 1, err, errlen);
}

int nnf_net_add_from(nnf_net *n, nnf_layer *l, int from, char *err, size_t errlen) {
  if (!l) return -1;
  if (n->nlayers == NNF_MAX_LAYERS) {
    l->ops->destroy(l);
    return nnf_fail(err, errlen, "a network has at most %d layers", NNF_MAX_LAYERS);
  }
  int i = n->nlayers, out = 0, s = from + 1;
  const char *kind = l->ops->kind; /* (static: the message outlives the layer) */
  if (from < -1 || from >= i) {
    l->ops->destroy(l);
    return nnf_fail(err, errlen, "layer %d (%s): it reads layer %d's output; it may read the input (-1) or a "
                    "layer before it (0..%d)", i, kind, from, i - 1);
  }
  if (s != i && (nnf_layer_rnn(l, NULL, NULL, NULL, NULL) >= 0 || nnf_layer_attn(l, NULL, NULL) >= 0 ||
                 nnf_layer_lif_config(l))) {
    l->ops->destroy(l);
    return nnf_fail(err, errlen, "layer %d (%s): it reads layer %d's output, but a recurrent, attention or LIF "
                    "layer reads only the layer before it", i, kind, from);
  }
  int steps = n->t[s].steps;
  l->net = n;
  l->index = i;
  l->src = s;
  l->src2 = -1;
  l->in = n->t[s].width;
  l->ic = l->oc = n->t[s].c;
  l->ih = l->oh = n->t[s].h;
  l->iw = l->ow = n->t[s].w;
  l->imap = l->omap = n->t[s].map;
  memset(&n->t[i + 1], 0, sizeof n->t[i + 1]);
  if (l->ops->shape(l, l->in, &out, &steps, err, errlen)) {
    l->ops->destroy(l);
    return -1;
  }
  l->out = out;
  if ((int64_t)l->oc * l->oh * l->ow != out) l->oc = out, l->oh = l->ow = 1, l->omap = 0;
  n->layer[i] = l;
  n->nlayers++;
  nnf_tensor *y = &n->t[i + 1];
  y->width = out;
  y->steps = steps;
  y->c = l->oc, y->h = l->oh, y->w = l->ow;
  y->map = l->omap;
  /* the device's map: a layer it runs writes its shape; one it skips
   * (Flatten, activations, Dropout) leaves its input's where it is; a
   * ZeroPad2d's map is its own (the conv after it reads the map before it) */
  int pad[4];
  if (l->ops->plan || nnf_layer_zeropad(l, pad)) y->mc = l->oc, y->mh = l->oh, y->mw = l->ow;
  else y->mc = n->t[s].mc, y->mh = n->t[s].mh, y->mw = n->t[s].mw;
  /* a new reader may end a fusion anywhere before it */
  for (int j = 0; j <= i; j++) fusion_of(n, j);
  free_buffers(n);
  n->quantized = 0;
  return 0;
}

int nnf_layer_set_rounding(nnf_layer *l, int round) {
  if (!l || (round != NNFM_ROUND_SINGLE && round != NNFM_ROUND_TFLITE)) return -1;
  if (l->round != round && l->net) l->net->quantized = 0; /* the int8 forms take it when next quantized */
  l->round = round;
  return 0;
}

int nnf_net_set_rounding(nnf_net *n, int round) {
  if (!n || (round != NNFM_ROUND_SINGLE && round != NNFM_ROUND_TFLITE)) return -1;
  for (int i = 0; i < n->nlayers; i++) nnf_layer_set_rounding(n->layer[i], round);
  return 0;
}

int nnf_net_tflite_rounding(const nnf_net *n) {
  for (int i = 0; i < n->nlayers; i++)
    if (n->layer[i]->round == NNFM_ROUND_TFLITE) return 1;
  return 0;
}

int nnf_net_inputs(const nnf_net *n) { return n->t[0].width; }
int nnf_net_outputs(const nnf_net *n) { return n->t[n->nlayers].width; }
int nnf_net_spiking(const nnf_net *n) { return n->nlayers && n->layer[n->nlayers - 1]->ops->spiking; }

void nnf_net_describe(const nnf_net *n, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < n->nlayers && used + 1 < len; i++) {
    if (i) buf[used++] = ',', buf[used] = 0;
    n->layer[i]->ops->describe(n->layer[i], buf + used, len - used);
    if (n->layer[i]->src != i) nnf_describe_from(buf + used, len - used, n->layer[i]->src - 1);
    used += strlen(buf + used);
  }
}

void nnf_describe_from(char *buf, size_t len, int from) {
  size_t u = strlen(buf);
  char tail[24];
  if (u && buf[u - 1] == ')') {
    snprintf(tail, sizeof tail, ",from=%d)", from);
    buf[--u] = 0;
  } else {
    snprintf(tail, sizeof tail, "(from=%d)", from);
  }
  snprintf(buf + u, len - u, "%s", tail);
}

int nnf_split_from(const char *tok, char *out, size_t outlen, int *from) {
  size_t n = strlen(tok);
  if (n + 1 > outlen) return -1;
  memcpy(out, tok, n + 1);
  if (!n || tok[n - 1] != ')') return 0;
  /* the last argument: back to the ',' or '(' at the entry's own depth */
  size_t k = n - 1;
  int depth = 0;
  while (k > 0) {
    char c = tok[k - 1];
    if (c == ')') depth++;
    else if (c == '(' && depth) depth--;
    else if ((c == ',' || c == '(') && !depth) break;
    k--;
  }
  if (!k) return 0;
  const char *a = tok + k;
  while (*a == ' ') a++;
  if (strncmp(a, "from=", 5)) return 0;
  char *end;
  errno = 0;
  long v = strtol(a + 5, &end, 10);
  while (*end == ' ') end++;
  if (end == a + 5 || errno || v < -1 || v > NNF_MAX_LAYERS || end != tok + n - 1) return -1;
  *from = (int)v;
  /* drop ",from=K" (or "(from=K)" whole) */
  if (tok[k - 1] == '(') out[k - 1] = 0;
  else out[k - 1] = ')', out[k] = 0;
  return 1;
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

size_t nnf_param_size(const nnf_param *p) {
  size_t s = 1;
  for (int d = 0; d < p->ndim; d++) s *= (size_t)p->shape[d];
  return s;
}


int nnf_net_register(nnf_net *n, nnf_optim *o) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  for (int i = 0; i < k; i++)
    if (nnf_optim_add(o, p[i].data, p[i].grad, nnf_param_size(&p[i]))) return -1;
  return 0;
}

void nnf_net_zero_grad(nnf_net *n) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  for (int i = 0; i < k; i++) memset(p[i].grad, 0, nnf_param_size(&p[i]) * sizeof(float));
}

/* ---- buffers ------------------------------------------------------------------ */

static int grad_need(const nnf_net *n);

int nnf_net_reserve(nnf_net *n, int batch, char *err, size_t errlen) {
  if (batch <= n->cap) return 0;
  free_buffers(n);
  size_t widest = 1;
  for (int i = 0; i <= n->nlayers; i++) {
    nnf_tensor *t = &n->t[i];
    size_t cnt = (size_t)t->steps * batch * t->width;
    widest = cnt > widest ? cnt : widest;
    if (!(t->f = malloc(cnt * sizeof(float))) || !(t->q = malloc(cnt))) goto oom;
  }
  size_t C = (size_t)nnf_net_outputs(n) * batch;
  if (!(n->logits = malloc(C * sizeof(float))) || !(n->counts = malloc(C * sizeof(int32_t)))) goto oom;
  for (int k = grad_need(n); n->ngrad < k; n->ngrad++)
    if (!(n->grad[n->ngrad] = malloc(widest * sizeof(float)))) goto oom;
  n->widest = widest;
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
    /* a layer that keeps its input's quantization takes it as it is now: a
     * pool's fused ReLU sets its boundary's range in the pool's quantize,
     * after the qparams pass above copied the ReLU's observed one */
    if (l->ops->qparams == nnf_qparams_pass) n->t[i + 1].r = n->t[l->src].r;
    fusion_of(n, i);
    if (l->ops->quantize && l->ops->quantize(l, &n->t[l->src], &n->t[i + 1], err, errlen)) return -1;
  }
  n->quantized = 1;
  return 0;
}

/* ---- forward ---------------------------------------------------------------------- */

int nnf_net_logits_at(const nnf_net *n) {
  int L = n->nlayers;
  return L > 0 && !strcmp(n->layer[L - 1]->ops->kind, "Softmax") ? L - 1 : L;
}

static void logits_of(nnf_net *n, int B) {
  const nnf_tensor *y = &n->t[nnf_net_logits_at(n)];
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
      y->steps = n->t[l->src].steps;
      const nnf_qrange *r = l->fusion.out ? l->fusion.out : nnf_layer_range(l);
      nnf_qrange_dequantize(r, y->q, y->f, (size_t)y->steps * B * y->width);
      continue;
    }
    nnf_pass q = *p;
    if (p->mode == NNF_FWD_DEVICE) q.mode = NNF_FWD_INT; /* pass-through layers copy */
    if (l->ops->forward(l, &q, &n->t[l->src], &n->t[i + 1], err, errlen)) return -1;
  }
  logits_of(n, B);
  return 0;
}

nnf_pass nnf_net_pass(nnf_net *n, nnf_fwd_mode mode, int batch, int observe, int every) {
  nnf_pass p;
  memset(&p, 0, sizeof p);
  p.mode = mode;
  p.batch = batch;
  p.steps = n->steps;
  p.observe = observe;
  p.every = every;
  p.rng = &n->rng;
  return p;
}

int nnf_net_run(nnf_net *n, nnf_fwd_mode mode, const float *x, int batch, char *err, size_t errlen) {
  nnf_pass p = nnf_net_pass(n, mode, batch, mode == NNF_FWD_FAKEQUANT, 1);
  return nnf_net_forward(n, &p, x, err, errlen);
}

int nnf_net_observe(nnf_net *n, const float *x, int batch, int every) {
  nnf_pass p = nnf_net_pass(n, NNF_FWD_FLOAT, batch, 1, every);
  int rc = nnf_net_forward(n, &p, x, NULL, 0);
  n->quantized = 0;
  return rc;
}

int nnf_net_calibrate(nnf_net *n, const float *x, int batch, char *err, size_t errlen) {
  nnf_pass p = nnf_net_pass(n, NNF_FWD_INT, batch, 1, 1);
  p.calibrate = 1;
  /* two passes: the first sees ranges through default scales, the second
   * through the scales they give */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n->nlayers; i++)
      if (n->layer[i]->ops->forget) n->layer[i]->ops->forget(n->layer[i]);
    if (nnf_net_forward(n, &p, x, err, errlen) || nnf_net_quantize(n, err, errlen)) return -1;
  }
  return 0;
}

/* ---- backward ---------------------------------------------------------------------- */

float nnf_net_backward(nnf_net *n, const int32_t *labels, float scale, int accumulate) {
  return nnf_net_backward_task(n, labels, NULL, scale, accumulate);
}

/* A gradient buffer of n->widest floats from the free list (NULL: none
 * left, which nnf_net_reserve's count rules out). */
static float *grad_take(float **free_list, int *nfree) { return *nfree ? free_list[--*nfree] : NULL; }

/* The gradient buffers the backward pass holds at once: the walk below
 * with counts. A chain needs two. */
static int grad_need(const nnf_net *n) {
  unsigned char live[NNF_MAX_LAYERS + 1] = {0};
  int L = n->nlayers, total = 1, nfree = 0;
  live[L] = 1;
#define TAKE() (nfree ? nfree-- : total++)
  for (int i = L - 1; i >= 0; i--) {
    const nnf_layer *l = n->layer[i];
    if (!live[i + 1]) TAKE();
    int in[2] = {l->src2, l->src};
    for (int k = 0; k < 2; k++) { /* (the input's gradient too: nnf_net_backward_grad) */
      if (in[k] < 0) continue;
      TAKE();
      if (live[in[k]]) nfree++; /* scratch, added and given back */
      live[in[k]] = 1;
    }
    live[i + 1] = 0;
    nfree++;
  }
#undef TAKE
  return total;
}

/* dx of boundary b: written into G[b] by its first contributor (the
 * highest reader), else into scratch and added. */
static float *grad_into(float **G, int b, float **fl, int *nf, int *added) {
  *added = G[b] != NULL;
  if (!*added) return G[b] = grad_take(fl, nf);
  return grad_take(fl, nf);
}

static void grad_add(const nnf_net *n, float **G, int b, float *s, int B, float **fl, int *nf) {
  const nnf_tensor *t = &n->t[b];
  size_t cnt = (size_t)t->steps * B * t->width;
  for (size_t k = 0; k < cnt; k++) G[b][k] += s[k];
  fl[(*nf)++] = s;
}

/* The walk back from boundary L, whose gradient is in buffer gL (taken
 * from the free list fl): parameter gradients written (added with
 * accumulate); the input's gradient (boundary 0's) returned when want_dx
 * and a layer reads the input, else NULL. */
static float *walk_back(nnf_net *n, int L, float *gL, float **fl, int nf, int want_dx, int accumulate) {
  const int B = n->last_batch;
  float *G[NNF_MAX_LAYERS + 1] = {0};
  G[L] = gL;
  nnf_pass p = nnf_net_pass(n, n->last_mode, B, 0, 1);
  const int lo = want_dx ? 0 : 1; /* the lowest boundary whose gradient is wanted */
  for (int i = L - 1; i >= 0; i--) {
    nnf_layer *l = n->layer[i];
    float *gy = G[i + 1];
    if (!gy) { /* an output nothing after it reads: no gradient */
      const nnf_tensor *y = &n->t[i + 1];
      if (!(gy = G[i + 1] = grad_take(fl, &nf))) return NULL;
      memset(gy, 0, (size_t)y->steps * B * y->width * sizeof(float));
    }
    int a1 = 0, a2 = 0;
    float *d2 = NULL, *d1 = NULL;
    if (l->src2 >= lo && l->ops->backward2) {
      if (!(d2 = grad_into(G, l->src2, fl, &nf, &a2))) return NULL;
      l->ops->backward2(l, &p, &n->t[i + 1], gy, d2);
    }
    if (l->src >= lo && !(d1 = grad_into(G, l->src, fl, &nf, &a1))) return NULL;
    l->ops->backward(l, &p, &n->t[l->src], &n->t[i + 1], gy, d1, accumulate);
    if (a2) grad_add(n, G, l->src2, d2, B, fl, &nf);
    if (a1) grad_add(n, G, l->src, d1, B, fl, &nf);
    fl[nf++] = gy;
    G[i + 1] = NULL;
  }
  return G[0];
}

float nnf_net_backward_task(nnf_net *n, const int32_t *labels, const float *targets, float scale, int accumulate) {
  /* the loss reads the logits (before a final Softmax, which its softmax
   * cross-entropy contains): the gradient starts there */
  int L = nnf_net_logits_at(n), B = n->last_batch, C = nnf_net_outputs(n);
  const nnf_tensor *out = &n->t[L];
  size_t cntL = (size_t)B * C;
  float *fl[NNF_MAX_LAYERS + 2];
  int nf = n->ngrad;
  memcpy(fl, n->grad, sizeof(float *) * (size_t)nf);
  float *g = grad_take(fl, &nf);
  if (!g) return NAN;
  float loss = nnf_task_loss(&n->task, n->logits, labels, targets, B, C, g);
  if (scale != 1.0f)
    for (size_t i = 0; i < cntL; i++) g[i] *= scale;
  /* a count readout: each step's spikes get the counts' gradient */
  for (int t = 1; t < out->steps; t++) memcpy(g + (size_t)t * cntL, g, cntL * sizeof(float));
  walk_back(n, L, g, fl, nf, 0, accumulate);
  return loss;
}

int nnf_net_backward_grad(nnf_net *n, const float *gy, float *dx, int accumulate) {
  const int L = n->nlayers, B = n->last_batch;
  if (B < 1 || B > n->cap) return -1;
  float *fl[NNF_MAX_LAYERS + 2];
  int nf = n->ngrad;
  memcpy(fl, n->grad, sizeof(float *) * (size_t)nf);
  float *g = grad_take(fl, &nf);
  if (!g) return -1;
  memcpy(g, gy, (size_t)n->t[L].steps * B * n->t[L].width * sizeof(float));
  float *g0 = walk_back(n, L, g, fl, nf, dx != NULL, accumulate);
  if (dx) {
    size_t cnt = (size_t)n->t[0].steps * B * n->t[0].width;
    if (g0) memcpy(dx, g0, cnt * sizeof(float));
    else memset(dx, 0, cnt * sizeof(float));
  }
  return 0;
}

int nnf_net_forward_int(nnf_net *n, const int8_t *xq, int batch, int8_t *out) {
  if (n->t[0].steps > 1 || nnf_net_reserve(n, batch, NULL, 0)) return -1;
  if (!n->quantized && nnf_net_quantize(n, NULL, 0)) return -1;
  nnf_pass p = nnf_net_pass(n, NNF_FWD_INT, batch, 0, 1);
  nnf_tensor *t0 = &n->t[0];
  memcpy(t0->q, xq, (size_t)batch * t0->width);
  nnf_qrange_dequantize(&t0->r, t0->q, t0->f, (size_t)batch * t0->width);
  for (int i = 0; i < n->nlayers; i++)
    if (n->layer[i]->ops->forward(n->layer[i], &p, &n->t[n->layer[i]->src], &n->t[i + 1], NULL, 0)) return -1;
  memcpy(out, n->t[n->nlayers].q, (size_t)batch * nnf_net_outputs(n));
  return 0;
}

const int32_t *nnf_net_counts(const nnf_net *n) { return n->counts; }


/* ---- regularisation ------------------------------------------------------------------ */

double nnf_net_l1(nnf_net *n, float l1) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  double s = 0.0;
  for (int i = 0; i < k; i++) s += nnf_l1_penalty(p[i].data, p[i].grad, nnf_param_size(&p[i]), l1);
  return s;
}

float nnf_net_clip_grad_norm(nnf_net *n, float max_norm) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  float *g[NNF_MAX_NET_PARAMS];
  size_t cnt[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  for (int i = 0; i < k; i++) g[i] = p[i].grad, cnt[i] = nnf_param_size(&p[i]);
  return nnf_clip_grad_norm(g, cnt, k, max_norm);
}

int nnf_net_has_dropout(const nnf_net *n) {
  for (int i = 0; i < n->nlayers; i++)
    if (nnf_layer_dropout_p(n->layer[i]) > 0) return 1;
  return 0;
}
