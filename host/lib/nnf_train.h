/*
 * nnf_train.h - training and evaluation loops over data sets (docs/host.md).
 *
 * nnf_train runs epochs of seeded mini-batch training: each step a forward
 * pass in the chosen mode (host float, host fake-quant, or the device), the
 * softmax cross-entropy backward on the host, and one optimizer step. In
 * device mode the quantized weights are re-uploaded every step and the
 * activation ranges are observed by a float forward on the host every
 * observe_every steps. The same seed gives the same run, bit for bit.
 */
#ifndef NNF_TRAIN_H
#define NNF_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "nnf_data.h"
#include "nnf_model.h"
#include "nnf_optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int epoch;            /* 1-based */
  double loss;          /* mean training loss over the epoch */
  double train_acc;     /* training accuracy of the epoch's forward passes */
  double test_acc;      /* accuracy on the evaluation set after the epoch (-1: none) */
  double seconds;
} nnf_epoch_stats;

/* Progress: called after every step (done, total steps) and every epoch. */
typedef void (*nnf_progress_fn)(void *ctx, long done, long total, const nnf_epoch_stats *epoch);

typedef struct {
  nnf_fwd_mode mode;    /* forward of the training steps */
  nnf_fwd_mode eval_mode;
  int epochs, batch;
  uint64_t seed;
  int observe_every;    /* device mode: host observation period in steps (>= 1) */
  nnf_progress_fn progress;
  void *progress_ctx;
  FILE *csv;            /* NULL, or a CSV of nnf_epoch_stats per epoch */
} nnf_train_opts;

nnf_train_opts nnf_train_defaults(void);

/* Train n in place. dev is needed when mode or eval_mode is NNF_FWD_DEVICE.
 * test may be NULL. 0, or -1 with a message. */
int nnf_train(nnf_net *n, nnf_optim *opt, nnf_device *dev, const nnf_dataset *train,
              const nnf_dataset *test, const nnf_train_opts *o, char *err, size_t errlen);

typedef struct {
  double accuracy, loss;
  uint64_t images, correct;
  nnf_device_figures dev;   /* device figures over the evaluation (device mode) */
} nnf_eval_result;

/* Accuracy and mean loss of n on d in the given mode. */
int nnf_evaluate(nnf_net *n, nnf_fwd_mode mode, nnf_device *dev, const nnf_dataset *d, int batch,
                 nnf_eval_result *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_TRAIN_H */
