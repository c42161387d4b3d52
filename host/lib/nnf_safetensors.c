/*
 * nnf_safetensors.c - safetensors reader and writer (see nnf_safetensors.h).
 *
 * File: u64 little-endian N, N bytes of UTF-8 JSON (padded with spaces to a
 * multiple of 8 when we write it), then the data area; each tensor's
 * data_offsets [begin, end) are relative to the start of the data area.
 *
 * Reading is in two steps: the header is parsed and validated completely
 * against the data-area size (st_header), then the bytes are copied (from
 * memory) or read (from the file, tensor by tensor, so a checkpoint is never
 * held twice) into one buffer where every tensor starts 8-byte aligned.
 * Integers in the JSON are accepted only up to 2^53, where cJSON's doubles
 * are still exact; the writer prints them as raw integer text.
 *
 * The host is assumed little-endian (the data are copied as they are); on a
 * big-endian host both directions refuse to work rather than corrupt data.
 */
#define _POSIX_C_SOURCE 200809L
#include "nnf_safetensors.h"
#include "nnf_err.h"
#include "nnf_util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER 100000000ull    /* the reference implementation's cap */
#define ST_MAX_JSON_INT 9007199254740992.0 /* 2^53 */
#define ST_META "__metadata__"

struct nnf_st_file {
  int n;
  nnf_st_tensor *t; /* header order; names and data owned */
  uint8_t *data;    /* every tensor's bytes, each 8-aligned */
  int n_meta;
  char **meta_keys, **meta_vals;
};

/* One tensor's place in the data area, and where its copy goes. */
typedef struct {
  uint64_t begin, end;
  int index;
} st_span;

static const struct {
  const char *name;
  size_t size;
} st_types[] = {
    [NNF_ST_F32] = {"F32", 4}, [NNF_ST_F64] = {"F64", 8}, [NNF_ST_I8] = {"I8", 1},
    [NNF_ST_U8] = {"U8", 1},   [NNF_ST_I16] = {"I16", 2}, [NNF_ST_I32] = {"I32", 4},
    [NNF_ST_I64] = {"I64", 8},
};
#define ST_NTYPES ((int)(sizeof st_types / sizeof st_types[0]))

/* safetensors dtypes that exist but that nnf_st_dtype does not carry. */
static const char *const st_unsupported[] = {
    "BOOL", "U16", "F16", "BF16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0",
    "F6_E2M3", "F6_E3M2", "F4", "C64",
};

/* ---- small helpers -------------------------------------------------------- */

static int host_is_le(void) {
  const uint16_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  return b == 1;
}

static char *st_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int utf8_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xE0) == 0xC0) k = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) k = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) k = 3, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += k + 1;
  }
  return 1;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice in names[0..n) (sorted in place), or NULL. */
/* The first duplicate among names (sorted on a copy: the caller's order,
 * e.g. keys paired with values, stays as it is). */
static const char *first_duplicate(const char **names, size_t n) {
  if (n < 2) return NULL;
  const char **sorted = malloc(n * sizeof *sorted);
  if (!sorted) return NULL;
  memcpy(sorted, names, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_str_ptr);
  const char *dup = NULL;
  for (size_t i = 1; i < n && !dup; i++)
    if (!strcmp(sorted[i - 1], sorted[i])) dup = sorted[i];
  free(sorted);
  return dup;
}

size_t nnf_st_dtype_size(nnf_st_dtype t) {
  return (unsigned)t < (unsigned)ST_NTYPES ? st_types[t].size : 0;
}

const char *nnf_st_dtype_name(nnf_st_dtype t) {
  return (unsigned)t < (unsigned)ST_NTYPES ? st_types[t].name : "?";
}

/* Bytes of a tensor with this shape and element size; -1 if above INT64_MAX. */
static int st_nbytes(const int64_t *shape, int ndim, size_t esize, uint64_t *out) {
  uint64_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (shape[i] == 0) n = 0;
  for (int i = 0; i < ndim && n; i++) {
    if ((uint64_t)shape[i] > (uint64_t)INT64_MAX / n) return -1;
    n *= (uint64_t)shape[i];
  }
  if (n > (uint64_t)INT64_MAX / esize) return -1;
  *out = n * esize;
  return 0;
}

/* ---- the file object ------------------------------------------------------ */

void nnf_st_free(nnf_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n; i++) free((char *)(uintptr_t)f->t[i].name);
  for (int i = 0; i < f->n_meta; i++) {
    free(f->meta_keys[i]);
    free(f->meta_vals[i]);
  }
  free(f->t);
  free(f->data);
  free(f->meta_keys);
  free(f->meta_vals);
  free(f);
}

int nnf_st_count(const nnf_st_file *f) { return f ? f->n : 0; }

const nnf_st_tensor *nnf_st_get(const nnf_st_file *f, int i) {
  return f && i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const nnf_st_tensor *nnf_st_find(const nnf_st_file *f, const char *name) {
  if (!f || !name) return NULL;
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->t[i].name, name)) return &f->t[i];
  return NULL;
}

const char *nnf_st_meta(const nnf_st_file *f, const char *key) {
  if (!f || !key) return NULL;
  for (int i = 0; i < f->n_meta; i++)
    if (!strcmp(f->meta_keys[i], key)) return f->meta_vals[i];
  return NULL;
}

/* ---- reading: the header -------------------------------------------------- */

/* A JSON number that is an integer in [0, 2^53]: 0, else 1 not a number,
 * 2 negative, 3 not an integer, 4 too large. */
static int json_uint(const cJSON *j, uint64_t *v) {
  if (!cJSON_IsNumber(j)) return 1;
  double d = j->valuedouble;
  if (d < 0) return 2;
  if (!isfinite(d) || d != floor(d)) return d > ST_MAX_JSON_INT ? 4 : 3;
  if (d > ST_MAX_JSON_INT) return 4;
  *v = (uint64_t)d;
  return 0;
}

static const char *json_uint_why(int rc) {
  static const char *const why[] = {"", "is not a number", "is negative", "is not an integer",
                                    "is too large"};
  return why[rc];
}

static int st_dtype(const char *name, const char *tn, const cJSON *j, nnf_st_dtype *dt,
                    char *err, size_t errlen) {
  if (!cJSON_IsString(j))
    return nnf_fail(err, errlen, "%s: tensor '%s': dtype is not a string", name, tn);
  for (int i = 0; i < ST_NTYPES; i++)
    if (!strcmp(j->valuestring, st_types[i].name)) {
      *dt = (nnf_st_dtype)i;
      return 0;
    }
  for (size_t i = 0; i < sizeof st_unsupported / sizeof st_unsupported[0]; i++)
    if (!strcmp(j->valuestring, st_unsupported[i]))
      return nnf_fail(err, errlen, "%s: tensor '%s': unsupported dtype %s", name, tn,
                  j->valuestring);
  return nnf_fail(err, errlen, "%s: tensor '%s': unknown dtype %.40s", name, tn, j->valuestring);
}

static int st_shape(const char *name, const char *tn, const cJSON *j, nnf_st_tensor *t,
                    char *err, size_t errlen) {
  if (!cJSON_IsArray(j))
    return nnf_fail(err, errlen, "%s: tensor '%s': shape is not an array", name, tn);
  t->ndim = 0;
  for (const cJSON *e = j->child; e; e = e->next) {
    if (t->ndim == NNF_ST_MAX_DIMS)
      return nnf_fail(err, errlen, "%s: tensor '%s': shape has more than %d dimensions", name, tn,
                  NNF_ST_MAX_DIMS);
    uint64_t v = 0;
    int rc = json_uint(e, &v);
    if (rc)
      return nnf_fail(err, errlen, "%s: tensor '%s': shape entry %d %s", name, tn, t->ndim,
                  json_uint_why(rc));
    t->shape[t->ndim++] = (int64_t)v;
  }
  return 0;
}

static int st_offsets(const char *name, const char *tn, const cJSON *j, st_span *s, char *err,
                      size_t errlen) {
  const cJSON *b = cJSON_IsArray(j) ? j->child : NULL, *e = b ? b->next : NULL;
  if (!e || e->next)
    return nnf_fail(err, errlen, "%s: tensor '%s': data_offsets is not an array of two", name, tn);
  int rb = json_uint(b, &s->begin), re = json_uint(e, &s->end);
  if (rb || re)
    return nnf_fail(err, errlen, "%s: tensor '%s': data_offsets entry %s", name, tn,
                json_uint_why(rb ? rb : re));
  if (s->begin > s->end)
    return nnf_fail(err, errlen, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                "] are out of order", name, tn, s->begin, s->end);
  return 0;
}

/* The three fields of a tensor entry, each exactly once; other fields are
 * ignored, as the reference implementation does. */
static int st_tensor_fields(const char *name, const cJSON *obj, const cJSON *fld[3],
                            char *err, size_t errlen) {
  static const char *const keys[3] = {"dtype", "shape", "data_offsets"};
  const char *tn = obj->string;
  if (!cJSON_IsObject(obj))
    return nnf_fail(err, errlen, "%s: tensor '%s': entry is not an object", name, tn);
  fld[0] = fld[1] = fld[2] = NULL;
  for (const cJSON *c = obj->child; c; c = c->next) {
    int k = 0;
    while (k < 3 && strcmp(c->string, keys[k])) k++;
    if (k == 3) continue;
    if (fld[k]) return nnf_fail(err, errlen, "%s: tensor '%s': duplicate field '%s'", name, tn,
                            keys[k]);
    fld[k] = c;
  }
  for (int k = 0; k < 3; k++)
    if (!fld[k]) return nnf_fail(err, errlen, "%s: tensor '%s': no %s", name, tn, keys[k]);
  return 0;
}

/* One tensor entry: dtype, shape, offsets, and their agreement. */
static int st_tensor(const char *name, const cJSON *obj, uint64_t data_len, nnf_st_tensor *t,
                     st_span *s, char *err, size_t errlen) {
  const cJSON *fld[3];
  const char *tn = obj->string;
  uint64_t nbytes = 0;
  if (st_tensor_fields(name, obj, fld, err, errlen) ||
      st_dtype(name, tn, fld[0], &t->dtype, err, errlen) ||
      st_shape(name, tn, fld[1], t, err, errlen) || st_offsets(name, tn, fld[2], s, err, errlen))
    return -1;
  if (st_nbytes(t->shape, t->ndim, nnf_st_dtype_size(t->dtype), &nbytes))
    return nnf_fail(err, errlen, "%s: tensor '%s': shape product overflows int64", name, tn);
  if (s->end > data_len)
    return nnf_fail(err, errlen, "%s: tensor '%s': data ends at %" PRIu64
                ", beyond the data area (%" PRIu64 " bytes)", name, tn, s->end, data_len);
  if (s->end - s->begin != nbytes)
    return nnf_fail(err, errlen, "%s: tensor '%s': data_offsets span %" PRIu64
                " bytes but shape and dtype need %" PRIu64, name, tn, s->end - s->begin, nbytes);
  return 0;
}

static int st_metadata(const char *name, const cJSON *obj, nnf_st_file *f, char *err,
                       size_t errlen) {
  if (cJSON_IsNull(obj)) return 0;
  if (!cJSON_IsObject(obj))
    return nnf_fail(err, errlen, "%s: " ST_META " is not an object", name);
  int n = 0;
  for (const cJSON *c = obj->child; c; c = c->next) n++;
  f->meta_keys = calloc((size_t)n + 1, sizeof *f->meta_keys);
  f->meta_vals = calloc((size_t)n + 1, sizeof *f->meta_vals);
  if (!f->meta_keys || !f->meta_vals) return nnf_fail(err, errlen, "%s: out of memory", name);
  for (const cJSON *c = obj->child; c; c = c->next) {
    if (!cJSON_IsString(c))
      return nnf_fail(err, errlen, "%s: metadata '%.40s' is not a string", name, c->string);
    f->meta_keys[f->n_meta] = st_strdup(c->string);
    f->meta_vals[f->n_meta] = st_strdup(c->valuestring);
    f->n_meta++;
    if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1])
      return nnf_fail(err, errlen, "%s: out of memory", name);
  }
  const char *dup = first_duplicate((const char **)f->meta_keys, (size_t)f->n_meta);
  if (dup) return nnf_fail(err, errlen, "%s: duplicate metadata key '%.40s'", name, dup);
  return 0;
}

/* Every key of the root object once (cJSON keeps duplicates). */
static int st_unique_keys(const char *name, const cJSON *root, int n, char *err,
                          size_t errlen) {
  const char **keys = malloc(((size_t)n + 1) * sizeof *keys);
  if (!keys) return nnf_fail(err, errlen, "%s: out of memory", name);
  int k = 0;
  for (const cJSON *c = root->child; c; c = c->next) keys[k++] = c->string;
  const char *dup = first_duplicate(keys, (size_t)n);
  int rc = dup ? nnf_fail(err, errlen, "%s: duplicate key '%.40s' in the header", name, dup) : 0;
  free(keys);
  return rc;
}

static int cmp_span(const void *a, const void *b) {
  const st_span *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* Sorted by offset, the tensors must tile [0, data_len) exactly. */
static int st_coverage(const char *name, const nnf_st_file *f, st_span *sp, uint64_t data_len,
                       char *err, size_t errlen) {
  qsort(sp, (size_t)f->n, sizeof *sp, cmp_span);
  uint64_t at = 0;
  for (int i = 0; i < f->n; i++) {
    if (sp[i].begin < at)
      return nnf_fail(err, errlen, "%s: tensors '%s' and '%s' overlap", name,
                  f->t[sp[i - 1].index].name, f->t[sp[i].index].name);
    if (sp[i].begin > at)
      return nnf_fail(err, errlen, "%s: gap in the data area: bytes %" PRIu64 "..%" PRIu64
                  " belong to no tensor", name, at, sp[i].begin);
    at = sp[i].end;
  }
  if (at != data_len)
    return nnf_fail(err, errlen, "%s: gap in the data area: bytes %" PRIu64 "..%" PRIu64
                " belong to no tensor", name, at, data_len);
  return 0;
}

/* Allocate the tensor table (n entries, names set later). */
static int st_alloc_tensors(const char *name, nnf_st_file *f, int n, st_span **sp, char *err,
                            size_t errlen) {
  f->t = calloc((size_t)n + 1, sizeof *f->t);
  *sp = calloc((size_t)n + 1, sizeof **sp);
  if (!f->t || !*sp) return nnf_fail(err, errlen, "%s: out of memory", name);
  return 0;
}

/* Walk the root object: metadata and tensors, each validated. */
static int st_entries(const char *name, const cJSON *root, uint64_t data_len, nnf_st_file *f,
                      st_span **sp, char *err, size_t errlen) {
  int n = 0, n_tensors = 0;
  for (const cJSON *c = root->child; c; c = c->next, n++)
    n_tensors += strcmp(c->string, ST_META) != 0;
  if (st_unique_keys(name, root, n, err, errlen) ||
      st_alloc_tensors(name, f, n_tensors, sp, err, errlen))
    return -1;
  for (const cJSON *c = root->child; c; c = c->next) {
    if (!strcmp(c->string, ST_META)) {
      if (st_metadata(name, c, f, err, errlen)) return -1;
      continue;
    }
    nnf_st_tensor *t = &f->t[f->n];
    st_span *s = &(*sp)[f->n];
    s->index = f->n;
    if (!(t->name = st_strdup(c->string))) return nnf_fail(err, errlen, "%s: out of memory", name);
    f->n++;
    if (st_tensor(name, c, data_len, t, s, err, errlen)) return -1;
  }
  return st_coverage(name, f, *sp, data_len, err, errlen);
}

/* Parse the JSON text (hlen bytes, not NUL-terminated). */
static cJSON *st_json(const char *name, const uint8_t *hdr, size_t hlen, char *err,
                      size_t errlen) {
  if (memchr(hdr, 0, hlen)) {
    nnf_fail(err, errlen, "%s: header contains a NUL byte", name);
    return NULL;
  }
  if (!utf8_ok(hdr, hlen)) {
    nnf_fail(err, errlen, "%s: header is not valid UTF-8", name);
    return NULL;
  }
  char *text = malloc(hlen + 1);
  if (!text) {
    nnf_fail(err, errlen, "%s: out of memory (%zu-byte header)", name, hlen);
    return NULL;
  }
  memcpy(text, hdr, hlen);
  text[hlen] = '\0';
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
  if (!root)
    nnf_fail(err, errlen, "%s: header is not valid JSON (at byte %zu)", name,
         end && end >= text && end <= text + hlen ? (size_t)(end - text) : (size_t)0);
  else if (!cJSON_IsObject(root)) {
    nnf_fail(err, errlen, "%s: header is not a JSON object", name);
    cJSON_Delete(root);
    root = NULL;
  }
  free(text);
  return root;
}

/* Header length from the first 8 bytes, checked against the cap and the
 * bytes that follow (total = the whole file's size). */
static int st_header_len(const char *name, const uint8_t *p, uint64_t total, uint64_t *hlen,
                         char *err, size_t errlen) {
  if (total < 8)
    return nnf_fail(err, errlen, "%s: %" PRIu64 " bytes, too short for a safetensors file", name,
                total);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | p[i];
  if (n > ST_MAX_HEADER)
    return nnf_fail(err, errlen, "%s: header length %" PRIu64 " exceeds the %llu-byte limit", name,
                n, ST_MAX_HEADER);
  if (n > total - 8)
    return nnf_fail(err, errlen, "%s: header length %" PRIu64 " runs past the end of the file (%"
                PRIu64 " bytes)", name, n, total);
  if (n < 2) return nnf_fail(err, errlen, "%s: header length %" PRIu64 " is too small", name, n);
  *hlen = n;
  return 0;
}

/* Validate the header and set every tensor's data pointer into one fresh
 * buffer (contents not yet filled); *sp: the tensors sorted by offset. */
static nnf_st_file *st_header(const char *name, const uint8_t *hdr, size_t hlen,
                              uint64_t data_len, st_span **sp, char *err, size_t errlen) {
  *sp = NULL;
  if (!host_is_le()) {
    nnf_fail(err, errlen, "%s: big-endian hosts are not supported", name);
    return NULL;
  }
  cJSON *root = st_json(name, hdr, hlen, err, errlen);
  if (!root) return NULL;
  nnf_st_file *f = calloc(1, sizeof *f);
  int rc = f ? st_entries(name, root, data_len, f, sp, err, errlen)
             : nnf_fail(err, errlen, "%s: out of memory", name);
  cJSON_Delete(root);
  uint64_t total = 0; /* tensors rounded up to 8 bytes each; <= data_len + 8n */
  for (int i = 0; rc == 0 && i < f->n; i++) total += ((*sp)[i].end - (*sp)[i].begin + 7) & ~7ull;
  if (rc == 0 && (total > SIZE_MAX || !(f->data = malloc(total ? (size_t)total : 1))))
    rc = nnf_fail(err, errlen, "%s: out of memory (%" PRIu64 " bytes of tensors)", name, total);
  size_t at = 0;
  for (int i = 0; rc == 0 && i < f->n; i++) {
    f->t[(*sp)[i].index].data = f->data + at;
    at += (size_t)(((*sp)[i].end - (*sp)[i].begin + 7) & ~7ull);
  }
  if (rc) {
    nnf_st_free(f);
    free(*sp);
    *sp = NULL;
    return NULL;
  }
  return f;
}

/* ---- reading: memory and files -------------------------------------------- */

nnf_st_file *nnf_st_parse(const uint8_t *buf, size_t len, char *err, size_t errlen) {
  const char *name = "safetensors data";
  uint64_t hlen = 0;
  if (!buf && len) {
    nnf_fail(err, errlen, "%s: NULL buffer", name);
    return NULL;
  }
  if (st_header_len(name, buf, len, &hlen, err, errlen)) return NULL;
  st_span *sp;
  nnf_st_file *f = st_header(name, buf + 8, (size_t)hlen, len - 8 - hlen, &sp, err, errlen);
  if (!f) return NULL;
  const uint8_t *area = buf + 8 + hlen;
  for (int i = 0; i < f->n; i++)
    memcpy((void *)(uintptr_t)f->t[sp[i].index].data, area + sp[i].begin,
           (size_t)(sp[i].end - sp[i].begin));
  free(sp);
  return f;
}

/* Read exactly n bytes; -1 on error or early end of file. */
static int read_exact(FILE *fp, void *p, size_t n) { return fread(p, 1, n, fp) == n ? 0 : -1; }

/* Read the tensors, in offset order (the data area is contiguous). */
static int st_read_data(const char *path, FILE *fp, nnf_st_file *f, const st_span *sp,
                        char *err, size_t errlen) {
  for (int i = 0; i < f->n; i++)
    if (read_exact(fp, (void *)(uintptr_t)f->t[sp[i].index].data,
                   (size_t)(sp[i].end - sp[i].begin)))
      return nnf_fail(err, errlen, "%s: read error or file shrank while reading", path);
  return 0;
}

/* Header length and header bytes of an open file of size total. */
static uint8_t *st_read_header(const char *path, FILE *fp, uint64_t total, uint64_t *hlen,
                               char *err, size_t errlen) {
  uint8_t len8[8] = {0};
  size_t got = fread(len8, 1, 8, fp);
  if (st_header_len(path, len8, got < 8 ? got : total, hlen, err, errlen)) return NULL;
  uint8_t *hdr = malloc((size_t)*hlen);
  if (!hdr) {
    nnf_fail(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  if (read_exact(fp, hdr, (size_t)*hlen)) {
    free(hdr);
    nnf_fail(err, errlen, "%s: read error in the header", path);
    return NULL;
  }
  return hdr;
}

nnf_st_file *nnf_st_read(const char *path, char *err, size_t errlen) {
  if (!path) {
    nnf_fail(err, errlen, "nnf_st_read: no path");
    return NULL;
  }
  FILE *fp = fopen(path, "rb");
  struct stat st;
  if (!fp || fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
    if (fp) fclose(fp);
    nnf_fail(err, errlen, "%s: %s", path, fp ? "not a regular file" : strerror(errno));
    return NULL;
  }
  uint64_t total = (uint64_t)st.st_size, hlen = 0;
  uint8_t *hdr = st_read_header(path, fp, total, &hlen, err, errlen);
  st_span *sp = NULL;
  nnf_st_file *f =
      hdr ? st_header(path, hdr, (size_t)hlen, total - 8 - hlen, &sp, err, errlen) : NULL;
  if (f && st_read_data(path, fp, f, sp, err, errlen)) {
    nnf_st_free(f);
    f = NULL;
  }
  free(sp);
  free(hdr);
  fclose(fp);
  return f;
}

/* ---- writing -------------------------------------------------------------- */

/* Arguments the writer refuses: bad tensors, duplicate names or keys. */
static int st_check_write(const nnf_st_tensor *t, int n, const char *const *mk,
                          const char *const *mv, int n_meta, char *err, size_t errlen) {
  if (n < 0 || n_meta < 0 || (n && !t) || (n_meta && (!mk || !mv)))
    return nnf_fail(err, errlen, "nnf_st_write: bad arguments");
  for (int i = 0; i < n; i++) {
    const char *nm = t[i].name;
    uint64_t nb;
    if (!nm || !nm[0] || !utf8_ok((const uint8_t *)nm, strlen(nm)) || !strcmp(nm, ST_META))
      return nnf_fail(err, errlen, "tensor %d: name is empty, not UTF-8 or reserved", i);
    if ((unsigned)t[i].dtype >= (unsigned)ST_NTYPES || t[i].ndim < 0 ||
        t[i].ndim > NNF_ST_MAX_DIMS)
      return nnf_fail(err, errlen, "tensor '%s': bad dtype or rank", nm);
    for (int d = 0; d < t[i].ndim; d++)
      if (t[i].shape[d] < 0) return nnf_fail(err, errlen, "tensor '%s': negative shape", nm);
    if (st_nbytes(t[i].shape, t[i].ndim, nnf_st_dtype_size(t[i].dtype), &nb) ||
        nb > SIZE_MAX)
      return nnf_fail(err, errlen, "tensor '%s': size overflows", nm);
    if (nb && !t[i].data) return nnf_fail(err, errlen, "tensor '%s': no data", nm);
  }
  for (int i = 0; i < n_meta; i++)
    if (!mk[i] || !mv[i] || !utf8_ok((const uint8_t *)mk[i], strlen(mk[i])) ||
        !utf8_ok((const uint8_t *)mv[i], strlen(mv[i])))
      return nnf_fail(err, errlen, "metadata %d: missing or not UTF-8", i);
  return 0;
}

static int st_check_unique(const nnf_st_tensor *t, int n, const char *const *mk, int n_meta,
                           char *err, size_t errlen) {
  size_t most = (size_t)(n > n_meta ? n : n_meta);
  const char **names = malloc((most + 1) * sizeof *names);
  if (!names) return nnf_fail(err, errlen, "nnf_st_write: out of memory");
  for (int i = 0; i < n; i++) names[i] = t[i].name;
  const char *dup = first_duplicate(names, (size_t)n);
  int rc = dup ? nnf_fail(err, errlen, "duplicate tensor name '%s'", dup) : 0;
  for (int i = 0; i < n_meta; i++) names[i] = mk[i];
  if (!rc && (dup = first_duplicate(names, (size_t)n_meta)))
    rc = nnf_fail(err, errlen, "duplicate metadata key '%s'", dup);
  free(names);
  return rc;
}

/* A JSON integer printed exactly (cJSON numbers are doubles). */
static cJSON *json_int(uint64_t v) {
  char s[24];
  snprintf(s, sizeof s, "%" PRIu64, v);
  return cJSON_CreateRaw(s);
}

/* {"dtype": ..., "shape": [...], "data_offsets": [begin, end]} */
static cJSON *st_tensor_json(const nnf_st_tensor *t, uint64_t begin, uint64_t end) {
  cJSON *o = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
  int ok = o && shape && offs && cJSON_AddStringToObject(o, "dtype", nnf_st_dtype_name(t->dtype));
  for (int d = 0; ok && d < t->ndim; d++) ok = cJSON_AddItemToArray(shape, json_int((uint64_t)t->shape[d]));
  ok = ok && cJSON_AddItemToArray(offs, json_int(begin)) &&
       cJSON_AddItemToArray(offs, json_int(end));
  ok = ok && cJSON_AddItemToObject(o, "shape", shape);
  if (ok) shape = NULL;
  ok = ok && cJSON_AddItemToObject(o, "data_offsets", offs);
  if (ok) offs = NULL;
  cJSON_Delete(shape);
  cJSON_Delete(offs);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* The header text, space-padded to a multiple of 8; *len its length. */
static char *st_header_text(const nnf_st_tensor *t, int n, const char *const *mk,
                            const char *const *mv, int n_meta, size_t *len) {
  cJSON *root = cJSON_CreateObject();
  int ok = root != NULL;
  if (ok && n_meta > 0) {
    cJSON *m = cJSON_AddObjectToObject(root, ST_META);
    for (int i = 0; ok && i < n_meta; i++) ok = m && cJSON_AddStringToObject(m, mk[i], mv[i]);
  }
  uint64_t at = 0;
  for (int i = 0; ok && i < n; i++) {
    uint64_t nb = 0;
    st_nbytes(t[i].shape, t[i].ndim, nnf_st_dtype_size(t[i].dtype), &nb);
    cJSON *o = st_tensor_json(&t[i], at, at + nb);
    ok = o && cJSON_AddItemToObject(root, t[i].name, o);
    if (o && !ok) cJSON_Delete(o);
    at += nb;
  }
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (!text) return NULL;
  size_t n0 = strlen(text), padded = (n0 + 7) & ~(size_t)7;
  char *out = realloc(text, padded + 1);
  if (!out) {
    free(text);
    return NULL;
  }
  memset(out + n0, ' ', padded - n0);
  out[padded] = '\0';
  *len = padded;
  return out;
}

/* Length, header, tensors (nnf_write_atomic flushes and fsyncs). */
static int st_write_stream(FILE *fp, const char *hdr, size_t hlen, const nnf_st_tensor *t,
                           int n) {
  uint8_t len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
  if (fwrite(len8, 1, 8, fp) != 8 || fwrite(hdr, 1, hlen, fp) != hlen) return -1;
  for (int i = 0; i < n; i++) {
    uint64_t nb = 0;
    st_nbytes(t[i].shape, t[i].ndim, nnf_st_dtype_size(t[i].dtype), &nb);
    if (nb && fwrite(t[i].data, 1, (size_t)nb, fp) != nb) return -1;
  }
  return 0;
}

typedef struct {
  const char *hdr;
  size_t hlen;
  const nnf_st_tensor *t;
  int n;
} st_stream;

static int st_write_cb(FILE *fp, void *ctx) {
  const st_stream *s = ctx;
  return st_write_stream(fp, s->hdr, s->hlen, s->t, s->n);
}

int nnf_st_write(const char *path, const nnf_st_tensor *tensors, int n_tensors,
                 const char *const *meta_keys, const char *const *meta_vals, int n_meta,
                 char *err, size_t errlen) {
  if (!path || !path[0]) return nnf_fail(err, errlen, "nnf_st_write: no path");
  if (!host_is_le()) return nnf_fail(err, errlen, "%s: big-endian hosts are not supported", path);
  if (st_check_write(tensors, n_tensors, meta_keys, meta_vals, n_meta, err, errlen) ||
      st_check_unique(tensors, n_tensors, meta_keys, n_meta, err, errlen))
    return -1;
  size_t hlen = 0;
  char *hdr = st_header_text(tensors, n_tensors, meta_keys, meta_vals, n_meta, &hlen);
  if (!hdr) return nnf_fail(err, errlen, "%s: out of memory building the header", path);
  st_stream st = {hdr, hlen, tensors, n_tensors};
  int rc = nnf_write_atomic(path, st_write_cb, &st, err, errlen);
  free(hdr);
  return rc;
}
