/*
 * fuzz_idx.c - libFuzzer target for the IDX reader: the input is an IDX
 * image, raw or gzip, fed to nnf_idx_parse and nnf_idx_parse_any (the memory
 * path of nnf_idx_read). A parse must either fail with a message or give an
 * array whose count matches its dimensions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_data.h"

static volatile float sink; /* keeps the reads of every value */

static void check(const nnf_idx *a) {
  size_t n = 1;
  for (int i = 0; i < a->ndims; i++) n *= a->dims[i];
  if (a->ndims < 1 || a->ndims > NNF_IDX_MAX_DIMS || n != a->count || !a->data) abort();
  for (size_t i = 0; i < a->count; i++) sink += a->data[i]; /* every value readable */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  nnf_idx a;
  for (int any = 0; any < 2; any++) {
    err[0] = 0;
    int rc = any ? nnf_idx_parse_any(data, size, &a, err, sizeof err)
                 : nnf_idx_parse(data, size, &a, err, sizeof err);
    if (rc == 0) check(&a);
    else if (rc != -1 || !err[0] || a.data) abort();
    nnf_idx_free(&a);
  }
  return 0;
}
