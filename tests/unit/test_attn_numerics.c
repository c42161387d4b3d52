/*
 * test_attn_numerics.c - the integer rules of attention (sim/model/nnfm_attn.c,
 * docs/numerics.md "Softmax", "LayerNorm", "Attention"):
 *   - gemmlowp's fixed-point primitives on worked values;
 *   - softmax against TFLite's reference kernel, exactly
 *     (tests/data/softmax_ref.json, scripts/gen_softmax_ref.py);
 *   - the table form (the device's) equal to the direct computation on
 *     every input difference, at many scales and betas, and on random rows;
 *   - the floor square root, exhaustively to 2^24 and on random 64-bit values;
 *   - LayerNorm against float LayerNorm within the documented bound, its
 *     corners (all equal, saturated inputs, d = 1 and 1024);
 *   - the product of two activations against a direct sum.
 * Prints the error figures docs/numerics.md quotes.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "nnf_test.h"
#include "nnfm.h"
#include "nnfm_attn.h"

static uint64_t below(nnf_rng *r, uint64_t n) { return (uint64_t)nnf_rng_range(r, 0, (int64_t)n - 1); }

static void test_fixed_point(void) {
  CHECK_EQ(nnfm_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
  CHECK_EQ(nnfm_srdhm(1 << 30, 1 << 30), 1 << 29);
  CHECK_EQ(nnfm_srdhm(3, 1 << 30), 2);   /* 1.5 -> 2: ties toward +infinity */
  CHECK_EQ(nnfm_srdhm(-3, 1 << 30), -1); /* -1.5 -> -1 */
  CHECK_EQ(nnfm_srdhm(1, 1 << 30), 1);   /* 0.5 -> 1 */
  CHECK_EQ(nnfm_srdhm(-1, 1 << 30), 0);  /* -0.5 -> 0 */
  CHECK_EQ(nnfm_srdhm(-5, 1 << 29), -1); /* -1.25 -> -1 */
  CHECK_EQ(nnfm_rdbpot(3, 1), 2);
  CHECK_EQ(nnfm_rdbpot(-3, 1), -2);
  CHECK_EQ(nnfm_rdbpot(5, 2), 1);
  CHECK_EQ(nnfm_rdbpot(-6, 2), -2);
  CHECK_EQ(nnfm_rdbpot(INT32_MAX, 12), 1 << 19);
  CHECK_EQ(nnfm_rdbpot(INT32_MAX, 32), 0);
  CHECK_EQ(nnfm_rdbpot(INT32_MIN, 31), -1);
  CHECK_EQ(nnfm_sat_shl(1 << 29, 1), 1 << 30);
  CHECK_EQ(nnfm_sat_shl(1 << 30, 1), INT32_MAX);
  CHECK_EQ(nnfm_sat_shl(-(1 << 30), 2), INT32_MIN);
  CHECK_EQ(nnfm_exp_on_negative_values(0), INT32_MAX);
  /* exp(x) within a few units of 2^-31 over (-32, 0] */
  double worst = 0;
  for (int32_t a = -(31 << 26); a < 0; a += 9973) {
    double got = nnfm_exp_on_negative_values(a) / 2147483648.0, want = exp(a / 67108864.0);
    worst = fabs(got - want) > worst ? fabs(got - want) : worst;
  }
  CHECK(worst < 3e-7); /* the series to x^4 on [-1/4, 0): (1/8)^5 / 120 */
  /* 1 / (1 + x) */
  for (int32_t a = 0; a < INT32_MAX - 7777777; a += 7777777) {
    double got = nnfm_one_over_one_plus_x(a) / 2147483648.0, want = 1.0 / (1.0 + a / 2147483648.0);
    CHECK(fabs(got - want) < 3e-8);
  }
  printf("exp_on_negative_values: max error %.3g over (-31, 0)\n", worst);
}

/* ---- softmax ---------------------------------------------------------------------------- */

static cJSON *load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, name);
  char *text = nnf_test_read_text(path);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  free(text);
  CHECK(root != NULL);
  return root;
}

static void test_softmax_tflite(void) {
  cJSON *root = load("softmax_ref.json");
  const cJSON *c;
  int cases = 0, rows = 0, outputs = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
    double scale = cJSON_GetObjectItemCaseSensitive(c, "scale")->valuedouble;
    double beta = cJSON_GetObjectItemCaseSensitive(c, "beta")->valuedouble;
    int n = cJSON_GetObjectItemCaseSensitive(c, "n")->valueint;
    nnfm_softmax_params p;
    int32_t table[256];
    CHECK_OK(nnfm_softmax_prepare(scale, beta, &p));
    CHECK_OK(nnfm_softmax_table(&p, table));
    const cJSON *xr = cJSON_GetObjectItemCaseSensitive(c, "x")->child, *yr = cJSON_GetObjectItemCaseSensitive(c, "y")->child;
    for (; xr && yr; xr = xr->next, yr = yr->next, rows++) {
      int8_t x[300], want[300], got[300], ref[300];
      CHECK_EQ(cJSON_GetArraySize(xr), n);
      CHECK(n <= 300);
      for (int j = 0; j < n; j++) {
        x[j] = (int8_t)cJSON_GetArrayItem(xr, j)->valueint;
        want[j] = (int8_t)cJSON_GetArrayItem(yr, j)->valueint;
      }
      nnf_test_ctx("case %d (scale %g, beta %g, n %d, %s) row %d", cases, scale, beta, n,
                   cJSON_GetObjectItemCaseSensitive(c, "kind")->valuestring, rows);
      CHECK_OK(nnfm_softmax(table, x, n, got));
      CHECK_OK(nnfm_softmax_ref(&p, x, n, ref));
      CHECK_MEM_EQ(got, want, (size_t)n);
      CHECK_MEM_EQ(ref, want, (size_t)n);
      outputs += n;
    }
    cases++;
  }
  nnf_test_ctx("");
  CHECK(cases >= 200);
  printf("softmax: %d cases, %d rows, %d outputs equal to TFLite's reference kernel\n", cases, rows, outputs);
  cJSON_Delete(root);
}

/* The table form against the direct one: every difference 0..255 appears
 * in a row beside the maximum, at scales from 2^-12 to 2^6 and several
 * betas; then random rows. Also the error against float softmax. */
static void test_softmax_table(void) {
  nnf_rng r = nnf_rng_seed(26);
  int scales = 0;
  double worst = 0, sum_err = 0;
  long cnt = 0;
  static const double betas[] = {1.0, 0.5, 2.0, 0.1};
  for (int b = 0; b < 4; b++)
    for (double s = 1.0 / 4096; s <= 64; s *= 1.0905077326652577 /* 2^(1/8) */) {
      nnfm_softmax_params p;
      int32_t table[256];
      if (nnfm_softmax_prepare(s, betas[b], &p) != NNFM_OK) {
        CHECK(betas[b] * s * 67108864.0 <= 1.0);
        continue;
      }
      CHECK_OK(nnfm_softmax_table(&p, table));
      scales++;
      nnf_test_ctx("scale %g beta %g", s, betas[b]);
      for (int i = 0; i < 256; i++) {
        int8_t x[3] = {127, (int8_t)(127 - i), -128}, got[3], ref[3];
        CHECK_OK(nnfm_softmax(table, x, 3, got));
        CHECK_OK(nnfm_softmax_ref(&p, x, 3, ref));
        CHECK_MEM_EQ(got, ref, 3);
        if (-i < p.diff_min) CHECK_EQ(table[i], 0); /* the differences below diff_min are dropped */
      }
      for (int k = 0; k < 20; k++) {
        int n = 1 + (int)below(&r, 300);
        int8_t x[300], got[300], ref[300];
        int spread = 1 + (int)below(&r, 256);
        int base = (int)below(&r, 256) - 128;
        for (int j = 0; j < n; j++) x[j] = (int8_t)nnfm_clamp(base + (int)below(&r, (uint64_t)spread), -128, 127);
        CHECK_OK(nnfm_softmax(table, x, n, got));
        CHECK_OK(nnfm_softmax_ref(&p, x, n, ref));
        CHECK_MEM_EQ(got, ref, (size_t)n);
        if (betas[b] != 1.0 || s < 0.01 || s > 1) continue;
        /* error against the float softmax of the dequantized row, in 1/256 steps */
        double mx = -1e9, z = 0;
        for (int j = 0; j < n; j++) mx = x[j] * s > mx ? x[j] * s : mx;
        for (int j = 0; j < n; j++) z += exp(x[j] * s - mx);
        for (int j = 0; j < n; j++) {
          double e = fabs((got[j] + 128) - 256.0 * exp(x[j] * s - mx) / z);
          worst = e > worst ? e : worst;
          sum_err += e, cnt++;
        }
      }
    }
  nnf_test_ctx("");
  CHECK(scales > 400);
  CHECK(worst <= 1.0); /* documented: within one step of 1/256 of float */
  printf("softmax: table form == direct form at %d (scale, beta) pairs; vs float: max %.3f, mean %.4f steps of 1/256\n",
         scales, worst, sum_err / (double)cnt);
}

static void test_softmax_corners(void) {
  nnfm_softmax_params p;
  int32_t table[256];
  CHECK_OK(nnfm_softmax_prepare(0.1, 1.0, &p));
  CHECK_OK(nnfm_softmax_table(&p, table));
  int8_t x[300], y[300];
  /* all equal: 1/n */
  static const struct { int n; int8_t want; } eq[] = {{1, 127}, {2, 0}, {4, -64}, {8, -96}, {256, -127}, {300, -127}};
  for (size_t k = 0; k < sizeof eq / sizeof eq[0]; k++) {
    memset(x, 42, sizeof x);
    CHECK_OK(nnfm_softmax(table, x, eq[k].n, y));
    for (int j = 0; j < eq[k].n; j++) CHECK_EQ(y[j], eq[k].want);
  }
  /* saturated: one 127 over -128s at 0.1 (difference 25.5: exp(-25.5) is 0) */
  memset(x, -128, sizeof x);
  x[7] = 127;
  CHECK_OK(nnfm_softmax(table, x, 28, y));
  for (int j = 0; j < 28; j++) CHECK_EQ(y[j], j == 7 ? 127 : -128);
  /* refusals */
  CHECK_EQ(nnfm_softmax(table, x, 0, y), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_softmax(table, x, 4096, y), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_softmax_prepare(0.0, 1.0, &p), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_softmax_prepare(1e-9, 1.0, &p), NNFM_ERR_RANGE); /* beta s 2^26 <= 1 */
  CHECK_EQ(nnfm_softmax_prepare(NAN, 1.0, &p), NNFM_ERR_RANGE);
  /* TFLite's cap: beta s 2^26 >= 2^31 - 1 keeps only the maximum */
  CHECK_OK(nnfm_softmax_prepare(40.0, 1.0, &p));
  CHECK_EQ(p.left_shift, 31);
  CHECK_EQ(p.diff_min, 0);
}

/* ---- square root --------------------------------------------------------------------------- */

static void check_isqrt(uint64_t v) {
  unsigned __int128 r = nnfm_isqrt(v);
  CHECK(r * r <= v);
  CHECK((r + 1) * (r + 1) > v);
}

static void test_isqrt(void) {
  for (uint32_t v = 0; v <= (1u << 24); v++) {
    uint64_t r = nnfm_isqrt(v);
    if (r * r > v || (r + 1) * (r + 1) <= v) CHECK_EQ(r, (uint64_t)floor(sqrt((double)v)));
  }
  check_isqrt(UINT64_MAX);
  CHECK_EQ(nnfm_isqrt(UINT64_MAX), 4294967295u);
  nnf_rng r = nnf_rng_seed(7);
  for (int k = 0; k < 200000; k++) {
    uint64_t v = nnf_rng_u64(&r) >> (below(&r, 64));
    check_isqrt(v);
    uint64_t s = nnf_rng_u64(&r) >> 32; /* squares and their neighbours */
    check_isqrt(s * s);
    check_isqrt(s * s - 1);
    CHECK_EQ(nnfm_isqrt(s * s), s);
  }
  printf("isqrt: exhaustive to 2^24, 800000 random 64-bit values\n");
}

/* ---- LayerNorm ------------------------------------------------------------------------------- */

typedef struct {
  int32_t m0[1024], bias[1024];
  int8_t shift[1024], sign[1024];
  nnfm_layernorm_params p;
} ln_store;

static void ln_bind(ln_store *s) {
  s->p.m0 = s->m0, s->p.shift = s->shift, s->p.sign = s->sign, s->p.bias = s->bias;
}

/* The float LayerNorm of the dequantized row, in output steps (not rounded). */
static void ln_float(const int8_t *x, int d, double s_in, int32_t zp_in, double eps, const float *g, const float *b,
                     double s_out, int32_t zp_out, double *out) {
  double m = 0, v = 0;
  for (int j = 0; j < d; j++) m += (x[j] - zp_in) * s_in;
  m /= d;
  for (int j = 0; j < d; j++) v += ((x[j] - zp_in) * s_in - m) * ((x[j] - zp_in) * s_in - m);
  v /= d;
  for (int j = 0; j < d; j++) out[j] = (((x[j] - zp_in) * s_in - m) / sqrt(v + eps) * g[j] + b[j]) / s_out + zp_out;
}

static void test_layernorm(void) {
  static ln_store s;
  ln_bind(&s);
  nnf_rng r = nnf_rng_seed(2026);
  static const int dims[] = {1, 2, 3, 7, 16, 28, 64, 128, 333, 1024};
  double worst = 0, sum = 0;
  long cnt = 0, exact = 0;
  for (int t = 0; t < 600; t++) {
    int d = dims[t % 10];
    double s_in = 0.005 * pow(2.0, (double)below(&r, 8)), eps = t % 3 ? 1e-5 : 1e-3;
    int32_t zp_in = (int32_t)below(&r, 256) - 128, zp_out = (int32_t)below(&r, 61) - 30;
    float g[1024], b[1024];
    for (int j = 0; j < d; j++) {
      g[j] = (float)(0.2 + 1.6 * nnf_rng_unit(&r)) * (below(&r, 8) ? 1.0f : -1.0f);
      b[j] = (float)(nnf_rng_unit(&r) - 0.5);
    }
    double s_out = (3.0 + 2.0 * nnf_rng_unit(&r)) / 127.0;
    int8_t x[1024], y[1024];
    int spread = 2 + (int)below(&r, 255);
    int base = (int)below(&r, (uint64_t)(257 - spread)) - 128;
    for (int j = 0; j < d; j++) x[j] = (int8_t)(base + (int)below(&r, (uint64_t)spread));
    nnf_test_ctx("layernorm trial %d (d %d, s_in %g, zp %d)", t, d, s_in, zp_in);
    CHECK_OK(nnfm_layernorm_prepare(d, s_in, eps, g, b, s_out, zp_out, &s.p));
    CHECK_OK(nnfm_layernorm(&s.p, x, zp_in, y));
    double want[1024];
    ln_float(x, d, s_in, zp_in, eps, g, b, s_out, zp_out, want);
    for (int j = 0; j < d; j++) {
      double w = want[j] < -128 ? -128 : want[j] > 127 ? 127 : want[j];
      double e = fabs(y[j] - w);
      worst = e > worst ? e : worst;
      sum += e, cnt++;
      exact += y[j] == nnfm_quantize_real(want[j] - zp_out, 1.0, zp_out, -128, 127);
    }
  }
  nnf_test_ctx("");
  CHECK(worst <= 0.52); /* documented bound: the output rounding (0.5) plus 0.02 of a step */
  printf("layernorm: vs float max %.3f, mean %.4f output steps; %.2f %% equal to float rounded (%ld outputs)\n", worst,
         sum / (double)cnt, 100.0 * (double)exact / (double)cnt, cnt);

  /* corners: all equal -> beta; saturated inputs at d = 1024; d = 1 */
  float g[1024], b[1024];
  for (int j = 0; j < 1024; j++) g[j] = 1.5f, b[j] = 0.25f;
  int8_t x[1024], y[1024];
  memset(x, 127, sizeof x);
  CHECK_OK(nnfm_layernorm_prepare(64, 0.1, 1e-5, g, b, 1.0 / 32, 3, &s.p));
  CHECK_OK(nnfm_layernorm(&s.p, x, -5, y));
  for (int j = 0; j < 64; j++) CHECK_EQ(y[j], 3 + 8); /* 0.25 / (1/32) = 8 */
  s.p.eps_q = 0; /* all equal with no eps: the normalised value is 0 (no division by zero) */
  CHECK_OK(nnfm_layernorm(&s.p, x, -5, y));
  CHECK_EQ(y[0], 11);
  for (int j = 0; j < 1024; j++) x[j] = j % 2 ? 127 : -128; /* the widest row: |xhat| = 1 */
  CHECK_OK(nnfm_layernorm_prepare(1024, 1.0, 0.0, g, b, 1.0 / 32, 0, &s.p));
  CHECK_OK(nnfm_layernorm(&s.p, x, -128, y));
  CHECK_EQ(y[0], -40);
  CHECK_EQ(y[1], 56); /* (1.5 + 0.25) * 32 */
  memset(x, -128, sizeof x); /* one outlier in 1024: |xhat| = sqrt(1023), the largest a row makes */
  x[5] = 127;
  for (int j = 0; j < 1024; j++) g[j] = 1.0f, b[j] = 0.0f;
  CHECK_OK(nnfm_layernorm_prepare(1024, 1.0, 0.0, g, b, 0.25, 0, &s.p));
  CHECK_OK(nnfm_layernorm(&s.p, x, 0, y));
  CHECK_EQ(y[5], 127);                     /* 31.98 / 0.25 saturates */
  CHECK_EQ(y[0], nnfm_quantize_real(-1.0 / sqrt(1023.0) / 0.25, 1.0, 0, -128, 127));
  CHECK_OK(nnfm_layernorm_prepare(1, 1.0, 1e-5, g, b, 0.25, 0, &s.p));
  CHECK_OK(nnfm_layernorm(&s.p, x + 5, 0, y));
  CHECK_EQ(y[0], 0);
  CHECK_EQ(nnfm_layernorm_prepare(1025, 1.0, 1e-5, g, b, 0.25, 0, &s.p), NNFM_ERR_RANGE);
  g[3] = NAN;
  CHECK_EQ(nnfm_layernorm_prepare(8, 1.0, 1e-5, g, b, 0.25, 0, &s.p), NNFM_ERR_RANGE);
}

/* ---- the product of two activations ------------------------------------------------------------ */

static void test_matmul_act(void) {
  nnf_rng r = nnf_rng_seed(99);
  for (int t = 0; t < 200; t++) {
    int M = 1 + (int)below(&r, 9), K = 1 + (int)below(&r, 40), N = 1 + (int)below(&r, 9);
    int8_t a[9 * 40], b[40 * 9], out[81];
    for (int i = 0; i < M * K; i++) a[i] = (int8_t)below(&r, 256);
    for (int i = 0; i < K * N; i++) b[i] = (int8_t)below(&r, 256);
    nnfm_matmul_args g = {M, K, N, (int32_t)below(&r, 256) - 128, t % 2 ? 0 : -128, 0, 0, -5, -128, 127};
    CHECK_OK(nnfm_quantize_multiplier(0.0007 * (1 + t % 7), &g.m0, &g.shift));
    int trans = t % 3 == 0; /* b as an N x K matrix read transposed (K^T) */
    CHECK_OK(nnfm_matmul_act(&g, a, K, b, trans ? 1 : N, trans ? K : 1, out, N));
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++) {
        int32_t acc = 0;
        for (int k = 0; k < K; k++) acc += (a[m * K + k] - g.za) * (b[trans ? n * K + k : k * N + n] - g.zb);
        CHECK_EQ(out[m * N + n], nnfm_requantize(acc, g.m0, g.shift, g.zp, g.lo, g.hi));
      }
  }
  nnfm_matmul_args bad = {1, 1, 1, 0, 0, 1 << 30, 40, 0, -128, 127};
  int8_t v = 1, o;
  CHECK_EQ(nnfm_matmul_act(&bad, &v, 1, &v, 1, 1, &o, 1), NNFM_ERR_RANGE);
}

int main(void) {
  test_fixed_point();
  test_softmax_tflite();
  test_softmax_table();
  test_softmax_corners();
  test_isqrt();
  test_layernorm();
  test_matmul_act();
  return nnf_test_done("test_attn_numerics");
}
