/*
 * nnf_train.c - the training and evaluation loops (see nnf_train.h).
 */
#include "nnf_train.h"
#include "nnf_err.h"
#include "nnf_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


nnf_train_opts nnf_train_defaults(void) {
  nnf_train_opts o;
  memset(&o, 0, sizeof o);
  o.mode = NNF_FWD_FAKEQUANT;
  o.eval_mode = NNF_FWD_FAKEQUANT;
  o.epochs = 10;
  o.batch = 64;
  o.seed = 1;
  o.observe_every = 8;
  o.accumulate = 1;
  o.sched.gamma = 0.1;
  o.sched.step_size = 10;
  return o;
}

static int check_data(const nnf_net *n, const nnf_dataset *d, const char *what, char *err,
                      size_t errlen) {
  const nnf_task *t = &n->task;
  int C = nnf_net_outputs(n);
  if ((size_t)nnf_net_inputs(n) != d->features)
    return nnf_fail(err, errlen, "the network takes %d inputs but the %s data has %zu features per sample",
                nnf_net_inputs(n), what, d->features);
  if (nnf_task_check(t, C, err, errlen)) return -1;
  if (t->kind != NNF_TASK_MULTICLASS && nnf_net_spiking(n))
    return nnf_fail(err, errlen, "a spiking network's outputs are spike counts: only the multiclass task fits it");
  if (nnf_task_uses_targets(t->kind) && (!d->t || d->targets != (size_t)C))
    return nnf_fail(err, errlen, "the %s task needs %d target columns per sample (one per output) but the %s data has %zu",
                    nnf_task_name(t->kind), C, what, d->t ? d->targets : 0);
  if (t->kind == NNF_TASK_BINARY && d->classes > 2)
    return nnf_fail(err, errlen, "the binary task takes labels 0 and 1 but the %s data has labels up to %d", what,
                    d->classes - 1);
  if (t->kind == NNF_TASK_MULTICLASS && d->classes > C)
    return nnf_fail(err, errlen, "the %s data has %d classes but the network has %d outputs", what,
                d->classes, C);
  if (d->count == 0) return nnf_fail(err, errlen, "the %s data is empty", what);
  return 0;
}

/* Gather the rows perm[first .. first + B) into x / y (and t: targets). */
static void gather(const nnf_dataset *d, const uint32_t *perm, size_t first, int B, float *x,
                   int32_t *y, float *t) {
  for (int r = 0; r < B; r++) {
    size_t i = perm ? perm[first + (size_t)r] : first + (size_t)r;
    memcpy(x + (size_t)r * d->features, d->x + i * d->features, d->features * sizeof(float));
    y[r] = d->y[i];
    if (t) memcpy(t + (size_t)r * d->targets, d->t + i * d->targets, d->targets * sizeof(float));
  }
}

/* Row buffers of a loop: inputs, labels and (for target tasks) targets. */
typedef struct {
  float *x, *t;
  int32_t *y;
} rows_buf;

static int rows_alloc(rows_buf *b, const nnf_dataset *d, int rows) {
  b->x = malloc((size_t)rows * d->features * sizeof(float));
  b->y = malloc((size_t)rows * sizeof(int32_t));
  b->t = d->t && d->targets ? malloc((size_t)rows * d->targets * sizeof(float)) : NULL;
  return b->x && b->y && (b->t || !(d->t && d->targets)) ? 0 : -1;
}

static void rows_free(rows_buf *b) {
  free(b->x);
  free(b->y);
  free(b->t);
}

/* One forward pass of B rows in `mode` (observing as p says; training:
 * dropout active). */
static int forward(nnf_net *n, nnf_device *dev, nnf_fwd_mode mode, const float *x, int B, int observe, int every,
                   int training, char *err, size_t errlen) {
  if (mode == NNF_FWD_DEVICE) {
    if (!dev) return nnf_fail(err, errlen, "device mode needs a device");
    return nnf_device_forward(dev, n, x, B, err, errlen);
  }
  nnf_pass p = nnf_net_pass(n, mode, B, observe, every);
  p.training = training;
  return nnf_net_forward(n, &p, x, err, errlen);
}

int nnf_evaluate(nnf_net *n, nnf_fwd_mode mode, nnf_device *dev, const nnf_dataset *d, int batch,
                 nnf_eval_result *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  if (check_data(n, d, "evaluation", err, errlen)) return -1;
  if (batch < 1) return nnf_fail(err, errlen, "batch must be >= 1");
  if (mode != NNF_FWD_FLOAT && !n->quantized && nnf_net_quantize(n, err, errlen)) return -1;
  nnf_device_figures f0 = {0}, f1 = {0};
  if (mode == NNF_FWD_DEVICE) {
    if (!dev) return nnf_fail(err, errlen, "device mode needs a device");
    if (nnf_device_load(dev, n, batch, err, errlen) || nnf_device_figures_get(dev, &f0, err, errlen))
      return -1;
    /* Hand the device 16 batches per call: it streams the next batch in
     * while one runs (rate-coded inputs draw per call: keep their calls) */
    if (!nnf_net_spiking(n)) batch = batch * 16 > 65535 ? 65535 : batch * 16;
  }
  rows_buf b;
  if (rows_alloc(&b, d, batch)) {
    rows_free(&b);
    return nnf_fail(err, errlen, "out of memory");
  }
  int rc = 0, C = nnf_net_outputs(n);
  double loss = 0;
  nnf_tally tally;
  memset(&tally, 0, sizeof tally);
  long steps = (long)((d->count + (size_t)batch - 1) / (size_t)batch);
  for (long s = 0; s < steps && !rc; s++) {
    size_t first = (size_t)s * (size_t)batch;
    int B = (int)(d->count - first < (size_t)batch ? d->count - first : (size_t)batch);
    gather(d, NULL, first, B, b.x, b.y, b.t);
    rc = forward(n, dev, mode, b.x, B, 0, 1, 0, err, errlen);
    if (rc) break;
    loss += (double)nnf_task_loss(&n->task, n->logits, b.y, b.t, B, C, NULL) * B;
    nnf_task_tally(&n->task, n->logits, b.y, b.t, B, C, &tally);
    if (progress) progress(ctx, s + 1, steps, NULL);
  }
  rows_free(&b);
  if (rc) return -1;
  if (mode == NNF_FWD_DEVICE) {
    if (nnf_device_figures_get(dev, &f1, err, errlen)) return -1;
    r->dev = f1;
    r->dev.cycles -= f0.cycles;
    r->dev.busy_cycles -= f0.busy_cycles;
    r->dev.macs -= f0.macs;
    r->dev.bytes_in -= f0.bytes_in;
    r->dev.bytes_out -= f0.bytes_out;
    r->dev.images -= f0.images;
  }
  r->images = tally.rows;
  r->correct = tally.correct;
  r->figure = nnf_task_figure(&n->task, &tally);
  r->accuracy = n->task.kind == NNF_TASK_MULTILABEL ? r->figure : (double)r->correct / (double)r->images;
  if (n->task.kind == NNF_TASK_MULTILABEL) r->exact_match = (double)r->correct / (double)r->images;
  if (n->task.kind == NNF_TASK_REGRESSION) {
    r->accuracy = 0;
    r->mse = tally.sq / (double)tally.values;
    r->mae = tally.abs / (double)tally.values;
  }
  r->loss = loss / (double)r->images;
  return 0;
}

/* ---- schedules ---------------------------------------------------------- */

static const char *const sched_names[] = {"constant", "step", "exponential", "cosine"};

int nnf_sched_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, sched_names[i])) return i;
  if (!strcmp(name, "exp")) return NNF_SCHED_EXPONENTIAL;
  return -1;
}

const char *nnf_sched_name(nnf_sched_kind k) { return (unsigned)k < 4 ? sched_names[k] : "?"; }

double nnf_sched_lr(const nnf_sched *s, double lr0, int epoch, long step) {
  double lr = lr0;
  switch (s->kind) {
    case NNF_SCHED_CONSTANT: break;
    case NNF_SCHED_STEP: lr = lr0 * pow(s->gamma, (double)(epoch / (s->step_size > 0 ? s->step_size : 1))); break;
    case NNF_SCHED_EXPONENTIAL: lr = lr0 * pow(s->gamma, (double)epoch); break;
    case NNF_SCHED_COSINE: {
      int t = s->t_max > 0 ? s->t_max : 1;
      lr = s->eta_min + (lr0 - s->eta_min) * (1.0 + cos(M_PI * (double)epoch / (double)t)) / 2.0;
      break;
    }
  }
  if (s->warmup_steps > 0 && step < s->warmup_steps) lr *= (double)(step + 1) / (double)s->warmup_steps;
  return lr;
}

int nnf_sched_validate(const nnf_sched *s, char *err, size_t errlen) {
  if ((unsigned)s->kind > NNF_SCHED_COSINE) return nnf_fail(err, errlen, "unknown schedule %d", (int)s->kind);
  if (s->kind == NNF_SCHED_STEP && s->step_size < 1)
    return nnf_fail(err, errlen, "the step schedule needs a step size >= 1 (got %d)", s->step_size);
  if ((s->kind == NNF_SCHED_STEP || s->kind == NNF_SCHED_EXPONENTIAL) && !(s->gamma > 0 && isfinite(s->gamma)))
    return nnf_fail(err, errlen, "the %s schedule needs gamma > 0 (got %g)", nnf_sched_name(s->kind), s->gamma);
  if (s->kind == NNF_SCHED_COSINE && (s->t_max < 0 || !(s->eta_min >= 0) || !isfinite(s->eta_min)))
    return nnf_fail(err, errlen, "the cosine schedule needs t_max >= 0 and eta_min >= 0");
  if (s->warmup_steps < 0) return nnf_fail(err, errlen, "warm-up steps must be >= 0");
  return 0;
}

/* ---- data split --------------------------------------------------------- */

static int copy_rows(const nnf_dataset *d, const uint32_t *idx, size_t n, nnf_dataset *out) {
  memset(out, 0, sizeof *out);
  out->count = n;
  out->features = d->features;
  out->classes = d->classes;
  out->x = malloc((n ? n : 1) * d->features * sizeof(float));
  out->y = malloc((n ? n : 1) * sizeof(int32_t));
  out->targets = d->t ? d->targets : 0;
  if (out->targets) out->t = malloc((n ? n : 1) * d->targets * sizeof(float));
  if (!out->x || !out->y || (out->targets && !out->t)) {
    nnf_dataset_free(out);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(out->x + i * d->features, d->x + (size_t)idx[i] * d->features, d->features * sizeof(float));
    out->y[i] = d->y[idx[i]];
    if (out->t) memcpy(out->t + i * d->targets, d->t + (size_t)idx[i] * d->targets, d->targets * sizeof(float));
  }
  return 0;
}

int nnf_dataset_split(const nnf_dataset *d, double fraction, uint64_t seed, nnf_dataset *train,
                      nnf_dataset *val, char *err, size_t errlen) {
  memset(train, 0, sizeof *train);
  memset(val, 0, sizeof *val);
  if (!(fraction > 0 && fraction < 1))
    return nnf_fail(err, errlen, "the validation split must be a fraction in (0, 1), not %g", fraction);
  size_t nv = (size_t)llround(fraction * (double)d->count);
  if (nv < 1 || nv >= d->count)
    return nnf_fail(err, errlen, "a validation split of %g leaves %zu of %zu samples for validation", fraction,
                nv, d->count);
  uint32_t *perm = malloc(d->count * sizeof *perm);
  if (!perm) return nnf_fail(err, errlen, "out of memory");
  nnf_shuffle(perm, d->count, seed ^ 0x5eed5011ull);
  int rc = copy_rows(d, perm + nv, d->count - nv, train) || copy_rows(d, perm, nv, val);
  free(perm);
  if (rc) {
    nnf_dataset_free(train);
    nnf_dataset_free(val);
    return nnf_fail(err, errlen, "out of memory");
  }
  return 0;
}

/* ---- training ----------------------------------------------------------- */

/* A snapshot of what training changes: the parameters, the observers and
 * the spiking layers' current ranges. */
typedef struct {
  float *data[NNF_MAX_NET_PARAMS];
  nnf_qrange r[NNF_MAX_LAYERS + 1];
  float cur_range[NNF_MAX_LAYERS];
  int cur_seen[NNF_MAX_LAYERS];
  int taken;
} snapshot;

static void snap_free(snapshot *s) {
  for (int i = 0; i < NNF_MAX_NET_PARAMS; i++) free(s->data[i]);
}


static int snap_take(snapshot *s, nnf_net *n) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  for (int i = 0; i < k; i++) {
    if (!s->data[i] && !(s->data[i] = malloc(nnf_param_size(&p[i]) * sizeof(float)))) return -1;
    memcpy(s->data[i], p[i].data, nnf_param_size(&p[i]) * sizeof(float));
  }
  for (int i = 0; i <= n->nlayers; i++) s->r[i] = n->t[i].r;
  for (int i = 0; i < n->nlayers; i++) {
    float *range;
    int *seen;
    if (!nnf_layer_lif_current(n->layer[i], &range, &seen, NULL, NULL)) s->cur_range[i] = *range, s->cur_seen[i] = *seen;
  }
  s->taken = 1;
  return 0;
}

static void snap_restore(const snapshot *s, nnf_net *n) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int k = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
  for (int i = 0; i < k; i++) memcpy(p[i].data, s->data[i], nnf_param_size(&p[i]) * sizeof(float));
  for (int i = 0; i <= n->nlayers; i++) n->t[i].r = s->r[i];
  for (int i = 0; i < n->nlayers; i++) {
    float *range;
    int *seen;
    if (!nnf_layer_lif_current(n->layer[i], &range, &seen, NULL, NULL)) *range = s->cur_range[i], *seen = s->cur_seen[i];
  }
  n->quantized = 0;
}

/* One forward/backward pass of b samples (gradient weight `scale`): the
 * observers as the mode has them (nnf_train.h), the int8 model re-derived
 * (and uploaded) after every optimizer step. */
static int train_pass(nnf_net *n, nnf_device *dev, const nnf_train_opts *o, const rows_buf *rb, int b, int chunk,
                      long pass, float scale, int accumulate, double *loss, nnf_tally *tally, char *err,
                      size_t errlen) {
  const float *x = rb->x;
  int every = o->observe_every < 1 ? 1 : o->observe_every, due = pass % every == 0;
  if (o->mode == NNF_FWD_INT && pass == 0 && nnf_net_calibrate(n, x, b, err, errlen)) return -1;
  if ((o->mode == NNF_FWD_FLOAT || o->mode == NNF_FWD_DEVICE) && due && nnf_net_observe(n, x, b, every))
    return nnf_fail(err, errlen, "out of memory");
  /* quantize and upload once per optimizer step (and after observing) */
  if (o->mode != NNF_FWD_FLOAT && !n->quantized) {
    if (nnf_net_quantize(n, err, errlen)) return -1;
    if (o->mode == NNF_FWD_DEVICE && nnf_device_load(dev, n, chunk, err, errlen)) return -1;
  }
  int fq = o->mode == NNF_FWD_FAKEQUANT, in = o->mode == NNF_FWD_INT;
  if (forward(n, dev, o->mode, x, b, fq || (in && due), fq ? 1 : every, 1, err, errlen)) return -1;
  *loss += (double)nnf_net_backward_task(n, rb->y, rb->t, scale, accumulate) * b;
  nnf_task_tally(&n->task, n->logits, rb->y, rb->t, b, nnf_net_outputs(n), tally);
  return 0;
}

/* v better than best for the task (higher accuracy, lower MSE). */
static int better(const nnf_net *n, double v, double best, int have_best) {
  if (!have_best) return 1;
  return nnf_task_lower_better(n->task.kind) ? v < best : v > best;
}

int nnf_train(nnf_net *n, nnf_optim *opt, nnf_device *dev, const nnf_dataset *train,
              const nnf_dataset *val, const nnf_dataset *test, const nnf_train_opts *o,
              char *err, size_t errlen) {
  if (check_data(n, train, "training", err, errlen)) return -1;
  if (val && check_data(n, val, "validation", err, errlen)) return -1;
  if (test && check_data(n, test, "test", err, errlen)) return -1;
  if (o->epochs < 1 || o->batch < 0 || o->batch > 65535 || o->accumulate < 1)
    return nnf_fail(err, errlen, "epochs must be >= 1, batch 0..65535 (0: full batch), accumulate >= 1");
  if (o->patience > 0 && !val) return nnf_fail(err, errlen, "early stopping needs a validation set");
  if ((o->mode == NNF_FWD_DEVICE || o->eval_mode == NNF_FWD_DEVICE) && !dev)
    return nnf_fail(err, errlen, "device mode needs a device");
  if (nnf_sched_validate(&o->sched, err, errlen)) return -1;
  if (!(o->l1 >= 0) || !(o->clip_norm >= 0) || !isfinite(o->l1) || !isfinite(o->clip_norm))
    return nnf_fail(err, errlen, "the L1 coefficient and the clipping norm must be >= 0 (got %g, %g)", (double)o->l1,
                    (double)o->clip_norm);
  for (int i = 0; o->mode == NNF_FWD_DEVICE && i < n->nlayers; i++)
    if (!nnf_layer_attn(n->layer[i], NULL, NULL)) {
      char what[256];
      n->layer[i]->ops->describe(n->layer[i], what, sizeof what);
      return nnf_fail(err, errlen,
                      "layer %d (%s): attention layers train with --float or --device host (a device's forward keeps "
                      "nothing for their backward); eval --device runs them on the device",
                      i, what);
    }
  for (int i = 0; o->mode == NNF_FWD_DEVICE && i < n->nlayers; i++)
    if (!nnf_layer_rnn(n->layer[i], NULL, NULL, NULL, NULL)) {
      char g[96];
      nnf_rnn_grammar(n->layer[i], g, sizeof g);
      return nnf_fail(err, errlen,
                      "layer %d '%s': recurrent layers train with --float or --device host (a device's forward keeps "
                      "nothing for the backward through time); eval --device runs them on the device",
                      i, g);
    }
  if (nnf_net_has_dropout(n) && (o->mode == NNF_FWD_DEVICE || o->mode == NNF_FWD_INT))
    return nnf_fail(err, errlen, "dropout needs the training forward on the host (float or fake quantization, "
                                 "e.g. --device host): a device or integer forward cannot drop values; evaluation "
                                 "on a device is fine (dropout is the identity there)");
  /* the schedule of this run: a cosine with t_max = 0 anneals over all the
   * epochs (nnf_train.h), as CosineAnnealingLR(T_max=epochs) does */
  nnf_sched sched = o->sched;
  if (sched.kind == NNF_SCHED_COSINE && sched.t_max < 1) sched.t_max = o->epochs;
  /* full batch: passes of up to 1024 samples, one optimizer step per epoch */
  int full = o->batch == 0;
  int chunk = full ? (train->count < 1024 ? (int)train->count : 1024) : o->batch;
  long passes_per_epoch = (long)((train->count + (size_t)chunk - 1) / (size_t)chunk);
  int acc = full ? (int)passes_per_epoch : (o->accumulate < 1 ? 1 : o->accumulate);
  rows_buf rb;
  int no_rows = rows_alloc(&rb, train, chunk);
  uint32_t *perm = malloc(train->count * sizeof(uint32_t));
  snapshot best;
  memset(&best, 0, sizeof best);
  if (no_rows || !perm) {
    rows_free(&rb);
    free(perm);
    return nnf_fail(err, errlen, "out of memory");
  }
  const char *fig = nnf_task_figure_name(n->task.kind);
  if (o->csv) fprintf(o->csv, "epoch,loss,train_%s,val_%s,test_%s,lr,seconds\n", fig, fig, fig);
  long total = passes_per_epoch * o->epochs, done = 0, steps = 0;
  double lr0 = nnf_optim_config(opt)->lr, best_acc = -1;
  int rc = 0, since_best = 0, e;
  n->rng = o->seed ^ 0x52a7e5ull;
  for (e = 0; e < o->epochs && !rc; e++) {
    double t0 = nnf_now(), loss = 0;
    nnf_tally tally;
    memset(&tally, 0, sizeof tally);
    nnf_shuffle(perm, train->count, o->seed + (uint64_t)e * 0x9e3779b97f4a7c15ull);
    for (long s = 0; s < passes_per_epoch && !rc; s++) {
      size_t first = (size_t)s * (size_t)chunk;
      int b = (int)(train->count - first < (size_t)chunk ? train->count - first : (size_t)chunk);
      /* this pass's place in its accumulation window, and the window's samples */
      long w0 = s - s % acc, w1 = w0 + acc < passes_per_epoch ? w0 + acc : passes_per_epoch;
      size_t wfirst = (size_t)w0 * chunk, wlast = (size_t)w1 * chunk;
      if (wlast > train->count) wlast = train->count;
      float scale = (float)b / (float)(wlast - wfirst);
      gather(train, perm, first, b, rb.x, rb.y, rb.t);
      rc = train_pass(n, dev, o, &rb, b, chunk, done, scale, s != w0, &loss, &tally, err, errlen);
      if (rc) break;
      done++;
      if (s + 1 == w1) {
        if (o->l1 > 0) nnf_net_l1(n, o->l1);
        if (o->clip_norm > 0) nnf_net_clip_grad_norm(n, o->clip_norm);
        nnf_optim_set_lr(opt, nnf_sched_lr(&sched, lr0, e, steps));
        nnf_optim_step(opt);
        steps++;
        n->quantized = 0;
      }
      if (o->progress) o->progress(o->progress_ctx, done, total, NULL);
    }
    if (rc) break;
    nnf_epoch_stats st = {e + 1, loss / (double)train->count, nnf_task_figure(&n->task, &tally),
                          -1.0, -1.0, nnf_optim_config(opt)->lr, 0, 0};
    const nnf_dataset *sets[2] = {val, test};
    double *accs[2] = {&st.val_acc, &st.test_acc};
    for (int k = 0; k < 2 && !rc; k++) {
      nnf_eval_result r;
      if (!sets[k]) continue;
      int eb = o->eval_batch > 0 ? o->eval_batch : chunk < 64 ? 64 : chunk;
      if ((rc = nnf_evaluate(n, o->eval_mode, dev, sets[k], eb, &r, NULL, NULL, err, errlen)))
        break;
      *accs[k] = r.figure;
    }
    if (rc) break;
    if (val) {
      if (better(n, st.val_acc, best_acc, best.taken)) {
        best_acc = st.val_acc;
        since_best = 0;
        st.best = 1;
        if (snap_take(&best, n)) rc = nnf_fail(err, errlen, "out of memory");
      } else {
        since_best++;
      }
    }
    st.seconds = nnf_now() - t0;
    if (o->csv) {
      fprintf(o->csv, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f\n", st.epoch, st.loss, st.train_acc, st.val_acc,
              st.test_acc, st.lr, st.seconds);
      fflush(o->csv);
    }
    if (o->history) o->history[e] = st;
    if (o->progress) o->progress(o->progress_ctx, done, total, &st);
    if (o->patience > 0 && since_best >= o->patience) {
      e++;
      break;
    }
  }
  if (o->epochs_run) *o->epochs_run = e;
  if (!rc && val && best.taken) snap_restore(&best, n);
  if (!rc && o->mode != NNF_FWD_FLOAT) rc = nnf_net_quantize(n, err, errlen);
  snap_free(&best);
  rows_free(&rb);
  free(perm);
  return rc;
}
