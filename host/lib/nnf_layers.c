/*
 * nnf_layers.c - the layers without parameters: activations (ReLU, ReLU6,
 * Sigmoid, Tanh, Identity), Flatten, Dropout and Softmax (see nnf_layer.h).
 *
 * On the quantized paths an activation after a Linear layer is fused into
 * it: the Linear layer's requantization clamps (ReLU: lo = zp; ReLU6: hi =
 * q(6)) or goes through the LUT (sigmoid, tanh, whose output quantization is
 * fixed as TFLite's: sigmoid 1/256, -128; tanh 1/128, 0); the activation
 * layer then passes its input on. The observer of its output is its own.
 * Dropout (inverted, seeded, training only) and Softmax (TFLite's int8
 * SOFTMAX when quantized, on the host after a device) are at the end.
 */
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_nn.h"
#include "nnf_util.h"
#include "nnfm.h"
#include "nnfm_attn.h"

typedef struct {
  nnf_layer base;
  nnf_act act;
} activation;

static const char *const act_kinds[] = {"Identity", "ReLU", "ReLU6", "Sigmoid", "Tanh"};

static int is_lut(nnf_act a) { return a == NNF_ACT_SIGMOID || a == NNF_ACT_TANH; }

static int copy_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  (void)l, (void)steps, (void)err, (void)errlen;
  *out = in;
  return 0;
}

/* Sigmoid and tanh outputs: their quantization is fixed (TFLite's). */
static int act_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  nnf_act a = ((activation *)l)->act;
  /* after a pool only a clamp has an int8 form (the pool keeps its input's quantization) */
  if (is_lut(a) && nnf_layer_producer(l) && nnf_layer_is_pool(nnf_layer_producer(l)))
    return nnf_fail(err, errlen, "layer %d (%s): a sigmoid or tanh after a pool has no int8 form; put it before the pool",
                    l->index, act_kinds[a]);
  if (a == NNF_ACT_SIGMOID) nnf_qrange_fix(nnf_layer_range(l), 1.0 / 256.0, -128);
  else if (a == NNF_ACT_TANH) nnf_qrange_fix(nnf_layer_range(l), 1.0 / 128.0, 0);
  return copy_shape(l, in, out, steps, err, errlen);
}

/* A pass-through on the quantized paths (and a reshape on every path). */
static void pass_on(const nnf_pass *p, const nnf_tensor *x, nnf_tensor *y, int width, int quant) {
  size_t cnt = (size_t)x->steps * p->batch * width;
  y->steps = x->steps;
  memcpy(y->f, x->f, cnt * sizeof(float));
  if (quant) memcpy(y->q, x->q, cnt);
}

static int act_fuse(nnf_layer *l, nnf_fusion *f) {
  activation *A = (activation *)l;
  nnf_qrange *r = nnf_layer_range(l);
  f->act = A->act;
  f->out = r;
  f->lut = is_lut(A->act);
  f->lo = -128;
  f->hi = 127;
  if (A->act == NNF_ACT_RELU || A->act == NNF_ACT_RELU6) f->lo = nnfm_clamp(r->zp, -128, 127);
  if (A->act == NNF_ACT_RELU6) f->hi = nnfm_quantize_real(6.0, r->scale, r->zp, -128, 127);
  return 1;
}

static int act_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  activation *A = (activation *)l;
  size_t cnt = (size_t)x->steps * p->batch * l->in;
  if (p->mode != NNF_FWD_FLOAT) {
    if (!l->fused)
      return nnf_fail(err, errlen, "layer %d (%s): an activation runs quantized only right after a Linear or Conv2d layer (ReLU, ReLU6 also after a pool)",
                      l->index, act_kinds[A->act]);
    pass_on(p, x, y, l->in, 1);
    return 0;
  }
  y->steps = x->steps;
  nnf_act_forward(A->act, x->f, y->f, cnt);
  if (p->observe) nnf_qrange_observe(&y->r, y->f, cnt, nnf_observer_momentum(l->net, p));
  return 0;
}

static void act_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                         float *dx, int accumulate) {
  activation *A = (activation *)l;
  size_t cnt = (size_t)x->steps * p->batch * l->in;
  (void)accumulate;
  if (!dx) return;
  if (p->mode != NNF_FWD_FLOAT) memcpy(dx, dy, cnt * sizeof(float)); /* the Linear layer's STE has it */
  else nnf_act_backward(A->act, x->f, y->f, dy, dx, cnt);
}

static void act_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static void act_describe(const nnf_layer *l, char *buf, size_t len) {
  snprintf(buf, len, "%s", act_kinds[((const activation *)l)->act]);
}

static void plain_destroy(nnf_layer *l) { free(l); }

static const nnf_layer_ops activation_ops = {
    .kind = "activation",
    .shape = act_shape,
    .forward = act_forward,
    .backward = act_backward,
    .fuse = act_fuse,
    .qparams = act_qparams,
    .describe = act_describe,
    .destroy = plain_destroy,
};

int nnf_layer_act(const nnf_layer *l) { return l && l->ops == &activation_ops ? (int)((const activation *)l)->act : -1; }

nnf_layer *nnf_activation(nnf_act act, char *err, size_t errlen) {
  if ((unsigned)act > NNF_ACT_TANH) {
    nnf_fail(err, errlen, "unknown activation %d", (int)act);
    return NULL;
  }
  activation *A = calloc(1, sizeof *A);
  if (!A) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  A->base.ops = &activation_ops;
  A->act = act;
  return &A->base;
}

/* ---- Flatten: rows are flat already; the quantization passes through ---- */

static int flat_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  (void)err, (void)errlen;
  pass_on(p, x, y, l->in, p->mode != NNF_FWD_FLOAT);
  return 0;
}

static void flat_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int accumulate) {
  (void)y, (void)accumulate;
  if (dx) memcpy(dx, dy, (size_t)x->steps * p->batch * l->in * sizeof(float));
}

void nnf_qparams_pass(nnf_layer *l) { l->net->t[l->index + 1].r = l->net->t[l->src].r; }

static void flat_describe(const nnf_layer *l, char *buf, size_t len) {
  (void)l;
  snprintf(buf, len, "Flatten");
}

/* C x H x W rows become CHW features (PyTorch's order; the device keeps the
 * map: nnf_tensor.mc/mh/mw). */
static int flat_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  l->oc = in, l->oh = l->ow = 1, l->omap = 0;
  return copy_shape(l, in, out, steps, err, errlen);
}

static const nnf_layer_ops flatten_ops = {
    .kind = "Flatten",
    .shape = flat_shape,
    .forward = flat_forward,
    .backward = flat_backward,
    .qparams = nnf_qparams_pass,
    .describe = flat_describe,
    .destroy = plain_destroy,
};

nnf_layer *nnf_flatten(char *err, size_t errlen) {
  nnf_layer *l = calloc(1, sizeof *l);
  if (!l) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  l->ops = &flatten_ops;
  return l;
}

/* ---- Dropout: PyTorch's inverted dropout ---------------------------------------------
 * Training (a host forward with p->training): each value is kept with
 * probability 1 - p, drawn from the network's generator, and kept values
 * are scaled by 1 / (1 - p) (as torch's noise.div_(1 - p): the factor is
 * rounded to float once); backward multiplies by the same mask and factor.
 * Evaluation, the integer path and the device: the identity (no program,
 * no buffer: the quantization passes through as for Flatten). */

typedef struct {
  nnf_layer base;
  double p;          /* as torch keeps it: 1 - p is taken in double, then rounded to float */
  uint8_t *mask;
  size_t mask_cap;
  int masked;   /* the last forward applied a mask (backward applies it too) */
} dropout;

static float drop_factor(double p) { return p < 1.0 ? 1.0f / (float)(1.0 - p) : 0.0f; }

void nnf_dropout_apply(const float *x, const uint8_t *mask, size_t n, double p, float *y) {
  float s = drop_factor(p);
  /* x * noise, noise = mask * s, as torch: a dropped -x is -0 and a dropped NaN stays NaN */
  for (size_t i = 0; i < n; i++) y[i] = x[i] * (mask[i] ? s : 0.0f);
}

static int drop_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  dropout *D = (dropout *)l;
  size_t cnt = (size_t)x->steps * p->batch * l->in;
  int quant = p->mode != NNF_FWD_FLOAT;
  D->masked = 0;
  if (!p->training || D->p == 0.0 || p->mode == NNF_FWD_INT || p->mode == NNF_FWD_DEVICE || !p->rng) {
    pass_on(p, x, y, l->in, quant);
    return 0;
  }
  if (cnt > D->mask_cap) {
    uint8_t *m = realloc(D->mask, cnt);
    if (!m) return nnf_fail(err, errlen, "layer %d (Dropout): out of memory", l->index);
    D->mask = m;
    D->mask_cap = cnt;
  }
  for (size_t i = 0; i < cnt; i++) D->mask[i] = (double)nnf_rng_uniform(p->rng) >= D->p;
  y->steps = x->steps;
  nnf_dropout_apply(x->f, D->mask, cnt, D->p, y->f);
  if (quant) memcpy(y->q, x->q, cnt);
  D->masked = 1;
  return 0;
}

static void drop_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int accumulate) {
  dropout *D = (dropout *)l;
  size_t cnt = (size_t)x->steps * p->batch * l->in;
  (void)y, (void)accumulate;
  if (!dx) return;
  if (D->masked) nnf_dropout_apply(dy, D->mask, cnt, D->p, dx);
  else memcpy(dx, dy, cnt * sizeof(float));
}

/* "Dropout(0.2)": the shortest form that reads back as the same float. */
static void drop_describe(const nnf_layer *l, char *buf, size_t len) {
  double p = ((const dropout *)l)->p;
  char v[32];
  snprintf(v, sizeof v, "%g", p);
  if (strtod(v, NULL) != p) snprintf(v, sizeof v, "%.17g", p);
  snprintf(buf, len, "Dropout(%s)", v);
}

static void drop_destroy(nnf_layer *l) {
  free(((dropout *)l)->mask);
  free(l);
}

static const nnf_layer_ops dropout_ops = {
    .kind = "Dropout",
    .shape = copy_shape,
    .forward = drop_forward,
    .backward = drop_backward,
    .qparams = nnf_qparams_pass,
    .describe = drop_describe,
    .destroy = drop_destroy,
};

nnf_layer *nnf_dropout(double p, char *err, size_t errlen) {
  if (!(p >= 0.0 && p <= 1.0)) {
    nnf_fail(err, errlen, "dropout probability has to be between 0 and 1, but got %g", p);
    return NULL;
  }
  dropout *D = calloc(1, sizeof *D);
  if (!D) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  D->base.ops = &dropout_ops;
  D->p = p;
  return &D->base;
}

double nnf_layer_dropout_p(const nnf_layer *l) {
  return l && l->ops == &dropout_ops ? ((const dropout *)l)->p : -1.0;
}

/* ---- Softmax: torch.nn.Softmax(dim=1) over each row --------------------------------
 * Float: the row's softmax. Quantized: TFLite's int8 SOFTMAX as its reference
 * kernel defines it (nnfm_softmax_ref, beta 1, docs/numerics.md "Softmax") at
 * the input's scale; the output's quantization is TFLite's, fixed: 1/256,
 * zero point -128. FAKEQUANT runs the same integer rule on its input's float
 * values quantized at the input's range. No device program: on a device it runs on the host
 * after the device's outputs come back (docs/tiny.md, "The final SOFTMAX").
 * Backward: dx = y (dy - sum(dy y)) per row, in every mode (the quantized
 * ones through the straight-through estimator's y). */

typedef struct {
  nnf_layer base;
  nnfm_softmax_params sp; /* from the input's scale (quantize) */
} softmax;

static int softmax_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  if (in < 1 || in > 4095)
    return nnf_fail(err, errlen, "layer %d (Softmax): rows of %d values; TFLite's int8 SOFTMAX takes 1..4095", l->index,
                    in);
  nnf_qrange_fix(nnf_layer_range(l), 1.0 / 256.0, -128);
  return copy_shape(l, in, out, steps, err, errlen);
}

static int softmax_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  softmax *S = (softmax *)l;
  size_t rows = (size_t)x->steps * p->batch, n = (size_t)l->in;
  y->steps = x->steps;
  if (p->mode == NNF_FWD_FLOAT) {
    nnf_softmax_forward(x->f, y->f, (int)rows, (int)n);
    return 0;
  }
  int8_t row[4096]; /* FAKEQUANT: the input's float values on its int8 grid */
  for (size_t r = 0; r < rows; r++) {
    const int8_t *q = x->q + r * n;
    if (p->mode == NNF_FWD_FAKEQUANT) {
      for (size_t j = 0; j < n; j++)
        row[j] = (int8_t)nnfm_quantize_real(x->f[r * n + j], x->r.scale, x->r.zp, -128, 127);
      q = row;
    }
    if (nnfm_softmax_ref(&S->sp, q, (int)n, y->q + r * n) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d (Softmax): row %zu does not compute", l->index, r);
  }
  nnf_qrange_dequantize(&y->r, y->q, y->f, rows * n);
  return 0;
}

static void softmax_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                             float *dx, int accumulate) {
  (void)accumulate;
  if (!dx) return;
  nnf_softmax_backward(y->f, dy, dx, x->steps * p->batch, l->in);
}

static int softmax_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  (void)y;
  if (nnfm_softmax_prepare(x->r.scale, 1.0, &((softmax *)l)->sp) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (Softmax): its input scale %g has no int8 SOFTMAX (beta * scale * 2^26 must exceed 1)",
                    l->index, x->r.scale);
  return 0;
}

static void softmax_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static void softmax_describe(const nnf_layer *l, char *buf, size_t len) {
  (void)l;
  snprintf(buf, len, "Softmax(dim=1)");
}

static const nnf_layer_ops softmax_ops = {
    .kind = "Softmax",
    .shape = softmax_shape,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .qparams = softmax_qparams,
    .quantize = softmax_quantize,
    .describe = softmax_describe,
    .destroy = plain_destroy,
};

nnf_layer *nnf_softmax(char *err, size_t errlen) {
  softmax *S = calloc(1, sizeof *S);
  if (!S) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  S->base.ops = &softmax_ops;
  return &S->base;
}
