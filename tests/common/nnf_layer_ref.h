/*
 * nnf_layer_ref.h - what the layer tests against PyTorch reference values
 * share (tests/host/test_conv_layers.c, test_rnn.c): reading a JSON array of
 * floats, the worst relative difference, and the backward pass and loss of
 * a network through its layers' vtables.
 */
#ifndef NNF_LAYER_REF_H
#define NNF_LAYER_REF_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * written); dx into dx if not NULL. */
static inline void nnf_ref_backward(nnf_net *n, const float *g, int B, float *dx) {
  nnf_pass p = nnf_net_pass(n, n->last_mode, B, 0, 1);
  size_t cnt = (size_t)B * nnf_net_outputs(n);
  memcpy(n->g0, g, cnt * sizeof(float));
  float *cur = n->g0, *next = n->g1;
  for (int i = n->nlayers - 1; i >= 0; i--) {
    nnf_layer *l = n->layer[i];
    l->ops->backward(l, &p, &n->t[i], &n->t[i + 1], cur, next, 0);
    float *t = cur;
    cur = next;
    next = t;
  }
  if (dx) memcpy(dx, cur, (size_t)B * nnf_net_inputs(n) * sizeof(float));
}

/* The loss (y . g) of a float forward pass of x. */
static inline double nnf_ref_loss(nnf_net *n, const float *x, const float *g, int B) {
  char err[256];
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
  double s = 0;
  for (size_t i = 0; i < (size_t)B * nnf_net_outputs(n); i++) s += (double)n->logits[i] * g[i];
  return s;
}

#endif /* NNF_LAYER_REF_H */
