/*
 * nnf_train.c - the training and evaluation loops (see nnf_train.h).
 */
#include "nnf_train.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nnf_train_opts nnf_train_defaults(void) {
  nnf_train_opts o;
  memset(&o, 0, sizeof o);
  o.mode = NNF_FWD_FAKEQUANT;
  o.eval_mode = NNF_FWD_FAKEQUANT;
  o.epochs = 10;
  o.batch = 64;
  o.seed = 1;
  o.observe_every = 8;
  return o;
}

static int check_data(const nnf_net *n, const nnf_dataset *d, const char *what, char *err,
                      size_t errlen) {
  if ((size_t)n->sizes[0] != d->features)
    return fail(err, errlen, "the network takes %d inputs but the %s data has %zu features per sample",
                n->sizes[0], what, d->features);
  if (d->classes > n->sizes[n->nlayers])
    return fail(err, errlen, "the %s data has %d classes but the network has %d outputs", what,
                d->classes, n->sizes[n->nlayers]);
  if (d->count == 0) return fail(err, errlen, "the %s data is empty", what);
  return 0;
}

static int count_correct(const nnf_net *n, const int32_t *labels, int batch) {
  int L = n->nlayers, C = n->sizes[L], ok = 0;
  for (int r = 0; r < batch; r++) ok += nnf_argmax(n->a[L] + (size_t)r * C, C) == labels[r];
  return ok;
}

/* Gather the rows perm[first .. first + B) into x / y. */
static void gather(const nnf_dataset *d, const uint32_t *perm, size_t first, int B, float *x,
                   int32_t *y) {
  for (int r = 0; r < B; r++) {
    size_t i = perm ? perm[first + (size_t)r] : first + (size_t)r;
    memcpy(x + (size_t)r * d->features, d->x + i * d->features, d->features * sizeof(float));
    y[r] = d->y[i];
  }
}

int nnf_evaluate(nnf_net *n, nnf_fwd_mode mode, nnf_device *dev, const nnf_dataset *d, int batch,
                 nnf_eval_result *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  if (check_data(n, d, "evaluation", err, errlen)) return -1;
  if (batch < 1) return fail(err, errlen, "batch must be >= 1");
  if (mode != NNF_FWD_FLOAT && !n->quantized && nnf_net_quantize(n, err, errlen)) return -1;
  nnf_device_figures f0 = {0}, f1 = {0};
  if (mode == NNF_FWD_DEVICE) {
    if (nnf_device_load(dev, n, batch, err, errlen) || nnf_device_figures_get(dev, &f0, err, errlen))
      return -1;
  }
  /* On a device, hand it 16 batches per call: it streams the next batch in
   * while one runs. */
  if (mode == NNF_FWD_DEVICE) batch = batch * 16 > 65535 ? 65535 : batch * 16;
  float *x = malloc((size_t)batch * d->features * sizeof(float));
  int32_t *y = malloc((size_t)batch * sizeof(int32_t));
  if (!x || !y) {
    free(x);
    free(y);
    return fail(err, errlen, "out of memory");
  }
  /* Evaluation must not move the observers: keep them. */
  nnf_qrange q[NNF_MAX_LAYERS + 1], pre[NNF_MAX_LAYERS];
  memcpy(q, n->q, sizeof q);
  memcpy(pre, n->pre, sizeof pre);
  int rc = 0;
  double loss = 0;
  long steps = (long)((d->count + (size_t)batch - 1) / (size_t)batch);
  for (long s = 0; s < steps && !rc; s++) {
    size_t first = (size_t)s * (size_t)batch;
    int B = (int)(d->count - first < (size_t)batch ? d->count - first : (size_t)batch);
    gather(d, NULL, first, B, x, y);
    rc = nnf_net_forward(n, mode, dev, x, B, err, errlen);
    if (rc) break;
    loss += (double)nnf_loss_softmax_ce(n->a[n->nlayers], y, B, n->sizes[n->nlayers], NULL) * B;
    r->correct += (uint64_t)count_correct(n, y, B);
    r->images += (uint64_t)B;
    if (progress) progress(ctx, s + 1, steps, NULL);
  }
  memcpy(n->q, q, sizeof q);
  memcpy(n->pre, pre, sizeof pre);
  free(x);
  free(y);
  if (rc) return -1;
  if (mode == NNF_FWD_DEVICE) {
    if (nnf_device_figures_get(dev, &f1, err, errlen)) return -1;
    r->dev = f1;
    r->dev.cycles -= f0.cycles;
    r->dev.busy_cycles -= f0.busy_cycles;
    r->dev.macs -= f0.macs;
    r->dev.images -= f0.images;
  }
  r->accuracy = (double)r->correct / (double)r->images;
  r->loss = loss / (double)r->images;
  return 0;
}

int nnf_train(nnf_net *n, nnf_optim *opt, nnf_device *dev, const nnf_dataset *train,
              const nnf_dataset *test, const nnf_train_opts *o, char *err, size_t errlen) {
  if (check_data(n, train, "training", err, errlen)) return -1;
  if (test && check_data(n, test, "test", err, errlen)) return -1;
  if (o->epochs < 1 || o->batch < 1 || o->batch > 65535)
    return fail(err, errlen, "epochs must be >= 1 and batch 1..65535");
  if ((o->mode == NNF_FWD_DEVICE || o->eval_mode == NNF_FWD_DEVICE) && !dev)
    return fail(err, errlen, "device mode needs a device");
  int B = o->batch;
  float *x = malloc((size_t)B * train->features * sizeof(float));
  int32_t *y = malloc((size_t)B * sizeof(int32_t));
  uint32_t *perm = malloc(train->count * sizeof(uint32_t));
  if (!x || !y || !perm) {
    free(x);
    free(y);
    free(perm);
    return fail(err, errlen, "out of memory");
  }
  if (o->csv) fprintf(o->csv, "epoch,loss,train_accuracy,test_accuracy,seconds\n");
  long steps_per_epoch = (long)((train->count + (size_t)B - 1) / (size_t)B);
  long total = steps_per_epoch * o->epochs, done = 0;
  int every = o->observe_every < 1 ? 1 : o->observe_every;
  int rc = 0;
  for (int e = 0; e < o->epochs && !rc; e++) {
    double t0 = now_s(), loss = 0;
    uint64_t correct = 0;
    nnf_shuffle(perm, train->count, o->seed + (uint64_t)e * 0x9e3779b97f4a7c15ull);
    for (long s = 0; s < steps_per_epoch && !rc; s++) {
      size_t first = (size_t)s * (size_t)B;
      int b = (int)(train->count - first < (size_t)B ? train->count - first : (size_t)B);
      gather(train, perm, first, b, x, y);
      if (o->mode != NNF_FWD_FAKEQUANT && done % every == 0) {
        /* observing every `every` steps, move as far as `every` PyTorch-style
         * per-step updates would: the same time constant in steps */
        float m = n->observer_momentum;
        n->observer_momentum = (float)(1.0 - pow(1.0 - (double)m, (double)every));
        int orc = nnf_net_observe(n, x, b);
        n->observer_momentum = m;
        if (orc) {
          rc = fail(err, errlen, "out of memory");
          break;
        }
      }
      if (o->mode == NNF_FWD_DEVICE) {
        /* quantize and upload this step's weights */
        if (nnf_net_quantize(n, err, errlen) ||
            nnf_device_load(dev, n, B, err, errlen)) {
          rc = err && *err ? -1 : fail(err, errlen, "out of memory");
          break;
        }
      } else if (o->mode == NNF_FWD_FAKEQUANT) {
        if (nnf_net_quantize(n, err, errlen)) {
          rc = -1;
          break;
        }
      }
      if ((rc = nnf_net_forward(n, o->mode, dev, x, b, err, errlen))) break;
      loss += (double)nnf_net_backward(n, y, b, 1.0f, 0) * b;
      correct += (uint64_t)count_correct(n, y, b);
      nnf_optim_step(opt);
      n->quantized = 0;
      done++;
      if (o->progress) o->progress(o->progress_ctx, done, total, NULL);
    }
    if (rc) break;
    nnf_epoch_stats st = {e + 1, loss / (double)train->count, (double)correct / (double)train->count,
                          -1.0, 0};
    if (test) {
      nnf_eval_result r;
      if (o->eval_mode != NNF_FWD_FLOAT && (rc = nnf_net_quantize(n, err, errlen))) break;
      if ((rc = nnf_evaluate(n, o->eval_mode, dev, test, B, &r, NULL, NULL, err, errlen))) break;
      st.test_acc = r.accuracy;
    }
    st.seconds = now_s() - t0;
    if (o->csv)
      fprintf(o->csv, "%d,%.6f,%.6f,%.6f,%.3f\n", st.epoch, st.loss, st.train_acc, st.test_acc,
              st.seconds);
    if (o->csv) fflush(o->csv);
    if (o->progress) o->progress(o->progress_ctx, done, total, &st);
  }
  if (!rc && o->mode != NNF_FWD_FLOAT) rc = nnf_net_quantize(n, err, errlen);
  free(x);
  free(y);
  free(perm);
  return rc;
}
