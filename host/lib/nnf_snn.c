/*
 * nnf_snn.c - spiking networks on the host: quantization, the integer
 * forward pass (the device's arithmetic), surrogate-gradient BPTT, training
 * and evaluation loops (see nnf_snn.h, docs/snn.md).
 */
#include "nnf_snn.h"
#include "nnf_err.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnfm.h"

nnf_snn_config nnf_snn_defaults(void) {
  nnf_snn_config c;
  memset(&c, 0, sizeof c);
  c.steps = 25;
  c.encoding = NNF_ENC_DIRECT;
  c.beta = 1.0 - 205.0 / 4096.0; /* ~0.95, exactly representable as dv = 205 */
  c.threshold = 1.0;
  c.reset_sub = 1;
  c.surrogate = NNF_SURR_ATAN;
  c.slope = 2.0;
  c.resolution = 48;
  return c;
}

int nnf_snn_config_check(const nnf_snn_config *c, char *err, size_t errlen) {
  if (c->steps < 1 || c->steps > 65535)
    return nnf_fail(err, errlen, "time steps T must be 1..65535 (got %d)", c->steps);
  if (!(c->beta >= 0 && c->beta <= 1))
    return nnf_fail(err, errlen, "beta must be in [0, 1] (got %g)", c->beta);
  if (!(c->threshold > 0) || !isfinite(c->threshold))
    return nnf_fail(err, errlen, "the threshold must be > 0 (got %g)", c->threshold);
  if (!(c->slope > 0) || !isfinite(c->slope))
    return nnf_fail(err, errlen, "the surrogate slope must be > 0 (got %g)", c->slope);
  if (c->resolution < 1 || c->resolution > NNFM_LIF_VTH_MAX)
    return nnf_fail(err, errlen, "the threshold resolution must be 1..%d", NNFM_LIF_VTH_MAX);
  if ((unsigned)c->encoding > NNF_ENC_RATE || (unsigned)c->surrogate > NNF_SURR_ATAN || c->reset_sub > 1 ||
      c->reset_sub < 0)
    return nnf_fail(err, errlen, "unknown encoding, surrogate or reset");
  return 0;
}

int nnf_snn_rate_spike(uint64_t base, size_t r, int t, size_t i, float x) {
  uint64_t st = base ^ ((uint64_t)r * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(uint32_t)t << 40) ^ ((uint64_t)i * 0xc2b2ae3d27d4eb4full);
  return nnf_rng_uniform(&st) < x;
}

/* ---- buffers ------------------------------------------------------------ */

static void free_bufs(nnf_snn *n) {
  free(n->xq);
  free(n->sin);
  free(n->counts);
  free(n->g0);
  free(n->g1);
  free(n->gv);
  free(n->dq);
  free(n->dacc);
  for (int l = 0; l < NNF_MAX_LAYERS; l++) {
    free(n->a[l]);
    free(n->s[l]);
    free(n->v[l]);
    n->a[l] = n->s[l] = NULL;
    n->v[l] = NULL;
  }
  n->xq = n->sin = NULL;
  n->counts = NULL;
  n->g0 = n->g1 = n->gv = NULL;
  n->dq = n->dacc = NULL;
  n->cap = 0;
}

static int ensure(nnf_snn *n, int B) {
  if (B <= n->cap) return 0;
  free_bufs(n);
  size_t T = (size_t)n->cfg.steps, widest = 0;
  for (int l = 0; l <= n->nlayers; l++) widest = (size_t)n->sizes[l] > widest ? (size_t)n->sizes[l] : widest;
  n->xq = malloc((size_t)B * n->sizes[0]);
  n->sin = n->cfg.encoding == NNF_ENC_RATE ? malloc(T * B * n->sizes[0]) : malloc(1);
  n->counts = malloc((size_t)B * n->sizes[n->nlayers] * sizeof(int32_t));
  n->g0 = malloc(T * B * widest * sizeof(float));
  n->g1 = malloc(T * B * widest * sizeof(float));
  n->gv = malloc((size_t)B * widest * sizeof(float));
  n->dq = malloc((size_t)B * widest * sizeof(double));
  n->dacc = malloc((size_t)B * widest * sizeof(double));
  if (!n->xq || !n->sin || !n->counts || !n->g0 || !n->g1 || !n->gv || !n->dq || !n->dacc) return -1;
  for (int l = 0; l < n->nlayers; l++) {
    size_t cnt = T * B * n->sizes[l + 1];
    if (!(n->a[l] = malloc(cnt)) || !(n->s[l] = malloc(cnt)) || !(n->v[l] = malloc(cnt * sizeof(float))))
      return -1;
  }
  n->cap = B;
  return 0;
}

/* ---- creation ----------------------------------------------------------- */

nnf_snn *nnf_snn_create(const int *sizes, int nsizes, const nnf_snn_config *c, uint64_t seed,
                        char *err, size_t errlen) {
  if (nnf_snn_config_check(c, err, errlen)) return NULL;
  if (nsizes < 2 || nsizes > NNF_MAX_LAYERS + 1) {
    nnf_fail(err, errlen, "a network has 2..%d sizes", NNF_MAX_LAYERS + 1);
    return NULL;
  }
  nnf_snn *n = calloc(1, sizeof *n);
  if (!n) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  n->nlayers = nsizes - 1;
  n->cfg = *c;
  memcpy(n->sizes, sizes, (size_t)nsizes * sizeof *sizes);
  n->lif.du = 4095;
  n->lif.dv = (uint16_t)lround((1.0 - c->beta) * 4096.0);
  if (n->lif.dv > 4095) n->lif.dv = 4095;
  n->lif.reset_sub = (uint8_t)c->reset_sub;
  n->rng = seed ^ 0x52a7e5ull;
  uint64_t rng = seed;
  for (int l = 0; l < n->nlayers; l++) {
    nnf_qlayer *Q = &n->ql[l];
    int in = sizes[l], out = sizes[l + 1];
    if (in < 1 || out < 1 || in > 65535 || out > 65535 || nnf_dense_init(&n->layer[l], in, out) ||
        !(Q->s_w = calloc((size_t)out, sizeof(float))) || !(Q->w_kn = calloc((size_t)in * out, 1)) ||
        !(Q->w_fq = calloc((size_t)in * out, sizeof(float))) || !(Q->b_fq = calloc((size_t)out, sizeof(float))) ||
        !(Q->bias = calloc((size_t)out, sizeof(int32_t))) || !(Q->m0 = calloc((size_t)out, sizeof(int32_t))) ||
        !(Q->shift = calloc((size_t)out, 1)) || !(n->wq[l] = calloc((size_t)in * out, sizeof(double)))) {
      nnf_snn_free(n);
      nnf_fail(err, errlen, "bad layer size or out of memory");
      return NULL;
    }
    nnf_dense_init_default(&n->layer[l], &rng);
    n->cur[l].range = (float)(4.0 * c->threshold);
  }
  return n;
}

void nnf_snn_free(nnf_snn *n) {
  if (!n) return;
  for (int l = 0; l < n->nlayers; l++) {
    nnf_qlayer *Q = &n->ql[l];
    nnf_dense_free(&n->layer[l]);
    free(Q->s_w);
    free(Q->w_kn);
    free(Q->w_fq);
    free(Q->b_fq);
    free(Q->bias);
    free(Q->m0);
    free(Q->shift);
    free(n->wq[l]);
  }
  free_bufs(n);
  free(n);
}

int nnf_snn_register(nnf_snn *n, nnf_optim *o) {
  for (int l = 0; l < n->nlayers; l++) {
    nnf_dense *L = &n->layer[l];
    if (nnf_optim_add(o, L->w, L->dw, (size_t)L->in * L->out) || nnf_optim_add(o, L->b, L->db, (size_t)L->out))
      return -1;
  }
  return 0;
}

/* ---- quantization -------------------------------------------------------- */

/* Input quantization of layer l: images in [0, 1] (scale 1/255, zp -128)
 * for direct input, spikes (scale 1, zp 0) otherwise. */
static double in_scale(const nnf_snn *n, int l) {
  return l == 0 && n->cfg.encoding == NNF_ENC_DIRECT ? 1.0 / 255.0 : 1.0;
}
static int32_t in_zp(const nnf_snn *n, int l) { return l == 0 && n->cfg.encoding == NNF_ENC_DIRECT ? -128 : 0; }

int nnf_snn_quantize(nnf_snn *n, char *err, size_t errlen) {
  for (int l = 0; l < n->nlayers; l++) {
    nnf_dense *L = &n->layer[l];
    nnf_qlayer *Q = &n->ql[l];
    nnf_snn_current *c = &n->cur[l];
    double theta = n->cfg.threshold, range = c->range > 1e-9 ? c->range : theta;
    /* vth: at least `resolution` steps per threshold (currents beyond
     * 127 / resolution thresholds clamp: with them a neuron fires every step
     * anyway), finer when the observed currents are smaller */
    long vth = (long)floor(127.0 * theta / range);
    if (vth < n->cfg.resolution) vth = n->cfg.resolution;
    if (vth > NNFM_LIF_VTH_MAX) vth = NNFM_LIF_VTH_MAX;
    c->vth = (int32_t)vth;
    c->scale = theta / (double)vth;
    if (nnf_qlayer_quantize(Q, L, in_scale(n, l), in_zp(n, l), c->scale, l + 1, err, errlen)) return -1;
    for (size_t i = 0; i < (size_t)L->in * L->out; i++) n->wq[l][i] = Q->w_kn[i];
    Q->zp = 0;
    Q->lo = -128;
    Q->hi = 127;
    Q->lut = 0;
  }
  n->quantized = 1;
  return 0;
}

/* ---- the integer forward pass --------------------------------------------- */

/* int8 currents a (B x out) = vector stage of bias + in (B x K, int8) . W_q,
 * summed exactly in double; with `observe`, the batch's max |I| (real
 * units) is folded into the layer's range. */
static void currents(nnf_snn *n, int l, const int8_t *in, int B, int8_t *a, int observe, float momentum) {
  const nnf_qlayer *Q = &n->ql[l];
  int K = n->sizes[l], N = n->sizes[l + 1];
  double *x2 = n->dq, *acc = n->dacc;
  for (size_t i = 0; i < (size_t)B * K; i++) x2[i] = in[i];
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, N, K, 1.0, x2, K, n->wq[l], N, 0.0, acc, N);
  double sin = in_scale(n, l), mx = 0;
  for (int b = 0; b < B; b++)
    for (int j = 0; j < N; j++) {
      int64_t s64 = (int64_t)acc[(size_t)b * N + j] + Q->bias[j];
      int32_t s = (int32_t)(uint32_t)(uint64_t)s64; /* the accumulator wraps mod 2^32 */
      a[(size_t)b * N + j] = nnfm_vector_stage(s, Q->m0[j], Q->shift[j], 0, -128, 127, NULL);
      double r = fabs((double)s * sin * Q->s_w[j]);
      mx = r > mx ? r : mx;
    }
  if (observe) {
    nnf_snn_current *c = &n->cur[l];
    if (!c->seen) c->range = (float)mx;
    else c->range += momentum * ((float)mx - c->range);
    c->seen++;
  }
}

static int forward(nnf_snn *n, const float *x, int B, int observe, float momentum, char *err,
                   size_t errlen) {
  if (B < 1) return nnf_fail(err, errlen, "empty batch");
  if (ensure(n, B)) return nnf_fail(err, errlen, "out of memory for a batch of %d", B);
  if (!n->quantized && nnf_snn_quantize(n, err, errlen)) return -1;
  int T = n->cfg.steps, L = n->nlayers, K0 = n->sizes[0];
  size_t cnt0 = (size_t)B * K0;
  if (n->cfg.encoding == NNF_ENC_DIRECT) {
    for (size_t i = 0; i < cnt0; i++) n->xq[i] = (int8_t)nnfm_quantize_real(x[i], 1.0 / 255.0, -128, -128, 127);
  } else {
    uint64_t base = nnf_rng_next(&n->rng);
    for (int t = 0; t < T; t++)
      for (size_t i = 0; i < cnt0; i++)
        n->sin[(size_t)t * cnt0 + i] = (int8_t)nnf_snn_rate_spike(base, i / (size_t)K0, t, i % (size_t)K0, x[i]);
  }
  nnfm_lif_state *st[NNF_MAX_LAYERS];
  for (int l = 0; l < L; l++) {
    st[l] = calloc((size_t)B * n->sizes[l + 1], sizeof(nnfm_lif_state));
    if (!st[l]) {
      for (int k = 0; k < l; k++) free(st[k]);
      return nnf_fail(err, errlen, "out of memory");
    }
  }
  memset(n->counts, 0, (size_t)B * n->sizes[L] * sizeof(int32_t));
  for (int t = 0; t < T; t++) {
    for (int l = 0; l < L; l++) {
      size_t N = (size_t)n->sizes[l + 1], cnt = (size_t)B * N, off = (size_t)t * cnt;
      int8_t *a = n->a[l] + off;
      if (l == 0 && n->cfg.encoding == NNF_ENC_DIRECT) {
        if (t == 0) currents(n, 0, n->xq, B, a, observe, momentum);
        else memcpy(a, n->a[0], cnt);
      } else {
        const int8_t *in = l ? n->s[l - 1] + (size_t)t * B * n->sizes[l] : n->sin + (size_t)t * cnt0;
        currents(n, l, in, B, a, observe && (t == T - 1 || t == 0), momentum);
      }
      nnfm_lif_params p = n->lif;
      p.vth = n->cur[l].vth;
      float vs = (float)(n->cur[l].scale / 64.0);
      for (size_t i = 0; i < cnt; i++) {
        int32_t vpre;
        int sp = nnfm_lif_step_ex(&p, &st[l][i], a[i], &vpre);
        n->s[l][off + i] = (int8_t)sp;
        n->v[l][off + i] = (float)vpre * vs;
        if (l == L - 1) n->counts[i] += sp;
      }
    }
  }
  for (int l = 0; l < L; l++) free(st[l]);
  return 0;
}

int nnf_snn_forward(nnf_snn *n, const float *x, int batch, char *err, size_t errlen) {
  return forward(n, x, batch, 0, 0, err, errlen);
}

int nnf_snn_observe(nnf_snn *n, const float *x, int batch, char *err, size_t errlen) {
  /* two passes: the first sees ranges through default scales, the second
   * through the scales they give */
  for (int pass = 0; pass < 2; pass++) {
    for (int l = 0; l < n->nlayers; l++) n->cur[l].seen = 0;
    if (forward(n, x, batch, 1, 1.0f, err, errlen)) return -1;
    if (nnf_snn_quantize(n, err, errlen)) return -1;
  }
  return 0;
}

/* ---- backward ------------------------------------------------------------ */

static float surrogate(const nnf_snn *n, float x) {
  double k = n->cfg.slope;
  if (n->cfg.surrogate == NNF_SURR_FAST_SIGMOID) {
    double d = 1.0 + k * fabs(x);
    return (float)(1.0 / (d * d));
  }
  double z = M_PI * k * x / 2.0;
  return (float)((k / 2.0) / (1.0 + z * z));
}

/* Through layer l's LIF over time: ds (T x B x N, gradient at the spikes)
 * -> dI (T x B x N, gradient at the currents, in place). */
static void lif_backward(const nnf_snn *n, int l, int B, float *g) {
  int T = n->cfg.steps;
  size_t N = (size_t)n->sizes[l + 1], cnt = (size_t)B * N;
  float beta = (float)(1.0 - n->lif.dv / 4096.0), theta = (float)n->cfg.threshold;
  float *carry = n->gv;
  memset(carry, 0, cnt * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    size_t off = (size_t)t * cnt;
    const float *v = n->v[l] + off;
    const int8_t *a = n->a[l] + off;
    float *gt = g + off;
    for (size_t i = 0; i < cnt; i++) {
      /* dL/dv_pre(t) = ds(t) surrogate'(v - theta) + carry from v(t+1) */
      float dv = gt[i] * surrogate(n, v[i] - theta) + carry[i];
      /* into v(t-1) after its reset: v_pre(t) = beta v'(t-1) + I(t); the reset is
       * detached: zero reset passes (1 - s(t-1)), subtract passes all */
      carry[i] = dv * beta;
      if (!n->lif.reset_sub && t > 0 && n->s[l][off - cnt + i]) carry[i] = 0;
      /* straight through the current's rounding, zero where it clamped */
      gt[i] = (a[i] > -128 && a[i] < 127) ? dv : 0.0f;
    }
  }
}

float nnf_snn_backward(nnf_snn *n, const int32_t *labels, int B) {
  int T = n->cfg.steps, L = n->nlayers, C = n->sizes[L];
  float *g = n->g0, *gn = n->g1;
  /* the loss: cross-entropy of the spike counts */
  float *logits = n->gv, *dc = malloc((size_t)B * C * sizeof(float));
  for (int i = 0; i < B * C; i++) logits[i] = (float)n->counts[i];
  float loss = nnf_loss_softmax_ce(logits, labels, B, C, dc);
  size_t cntL = (size_t)B * C;
  for (int t = 0; t < T; t++) memcpy(g + (size_t)t * cntL, dc, cntL * sizeof(float));
  free(dc);
  for (int l = L - 1; l >= 0; l--) {
    nnf_dense *D = &n->layer[l];
    const nnf_qlayer *Q = &n->ql[l];
    size_t N = (size_t)n->sizes[l + 1], K = (size_t)n->sizes[l], cnt = (size_t)B * N, cin = (size_t)B * K;
    lif_backward(n, l, B, g);
    /* real current I = s_a a: dL/dI as computed; the weights see inputs in
     * real units (spikes 0/1, or dequantized pixels) */
    memset(D->dw, 0, N * K * sizeof(float));
    memset(D->db, 0, N * sizeof(float));
    if (l == 0 && n->cfg.encoding == NNF_ENC_DIRECT) {
      /* the current is the same every step: sum dI over time first */
      float *sum = gn;
      memset(sum, 0, cnt * sizeof(float));
      for (int t = 0; t < T; t++)
        for (size_t i = 0; i < cnt; i++) sum[i] += g[(size_t)t * cnt + i];
      float *xd = malloc(cin * sizeof(float));
      for (size_t i = 0; i < cin; i++) xd[i] = (float)((n->xq[i] + 128) / 255.0);
      nnf_dense_backward(D, Q->w_fq, xd, sum, NULL, B, 0);
      free(xd);
      break;
    }
    float *sp = malloc(cin * sizeof(float));
    for (int t = 0; t < T; t++) {
      const int8_t *in = l ? n->s[l - 1] + (size_t)t * cin : n->sin + (size_t)t * cin;
      for (size_t i = 0; i < cin; i++) sp[i] = in[i];
      nnf_dense_backward(D, Q->w_fq, sp, g + (size_t)t * cnt, l ? gn + (size_t)t * cin : NULL, B, 1);
    }
    free(sp);
    float *tmp = g;
    g = gn;
    gn = tmp;
  }
  return loss;
}

/* ---- loops ---------------------------------------------------------------- */

int nnf_snn_class(const int32_t *c, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (c[i] > c[best]) best = i;
  return best;
}


int nnf_snn_evaluate(nnf_snn *n, struct nnf_device *dev, const nnf_dataset *d, int batch,
                     nnf_snn_eval *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  int C = n->sizes[n->nlayers];
  if (d->features != (size_t)n->sizes[0])
    return nnf_fail(err, errlen, "the network takes %d inputs but the data has %zu features", n->sizes[0], d->features);
  if (d->classes > C) return nnf_fail(err, errlen, "the data has %d classes but the network %d outputs", d->classes, C);
  if (batch < 1) return nnf_fail(err, errlen, "batch must be >= 1");
  if (!n->quantized && nnf_snn_quantize(n, err, errlen)) return -1;
  int32_t *counts = malloc((size_t)batch * C * sizeof(int32_t));
  nnf_device_figures f0 = {0}, f1 = {0};
  if (!counts) return nnf_fail(err, errlen, "out of memory");
  if (dev && (nnf_snn_device_load(dev, n, batch, err, errlen) || nnf_device_figures_get(dev, &f0, err, errlen))) {
    free(counts);
    return -1;
  }
  long steps = (long)((d->count + (size_t)batch - 1) / (size_t)batch);
  int rc = 0;
  for (long s = 0; s < steps && !rc; s++) {
    size_t first = (size_t)s * batch;
    int B = (int)(d->count - first < (size_t)batch ? d->count - first : (size_t)batch);
    const float *x = d->x + first * d->features;
    if (dev) rc = nnf_snn_device_run(dev, n, x, B, counts, err, errlen);
    else if (!(rc = nnf_snn_forward(n, x, B, err, errlen))) memcpy(counts, n->counts, (size_t)B * C * sizeof(int32_t));
    if (rc) break;
    for (int b = 0; b < B; b++) r->correct += nnf_snn_class(counts + (size_t)b * C, C) == d->y[first + b];
    r->images += (uint64_t)B;
    if (progress) progress(ctx, s + 1, steps, NULL);
  }
  free(counts);
  if (rc) return -1;
  if (dev) {
    if (nnf_device_figures_get(dev, &f1, err, errlen)) return -1;
    r->dev = f1;
    r->dev.cycles -= f0.cycles;
    r->dev.busy_cycles -= f0.busy_cycles;
    r->dev.macs -= f0.macs;
  }
  r->accuracy = (double)r->correct / (double)r->images;
  return 0;
}

int nnf_snn_train(nnf_snn *n, nnf_optim *opt, const nnf_dataset *train, const nnf_dataset *test,
                  const nnf_snn_train_opts *o, char *err, size_t errlen) {
  if (train->features != (size_t)n->sizes[0])
    return nnf_fail(err, errlen, "the network takes %d inputs but the data has %zu features", n->sizes[0],
                train->features);
  if (train->classes > n->sizes[n->nlayers])
    return nnf_fail(err, errlen, "the data has %d classes but the network %d outputs", train->classes,
                n->sizes[n->nlayers]);
  if (o->epochs < 1 || o->batch < 1 || o->batch > 65535) return nnf_fail(err, errlen, "epochs >= 1, batch 1..65535");
  int B = o->batch, every = o->observe_every < 1 ? 1 : o->observe_every;
  float *x = malloc((size_t)B * train->features * sizeof(float));
  int32_t *y = malloc((size_t)B * sizeof(int32_t));
  uint32_t *perm = malloc(train->count * sizeof(uint32_t));
  if (!x || !y || !perm) {
    free(x);
    free(y);
    free(perm);
    return nnf_fail(err, errlen, "out of memory");
  }
  if (o->csv) fprintf(o->csv, "epoch,loss,train_accuracy,val_accuracy,test_accuracy,lr,seconds\n");
  long spe = (long)((train->count + (size_t)B - 1) / (size_t)B), total = spe * o->epochs, done = 0;
  float mom = (float)(1.0 - pow(0.99, every));
  double lr0 = nnf_optim_config(opt)->lr;
  nnf_sched sched = o->sched;
  if (sched.kind == NNF_SCHED_COSINE && sched.t_max < 1) sched.t_max = o->epochs;
  if (nnf_sched_validate(&sched, err, errlen)) {
    free(x);
    free(y);
    free(perm);
    return -1;
  }
  int rc = 0;
  n->rng = o->seed ^ 0x52a7e5ull;
  for (int e = 0; e < o->epochs && !rc; e++) {
    double t0 = nnf_now(), loss = 0;
    uint64_t correct = 0;
    nnf_shuffle(perm, train->count, o->seed + (uint64_t)e * 0x9e3779b97f4a7c15ull);
    for (long s = 0; s < spe && !rc; s++) {
      size_t first = (size_t)s * B;
      int b = (int)(train->count - first < (size_t)B ? train->count - first : (size_t)B);
      for (int r = 0; r < b; r++) {
        memcpy(x + (size_t)r * train->features, train->x + (size_t)perm[first + r] * train->features,
               train->features * sizeof(float));
        y[r] = train->y[perm[first + r]];
      }
      if (done == 0 && (rc = nnf_snn_observe(n, x, b, err, errlen))) break;
      if ((rc = forward(n, x, b, done % every == 0, mom, err, errlen))) break;
      loss += (double)nnf_snn_backward(n, y, b) * b;
      int C = n->sizes[n->nlayers];
      for (int r = 0; r < b; r++) correct += nnf_snn_class(n->counts + (size_t)r * C, C) == y[r];
      nnf_optim_set_lr(opt, nnf_sched_lr(&sched, lr0, e, done));
      nnf_optim_step(opt);
      n->quantized = 0;
      done++;
      if (o->progress) o->progress(o->progress_ctx, done, total, NULL);
    }
    if (rc) break;
    if ((rc = nnf_snn_quantize(n, err, errlen))) break;
    nnf_epoch_stats st;
    memset(&st, 0, sizeof st);
    st.epoch = e + 1;
    st.loss = loss / (double)train->count;
    st.train_acc = (double)correct / (double)train->count;
    st.val_acc = st.test_acc = -1;
    st.lr = nnf_optim_config(opt)->lr;
    if (test) {
      nnf_snn_eval r;
      if ((rc = nnf_snn_evaluate(n, NULL, test, 256, &r, NULL, NULL, err, errlen))) break;
      st.test_acc = r.accuracy;
    }
    st.seconds = nnf_now() - t0;
    if (o->csv) {
      fprintf(o->csv, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f\n", st.epoch, st.loss, st.train_acc, st.val_acc,
              st.test_acc, st.lr, st.seconds);
      fflush(o->csv);
    }
    if (o->progress) o->progress(o->progress_ctx, done, total, &st);
  }
  if (!rc) rc = nnf_snn_quantize(n, err, errlen);
  free(x);
  free(y);
  free(perm);
  return rc;
}
