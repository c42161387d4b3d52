/*
 * fuzz_ckpt.c - libFuzzer target for the checkpoint loaders (host/lib/
 * nnf_ckpt.c): the input is a whole file, written to a temporary file (the
 * loader takes a path) and read by nnf_ckpt_load (formats 1 and 2, every
 * kind of network).
 *
 * Invariants: the loader either fails with a message or gives a network
 * that it can save again (format 2) and load back to the same architecture,
 * float weights, ranges and int8 tensors (save, then load, is the identity
 * on what a load gives); no crash, leak or undefined behaviour (ASan,
 * UBSan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"

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

static int same_qlayer(const nnf_qlayer *a, const nnf_qlayer *b, int in, int out) {
  return same_bytes(a->w_kn, b->w_kn, (size_t)in * out) && same_bytes(a->bias, b->bias, (size_t)out * 4) &&
         same_bytes(a->m0, b->m0, (size_t)out * 4) && same_bytes(a->shift, b->shift, (size_t)out) &&
         a->lut == b->lut && (!a->lut || same_bytes(a->table, b->table, 256));
}

/* Save, load back: the same architecture, parameters, ranges and int8 model. */
static void check_roundtrip(nnf_net *n) {
  char err[512] = "", a1[2048], a2[2048];
  if (nnf_ckpt_save(out_path, n, NULL, NULL, 0, err, sizeof err)) abort();
  nnf_net *m = nnf_ckpt_load(out_path, err, sizeof err);
  if (!m || m->nlayers != n->nlayers || m->quantized != n->quantized || m->steps != n->steps) abort();
  nnf_net_describe(n, a1, sizeof a1);
  nnf_net_describe(m, a2, sizeof a2);
  if (strcmp(a1, a2)) abort();
  nnf_param pn[4 * NNF_MAX_LAYERS], pm[4 * NNF_MAX_LAYERS];
  int k = nnf_net_params(n, pn, 4 * NNF_MAX_LAYERS, NULL);
  if (k != nnf_net_params(m, pm, 4 * NNF_MAX_LAYERS, NULL)) abort();
  for (int i = 0; i < k; i++)
    if (!same_bytes(pn[i].data, pm[i].data,
                    (size_t)pn[i].shape[0] * (pn[i].ndim > 1 ? (size_t)pn[i].shape[1] : 1) * sizeof(float)))
      abort();
  for (int i = 0; i <= n->nlayers; i++)
    if (memcmp(&n->t[i].r.lo, &m->t[i].r.lo, sizeof(float)) || memcmp(&n->t[i].r.hi, &m->t[i].r.hi, sizeof(float)) ||
        n->t[i].r.seen != m->t[i].r.seen)
      abort();
  /* every Linear layer's int8 form, at its own sizes (after a recurrent
   * layer or a Flatten they are not the ready-made networks' size list) */
  for (int l = 0; n->quantized && l < n->nlayers; l++) {
    const nnf_dense *d = nnf_layer_dense(n->layer[l]);
    if (d && !same_qlayer(nnf_layer_qlayer(n->layer[l]), nnf_layer_qlayer(m->layer[l]), d->in, d->out)) abort();
  }
  nnf_net_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  setup();
  put_file(in_path, data, size);
  err[0] = 0;
  nnf_net *n = nnf_ckpt_load(in_path, err, sizeof err);
  if (n) check_roundtrip(n);
  else if (!err[0]) abort();
  nnf_net_free(n);
  return 0;
}
