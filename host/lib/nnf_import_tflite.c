/*
 * nnf_import_tflite.c - TFLite int8 models into the layer stack
 * (nnf_import.h, docs/import.md), with their quantization given.
 *
 * The file is a flatbuffer of TFLite's schema (tensorflow/lite/schema/
 * schema.fbs); the reader below is written from the flatbuffer format's
 * definition and reads only what the import needs. Every offset is checked
 * before it is followed: a table's vtable and its fields, a vector's length
 * and elements, a string's bytes must lie inside the file, and nothing is
 * read through a pointer the file chose.
 *
 *   Model           version 0, operator_codes 1, subgraphs 2, description 3, buffers 4
 *   OperatorCode    deprecated_builtin_code 0 (byte), custom_code 1, builtin_code 3 (int)
 *   SubGraph        tensors 0, inputs 1, outputs 2, operators 3
 *   Tensor          shape 0 ([int]), type 1 (byte), buffer 2 (uint), name 3, quantization 4
 *   Quantization    scale 2 ([float]), zero_point 3 ([long]), quantized_dimension 6
 *   Operator        opcode_index 0, inputs 1, outputs 2, builtin_options 4
 *   Buffer          data 0 ([ubyte])
 *
 * Operators: QUANTIZE first (float input), FULLY_CONNECTED, CONV_2D,
 * MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE (a flatten), LOGISTIC, TANH, and
 * SOFTMAX at the end (a Softmax layer), DEQUANTIZE at the end (dropped).
 */
#include "nnf_import.h"
#include "nnf_import_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"

/* ---- the flatbuffer reader ------------------------------------------------------ */

typedef struct {
  const uint8_t *b;
  size_t n;
} fb;

typedef struct {
  size_t pos;     /* the table's start; 0: absent */
  size_t vt;      /* its vtable */
  uint16_t vtlen; /* the vtable's bytes */
} fb_table;

static int fb_has(const fb *f, size_t pos, size_t bytes) { return pos <= f->n && bytes <= f->n - pos; }

static uint32_t rd32(const fb *f, size_t pos) {
  const uint8_t *p = f->b + pos;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const fb *f, size_t pos) { return (uint16_t)(f->b[pos] | f->b[pos + 1] << 8); }

/* The table at pos: its vtable inside the file, at least 4 bytes, even. */
static int fb_table_at(const fb *f, size_t pos, fb_table *t) {
  if (!fb_has(f, pos, 4)) return -1;
  int64_t vt = (int64_t)pos - (int32_t)rd32(f, pos);
  if (vt < 0 || !fb_has(f, (size_t)vt, 4)) return -1;
  uint16_t len = rd16(f, (size_t)vt);
  if (len < 4 || (len & 1) || !fb_has(f, (size_t)vt, len)) return -1;
  t->pos = pos;
  t->vt = (size_t)vt;
  t->vtlen = len;
  return 0;
}

/* Field id's position (0: absent), with `bytes` of it inside the file; -1
 * when it points outside. */
static int fb_field(const fb *f, const fb_table *t, int id, size_t bytes, size_t *at) {
  *at = 0;
  if (!t->pos || 4 + 2 * (size_t)id + 2 > t->vtlen) return 0;
  uint16_t off = rd16(f, t->vt + 4 + 2 * (size_t)id);
  if (!off) return 0;
  if (!fb_has(f, t->pos + off, bytes)) return -1;
  *at = t->pos + off;
  return 0;
}

/* Follow the uoffset stored at `at` (a field or a vector element). */
static int fb_deref(const fb *f, size_t at, size_t *target) {
  if (!fb_has(f, at, 4)) return -1;
  uint64_t t = (uint64_t)at + rd32(f, at);
  if (t >= f->n) return -1;
  *target = (size_t)t;
  return 0;
}

static int fb_sub(const fb *f, const fb_table *t, int id, fb_table *out) {
  size_t at, target;
  memset(out, 0, sizeof *out);
  if (fb_field(f, t, id, 4, &at)) return -1;
  if (!at) return 0;
  return fb_deref(f, at, &target) || fb_table_at(f, target, out);
}

/* A vector field: its element count and first element (count 0 when absent). */
static int fb_vec(const fb *f, const fb_table *t, int id, size_t elem, size_t *start, uint32_t *count) {
  size_t at, target;
  *start = 0, *count = 0;
  if (fb_field(f, t, id, 4, &at)) return -1;
  if (!at) return 0;
  if (fb_deref(f, at, &target) || !fb_has(f, target, 4)) return -1;
  uint32_t c = rd32(f, target);
  if ((uint64_t)c * elem > f->n - target - 4) return -1;
  *start = target + 4;
  *count = c;
  return 0;
}

/* Element i of a vector of tables. */
static int fb_vec_table(const fb *f, size_t start, uint32_t i, fb_table *out) {
  size_t target;
  return fb_deref(f, start + 4 * (size_t)i, &target) || fb_table_at(f, target, out);
}

/* A string field into buf (cut to len - 1 bytes; "" when absent). */
static int fb_str(const fb *f, const fb_table *t, int id, char *buf, size_t len) {
  size_t start;
  uint32_t c;
  buf[0] = 0;
  if (fb_vec(f, t, id, 1, &start, &c)) return -1;
  size_t k = c < len - 1 ? c : len - 1;
  for (size_t i = 0; i < k; i++) buf[i] = (char)(f->b[start + i] >= 32 && f->b[start + i] < 127 ? f->b[start + i] : '?');
  buf[k] = 0;
  return 0;
}

static int fb_scalar(const fb *f, const fb_table *t, int id, size_t bytes, int64_t def, int sign, int64_t *v) {
  size_t at;
  *v = def;
  if (fb_field(f, t, id, bytes, &at)) return -1;
  if (!at) return 0;
  uint64_t x = 0;
  for (size_t i = bytes; i-- > 0;) x = x << 8 | f->b[at + i];
  if (sign && bytes < 8 && (x >> (8 * bytes - 1)) & 1) x |= ~UINT64_C(0) << (8 * bytes);
  memcpy(v, &x, 8);
  return 0;
}

/* ---- the model ------------------------------------------------------------------ */

enum { T_FLOAT32 = 0, T_INT32 = 2, T_INT8 = 9 };
static const char *const type_names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
                                         "INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64",
                                         "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4"};

enum {
  OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONV_2D = 3, OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9,
  OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17, OP_RESHAPE = 22, OP_SOFTMAX = 25, OP_TANH = 28, OP_QUANTIZE = 114
};

static const struct {
  int code;
  const char *name;
} op_names[] = {{0, "ADD"}, {1, "AVERAGE_POOL_2D"}, {2, "CONCATENATION"}, {3, "CONV_2D"}, {4, "DEPTHWISE_CONV_2D"},
                {6, "DEQUANTIZE"}, {9, "FULLY_CONNECTED"}, {14, "LOGISTIC"}, {17, "MAX_POOL_2D"}, {18, "MUL"},
                {19, "RELU"}, {21, "RELU6"}, {22, "RESHAPE"}, {25, "SOFTMAX"}, {28, "TANH"}, {34, "PAD"},
                {39, "TRANSPOSE"}, {40, "MEAN"}, {41, "SUB"}, {49, "SQUEEZE"}, {83, "PACK"}, {97, "LEAKY_RELU"},
                {98, "SQUARED_DIFFERENCE"}, {114, "QUANTIZE"}, {117, "HARD_SWISH"}};

static void op_name(int code, char *buf, size_t len) {
  for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
    if (op_names[i].code == code) {
      snprintf(buf, len, "%s", op_names[i].name);
      return;
    }
  snprintf(buf, len, "builtin operator %d", code);
}

typedef struct {
  int type;
  int ndim;
  int shape[6];
  uint32_t buffer;
  char name[64];
  int nq;              /* quantization scales (0: none) */
  float *scale;        /* nq */
  int64_t *zp;         /* nq (or fewer: checked) */
  int nzp;
  int qdim;
} tfl_tensor;

typedef struct {
  fb f;
  const char *file;
  char where[160];
  char *err;
  size_t errlen;
  fb_table model, sub;
  tfl_tensor *t;
  uint32_t nt;
  size_t buffers;      /* the buffers vector */
  uint32_t nbuf;
  nnf_imp_ctx ctx;     /* the same file, where and err for the shared checks */
} rd;

static int fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rd *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = nnf_imp_vfail(r->err, r->errlen, r->file, r->where, fmt, ap);
  va_end(ap);
  return rc;
}

static int corrupt(rd *r, const char *what) {
  return fail(r, "%s points outside the file (truncated or corrupt flatbuffer)", what);
}

static const char *type_name(int t) {
  return t >= 0 && t < (int)(sizeof type_names / sizeof type_names[0]) ? type_names[t] : "an unknown type";
}

static void free_tensors(rd *r) {
  for (uint32_t i = 0; r->t && i < r->nt; i++) free(r->t[i].scale), free(r->t[i].zp);
  free(r->t);
  r->t = NULL;
}

static int read_tensor(rd *r, const fb_table *tt, tfl_tensor *t) {
  const fb *f = &r->f;
  size_t s;
  uint32_t c;
  int64_t v;
  if (fb_vec(f, tt, 0, 4, &s, &c)) return corrupt(r, "its shape");
  if (c > 6) return fail(r, "a tensor of %u dimensions", c);
  t->ndim = (int)c;
  for (uint32_t i = 0; i < c; i++) t->shape[i] = (int32_t)rd32(f, s + 4 * i);
  if (fb_scalar(f, tt, 1, 1, 0, 1, &v)) return corrupt(r, "its type");
  t->type = (int)v;
  if (fb_scalar(f, tt, 2, 4, 0, 0, &v)) return corrupt(r, "its buffer");
  t->buffer = (uint32_t)v;
  if (fb_str(f, tt, 3, t->name, sizeof t->name)) return corrupt(r, "its name");
  fb_table q;
  if (fb_sub(f, tt, 4, &q)) return corrupt(r, "its quantization");
  if (!q.pos) return 0;
  if (fb_vec(f, &q, 2, 4, &s, &c)) return corrupt(r, "its scales");
  size_t zs;
  uint32_t zc;
  if (fb_vec(f, &q, 3, 8, &zs, &zc)) return corrupt(r, "its zero points");
  if (fb_scalar(f, &q, 6, 4, 0, 1, &v)) return corrupt(r, "its quantized dimension");
  t->qdim = (int)v;
  if (!c) return 0;
  t->scale = malloc(c * sizeof(float));
  t->zp = malloc((zc ? zc : 1) * sizeof(int64_t));
  if (!t->scale || !t->zp) return fail(r, "out of memory");
  for (uint32_t i = 0; i < c; i++) {
    uint32_t x = rd32(f, s + 4 * i);
    memcpy(&t->scale[i], &x, 4);
  }
  for (uint32_t i = 0; i < zc; i++) {
    uint64_t x = (uint64_t)rd32(f, zs + 8 * i) | (uint64_t)rd32(f, zs + 8 * i + 4) << 32;
    memcpy(&t->zp[i], &x, 8);
  }
  t->nq = (int)c;
  t->nzp = (int)zc;
  return 0;
}

/* Tensor index k of an operator (or a subgraph's inputs): checked. */
static int tensor_ix(rd *r, int32_t k, const char *what, tfl_tensor **out) {
  if (k < 0 || (uint32_t)k >= r->nt) return fail(r, "its %s is tensor %d, not one of the %u", what, k, r->nt);
  *out = &r->t[k];
  return 0;
}

/* The data of tensor t's buffer: exactly `bytes` of it, or the error. */
static int tensor_data(rd *r, const tfl_tensor *t, const char *what, size_t bytes, const uint8_t **data) {
  fb_table b;
  size_t s;
  uint32_t c;
  if (t->buffer == 0 || t->buffer >= r->nbuf) return fail(r, "its %s '%s' has no data (buffer %u)", what, t->name, t->buffer);
  if (fb_vec_table(&r->f, r->buffers, t->buffer, &b) || fb_vec(&r->f, &b, 0, 1, &s, &c)) return corrupt(r, "a buffer");
  if (c != bytes)
    return fail(r, "its %s '%s' holds %u bytes, not the %zu its shape needs (weights outside the flatbuffer do not import)",
                what, t->name, c, bytes);
  *data = r->f.b + s;
  return 0;
}

/* An activation tensor's quantization: int8, one scale, a zero point. */
static int act_q(rd *r, const tfl_tensor *t, const char *what, double *scale, int32_t *zp) {
  if (t->type != T_INT8) return fail(r, "its %s '%s' is %s, not INT8 (only int8 models import)", what, t->name, type_name(t->type));
  if (t->nq != 1 || t->nzp != 1 || !(t->scale[0] > 0) || !isfinite(t->scale[0]) || t->zp[0] < -128 || t->zp[0] > 127)
    return fail(r, "its %s '%s' is not quantized per tensor (one scale, an int8 zero point)", what, t->name);
  *scale = t->scale[0];
  *zp = (int32_t)t->zp[0];
  return 0;
}

static int same_q(const tfl_tensor *a, const tfl_tensor *b) {
  return a->nq == 1 && b->nq == 1 && a->nzp == 1 && b->nzp == 1 && a->scale[0] == b->scale[0] && a->zp[0] == b->zp[0];
}

/* Elements of t's shape, or -1 when a dim is negative or they pass 2^24. */
static int elems(const tfl_tensor *t) {
  int64_t c = 1;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] < 0) return -1;
    c *= t->shape[d];
    if (c > (1 << 24)) return -1;
  }
  return (int)c;
}

/* ---- operators into layers ------------------------------------------------------ */

/* What the walk keeps per layer: the tensor its output boundary is. The
 * operators form a graph (a residual block's ADD reads two tensors): each
 * reads the boundaries its input tensors are. */
typedef struct {
  rd *r;
  nnf_net *n;
  int out_tensor[NNF_MAX_LAYERS + 1];  /* boundary i's tensor (0: the input); -1: a boundary no
                                          tensor is (a ZeroPad2d's: SAME's padding) */
  int q_tensor[NNF_MAX_LAYERS + 1];    /* the tensor whose quantization boundary i has */
  int src;                             /* the boundary the operator's next layer reads */
  int nhwc;                            /* the current rows are a map flattened in TFLite's (H, W, C) order */
  nnf_imp_given given;                 /* the boundaries' quantization, the layers' int32 biases */
} build;

/* The boundary that is tensor k (the latest: a fused activation's output
 * after its layer's), or -1 when no layer wrote it. */
static int boundary_of(const build *b, int k) {
  for (int i = b->n->nlayers; i >= 0; i--)
    if (b->out_tensor[i] == k) return i;
  return -1;
}

/* The operator's next layer: it reads b->src (the operator's input, or
 * the layer the operator added before it) and its output is `tensor`. */
static int add(build *b, nnf_layer *l, const char *sub, int tensor) {
  if (nnf_imp_add_from(b->n, l, b->src - 1, sub, b->r->file, b->r->where, b->r->err, b->r->errlen)) return -1;
  b->src = b->n->nlayers;
  b->out_tensor[b->src] = b->q_tensor[b->src] = tensor;
  return 0;
}

/* A fused activation (FULLY_CONNECTED, CONV_2D): NONE, RELU, RELU6. */
static int fused(build *b, int64_t act, int tensor) {
  char sub[256];
  if (act == 0) return 0;
  if (act == 1 || act == 3)
    return add(b, nnf_activation(act == 1 ? NNF_ACT_RELU : NNF_ACT_RELU6, sub, sizeof sub), sub, tensor);
  return fail(b->r, "fused activation %d is not supported (NONE, RELU, RELU6 are)", (int)act);
}

/* The int8 weights w (out rows of `in`, the layer's order), per-channel or
 * per-tensor scales along dimension 0, and the int32 bias (may be NULL):
 * the layer's float parameters and given weight scales. */
static int weights(build *b, nnf_layer *l, const tfl_tensor *wt, const int8_t *w, int out, int in, const int32_t *bias,
                   double s_in, int qdim) {
  rd *r = b->r;
  if (!(wt->nq == 1 || (wt->nq == out && wt->qdim == qdim)))
    return fail(r, "its weights '%s' are not quantized per tensor or per output channel (dimension %d)", wt->name, qdim);
  float *s = malloc((size_t)out * sizeof(float));
  if (!s) return fail(r, "out of memory");
  for (int o = 0; o < out; o++) s[o] = wt->scale[wt->nq == 1 ? 0 : o];
  nnf_imp_wq q = {wt->name, w, s, wt->zp, wt->nzp, bias};
  int rc = nnf_imp_weights(&r->ctx, &b->given, l, &q, out, in, s_in);
  free(s);
  return rc;
}

/* The operator's input (x), weights (w) and bias (may be absent). */
static int wb(build *b, const int32_t *in, uint32_t nin, tfl_tensor **w, tfl_tensor **bias) {
  rd *r = b->r;
  *bias = NULL;
  if (nin < 2) return fail(r, "it has no weights");
  if (tensor_ix(r, in[1], "weights", w)) return -1;
  if ((*w)->type != T_INT8) return fail(r, "its weights '%s' are %s, not INT8", (*w)->name, type_name((*w)->type));
  if (nin > 2 && in[2] >= 0 && tensor_ix(r, in[2], "bias", bias)) return -1;
  if (*bias && (*bias)->type != T_INT32) return fail(r, "its bias '%s' is %s, not INT32", (*bias)->name, type_name((*bias)->type));
  return 0;
}

/* The data of weights wt ([out, nw / out], int8) and bias bt ([out] int32,
 * may be NULL): *wd the file's weight bytes, *w room for them in the
 * layer's order, *bias the biases (NULL without bt). -1 after the error. */
static int wb_data(build *b, const tfl_tensor *wt, const tfl_tensor *bt, int out, size_t nw, const uint8_t **wd,
                   int8_t **w, int32_t **bias) {
  rd *r = b->r;
  const uint8_t *bd = NULL;
  *w = NULL, *bias = NULL;
  if (tensor_data(r, wt, "weights", nw, wd)) return -1;
  if (bt && (bt->ndim != 1 || bt->shape[0] != out)) return fail(r, "its bias '%s' is not [%d]", bt->name, out);
  if (bt && tensor_data(r, bt, "bias", (size_t)out * 4, &bd)) return -1;
  *bias = bt ? malloc((size_t)out * 4) : NULL;
  *w = malloc(nw);
  if (!*w || (bt && !*bias)) {
    free(*w), free(*bias);
    *w = NULL, *bias = NULL;
    return fail(r, "out of memory");
  }
  for (int o = 0; bt && o < out; o++) (*bias)[o] = (int32_t)rd32(&r->f, (size_t)(bd - r->f.b) + 4 * (size_t)o);
  return 0;
}

static int fully_connected(build *b, const fb_table *opts, const int32_t *in, uint32_t nin, int out_t) {
  rd *r = b->r;
  nnf_net *n = b->n;
  tfl_tensor *wt = NULL, *bt = NULL;
  int64_t act, fmt;
  if (wb(b, in, nin, &wt, &bt)) return -1;
  if (fb_scalar(&r->f, opts, 0, 1, 0, 1, &act) || fb_scalar(&r->f, opts, 1, 1, 0, 1, &fmt)) return corrupt(r, "its options");
  if (fmt != 0) return fail(r, "weights_format %d is not supported (DEFAULT is)", (int)fmt);
  const nnf_tensor *x = &n->t[b->src];
  int K = x->width;
  if (wt->ndim != 2 || wt->shape[1] != K || wt->shape[0] < 1 || wt->shape[0] > 65535)
    return fail(r, "its weights '%s' are not [out, %d]", wt->name, K);
  int N = wt->shape[0];
  const uint8_t *wd;
  int8_t *w;
  int32_t *bias;
  if (wb_data(b, wt, bt, N, (size_t)N * K, &wd, &w, &bias)) return -1;
  char sub[256];
  int perm = b->nhwc || (x->map && x->c > 1);
  if (x->map && add(b, nnf_flatten(sub, sizeof sub), sub, in[0])) {
    free(w), free(bias);
    return -1;
  }
  /* the rows a map flattened in TFLite's (H, W, C) order hold, in nnfpga's
   * (C, H, W): the map is the input of the Flatten before this layer */
  const nnf_tensor *m = perm ? &n->t[n->layer[b->src - 1]->src] : NULL;
  int C = m ? m->c : 1, H = m ? m->h : 1, W = m ? m->w : 1;
  for (int o = 0; o < N; o++)
    for (int k = 0; k < K; k++) {
      int src = k;
      if (m) {
        int c = k / (H * W), h = k / W % H, ww = k % W;
        src = (h * W + ww) * C + c;
      }
      w[(size_t)o * K + k] = (int8_t)wd[(size_t)o * K + src];
    }
  double s_in = r->t[in[0]].scale[0];
  int rc = add(b, nnf_linear(N, sub, sizeof sub), sub, out_t) ||
           weights(b, n->layer[n->nlayers - 1], wt, w, N, K, bias, s_in, 0) || fused(b, act, out_t);
  b->nhwc = 0;
  free(w), free(bias);
  return rc;
}

/* TFLite's padding along one axis: SAME (0) pads (out - 1)*s + k - in in
 * all, half before and the rest after (one more after when odd), VALID (1)
 * nothing. */
static int pad_of(build *b, int64_t padding, int in, int k, int s, int *before, int *after) {
  *before = *after = 0;
  if (padding == 1) return 0;
  if (padding != 0) return fail(b->r, "padding %d is neither SAME nor VALID", (int)padding);
  int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
  if (total < 0) total = 0;
  *before = total / 2, *after = total - total / 2;
  return 0;
}

/* A conv's padding: the conv pads `before` on both sides; what SAME adds
 * after the map beyond that (a row, a column) is a ZeroPad2d before it. */
static int conv_padding(build *b, int64_t padding, const nnf_tensor *x, nnf_conv_spec *s, int in_tensor) {
  int t, bo, l, ri;
  if (pad_of(b, padding, x->h, s->kh, s->sh, &t, &bo) || pad_of(b, padding, x->w, s->kw, s->sw, &l, &ri)) return -1;
  s->ph = t, s->pw = l;
  if (bo == t && ri == l) return 0;
  char sub[256];
  if (add(b, nnf_zeropad2d(0, ri - l, 0, bo - t, sub, sizeof sub), sub, in_tensor)) return -1;
  b->out_tensor[b->src] = -1; /* its input's quantization, no tensor of the file */
  return 0;
}

/* CONV_2D (weights [O, KH, KW, I]) and DEPTHWISE_CONV_2D (weights
 * [1, KH, KW, I*m], per-channel scales along dimension 3): a Conv2d, groups
 * 1 or I. */
static int conv2d(build *b, const fb_table *opts, const int32_t *in, uint32_t nin, int out_t, int depthwise) {
  rd *r = b->r;
  nnf_net *n = b->n;
  tfl_tensor *wt = NULL, *bt = NULL;
  int64_t padding, sw, sh, act, dw, dh, mult = 1;
  if (wb(b, in, nin, &wt, &bt)) return -1;
  /* CONV_2D: padding, stride_w, stride_h, fused_activation_function, dilation_w, dilation_h;
   * DEPTHWISE_CONV_2D: depth_multiplier before the activation */
  const int o = depthwise;
  if (fb_scalar(&r->f, opts, 0, 1, 0, 1, &padding) || fb_scalar(&r->f, opts, 1, 4, 0, 1, &sw) ||
      fb_scalar(&r->f, opts, 2, 4, 0, 1, &sh) || (depthwise && fb_scalar(&r->f, opts, 3, 4, 0, 1, &mult)) ||
      fb_scalar(&r->f, opts, 3 + o, 1, 0, 1, &act) || fb_scalar(&r->f, opts, 4 + o, 4, 1, 1, &dw) ||
      fb_scalar(&r->f, opts, 5 + o, 4, 1, 1, &dh))
    return corrupt(r, "its options");
  const nnf_tensor *x = &n->t[b->src];
  if (!x->map) return fail(r, "its input is not a feature map");
  if (dw != 1 || dh != 1) return fail(r, "dilation other than 1 does not import");
  if (sw < 1 || sw > NNF_CONV_STRIDE_MAX || sh < 1 || sh > NNF_CONV_STRIDE_MAX)
    return fail(r, "strides %d x %d: strides 1..%d import", (int)sh, (int)sw, NNF_CONV_STRIDE_MAX);
  const int I = x->c;
  if (depthwise && mult == 0 && wt->ndim == 4 && wt->shape[3] % I == 0) mult = wt->shape[3] / I; /* left out: the shapes say */
  int ok = wt->ndim == 4 && wt->shape[1] >= 1 && wt->shape[1] <= NNF_CONV_KERNEL_MAX && wt->shape[2] >= 1 &&
           wt->shape[2] <= NNF_CONV_KERNEL_MAX;
  if (depthwise) ok = ok && wt->shape[0] == 1 && mult >= 1 && (int64_t)I * mult <= 65535 && wt->shape[3] == I * mult;
  else ok = ok && wt->shape[3] == I && wt->shape[0] >= 1 && wt->shape[0] <= 65535;
  if (!ok && depthwise)
    return fail(r, "its weights '%s' are not [1, kh, kw, %d x %d] (kernels 1..%d)", wt->name, I, (int)mult,
                NNF_CONV_KERNEL_MAX);
  if (!ok) return fail(r, "its weights '%s' are not [out, kh, kw, %d] (kernels 1..%d)", wt->name, I, NNF_CONV_KERNEL_MAX);
  const int O = depthwise ? wt->shape[3] : wt->shape[0], KH = wt->shape[1], KW = wt->shape[2];
  const int CG = depthwise ? 1 : I; /* input channels an output reads */
  nnf_conv_spec cs = {O, KH, KW, (int)sh, (int)sw, 0, 0, depthwise ? I : 1, bt != NULL};
  if (conv_padding(b, padding, x, &cs, in[0])) return -1;
  size_t K = (size_t)CG * KH * KW;
  const uint8_t *wd;
  int8_t *w;
  int32_t *bias;
  if (wb_data(b, wt, bt, O, (size_t)O * K, &wd, &w, &bias)) return -1;
  for (int oc = 0; oc < O; oc++) /* OHWI, or 1 x KH x KW x O, -> OIHW */
    for (int c = 0; c < CG; c++)
      for (int y = 0; y < KH; y++)
        for (int xx = 0; xx < KW; xx++)
          w[(size_t)oc * K + ((size_t)c * KH + y) * KW + xx] =
              (int8_t)(depthwise ? wd[((size_t)y * KW + xx) * O + oc] : wd[(size_t)oc * K + ((size_t)y * KW + xx) * I + c]);
  char sub[256];
  double s_in = r->t[in[0]].scale[0];
  int rc = add(b, nnf_conv2d_spec(&cs, sub, sizeof sub), sub, out_t) ||
           weights(b, n->layer[n->nlayers - 1], wt, w, O, (int)K, bias, s_in, depthwise ? 3 : 0) || fused(b, act, out_t);
  free(w), free(bias);
  return rc;
}

static int pool2d(build *b, const fb_table *opts, int avg, const tfl_tensor *x, const tfl_tensor *y, int out_t) {
  rd *r = b->r;
  int64_t padding, sw, sh, fw, fh, act;
  if (fb_scalar(&r->f, opts, 0, 1, 0, 1, &padding) || fb_scalar(&r->f, opts, 1, 4, 0, 1, &sw) ||
      fb_scalar(&r->f, opts, 2, 4, 0, 1, &sh) || fb_scalar(&r->f, opts, 3, 4, 0, 1, &fw) ||
      fb_scalar(&r->f, opts, 4, 4, 0, 1, &fh) || fb_scalar(&r->f, opts, 5, 1, 0, 1, &act))
    return corrupt(r, "its options");
  const nnf_tensor *t = &b->n->t[b->src];
  if (!t->map) return fail(r, "its input is not a feature map");
  if (act != 0) return fail(r, "a fused activation on a pool does not import");
  if (!same_q(x, y)) return fail(r, "its output's quantization is not its input's");
  char sub[256];
  if (avg && padding == 1 && fh == t->h && fw == t->w) /* the whole map: global average pooling */
    return add(b, nnf_global_avgpool(sub, sizeof sub), sub, out_t);
  if (fw != fh || sw != sh || fw < 1 || fw > 64 || sw < 1 || sw > 64)
    return fail(r, "a %d x %d window with strides %d x %d: only square windows and equal strides import", (int)fh,
                (int)fw, (int)sh, (int)sw);
  int pad, after, pw, pwa;
  if (pad_of(b, padding, t->h, (int)fw, (int)sw, &pad, &after) || pad_of(b, padding, t->w, (int)fw, (int)sw, &pw, &pwa))
    return -1;
  if (after != pad || pwa != pw || pw != pad)
    return fail(r, "SAME padding is not symmetric here (%d rows above and %d below, %d columns left and %d right): "
                "pools pad evenly", pad, after, pw, pwa);
  nnf_layer *l = avg ? nnf_avgpool2d((int)fw, (int)sw, pad, sub, sizeof sub) : nnf_maxpool2d((int)fw, (int)sw, pad, sub, sizeof sub);
  return add(b, l, sub, out_t);
}

/* ---- the graph ----------------------------------------------------------------- */

static int opcode(rd *r, uint32_t idx, int *code, char *custom, size_t clen) {
  size_t s;
  uint32_t c;
  fb_table oc;
  int64_t dep, full;
  if (fb_vec(&r->f, &r->model, 1, 4, &s, &c)) return corrupt(r, "the operator codes");
  if (idx >= c) return fail(r, "its opcode_index %u is not one of the %u operator codes", idx, c);
  if (fb_vec_table(&r->f, s, idx, &oc) || fb_scalar(&r->f, &oc, 0, 1, 0, 1, &dep) ||
      fb_scalar(&r->f, &oc, 3, 4, 0, 1, &full) || fb_str(&r->f, &oc, 1, custom, clen))
    return corrupt(r, "an operator code");
  /* the schema: the builtin code is the larger of the two fields */
  *code = (int)(dep > full ? dep : full);
  return 0;
}

static int walk_ops(rd *r, build *b, nnf_import_info *info) {
  const fb *f = &r->f;
  size_t ops, ins, outs;
  uint32_t nops, nin, nout;
  if (fb_vec(f, &r->sub, 3, 4, &ops, &nops) || fb_vec(f, &r->sub, 1, 4, &ins, &nin) ||
      fb_vec(f, &r->sub, 2, 4, &outs, &nout))
    return corrupt(r, "the subgraph");
  info->operators = (int)nops;
  snprintf(r->where, sizeof r->where, "subgraph inputs");
  if (nin != 1 || nout != 1) return fail(r, "%u inputs and %u outputs: only one of each imports", nin, nout);
  tfl_tensor *x = NULL, *gout = NULL;
  if (tensor_ix(r, (int32_t)rd32(f, ins), "input", &x) || tensor_ix(r, (int32_t)rd32(f, outs), "output", &gout)) return -1;
  int cur = (int)rd32(f, ins), end = (int)rd32(f, outs);
  /* the network over the input's shape: (1, F) flat, (1, H, W, C) a map, (1, H, W) one channel */
  int sh[4] = {0, 0, 0, 0};
  for (int d = 0; d < x->ndim && d < 4; d++) sh[d] = x->shape[d];
  if (!((x->ndim == 2 || x->ndim == 3 || x->ndim == 4) && sh[0] == 1 && elems(x) > 0))
    return fail(r, "input '%s' is not (1, features), (1, H, W) or (1, H, W, C)", x->name);
  char sub[256];
  b->n = x->ndim == 2 ? nnf_net_create(sh[1], sub, sizeof sub)
                      : nnf_net_create_map(x->ndim == 4 ? sh[3] : 1, sh[1], sh[2], sub, sizeof sub);
  if (!b->n) return fail(r, "%s", sub);
  b->out_tensor[0] = b->q_tensor[0] = cur;
  int dropping = 0;
  for (uint32_t i = 0; i < nops; i++) {
    fb_table op, opts;
    int64_t ix;
    int code = -1;
    char custom[64], name[48];
    snprintf(r->where, sizeof r->where, "operator %u", i);
    if (fb_vec_table(f, ops, i, &op) || fb_scalar(f, &op, 0, 4, 0, 0, &ix)) return corrupt(r, "an operator");
    if (opcode(r, (uint32_t)ix, &code, custom, sizeof custom)) return -1;
    op_name(code, name, sizeof name);
    size_t is, os;
    uint32_t ni, no;
    if (fb_vec(f, &op, 1, 4, &is, &ni) || fb_vec(f, &op, 2, 4, &os, &no) || fb_sub(f, &op, 4, &opts))
      return corrupt(r, "an operator's inputs, outputs or options");
    if (ni > 16 || no != 1) return fail(r, "%u inputs and %u outputs", ni, no);
    int32_t in[16];
    for (uint32_t k = 0; k < ni; k++) in[k] = (int32_t)rd32(f, is + 4 * k);
    int out = (int32_t)rd32(f, os);
    tfl_tensor *y = NULL, *xi = NULL;
    if (tensor_ix(r, out, "output", &y)) return -1;
    snprintf(r->where, sizeof r->where, "operator %u (%s '%s')", i, custom[0] ? "custom" : name, y->name);
    if (custom[0]) return fail(r, "custom operator '%s' is not supported", custom);
    if (dropping && code != OP_DEQUANTIZE) return fail(r, "%s after SOFTMAX: SOFTMAX imports only at the end", name);
    if (ni < 1) return fail(r, "it has no inputs");
    if (tensor_ix(r, in[0], "input", &xi)) return -1;
    double s;
    int32_t zp;
    if (code == OP_QUANTIZE && i == 0 && in[0] == cur) { /* float input -> int8: the network's input quantizer */
      if (xi->type != T_FLOAT32) return fail(r, "its input '%s' is %s, not FLOAT32", xi->name, type_name(xi->type));
      if (act_q(r, y, "output", &s, &zp)) return -1;
      b->out_tensor[0] = b->q_tensor[0] = out;
      cur = out;
      continue;
    }
    /* the boundary it reads: the graph's input or an earlier layer's output */
    if ((b->src = boundary_of(b, in[0])) < 0)
      return fail(r, "it reads tensor '%s', which is neither the input nor an earlier operator's output", xi->name);
    if (code == OP_DEQUANTIZE && out == end && b->src == b->n->nlayers) {
      nnf_imp_dropped(info, "DEQUANTIZE (the last operator)");
      cur = out;
      continue;
    }
    if (i == 0 && act_q(r, xi, "input", &s, &zp)) return -1;
    if (act_q(r, y, "output", &s, &zp)) return -1;
    int rc = 0;
    switch (code) {
    case OP_FULLY_CONNECTED: rc = fully_connected(b, &opts, in, ni, out); break;
    case OP_CONV_2D: rc = conv2d(b, &opts, in, ni, out, 0); break;
    case OP_DEPTHWISE_CONV_2D: rc = conv2d(b, &opts, in, ni, out, 1); break;
    case OP_MAX_POOL_2D: rc = pool2d(b, &opts, 0, xi, y, out); break;
    case OP_AVERAGE_POOL_2D: rc = pool2d(b, &opts, 1, xi, y, out); break;
    case OP_LOGISTIC:
    case OP_TANH: {
      int sig = code == OP_LOGISTIC;
      nnf_layer *prev = b->src && b->src == b->n->nlayers ? b->n->layer[b->src - 1] : NULL;
      if (!prev || !(nnf_layer_dense(prev) || nnf_layer_conv(prev)))
        return fail(r, "%s imports only right after FULLY_CONNECTED or CONV_2D without a fused activation", name);
      if (s != (sig ? 1.0 / 256 : 1.0 / 128) || zp != (sig ? -128 : 0))
        return fail(r, "its output is quantized (%g, %d), not TFLite's (%s)", s, (int)zp, sig ? "1/256, -128" : "1/128, 0");
      rc = add(b, nnf_activation(sig ? NNF_ACT_SIGMOID : NNF_ACT_TANH, sub, sizeof sub), sub, out);
      break;
    }
    case OP_RESHAPE: {
      const nnf_tensor *t = &b->n->t[b->src];
      if (!(y->ndim == 2 && y->shape[0] == 1 && y->shape[1] == t->width) && !(y->ndim == 1 && y->shape[0] == t->width))
        return fail(r, "only a RESHAPE to (1, %d) (a flatten) imports", t->width);
      if (!same_q(xi, y)) return fail(r, "its output's quantization is not its input's");
      if (t->map && t->c > 1) b->nhwc = 1; /* the next FULLY_CONNECTED reads (H, W, C) rows */
      if (t->map) rc = add(b, nnf_flatten(sub, sizeof sub), sub, out);
      else if (b->src == b->n->nlayers) b->out_tensor[b->src] = out; /* flat rows renamed */
      else return fail(r, "a RESHAPE of flat rows imports only right after the operator that wrote them");
      break;
    }
    case OP_ADD: {
      /* a residual join: an Add reading both tensors' boundaries (TFLite's
       * int8 ADD, nnfm_ew), its fused ReLU in its clamp */
      tfl_tensor *x2 = NULL;
      double s1, s2;
      int32_t z1, z2;
      int64_t act;
      if (ni != 2) return fail(r, "%u inputs: ADD imports with two", ni);
      if (tensor_ix(r, in[1], "input", &x2) || act_q(r, xi, "input", &s1, &z1) || act_q(r, x2, "input", &s2, &z2))
        return -1;
      int b2 = boundary_of(b, in[1]);
      if (b2 < 0)
        return fail(r, "it reads tensor '%s', which is neither the input nor an earlier operator's output", x2->name);
      if (fb_scalar(f, &opts, 0, 1, 0, 1, &act)) return corrupt(r, "its options");
      if (b2 > b->src) { /* it reads the later one (ADD is symmetric): "Add(K)" after the layer before it */
        int t = b2;
        b2 = b->src, b->src = t;
      }
      rc = add(b, nnf_add(b2 - 1, sub, sizeof sub), sub, out) || fused(b, act, out);
      break;
    }
    case OP_SOFTMAX: {
      /* kept: TFLite's int8 SOFTMAX is the model's output (a Softmax layer, on
       * the host after the device: docs/tiny.md) */
      int64_t bits;
      if (out != end && !(i + 2 == nops)) return fail(r, "SOFTMAX imports only at the end");
      if (fb_scalar(f, &opts, 0, 4, 0, 0, &bits)) return corrupt(r, "its options");
      uint32_t b32 = (uint32_t)bits;
      float beta;
      memcpy(&beta, &b32, 4);
      if (beta != 1.0f) return fail(r, "its beta is %g: only 1 imports (torch.nn.Softmax)", (double)beta);
      if (s != 1.0 / 256 || zp != -128)
        return fail(r, "its output is quantized (%g, %d), not TFLite's (1/256, -128)", s, (int)zp);
      rc = add(b, nnf_softmax(sub, sizeof sub), sub, out);
      dropping = 1;
      break;
    }
    default: return fail(r, "operator %s is not supported (docs/import.md lists those that are)", name);
    }
    if (rc) return -1;
    if (code != OP_SOFTMAX && b->nhwc && code != OP_RESHAPE) b->nhwc = 0;
    cur = out;
  }
  snprintf(r->where, sizeof r->where, "subgraph outputs");
  if (cur != end) return fail(r, "the subgraph's output is not the last operator's");
  if (!b->n->nlayers) return fail(r, "the subgraph has no layers");
  return 0;
}

/* Each layer rounds as its TFLite kernel: CONV_2D and ADD with TFLite's
 * two roundings, FULLY_CONNECTED with one (the interpreter's fully
 * connected kernel rounds once: docs/import.md, "Rounding"). */
static void tflite_rounding(nnf_net *n) {
  for (int i = 0; i < n->nlayers; i++)
    nnf_layer_set_rounding(n->layer[i], nnf_layer_conv(n->layer[i]) || nnf_layer_add_from(n->layer[i]) >= -1
                                            ? NNFM_ROUND_TFLITE
                                            : NNFM_ROUND_SINGLE);
}

/* The given quantization on every boundary, quantize, and check that the
 * int8 model is the file's: weights, biases, multipliers. */
static int give(rd *r, build *b) {
  snprintf(r->where, sizeof r->where, "quantization");
  for (int i = 0; i <= b->n->nlayers; i++)
    if (act_q(r, &r->t[b->q_tensor[i]], "tensor", &b->given.scale[i], &b->given.zp[i])) return -1;
  tflite_rounding(b->n);
  return nnf_imp_quantize(&r->ctx, b->n, &b->given);
}

nnf_net *nnf_import_tflite(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                           size_t errlen) {
  nnf_import_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  info->format = NNF_IMPORT_TFLITE;
  info->quantized = 1;
  rd r = {{buf, len}, name, "model", err, errlen, {0, 0, 0}, {0, 0, 0}, NULL, 0, 0, 0, {NULL, NULL, 0, NULL, 0}};
  r.ctx = (nnf_imp_ctx){name, r.where, sizeof r.where, err, errlen};
  build b;
  memset(&b, 0, sizeof b);
  b.r = &r;
  size_t root, subs, tens;
  uint32_t nsubs;
  int rc = 0;
  if (len < 8 || memcmp(buf + 4, "TFL3", 4)) rc = fail(&r, "not a TFLite flatbuffer (no TFL3 identifier)");
  else if (fb_deref(&r.f, 0, &root) || fb_table_at(&r.f, root, &r.model)) rc = corrupt(&r, "the root table");
  else if (fb_vec(&r.f, &r.model, 2, 4, &subs, &nsubs) || fb_vec(&r.f, &r.model, 4, 4, &r.buffers, &r.nbuf))
    rc = corrupt(&r, "the subgraphs or buffers");
  else if (nsubs != 1) rc = fail(&r, "%u subgraphs: only models of one import", nsubs);
  else if (fb_vec_table(&r.f, subs, 0, &r.sub) || fb_vec(&r.f, &r.sub, 0, 4, &tens, &r.nt)) rc = corrupt(&r, "the subgraph");
  if (!rc) {
    int64_t v;
    char desc[64];
    if (fb_scalar(&r.f, &r.model, 0, 4, 0, 0, &v) || fb_str(&r.f, &r.model, 3, desc, sizeof desc)) rc = corrupt(&r, "the version");
    else if (v != 3) rc = fail(&r, "schema version %d, not 3", (int)v);
    else snprintf(info->producer, sizeof info->producer, "%s", desc);
  }
  if (!rc && !(r.t = calloc(r.nt ? r.nt : 1, sizeof *r.t))) rc = fail(&r, "out of memory");
  for (uint32_t i = 0; !rc && i < r.nt; i++) {
    fb_table tt;
    snprintf(r.where, sizeof r.where, "tensor %u", i);
    rc = fb_vec_table(&r.f, tens, i, &tt) ? corrupt(&r, "the tensor") : read_tensor(&r, &tt, &r.t[i]);
  }
  if (!rc) rc = walk_ops(&r, &b, info) || give(&r, &b);
  nnf_imp_given_free(&b.given);
  free_tensors(&r);
  if (rc) {
    nnf_net_free(b.n);
    return NULL;
  }
  return b.n;
}
