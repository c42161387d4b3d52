/*
 * nnf_nn.h - float layers and losses of libnnf: forward/backward pairs on
 * row-major batches (B rows of features), matrix work through CBLAS.
 *
 * Conventions, as PyTorch's:
 *   dense:   y = x W^T + b, W is out x in (torch.nn.Linear's layout);
 *            backward writes (or, accumulating, adds) dW = dy^T x and
 *            db = sum_b dy, and writes dx = dy W when dx != NULL.
 *   activations act elementwise; their backward takes the forward's input z
 *            and output y (whichever the rule needs) and dy, and writes dz.
 *   softmax: over each row of C values.
 *   losses:  mean reduction (torch's default): the value is returned and the
 *            gradient of that mean written to the gradient argument.
 *
 * Pointers are borrowed; in-place use is allowed where noted.
 */
#ifndef NNF_NN_H
#define NNF_NN_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNF_ACT_NONE = 0,
  NNF_ACT_RELU,
  NNF_ACT_RELU6,
  NNF_ACT_SIGMOID,
  NNF_ACT_TANH,
} nnf_act;

/* "none"/"identity", "relu", "relu6", "sigmoid", "tanh" -> act; -1 if unknown. */
int nnf_act_parse(const char *name);
const char *nnf_act_name(nnf_act a);

/* y[i] = act(z[i]), n values; y may alias z. */
void nnf_act_forward(nnf_act a, const float *z, float *y, size_t n);
/* dz[i] = act'(z[i]) * dy[i] (ReLU: z > 0; ReLU6: 0 < z < 6; sigmoid:
 * y(1-y); tanh: 1-y^2). dz may alias dy. */
void nnf_act_backward(nnf_act a, const float *z, const float *y, const float *dy, float *dz,
                      size_t n);

typedef struct {
  int in, out;
  float *w, *b;    /* out x in, out */
  float *dw, *db;  /* gradients, same shapes */
} nnf_dense;

/* Allocate a layer (zeroed). 0, or -1 if out of memory or bad sizes. */
int nnf_dense_init(nnf_dense *L, int in, int out);
void nnf_dense_free(nnf_dense *L);
void nnf_dense_zero_grad(nnf_dense *L);
/* PyTorch's default nn.Linear initialisation: W and b uniform in
 * [-1/sqrt(in), 1/sqrt(in)] (kaiming_uniform with a = sqrt(5)), from a
 * seeded generator. */
void nnf_dense_init_default(nnf_dense *L, uint64_t *rng);

/* y (B x out) = x (B x in) W^T + b, with w_override (out x in) in place of
 * L->w when not NULL (fake-quantized weights). */
void nnf_dense_forward(const nnf_dense *L, const float *w_override, const float *x, float *y,
                       int batch);
/* dW, db from x and dy (accumulate: added to the gradients there, else
 * overwriting them); dx = dy W (W or w_override) if dx. */
void nnf_dense_backward(nnf_dense *L, const float *w_override, const float *x, const float *dy,
                        float *dx, int batch, int accumulate);

/* p = softmax(z) per row (max-subtracted); p may alias z. */
void nnf_softmax_forward(const float *z, float *p, int batch, int classes);
/* dz = p * (dp - sum_j dp_j p_j), per row; dz may alias dp. */
void nnf_softmax_backward(const float *p, const float *dp, float *dz, int batch, int classes);

/* Losses (mean over all elements for MSE and BCE, over the batch for
 * cross-entropy, as torch's reduction='mean'). grad may be NULL. */
float nnf_loss_mse(const float *y, const float *t, size_t n, float *grad);
/* Binary cross-entropy on probabilities p in [0, 1] (torch.nn.BCELoss: each
 * log clamped to >= -100). */
float nnf_loss_bce(const float *p, const float *t, size_t n, float *grad);
/* Softmax cross-entropy on logits with integer labels (torch.nn.
 * CrossEntropyLoss): grad = (softmax(z) - onehot) / batch. Labels outside
 * 0..classes-1 are the caller's error (checked by the data loaders). */
float nnf_loss_softmax_ce(const float *logits, const int32_t *labels, int batch, int classes,
                          float *grad);

/* Binary cross-entropy on logits z with targets t in [0, 1]
 * (torch.nn.BCEWithLogitsLoss, no weights): per element
 * max(z, 0) - z t + log(1 + exp(-|z|)), stable for any finite z; grad =
 * (sigmoid(z) - t) / n. */
float nnf_loss_bce_logits(const float *z, const float *t, size_t n, float *grad);
/* One element of it: the loss, and sigmoid(z) - t in *d (not divided). */
double nnf_bce_logit(float z, float t, float *d);
/* Mean absolute error (torch.nn.L1Loss): grad = sign(y - t) / n (0 at 0). */
float nnf_loss_mae(const float *y, const float *t, size_t n, float *grad);
/* Huber loss (torch.nn.HuberLoss, delta > 0): 0.5 d^2 where |d| < delta,
 * else delta (|d| - 0.5 delta); grad = clamp(d, -delta, delta) / n. */
float nnf_loss_huber(const float *y, const float *t, size_t n, float delta, float *grad);

/* Stable logistic function: 1 / (1 + exp(-z)) without overflow. */
float nnf_sigmoid(float z);

/* L1 penalty l1 * sum |w| of n weights; adds its gradient l1 * sign(w)
 * (torch.sign: 0 at 0) to g when g is not NULL. Returns the penalty. */
double nnf_l1_penalty(const float *w, float *g, size_t n, float l1);
/* Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_
 * (norm 2): total = || (||g_0||, ..., ||g_{k-1}||) ||, and every gradient
 * is multiplied by min(1, max_norm / (total + 1e-6)). k arrays g[i] of
 * n[i] floats. Returns the total norm (before clipping). */
float nnf_clip_grad_norm(float *const *g, const size_t *n, int k, float max_norm);

/* Index of the largest value (first on ties). */
int nnf_argmax(const float *v, int n);


#ifdef __cplusplus
}
#endif
#endif /* NNF_NN_H */
