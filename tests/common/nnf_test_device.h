/*
 * nnf_test_device.h - the closing checks of a network run on a device (the
 * e2e device tests): the device really computed (its int8 outputs are not
 * all one value), its counters saw the images and some MACs; then the
 * device is closed (the link bytes in: the return value). And the networks they build.
 */
#ifndef NNF_TEST_DEVICE_H
#define NNF_TEST_DEVICE_H

#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"

/* The network of arch over c x h x w inputs, initialised from seed. */
static inline nnf_net *nnf_test_device_net(const char *arch, int c, int h, int w, uint64_t seed) {
  char err[512];
  int shape[3] = {c, h, w};
  nnf_net *n = nnf_arch_build(arch, shape, err, sizeof err);
  nnf_test_ctx("%s: %s", arch, err);
  CHECK(n != NULL);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, seed));
  return n;
}

/* n's ranges observed on x (count rows) and its int8 form derived. */
static inline void nnf_test_device_quantize(nnf_net *n, const float *x, int count) {
  char err[512] = "";
  CHECK_OK(nnf_net_observe(n, x, count, 1));
  int rc = nnf_net_quantize(n, err, sizeof err);
  nnf_test_ctx("quantize: %s", err);
  CHECK_OK(rc);
}

/* The host's integer forward of the quantized network n over x (count
 * rows): a copy of every boundary's int8 values (host[1..nlayers], the
 * rest NULL) and of the logits, for the device's to be compared with;
 * nnf_test_device_host_free releases them. */
static inline float *nnf_test_device_host_int(nnf_net *n, const float *x, int count, int8_t **host) {
  char err[512] = "";
  int rc = nnf_net_run(n, NNF_FWD_INT, x, count, err, sizeof err);
  nnf_test_ctx("the host's INT forward: %s", err);
  CHECK_OK(rc);
  for (int i = 0; i <= NNF_MAX_LAYERS; i++) host[i] = NULL;
  for (int i = 1; i <= n->nlayers; i++) {
    size_t cnt = (size_t)count * n->t[i].width;
    host[i] = malloc(cnt);
    memcpy(host[i], n->t[i].q, cnt);
  }
  size_t nl = (size_t)count * nnf_net_outputs(n) * sizeof(float);
  float *logits = malloc(nl);
  memcpy(logits, n->logits, nl);
  return logits;
}

static inline void nnf_test_device_host_free(int8_t **host, float *logits) {
  for (int i = 0; i <= NNF_MAX_LAYERS; i++) free(host[i]);
  free(logits);
}

/* Loading the quantized network n on uri (batches of max_batch) fails with
 * a message containing want; the device is closed. */
static inline void nnf_test_device_refused(nnf_net *n, const char *what, const char *uri, int max_batch,
                                           const char *want) {
  char err[512] = "";
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  nnf_test_ctx("%s: open %s: %s", what, uri, err);
  CHECK(d != NULL);
  err[0] = 0;
  int rc = nnf_device_load(d, n, max_batch, err, sizeof err);
  nnf_test_ctx("%s on %s: refused with \"%s\" (want \"%s\")", what, uri, err, want);
  CHECK(rc != 0);
  CHECK(strstr(err, want) != NULL);
  printf("refused: %s\n", err);
  nnf_device_close(d);
}

static inline uint64_t nnf_test_device_ran(nnf_device *d, const int8_t *out, size_t n, uint64_t images) {
  char err[512] = "";
  int varied = 0;
  for (size_t i = 1; i < n; i++) varied |= out[i] != out[0];
  CHECK(varied);
  nnf_device_figures f;
  CHECK_OK(nnf_device_figures_get(d, &f, err, sizeof err));
  CHECK_EQ_U64(f.images, images);
  CHECK(f.macs > 0);
  nnf_device_close(d);
  return f.bytes_in;
}

/* The quantized network n over x (count rows) on uri, in chunks of at most
 * max_batch: the host's INT forward, then the device's (its boundaries
 * scribbled over first): every planned layer's int8 outputs and the logits
 * equal the host's, and the device really ran (nnf_test_device_ran). The
 * int8 values compared; *batch (if not NULL): the device's chunk. */
static inline size_t nnf_test_device_same(nnf_net *n, const float *x, int count, const char *uri, int max_batch,
                                          const char *what, int *batch) {
  char err[512] = "";
  int L = n->nlayers, C = nnf_net_outputs(n);
  int8_t *host[NNF_MAX_LAYERS + 1];
  float *logits = nnf_test_device_host_int(n, x, count, host);
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  nnf_test_ctx("%s: open %s: %s", what, uri, err);
  CHECK(d != NULL);
  int rc = nnf_device_load(d, n, max_batch, err, sizeof err);
  nnf_test_ctx("%s: load on %s: %s", what, uri, err);
  CHECK_OK(rc);
  if (batch) *batch = nnf_device_batch(d);
  for (int i = 1; i <= L; i++) memset(n->t[i].q, 0x5a, (size_t)count * n->t[i].width);
  rc = nnf_device_forward(d, n, x, count, err, sizeof err);
  nnf_test_ctx("%s: forward on %s: %s", what, uri, err);
  CHECK_OK(rc);
  size_t compared = 0;
  for (int i = 0; i < L; i++) {
    nnf_layer *l = n->layer[i];
    if (!l->ops->plan || l->fused) continue; /* what the device wrote: each planned layer's output */
    nnf_test_ctx("%s: layer %d (%s) outputs, device vs host INT", what, i, l->ops->kind);
    CHECK_MEM_EQ(n->t[i + 1].q, host[i + 1], (size_t)count * n->t[i + 1].width);
    compared += (size_t)count * n->t[i + 1].width;
  }
  nnf_test_ctx("%s: logits", what);
  CHECK_MEM_EQ(n->logits, logits, (size_t)count * C * sizeof(float));
  nnf_test_device_ran(d, host[L], (size_t)count * C, (uint64_t)count);
  nnf_test_device_host_free(host, logits);
  return compared;
}

#endif /* NNF_TEST_DEVICE_H */
