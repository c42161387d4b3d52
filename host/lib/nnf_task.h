/*
 * nnf_task.h - what a network's outputs mean and how they are scored
 * (docs/tasks.md): the task, its loss, and its figures.
 *
 *   task        outputs                     loss (default first)      figures
 *   multiclass  C logits, softmax on host   ce                        accuracy (argmax)
 *   binary      1 logit, sigmoid on host    bce (with logits)         accuracy (logit > 0)
 *   multilabel  L logits, one sigmoid each  bce (with logits)         per-label accuracy, exact match
 *   regression  N values, no activation     mse, mae, huber           MSE, MAE
 *
 * The device computes the outputs (int8, dequantized on the host); the
 * softmax / sigmoid and the loss are host work, in float. Multiclass and
 * binary read integer labels (binary: 0 or 1); multilabel and regression
 * read float targets, one per output (nnf_dataset.t). The zero value of
 * nnf_task is multiclass with cross-entropy: the behaviour before tasks.
 */
#ifndef NNF_TASK_H
#define NNF_TASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNF_TASK_MULTICLASS = 0,
  NNF_TASK_BINARY,
  NNF_TASK_MULTILABEL,
  NNF_TASK_REGRESSION,
} nnf_task_kind;

typedef enum {
  NNF_LOSS_CE = 0,   /* softmax cross-entropy (torch.nn.CrossEntropyLoss) */
  NNF_LOSS_BCE,      /* torch.nn.BCEWithLogitsLoss */
  NNF_LOSS_MSE,      /* torch.nn.MSELoss */
  NNF_LOSS_MAE,      /* torch.nn.L1Loss */
  NNF_LOSS_HUBER,    /* torch.nn.HuberLoss(delta) */
} nnf_loss_kind;

typedef struct {
  nnf_task_kind kind;
  nnf_loss_kind loss;
  float huber_delta;   /* HuberLoss's delta (> 0; 0 means 1, torch's default) */
} nnf_task;

/* Names: "multiclass", "binary", "multilabel", "regression"; "ce", "bce",
 * "mse", "mae" (or "l1"), "huber". Parse: the value, or -1 if unknown. */
int nnf_task_parse(const char *name);
const char *nnf_task_name(nnf_task_kind k);
int nnf_loss_parse(const char *name);
const char *nnf_loss_name(nnf_loss_kind k);
/* The task's default loss. */
nnf_loss_kind nnf_task_default_loss(nnf_task_kind k);
/* 0 if the loss fits the task and the network's outputs (binary: exactly
 * one), else -1 with a message naming what fits. */
int nnf_task_check(const nnf_task *t, int outputs, char *err, size_t errlen);
/* 1 if the task reads float targets (multilabel, regression), 0 if labels. */
int nnf_task_uses_targets(nnf_task_kind k);
/* 1 if the task's figure is better lower (regression's MSE). */
int nnf_task_lower_better(nnf_task_kind k);

/* The mean loss of B rows of C outputs against labels (multiclass,
 * binary) or targets (B x C); grad (B x C, may be NULL) gets its gradient
 * with respect to the outputs (the mean over the batch for CE, over all
 * B x C elements for the elementwise losses, as torch's reduction='mean'). */
float nnf_task_loss(const nnf_task *t, const float *out, const int32_t *labels, const float *targets, int B,
                    int C, float *grad);

/* Running figures of a task over batches (zero it to start). */
typedef struct {
  uint64_t rows;       /* samples seen */
  uint64_t correct;    /* multiclass, binary: right predictions; multilabel: rows all right */
  uint64_t labels, labels_ok;  /* multilabel: label decisions, right ones */
  double sq, abs;      /* regression: sums of squared and absolute errors */
  uint64_t values;     /* regression: outputs compared */
} nnf_tally;

void nnf_task_tally(const nnf_task *t, const float *out, const int32_t *labels, const float *targets, int B,
                    int C, nnf_tally *s);
/* The task's figure: accuracy (multiclass, binary), per-label accuracy
 * (multilabel), MSE (regression). */
double nnf_task_figure(const nnf_task *t, const nnf_tally *s);
/* Its name in reports: "accuracy", "label_accuracy", "mse". */
const char *nnf_task_figure_name(nnf_task_kind k);

#ifdef __cplusplus
}
#endif
#endif /* NNF_TASK_H */
