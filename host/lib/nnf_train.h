/*
 * nnf_train.h - training and evaluation loops over data sets (docs/host.md).
 *
 * One training loop and one evaluation loop for every network of the layer
 * stack (MLPs, spiking networks, any mix). nnf_train runs epochs of seeded
 * mini-batch training: each step a forward pass in the chosen mode (host
 * float, host fake-quant, the host's integer path, or the device), the
 * backward of the network's task loss on the host (n->task, nnf_task.h:
 * softmax cross-entropy by default), the optional L1 term and gradient
 * clipping, and one optimizer step. Dropout layers drop only on these
 * training forwards (host modes; nnf_train refuses them with a device or
 * integer forward). In
 * device mode the quantized weights are re-uploaded every step and the
 * activation ranges are observed by a float forward on the host every
 * observe_every steps; on the integer path (spiking networks) the first
 * step calibrates the current ranges and every observe_every-th forward
 * observes them. The same seed gives the same run, bit for bit.
 */
#ifndef NNF_TRAIN_H
#define NNF_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "nnf_data.h"
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The figures per epoch are the task's (nnf_task_figure): accuracy for
 * multiclass and binary, per-label accuracy for multilabel, MSE for
 * regression (lower is better: the kept weights are those of the lowest
 * validation MSE). */
typedef struct {
  int epoch;            /* 1-based */
  double loss;          /* mean training loss over the epoch (the task's loss; an L1 penalty
                           is not in it) */
  double train_acc;     /* the task's figure over the epoch's training forward passes */
  double val_acc;       /* ... on the validation set after the epoch (-1: none) */
  double test_acc;      /* ... on the test set after the epoch (-1: none) */
  double lr;            /* learning rate at the end of the epoch */
  double seconds;
  int best;             /* 1: the best validation accuracy so far (the kept weights) */
} nnf_epoch_stats;

/* Progress: called after every step (done, total steps; epoch NULL) and
 * after every epoch (with its figures). */
typedef void (*nnf_progress_fn)(void *ctx, long done, long total, const nnf_epoch_stats *epoch);

/* Learning-rate schedules (torch.optim.lr_scheduler's closed forms, by
 * epoch e = 0, 1, ...), times a linear warm-up over the first warmup_steps
 * optimizer steps: lr = sched(e) * min(1, (step + 1) / warmup_steps). */
typedef enum {
  NNF_SCHED_CONSTANT = 0,
  NNF_SCHED_STEP,         /* lr0 * gamma^floor(e / step_size)            (StepLR) */
  NNF_SCHED_EXPONENTIAL,  /* lr0 * gamma^e                               (ExponentialLR) */
  NNF_SCHED_COSINE,       /* eta_min + (lr0 - eta_min)(1 + cos(pi e / t_max)) / 2
                             (CosineAnnealingLR; e > t_max continues the cosine) */
} nnf_sched_kind;

typedef struct {
  nnf_sched_kind kind;
  int step_size;          /* StepLR (>= 1) */
  double gamma;           /* StepLR, ExponentialLR (> 0) */
  int t_max;              /* CosineAnnealingLR (>= 1; 0: nnf_train anneals over its epochs,
                             nnf_sched_lr alone takes 0 as 1) */
  double eta_min;         /* CosineAnnealingLR */
  long warmup_steps;      /* 0: none */
} nnf_sched;

/* "constant", "step", "exponential" (or "exp"), "cosine" -> kind, -1 if unknown. */
int nnf_sched_parse(const char *name);
const char *nnf_sched_name(nnf_sched_kind k);
/* The learning rate at epoch `epoch` (0-based) and global step `step`. */
double nnf_sched_lr(const nnf_sched *s, double lr0, int epoch, long step);
/* 0, or -1 and a message for parameters out of range. */
int nnf_sched_validate(const nnf_sched *s, char *err, size_t errlen);

typedef struct {
  nnf_fwd_mode mode;    /* forward of the training steps */
  nnf_fwd_mode eval_mode;
  int epochs;
  int batch;            /* samples per forward pass; 0: the whole training set (full batch) */
  int accumulate;       /* forward/backward passes per optimizer step (>= 1): gradient
                           accumulation, weighted by samples so the step's gradient is the
                           mean over all its samples */
  uint64_t seed;
  int observe_every;    /* device mode: host observation period in steps (>= 1) */
  nnf_sched sched;
  int patience;         /* > 0: stop after this many epochs without a better validation
                           figure (needs a validation set) */
  float l1;             /* > 0: add l1 * sign(w) to every parameter's gradient before each
                           optimizer step (the loss + l1 * sum |w| of PyTorch code) */
  float clip_norm;      /* > 0: clip the gradients to this global norm before each step
                           (torch.nn.utils.clip_grad_norm_, after the L1 term) */
  int eval_batch;       /* rows per evaluation forward after each epoch (0: the larger of
                           the training batch and 64) */
  nnf_progress_fn progress;
  void *progress_ctx;
  FILE *csv;            /* NULL, or a CSV of nnf_epoch_stats per epoch */
  nnf_epoch_stats *history;  /* NULL, or room for `epochs` entries (filled as they end) */
  int *epochs_run;      /* NULL, or set to the number of epochs run */
} nnf_train_opts;

nnf_train_opts nnf_train_defaults(void);

/* Train n in place. dev is needed when mode or eval_mode is NNF_FWD_DEVICE.
 * val and test may be NULL. With a validation set the weights that scored
 * best on it are kept (restored at the end: "keep the best checkpoint");
 * without one, the last. 0, or -1 with a message. */
int nnf_train(nnf_net *n, nnf_optim *opt, nnf_device *dev, const nnf_dataset *train,
              const nnf_dataset *val, const nnf_dataset *test, const nnf_train_opts *o,
              char *err, size_t errlen);

/* Split d into train (the rest) and val (a fraction, 0 < fraction < 1, of
 * the samples, chosen by a seeded shuffle). Copies; free both. */
int nnf_dataset_split(const nnf_dataset *d, double fraction, uint64_t seed, nnf_dataset *train,
                      nnf_dataset *val, char *err, size_t errlen);

typedef struct {
  double accuracy, loss;     /* accuracy: multiclass / binary; multilabel: per-label accuracy */
  uint64_t images, correct;  /* correct: multilabel, rows with every label right */
  double exact_match;        /* multilabel: the fraction of rows with every label right */
  double mse, mae;           /* regression: over every output of every row */
  double figure;             /* the task's figure (nnf_task_figure) */
  nnf_device_figures dev;   /* device figures over the evaluation (device mode) */
} nnf_eval_result;

/* The task's figures and mean loss of n on d in the given mode (the
 * observers do not move). On a device the figures cover this evaluation
 * only. */
int nnf_evaluate(nnf_net *n, nnf_fwd_mode mode, nnf_device *dev, const nnf_dataset *d, int batch,
                 nnf_eval_result *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_TRAIN_H */
