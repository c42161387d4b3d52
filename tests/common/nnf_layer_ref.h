/*
 * nnf_layer_ref.h - what the layer tests against PyTorch reference values
 * share (tests/host/test_conv_layers.c, test_rnn.c): reading a JSON array of
 * floats, the worst relative difference, and the backward pass and loss of
 * a network through its layers' vtables, and finite differences of its
 * gradients (test_attn.c too).
 */
#ifndef NNF_LAYER_REF_H
#define NNF_LAYER_REF_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_test.h"

/* The parsed reference file NNF_TEST_DATA/name (checked; free with cJSON_Delete). */
static inline cJSON *nnf_ref_load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, name);
  char *text = nnf_test_read_text(path);
  nnf_test_ctx("%s", path);
  CHECK(text != NULL);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(root != NULL);
  free(text);
  return root;
}

/* The numbers of array `key` of o into out (at most max); their count. */
static inline int nnf_ref_floats(const cJSON *o, const char *key, float *out, int max) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *v;
  nnf_test_ctx("key \"%s\"", key);
  CHECK(cJSON_IsArray(arr));
  int n = 0;
  cJSON_ArrayForEach(v, arr) {
    CHECK(cJSON_IsNumber(v) && n < max);
    if (n < max) out[n++] = (float)v->valuedouble;
  }
  return n;
}

/* The worst |a - b| / (tol + tol |b|) over n values; must stay <= 1. */
static inline double nnf_ref_worst(const float *a, const float *b, int n, double tol) {
  double w = 0;
  for (int i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]) / (tol + tol * fabs((double)b[i]));
    w = e > w ? e : w;
  }
  return w;
}

/* Backward of the loss (y . g) through the layers (parameter gradients
 * written, or with accumulate added); dx into dx if not NULL. */
static inline void nnf_ref_backward_acc(nnf_net *n, const float *g, int B, float *dx, int accumulate) {
  (void)B;
  CHECK(nnf_net_backward_grad(n, g, dx, accumulate) == 0);
}

static inline void nnf_ref_backward(nnf_net *n, const float *g, int B, float *dx) { nnf_ref_backward_acc(n, g, B, dx, 0); }

/* The fields every layer reference case has. */
typedef struct {
  const char *name, *arch, *describe; /* the case, its grammar, its checkpoint form */
  int B, T, I;                        /* sequences, steps (tokens), features a step */
} nnf_ref_case;

static inline nnf_ref_case nnf_ref_case_of(const cJSON *c) {
  nnf_ref_case r;
  r.name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
  r.arch = cJSON_GetObjectItemCaseSensitive(c, "arch")->valuestring;
  r.describe = cJSON_GetObjectItemCaseSensitive(c, "describe")->valuestring;
  r.B = cJSON_GetObjectItemCaseSensitive(c, "B")->valueint;
  r.T = cJSON_GetObjectItemCaseSensitive(c, "T")->valueint;
  r.I = cJSON_GetObjectItemCaseSensitive(c, "I")->valueint;
  return r;
}

/* A reference case's network: built from its grammar item(s) arch over flat
 * rows of `inputs`, describing itself as `describe`, and that entry (the
 * checkpoints' form) building the same layers again. NULL if it does not
 * build. */
static inline nnf_net *nnf_ref_case_net(const char *name, const char *arch, const char *describe, int inputs) {
  char err[512], desc[2048];
  int shape[3] = {inputs, 0, 0};
  nnf_net *n = nnf_arch_build(arch, shape, err, sizeof err);
  nnf_test_ctx("case %s: %s: %s", name, arch, err);
  CHECK(n != NULL);
  if (!n) return NULL;
  nnf_net_describe(n, desc, sizeof desc);
  nnf_test_ctx("case %s: describe %s", name, desc);
  CHECK(!strcmp(desc, describe));
  nnf_net *n2 = nnf_arch_parse(describe, inputs, 1, NNF_INPUT_OBSERVED, err, sizeof err);
  nnf_test_ctx("case %s: nnf_arch_parse(%s): %s", name, describe, err);
  CHECK(n2 != NULL);
  if (n2) {
    nnf_net_describe(n2, desc, sizeof desc);
    CHECK(!strcmp(desc, describe));
    nnf_net_free(n2);
  }
  return n;
}

/* The loss (y . g) of a float forward pass of x. */
static inline double nnf_ref_loss(nnf_net *n, const float *x, const float *g, int B) {
  char err[256];
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
  double s = 0;
  for (size_t i = 0; i < (size_t)B * nnf_net_outputs(n); i++) s += (double)n->logits[i] * g[i];
  return s;
}

/* Central differences of (y . g) (the loss summed in double) with step h at
 * `probes` coordinates of v (from `offset`) against the analytic gradient d:
 * within tol of the largest |d|; up to `kinks` may miss (a ReLU's or a
 * max's kink crossed by the step). */
static inline void nnf_ref_fd_probe(nnf_net *n, const float *x, const float *g, int B, float *v, const float *d, int cnt,
                                    const char *what, float h, int probes, int offset, double tol, int kinks) {
  double dmax = 1e-3;
  for (int i = 0; i < cnt; i++) dmax = fabs(d[i]) > dmax ? fabs(d[i]) : dmax;
  int miss = 0;
  for (int k = 0; k < probes; k++) {
    int i = (int)(((uint64_t)k * 2654435761u + (uint64_t)offset) % (uint64_t)cnt);
    float keep = v[i];
    v[i] = keep + h;
    double up = nnf_ref_loss(n, x, g, B);
    v[i] = keep - h;
    double dn = nnf_ref_loss(n, x, g, B);
    v[i] = keep;
    double fd = (up - dn) / ((double)(keep + h) - (double)(keep - h));
    if (fabs(fd - d[i]) > tol * dmax) miss++, printf("  fd %s[%d]: %g vs %g (max %g)\n", what, i, fd, d[i], dmax);
  }
  nnf_test_ctx("finite differences of %s: %d of %d off", what, miss, probes);
  CHECK(miss <= kinks);
}

/* The recurrent and attention layers' check: step 1e-2 at 16 coordinates,
 * within 5e-3 of the largest |d| (float32 forwards: rounding ~1e-6 / 1e-2;
 * curvature ~1e-4 * the third derivative). */
static inline void nnf_ref_fd_check(nnf_net *n, const float *x, const float *g, int B, float *v, const float *d,
                                    int cnt, const char *what, int kinks) {
  nnf_ref_fd_probe(n, x, g, B, v, d, cnt, what, 1e-2f, 16, 3, 5e-3, kinks);
}

#endif /* NNF_LAYER_REF_H */
