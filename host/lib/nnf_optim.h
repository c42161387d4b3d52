/*
 * nnf_optim.h - optimizers with PyTorch's update rules and defaults
 * (torch.optim.SGD, Adagrad, RMSprop, Adam, AdamW; maximize = False,
 * foreach/fused off: the single-tensor code path of torch >= 2.0; torch
 * 1.13's through torch1_ema), in float32 like PyTorch's float32 parameters.
 * Reference trajectories: scripts/gen_optim_ref.py -> tests/data/optim_ref*.json,
 * checked by tests/host/test_optim.c (docs/host.md: how exact, and why it
 * depends on the PyTorch build).
 *
 * Usage: cfg = nnf_optim_defaults(NNF_OPT_ADAM); cfg.lr = 1e-3;
 *        o = nnf_optim_create(&cfg, err, sizeof err);
 *        nnf_optim_add(o, w, dw, n); ...            (register parameters once)
 *        loop: fill the gradients; nnf_optim_step(o);
 * The optimizer borrows the parameter and gradient arrays (they must outlive
 * it) and owns its state (momentum buffers, accumulators, step count).
 */
#ifndef NNF_OPTIM_H
#define NNF_OPTIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNF_OPT_SGD = 0,
  NNF_OPT_ADAGRAD,
  NNF_OPT_RMSPROP,
  NNF_OPT_ADAM,
  NNF_OPT_ADAMW,
} nnf_opt_kind;

typedef struct {
  nnf_opt_kind kind;
  double lr;
  double weight_decay;               /* all (AdamW: decoupled) */
  double momentum;                   /* SGD, RMSprop */
  double dampening;                  /* SGD */
  int nesterov;                      /* SGD */
  double lr_decay;                   /* Adagrad */
  double initial_accumulator_value;  /* Adagrad */
  double alpha;                      /* RMSprop */
  int centered;                      /* RMSprop */
  double beta1, beta2;               /* Adam, AdamW */
  int amsgrad;                       /* Adam, AdamW */
  double eps;                        /* Adagrad, RMSprop, Adam, AdamW */
  int torch1_ema;                    /* Adam/AdamW's exp_avg and centered RMSprop's grad_avg:
                                        0 (default) as torch >= 2.0, avg.lerp_(grad, 1 - beta);
                                        1 as torch 1.13, avg.mul_(beta).add_(grad, alpha=1 - beta)
                                        (they differ in the last bits) */
} nnf_opt_config;

/* PyTorch's defaults for one optimizer (SGD: lr 1e-3 as in torch >= 2.x). */
nnf_opt_config nnf_optim_defaults(nnf_opt_kind kind);
/* "sgd", "adagrad", "rmsprop", "adam", "adamw" -> kind; -1 if unknown. */
int nnf_optim_parse(const char *name);
const char *nnf_optim_name(nnf_opt_kind kind);
/* Set one hyperparameter by its PyTorch name ("lr", "momentum", "betas" is
 * split into "beta1"/"beta2", "nesterov", "amsgrad", "centered", ...).
 * 0 on success; -1 (and a message in err) for an unknown name, a value out
 * of PyTorch's accepted range, or one the optimizer does not have. */
int nnf_optim_set(nnf_opt_config *cfg, const char *name, double value, char *err, size_t errlen);
/* Check the ranges PyTorch checks (lr >= 0, eps >= 0, 0 <= beta < 1,
 * nesterov needs momentum > 0 and dampening == 0, ...). 0 or -1 + err. */
int nnf_optim_validate(const nnf_opt_config *cfg, char *err, size_t errlen);

typedef struct nnf_optim nnf_optim;

/* NULL (and err) if the configuration is invalid or memory runs out. */
nnf_optim *nnf_optim_create(const nnf_opt_config *cfg, char *err, size_t errlen);
void nnf_optim_destroy(nnf_optim *o);
/* Register a parameter array and its gradient (n floats each). 0 or -1. */
int nnf_optim_add(nnf_optim *o, float *param, const float *grad, size_t n);
/* One step over every registered parameter, as optimizer.step() does. */
void nnf_optim_step(nnf_optim *o);
/* Change the learning rate (for schedules). */
void nnf_optim_set_lr(nnf_optim *o, double lr);
const nnf_opt_config *nnf_optim_config(const nnf_optim *o);

#ifdef __cplusplus
}
#endif
#endif /* NNF_OPTIM_H */
