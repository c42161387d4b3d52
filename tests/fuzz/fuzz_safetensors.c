/*
 * fuzz_safetensors.c - libFuzzer target for the safetensors reader: the
 * input is a whole file image fed to nnf_st_parse. A parse must either fail
 * with a message or give tensors whose every byte is readable, whose names
 * are found again, and whose data sizes add up to at most the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_safetensors.h"

static volatile uint8_t sink; /* keeps the reads of every value */

static uint64_t tensor_bytes(const nnf_st_tensor *t) {
  uint64_t n = nnf_st_dtype_size(t->dtype);
  for (int d = 0; d < t->ndim; d++) n *= (uint64_t)t->shape[d];
  return n;
}

static void check(const nnf_st_file *f, size_t size) {
  uint64_t total = 0;
  for (int i = 0; i < nnf_st_count(f); i++) {
    const nnf_st_tensor *t = nnf_st_get(f, i);
    if (!t || !t->name || !t->data || t->ndim < 0 || t->ndim > NNF_ST_MAX_DIMS) abort();
    if (!nnf_st_dtype_size(t->dtype)) abort();
    const nnf_st_tensor *u = nnf_st_find(f, t->name);
    if (!u || strcmp(u->name, t->name)) abort();
    uint64_t nb = tensor_bytes(t);
    for (uint64_t k = 0; k < nb; k++) sink ^= ((const uint8_t *)t->data)[k];
    total += nb;
  }
  if (total > size) abort();
  (void)nnf_st_meta(f, "format");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  err[0] = 0;
  nnf_st_file *f = nnf_st_parse(data, size, err, sizeof err);
  if (f) check(f, size);
  else if (!err[0]) abort();
  nnf_st_free(f);
  return 0;
}
