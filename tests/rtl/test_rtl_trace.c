/*
 * test_rtl_trace.c - nnfsim_trace_open writes an FST waveform: a small
 * command traced into a file (argv[1]) gives a non-empty FST file that
 * starts with an FST header block, tracing does not change the results, and
 * a second trace on the same handle works too.
 *
 *   test_rtl_trace <file.fst>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "rtl_harness.h"

static long file_size(const char *path, int *first_byte) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  *first_byte = fgetc(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static void traced_gemm(rtl_h *h, nnf_rng *r, const char *path) {
  nnfm_cmd c;
  memset(&c, 0, sizeof c);
  c.m = 9;
  c.k = 2 * (uint32_t)h->cfg.rows + 1;
  c.n = (uint32_t)h->cfg.cols + 3;
  c.lo = -128;
  c.hi = 127;
  c.lut = 1;
  c.o_base = nnfm_act_words(&h->cfg, c.m, c.k);
  int8_t a[9 * 129], w[129 * 67];
  int32_t b[67], q[67];
  int8_t s[67];
  nnf_rng_fill(r, a, sizeof a);
  nnf_rng_fill(r, w, sizeof w);
  for (int j = 0; j < 67; j++) b[j] = (int32_t)nnf_rng_range(r, -3000, 3000), q[j] = 1 << 30, s[j] = -10;
  CHECK_OK(nnfm_engine_put_act(h->e, 0, a, c.m, c.k));
  CHECK_OK(nnfm_engine_put_weights(h->e, 0, w, c.k, c.n));
  CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, c.n));
  nnf_rng_fill(r, h->e->lut, 256);
  CHECK_OK(nnfsim_trace_open(h->s, path));
  rtl_upload_act_words(h, 0, nnfm_act_words(&h->cfg, c.m, c.k));
  rtl_upload_w_words(h, 0, nnfm_w_words(&h->cfg, c.k, c.n));
  rtl_upload_p_entries(h, 0, nnfm_p_entries(&h->cfg, c.n));
  rtl_upload_lut(h);
  uint64_t macs = 0, mm = 0;
  CHECK_OK(nnfsim_gemm(h->s, &c, 0, NULL, &macs));
  CHECK_OK(nnfm_engine_gemm(h->e, &c, &mm));
  CHECK_EQ_U64(macs, mm);
  rtl_compare_act_words(h, c.o_base, nnfm_p_entries(&h->cfg, c.n) * c.m, "traced output");
  nnfsim_trace_close(h->s);
  int first = -1;
  long n = file_size(path, &first);
  printf("%s: %ld bytes\n", path, n);
  CHECK(n > 64);
  CHECK_EQ(first, 0); /* FST_BL_HDR */
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <file.fst>\n", argv[0]);
    return 2;
  }
  char second[4096];
  snprintf(second, sizeof second, "%s.2.fst", argv[1]);
  remove(argv[1]);
  remove(second);
  rtl_h h;
  rtl_open(&h, 3);
  nnf_rng r = nnf_rng_seed(33);
  nnf_test_ctx("first trace");
  traced_gemm(&h, &r, argv[1]);
  nnf_test_ctx("second trace");
  traced_gemm(&h, &r, second);
  /* closing twice, and destroying with a trace open, are fine */
  nnfsim_trace_close(h.s);
  CHECK_OK(nnfsim_trace_open(h.s, second));
  nnfsim_step(h.s, 3);
  rtl_close(&h);
  int first = -1;
  CHECK(file_size(second, &first) > 64);
  return nnf_test_done(argv[0]);
}
