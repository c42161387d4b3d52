/*
 * nnf_optim.c - SGD, Adagrad, RMSprop, Adam and AdamW with PyTorch's rules.
 *
 * Each step function follows the single-tensor (foreach=False) path of
 * torch/optim/{sgd,adagrad,rmsprop,adam,adamw}.py in torch >= 2.0 (checked
 * against 2.15), op for op, so that float32 results agree with PyTorch to
 * the last bit; torch1_ema selects torch 1.13's one difference (below):
 *
 *   - Python-level scalar arithmetic (1 - beta1, lr / bias_correction1,
 *     1 - lr * weight_decay, the Adagrad clr, ...) is done in double, as
 *     Python does; the result is rounded to float32 where ATen takes it as a
 *     Scalar argument of a float32 tensor op (scalar.to<float>()). That
 *     includes the divisor of `tensor / bias_correction2_sqrt` (a float32
 *     division, not a double one) and the `eps` of `.add_(eps)`.
 *   - The element-wise kernels are reproduced as ATen's CPU kernels compute
 *     them (checked against torch 1.13 on x86-64, AVX2):
 *       x.add(y, alpha=a)             -> fmaf(a, y, x)            (fused)
 *       x.addcmul(t1, t2, value=v)    -> fmaf(v * t1, t2, x)      (fused)
 *       x.addcdiv(t1, t2, value=v)    -> x + (v * t1) / t2
 *       x.lerp(y, w)                  -> fmaf(w, y - x, x) for |w| < 0.5,
 *                                        else fmaf(w - 1, y - x, y)
 *       x.mul(s), x / s               -> one float32 rounding each
 *       x.sqrt()                      -> sqrtf (correctly rounded; PyTorch's
 *                                        is not in every build, e.g. not in
 *                                        the PyPI wheels: docs/host.md)
 *   - torch >= 2.0 updates Adam/AdamW's exp_avg and centered RMSprop's
 *     grad_avg with avg.lerp_(grad, 1 - beta); torch 1.13 with
 *     avg.mul_(beta).add_(grad, alpha=1 - beta) (torch1_ema = 1).
 *   - Step counters are float32, as torch's state['step'] tensors are.
 *
 * This file relies on the compiler not contracting a * b + c into an FMA on
 * its own (GCC does with -ffp-contract=fast on an FMA-capable -march); the
 * default x86-64 target has no FMA. With contraction the results still agree
 * to about one ulp per operation.
 */
#include "nnf_optim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------ */

static const char *const kind_names[] = {"sgd", "adagrad", "rmsprop", "adam", "adamw"};
#define NKINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

static int kind_ok(int kind) { return kind >= 0 && kind < NKINDS; }

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Settings an optimizer does not have stay 0; so does everything for an
 * unknown kind (which nnf_optim_validate then refuses). */
nnf_opt_config nnf_optim_defaults(nnf_opt_kind kind) {
  nnf_opt_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  switch (kind) {
  case NNF_OPT_SGD:
    /* torch 1.13 has no default lr for SGD (it is `required`); torch >= 2.0
     * uses 1e-3, and so do we. momentum, dampening, weight_decay 0. */
    c.lr = 1e-3;
    break;
  case NNF_OPT_ADAGRAD:
    c.lr = 1e-2;
    c.eps = 1e-10;
    break;
  case NNF_OPT_RMSPROP:
    c.lr = 1e-2;
    c.alpha = 0.99;
    c.eps = 1e-8;
    break;
  case NNF_OPT_ADAM:
  case NNF_OPT_ADAMW:
    c.lr = 1e-3;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = kind == NNF_OPT_ADAMW ? 1e-2 : 0.0;
    break;
  }
  return c;
}

int nnf_optim_parse(const char *name) {
  if (!name) return -1;
  for (int k = 0; k < NKINDS; k++)
    if (strcmp(name, kind_names[k]) == 0) return k;
  return -1;
}

const char *nnf_optim_name(nnf_opt_kind kind) {
  return kind_ok((int)kind) ? kind_names[kind] : "unknown";
}

/* The hyperparameters by PyTorch name: which optimizers have them (bit per
 * kind), the range PyTorch accepts, where they live in the config. */
enum { R_ANY, R_NONNEG, R_BETA, R_BOOL };
#define K(k) (1u << (k))
#define K_ALL (K(NNF_OPT_SGD) | K(NNF_OPT_ADAGRAD) | K(NNF_OPT_RMSPROP) | K(NNF_OPT_ADAM) | K(NNF_OPT_ADAMW))
#define K_ADAM (K(NNF_OPT_ADAM) | K(NNF_OPT_ADAMW))

typedef struct {
  const char *name;
  unsigned kinds;
  int range;
  size_t off_d; /* offset of a double field, or (size_t)-1 */
  size_t off_i; /* offset of an int field, or (size_t)-1 */
  const char *what; /* the word in PyTorch's "Invalid ... value" message */
} hyper_info;

#define D(f) offsetof(nnf_opt_config, f), (size_t)-1
#define I(f) (size_t)-1, offsetof(nnf_opt_config, f)

static const hyper_info hypers[] = {
    {"lr", K_ALL, R_NONNEG, D(lr), "learning rate"},
    {"weight_decay", K_ALL, R_NONNEG, D(weight_decay), "weight_decay value"},
    {"momentum", K(NNF_OPT_SGD) | K(NNF_OPT_RMSPROP), R_NONNEG, D(momentum), "momentum value"},
    {"dampening", K(NNF_OPT_SGD), R_ANY, D(dampening), "dampening value"},
    {"nesterov", K(NNF_OPT_SGD), R_BOOL, I(nesterov), "nesterov value"},
    {"lr_decay", K(NNF_OPT_ADAGRAD), R_NONNEG, D(lr_decay), "lr_decay value"},
    {"initial_accumulator_value", K(NNF_OPT_ADAGRAD), R_NONNEG, D(initial_accumulator_value),
     "initial_accumulator_value value"},
    {"alpha", K(NNF_OPT_RMSPROP), R_NONNEG, D(alpha), "alpha value"},
    {"centered", K(NNF_OPT_RMSPROP), R_BOOL, I(centered), "centered value"},
    {"beta1", K_ADAM, R_BETA, D(beta1), "beta parameter at index 0"},
    {"beta2", K_ADAM, R_BETA, D(beta2), "beta parameter at index 1"},
    {"amsgrad", K_ADAM, R_BOOL, I(amsgrad), "amsgrad value"},
    {"eps", K_ALL & ~K(NNF_OPT_SGD), R_NONNEG, D(eps), "epsilon value"},
};
#define NHYPERS (sizeof hypers / sizeof hypers[0])

static const hyper_info *find_hyper(const char *name) {
  for (size_t i = 0; i < NHYPERS; i++)
    if (strcmp(name, hypers[i].name) == 0) return &hypers[i];
  return NULL;
}

/* PyTorch's range check for one value (NaN never passes, unlike torch's
 * SGD, whose `lr < 0.0` test lets NaN through). 0 or -1 + err. */
static int check_range(const hyper_info *h, double v, char *err, size_t errlen) {
  int ok = 1;
  switch (h->range) {
  case R_ANY: ok = !isnan(v); break;
  case R_NONNEG: ok = v >= 0.0; break;
  case R_BETA: ok = v >= 0.0 && v < 1.0; break;
  case R_BOOL: ok = v == 0.0 || v == 1.0; break;
  }
  if (ok) return 0;
  if (h->range == R_BOOL)
    set_err(err, errlen, "Invalid %s: %g (must be 0 or 1)", h->what, v);
  else if (h->range == R_BETA)
    set_err(err, errlen, "Invalid %s: %g (must be in [0, 1))", h->what, v);
  else
    set_err(err, errlen, "Invalid %s: %g", h->what, v);
  return -1;
}

static double get_hyper(const nnf_opt_config *c, const hyper_info *h) {
  const char *base = (const char *)c;
  if (h->off_d != (size_t)-1) return *(const double *)(const void *)(base + h->off_d);
  return *(const int *)(const void *)(base + h->off_i);
}

static void put_hyper(nnf_opt_config *c, const hyper_info *h, double v) {
  char *base = (char *)c;
  if (h->off_d != (size_t)-1)
    *(double *)(void *)(base + h->off_d) = v;
  else
    *(int *)(void *)(base + h->off_i) = (int)v;
}

int nnf_optim_set(nnf_opt_config *cfg, const char *name, double value, char *err, size_t errlen) {
  if (!cfg || !name) {
    set_err(err, errlen, "nnf_optim_set: no configuration or name");
    return -1;
  }
  if (!kind_ok((int)cfg->kind)) {
    set_err(err, errlen, "unknown optimizer kind %d", (int)cfg->kind);
    return -1;
  }
  const hyper_info *h = find_hyper(name);
  if (!h) {
    if (strcmp(name, "betas") == 0)
      set_err(err, errlen, "set \"betas\" as \"beta1\" and \"beta2\"");
    else
      set_err(err, errlen, "unknown optimizer hyperparameter \"%s\"", name);
    return -1;
  }
  if (!(h->kinds & K(cfg->kind))) {
    set_err(err, errlen, "optimizer %s has no hyperparameter \"%s\"", nnf_optim_name(cfg->kind),
            name);
    return -1;
  }
  if (check_range(h, value, err, errlen)) return -1;
  put_hyper(cfg, h, value);
  return 0;
}

int nnf_optim_validate(const nnf_opt_config *cfg, char *err, size_t errlen) {
  if (!cfg) {
    set_err(err, errlen, "no optimizer configuration");
    return -1;
  }
  if (!kind_ok((int)cfg->kind)) {
    set_err(err, errlen, "unknown optimizer kind %d", (int)cfg->kind);
    return -1;
  }
  /* Flags in the struct are C truth values (any nonzero is on); only
   * nnf_optim_set insists on 0 or 1. */
  for (size_t i = 0; i < NHYPERS; i++) {
    const hyper_info *h = &hypers[i];
    if (!(h->kinds & K(cfg->kind)) || h->range == R_BOOL) continue;
    if (check_range(h, get_hyper(cfg, h), err, errlen)) return -1;
  }
  if (cfg->kind == NNF_OPT_SGD && cfg->nesterov && (cfg->momentum <= 0 || cfg->dampening != 0)) {
    set_err(err, errlen, "Nesterov momentum requires a momentum and zero dampening");
    return -1;
  }
  return 0;
}

/* ---- state ---------------------------------------------------------------- */

/* One registered parameter array and its optimizer state (torch's
 * optimizer.state[p]). Which buffers exist depends on the optimizer:
 *   SGD      a = momentum_buffer (valid once have_buf)
 *   Adagrad  a = sum
 *   RMSprop  a = square_avg, b = grad_avg (centered), c = momentum_buffer
 *   Adam(W)  a = exp_avg, b = exp_avg_sq, c = max_exp_avg_sq (amsgrad) */
typedef struct {
  float *p;
  const float *g;
  size_t n;
  float *a, *b, *c;
  float step; /* float32 like torch's state['step'] */
  int have_buf;
} param_state;

struct nnf_optim {
  nnf_opt_config cfg;
  param_state *ps;
  size_t nps, cap;
};

nnf_optim *nnf_optim_create(const nnf_opt_config *cfg, char *err, size_t errlen) {
  if (nnf_optim_validate(cfg, err, errlen)) return NULL;
  nnf_optim *o = calloc(1, sizeof *o);
  if (!o) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  o->cfg = *cfg;
  return o;
}

static void free_state(param_state *s) {
  free(s->a);
  free(s->b);
  free(s->c);
}

void nnf_optim_destroy(nnf_optim *o) {
  if (!o) return;
  for (size_t i = 0; i < o->nps; i++) free_state(&o->ps[i]);
  free(o->ps);
  free(o);
}

/* Zeroed buffer of n floats if wanted, else NULL; *fail set on OOM. */
static float *state_buf(int wanted, size_t n, int *fail) {
  if (!wanted) return NULL;
  float *b = calloc(n ? n : 1, sizeof *b);
  if (!b) *fail = 1;
  return b;
}

/* Allocate the buffers torch creates for this optimizer and configuration. */
static int init_state(const nnf_opt_config *c, param_state *s) {
  int fail = 0;
  switch (c->kind) {
  case NNF_OPT_SGD: s->a = state_buf(c->momentum != 0, s->n, &fail); break;
  case NNF_OPT_ADAGRAD:
    s->a = state_buf(1, s->n, &fail);
    for (size_t i = 0; !fail && i < s->n; i++) s->a[i] = (float)c->initial_accumulator_value;
    break;
  case NNF_OPT_RMSPROP:
    s->a = state_buf(1, s->n, &fail);
    s->b = state_buf(c->centered, s->n, &fail);
    s->c = state_buf(c->momentum > 0, s->n, &fail);
    break;
  case NNF_OPT_ADAM:
  case NNF_OPT_ADAMW:
    s->a = state_buf(1, s->n, &fail);
    s->b = state_buf(1, s->n, &fail);
    s->c = state_buf(c->amsgrad, s->n, &fail);
    break;
  }
  if (fail) free_state(s);
  return fail ? -1 : 0;
}

int nnf_optim_add(nnf_optim *o, float *param, const float *grad, size_t n) {
  if (!o || (n > 0 && (!param || !grad))) return -1;
  for (size_t i = 0; i < o->nps; i++)
    if (n > 0 && o->ps[i].p == param) return -1; /* registered twice */
  if (o->nps == o->cap) {
    size_t cap = o->cap ? 2 * o->cap : 4;
    param_state *ps = realloc(o->ps, cap * sizeof *ps);
    if (!ps) return -1;
    o->ps = ps;
    o->cap = cap;
  }
  param_state s = {param, grad, n, NULL, NULL, NULL, 0.0f, 0};
  if (init_state(&o->cfg, &s)) return -1;
  o->ps[o->nps++] = s;
  return 0;
}

void nnf_optim_set_lr(nnf_optim *o, double lr) {
  /* Like assigning param_groups[i]['lr'] in PyTorch: no range check. */
  if (o) o->cfg.lr = lr;
}

const nnf_opt_config *nnf_optim_config(const nnf_optim *o) { return o ? &o->cfg : NULL; }

/* ---- update rules ------------------------------------------------------- */

/* The update loops are compiled twice where GCC can: for x86-64-v3 (AVX2 and
 * FMA: fmaf becomes one instruction and the loops vectorise) and for any
 * x86-64, chosen at load time. Both round identically (IEEE fma, sqrt and
 * division are exact-rounded; -ffp-contract=off forbids other fusing). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define NNF_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NNF_HOT
#endif

/* ATen's x.add(y, alpha=a) for float32: one fused multiply-add. */
static inline float t_add(float x, float y, float a) { return fmaf(a, y, x); }
/* x.addcmul(t1, t2, value=v): fma(v * t1, t2, x). */
static inline float t_addcmul(float x, float t1, float t2, float v) { return fmaf(v * t1, t2, x); }
/* x.addcdiv(t1, t2, value=v): x + (v * t1) / t2. */
static inline float t_addcdiv(float x, float t1, float t2, float v) { return x + v * t1 / t2; }
/* x.lerp(y, w) as ATen's CPU kernel: from the nearer end, one fused step. */
static inline float t_lerp(float x, float y, float w) {
  return fabsf(w) < 0.5f ? fmaf(w, y - x, x) : fmaf(w - 1.0f, y - x, y);
}
/* A running mean avg -> beta avg + (1 - beta) g: torch >= 2.0's
 * avg.lerp_(g, 1 - beta), or torch 1.13's avg.mul_(beta).add_(g, alpha=1 - beta).
 * one_beta is (float)(1 - beta) either way. */
static inline float t_ema(float avg, float g, float beta, float one_beta, int torch1) {
  return torch1 ? t_add(avg * beta, g, one_beta) : t_lerp(avg, g, one_beta);
}

/* torch.optim.SGD: the first step copies d_p into the momentum buffer,
 * later ones do buf = buf * momentum + (1 - dampening) * d_p. */
NNF_HOT static void step_sgd(const nnf_opt_config *c, param_state *s) {
  const float wd = (float)c->weight_decay, mom = (float)c->momentum;
  const float damp1 = (float)(1.0 - c->dampening), neg_lr = (float)-c->lr;
  for (size_t i = 0; i < s->n; i++) {
    float d = s->g[i];
    if (c->weight_decay != 0) d = t_add(d, s->p[i], wd);
    if (c->momentum != 0) {
      float buf = s->have_buf ? t_add(s->a[i] * mom, d, damp1) : d;
      s->a[i] = buf;
      d = c->nesterov ? t_add(d, buf, mom) : buf;
    }
    s->p[i] = t_add(s->p[i], d, neg_lr);
  }
  if (c->momentum != 0) s->have_buf = 1;
}

/* torch.optim.Adagrad: clr = lr / (1 + (step - 1) * lr_decay) in double. */
NNF_HOT static void step_adagrad(const nnf_opt_config *c, param_state *s) {
  s->step += 1.0f;
  const double clr = c->lr / (1.0 + ((double)s->step - 1.0) * c->lr_decay);
  const float wd = (float)c->weight_decay, eps = (float)c->eps, neg_clr = (float)-clr;
  for (size_t i = 0; i < s->n; i++) {
    float g = s->g[i];
    if (c->weight_decay != 0) g = t_add(g, s->p[i], wd);
    s->a[i] = t_addcmul(s->a[i], g, g, 1.0f);
    float std = sqrtf(s->a[i]) + eps;
    s->p[i] = t_addcdiv(s->p[i], g, std, neg_clr);
  }
}

/* torch.optim.RMSprop (centered: subtract the squared running mean). */
NNF_HOT static void step_rmsprop(const nnf_opt_config *c, param_state *s) {
  const float wd = (float)c->weight_decay, alpha = (float)c->alpha;
  const float one_alpha = (float)(1.0 - c->alpha), eps = (float)c->eps;
  const float mom = (float)c->momentum, neg_lr = (float)-c->lr;
  for (size_t i = 0; i < s->n; i++) {
    float g = s->g[i];
    if (c->weight_decay != 0) g = t_add(g, s->p[i], wd);
    s->a[i] = t_addcmul(s->a[i] * alpha, g, g, one_alpha);
    float avg;
    if (c->centered) {
      s->b[i] = t_ema(s->b[i], g, alpha, one_alpha, c->torch1_ema);
      avg = sqrtf(t_addcmul(s->a[i], s->b[i], s->b[i], -1.0f));
    } else {
      avg = sqrtf(s->a[i]);
    }
    avg += eps;
    if (c->momentum > 0) {
      s->c[i] = t_addcdiv(s->c[i] * mom, g, avg, 1.0f);
      s->p[i] = t_add(s->p[i], s->c[i], neg_lr);
    } else {
      s->p[i] = t_addcdiv(s->p[i], g, avg, neg_lr);
    }
  }
}

/* One Adam / AdamW pass over n values; wd_mode 0 none, 1 Adam's L2 term,
 * 2 AdamW's decoupled decay. Inlined with constant flags into branch-free
 * loops the compiler vectorises. */
typedef struct {
  float neg_step_size, bc2_sqrt, b1, one_b1, b2, one_b2, wd, eps, shrink;
} adam_k;

static inline __attribute__((always_inline)) void adam_loop(size_t n, float *restrict p,
                                                           const float *restrict gr,
                                                           float *restrict m, float *restrict v,
                                                           float *restrict vmax, const adam_k *k,
                                                           const int wd_mode, const int ams,
                                                           const int torch1) {
  for (size_t i = 0; i < n; i++) {
    float g = gr[i], pi = p[i];
    if (wd_mode == 2) pi *= k->shrink;
    if (wd_mode == 1) g = t_add(g, pi, k->wd);
    float mi = t_ema(m[i], g, k->b1, k->one_b1, torch1);
    float vi = t_addcmul(v[i] * k->b2, g, g, k->one_b2);
    m[i] = mi;
    v[i] = vi;
    if (ams) {
      float c = vmax[i];
      c = (vi > c || vi != vi) ? vi : c; /* torch.maximum: NaN wins */
      vmax[i] = c;
      vi = c;
    }
    float denom = sqrtf(vi) / k->bc2_sqrt + k->eps;
    p[i] = t_addcdiv(pi, mi, denom, k->neg_step_size);
  }
}

/* torch.optim.Adam and AdamW: bias corrections and step size in double,
 * denom = sqrt(v) / (float)sqrt(bias_correction2) + eps in float32. Adam adds
 * weight_decay * p to the gradient; AdamW first scales p by 1 - lr * wd. */
NNF_HOT static void step_adam(const nnf_opt_config *c, param_state *s) {
  s->step += 1.0f;
  const double bc1 = 1.0 - pow(c->beta1, (double)s->step);
  const double bc2 = 1.0 - pow(c->beta2, (double)s->step);
  adam_k k;
  k.neg_step_size = (float)-(c->lr / bc1);
  k.bc2_sqrt = (float)sqrt(bc2);
  k.b1 = (float)c->beta1;
  k.one_b1 = (float)(1.0 - c->beta1);
  k.b2 = (float)c->beta2;
  k.one_b2 = (float)(1.0 - c->beta2);
  k.wd = (float)c->weight_decay;
  k.eps = (float)c->eps;
  k.shrink = (float)(1.0 - c->lr * c->weight_decay);
  int wd_mode = c->kind == NNF_OPT_ADAMW ? 2 : c->weight_decay != 0 ? 1 : 0;
  float *p = s->p, *m = s->a, *v = s->b, *vm = s->c;
  const float *g = s->g;
  size_t n = s->n;
  if (c->torch1_ema) { /* torch 1.13: rare, one generic loop */
    adam_loop(n, p, g, m, v, vm, &k, wd_mode, c->amsgrad != 0, 1);
  } else if (c->amsgrad) {
    if (wd_mode == 0) adam_loop(n, p, g, m, v, vm, &k, 0, 1, 0);
    else if (wd_mode == 1) adam_loop(n, p, g, m, v, vm, &k, 1, 1, 0);
    else adam_loop(n, p, g, m, v, vm, &k, 2, 1, 0);
  } else {
    if (wd_mode == 0) adam_loop(n, p, g, m, v, vm, &k, 0, 0, 0);
    else if (wd_mode == 1) adam_loop(n, p, g, m, v, vm, &k, 1, 0, 0);
    else adam_loop(n, p, g, m, v, vm, &k, 2, 0, 0);
  }
}

void nnf_optim_step(nnf_optim *o) {
  if (!o) return;
  for (size_t i = 0; i < o->nps; i++) {
    param_state *s = &o->ps[i];
    switch (o->cfg.kind) {
    case NNF_OPT_SGD: step_sgd(&o->cfg, s); break;
    case NNF_OPT_ADAGRAD: step_adagrad(&o->cfg, s); break;
    case NNF_OPT_RMSPROP: step_rmsprop(&o->cfg, s); break;
    case NNF_OPT_ADAM:
    case NNF_OPT_ADAMW: step_adam(&o->cfg, s); break;
    }
  }
}
