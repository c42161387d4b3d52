/*
 * fuzz_csv.c - libFuzzer target for the CSV parser: the input is CSV text,
 * parsed with the label in the last column and in the first, and with float
 * targets (multi-label, regression: 1 or 2 columns, first or last), and as
 * sequences of one line per step (nnf_csv_parse_steps). A parse
 * must either fail with a message or give a dataset whose labels are in
 * range, or whose targets are finite and as many as asked; slicing and
 * shuffling it must work too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_data.h"

static void check(const nnf_dataset *d) {
  if (!d->count || !d->features || d->classes < 2 || !d->x || !d->y) abort();
  for (size_t i = 0; i < d->count; i++)
    if (d->y[i] < 0 || d->y[i] >= d->classes || d->y[i] > 65535) abort();
  nnf_dataset s;
  if (nnf_dataset_slice(d, d->count / 2, d->count, &s)) abort();
  if (s.count != d->count - d->count / 2 || s.features != d->features) abort();
  if (s.count && s.x[s.count * s.features - 1] != d->x[d->count * d->features - 1]) abort();
  nnf_dataset_free(&s);
  uint32_t perm[64];
  size_t n = d->count < 64 ? d->count : 64;
  nnf_shuffle(perm, n, d->count);
  uint64_t seen = 0;
  for (size_t i = 0; i < n; i++) seen |= 1ull << perm[i];
  if (n && seen != (n == 64 ? ~0ull : (1ull << n) - 1)) abort();
}

static void check_targets(const nnf_dataset *d, size_t ntargets) {
  if (!d->count || !d->features || d->classes != 0 || !d->x || !d->y || !d->t) abort();
  if (d->targets != ntargets) abort();
  for (size_t i = 0; i < d->count; i++) {
    if (d->y[i] != 0) abort();
    for (size_t j = 0; j < ntargets; j++)
      if (!isfinite(d->t[i * ntargets + j])) abort();
  }
  nnf_dataset s;
  if (nnf_dataset_slice(d, d->count / 2, d->count, &s)) abort();
  if (s.count != d->count - d->count / 2 || s.targets != ntargets) abort();
  if (s.count && s.t[s.count * ntargets - 1] != d->t[d->count * ntargets - 1]) abort();
  nnf_dataset_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int cols[2] = {-1, 0};
  char err[256];
  for (int k = 0; k < 2; k++) {
    nnf_dataset d;
    err[0] = 0;
    int rc = nnf_csv_parse((const char *)data, size, cols[k], &d, err, sizeof err);
    if (rc == 0) check(&d);
    else if (rc != -1 || !err[0] || d.x || d.y) abort();
    nnf_dataset_free(&d);
  }
  static const int tcols[4][2] = {{-1, 1}, {0, 1}, {-1, 2}, {0, 2}};
  for (int k = 0; k < 4; k++) {
    nnf_dataset d;
    err[0] = 0;
    int rc = nnf_csv_parse_targets((const char *)data, size, tcols[k][0], tcols[k][1], &d, err, sizeof err);
    if (rc == 0) check_targets(&d, (size_t)tcols[k][1]);
    else if (rc != -1 || !err[0] || d.x || d.y || d.t) abort();
    nnf_dataset_free(&d);
  }
  /* sequences of one line per time step: the id first with a label, the id
   * last with one target; T steps of whole lines */
  static const nnf_csv_seq sq[2] = {{0, -1, 0, 0}, {-1, -1, 1, 0}};
  for (int k = 0; k < 2; k++) {
    nnf_dataset d;
    nnf_csv_seq o = sq[k];
    err[0] = 0;
    int rc = nnf_csv_parse_steps((const char *)data, size, &o, &d, err, sizeof err);
    if (rc == 0) {
      if (o.steps < 1 || d.features % (size_t)o.steps) abort();
      if (k) check_targets(&d, 1);
      else check(&d);
    } else if (rc != -1 || !err[0] || d.x || d.y || d.t) {
      abort();
    }
    nnf_dataset_free(&d);
  }
  return 0;
}
