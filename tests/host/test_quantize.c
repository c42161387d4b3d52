/*
 * test_quantize.c - post-training calibration (nnf_calib.h, `nnfpga
 * quantize`, `import --calib`):
 *
 *   - the observer strings and their refusals;
 *   - nnf_percentile_range against a full sort on seeded values (ties,
 *     signs, zeros, one value, P = 100): the exact order statistics;
 *   - min/max calibration of the committed ONNX MLP gives the int8 model the
 *     import gave before nnf_calib (nnf_net_observe + nnf_net_quantize),
 *     bit for bit, and forgets earlier observations; percentile:100 equals
 *     min/max; percentile:P sets every observed range to the order
 *     statistics of the values the float pass put there, and leaves the
 *     fixed ones (tanh's output) alone;
 *   - a spiking network is refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_calib.h"
#include "nnf_data.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnf_test.h"

#define NCAL 256

static void observers(void) {
  nnf_observer o;
  char err[256], d[64];
  CHECK_OK(nnf_observer_parse("minmax", &o, err, sizeof err));
  CHECK_EQ(o.kind, NNF_OBSERVER_MINMAX);
  nnf_observer_describe(&o, d, sizeof d);
  CHECK(!strcmp(d, "min/max"));
  CHECK_OK(nnf_observer_parse("percentile", &o, err, sizeof err));
  CHECK(o.kind == NNF_OBSERVER_PERCENTILE && o.percentile == NNF_PERCENTILE_DEFAULT);
  nnf_observer_describe(&o, d, sizeof d);
  CHECK(!strcmp(d, "percentile 99.99"));
  CHECK_OK(nnf_observer_parse("percentile:99.9", &o, err, sizeof err));
  CHECK(o.percentile == 99.9);
  CHECK_OK(nnf_observer_parse("percentile:100", &o, err, sizeof err));
  const char *bad[] = {"", "max", "percentile:", "percentile:50", "percentile:101", "percentile:99x", "percentiles",
                       "percentile:nan"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    nnf_test_ctx("'%s'", bad[i]);
    CHECK_EQ(nnf_observer_parse(bad[i], &o, err, sizeof err), -1);
  }
  nnf_observer_parse("max", &o, err, sizeof err);
  CHECK(!strcmp(err, "observer 'max': minmax, percentile or percentile:P"));
  nnf_observer_parse("percentile:101", &o, err, sizeof err);
  CHECK(!strcmp(err, "observer 'percentile:101': P of percentile:P is a number in (50, 100], e.g. percentile:99.99"));
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The expected m of the definition, in exact integer arithmetic for P given
 * in hundredths: m = floor((10000 - P100) * cnt / 10^4). */
static size_t m_of(int p100, size_t cnt) { return (size_t)((10000 - p100) * (unsigned long long)cnt / 10000); }

static void percentiles(void) {
  nnf_rng r = nnf_rng_seed(7);
  const size_t sizes[] = {1, 2, 3, 10, 99, 1000, 10000, 65537};
  const int p100s[] = {10000, 9999, 9990, 9900, 9500, 5100};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t cnt = sizes[si];
    float *v = malloc(cnt * sizeof *v), *s = malloc(cnt * sizeof *s);
    for (size_t i = 0; i < cnt; i++) {
      /* values with ties, both signs, both zeros, wide exponents */
      int kind = (int)nnf_rng_range(&r, 0, 5);
      v[i] = kind == 0   ? (float)nnf_rng_range(&r, -3, 3)
             : kind == 1 ? -0.0f
             : kind == 2 ? (float)((nnf_rng_unit(&r) - 0.5) * 1e-30)
                         : (float)((nnf_rng_unit(&r) - 0.3) * pow(10, (double)nnf_rng_range(&r, -5, 5)));
    }
    memcpy(s, v, cnt * sizeof *v);
    qsort(s, cnt, sizeof *s, cmp_float);
    for (size_t pi = 0; pi < sizeof p100s / sizeof *p100s; pi++) {
      float lo, hi;
      size_t m;
      CHECK_OK(nnf_percentile_range(v, cnt, p100s[pi] / 100.0, &lo, &hi, &m));
      size_t want = m_of(p100s[pi], cnt);
      if (want > (cnt - 1) / 2) want = (cnt - 1) / 2;
      nnf_test_ctx("cnt %zu, P %d/100: m %zu (want %zu), lo %g (want %g), hi %g (want %g)", cnt, p100s[pi], m, want,
                   lo, s[want], hi, s[cnt - 1 - want]);
      CHECK_EQ(m, want);
      /* equal as values (a -0 and a 0 compare equal, as the sort leaves them) */
      CHECK(lo == s[want] && hi == s[cnt - 1 - want]);
    }
    free(v);
    free(s);
  }
}

/* ---- calibrating the committed ONNX MLP ------------------------------------------ */

static nnf_dataset cal;

static nnf_net *onnx_mlp(void) {
  char err[512];
  nnf_net *n = nnf_import_file(NNF_TEST_DATA "/import_mlp.onnx", NULL, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  return n;
}

/* Every int8 tensor of the Linear layers and the boundaries' quantization equal. */
static void same_int8(nnf_net *a, nnf_net *b) {
  for (int i = 0; i <= a->nlayers; i++) {
    nnf_test_ctx("boundary %d", i);
    CHECK(a->t[i].r.scale == b->t[i].r.scale);
    CHECK_EQ(a->t[i].r.zp, b->t[i].r.zp);
  }
  for (int k = 0; k < nnf_net_linears(a); k++) {
    nnf_qlayer *p = nnf_net_qlayer(a, k), *q = nnf_net_qlayer(b, k);
    int in = nnf_net_size(a, k), out = nnf_net_size(a, k + 1);
    nnf_test_ctx("Linear %d", k);
    CHECK_MEM_EQ(p->w_kn, q->w_kn, (size_t)in * out);
    CHECK_MEM_EQ(p->bias, q->bias, (size_t)out * sizeof(int32_t));
    CHECK_MEM_EQ(p->m0, q->m0, (size_t)out * sizeof(int32_t));
    CHECK_MEM_EQ(p->shift, q->shift, (size_t)out);
    CHECK_MEM_EQ(p->table, q->table, sizeof p->table);
  }
}

static void minmax(void) {
  char err[512];
  nnf_observer mm = {NNF_OBSERVER_MINMAX, 0}, p100 = {NNF_OBSERVER_PERCENTILE, 100.0};
  nnf_net *old = onnx_mlp(), *a = onnx_mlp(), *b = onnx_mlp();
  /* what import --calib did before nnf_calib */
  CHECK_OK(nnf_net_observe(old, cal.x, NCAL, 1));
  CHECK_OK(nnf_net_quantize(old, err, sizeof err));
  /* an earlier observation on other data is forgotten */
  CHECK_OK(nnf_net_observe(a, cal.x + (size_t)NCAL * 784, 64, 1));
  nnf_test_ctx("%s", err);
  CHECK_OK(nnf_calibrate(a, cal.x, NCAL, &mm, err, sizeof err));
  CHECK_OK(nnf_calibrate(b, cal.x, NCAL, &p100, err, sizeof err));
  CHECK_EQ(a->quantized, 1);
  same_int8(old, a);
  same_int8(old, b);
  nnf_net_free(old), nnf_net_free(a), nnf_net_free(b);
}

static void percentile(void) {
  char err[512];
  nnf_observer p = {NNF_OBSERVER_PERCENTILE, 99.0};
  nnf_net *n = onnx_mlp(), *ref = onnx_mlp();
  nnf_test_ctx("%s", err);
  CHECK_OK(nnf_calibrate(n, cal.x, NCAL, &p, err, sizeof err));
  CHECK_OK(nnf_net_observe(ref, cal.x, NCAL, 1)); /* the same float pass: ref's boundaries hold its values */
  int clipped = 0;
  for (int i = 0; i <= ref->nlayers; i++) {
    const nnf_tensor *t = &ref->t[i];
    nnf_test_ctx("boundary %d", i);
    if (t->r.fixed) { /* tanh's output: TFLite's fixed quantization */
      CHECK(n->t[i].r.fixed && n->t[i].r.scale == 1.0 / 128 && n->t[i].r.zp == 0);
      continue;
    }
    if (!t->r.seen) continue; /* a Flatten's (its input's), a Linear's whose ReLU quantizes it */
    size_t cnt = (size_t)NCAL * t->width, m = cnt / 100;
    float *s = malloc(cnt * sizeof *s);
    memcpy(s, t->f, cnt * sizeof *s);
    qsort(s, cnt, sizeof *s, cmp_float);
    CHECK(n->t[i].r.lo == s[m] && n->t[i].r.hi == s[cnt - 1 - m]);
    clipped += n->t[i].r.hi < t->r.hi;
    free(s);
  }
  /* observed: the input, the ReLU's output, the pre-activation of the tanh
   * (its LUT's input) and the logits; the tanh's output is fixed */
  CHECK_EQ(clipped, 4);
  CHECK_EQ(n->quantized, 1);
  nnf_net_free(n), nnf_net_free(ref);
}

static void spiking(void) {
  char err[512];
  int sizes[3] = {784, 16, 10};
  nnf_snn_config c = nnf_snn_defaults();
  nnf_net *n = nnf_snn_create(sizes, 3, &c, 1, err, sizeof err);
  CHECK(n != NULL);
  nnf_observer mm = {NNF_OBSERVER_MINMAX, 0};
  CHECK_EQ(nnf_calibrate(n, cal.x, 4, &mm, err, sizeof err), -1);
  CHECK(strstr(err, "a spiking network has no float forward to calibrate on") == err);
  nnf_net_free(n);
}

int main(void) {
  char err[512];
  observers();
  percentiles();
  nnf_test_ctx("%s", err);
  CHECK_OK(nnf_dataset_load_mnist_dir(NNF_FASHION_DIR, 1, &cal, err, sizeof err));
  minmax();
  percentile();
  spiking();
  nnf_dataset_free(&cal);
  return nnf_test_done("test_quantize");
}
