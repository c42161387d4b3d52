/*
 * test_data.c - the data readers of libnnf (nnf_data.h).
 *
 *   IDX      round trips of every dtype, raw and gzip (files written with
 *            zlib's gzopen/gzwrite, and in memory), multi-member gzip; every
 *            error with its message: wrong magic, dimension counts, unknown
 *            dtype, truncated header, truncated / extra data, oversized
 *            dimensions, truncated / corrupt gzip, trailing garbage.
 *   datasets images + labels (u8 scaling, classes), count mismatch, label
 *            range, label rank; the MNIST directory layout (raw and .gz);
 *            Fashion-MNIST itself when installed (reference values computed
 *            once with Python's gzip module).
 *   CSV      header detection, CRLF, blank lines, label column, every error
 *            with its line number, a comma-decimal locale.
 *   slice, shuffle (reference orders from an independent Python splitmix64,
 *            permutation, determinism, position uniformity).
 */
#include "nnf_data.h"
#include "nnf_test.h"

#include <locale.h>
#include <math.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---- helpers -------------------------------------------------------------- */

static const char *tmp_path(char *buf, size_t size, const char *name) {
  int n = snprintf(buf, size, "%s/%s", NNF_TEST_TMP, name);
  CHECK(n > 0 && (size_t)n < size);
  return buf;
}

static void write_bytes(const char *path, const void *buf, size_t len) {
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL);
  CHECK_EQ(fwrite(buf, 1, len, fp), len);
  CHECK_OK(fclose(fp));
}

/* mode "wb" writes one gzip member, "ab" appends another. */
static void write_gz(const char *path, const char *mode, const void *buf, size_t len) {
  gzFile gz = gzopen(path, mode);
  CHECK(gz != NULL);
  CHECK_EQ(gzwrite(gz, buf, (unsigned)len), (int)len);
  CHECK_EQ(gzclose(gz), Z_OK);
}

static uint8_t *read_bytes(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n + 1);
  CHECK(buf != NULL);
  CHECK_EQ(fread(buf, 1, (size_t)n, fp), (size_t)n);
  fclose(fp);
  *len = (size_t)n;
  return buf;
}

/* rc must be -1 and err must contain want. */
static void check_err_(int rc, const char *err, const char *want, int line) {
  nnf_test_ctx("line %d: message '%s', want '%s'", line, err, want);
  CHECK_EQ(rc, -1);
  CHECK(strstr(err, want) != NULL);
  nnf_test_ctx("");
}
#define CHECK_ERR(rc, err, want) check_err_((rc), (err), (want), __LINE__)

/* An IDX image: header, then the values (given as int64 or double by
 * dtype) big-endian. Returns the length. */
static size_t idx_build(uint8_t *buf, int dtype, int ndims, const uint32_t *dims,
                        const double *vals, size_t n) {
  size_t k = 0, esize = dtype == 0x0B ? 2 : dtype == 0x0C || dtype == 0x0D ? 4 : dtype == 0x0E ? 8 : 1;
  buf[k++] = 0, buf[k++] = 0, buf[k++] = (uint8_t)dtype, buf[k++] = (uint8_t)ndims;
  for (int i = 0; i < ndims; i++)
    for (int b = 3; b >= 0; b--) buf[k++] = (uint8_t)(dims[i] >> (8 * b));
  for (size_t i = 0; i < n; i++) {
    uint64_t bits;
    if (dtype == 0x0D) {
      float f = (float)vals[i];
      uint32_t u;
      memcpy(&u, &f, 4);
      bits = u;
    } else if (dtype == 0x0E) {
      memcpy(&bits, &vals[i], 8);
    } else {
      bits = (uint64_t)(int64_t)vals[i];
    }
    for (int b = (int)esize - 1; b >= 0; b--) buf[k++] = (uint8_t)(bits >> (8 * b));
  }
  return k;
}

/* ---- IDX ------------------------------------------------------------------ */

typedef struct {
  int dtype, ndims;
  uint32_t dims[3];
  size_t n;
  double vals[8];
} idx_case;

static const idx_case idx_cases[] = {
    {0x08, 2, {2, 3}, 6, {0, 1, 2, 127, 128, 255}},
    {0x09, 1, {4}, 4, {-128, -1, 0, 127}},
    {0x0B, 2, {2, 2}, 4, {-32768, -2, 300, 32767}},
    {0x0C, 1, {3}, 3, {-2147483648.0, -5, 16777216}},
    {0x0D, 3, {2, 1, 2}, 4, {1.5, -0.25, 3.0e38, 1e-30}},
    {0x0E, 1, {3}, 3, {0.1, -2.5, 1e10}},
    {0x08, 2, {0, 5}, 0, {0}},
};

static void check_idx(const nnf_idx *a, const idx_case *c) {
  CHECK_EQ(a->dtype, c->dtype);
  CHECK_EQ(a->ndims, c->ndims);
  for (int i = 0; i < c->ndims; i++) CHECK_EQ(a->dims[i], c->dims[i]);
  CHECK_EQ(a->count, c->n);
  CHECK(a->data != NULL);
  for (size_t i = 0; i < c->n; i++) CHECK(a->data[i] == (float)c->vals[i]);
}

static void test_idx_roundtrip(void) {
  char path[512], gzpath[512], err[512], name[64];
  for (size_t k = 0; k < sizeof idx_cases / sizeof idx_cases[0]; k++) {
    const idx_case *c = &idx_cases[k];
    uint8_t buf[256];
    size_t len = idx_build(buf, c->dtype, c->ndims, c->dims, c->vals, c->n);
    nnf_idx a;
    nnf_test_ctx("case %zu", k);
    CHECK_OK(nnf_idx_parse(buf, len, &a, err, sizeof err));
    check_idx(&a, c);
    nnf_idx_free(&a);
    CHECK(a.data == NULL);
    snprintf(name, sizeof name, "rt%zu.idx", k);
    write_bytes(tmp_path(path, sizeof path, name), buf, len);
    CHECK_OK(nnf_idx_read(path, &a, err, sizeof err));
    check_idx(&a, c);
    nnf_idx_free(&a);
    snprintf(name, sizeof name, "rt%zu.idx.gz", k);
    write_gz(tmp_path(gzpath, sizeof gzpath, name), "wb", buf, len);
    CHECK_OK(nnf_idx_read(gzpath, &a, err, sizeof err));
    check_idx(&a, c);
    nnf_idx_free(&a);
    size_t gzlen;
    uint8_t *gz = read_bytes(gzpath, &gzlen);
    CHECK_OK(nnf_idx_parse_any(gz, gzlen, &a, err, sizeof err));
    check_idx(&a, c);
    nnf_idx_free(&a);
    CHECK_OK(nnf_idx_parse_any(buf, len, &a, err, sizeof err)); /* raw passes through */
    check_idx(&a, c);
    nnf_idx_free(&a);
    CHECK_ERR(nnf_idx_parse(gz, gzlen, &a, err, sizeof err), err, "wrong magic 0x1f8b08");
    free(gz);
  }
  nnf_test_ctx("");
  nnf_idx_free(NULL);
}

/* Two gzip members (as `cat a.gz b.gz` makes) inflate to their concatenation. */
static void test_idx_multimember(void) {
  char path[512], err[512];
  uint8_t buf[64];
  const uint32_t dims[2] = {2, 3};
  const double v[6] = {1, 2, 3, 4, 5, 6};
  size_t len = idx_build(buf, 0x08, 2, dims, v, 6);
  tmp_path(path, sizeof path, "multi.idx.gz");
  write_gz(path, "wb", buf, 7);
  write_gz(path, "ab", buf + 7, len - 7);
  nnf_idx a;
  CHECK_OK(nnf_idx_read(path, &a, err, sizeof err));
  CHECK_EQ(a.count, 6);
  CHECK(a.data[5] == 6.0f);
  nnf_idx_free(&a);
}

/* Parse from memory and from a file; both give the message (the file's
 * message also names the file). */
static void check_idx_bad(const char *name, const uint8_t *buf, size_t len, const char *want) {
  char path[512], err[512];
  nnf_idx a;
  CHECK_ERR(nnf_idx_parse_any(buf, len, &a, err, sizeof err), err, want);
  CHECK(a.data == NULL);
  write_bytes(tmp_path(path, sizeof path, name), buf, len);
  CHECK_ERR(nnf_idx_read(path, &a, err, sizeof err), err, want);
  CHECK(strncmp(err, path, strlen(path)) == 0);
  CHECK(a.data == NULL);
}

static void test_idx_errors(void) {
  static const uint8_t magic[] = {1, 2, 8, 1, 0, 0, 0, 1, 7};
  static const uint8_t dims0[] = {0, 0, 8, 0};
  static const uint8_t dims9[] = {0, 0, 8, 9, 0, 0, 0, 1};
  static const uint8_t dtype[] = {0, 0, 0x0A, 1, 0, 0, 0, 1, 7};
  static const uint8_t short3[] = {0, 0, 8};
  static const uint8_t shorthdr[] = {0, 0, 8, 3, 0, 0, 0, 2};
  static const uint8_t huge[] = {0, 0, 0x0C, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
  check_idx_bad("magic.idx", magic, sizeof magic, "wrong magic 0x01020801 (want an IDX file)");
  check_idx_bad("dims0.idx", dims0, sizeof dims0, "0 dimensions (want 1..8)");
  check_idx_bad("dims9.idx", dims9, sizeof dims9, "9 dimensions (want 1..8)");
  check_idx_bad("dtype.idx", dtype, sizeof dtype, "unknown IDX dtype 0x0a");
  check_idx_bad("short3.idx", short3, sizeof short3, "truncated header (3 bytes");
  check_idx_bad("shorthdr.idx", shorthdr, sizeof shorthdr,
                "truncated header (8 bytes, 3 dimensions need 16)");
  check_idx_bad("huge.idx", huge, sizeof huge, "dimensions ask for more than 2147483648 bytes");
  check_idx_bad("empty.idx", magic, 0, "truncated header (0 bytes");

  uint8_t buf[64];
  const uint32_t dims[2] = {2, 3};
  const double v[6] = {1, 2, 3, 4, 5, 6};
  size_t len = idx_build(buf, 0x08, 2, dims, v, 6);
  check_idx_bad("trunc.idx", buf, len - 1, "header says 6 bytes of data, file has 5");
  buf[len] = 9;
  check_idx_bad("extra.idx", buf, len + 1, "header says 6 bytes of data, file has 7");

  /* The full-size case from the MNIST training images, one byte short. */
  size_t big = 16 + 47040000;
  uint8_t *mn = calloc(big, 1);
  CHECK(mn != NULL);
  const uint32_t mdims[3] = {60000, 28, 28};
  idx_build(mn, 0x08, 3, mdims, NULL, 0);
  char err[512];
  nnf_idx a;
  CHECK_ERR(nnf_idx_parse(mn, big - 1, &a, err, sizeof err), err,
            "IDX data: header says 47040000 bytes of data, file has 47039999");
  CHECK_OK(nnf_idx_parse(mn, big, &a, err, sizeof err));
  CHECK_EQ(a.count, 47040000);
  nnf_idx_free(&a);
  free(mn);

  char path[512];
  CHECK_ERR(nnf_idx_read(tmp_path(path, sizeof path, "no-such-file.idx"), &a, err, sizeof err),
            err, "cannot open: No such file");
}

static void test_idx_gzip_errors(void) {
  char path[512], err[512];
  /* A few KB of gzip: 100 x 100 u8 with structure and noise. */
  static uint8_t raw[16 + 10000];
  static double v[10000];
  nnf_rng r = nnf_rng_seed(7);
  for (int i = 0; i < 10000; i++) v[i] = (i % 100) + (double)(nnf_rng_u32(&r) % 50);
  const uint32_t dims[2] = {100, 100};
  size_t len = idx_build(raw, 0x08, 2, dims, v, 10000);
  write_gz(tmp_path(path, sizeof path, "good.idx.gz"), "wb", raw, len);
  size_t gzlen;
  uint8_t *gz = read_bytes(path, &gzlen);
  CHECK(gzlen > 1000);
  uint8_t *bad = malloc(gzlen + 8);
  CHECK(bad != NULL);

  check_idx_bad("half.idx.gz", gz, gzlen / 2, "truncated gzip stream");
  check_idx_bad("notrailer.idx.gz", gz, gzlen - 4, "truncated gzip stream");
  check_idx_bad("hdronly.idx.gz", gz, 10, "truncated gzip stream");
  check_idx_bad("magiconly.idx.gz", gz, 2, "truncated gzip stream");

  memcpy(bad, gz, gzlen);
  bad[2] = 7; /* compression method: not deflate */
  check_idx_bad("method.idx.gz", bad, gzlen, "corrupt gzip stream");
  memcpy(bad, gz, gzlen);
  bad[gzlen - 8] ^= 0x55; /* CRC-32 of the data */
  check_idx_bad("crc.idx.gz", bad, gzlen, "corrupt gzip stream (incorrect data check)");
  memcpy(bad, gz, gzlen);
  bad[gzlen - 2] ^= 0x01; /* ISIZE */
  check_idx_bad("isize.idx.gz", bad, gzlen, "corrupt gzip stream (incorrect length check)");
  memcpy(bad, gz, gzlen);
  memcpy(bad + gzlen, "junk", 4);
  check_idx_bad("junk.idx.gz", bad, gzlen + 4, "4 bytes of trailing garbage after the gzip");

  /* A gzip file whose contents are not IDX. */
  static const uint8_t notidx[] = {1, 2, 8, 1, 0, 0, 0, 1, 7};
  write_gz(tmp_path(path, sizeof path, "notidx.idx.gz"), "wb", notidx, sizeof notidx);
  nnf_idx a;
  CHECK_ERR(nnf_idx_read(path, &a, err, sizeof err), err, "notidx.idx.gz: wrong magic 0x01020801");
  free(bad);
  free(gz);
}

/* ---- datasets ------------------------------------------------------------- */

/* Write an IDX file (raw, or gzip when the name ends in .gz). */
static const char *put_idx(char *path, size_t size, const char *name, int dtype, int ndims,
                           const uint32_t *dims, const double *vals, size_t n) {
  static uint8_t buf[4096];
  size_t len = idx_build(buf, dtype, ndims, dims, vals, n);
  tmp_path(path, size, name);
  size_t nl = strlen(name);
  if (nl > 3 && !strcmp(name + nl - 3, ".gz")) write_gz(path, "wb", buf, len);
  else write_bytes(path, buf, len);
  return path;
}

static void test_dataset_idx(void) {
  char ip[512], lp[512], err[512];
  double px[12], lab[3] = {0, 4, 1};
  for (int i = 0; i < 12; i++) px[i] = i * 20;
  const uint32_t idims[3] = {3, 2, 2}, ldims[1] = {3};
  put_idx(ip, sizeof ip, "ds-images.idx", 0x08, 3, idims, px, 12);
  put_idx(lp, sizeof lp, "ds-labels.idx.gz", 0x08, 1, ldims, lab, 3);
  nnf_dataset d;
  CHECK_OK(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err));
  CHECK_EQ(d.count, 3);
  CHECK_EQ(d.features, 4);
  CHECK_EQ(d.classes, 5);
  for (int i = 0; i < 12; i++) CHECK(d.x[i] == (float)(i * 20) / 255.0f);
  CHECK_EQ(d.y[0], 0);
  CHECK_EQ(d.y[1], 4);
  CHECK_EQ(d.y[2], 1);
  nnf_dataset_free(&d);
  CHECK(d.x == NULL && d.y == NULL);
  nnf_dataset_free(NULL);

  /* Float images are not scaled; all-zero labels still give 2 classes. */
  double zero[3] = {0, 0, 0};
  put_idx(ip, sizeof ip, "ds-fimages.idx", 0x0D, 3, idims, px, 12);
  put_idx(lp, sizeof lp, "ds-zlabels.idx", 0x08, 1, ldims, zero, 3);
  CHECK_OK(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err));
  CHECK(d.x[11] == 220.0f);
  CHECK_EQ(d.classes, 2);
  nnf_dataset_free(&d);

  const uint32_t two[1] = {2}, l2d[2] = {3, 1};
  put_idx(lp, sizeof lp, "ds-2labels.idx", 0x08, 1, two, lab, 2);
  CHECK_ERR(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err), err, "3 images but 2 labels");
  CHECK(strstr(err, "ds-2labels.idx: ") != NULL);
  CHECK(d.x == NULL && d.y == NULL);
  put_idx(lp, sizeof lp, "ds-l2d.idx", 0x08, 2, l2d, lab, 3);
  CHECK_ERR(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err), err,
            "labels have 2 dimensions (want 1)");
  double big[3] = {0, 300, 1}, neg[3] = {0, 1, -1}, frac[3] = {0.5, 1, 1};
  put_idx(lp, sizeof lp, "ds-big.idx", 0x0B, 1, ldims, big, 3);
  CHECK_ERR(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err), err,
            "label 300 at index 1 is out of range (want 0..255)");
  put_idx(lp, sizeof lp, "ds-neg.idx", 0x09, 1, ldims, neg, 3);
  CHECK_ERR(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err), err, "label -1 at index 2");
  put_idx(lp, sizeof lp, "ds-frac.idx", 0x0D, 1, ldims, frac, 3);
  CHECK_ERR(nnf_dataset_load_idx(ip, lp, &d, err, sizeof err), err, "label 0.5 at index 0");
  /* A broken images file is reported with its own name. */
  char bp[512];
  static const uint8_t junk[] = {1, 2, 3, 4};
  write_bytes(tmp_path(bp, sizeof bp, "ds-junk.idx"), junk, sizeof junk);
  CHECK_ERR(nnf_dataset_load_idx(bp, lp, &d, err, sizeof err), err,
            "ds-junk.idx: wrong magic 0x01020304");
}

/* The MNIST directory layout: train split raw, test split gzip. */
static void test_mnist_dir(void) {
  char dir[512], p[600], err[512];
  tmp_path(dir, sizeof dir, "mnist");
  mkdir(dir, 0755);
  double px[8] = {0, 51, 102, 255, 10, 20, 30, 40}, lab[2] = {3, 1};
  const uint32_t idims[3] = {2, 2, 2}, ldims[1] = {2};
  static const char *const files[4] = {"mnist/train-images-idx3-ubyte", "mnist/train-labels-idx1-ubyte",
                                       "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"};
  for (int i = 0; i < 4; i += 2) {
    put_idx(p, sizeof p, files[i], 0x08, 3, idims, px, 8);
    put_idx(p, sizeof p, files[i + 1], 0x08, 1, ldims, lab, 2);
  }
  nnf_dataset d;
  for (int train = 0; train < 2; train++) {
    CHECK_OK(nnf_dataset_load_mnist_dir(dir, train, &d, err, sizeof err));
    CHECK_EQ(d.count, 2);
    CHECK_EQ(d.features, 4);
    CHECK_EQ(d.classes, 4);
    CHECK(d.x[1] == 0.2f);
    CHECK(d.x[3] == 1.0f);
    nnf_dataset_free(&d);
  }
  tmp_path(dir, sizeof dir, "no-mnist-here");
  CHECK_ERR(nnf_dataset_load_mnist_dir(dir, 1, &d, err, sizeof err), err,
            "no-mnist-here: neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte found");
}

/* Sum of image i's pixels as the stored bytes (x * 255 is exact). */
static long pixel_sum(const nnf_dataset *d, size_t i) {
  long s = 0;
  for (size_t k = 0; k < d->features; k++) s += lrintf(d->x[i * d->features + k] * 255.0f);
  return s;
}

static void test_fashion(void) {
  struct stat st;
  if (stat(NNF_FASHION_DIR, &st) != 0) {
    printf("test_data: %s absent, Fashion-MNIST checks skipped\n", NNF_FASHION_DIR);
    return;
  }
  char err[512];
  nnf_dataset d;
  CHECK_OK(nnf_dataset_load_mnist_dir(NNF_FASHION_DIR, 1, &d, err, sizeof err));
  CHECK_EQ(d.count, 60000);
  CHECK_EQ(d.features, 784);
  CHECK_EQ(d.classes, 10);
  CHECK_EQ(d.y[0], 9);
  /* Reference sums: Python, gzip.open(...).read()[16:16+784] etc. */
  CHECK_EQ(pixel_sum(&d, 0), 76247);
  CHECK_EQ(pixel_sum(&d, 1), 84598);
  int in_range = 1;
  for (size_t i = 0; i < d.count * d.features; i++) in_range &= d.x[i] >= 0.0f && d.x[i] <= 1.0f;
  CHECK(in_range);
  nnf_dataset_free(&d);
  CHECK_OK(nnf_dataset_load_mnist_dir(NULL, 0, &d, err, sizeof err));
  CHECK_EQ(d.count, 10000);
  CHECK_EQ(d.features, 784);
  CHECK_EQ(d.classes, 10);
  CHECK_EQ(d.y[0], 9);
  CHECK_EQ(pixel_sum(&d, 0), 33456);
  CHECK_EQ(pixel_sum(&d, 1), 100994);
  nnf_dataset_free(&d);
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_ok(const char *text, int label_col, size_t count, size_t features, int classes,
                   const float *x, const int32_t *y, nnf_dataset *d) {
  char err[512] = "";
  nnf_test_ctx("csv '%s': %s", text, err);
  int rc = nnf_csv_parse(text, strlen(text), label_col, d, err, sizeof err);
  nnf_test_ctx("csv '%s': %s", text, err);
  CHECK_OK(rc);
  CHECK_EQ(d->count, count);
  CHECK_EQ(d->features, features);
  CHECK_EQ(d->classes, classes);
  for (size_t i = 0; i < count * features; i++) CHECK(d->x[i] == x[i]);
  for (size_t i = 0; i < count; i++) CHECK_EQ(d->y[i], y[i]);
  nnf_test_ctx("");
}

static void csv_bad(const char *text, int label_col, const char *want) {
  char err[512] = "";
  nnf_dataset d;
  check_err_(nnf_csv_parse(text, strlen(text), label_col, &d, err, sizeof err), err, want,
             __LINE__);
  CHECK(d.x == NULL && d.y == NULL);
}

static void test_csv(void) {
  nnf_dataset d;
  const float x1[] = {1, 2, 3.5f, -0.4f};
  const int32_t y1[] = {0, 1};
  csv_ok("a,b,label\n1,2,0\n3.5,-4e-1,1\n", -1, 2, 2, 2, x1, y1, &d);
  nnf_dataset_free(&d);
  csv_ok("1,2,0\n3.5,-.4,1", -1, 2, 2, 2, x1, y1, &d); /* no header, no final newline */
  nnf_dataset_free(&d);
  const float x2[] = {1, 2, 4, 5};
  const int32_t y2[] = {3, 6};
  csv_ok("1, 2 ,3\r\n\r\n  \t\n4,5.,+6e0\r\n", -1, 2, 2, 7, x2, y2, &d);
  nnf_dataset_free(&d);
  const float x3[] = {1.5f, 2.5f, 3, 4};
  const int32_t y3[] = {0, 9};
  csv_ok("label,f1,f2\r\n0,1.5,2.5\r\n9,3,4\r\n", 0, 2, 2, 10, x3, y3, &d);
  nnf_dataset_free(&d);
  csv_ok("1.5,0,2.5\n3,9,4\n", 1, 2, 2, 10, x3, y3, &d); /* label in the middle */
  nnf_dataset_free(&d);
  const float x4[] = {1};
  const int32_t y4[] = {65535};
  csv_ok("1,65535\n", -1, 1, 1, 65536, x4, y4, &d);
  nnf_dataset_free(&d);

  csv_bad("1,2,0\n3,4\n", -1, "CSV data: line 2 has 2 fields, expected 3 (as on line 1)");
  csv_bad("a,b,c\n\n1,2,0\n1,2\n", -1, "line 4 has 2 fields, expected 3");
  csv_bad("1,2,0\n1,2x,0\n", -1, "line 2: field 2 ('2x') is not a number");
  static const char *const not_numbers[] = {"nan", "inf", "-Infinity", "0x10", "1e", ".",
                                            "--1", "1.2.3", "1,5e", "e5", "1 2"};
  for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
    char text[64];
    snprintf(text, sizeof text, "1,2,0\n%s,2,0\n", not_numbers[i]);
    if (strchr(not_numbers[i], ',')) csv_bad(text, -1, "line 2 has 4 fields");
    else csv_bad(text, -1, "is not a number");
  }
  csv_bad("1,2,0\n1,1e39,0\n", -1, "line 2: field 2 ('1e39') is out of float range");
  csv_bad("1,2,0\n1,,0\n", -1, "line 2: field 2 is empty");
  csv_bad("1,2,0\n1,2,-1\n", -1, "line 2: label '-1' is negative");
  csv_bad("1,2,0\n1,2,1.5\n", -1, "line 2: label '1.5' is not an integer");
  csv_bad("1,2,65536\n", -1, "line 1: label '65536' is above 65535");
  csv_bad("1,2,3\n", 3, "label column 3, but line 1 has 3 fields");
  csv_bad("1,2,3\n", -2, "label column -2");
  csv_bad("a,b\n", -1, "CSV data: no samples");
  csv_bad("", -1, "no samples");
  csv_bad("\n \r\n", -1, "no samples");
  csv_bad("1\n2\n", -1, "line 1 has one field");

  /* From a file: the message names it. */
  char path[512], err[512];
  const char *text = "x,y\n1,0\n2,1\n3\n";
  write_bytes(tmp_path(path, sizeof path, "bad.csv"), text, strlen(text));
  CHECK_ERR(nnf_dataset_load_csv(path, -1, &d, err, sizeof err), err,
            "bad.csv: line 4 has 1 fields, expected 2 (as on line 1)");
  write_bytes(path, text, strlen(text) - 2);
  CHECK_OK(nnf_dataset_load_csv(path, -1, &d, err, sizeof err));
  CHECK_EQ(d.count, 2);
  nnf_dataset_free(&d);
  CHECK_ERR(nnf_dataset_load_csv(tmp_path(path, sizeof path, "none.csv"), -1, &d, err, sizeof err),
            err, "none.csv: cannot open");

  /* A locale with a decimal comma does not change how "1.5" reads. */
  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
    const float x5[] = {1.5f, 0.25f};
    const int32_t y5[] = {2};
    csv_ok("1.5,0.25,2\n", -1, 1, 2, 3, x5, y5, &d);
    nnf_dataset_free(&d);
    setlocale(LC_NUMERIC, "C");
  }
}

/* ---- slice and shuffle ---------------------------------------------------- */

static void test_slice(void) {
  nnf_dataset d, s;
  char err[256];
  const char *text = "0,10,0\n1,11,1\n2,12,2\n3,13,0\n4,14,1\n";
  CHECK_OK(nnf_csv_parse(text, strlen(text), -1, &d, err, sizeof err));
  CHECK_OK(nnf_dataset_slice(&d, 1, 2, &s));
  CHECK_EQ(s.count, 2);
  CHECK_EQ(s.features, 2);
  CHECK_EQ(s.classes, 3);
  CHECK(s.x[0] == 1 && s.x[1] == 11 && s.x[2] == 2 && s.x[3] == 12);
  CHECK(s.y[0] == 1 && s.y[1] == 2);
  CHECK(s.x != d.x + 2); /* a copy */
  nnf_dataset_free(&s);
  CHECK_OK(nnf_dataset_slice(&d, 3, 100, &s));
  CHECK_EQ(s.count, 2);
  CHECK(s.x[2] == 4 && s.y[1] == 1);
  nnf_dataset_free(&s);
  CHECK_OK(nnf_dataset_slice(&d, 7, 1, &s));
  CHECK_EQ(s.count, 0);
  nnf_dataset_free(&s);
  CHECK_EQ(nnf_dataset_slice(NULL, 0, 1, &s), -1);
  nnf_dataset_free(&d);
}

static int is_permutation(const uint32_t *p, size_t n) {
  uint8_t *seen = calloc(n + 1, 1);
  int ok = seen != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    ok = p[i] < n && !seen[p[i]];
    if (ok) seen[p[i]] = 1;
  }
  free(seen);
  return ok;
}

/* Every element lands in every position about equally often: per-cell
 * counts within 6 sigma of T/n, and the Pearson statistic over the n x n
 * table (about (n-1)^2 degrees of freedom) below its mean plus 6 sigma. */
static void test_shuffle_uniform(void) {
  enum { N = 8, T = 80000 };
  static long count[N][N];
  uint32_t p[N];
  for (int t = 0; t < T; t++) {
    nnf_shuffle(p, N, 0x5EED0000u + (uint64_t)t);
    for (int pos = 0; pos < N; pos++) count[p[pos]][pos]++;
  }
  const double e = (double)T / N, sigma = sqrt(T * (1.0 / N) * (1.0 - 1.0 / N));
  const double dof = (N - 1) * (N - 1), bound = dof + 6 * sqrt(2 * dof);
  double chi2 = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      nnf_test_ctx("element %d at position %d: %ld times, expected %.0f +- %.0f", i, j,
                   count[i][j], e, 6 * sigma);
      CHECK(fabs(count[i][j] - e) < 6 * sigma);
      chi2 += (count[i][j] - e) * (count[i][j] - e) / e;
    }
  nnf_test_ctx("chi-square %.1f, bound %.1f", chi2, bound);
  CHECK(chi2 < bound);
  nnf_test_ctx("");
}

static void test_shuffle(void) {
  /* Reference orders from an independent Python splitmix64 + Fisher-Yates. */
  static const uint32_t ref10[10] = {0, 9, 5, 8, 6, 4, 7, 2, 1, 3};
  static const uint32_t ref16[16] = {10, 13, 2, 8, 4, 12, 6, 5, 9, 7, 3, 0, 1, 15, 14, 11};
  uint32_t p10[10], p16[16];
  nnf_shuffle(p10, 10, 42);
  nnf_shuffle(p16, 16, 0xDEADBEEF);
  CHECK_MEM_EQ(p10, ref10, sizeof ref10);
  CHECK_MEM_EQ(p16, ref16, sizeof ref16);

  enum { N = 1000 };
  static uint32_t a[N], b[N], c[N];
  nnf_shuffle(a, N, 1234);
  nnf_shuffle(b, N, 1234);
  nnf_shuffle(c, N, 1235);
  CHECK(is_permutation(a, N));
  CHECK(is_permutation(c, N));
  CHECK_MEM_EQ(a, b, sizeof a);
  size_t same = 0, fixed = 0;
  for (size_t i = 0; i < N; i++) same += a[i] == c[i], fixed += a[i] == i;
  CHECK(same < 20); /* two independent permutations agree in ~1 place */
  CHECK(fixed < 20);
  uint32_t one = 77;
  nnf_shuffle(&one, 1, 5);
  CHECK_EQ(one, 0);
  nnf_shuffle(NULL, 0, 5);
  nnf_shuffle(&one, 0, 5);
  test_shuffle_uniform();
}

/* CSV with float targets (multilabel, regression): the columns, the
 * placement by first_col, the checks, and slicing keeping them. */
static void test_csv_targets(void) {
  nnf_dataset d, s;
  char err[512] = "";
  const char *text = "x0,x1,t0,t1\n1,2,0.5,-3\n4,5,1e2,0\n";
  CHECK_OK(nnf_csv_parse_targets(text, strlen(text), -1, 2, &d, err, sizeof err));
  CHECK(d.count == 2 && d.features == 2 && d.targets == 2 && d.classes == 0 && d.t && d.y);
  const float x[] = {1, 2, 4, 5}, t[] = {0.5f, -3, 100, 0};
  CHECK_MEM_EQ(d.x, x, sizeof x);
  CHECK_MEM_EQ(d.t, t, sizeof t);
  CHECK(d.y[0] == 0 && d.y[1] == 0);
  CHECK_OK(nnf_dataset_slice(&d, 1, 5, &s));
  CHECK(s.count == 1 && s.targets == 2 && s.t[0] == 100 && s.t[1] == 0 && s.x[0] == 4);
  nnf_dataset_free(&s);
  nnf_dataset_free(&d);
  CHECK(d.t == NULL && d.targets == 0);
  /* targets first (first_col 0), then one in the middle */
  const char *mid = "9,1,2,8\n7,3,4,6\n";
  CHECK_OK(nnf_csv_parse_targets(mid, strlen(mid), 1, 2, &d, err, sizeof err));
  const float xm[] = {9, 8, 7, 6}, tm[] = {1, 2, 3, 4};
  CHECK(d.features == 2);
  CHECK_MEM_EQ(d.x, xm, sizeof xm);
  CHECK_MEM_EQ(d.t, tm, sizeof tm);
  nnf_dataset_free(&d);
  /* the file reader agrees with the memory parser */
  char path[512];
  snprintf(path, sizeof path, "%s/targets.csv", NNF_TEST_TMP);
  write_bytes(path, mid, strlen(mid));
  CHECK_OK(nnf_dataset_load_csv_targets(path, 1, 2, &d, err, sizeof err));
  CHECK(d.count == 2 && d.t[3] == 4);
  nnf_dataset_free(&d);
  /* refusals: nothing allocated, one message */
  static const struct {
    const char *text;
    int col, n;
    const char *want;
  } bad[] = {
      {"1,2\n", -1, 2, "has 2 fields (want 2 targets and at least one feature)"},
      {"1,2,3\n", 2, 2, "target column 2 and the targets after it, but line 1 has 3 fields"},
      {"1,2,3\n4,5,x\n", -1, 1, "line 2: field 3 ('x') is not a number"},
      {"1,2,3\n4,5\n", -1, 1, "line 2 has 2 fields, expected 3"},
      {"1,2,3\n", -1, 0, "0 target columns"},
      {"1,2,3\n1,2,1e39\n", -1, 1, "out of float range"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nnf_test_ctx("case %zu: %s", i, bad[i].text);
    int rc = nnf_csv_parse_targets(bad[i].text, strlen(bad[i].text), bad[i].col, bad[i].n, &d, err, sizeof err);
    check_err_(rc, err, bad[i].want, __LINE__);
    CHECK(d.x == NULL && d.t == NULL && d.y == NULL);
  }
  nnf_test_ctx("");
}

/* Sequences: one CSV line per time step (nnf_csv_parse_steps), and one
 * line per sequence (plain nnf_csv_parse of T * I features). */
static void steps_bad(const char *text, int id_col, int label_col, int ntargets, int steps, const char *want) {
  char err[512] = "";
  nnf_dataset d;
  nnf_csv_seq o = {id_col, label_col, ntargets, steps};
  nnf_test_ctx("'%s' -> '%s', want '%s'", text, err, want);
  CHECK_EQ(nnf_csv_parse_steps(text, strlen(text), &o, &d, err, sizeof err), -1);
  nnf_test_ctx("'%s' -> '%s', want '%s'", text, err, want);
  CHECK(!strcmp(err, want));
  CHECK(d.x == NULL && d.y == NULL && d.t == NULL && d.count == 0);
}

static void test_csv_steps(void) {
  char err[512];
  nnf_dataset d;
  /* ids as text, a header, labels from each sequence's last line, two features per step */
  const char *text = "seq,a,b,label\ns1,1,2,0\ns1,3,4,0\ns1,5,6,2\n\nB,7,8,1\nB,9,10,1\nB,11,12,1\r\n";
  nnf_csv_seq o = {0, -1, 0, 0};
  CHECK_OK(nnf_csv_parse_steps(text, strlen(text), &o, &d, err, sizeof err));
  CHECK_EQ(o.steps, 3);
  CHECK_EQ(d.count, 2);
  CHECK_EQ(d.features, 6);
  CHECK_EQ(d.classes, 3);
  CHECK_EQ(d.y[0], 2);
  CHECK_EQ(d.y[1], 1);
  for (int i = 0; i < 12; i++) CHECK(d.x[i] == (float)(i + 1));
  nnf_dataset_free(&d);
  /* the same as one line per sequence */
  const char *flat = "1,2,3,4,5,6,2\n7,8,9,10,11,12,1\n";
  nnf_dataset e;
  CHECK_OK(nnf_csv_parse(flat, strlen(flat), -1, &e, err, sizeof err));
  CHECK_OK(nnf_csv_parse_steps(text, strlen(text), &o, &d, err, sizeof err));
  CHECK_EQ(e.count, d.count);
  CHECK_EQ(e.features, d.features);
  CHECK_MEM_EQ(e.x, d.x, 12 * sizeof(float));
  CHECK_MEM_EQ(e.y, d.y, 2 * sizeof(int32_t));
  nnf_dataset_free(&d);
  nnf_dataset_free(&e);
  /* targets (regression), the id last, numeric ids, no header, T given */
  const char *reg = "0.5,1.5,7\n0.25,2.5,7\n1,-1,8\n2,-2,8\n";
  nnf_csv_seq r = {-1, -1, 1, 2};
  CHECK_OK(nnf_csv_parse_steps(reg, strlen(reg), &r, &d, err, sizeof err));
  CHECK_EQ(d.count, 2);
  CHECK_EQ(d.features, 2);
  CHECK_EQ(d.targets, 1);
  CHECK_EQ(d.classes, 0);
  CHECK(d.x[0] == 0.5f && d.x[1] == 0.25f && d.x[2] == 1 && d.x[3] == 2);
  CHECK(d.t[0] == 2.5f && d.t[1] == -2.0f);
  nnf_dataset_free(&d);
  /* a file */
  char path[512];
  tmp_path(path, sizeof path, "steps.csv");
  write_bytes(path, text, strlen(text));
  o.steps = 0;
  CHECK_OK(nnf_dataset_load_csv_steps(path, &o, &d, err, sizeof err));
  CHECK_EQ(d.count, 2);
  CHECK_EQ(o.steps, 3);
  nnf_dataset_free(&d);

  /* bad input, with the exact messages */
  steps_bad("a,1,0\na,2,0\nb,3,1\n", 0, -1, 0, 0,
            "CSV data: sequence 'b' (lines 3-3) has 1 step, not 2 as sequence 'a' (lines 1-2)");
  steps_bad("id,x,y\nq,1,0\nq,2,0\nq,3,0\nr,1,1\nr,2,1\n", 0, -1, 0, 0,
            "CSV data: sequence 'r' (lines 5-6) has 2 steps, not 3 as sequence 'q' (lines 2-4)");
  steps_bad("a,1,0\na,2,0\nb,3,1\nb,4,1\n", 0, -1, 0, 3, "CSV data: sequence 'a' (lines 1-2) has 2 steps, not the 3 asked for");
  steps_bad("a,1,0\nb,2,0\na,3,1\n", 0, -1, 0, 0,
            "CSV data: sequence 'a' has lines 1-1 and again 3-3 (a sequence's lines are consecutive)");
  steps_bad("", 0, -1, 0, 0, "CSV data: no sequences");
  steps_bad("\n  \n", 0, -1, 0, 0, "CSV data: no sequences");
  steps_bad("id,x,label\n", 0, -1, 0, 0, "CSV data: no sequences");
  steps_bad("a,1,0\na,x1,0\n", 0, -1, 0, 0, "CSV data: line 2: field 2 ('x1') is not a number");
  steps_bad("a,1,0\na,1,0.5\n", 0, -1, 0, 0, "CSV data: line 2: label '0.5' is not an integer");
  steps_bad("a,1,0\na,1\n", 0, -1, 0, 0, "CSV data: line 2 has 2 fields, expected 3 (as on line 1)");
  steps_bad("a,1,0\n,1,0\n", 0, -1, 0, 0, "CSV data: line 2: the sequence id (field 1) is empty");
  steps_bad("a,0\n", 0, -1, 0, 0, "CSV data: line 1 has 2 fields (want a sequence id, a label and at least one feature)");
  steps_bad("a,1,0\n", 0, 0, 0, 0, "CSV data: the sequence id (column 0) is also a label column");
  steps_bad("a,1,0\n", 5, -1, 0, 0, "CSV data: sequence-id column 5, but line 1 has 3 fields");
  steps_bad("a,1,0\n", 0, 3, 0, 0, "CSV data: label column 3, but line 1 has 3 fields");
  steps_bad("1,2,a\n", -1, -1, 2, 0, "CSV data: line 1 has 3 fields (want a sequence id, the targets and at least one feature)");
  nnf_test_ctx("");
  nnf_csv_seq bado = {0, -1, -1, 0};
  CHECK_EQ(nnf_csv_parse_steps("a,1,0\n", 6, &bado, &d, err, sizeof err), -1);
  CHECK(!strcmp(err, "CSV data: bad sequence options"));
  CHECK_EQ(nnf_dataset_load_csv_steps("/nonexistent/steps.csv", &o, &d, err, sizeof err), -1);
  CHECK(strstr(err, "/nonexistent/steps.csv") != NULL);
}

int main(int argc, char **argv) {
  (void)argc;
  test_idx_roundtrip();
  test_idx_multimember();
  test_idx_errors();
  test_idx_gzip_errors();
  test_dataset_idx();
  test_mnist_dir();
  test_fashion();
  test_csv();
  test_csv_targets();
  test_csv_steps();
  test_slice();
  test_shuffle();
  return nnf_test_done(argv[0]);
}
