/*
 * nnf_nn.c - float layers and losses (see nnf_nn.h). Matrix products go
 * through CBLAS; everything else is plain loops the compiler vectorises.
 */
#include "nnf_nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const act_names[] = {"none", "relu", "relu6", "sigmoid", "tanh"};

int nnf_act_parse(const char *name) {
  if (!name) return -1;
  if (!strcmp(name, "identity") || !strcmp(name, "linear")) return NNF_ACT_NONE;
  for (int i = 0; i < (int)(sizeof act_names / sizeof act_names[0]); i++)
    if (!strcmp(name, act_names[i])) return i;
  return -1;
}

const char *nnf_act_name(nnf_act a) {
  return (unsigned)a < sizeof act_names / sizeof act_names[0] ? act_names[a] : "?";
}

void nnf_act_forward(nnf_act a, const float *z, float *y, size_t n) {
  switch (a) {
    case NNF_ACT_NONE:
      if (y != z) memmove(y, z, n * sizeof *y);
      break;
    case NNF_ACT_RELU:
      for (size_t i = 0; i < n; i++) y[i] = z[i] > 0.0f ? z[i] : 0.0f;
      break;
    case NNF_ACT_RELU6:
      for (size_t i = 0; i < n; i++) y[i] = z[i] > 0.0f ? (z[i] < 6.0f ? z[i] : 6.0f) : 0.0f;
      break;
    case NNF_ACT_SIGMOID:
      for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-z[i]));
      break;
    case NNF_ACT_TANH:
      for (size_t i = 0; i < n; i++) y[i] = tanhf(z[i]);
      break;
  }
}

void nnf_act_backward(nnf_act a, const float *z, const float *y, const float *dy, float *dz,
                      size_t n) {
  switch (a) {
    case NNF_ACT_NONE:
      if (dz != dy) memmove(dz, dy, n * sizeof *dz);
      break;
    case NNF_ACT_RELU:
      for (size_t i = 0; i < n; i++) dz[i] = z[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case NNF_ACT_RELU6:
      for (size_t i = 0; i < n; i++) dz[i] = (z[i] > 0.0f && z[i] < 6.0f) ? dy[i] : 0.0f;
      break;
    case NNF_ACT_SIGMOID:
      for (size_t i = 0; i < n; i++) dz[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case NNF_ACT_TANH:
      for (size_t i = 0; i < n; i++) dz[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
  }
}

int nnf_dense_init(nnf_dense *L, int in, int out) {
  memset(L, 0, sizeof *L);
  if (in <= 0 || out <= 0 || (size_t)in * (size_t)out > ((size_t)1 << 28)) return -1;
  size_t nw = (size_t)in * out;
  L->in = in;
  L->out = out;
  L->w = calloc(nw, sizeof(float));
  L->dw = calloc(nw, sizeof(float));
  L->b = calloc((size_t)out, sizeof(float));
  L->db = calloc((size_t)out, sizeof(float));
  if (!L->w || !L->dw || !L->b || !L->db) {
    nnf_dense_free(L);
    return -1;
  }
  return 0;
}

void nnf_dense_free(nnf_dense *L) {
  free(L->w);
  free(L->dw);
  free(L->b);
  free(L->db);
  memset(L, 0, sizeof *L);
}

void nnf_dense_zero_grad(nnf_dense *L) {
  memset(L->dw, 0, (size_t)L->in * L->out * sizeof(float));
  memset(L->db, 0, (size_t)L->out * sizeof(float));
}

void nnf_dense_init_default(nnf_dense *L, uint64_t *rng) {
  float bound = 1.0f / sqrtf((float)L->in);
  size_t nw = (size_t)L->in * L->out;
  for (size_t i = 0; i < nw; i++) L->w[i] = (2.0f * nnf_rng_uniform(rng) - 1.0f) * bound;
  for (int i = 0; i < L->out; i++) L->b[i] = (2.0f * nnf_rng_uniform(rng) - 1.0f) * bound;
}

void nnf_dense_forward(const nnf_dense *L, const float *w_override, const float *x, float *y,
                       int batch) {
  const float *w = w_override ? w_override : L->w;
  for (int r = 0; r < batch; r++) memcpy(y + (size_t)r * L->out, L->b, (size_t)L->out * sizeof *y);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, L->out, L->in, 1.0f, x, L->in, w,
              L->in, 1.0f, y, L->out);
}

void nnf_dense_backward(nnf_dense *L, const float *w_override, const float *x, const float *dy,
                        float *dx, int batch, int accumulate) {
  const float *w = w_override ? w_override : L->w;
  /* dW (out x in) (+)= dy^T (out x B) x (B x in) */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->out, L->in, batch, 1.0f, dy, L->out, x,
              L->in, accumulate ? 1.0f : 0.0f, L->dw, L->in);
  if (!accumulate) memset(L->db, 0, (size_t)L->out * sizeof(float));
  for (int r = 0; r < batch; r++) {
    const float *d = dy + (size_t)r * L->out;
    for (int j = 0; j < L->out; j++) L->db[j] += d[j];
  }
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, L->in, L->out, 1.0f, dy, L->out,
                w, L->in, 0.0f, dx, L->in);
}

void nnf_softmax_forward(const float *z, float *p, int batch, int classes) {
  for (int r = 0; r < batch; r++) {
    const float *zr = z + (size_t)r * classes;
    float *pr = p + (size_t)r * classes;
    float mx = zr[0];
    for (int j = 1; j < classes; j++) mx = zr[j] > mx ? zr[j] : mx;
    float s = 0.0f;
    for (int j = 0; j < classes; j++) s += (pr[j] = expf(zr[j] - mx));
    float inv = 1.0f / s;
    for (int j = 0; j < classes; j++) pr[j] *= inv;
  }
}

void nnf_softmax_backward(const float *p, const float *dp, float *dz, int batch, int classes) {
  for (int r = 0; r < batch; r++) {
    const float *pr = p + (size_t)r * classes, *dr = dp + (size_t)r * classes;
    float *zr = dz + (size_t)r * classes;
    float dot = 0.0f;
    for (int j = 0; j < classes; j++) dot += dr[j] * pr[j];
    for (int j = 0; j < classes; j++) zr[j] = pr[j] * (dr[j] - dot);
  }
}

/* The mean of an elementwise regression loss over n values and its
 * gradient: MSE d^2 (grad (2/n) d), L1 |d| (grad sign(d) / n), Huber. */
typedef enum { EL_MSE, EL_MAE, EL_HUBER } elementwise;

static float mean_loss(elementwise k, const float *y, const float *t, size_t n, float delta, float *grad) {
  if (n == 0) return 0.0f;
  double s = 0.0;
  float inv = 1.0f / (float)n, two = 2.0f / (float)n;
  for (size_t i = 0; i < n; i++) {
    float d = y[i] - t[i], g;
    double a = fabs((double)d);
    if (k == EL_MSE) s += a * a, g = two * d;
    else if (k == EL_MAE) s += a, g = d > 0 ? inv : d < 0 ? -inv : 0.0f;
    else s += a < delta ? 0.5 * a * a : (double)delta * (a - 0.5 * (double)delta),
         g = (d < -delta ? -delta : d > delta ? delta : d) * inv;
    if (grad) grad[i] = g;
  }
  return (float)(s / (double)n);
}

float nnf_loss_mse(const float *y, const float *t, size_t n, float *grad) { return mean_loss(EL_MSE, y, t, n, 0, grad); }

float nnf_loss_bce(const float *p, const float *t, size_t n, float *grad) {
  if (n == 0) return 0.0f;
  double s = 0.0;
  const float eps = 1e-12f;
  for (size_t i = 0; i < n; i++) {
    float lp = logf(p[i]), lq = logf(1.0f - p[i]);
    if (!(lp >= -100.0f)) lp = -100.0f;
    if (!(lq >= -100.0f)) lq = -100.0f;
    s -= (double)t[i] * lp + (1.0 - (double)t[i]) * lq;
    if (grad) {
      /* torch: (p - t) / max((1 - p) p, eps) per element, then / n */
      float den = (1.0f - p[i]) * p[i];
      if (den < eps) den = eps;
      grad[i] = (p[i] - t[i]) / den / (float)n;
    }
  }
  return (float)(s / (double)n);
}

float nnf_loss_softmax_ce(const float *logits, const int32_t *labels, int batch, int classes,
                          float *grad) {
  if (batch <= 0) return 0.0f;
  double s = 0.0;
  float inv_b = 1.0f / (float)batch;
  for (int r = 0; r < batch; r++) {
    const float *z = logits + (size_t)r * classes;
    float mx = z[0];
    for (int j = 1; j < classes; j++) mx = z[j] > mx ? z[j] : mx;
    double se = 0.0;
    for (int j = 0; j < classes; j++) se += exp((double)(z[j] - mx));
    double lse = log(se) + mx;
    s += lse - z[labels[r]];
    if (grad) {
      float *g = grad + (size_t)r * classes;
      for (int j = 0; j < classes; j++)
        g[j] = ((float)exp((double)z[j] - lse) - (j == labels[r] ? 1.0f : 0.0f)) * inv_b;
    }
  }
  return (float)(s / batch);
}

float nnf_sigmoid(float z) {
  if (z >= 0) return 1.0f / (1.0f + expf(-z));
  float e = expf(z);
  return e / (1.0f + e);
}

double nnf_bce_logit(float z, float t, float *d) {
  /* log(1 + exp(z)) - z t, written so that exp never overflows */
  double zd = z;
  if (d) *d = nnf_sigmoid(z) - t;
  return (zd > 0 ? zd : 0.0) - zd * (double)t + log1p(exp(-fabs(zd)));
}

float nnf_loss_bce_logits(const float *z, const float *t, size_t n, float *grad) {
  if (n == 0) return 0.0f;
  double s = 0.0;
  float inv = 1.0f / (float)n;
  for (size_t i = 0; i < n; i++) {
    float d;
    s += nnf_bce_logit(z[i], t[i], &d);
    if (grad) grad[i] = d * inv;
  }
  return (float)(s / (double)n);
}

float nnf_loss_mae(const float *y, const float *t, size_t n, float *grad) { return mean_loss(EL_MAE, y, t, n, 0, grad); }

float nnf_loss_huber(const float *y, const float *t, size_t n, float delta, float *grad) {
  return mean_loss(EL_HUBER, y, t, n, delta, grad);
}

double nnf_l1_penalty(const float *w, float *g, size_t n, float l1) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    s += fabs((double)w[i]);
    if (g) g[i] += w[i] > 0 ? l1 : w[i] < 0 ? -l1 : 0.0f;
  }
  return (double)l1 * s;
}

float nnf_clip_grad_norm(float *const *g, const size_t *n, int k, float max_norm) {
  double total = 0.0;
  for (int j = 0; j < k; j++) {
    double s = 0.0;
    for (size_t i = 0; i < n[j]; i++) s += (double)g[j][i] * g[j][i];
    float norm = (float)sqrt(s); /* torch: each tensor's norm in float, then the norm of those */
    total += (double)norm * norm;
  }
  float tn = (float)sqrt(total);
  float coef = max_norm / (tn + 1e-6f);
  if (coef < 1.0f)
    for (int j = 0; j < k; j++)
      for (size_t i = 0; i < n[j]; i++) g[j][i] *= coef;
  return tn;
}

int nnf_argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}
