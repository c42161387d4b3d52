/*
 * test_safetensors.c - the safetensors reader and writer (nnf_safetensors.h).
 *
 *   round trip   every dtype, shapes from scalar [] and 0-element [0, 4] to
 *                rank 3, awkward names, metadata; read from the file and
 *                from memory; the byte layout (8-byte LE length, header
 *                padded with spaces to 8, tensors in the order given,
 *                "__metadata__" only when there is metadata); 8-byte
 *                alignment of every tensor handed out.
 *   atomic write a missing directory and a failed rename report an error and
 *                leave no temporary file; a refused write leaves the old
 *                file as it was; the writer's argument checks.
 *   hostile      a table of malformed files, each refused from memory and
 *                from disk with its message; a hand-made valid file (not
 *                padded, offsets not in header order) is accepted.
 *
 * The round-trip file stays in NNF_TEST_TMP as rt.safetensors, for
 * scripts/check_safetensors.py.
 */
#include "nnf_safetensors.h"
#include "nnf_test.h"

#include <dirent.h>
#include <sys/stat.h>

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
  buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Temporary files left in NNF_TEST_TMP ("*.tmp.*"). */
static int count_temp_files(void) {
  DIR *d = opendir(NNF_TEST_TMP);
  CHECK(d != NULL);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".safetensors.tmp.") != NULL;
  closedir(d);
  return n;
}

#define CHECK_ERR(rc, err, want)                                              \
  do {                                                                        \
    nnf_test_ctx("message '%s', want '%s'", (err), (want));                  \
    CHECK_EQ((rc), -1);                                                       \
    CHECK(strstr((err), (want)) != NULL);                                     \
    nnf_test_ctx("");                                                         \
  } while (0)

/* ---- round trip ----------------------------------------------------------- */

static float f32a[6] = {1.5f, -2.25f, 3.0e38f, -0.0f, 1e-40f, 7};
static double f64a[4] = {0.1, -1e300, 4.9e-324, 2};
static int8_t i8a[6] = {-128, -1, 0, 1, 2, 127};
static uint8_t u8a[5] = {0, 1, 128, 254, 255};
static int16_t i16a[4] = {-32768, -1, 2, 32767};
static int32_t i32a[3] = {INT32_MIN, 0, INT32_MAX};
static int64_t i64a[2] = {INT64_MIN, 0x0123456789ABCDEFll};
static float scalar = 3.25f;

#define NT 9
static const nnf_st_tensor rt_tensors[NT] = {
    {"layer1.weight", NNF_ST_F32, 2, {2, 3}, f32a},
    {"double", NNF_ST_F64, 1, {4}, f64a},
    {"i8 \"quoted\\\" name", NNF_ST_I8, 3, {3, 1, 2}, i8a},
    {"u8.\xc3\xa9t\xc3\xa9", NNF_ST_U8, 1, {5}, u8a},
    {"empty", NNF_ST_F32, 2, {0, 4}, NULL},
    {"i16", NNF_ST_I16, 2, {2, 2}, i16a},
    {"scalar", NNF_ST_F32, 0, {0}, &scalar},
    {"i32", NNF_ST_I32, 1, {3}, i32a},
    {"i64", NNF_ST_I64, 1, {2}, i64a},
};
static const char *const meta_k[2] = {"format", "note"};
static const char *const meta_v[2] = {"pt", "line 1\nline \"2\" \xc3\xbc\t\\"};

static size_t tensor_bytes(const nnf_st_tensor *t) {
  size_t n = nnf_st_dtype_size(t->dtype);
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
  return n;
}

static void check_same(const nnf_st_file *f) {
  CHECK_EQ(nnf_st_count(f), NT);
  for (int i = 0; i < NT; i++) {
    const nnf_st_tensor *a = nnf_st_get(f, i), *b = &rt_tensors[i];
    nnf_test_ctx("tensor %d", i);
    CHECK(a != NULL);
    CHECK(!strcmp(a->name, b->name));
    CHECK_EQ(a->dtype, b->dtype);
    CHECK_EQ(a->ndim, b->ndim);
    for (int d = 0; d < b->ndim; d++) CHECK_EQ(a->shape[d], b->shape[d]);
    CHECK(a->data != NULL);
    CHECK_EQ((uintptr_t)a->data % 8, 0);
    if (tensor_bytes(b)) CHECK_MEM_EQ(a->data, b->data, tensor_bytes(b));
    CHECK(nnf_st_find(f, b->name) == a);
  }
  nnf_test_ctx("");
  CHECK(nnf_st_get(f, NT) == NULL);
  CHECK(nnf_st_get(f, -1) == NULL);
  CHECK(nnf_st_find(f, "nope") == NULL);
  CHECK(!strcmp(nnf_st_meta(f, "format"), "pt"));
  CHECK(!strcmp(nnf_st_meta(f, "note"), meta_v[1]));
  CHECK(nnf_st_meta(f, "absent") == NULL);
}

/* 8-byte LE length, padded JSON header, then the tensors in the given order. */
static void check_layout(const uint8_t *buf, size_t len) {
  uint64_t hlen = le64(buf);
  CHECK_EQ(hlen % 8, 0);
  CHECK(8 + hlen <= len);
  CHECK_EQ(buf[8], '{');
  size_t at = 8 + (size_t)hlen;
  while (buf[at - 1] == ' ') at--;
  CHECK_EQ(buf[at - 1], '}');
  CHECK(8 + hlen - at < 8);
  char *hdr = malloc((size_t)hlen + 1);
  memcpy(hdr, buf + 8, (size_t)hlen);
  hdr[hlen] = 0;
  CHECK(strstr(hdr, "\"__metadata__\":{\"format\":\"pt\"") != NULL);
  CHECK(strstr(hdr, "\"data_offsets\":[0,24]") != NULL);
  free(hdr);
  size_t off = 8 + (size_t)hlen;
  for (int i = 0; i < NT; i++) {
    size_t nb = tensor_bytes(&rt_tensors[i]);
    if (nb) CHECK_MEM_EQ(buf + off, rt_tensors[i].data, nb);
    off += nb;
  }
  CHECK_EQ(off, len);
}

static void test_roundtrip(void) {
  char path[512], err[512] = "";
  tmp_path(path, sizeof path, "rt.safetensors");
  int rc = nnf_st_write(path, rt_tensors, NT, meta_k, meta_v, 2, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK_OK(rc);
  nnf_st_file *f = nnf_st_read(path, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(f != NULL);
  check_same(f);
  nnf_st_free(f);
  size_t len;
  uint8_t *buf = read_bytes(path, &len);
  check_layout(buf, len);
  f = nnf_st_parse(buf, len, err, sizeof err);
  CHECK(f != NULL);
  check_same(f);
  nnf_st_free(f);
  free(buf);
  nnf_st_free(NULL);
  CHECK_EQ(nnf_st_count(NULL), 0);
  CHECK_EQ(nnf_st_dtype_size(NNF_ST_I16), 2);
  CHECK(!strcmp(nnf_st_dtype_name(NNF_ST_I64), "I64"));
  CHECK(!strcmp(nnf_st_dtype_name((nnf_st_dtype)99), "?"));
  CHECK_EQ(nnf_st_dtype_size((nnf_st_dtype)99), 0);
}

/* No metadata: no "__metadata__"; no tensors at all: "{}" + 6 spaces. */
static void test_no_metadata(void) {
  char path[512], err[512];
  tmp_path(path, sizeof path, "nometa.safetensors");
  CHECK_OK(nnf_st_write(path, rt_tensors, 2, NULL, NULL, 0, err, sizeof err));
  size_t len;
  uint8_t *buf = read_bytes(path, &len);
  CHECK(strstr((const char *)buf + 8, "__metadata__") == NULL);
  free(buf);
  CHECK_OK(nnf_st_write(path, NULL, 0, NULL, NULL, 0, err, sizeof err));
  buf = read_bytes(path, &len);
  CHECK_EQ(len, 16);
  CHECK_EQ(le64(buf), 8);
  CHECK_MEM_EQ(buf + 8, "{}      ", 8);
  free(buf);
  nnf_st_file *f = nnf_st_read(path, err, sizeof err);
  CHECK(f != NULL);
  CHECK_EQ(nnf_st_count(f), 0);
  CHECK(nnf_st_meta(f, "format") == NULL);
  nnf_st_free(f);
}

/* ---- atomic writes and writer checks -------------------------------------- */

static void test_atomic(void) {
  char path[512], err[512];
  int before = count_temp_files();
  tmp_path(path, sizeof path, "no/such/dir/x.safetensors");
  CHECK_ERR(nnf_st_write(path, rt_tensors, 1, NULL, NULL, 0, err, sizeof err), err,
            "cannot create");
  CHECK(strstr(err, "No such file or directory") != NULL);
  /* The rename fails when the target is a directory: the temp file goes. */
  tmp_path(path, sizeof path, "isdir.safetensors");
  mkdir(path, 0755);
  CHECK_ERR(nnf_st_write(path, rt_tensors, 1, NULL, NULL, 0, err, sizeof err), err,
            "rename failed");
  CHECK_EQ(count_temp_files(), before);

  /* A write that is refused leaves the old file alone; a good one replaces it. */
  tmp_path(path, sizeof path, "keep.safetensors");
  CHECK_OK(nnf_st_write(path, rt_tensors, 2, NULL, NULL, 0, err, sizeof err));
  nnf_st_tensor dup[2] = {rt_tensors[0], rt_tensors[0]};
  CHECK_ERR(nnf_st_write(path, dup, 2, NULL, NULL, 0, err, sizeof err), err,
            "duplicate tensor name 'layer1.weight'");
  nnf_st_file *f = nnf_st_read(path, err, sizeof err);
  CHECK(f != NULL);
  CHECK_EQ(nnf_st_count(f), 2);
  nnf_st_free(f);
  CHECK_OK(nnf_st_write(path, rt_tensors + 5, 1, NULL, NULL, 0, err, sizeof err));
  f = nnf_st_read(path, err, sizeof err);
  CHECK(f != NULL);
  CHECK_EQ(nnf_st_count(f), 1);
  CHECK(!strcmp(nnf_st_get(f, 0)->name, "i16"));
  nnf_st_free(f);
  CHECK_EQ(count_temp_files(), before);
}

static void writer_bad(const nnf_st_tensor *t, int n, const char *const *mk,
                       const char *const *mv, int n_meta, const char *want) {
  char path[512], err[512] = "";
  tmp_path(path, sizeof path, "bad-args.safetensors");
  remove(path);
  CHECK_ERR(nnf_st_write(path, t, n, mk, mv, n_meta, err, sizeof err), err, want);
  FILE *fp = fopen(path, "rb");
  CHECK(fp == NULL);
}

static void test_writer_checks(void) {
  static const uint8_t b[4] = {0};
  nnf_st_tensor t = {"x", NNF_ST_U8, 1, {4}, b};
  t.name = "";
  writer_bad(&t, 1, NULL, NULL, 0, "name is empty");
  t.name = "__metadata__";
  writer_bad(&t, 1, NULL, NULL, 0, "reserved");
  t.name = "bad\xff";
  writer_bad(&t, 1, NULL, NULL, 0, "not UTF-8");
  t.name = "x";
  t.shape[0] = -4;
  writer_bad(&t, 1, NULL, NULL, 0, "tensor 'x': negative shape");
  t.shape[0] = 4;
  t.dtype = (nnf_st_dtype)42;
  writer_bad(&t, 1, NULL, NULL, 0, "bad dtype or rank");
  t.dtype = NNF_ST_U8;
  t.ndim = 9;
  writer_bad(&t, 1, NULL, NULL, 0, "bad dtype or rank");
  t.ndim = 2;
  t.shape[0] = t.shape[1] = (int64_t)1 << 40;
  writer_bad(&t, 1, NULL, NULL, 0, "size overflows");
  t.ndim = 1;
  t.shape[0] = 4;
  t.data = NULL;
  writer_bad(&t, 1, NULL, NULL, 0, "tensor 'x': no data");
  t.data = b;
  const char *const k2[2] = {"a", "a"}, *const v2[2] = {"1", "2"};
  writer_bad(&t, 1, k2, v2, 2, "duplicate metadata key 'a'");
  writer_bad(&t, 1, NULL, NULL, 1, "bad arguments");
  writer_bad(&t, -1, NULL, NULL, 0, "bad arguments");
  char err[64];
  CHECK_ERR(nnf_st_write(NULL, &t, 1, NULL, NULL, 0, err, sizeof err), err, "no path");
}

/* ---- hostile files -------------------------------------------------------- */

/* <u64 LE hlen> <header> <data_len zero bytes>, with hlen the header's
 * length unless forced. */
static uint8_t *st_file(const char *header, size_t data_len, int force, uint64_t hlen,
                        size_t *len) {
  size_t h = strlen(header);
  *len = 8 + h + data_len;
  uint8_t *buf = calloc(*len + 1, 1);
  CHECK(buf != NULL);
  uint64_t v = force ? hlen : h;
  for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(v >> (8 * i));
  memcpy(buf + 8, header, h);
  return buf;
}

#define T_U8(name, n, b, e) \
  "\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

typedef struct {
  const char *what, *header;
  size_t data_len;
  const char *want;
} hostile;

static const hostile hostiles[] = {
    {"not JSON", "{not json", 0, "header is not valid JSON"},
    {"junk after JSON", "{} x", 0, "header is not valid JSON"},
    {"not an object", "[1,2]", 0, "header is not a JSON object"},
    {"a string", "\"abc\"", 0, "header is not a JSON object"},
    {"offsets out of order", "{" T_U8("a", 4, 4, 0) "}", 4,
     "tensor 'a': data_offsets [4, 0] are out of order"},
    {"overlap", "{" T_U8("a", 8, 0, 8) "," T_U8("b", 8, 4, 12) "}", 12,
     "tensors 'a' and 'b' overlap"},
    {"empty inside another", "{" T_U8("a", 8, 0, 8) "," T_U8("z", 0, 4, 4) "}", 8, "overlap"},
    {"gap", "{" T_U8("a", 4, 0, 4) "," T_U8("b", 4, 8, 12) "}", 12,
     "gap in the data area: bytes 4..8 belong to no tensor"},
    {"leading gap", "{" T_U8("a", 4, 4, 8) "}", 8, "gap in the data area: bytes 0..4"},
    {"trailing bytes", "{" T_U8("a", 4, 0, 4) "}", 8, "gap in the data area: bytes 4..8"},
    {"data but no tensors", "{}", 8, "gap in the data area: bytes 0..8"},
    {"end beyond data", "{" T_U8("a", 8, 0, 8) "}", 4,
     "tensor 'a': data ends at 8, beyond the data area (4 bytes)"},
    {"size not shape * dtype",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
     "tensor 'a': data_offsets span 8 bytes but shape and dtype need 12"},
    {"negative shape", "{" T_U8("a", -1, 0, 0) "}", 0, "tensor 'a': shape entry 0 is negative"},
    {"fractional shape", "{" T_U8("a", 1.5, 0, 0) "}", 0, "shape entry 0 is not an integer"},
    {"huge shape", "{" T_U8("a", 1e20, 0, 0) "}", 0, "shape entry 0 is too large"},
    {"string shape", "{" T_U8("a", "3", 0, 0) "}", 0, "shape entry 0 is not a number"},
    {"shape not an array", "{\"a\":{\"dtype\":\"U8\",\"shape\":3,\"data_offsets\":[0,3]}}", 3,
     "shape is not an array"},
    {"rank 9", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
     1, "shape has more than 8 dimensions"},
    {"shape product overflows int64",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
     "tensor 'a': shape product overflows int64"},
    {"bytes overflow int64",
     "{\"a\":{\"dtype\":\"F64\",\"shape\":[4503599627370496,1024],\"data_offsets\":[0,0]}}", 0,
     "shape product overflows int64"},
    {"negative offset", "{" T_U8("a", 0, -1, 0) "}", 0, "data_offsets entry is negative"},
    {"one offset", "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0]}}", 0,
     "data_offsets is not an array of two"},
    {"unknown dtype", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
     "tensor 'a': unknown dtype Q7"},
    {"unsupported dtype", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
     "tensor 'a': unsupported dtype BF16"},
    {"dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
     "dtype is not a string"},
    {"missing dtype", "{\"a\":{\"shape\":[0],\"data_offsets\":[0,0]}}", 0, "tensor 'a': no dtype"},
    {"repeated field", "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
     0, "duplicate field 'dtype'"},
    {"entry not an object", "{\"a\":1}", 0, "tensor 'a': entry is not an object"},
    {"metadata value not a string", "{\"__metadata__\":{\"k\":1}}", 0,
     "metadata 'k' is not a string"},
    {"metadata not an object", "{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not an object"},
    {"duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
     "duplicate metadata key 'k'"},
    {"two metadata objects", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
     "duplicate key '__metadata__'"},
    {"duplicate tensor name", "{" T_U8("a", 4, 0, 4) "," T_U8("a", 4, 4, 8) "}", 8,
     "duplicate key 'a' in the header"},
    {"invalid UTF-8", "{\"a\xff\":{}}", 0, "header is not valid UTF-8"},
    {"overlong UTF-8", "{\"a\xc0\xaf\":{}}", 0, "header is not valid UTF-8"},
};

/* Refused from memory and from a file, with the same message. */
static void check_hostile(const char *what, const uint8_t *buf, size_t len, const char *want) {
  char path[512], err[512] = "";
  nnf_test_ctx("%s", what);
  nnf_st_file *f = nnf_st_parse(buf, len, err, sizeof err);
  nnf_test_ctx("%s: message '%s', want '%s'", what, err, want);
  CHECK(f == NULL);
  CHECK(strstr(err, want) != NULL);
  write_bytes(tmp_path(path, sizeof path, "hostile.safetensors"), buf, len);
  err[0] = 0;
  f = nnf_st_read(path, err, sizeof err);
  nnf_test_ctx("%s (file): message '%s', want '%s'", what, err, want);
  CHECK(f == NULL);
  CHECK(strstr(err, want) != NULL);
  CHECK(strncmp(err, path, strlen(path)) == 0);
  nnf_test_ctx("");
}

static void test_hostile(void) {
  size_t len;
  for (size_t i = 0; i < sizeof hostiles / sizeof hostiles[0]; i++) {
    uint8_t *buf = st_file(hostiles[i].header, hostiles[i].data_len, 0, 0, &len);
    check_hostile(hostiles[i].what, buf, len, hostiles[i].want);
    free(buf);
  }
  uint8_t *buf = st_file("{}", 10, 1, 1000, &len);
  check_hostile("header length > file size", buf, len,
                "header length 1000 runs past the end of the file (20 bytes)");
  free(buf);
  buf = st_file("{}", 0, 1, (uint64_t)1 << 63, &len);
  check_hostile("header length 2^63", buf, len,
                "header length 9223372036854775808 exceeds the 100000000-byte limit");
  free(buf);
  buf = st_file("{}", 0, 1, 0, &len);
  check_hostile("header length 0", buf, len, "header length 0 is too small");
  free(buf);
  buf = st_file("", 0, 0, 0, &len);
  check_hostile("7 bytes", buf, 7, "7 bytes, too short for a safetensors file");
  check_hostile("empty", buf, 0, "0 bytes, too short");
  free(buf);
  buf = st_file("{\"a\":{}}", 0, 0, 0, &len);
  buf[8 + 3] = 0; /* a NUL inside the key */
  check_hostile("NUL byte", buf, len, "header contains a NUL byte");
  free(buf);
}

/* Written by hand: header not padded, offsets not in header order, a
 * zero-size tensor, null metadata, an unknown field (ignored, as by the
 * reference implementation), trailing spaces. */
static void test_handmade(void) {
  const char *hdr = "{\"__metadata__\":null,"
                    "\"b\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                    "\"a\":{\"data_offsets\":[0,4],\"shape\":[2,2],\"x\":[{}],\"dtype\":\"U8\"},"
                    "\"z\":{\"dtype\":\"F64\",\"shape\":[0,3],\"data_offsets\":[8,8]}}  ";
  size_t len;
  uint8_t *buf = st_file(hdr, 8, 0, 0, &len);
  for (int i = 0; i < 8; i++) buf[len - 8 + i] = (uint8_t)(i + 1);
  char err[512] = "";
  nnf_st_file *f = nnf_st_parse(buf, len, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(f != NULL);
  nnf_test_ctx("");
  CHECK_EQ(nnf_st_count(f), 3);
  const nnf_st_tensor *b = nnf_st_get(f, 0), *a = nnf_st_get(f, 1), *z = nnf_st_get(f, 2);
  CHECK(!strcmp(b->name, "b") && !strcmp(a->name, "a") && !strcmp(z->name, "z"));
  CHECK_EQ(a->ndim, 2);
  CHECK_MEM_EQ(a->data, "\x01\x02\x03\x04", 4);
  CHECK_EQ(((const int16_t *)b->data)[0], 0x0605);
  CHECK_EQ(((const int16_t *)b->data)[1], 0x0807);
  CHECK_EQ(z->shape[0], 0);
  CHECK_EQ(z->shape[1], 3);
  CHECK(nnf_st_meta(f, "x") == NULL);
  nnf_st_free(f);
  free(buf);
}

int main(int argc, char **argv) {
  (void)argc;
  test_roundtrip();
  test_no_metadata();
  test_atomic();
  test_writer_checks();
  test_hostile();
  test_handmade();
  return nnf_test_done(argv[0]);
}
