/*
 * nnf_task.c - tasks, their losses and figures (see nnf_task.h).
 */
#include "nnf_task.h"
#include "nnf_err.h"
#include "nnf_nn.h"

#include <math.h>
#include <string.h>

static const char *const task_names[] = {"multiclass", "binary", "multilabel", "regression"};
static const char *const loss_names[] = {"ce", "bce", "mse", "mae", "huber"};

int nnf_task_parse(const char *name) {
  for (int i = 0; name && i < 4; i++)
    if (!strcmp(name, task_names[i])) return i;
  return -1;
}

const char *nnf_task_name(nnf_task_kind k) { return (unsigned)k < 4 ? task_names[k] : "?"; }

int nnf_loss_parse(const char *name) {
  for (int i = 0; name && i < 5; i++)
    if (!strcmp(name, loss_names[i])) return i;
  if (name && !strcmp(name, "l1")) return NNF_LOSS_MAE;
  return -1;
}

const char *nnf_loss_name(nnf_loss_kind k) { return (unsigned)k < 5 ? loss_names[k] : "?"; }

nnf_loss_kind nnf_task_default_loss(nnf_task_kind k) {
  return k == NNF_TASK_MULTICLASS ? NNF_LOSS_CE : k == NNF_TASK_REGRESSION ? NNF_LOSS_MSE : NNF_LOSS_BCE;
}

int nnf_task_uses_targets(nnf_task_kind k) { return k == NNF_TASK_MULTILABEL || k == NNF_TASK_REGRESSION; }
int nnf_task_lower_better(nnf_task_kind k) { return k == NNF_TASK_REGRESSION; }

int nnf_task_check(const nnf_task *t, int outputs, char *err, size_t errlen) {
  if ((unsigned)t->kind > NNF_TASK_REGRESSION) return nnf_fail(err, errlen, "unknown task %d", (int)t->kind);
  if ((unsigned)t->loss > NNF_LOSS_HUBER) return nnf_fail(err, errlen, "unknown loss %d", (int)t->loss);
  static const char *const fits[] = {"ce", "bce", "bce", "mse, mae or huber"};
  int ok = t->kind == NNF_TASK_REGRESSION ? t->loss >= NNF_LOSS_MSE : t->loss == nnf_task_default_loss(t->kind);
  if (!ok)
    return nnf_fail(err, errlen, "the %s task takes the %s loss, not %s", nnf_task_name(t->kind), fits[t->kind],
                    nnf_loss_name(t->loss));
  if (t->loss == NNF_LOSS_HUBER && !(t->huber_delta >= 0 && isfinite(t->huber_delta)))
    return nnf_fail(err, errlen, "the Huber loss needs delta > 0 (got %g)", (double)t->huber_delta);
  if (t->kind == NNF_TASK_BINARY && outputs != 1)
    return nnf_fail(err, errlen, "the binary task has one output (a logit), the network has %d", outputs);
  if (t->kind == NNF_TASK_MULTICLASS && outputs < 2)
    return nnf_fail(err, errlen, "the multiclass task needs at least 2 outputs (one output: --task binary)");
  return 0;
}

static float delta_of(const nnf_task *t) { return t->huber_delta > 0 ? t->huber_delta : 1.0f; }

float nnf_task_loss(const nnf_task *t, const float *out, const int32_t *labels, const float *targets, int B,
                    int C, float *grad) {
  size_t n = (size_t)B * (size_t)C;
  switch (t->kind) {
    case NNF_TASK_MULTICLASS: return nnf_loss_softmax_ce(out, labels, B, C, grad);
    case NNF_TASK_BINARY: {
      /* one logit per row; the label (0 or 1) is its target */
      if (B <= 0) return 0.0f;
      double s = 0.0;
      float inv = 1.0f / (float)B;
      for (int r = 0; r < B; r++) {
        float d;
        s += nnf_bce_logit(out[r], (float)labels[r], &d);
        if (grad) grad[r] = d * inv;
      }
      return (float)(s / B);
    }
    case NNF_TASK_MULTILABEL: return nnf_loss_bce_logits(out, targets, n, grad);
    case NNF_TASK_REGRESSION:
      if (t->loss == NNF_LOSS_MAE) return nnf_loss_mae(out, targets, n, grad);
      if (t->loss == NNF_LOSS_HUBER) return nnf_loss_huber(out, targets, n, delta_of(t), grad);
      return nnf_loss_mse(out, targets, n, grad);
  }
  return 0.0f;
}

void nnf_task_tally(const nnf_task *t, const float *out, const int32_t *labels, const float *targets, int B,
                    int C, nnf_tally *s) {
  s->rows += (uint64_t)B;
  for (int r = 0; r < B; r++) {
    const float *o = out + (size_t)r * C;
    const float *y = targets ? targets + (size_t)r * C : NULL;
    switch (t->kind) {
      case NNF_TASK_MULTICLASS: s->correct += nnf_argmax(o, C) == labels[r]; break;
      case NNF_TASK_BINARY: s->correct += (o[0] > 0) == (labels[r] != 0); break;
      case NNF_TASK_MULTILABEL: {
        int all = 1;
        for (int j = 0; j < C; j++) {
          int ok = (o[j] > 0) == (y[j] >= 0.5f);
          s->labels_ok += (uint64_t)ok;
          all &= ok;
        }
        s->labels += (uint64_t)C;
        s->correct += (uint64_t)all;
        break;
      }
      case NNF_TASK_REGRESSION:
        for (int j = 0; j < C; j++) {
          double d = (double)o[j] - (double)y[j];
          s->sq += d * d;
          s->abs += fabs(d);
        }
        s->values += (uint64_t)C;
        break;
    }
  }
}

double nnf_task_figure(const nnf_task *t, const nnf_tally *s) {
  switch (t->kind) {
    case NNF_TASK_MULTILABEL: return s->labels ? (double)s->labels_ok / (double)s->labels : 0.0;
    case NNF_TASK_REGRESSION: return s->values ? s->sq / (double)s->values : 0.0;
    default: return s->rows ? (double)s->correct / (double)s->rows : 0.0;
  }
}

const char *nnf_task_figure_name(nnf_task_kind k) {
  return k == NNF_TASK_MULTILABEL ? "label_accuracy" : k == NNF_TASK_REGRESSION ? "mse" : "accuracy";
}
