/*
 * nnf_data.c - data sets for libnnf (see nnf_data.h).
 *
 *   IDX      header = 0x00 0x00 <dtype> <ndims>, then ndims big-endian uint32
 *            dimensions, then the values, big-endian, row-major. Read from
 *            memory or from a file; a gzip file (magic 1f 8b) is inflated
 *            with zlib's inflate API under a cap derived from
 *            NNF_DATA_MAX_BYTES (concatenated gzip members are accepted).
 *   datasets an image IDX plus a label IDX; the MNIST directory layout.
 *   CSV      numbers separated by commas, one sample per line, no quoting.
 *   shuffle  splitmix64 + Fisher-Yates with unbiased bounded draws.
 *
 * Every parser checks sizes before it allocates, guards each multiplication
 * against overflow, and on failure frees what it allocated and writes one
 * message naming the input ("<path>: ...", or "IDX data" / "CSV data" for
 * memory) and the problem.
 */
#define _POSIX_C_SOURCE 200809L
#include "nnf_data.h"
#include "nnf_err.h"
#include "nnf_util.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* Largest IDX image: the data cap plus the largest header. */
#define IDX_MAX_IMAGE (NNF_DATA_MAX_BYTES + 4 + 4 * NNF_IDX_MAX_DIMS)
/* Largest gzip file we read: stored deflate blocks cost 5 bytes per 64 KiB,
 * plus the gzip header and trailer; /128 leaves plenty of room. */
#define GZ_MAX_FILE (IDX_MAX_IMAGE + IDX_MAX_IMAGE / 128 + 65536)
/* Deflate cannot expand data by more than about 1032:1. */
#define GZ_MAX_RATIO 1040

/* ---- small helpers -------------------------------------------------------- */

/* *out = a * b; -1 if that overflows size_t. */
static int mul_size(size_t a, size_t b, size_t *out) {
  if (b && a > SIZE_MAX / b) return -1;
  *out = a * b;
  return 0;
}

/* malloc that never returns NULL for a zero size (so "no data" is not "no
 * memory"); n elements of size bytes, overflow-checked. */
static void *alloc_n(size_t n, size_t size) {
  size_t bytes;
  if (mul_size(n, size, &bytes)) return NULL;
  return malloc(bytes ? bytes : 1);
}

/* Read a whole file (at most cap bytes) into a fresh buffer. */
static int read_all(const char *path, size_t cap, uint8_t **bufp, size_t *lenp, char *err,
                    size_t errlen) {
  *bufp = NULL;
  *lenp = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return nnf_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  size_t size = 65536;
  if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
    if ((unsigned long long)st.st_size > cap) {
      fclose(fp);
      return nnf_fail(err, errlen, "%s: file is %lld bytes, more than the %zu-byte limit", path,
                  (long long)st.st_size, cap);
    }
    size = (size_t)st.st_size + 1; /* +1: the read that sees EOF */
  }
  uint8_t *buf = malloc(size);
  size_t len = 0;
  while (buf) {
    len += fread(buf + len, 1, size - len, fp);
    if (len < size) break; /* EOF or error */
    if (size > cap) break; /* more than cap bytes */
    size_t grown = size > cap / 2 ? cap + 1 : size * 2;
    uint8_t *nb = realloc(buf, grown);
    if (!nb) {
      free(buf);
      buf = NULL;
    } else {
      buf = nb;
      size = grown;
    }
  }
  int bad = ferror(fp);
  int saved = errno;
  fclose(fp);
  if (!buf) return nnf_fail(err, errlen, "%s: out of memory reading the file", path);
  if (bad) {
    free(buf);
    return nnf_fail(err, errlen, "%s: read error: %s", path, strerror(saved));
  }
  if (len > cap) {
    free(buf);
    return nnf_fail(err, errlen, "%s: file is more than the %zu-byte limit", path, cap);
  }
  *bufp = buf;
  *lenp = len;
  return 0;
}

/* ---- gzip ----------------------------------------------------------------- */

static int is_gzip(const uint8_t *buf, size_t len) {
  return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* Initial output size: the gzip trailer's ISIZE (size mod 2^32 of the last
 * member) when plausible, never more than the input could inflate to. */
static size_t gz_first_size(const uint8_t *in, size_t inlen, size_t cap) {
  size_t most = cap + 1;
  if (inlen < cap / GZ_MAX_RATIO - 1024) most = inlen * GZ_MAX_RATIO + 1024;
  size_t hint = 4096;
  if (inlen >= 18) {
    const uint8_t *p = in + inlen - 4;
    hint = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    hint += 1; /* room to see the end without growing */
  }
  if (hint > most) hint = most;
  return hint < 64 ? 64 : hint;
}

/* Make room for more output: grow *buf (of *size bytes) up to cap + 1. */
static int gz_grow(uint8_t **buf, size_t *size, size_t cap) {
  if (*size > cap) return -1;
  size_t grown = *size > cap / 2 ? cap + 1 : *size * 2;
  uint8_t *nb = realloc(*buf, grown);
  if (!nb) return -2;
  *buf = nb;
  *size = grown;
  return 0;
}

/* Run inflate over all of `in` (one or more gzip members) into *out. */
static int gz_run(const char *name, z_stream *zs, const uint8_t *in, size_t inlen, size_t cap,
                  uint8_t **out, size_t *outlen, char *err, size_t errlen) {
  size_t size = gz_first_size(in, inlen, cap), pos = 0, used = 0;
  uint8_t *buf = malloc(size);
  if (!buf) return nnf_fail(err, errlen, "%s: out of memory inflating", name);
  for (;;) {
    if (used == size) {
      int g = gz_grow(&buf, &size, cap);
      if (g) {
        free(buf);
        if (g == -2) return nnf_fail(err, errlen, "%s: out of memory inflating", name);
        return nnf_fail(err, errlen, "%s: gzip data inflates to more than %zu bytes", name, cap);
      }
    }
    size_t in_chunk = inlen - pos > (1u << 30) ? (1u << 30) : inlen - pos;
    size_t out_chunk = size - used > (1u << 30) ? (1u << 30) : size - used;
    zs->next_in = (Bytef *)(uintptr_t)(in + pos);
    zs->avail_in = (uInt)in_chunk;
    zs->next_out = buf + used;
    zs->avail_out = (uInt)out_chunk;
    int ret = inflate(zs, Z_NO_FLUSH);
    pos += in_chunk - zs->avail_in;
    used += out_chunk - zs->avail_out;
    if (ret == Z_STREAM_END) {
      if (pos == inlen) break;
      if (!is_gzip(in + pos, inlen - pos)) {
        free(buf);
        return nnf_fail(err, errlen, "%s: %zu bytes of trailing garbage after the gzip stream", name,
                    inlen - pos);
      }
      if (inflateReset(zs) != Z_OK) ret = Z_STREAM_ERROR;
      else continue; /* the next member */
    }
    if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR) {
      const char *why = zs->msg ? zs->msg : "bad data";
      nnf_fail(err, errlen, "%s: corrupt gzip stream (%s)", name, why);
      free(buf);
      return -1;
    }
    if (ret == Z_MEM_ERROR) {
      free(buf);
      return nnf_fail(err, errlen, "%s: out of memory inflating", name);
    }
    /* Z_OK or Z_BUF_ERROR: stuck for want of input means truncated. */
    if (zs->avail_out > 0 && pos == inlen) {
      free(buf);
      return nnf_fail(err, errlen, "%s: truncated gzip stream", name);
    }
  }
  if (used > cap) {
    free(buf);
    return nnf_fail(err, errlen, "%s: gzip data inflates to more than %zu bytes", name, cap);
  }
  *out = buf;
  *outlen = used;
  return 0;
}

/* Inflate a whole gzip image (at most cap bytes of output). */
static int gunzip(const char *name, const uint8_t *in, size_t inlen, size_t cap, uint8_t **out,
                  size_t *outlen, char *err, size_t errlen) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return nnf_fail(err, errlen, "%s: cannot initialise zlib", name);
  int rc = gz_run(name, &zs, in, inlen, cap, out, outlen, err, errlen);
  inflateEnd(&zs);
  return rc;
}

/* ---- IDX ------------------------------------------------------------------ */

static size_t idx_elem_size(int dtype) {
  switch (dtype) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* One stored value (two's complement integers, IEEE floats) as a float. */
static float idx_value(int dtype, const uint8_t *p) {
  switch (dtype) {
    case 0x08: return (float)p[0];
    case 0x09: return (float)((int)p[0] - (p[0] >= 0x80 ? 0x100 : 0));
    case 0x0B: {
      int32_t u = p[0] << 8 | p[1];
      return (float)(u - (u >= 0x8000 ? 0x10000 : 0));
    }
    case 0x0C: {
      int64_t u = be32(p);
      return (float)(u - (u >= 0x80000000ll ? 0x100000000ll : 0));
    }
    case 0x0D: {
      uint32_t u = be32(p);
      float f;
      memcpy(&f, &u, sizeof f);
      return f;
    }
    default: {
      uint64_t u = be64(p);
      double d;
      memcpy(&d, &u, sizeof d);
      return (float)d; /* IEEE: out of range becomes +-inf */
    }
  }
}

/* Check the 4-byte prefix and the dimensions; fills a->dtype/ndims/dims and
 * *hdr (header bytes) and *bytes (data bytes the header promises). */
static int idx_header(const char *name, const uint8_t *buf, size_t len, nnf_idx *a, size_t *hdr,
                      size_t *bytes, char *err, size_t errlen) {
  if (len < 4)
    return nnf_fail(err, errlen, "%s: truncated header (%zu bytes, an IDX header has at least 4)",
                name, len);
  if (buf[0] || buf[1])
    return nnf_fail(err, errlen, "%s: wrong magic 0x%08x (want an IDX file)", name, be32(buf));
  a->dtype = buf[2];
  a->ndims = buf[3];
  size_t esize = idx_elem_size(a->dtype);
  if (!esize) return nnf_fail(err, errlen, "%s: unknown IDX dtype 0x%02x", name, a->dtype);
  if (a->ndims < 1 || a->ndims > NNF_IDX_MAX_DIMS)
    return nnf_fail(err, errlen, "%s: %d dimensions (want 1..%d)", name, a->ndims,
                NNF_IDX_MAX_DIMS);
  *hdr = 4 + 4 * (size_t)a->ndims;
  if (len < *hdr)
    return nnf_fail(err, errlen, "%s: truncated header (%zu bytes, %d dimensions need %zu)", name,
                len, a->ndims, *hdr);
  int zero = 0;
  for (int i = 0; i < a->ndims; i++) {
    a->dims[i] = be32(buf + 4 + 4 * i);
    zero |= a->dims[i] == 0;
  }
  size_t count = zero ? 0 : 1;
  for (int i = 0; i < a->ndims && count; i++)
    if (mul_size(count, a->dims[i], &count)) count = SIZE_MAX;
  if (count == SIZE_MAX || mul_size(count, esize, bytes) || *bytes > NNF_DATA_MAX_BYTES)
    return nnf_fail(err, errlen, "%s: dimensions ask for more than %zu bytes of data", name,
                (size_t)NNF_DATA_MAX_BYTES);
  a->count = count;
  return 0;
}

static int idx_parse_named(const char *name, const uint8_t *buf, size_t len, nnf_idx *out,
                           char *err, size_t errlen) {
  nnf_idx a;
  memset(&a, 0, sizeof a);
  memset(out, 0, sizeof *out);
  size_t hdr = 0, bytes = 0;
  if (idx_header(name, buf, len, &a, &hdr, &bytes, err, errlen)) return -1;
  if (len - hdr != bytes)
    return nnf_fail(err, errlen, "%s: header says %zu bytes of data, file has %zu", name, bytes,
                len - hdr);
  a.data = alloc_n(a.count, sizeof *a.data);
  if (!a.data) return nnf_fail(err, errlen, "%s: out of memory (%zu values)", name, a.count);
  size_t esize = idx_elem_size(a.dtype);
  for (size_t i = 0; i < a.count; i++) a.data[i] = idx_value(a.dtype, buf + hdr + i * esize);
  *out = a;
  return 0;
}

/* Raw or gzip image in memory; name is used in messages. */
static int idx_parse_any_named(const char *name, const uint8_t *buf, size_t len, nnf_idx *out,
                               char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!is_gzip(buf, len)) return idx_parse_named(name, buf, len, out, err, errlen);
  uint8_t *raw = NULL;
  size_t rawlen = 0;
  if (gunzip(name, buf, len, IDX_MAX_IMAGE, &raw, &rawlen, err, errlen)) return -1;
  int rc = idx_parse_named(name, raw, rawlen, out, err, errlen);
  free(raw);
  return rc;
}

int nnf_idx_parse(const uint8_t *buf, size_t len, nnf_idx *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "IDX data: no output");
  memset(out, 0, sizeof *out);
  if (!buf && len) return nnf_fail(err, errlen, "IDX data: NULL buffer");
  return idx_parse_named("IDX data", buf, len, out, err, errlen);
}

int nnf_idx_parse_any(const uint8_t *buf, size_t len, nnf_idx *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "IDX data: no output");
  memset(out, 0, sizeof *out);
  if (!buf && len) return nnf_fail(err, errlen, "IDX data: NULL buffer");
  return idx_parse_any_named("IDX data", buf, len, out, err, errlen);
}

int nnf_idx_read(const char *path, nnf_idx *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "nnf_idx_read: no output");
  memset(out, 0, sizeof *out);
  if (!path) return nnf_fail(err, errlen, "nnf_idx_read: no path");
  uint8_t *buf = NULL;
  size_t len = 0;
  if (read_all(path, GZ_MAX_FILE, &buf, &len, err, errlen)) return -1;
  int rc = idx_parse_any_named(path, buf, len, out, err, errlen);
  free(buf);
  return rc;
}

void nnf_idx_free(nnf_idx *a) {
  if (!a) return;
  free(a->data);
  memset(a, 0, sizeof *a);
}

/* ---- datasets ------------------------------------------------------------- */

void nnf_dataset_free(nnf_dataset *d) {
  if (!d) return;
  free(d->x);
  free(d->y);
  free(d->t);
  memset(d, 0, sizeof *d);
}

/* Labels as int32 in 0..255; *classes = max + 1, at least 2. */
static int labels_from_idx(const char *name, const nnf_idx *yi, int32_t **yp, int *classes,
                           char *err, size_t errlen) {
  int32_t *y = alloc_n(yi->count, sizeof *y);
  if (!y) return nnf_fail(err, errlen, "%s: out of memory (%zu labels)", name, yi->count);
  int32_t most = 1;
  for (size_t i = 0; i < yi->count; i++) {
    float v = yi->data[i];
    if (!(v >= 0.0f && v <= 255.0f && v == floorf(v))) {
      free(y);
      return nnf_fail(err, errlen, "%s: label %g at index %zu is out of range (want 0..255)", name,
                  (double)v, i);
    }
    y[i] = (int32_t)v;
    if (y[i] > most) most = y[i];
  }
  *yp = y;
  *classes = most + 1;
  return 0;
}

/* Build a dataset from parsed images and labels; takes xi->data on success. */
static int dataset_from_idx(const char *images, const char *labels, nnf_idx *xi, nnf_idx *yi,
                            nnf_dataset *out, char *err, size_t errlen) {
  if (yi->ndims != 1)
    return nnf_fail(err, errlen, "%s: labels have %d dimensions (want 1)", labels, yi->ndims);
  size_t n = xi->dims[0], features = 1;
  for (int i = 1; i < xi->ndims; i++)
    if (mul_size(features, xi->dims[i], &features))
      return nnf_fail(err, errlen, "%s: sample size overflows", images);
  if (yi->dims[0] != n)
    return nnf_fail(err, errlen, "%s: %zu images but %u labels", labels, n, yi->dims[0]);
  if (labels_from_idx(labels, yi, &out->y, &out->classes, err, errlen)) return -1;
  if (xi->dtype == 0x08)
    for (size_t i = 0; i < xi->count; i++) xi->data[i] /= 255.0f;
  out->x = xi->data;
  xi->data = NULL;
  out->count = n;
  out->features = features;
  return 0;
}

int nnf_dataset_load_idx(const char *images, const char *labels, nnf_dataset *out, char *err,
                         size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "nnf_dataset_load_idx: no output");
  memset(out, 0, sizeof *out);
  if (!images || !labels) return nnf_fail(err, errlen, "nnf_dataset_load_idx: no path");
  nnf_idx xi, yi;
  if (nnf_idx_read(images, &xi, err, errlen)) return -1;
  if (nnf_idx_read(labels, &yi, err, errlen)) {
    nnf_idx_free(&xi);
    return -1;
  }
  int rc = dataset_from_idx(images, labels, &xi, &yi, out, err, errlen);
  nnf_idx_free(&xi);
  nnf_idx_free(&yi);
  return rc;
}

/* dir/base.gz if it exists, else dir/base if it exists. */
static int mnist_path(const char *dir, const char *base, char *path, size_t size, char *err,
                      size_t errlen) {
  struct stat st;
  int n = snprintf(path, size, "%s/%s.gz", dir, base);
  if (n < 0 || (size_t)n >= size) return nnf_fail(err, errlen, "%s: path too long", dir);
  if (stat(path, &st) == 0) return 0;
  snprintf(path, size, "%s/%s", dir, base);
  if (stat(path, &st) == 0) return 0;
  return nnf_fail(err, errlen, "%s: neither %s.gz nor %s found", dir, base, base);
}

int nnf_dataset_load_mnist_dir(const char *dir, int train, nnf_dataset *out, char *err,
                               size_t errlen) {
  static const char *const names[2][2] = {
      {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
      {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
  };
  if (!out) return nnf_fail(err, errlen, "nnf_dataset_load_mnist_dir: no output");
  memset(out, 0, sizeof *out);
  if (!dir) dir = NNF_FASHION_DEFAULT;
  char images[4096], labels[4096];
  if (mnist_path(dir, names[train != 0][0], images, sizeof images, err, errlen) ||
      mnist_path(dir, names[train != 0][1], labels, sizeof labels, err, errlen))
    return -1;
  return nnf_dataset_load_idx(images, labels, out, err, errlen);
}

/* ---- CSV ------------------------------------------------------------------ */

typedef struct {
  const char *p;
  size_t n;
} span;

typedef struct {
  const char *name; /* for messages */
  const char *buf;
  size_t len, pos;  /* cursor */
  size_t lineno;    /* of the line last returned */
} csv_reader;

/* Next physical line (without its '\n' or "\r\n"); 0 at the end. */
static int csv_next_line(csv_reader *r, span *line) {
  if (r->pos >= r->len) return 0;
  const char *s = r->buf + r->pos;
  const char *nl = memchr(s, '\n', r->len - r->pos);
  size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
  r->pos += n + (nl != NULL);
  r->lineno++;
  if (n && s[n - 1] == '\r') n--;
  line->p = s;
  line->n = n;
  return 1;
}

static int is_blank_char(char c) { return c == ' ' || c == '\t'; }

static span trim(span s) {
  while (s.n && is_blank_char(s.p[0])) s.p++, s.n--;
  while (s.n && is_blank_char(s.p[s.n - 1])) s.n--;
  return s;
}

static int is_blank_line(span s) { return trim(s).n == 0; }

static size_t field_count(span line) {
  size_t n = 1;
  for (size_t i = 0; i < line.n; i++) n += line.p[i] == ',';
  return n;
}

/* Split off the field at the front of *rest (trimmed). */
static span next_field(span *rest) {
  const char *c = memchr(rest->p, ',', rest->n);
  span f = {rest->p, c ? (size_t)(c - rest->p) : rest->n};
  rest->p += f.n + (c != NULL);
  rest->n -= f.n + (c != NULL);
  return trim(f);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal syntax: [+-] digits [. digits] [(e|E) [+-] digits], at least one
 * mantissa digit; no inf, nan or hex. */
static int number_syntax_ok(span s) {
  size_t i = 0, mant = 0;
  if (i < s.n && (s.p[i] == '+' || s.p[i] == '-')) i++;
  while (i < s.n && is_digit(s.p[i])) i++, mant++;
  if (i < s.n && s.p[i] == '.') {
    i++;
    while (i < s.n && is_digit(s.p[i])) i++, mant++;
  }
  if (!mant) return 0;
  if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
    i++;
    if (i < s.n && (s.p[i] == '+' || s.p[i] == '-')) i++;
    size_t exp = 0;
    while (i < s.n && is_digit(s.p[i])) i++, exp++;
    if (!exp) return 0;
  }
  return i == s.n;
}

/* Parse one field as a finite float-range number, whatever the locale:
 * strtod sees the locale's own decimal point. 0 ok, -1 not a number,
 * -2 out of float range. */
static int parse_number(span s, double *v) {
  char tmp[512];
  if (!number_syntax_ok(s)) return -1;
  const char *dp = localeconv()->decimal_point;
  size_t dpl = dp && dp[0] ? strlen(dp) : 1, k = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (k + dpl + 1 >= sizeof tmp) return -1; /* absurdly long */
    if (s.p[i] == '.' && dp && dp[0]) {
      memcpy(tmp + k, dp, dpl);
      k += dpl;
    } else {
      tmp[k++] = s.p[i];
    }
  }
  tmp[k] = '\0';
  char *end;
  double d = strtod(tmp, &end);
  if (end != tmp + k) return -1;
  if (!isfinite(d) || isinf((float)d)) return -2;
  *v = d;
  return 0;
}

/* 1 if every field of the line is a number (a data line), 0 if not. */
static int line_is_numeric(span line) {
  span rest = line;
  size_t n = field_count(line);
  for (size_t i = 0; i < n; i++) {
    double v;
    span f = next_field(&rest);
    if (!f.n || parse_number(f, &v)) return 0;
  }
  return 1;
}

typedef struct {
  size_t fields;   /* per line */
  size_t label;    /* column of the label (or of the first target) */
  size_t first;    /* line number of the line that set `fields` */
  size_t targets;  /* float targets from column `label` on (0: one integer label) */
  size_t skip;     /* a column that is neither (a sequence id), or SIZE_MAX */
} csv_shape;

/* Field, number and label checks for one data line; writes x and *y. */
static int csv_data_line(const csv_reader *r, span line, const csv_shape *sh, float *x,
                         int32_t *y, float *t, char *err, size_t errlen) {
  span rest = line;
  for (size_t i = 0; i < sh->fields; i++) {
    span f = next_field(&rest);
    double v;
    if (i == sh->skip) continue;
    if (!f.n)
      return nnf_fail(err, errlen, "%s: line %zu: field %zu is empty", r->name, r->lineno, i + 1);
    int rc = parse_number(f, &v);
    int show = f.n > 40 ? 40 : (int)f.n;
    if (rc)
      return nnf_fail(err, errlen, "%s: line %zu: field %zu ('%.*s') %s", r->name, r->lineno,
                  i + 1, show, f.p, rc == -1 ? "is not a number" : "is out of float range");
    if (sh->targets && i >= sh->label && i - sh->label < sh->targets) {
      *t++ = (float)v;
      continue;
    }
    if (sh->targets || i != sh->label) {
      *x++ = (float)v;
      continue;
    }
    if (v < 0)
      return nnf_fail(err, errlen, "%s: line %zu: label '%.*s' is negative", r->name, r->lineno,
                  show, f.p);
    if (v != floor(v))
      return nnf_fail(err, errlen, "%s: line %zu: label '%.*s' is not an integer", r->name,
                  r->lineno, show, f.p);
    if (v > 65535)
      return nnf_fail(err, errlen, "%s: line %zu: label '%.*s' is above 65535", r->name,
                  r->lineno, show, f.p);
    *y = (int32_t)v;
  }
  return 0;
}

/* The first non-blank line fixes the field count and the label column; a
 * non-numeric first line is a header. */
static int csv_first_line(csv_reader *r, int label_col, csv_shape *sh, int *header, char *err,
                          size_t errlen) {
  size_t nt = sh->targets ? sh->targets : 1;
  span line;
  do {
    if (!csv_next_line(r, &line)) return nnf_fail(err, errlen, "%s: no samples", r->name);
  } while (is_blank_line(line));
  sh->fields = field_count(line);
  sh->first = r->lineno;
  if (sh->fields < nt + 1 && !sh->targets)
    return nnf_fail(err, errlen, "%s: line %zu has one field (want a label and features)", r->name, r->lineno);
  if (sh->fields < nt + 1)
    return nnf_fail(err, errlen, "%s: line %zu has %zu fields (want %zu targets and at least one feature)",
                r->name, r->lineno, sh->fields, nt);
  if (label_col < -1 || (label_col >= 0 && (size_t)label_col + nt > sh->fields))
    return nnf_fail(err, errlen, "%s: %s column %d%s, but line %zu has %zu fields", r->name,
                sh->targets ? "target" : "label", label_col, sh->targets ? " and the targets after it" : "",
                r->lineno, sh->fields);
  sh->label = label_col < 0 ? sh->fields - nt : (size_t)label_col;
  *header = !line_is_numeric(line);
  if (!*header) { /* rewind: the line is data */
    r->pos = (size_t)(line.p - r->buf);
    r->lineno--;
  }
  return 0;
}

/* Upper bound on the data lines left: those from the cursor with the right
 * field count (so rows * fields never exceeds the input size). */
static size_t csv_count_lines(csv_reader r, size_t fields) {
  size_t n = 0;
  span line;
  while (csv_next_line(&r, &line)) n += !is_blank_line(line) && field_count(line) == fields;
  return n;
}

static int csv_parse_named(const char *name, const char *buf, size_t len, int label_col, size_t ntargets,
                           nnf_dataset *out, char *err, size_t errlen) {
  csv_reader r = {name, buf, len, 0, 0};
  csv_shape sh = {0, 0, 0, ntargets, SIZE_MAX};
  int header = 0;
  if (csv_first_line(&r, label_col, &sh, &header, err, errlen)) return -1;
  size_t rows = csv_count_lines(r, sh.fields), nt = ntargets, features = sh.fields - (nt ? nt : 1);
  float *x = alloc_n(rows, features * sizeof(float)); /* features < len: no overflow */
  int32_t *y = calloc(rows ? rows : 1, sizeof *y);
  float *t = nt ? alloc_n(rows, nt * sizeof(float)) : NULL;
  if (!x || !y || (nt && !t)) {
    free(x);
    free(y);
    free(t);
    return nnf_fail(err, errlen, "%s: out of memory (%zu lines)", name, rows);
  }
  size_t n = 0;
  int32_t most = 1;
  span line;
  while (csv_next_line(&r, &line)) {
    if (is_blank_line(line)) continue;
    size_t nf = field_count(line);
    int rc = nf != sh.fields
                 ? nnf_fail(err, errlen, "%s: line %zu has %zu fields, expected %zu (as on line %zu)",
                        name, r.lineno, nf, sh.fields, sh.first)
                 : csv_data_line(&r, line, &sh, x + n * features, y + n, t ? t + n * nt : NULL, err, errlen);
    if (rc) {
      free(x);
      free(y);
      free(t);
      return -1;
    }
    if (y[n] > most) most = y[n];
    n++;
  }
  if (!n) {
    free(x);
    free(y);
    free(t);
    return nnf_fail(err, errlen, "%s: no samples", name);
  }
  out->count = n;
  out->features = features;
  out->classes = nt ? 0 : most + 1;
  out->x = x;
  out->y = y;
  out->targets = nt;
  out->t = t;
  return 0;
}

int nnf_csv_parse(const char *buf, size_t len, int label_col, nnf_dataset *out, char *err,
                  size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "CSV data: no output");
  memset(out, 0, sizeof *out);
  if (!buf && len) return nnf_fail(err, errlen, "CSV data: NULL buffer");
  return csv_parse_named("CSV data", buf, len, label_col, 0, out, err, errlen);
}

int nnf_csv_parse_targets(const char *buf, size_t len, int first_col, int ntargets, nnf_dataset *out,
                          char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "CSV data: no output");
  memset(out, 0, sizeof *out);
  if (!buf && len) return nnf_fail(err, errlen, "CSV data: NULL buffer");
  if (ntargets < 1) return nnf_fail(err, errlen, "CSV data: %d target columns (want >= 1)", ntargets);
  return csv_parse_named("CSV data", buf, len, first_col, (size_t)ntargets, out, err, errlen);
}

/* Either CSV form from a file (ntargets 0: one integer label). */
static int load_csv(const char *path, int col, int ntargets, nnf_dataset *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "nnf_dataset_load_csv: no output");
  memset(out, 0, sizeof *out);
  if (!path) return nnf_fail(err, errlen, "nnf_dataset_load_csv: no path");
  if (ntargets < 0) return nnf_fail(err, errlen, "%s: %d target columns", path, ntargets);
  uint8_t *buf = NULL;
  size_t len = 0;
  if (read_all(path, NNF_DATA_MAX_BYTES, &buf, &len, err, errlen)) return -1;
  int rc = csv_parse_named(path, (const char *)buf, len, col, (size_t)ntargets, out, err, errlen);
  free(buf);
  return rc;
}

int nnf_dataset_load_csv(const char *path, int label_col, nnf_dataset *out, char *err, size_t errlen) {
  return load_csv(path, label_col, 0, out, err, errlen);
}

int nnf_dataset_load_csv_targets(const char *path, int first_col, int ntargets, nnf_dataset *out, char *err,
                                 size_t errlen) {
  if (ntargets < 1) {
    if (out) memset(out, 0, sizeof *out);
    return nnf_fail(err, errlen, "%s: %d target columns (want >= 1)", path ? path : "CSV", ntargets);
  }
  return load_csv(path, first_col, ntargets, out, err, errlen);
}

/* ---- sequences: one CSV line per time step ---------------------------------------
 * Lines  id, features..., label (or targets)  in any column order; the lines
 * of one sequence are consecutive and share its id (any text without a
 * comma); a sample is a whole sequence, its steps' features one after
 * another (time-major: PyTorch's batch_first (T, I) row), its label or
 * targets those of its last line. */

typedef struct {
  span id;
  size_t first, last; /* line numbers */
  size_t row;         /* its first data row */
} seq_span;

static int span_cmp(span a, span b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = memcmp(a.p, b.p, n);
  return c ? c : a.n < b.n ? -1 : a.n > b.n;
}

static int seq_cmp(const void *a, const void *b) {
  const seq_span *x = a, *y = b;
  int c = span_cmp(x->id, y->id);
  return c ? c : x->first < y->first ? -1 : x->first > y->first;
}

static int steps_parse_named(const char *name, const char *buf, size_t len, nnf_csv_seq *o, nnf_dataset *out,
                             char *err, size_t errlen) {
  csv_reader r = {name, buf, len, 0, 0};
  size_t nt = o->ntargets > 0 ? (size_t)o->ntargets : 0, nlab = nt ? nt : 1;
  span line;
  do {
    if (!csv_next_line(&r, &line)) return nnf_fail(err, errlen, "%s: no sequences", name);
  } while (is_blank_line(line));
  csv_shape sh = {field_count(line), 0, r.lineno, nt, 0};
  if (sh.fields < nlab + 2)
    return nnf_fail(err, errlen, "%s: line %zu has %zu field%s (want a sequence id, %s and at least one feature)", name,
                    r.lineno, sh.fields, sh.fields == 1 ? "" : "s", nt ? "the targets" : "a label");
  if (o->id_col < -1 || (o->id_col >= 0 && (size_t)o->id_col >= sh.fields))
    return nnf_fail(err, errlen, "%s: sequence-id column %d, but line %zu has %zu fields", name, o->id_col, r.lineno,
                    sh.fields);
  if (o->label_col < -1 || (o->label_col >= 0 && (size_t)o->label_col + nlab > sh.fields))
    return nnf_fail(err, errlen, "%s: %s column %d%s, but line %zu has %zu fields", name, nt ? "target" : "label",
                    o->label_col, nt ? " and the targets after it" : "", r.lineno, sh.fields);
  sh.skip = o->id_col < 0 ? sh.fields - 1 : (size_t)o->id_col;
  sh.label = o->label_col < 0 ? sh.fields - nlab : (size_t)o->label_col;
  if (o->label_col < 0 && o->id_col < 0) sh.label--; /* the id is last: the label(s) just before it */
  if (sh.skip >= sh.label && sh.skip < sh.label + nlab)
    return nnf_fail(err, errlen, "%s: the sequence id (column %zu) is also a %s column", name, sh.skip,
                    nt ? "target" : "label");
  /* a header: any field but the id that is not a number */
  int header = 0;
  span rest = line;
  for (size_t i = 0; i < sh.fields; i++) {
    span f = next_field(&rest);
    double v;
    if (i != sh.skip && (!f.n || parse_number(f, &v))) header = 1;
  }
  if (!header) r.pos = (size_t)(line.p - r.buf), r.lineno--;
  size_t rows = csv_count_lines(r, sh.fields), features = sh.fields - nlab - 1;
  float *x = alloc_n(rows, features * sizeof(float));
  int32_t *y = calloc(rows ? rows : 1, sizeof *y);
  float *t = nt ? alloc_n(rows, nt * sizeof(float)) : NULL;
  seq_span *seqs = calloc(rows ? rows : 1, sizeof *seqs);
  int rc = 0;
  size_t n = 0, ns = 0;
  if (!x || !y || (nt && !t) || !seqs) rc = nnf_fail(err, errlen, "%s: out of memory (%zu lines)", name, rows);
  while (!rc && csv_next_line(&r, &line)) {
    if (is_blank_line(line)) continue;
    size_t nf = field_count(line);
    if (nf != sh.fields) {
      rc = nnf_fail(err, errlen, "%s: line %zu has %zu fields, expected %zu (as on line %zu)", name, r.lineno, nf,
                    sh.fields, sh.first);
      break;
    }
    span id = line;
    rest = line;
    for (size_t i = 0; i <= sh.skip; i++) id = next_field(&rest);
    if (!id.n) {
      rc = nnf_fail(err, errlen, "%s: line %zu: the sequence id (field %zu) is empty", name, r.lineno, sh.skip + 1);
      break;
    }
    if ((rc = csv_data_line(&r, line, &sh, x + n * features, y + n, t ? t + n * nt : NULL, err, errlen))) break;
    if (!ns || span_cmp(seqs[ns - 1].id, id)) seqs[ns++] = (seq_span){id, r.lineno, r.lineno, n};
    seqs[ns - 1].last = r.lineno;
    n++;
  }
  if (!rc && !ns) rc = nnf_fail(err, errlen, "%s: no sequences", name);
  /* the length: the one asked for, or the first sequence's; all the same */
  size_t T = o->steps > 0 ? (size_t)o->steps : 0;
  for (size_t k = 0; !rc && k < ns; k++) {
    size_t len_k = (k + 1 < ns ? seqs[k + 1].row : n) - seqs[k].row;
    if (!T) T = len_k;
    if (len_k == T) continue;
    int show = seqs[k].id.n > 40 ? 40 : (int)seqs[k].id.n;
    if (o->steps > 0)
      rc = nnf_fail(err, errlen, "%s: sequence '%.*s' (lines %zu-%zu) has %zu step%s, not the %zu asked for", name,
                    show, seqs[k].id.p, seqs[k].first, seqs[k].last, len_k, len_k == 1 ? "" : "s", T);
    else
      rc = nnf_fail(err, errlen,
                    "%s: sequence '%.*s' (lines %zu-%zu) has %zu step%s, not %zu as sequence '%.*s' (lines %zu-%zu)",
                    name, show, seqs[k].id.p, seqs[k].first, seqs[k].last, len_k, len_k == 1 ? "" : "s", T,
                    seqs[0].id.n > 40 ? 40 : (int)seqs[0].id.n, seqs[0].id.p, seqs[0].first, seqs[0].last);
  }
  /* an id that comes back after another sequence */
  if (!rc && ns > 1) {
    seq_span *sorted = malloc(ns * sizeof *sorted);
    if (!sorted) rc = nnf_fail(err, errlen, "%s: out of memory (%zu sequences)", name, ns);
    else {
      memcpy(sorted, seqs, ns * sizeof *sorted);
      qsort(sorted, ns, sizeof *sorted, seq_cmp);
      for (size_t k = 1; !rc && k < ns; k++)
        if (!span_cmp(sorted[k - 1].id, sorted[k].id))
          rc = nnf_fail(err, errlen,
                        "%s: sequence '%.*s' has lines %zu-%zu and again %zu-%zu (a sequence's lines are consecutive)",
                        name, sorted[k].id.n > 40 ? 40 : (int)sorted[k].id.n, sorted[k].id.p, sorted[k - 1].first,
                        sorted[k - 1].last, sorted[k].first, sorted[k].last);
      free(sorted);
    }
  }
  if (rc) {
    free(x);
    free(y);
    free(t);
    free(seqs);
    return -1;
  }
  /* rows are in sequence order already: x is the samples; the labels and
   * targets are each sequence's last row's */
  int32_t most = 1;
  for (size_t k = 0; k < ns; k++) {
    size_t lastrow = seqs[k].row + T - 1;
    y[k] = y[lastrow];
    if (t) memmove(t + k * nt, t + lastrow * nt, nt * sizeof(float));
    if (y[k] > most) most = y[k];
  }
  free(seqs);
  out->count = ns;
  out->features = T * features;
  out->classes = nt ? 0 : most + 1;
  out->x = x;
  out->y = y;
  out->targets = nt;
  out->t = t;
  o->steps = (int)T;
  return 0;
}

int nnf_csv_parse_steps(const char *buf, size_t len, nnf_csv_seq *o, nnf_dataset *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "CSV data: no output");
  memset(out, 0, sizeof *out);
  if (!buf && len) return nnf_fail(err, errlen, "CSV data: NULL buffer");
  if (!o || o->ntargets < 0 || o->steps < 0) return nnf_fail(err, errlen, "CSV data: bad sequence options");
  return steps_parse_named("CSV data", buf, len, o, out, err, errlen);
}

int nnf_dataset_load_csv_steps(const char *path, nnf_csv_seq *o, nnf_dataset *out, char *err, size_t errlen) {
  if (!out) return nnf_fail(err, errlen, "nnf_dataset_load_csv_steps: no output");
  memset(out, 0, sizeof *out);
  if (!path) return nnf_fail(err, errlen, "nnf_dataset_load_csv_steps: no path");
  if (!o || o->ntargets < 0 || o->steps < 0) return nnf_fail(err, errlen, "%s: bad sequence options", path);
  uint8_t *buf = NULL;
  size_t len = 0;
  if (read_all(path, NNF_DATA_MAX_BYTES, &buf, &len, err, errlen)) return -1;
  int rc = steps_parse_named(path, (const char *)buf, len, o, out, err, errlen);
  free(buf);
  return rc;
}

/* ---- slicing and shuffling ------------------------------------------------ */

int nnf_dataset_slice(const nnf_dataset *d, size_t first, size_t n, nnf_dataset *out) {
  if (!out) return -1;
  memset(out, 0, sizeof *out);
  if (!d) return -1;
  if (first > d->count) first = d->count;
  if (n > d->count - first) n = d->count - first;
  size_t nx = n * d->features; /* <= count * features, which exists */
  out->x = alloc_n(nx, sizeof *out->x);
  out->y = alloc_n(n, sizeof *out->y);
  if (d->t && d->targets) out->t = alloc_n(n * d->targets, sizeof *out->t);
  if (!out->x || !out->y || (d->t && d->targets && !out->t)) {
    nnf_dataset_free(out);
    return -1;
  }
  if (nx) memcpy(out->x, d->x + first * d->features, nx * sizeof *out->x);
  if (n) memcpy(out->y, d->y + first, n * sizeof *out->y);
  if (n && out->t) memcpy(out->t, d->t + first * d->targets, n * d->targets * sizeof *out->t);
  out->targets = out->t ? d->targets : 0;
  out->count = n;
  out->features = d->features;
  out->classes = d->classes;
  return 0;
}

void nnf_shuffle(uint32_t *perm, size_t n, uint64_t seed) {
  if (!perm) return;
  for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
  uint64_t s = seed;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)nnf_rng_below(&s, i);
    uint32_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}
