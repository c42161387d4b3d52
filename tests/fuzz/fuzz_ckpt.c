/*
 * fuzz_ckpt.c - libFuzzer target for the checkpoint loaders (host/lib/
 * nnf_ckpt.c): the input is a whole file, written to a temporary file (the
 * loaders take a path) and read by nnf_ckpt_model_kind, nnf_ckpt_load and
 * nnf_ckpt_load_snn.
 *
 * Invariants: each loader either fails with a message or gives a network
 * that it can save again and load back to the same float weights, ranges
 * and int8 tensors (save, then load, is the identity on what a load gives);
 * nnf_ckpt_model_kind says "snn" for every file the spiking loader takes,
 * "mlp" for every file the MLP loader takes; no crash, leak or undefined
 * behaviour (ASan, UBSan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnf_ckpt.h"
#include "nnf_model.h"
#include "nnf_snn.h"

static char in_path[64], out_path[64];

static void cleanup(void) {
  remove(in_path);
  remove(out_path);
}

static void setup(void) {
  if (in_path[0]) return;
  snprintf(in_path, sizeof in_path, "/tmp/fuzz_ckpt_in.%ld", (long)getpid());
  snprintf(out_path, sizeof out_path, "/tmp/fuzz_ckpt_out.%ld", (long)getpid());
  atexit(cleanup);
}

static void put_file(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f)) abort();
}

static int same_bytes(const void *a, const void *b, size_t n) { return n == 0 || !memcmp(a, b, n); }

static int same_dense(const nnf_dense *a, const nnf_dense *b) {
  return a->in == b->in && a->out == b->out && same_bytes(a->w, b->w, (size_t)a->in * a->out * sizeof(float)) &&
         same_bytes(a->b, b->b, (size_t)a->out * sizeof(float));
}

static int same_qlayer(const nnf_qlayer *a, const nnf_qlayer *b, int in, int out) {
  return same_bytes(a->w_kn, b->w_kn, (size_t)in * out) && same_bytes(a->bias, b->bias, (size_t)out * 4) &&
         same_bytes(a->m0, b->m0, (size_t)out * 4) && same_bytes(a->shift, b->shift, (size_t)out) &&
         a->lut == b->lut && (!a->lut || same_bytes(a->table, b->table, 256));
}

static void check_mlp(const nnf_net *n) {
  char err[512] = "";
  if (nnf_ckpt_save(out_path, n, NULL, NULL, 0, err, sizeof err)) abort();
  nnf_net *m = nnf_ckpt_load(out_path, err, sizeof err);
  if (!m || m->nlayers != n->nlayers || m->act != n->act || m->quantized != n->quantized) abort();
  for (int l = 0; l < n->nlayers; l++) {
    if (!same_dense(&n->layer[l], &m->layer[l])) abort();
    if (n->quantized && !same_qlayer(&n->ql[l], &m->ql[l], n->sizes[l], n->sizes[l + 1])) abort();
  }
  for (int l = 0; l <= n->nlayers; l++)
    if (memcmp(&n->q[l].lo, &m->q[l].lo, sizeof(float)) || memcmp(&n->q[l].hi, &m->q[l].hi, sizeof(float)) ||
        n->q[l].seen != m->q[l].seen)
      abort();
  nnf_net_free(m);
}

static void check_snn(const nnf_snn *n) {
  char err[512] = "";
  if (nnf_ckpt_save_snn(out_path, n, NULL, NULL, 0, err, sizeof err)) abort();
  nnf_snn *m = nnf_ckpt_load_snn(out_path, err, sizeof err);
  if (!m || m->nlayers != n->nlayers || memcmp(&m->cfg, &n->cfg, sizeof m->cfg)) abort();
  for (int l = 0; l < n->nlayers; l++) {
    if (!same_dense(&n->layer[l], &m->layer[l]) ||
        !same_qlayer(&n->ql[l], &m->ql[l], n->sizes[l], n->sizes[l + 1]) || n->cur[l].vth != m->cur[l].vth)
      abort();
  }
  nnf_snn_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  setup();
  put_file(in_path, data, size);

  err[0] = 0;
  const char *kind = nnf_ckpt_model_kind(in_path, err, sizeof err);
  if (!kind && !err[0]) abort();

  err[0] = 0;
  nnf_net *n = nnf_ckpt_load(in_path, err, sizeof err);
  if (n) {
    if (!kind || strcmp(kind, "mlp")) abort();
    check_mlp(n);
  } else if (!err[0]) {
    abort();
  }
  nnf_net_free(n);

  err[0] = 0;
  nnf_snn *s = nnf_ckpt_load_snn(in_path, err, sizeof err);
  if (s) {
    if (!kind || strcmp(kind, "snn")) abort();
    check_snn(s);
  } else if (!err[0]) {
    abort();
  }
  nnf_snn_free(s);
  return 0;
}
