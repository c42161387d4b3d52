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

/* Index of the largest value (first on ties). */
int nnf_argmax(const float *v, int n);


#ifdef __cplusplus
}
#endif
#endif /* NNF_NN_H */
