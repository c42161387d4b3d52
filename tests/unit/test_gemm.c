/*
 * test_gemm.c - nnfm_gemm (plain row-major GEMM) against a naive reference
 * written here (int64 sums wrapped to int32 at the end, the requantize
 * formula spelled out), on hand cases and seeded random cases; argument
 * refusals; and nnfm_fold_input_zp (the host's input zero point).
 */
#include <math.h>

#include "nnf_test.h"
#include "nnfm.h"

/* ---- the reference ---------------------------------------------------------- */

/* s mod 2^32 as an int32 (two's complement), without relying on casts */
static int32_t wrap32(int64_t s) {
  int64_t r = s % 4294967296LL; /* (-2^32, 2^32) */
  if (r < 0) r += 4294967296LL;
  return r >= 2147483648LL ? (int32_t)(r - 4294967296LL) : (int32_t)r;
}

static int8_t ref_out(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo, int32_t hi,
                      const int8_t *lut) {
  int k = 31 - shift;
  int64_t y = ((int64_t)acc * m0 + ((int64_t)1 << (k - 1))) >> k; /* gcc: arithmetic */
  y += zp;
  y = y < lo ? lo : y > hi ? hi : y;
  return lut ? lut[(uint8_t)(int8_t)y] : (int8_t)y;
}

/* acc[i][j] = bias[j] + sum_k (a[i][k] - zp_in) * w[k][j], wrapped */
static int32_t ref_acc(int K, int N, const int8_t *arow, const int8_t *w, int32_t bias_j,
                       int64_t zp_in, int j) {
  int64_t s = bias_j;
  for (int k = 0; k < K; k++) s += ((int64_t)arow[k] - zp_in) * w[(size_t)k * N + j];
  return wrap32(s);
}

static void ref_gemm(const nnfm_gemm_args *g, const int8_t *a, const int8_t *w,
                     const int32_t *bias, const int32_t *m0, const int8_t *shift, int8_t *y) {
  for (int i = 0; i < g->m; i++)
    for (int j = 0; j < g->n; j++) {
      int32_t acc = ref_acc(g->k, g->n, a + (size_t)i * g->k, w, bias[j], 0, j);
      y[(size_t)i * g->n + j] = ref_out(acc, m0[j], shift[j], g->out_zp, g->lo, g->hi, g->lut);
    }
}

/* ---- hand cases ------------------------------------------------------------- */

static void test_hand(void) {
  /* a: 2 x 3, w: 3 x 2 */
  const int8_t a[6] = {1, 2, 3, -4, 5, -6};
  const int8_t w[6] = {1, -1, 2, 0, 3, 1};
  const int32_t bias[2] = {10, -10};
  const int32_t m0[2] = {1 << 30, 1 << 30};
  const int8_t shift[2] = {1, 0}; /* multipliers 1.0 and 0.5 */
  int8_t y[4];
  nnfm_gemm_args g = {2, 3, 2, 3, -128, 127, NULL, NNFM_ROUND_SINGLE};
  /* sums + bias: [[24, -8], [-2, -12]]; times [1, 0.5]: [[24, -4], [-2, -6]]; + zp 3 */
  CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
  const int8_t want[4] = {27, -1, 1, -3};
  CHECK_MEM_EQ(y, want, 4);

  /* ReLU as a clamp at zp */
  g.lo = 3;
  CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
  const int8_t want_relu[4] = {27, 3, 3, 3};
  CHECK_MEM_EQ(y, want_relu, 4);

  /* LUT after the clamp: lut[x] = -x (x > -128) */
  int8_t lut[256];
  for (int i = 0; i < 256; i++) lut[i] = (int8_t)(i < 128 ? -i : i == 128 ? 127 : 256 - i);
  g.lo = -128;
  g.lut = lut;
  CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
  const int8_t want_lut[4] = {-27, 1, -1, 3};
  CHECK_MEM_EQ(y, want_lut, 4);
}

static void test_wrap(void) {
  /* 127*127*2 = 32258 added to INT32_MAX - 100 wraps to a large negative */
  const int8_t a[2] = {127, 127}, w[2] = {127, 127};
  const int32_t bias = INT32_MAX - 100, m0 = 1 << 30;
  const int8_t shift = 1;
  int8_t y = 0;
  nnfm_gemm_args g = {1, 2, 1, 0, -128, 127, NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&g, a, w, &bias, &m0, &shift, &y));
  CHECK_EQ(y, -128); /* a saturating accumulator would give 127 */
  CHECK_EQ(nnfm_acc_add(nnfm_acc_add(bias, 16129), 16129), INT32_MIN + 32258 - 101);
  /* and back: a negative bias wraps up */
  const int8_t an[2] = {-128, -128};
  const int32_t bn = INT32_MIN + 100;
  CHECK_OK(nnfm_gemm(&g, an, w, &bn, &m0, &shift, &y));
  CHECK_EQ(y, 127);
}

static void test_zero_sizes(void) {
  const int32_t bias[3] = {-1000, 7, 1000}, m0[3] = {1 << 30, 1 << 30, 1 << 30};
  const int8_t shift[3] = {1, 1, 1};
  int8_t y[6] = {9, 9, 9, 9, 9, 9};
  /* K = 0: y = requantize(bias) */
  nnfm_gemm_args g = {2, 0, 3, 1, -128, 127, NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&g, NULL, NULL, bias, m0, shift, y));
  const int8_t want[6] = {-128, 8, 127, -128, 8, 127};
  CHECK_MEM_EQ(y, want, 6);
  /* M = 0 and N = 0: nothing written, NULL matrices allowed */
  int8_t z = 55;
  g.m = 0;
  g.k = 4;
  CHECK_OK(nnfm_gemm(&g, NULL, (const int8_t *)"abcdefghijkl", bias, m0, shift, NULL));
  g.m = 2;
  g.n = 0;
  CHECK_OK(nnfm_gemm(&g, (const int8_t *)"abcdefgh", NULL, NULL, NULL, NULL, NULL));
  g.m = 0;
  g.k = 0;
  CHECK_OK(nnfm_gemm(&g, NULL, NULL, NULL, NULL, NULL, &z));
  CHECK_EQ(z, 55);
}

static void test_refusals(void) {
  const int8_t a[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1};
  int32_t bias[2] = {0, 0}, m0[2] = {1 << 30, 1 << 30};
  int8_t shift[2] = {0, 0};
  int8_t y[4] = {5, 5, 5, 5};
  const int8_t y0[4] = {5, 5, 5, 5};
  nnfm_gemm_args g = {2, 2, 2, 0, -128, 127, NULL, NNFM_ROUND_SINGLE}, b;
  CHECK_EQ(nnfm_gemm(NULL, a, w, bias, m0, shift, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, NULL, w, bias, m0, shift, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, a, NULL, bias, m0, shift, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, a, w, NULL, m0, shift, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, NULL, shift, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, NULL, y), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, shift, NULL), NNFM_ERR_NULL);
  b = g, b.m = -1;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.k = -1;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.n = -1;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.out_zp = 128;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.out_zp = -129;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.lo = -129;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.hi = 128;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  b = g, b.lo = 5, b.hi = 4;
  CHECK_EQ(nnfm_gemm(&b, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  m0[1] = -1;
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  m0[1] = 1 << 30, shift[0] = 31;
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  shift[0] = -32;
  CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, shift, y), NNFM_ERR_RANGE);
  CHECK_MEM_EQ(y, y0, 4); /* untouched by every refusal */
  shift[0] = -31;
  CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
}

/* ---- random cases ----------------------------------------------------------- */

/* Per-channel parameters that spread the outputs over the int8 range for
 * sums of K products, with a few extreme channels. */
static void random_params(nnf_rng *r, int K, int N, int32_t *bias, int32_t *m0, int8_t *shift) {
  for (int j = 0; j < N; j++) {
    double real = 40.0 / (sqrt((double)K + 1) * 5000.0) * ldexp(1.0, (int)nnf_rng_range(r, -2, 2));
    int s;
    CHECK_OK(nnfm_quantize_multiplier(real, &m0[j], &s));
    shift[j] = (int8_t)s;
    bias[j] = (int32_t)nnf_rng_range(r, -20000, 20000);
    switch (nnf_rng_range(r, 0, 15)) {
    case 0: bias[j] = (int32_t)nnf_rng_u32(r); break; /* any int32: may wrap */
    case 1: m0[j] = INT32_MAX, shift[j] = 30; break;
    case 2: m0[j] = 0; break;
    case 3: m0[j] = (int32_t)nnf_rng_range(r, 0, INT32_MAX), shift[j] = -31; break;
    default: break;
    }
  }
}

static void test_random(void) {
  nnf_rng r = nnf_rng_seed(2024);
  int8_t lut[256];
  nnf_rng_fill(&r, lut, sizeof lut);
  for (int t = 0; t < 300; t++) {
    int M = (int)nnf_rng_range(&r, 0, 24), K = (int)nnf_rng_range(&r, 0, 70);
    int N = (int)nnf_rng_range(&r, 0, 24);
    if (t % 50 == 0) M = 3, K = (int)nnf_rng_range(&r, 2000, 5000), N = 5; /* long sums */
    int8_t *a = malloc((size_t)M * K + 1), *w = malloc((size_t)K * N + 1);
    int8_t *y = malloc((size_t)M * N + 1), *yr = malloc((size_t)M * N + 1);
    int32_t *bias = malloc(sizeof(int32_t) * (N + 1)), *m0 = malloc(sizeof(int32_t) * (N + 1));
    int8_t *shift = malloc((size_t)N + 1);
    CHECK(a && w && y && yr && bias && m0 && shift);
    nnf_rng_fill(&r, a, (size_t)M * K);
    nnf_rng_fill(&r, w, (size_t)K * N);
    for (int i = 0; i < K * N; i++) if (w[i] == -128) w[i] = -127; /* symmetric weights */
    if (t % 10 == 1) memset(a, 127, (size_t)M * K), memset(w, 127, (size_t)K * N); /* max sums */
    random_params(&r, K, N, bias, m0, shift);
    int32_t zp = (int32_t)nnf_rng_range(&r, -128, 127), lo = (int32_t)nnf_rng_range(&r, -128, 127);
    nnfm_gemm_args g = {M, K, N, zp, lo, (int32_t)nnf_rng_range(&r, lo, 127), t % 3 ? NULL : lut, NNFM_ROUND_SINGLE};
    if (t % 4 == 0) g.lo = -128, g.hi = 127;
    nnf_test_ctx("random case %d: M %d K %d N %d", t, M, K, N);
    CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
    ref_gemm(&g, a, w, bias, m0, shift, yr);
    CHECK_MEM_EQ(y, yr, (size_t)M * N);
    free(a), free(w), free(y), free(yr), free(bias), free(m0), free(shift);
  }
  nnf_test_ctx("");
}

/* ---- input zero point ------------------------------------------------------- */

static void test_fold_hand(void) {
  /* w: 2 x 2 = [[1, 2], [3, -4]]; column sums 4, -2; zp_in = 5 */
  const int8_t w[4] = {1, 2, 3, -4};
  int32_t bias[2] = {100, 100}, out[2];
  CHECK_OK(nnfm_fold_input_zp(w, 2, 2, 5, bias, out));
  CHECK_EQ(out[0], 100 - 5 * 4);
  CHECK_EQ(out[1], 100 + 5 * 2);
  CHECK_OK(nnfm_fold_input_zp(w, 2, 2, -128, NULL, out)); /* NULL bias = 0 */
  CHECK_EQ(out[0], 512);
  CHECK_EQ(out[1], -256);
  CHECK_OK(nnfm_fold_input_zp(w, 2, 2, 5, bias, bias)); /* in place */
  CHECK_EQ(bias[0], 80);
  CHECK_EQ(bias[1], 110);
  /* wrapping: INT32_MIN - 5 * 4 */
  bias[0] = INT32_MIN;
  /* the same bytes read as a 2 x 1 matrix: w[0][0] = 1, w[1][0] = 2, sum 3 */
  CHECK_OK(nnfm_fold_input_zp(w, 2, 1, 5, bias, out));
  CHECK_EQ(out[0], INT32_MAX - 14);
  /* K = 0 copies the bias; refusals */
  CHECK_OK(nnfm_fold_input_zp(NULL, 0, 2, 9, bias, out));
  CHECK_EQ(out[0], bias[0]);
  CHECK_EQ(out[1], bias[1]);
  CHECK_OK(nnfm_fold_input_zp(NULL, 5, 0, 9, NULL, NULL));
  CHECK_EQ(nnfm_fold_input_zp(w, -1, 2, 0, bias, out), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_fold_input_zp(w, 2, -1, 0, bias, out), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_fold_input_zp(NULL, 2, 2, 0, bias, out), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_fold_input_zp(w, 2, 2, 0, bias, NULL), NNFM_ERR_NULL);
}

/* gemm with the folded bias on a == reference sum((a - zp_in) * w) + bias */
static void test_fold_random(void) {
  nnf_rng r = nnf_rng_seed(99);
  for (int t = 0; t < 200; t++) {
    int M = (int)nnf_rng_range(&r, 1, 12), K = (int)nnf_rng_range(&r, 0, 300);
    int N = (int)nnf_rng_range(&r, 1, 20);
    int64_t zp_in = nnf_rng_range(&r, -128, 127);
    if (t % 10 == 3) zp_in = INT32_MIN;
    if (t % 10 == 4) zp_in = INT32_MAX;
    if (t % 10 == 5) zp_in = (int32_t)nnf_rng_u32(&r);
    int8_t *a = malloc((size_t)M * K + 1), *w = malloc((size_t)K * N + 1);
    int8_t *y = malloc((size_t)M * N), *yr = malloc((size_t)M * N);
    int32_t *bias = malloc(sizeof(int32_t) * N), *bf = malloc(sizeof(int32_t) * N);
    int32_t *m0 = malloc(sizeof(int32_t) * N);
    int8_t *shift = malloc((size_t)N);
    CHECK(a && w && y && yr && bias && bf && m0 && shift);
    nnf_rng_fill(&r, a, (size_t)M * K);
    nnf_rng_fill(&r, w, (size_t)K * N);
    random_params(&r, K, N, bias, m0, shift);
    nnf_test_ctx("fold case %d: M %d K %d N %d zp_in %lld", t, M, K, N, (long long)zp_in);
    CHECK_OK(nnfm_fold_input_zp(w, K, N, (int32_t)zp_in, bias, bf));
    nnfm_gemm_args g = {M, K, N, 0, -128, 127, NULL, NNFM_ROUND_SINGLE};
    CHECK_OK(nnfm_gemm(&g, a, w, bf, m0, shift, y));
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        int32_t acc = ref_acc(K, N, a + (size_t)i * K, w, bias[j], zp_in, j);
        /* the accumulators agree exactly ... */
        CHECK_EQ(wrap32((int64_t)bf[j] + (ref_acc(K, N, a + (size_t)i * K, w, 0, 0, j))), acc);
        /* ... and so do the outputs */
        yr[(size_t)i * N + j] = ref_out(acc, m0[j], shift[j], 0, -128, 127, NULL);
      }
    CHECK_MEM_EQ(y, yr, (size_t)M * N);
    free(a), free(w), free(y), free(yr), free(bias), free(bf), free(m0), free(shift);
  }
  nnf_test_ctx("");
}

int main(int argc, char **argv) {
  (void)argc;
  test_hand();
  test_wrap();
  test_zero_sizes();
  test_refusals();
  test_random();
  test_fold_hand();
  test_fold_random();
  return nnf_test_done(argv[0]);
}
