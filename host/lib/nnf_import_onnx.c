/*
 * nnf_import_onnx.c - ONNX float models into the layer stack (nnf_import.h,
 * docs/import.md). The protobuf is parsed by protobuf-c with the C that
 * protoc-c generates from nnf_onnx.proto (the subset of onnx.proto read
 * here); this file walks the graph's nodes in order. The nodes form a graph
 * (a ResNet block's Add reads two tensors): a map from tensor names to the
 * layer stack's boundaries, each node's layers reading the boundary its
 * input tensor is (nnf_net_add_from):
 *
 *   Gemm (alpha = beta = 1, transA = 0), MatMul [+ Add]  -> Linear
 *   Conv (kernel, strides, pads per axis, groups, dilation 1) -> Conv2d, after a
 *        ZeroPad2d of the pads beyond the smaller of each axis' two
 *   MaxPool, AveragePool (count_include_pad = 0 or no pads), GlobalAveragePool
 *   Relu, Clip(0, 6) (ReLU6), Clip(0) (ReLU), Sigmoid, Tanh
 *   Add (Sum) of two tensors of the same shape -> Add (a residual join)
 *   Flatten (axis 1), Reshape to (N, features): Flatten
 *   Identity, Dropout, Pad by zeros: nothing; Constant: a value for the nodes after it
 *   Softmax as the last node: dropped (the logits are the outputs)
 *
 * and int8 models with their quantization given (as TFLite's, nnf_import_quant.c):
 *
 *   QDQ: QuantizeLinear / DequantizeLinear around the float operators above,
 *        int8 weights and int32 biases through DequantizeLinear
 *   QOperator: QLinearConv, QLinearMatMul, QGemm (com.microsoft), MaxPool,
 *        QLinearAveragePool, QLinearGlobalAveragePool (com.microsoft)
 *   QuantizeLinear at the input, DequantizeLinear at the end (dropped)
 *
 * uint8 tensors become int8 (u - 128, zero point z - 128: the same reals).
 */
#include "nnf_import.h"
#include "nnf_import_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"
#include "nnf_onnx.pb-c.h"

typedef NnfOnnx__TensorProto tensor;
typedef NnfOnnx__NodeProto node;
#define TN(t) ((t)->name ? (t)->name : "")

/* What a tensor is in an int8 model. */
enum { K_FLOAT = 0, K_INT, K_DEQ, K_ACC };

/* A tensor the walk has met: the boundary it is (0: the graph's input;
 * -1: a MatMul's output its bias Add took, read by nothing else), what it
 * is in an int8 model, whether a MatMul wrote it (float: an Add of a
 * constant after it is its bias). */
typedef struct {
  const char *name;
  int b;
  int kind;
  int matmul;
} value_of;

/* What the walk knows: the file, the graph's values by name. */
typedef struct {
  const char *file;
  const NnfOnnx__GraphProto *g;
  const tensor **consts;   /* Constant nodes' values, by node index (NULL: none) */
  char where[160];         /* "node 3 'Conv' (name)" of the node being read */
  char *err;
  size_t errlen;
  value_of *vals;          /* the tensors read so far: the graph's input, each node's output */
  size_t nvals;
  int src;                 /* the boundary the node's next layer reads (its input tensor's, then
                              the last layer the node added) */
  int node_of[NNF_MAX_LAYERS + 1]; /* the node that added the layer writing boundary i */
  /* int8 models (QDQ, QOperator) */
  int quant;               /* the graph quantizes: its quantization is given */
  int kind;                /* the node's input is K_FLOAT: the float input; K_INT: an int8 (uint8) tensor;
                              K_DEQ: a DequantizeLinear's float image of one (or a pool's);
                              K_ACC: a Conv / Gemm / MatMul / Add's output, not yet quantized */
  const node **qconsts;    /* DequantizeLinear nodes of initializers (the weights), by node index */
  int qset[NNF_MAX_LAYERS + 1];
  nnf_imp_given given;     /* boundary i's quantization once qset[i], the int32 biases */
  nnf_imp_ctx ctx;
} walk;

static const char *const dtype_names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
                                          "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
                                          "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};

static const char *dtype_name(int32_t t) {
  return t >= 0 && t < (int32_t)(sizeof dtype_names / sizeof dtype_names[0]) ? dtype_names[t] : "an unknown type";
}

static int fail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(walk *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = nnf_imp_vfail(w->err, w->errlen, w->file, w->where, fmt, ap);
  va_end(ap);
  return rc;
}

/* The value named `name`: an initializer or a Constant node's output. */
static const tensor *value(const walk *w, const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < w->g->n_initializer; i++)
    if (w->g->initializer[i]->name && !strcmp(w->g->initializer[i]->name, name)) return w->g->initializer[i];
  for (size_t i = 0; i < w->g->n_node; i++)
    if (w->consts[i] && w->g->node[i]->n_output > 0 && !strcmp(w->g->node[i]->output[0], name)) return w->consts[i];
  return NULL;
}

/* Elements of t (its dims' product), or -1 when a dim is negative or the
 * product exceeds 2^31. */
static int64_t count(const tensor *t) {
  int64_t c = 1;
  for (size_t d = 0; d < t->n_dims; d++) {
    if (t->dims[d] < 0 || t->dims[d] > (INT64_C(1) << 31)) return -1;
    c *= t->dims[d];
    if (c > (INT64_C(1) << 31)) return -1;
  }
  return c;
}

/* t's float32 values (exactly `want` of them, dims as given), malloc'ed;
 * NULL after the error. */
static float *floats(walk *w, const tensor *t, const char *what, int ndim, const int64_t *dims) {
  char shape[96];
  size_t u = 0;
  shape[0] = 0;
  for (int d = 0; d < ndim && u < sizeof shape; d++)
    u += (size_t)snprintf(shape + u, sizeof shape - u, "%s%lld", d ? ", " : "", (long long)dims[d]);
  if (t->has_data_location && t->data_location == NNF_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    fail(w, "%s '%s' is stored outside the file (external data): save the model with its weights inside", what,
         TN(t));
    return NULL;
  }
  if (!t->has_data_type || t->data_type != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    fail(w, "%s '%s' is %s: only FLOAT (float32) weights import", what, TN(t),
         dtype_name(t->has_data_type ? t->data_type : 0));
    return NULL;
  }
  int same = (int)t->n_dims == ndim;
  for (int d = 0; same && d < ndim; d++) same = t->dims[d] == dims[d];
  /* a bias may come as [out] or [1, out] */
  if (!same && ndim == 1 && t->n_dims == 2 && t->dims[0] == 1 && t->dims[1] == dims[0]) same = 1;
  if (!same) {
    fail(w, "%s '%s' does not have the shape [%s] the layer needs", what, TN(t), shape);
    return NULL;
  }
  int64_t n = count(t);
  int raw = t->has_raw_data;
  if (n < 0 || (raw && t->raw_data.len != (size_t)n * 4) || (!raw && t->n_float_data != (size_t)n)) {
    fail(w, "%s '%s': its data does not hold its dims' elements", what, TN(t));
    return NULL;
  }
  float *v = malloc((size_t)(n ? n : 1) * sizeof(float));
  if (!v) {
    fail(w, "%s '%s': out of memory", what, TN(t));
    return NULL;
  }
  if (raw) {
    for (int64_t i = 0; i < n; i++) { /* little endian, as ONNX stores it */
      const uint8_t *b = t->raw_data.data + 4 * i;
      uint32_t x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
      memcpy(&v[i], &x, 4);
    }
  } else {
    memcpy(v, t->float_data, (size_t)n * sizeof(float));
  }
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(v[i])) {
      free(v);
      fail(w, "%s '%s' has a value that is not finite", what, TN(t));
      return NULL;
    }
  return v;
}

/* A scalar (or one-element) float tensor's value. */
static int scalar(walk *w, const tensor *t, const char *what, double *out) {
  int64_t one = 1, n = count(t);
  if (n != 1) return fail(w, "%s '%s' is not a single value", what, TN(t));
  tensor s = *t;
  s.n_dims = 1;
  s.dims = &one;
  float *v = floats(w, &s, what, 1, &one);
  if (!v) return -1;
  *out = v[0];
  free(v);
  return 0;
}

/* t's int64 values (Reshape's shape): 0 and up to max of them in v, *n. */
static int int64s(walk *w, const tensor *t, const char *what, int64_t *v, int max, int *n) {
  int64_t c = count(t);
  if (!t->has_data_type || t->data_type != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || c < 0 || c > max)
    return fail(w, "%s '%s' is not a short INT64 vector", what, TN(t));
  if (t->has_raw_data) {
    if (t->raw_data.len != (size_t)c * 8) return fail(w, "%s '%s': its raw data does not hold its elements", what, TN(t));
    for (int64_t i = 0; i < c; i++) {
      uint64_t x = 0;
      for (int b = 7; b >= 0; b--) x = x << 8 | t->raw_data.data[8 * i + b];
      memcpy(&v[i], &x, 8);
    }
  } else if (t->n_int64_data == (size_t)c) {
    memcpy(v, t->int64_data, (size_t)c * 8);
  } else {
    return fail(w, "%s '%s': its data does not hold its elements", what, TN(t));
  }
  *n = (int)c;
  return 0;
}

static const NnfOnnx__AttributeProto *attr(const node *nd, const char *name) {
  for (size_t i = 0; i < nd->n_attribute; i++)
    if (nd->attribute[i]->name && !strcmp(nd->attribute[i]->name, name)) return nd->attribute[i];
  return NULL;
}

static int64_t attr_int(const node *nd, const char *name, int64_t def) {
  const NnfOnnx__AttributeProto *a = attr(nd, name);
  return a && a->has_i ? a->i : def;
}

/* An INTS attribute whose values are all equal (a square kernel, equal
 * strides, symmetric pads): that value, def when absent, -1 when they
 * differ or the count is not n. */
static int64_t attr_same(const node *nd, const char *name, size_t n, int64_t def) {
  const NnfOnnx__AttributeProto *a = attr(nd, name);
  if (!a) return def;
  if (a->n_ints != n) return -1;
  for (size_t i = 1; i < n; i++)
    if (a->ints[i] != a->ints[0]) return -1;
  return a->ints[0];
}

/* Attributes a layer cannot take: auto_pad other than NOTSET, dilations
 * other than 1, groups, ceil_mode, ... -> the error. */
static int check_window(walk *w, const node *nd, int64_t *k, int64_t *s, int64_t *p) {
  const NnfOnnx__AttributeProto *ap = attr(nd, "auto_pad");
  if (ap && ap->has_s && ap->s.len && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
    return fail(w, "auto_pad is not NOTSET: give explicit pads");
  *k = attr_same(nd, "kernel_shape", 2, 0);
  *s = attr_same(nd, "strides", 2, 1);
  *p = attr_same(nd, "pads", 4, 0);
  if (*k <= 0) return fail(w, "kernel_shape is not a square kernel (k, k)");
  if (*s <= 0) return fail(w, "strides are not equal positive values");
  if (*p < 0) return fail(w, "pads are not the same on every side");
  if (attr_same(nd, "dilations", 2, 1) != 1) return fail(w, "dilations other than 1 do not import");
  if (attr_int(nd, "ceil_mode", 0)) return fail(w, "ceil_mode=1 does not import (PyTorch's default 0 does)");
  if (*k > 64 || *s > 64 || *p > 64) return fail(w, "kernel, stride or pad too large");
  return 0;
}

/* The node's next layer: it reads w->src (the node's input, or the layer
 * the node added before it), and becomes w->src. */
static int add(walk *w, nnf_net *n, nnf_layer *l, const char *sub) {
  if (nnf_imp_add_from(n, l, w->src - 1, sub, w->file, w->where, w->err, w->errlen)) return -1;
  w->src = n->nlayers;
  return 0;
}

/* The tensor named name the walk has met (the latest of that name), or NULL. */
static value_of *tensor_of(const walk *w, const char *name) {
  for (size_t i = w->nvals; name && i-- > 0;)
    if (!strcmp(w->vals[i].name, name)) return &w->vals[i];
  return NULL;
}

/* A tensor a node read as an activation: the input or an earlier node's output. */
static const value_of *read_tensor(walk *w, const char *name) {
  const value_of *v = tensor_of(w, name);
  if (!v)
    fail(w, "it reads tensor '%s', which is neither the graph's input nor an earlier node's output", name ? name : "");
  else if (v->b < 0)
    fail(w, "it reads tensor '%s', a MatMul's output before the Add of its bias (only that Add may read it)", v->name);
  return v && v->b >= 0 ? v : NULL;
}

/* "C x H x W" or "F features": a boundary's shape, for messages. */
static const char *shape_of(const nnf_tensor *t, char *buf, size_t len) {
  if (t->map) snprintf(buf, len, "%d x %d x %d", t->c, t->h, t->w);
  else snprintf(buf, len, "%d features", t->width);
  return buf;
}

/* Add (or Sum) of tensors a and b, neither a constant: a residual join,
 * an Add layer reading the later of the two boundaries and adding the
 * earlier (torch's `out + shortcut`; the sum is the same either way). */
static int add_tensors(walk *w, nnf_net *n, const node *nd, const value_of *a, const value_of *b) {
  const nnf_tensor *ta = &n->t[a->b], *tb = &n->t[b->b];
  char sa[64], sb[64], sub[256];
  if (ta->map != tb->map || ta->width != tb->width || ta->c != tb->c || ta->h != tb->h || ta->w != tb->w)
    return fail(w, "it adds '%s' (%s) and '%s' (%s): only tensors of the same shape add (no broadcasting)",
                nd->input[0], shape_of(ta, sa, sizeof sa), nd->input[1], shape_of(tb, sb, sizeof sb));
  int later = a->b > b->b ? a->b : b->b, earlier = a->b > b->b ? b->b : a->b;
  w->src = later;
  return add(w, n, nnf_add(earlier - 1, sub, sizeof sub), sub);
}

/* INTS attribute `name` of n values into v (def for each when absent): 0,
 * or -1 when its count is not n. */
static int attr_ints(const node *nd, const char *name, size_t n, int64_t def, int64_t *v) {
  const NnfOnnx__AttributeProto *a = attr(nd, name);
  for (size_t i = 0; i < n; i++) v[i] = a ? (i < a->n_ints ? a->ints[i] : -1) : def;
  return a && a->n_ints != n ? -1 : 0;
}

/* A Conv's window, torch's Conv2d: the kernel, strides and pads per axis
 * and its group into *s (padding the smaller of each axis' two pads); the
 * pads beyond those into pad[4] (left, right, top, bottom: a ZeroPad2d
 * before the conv when not all 0). */
static int conv_window(walk *w, const nnf_net *n, const node *nd, int64_t out, nnf_conv_spec *s, int pad[4]) {
  const NnfOnnx__AttributeProto *ap = attr(nd, "auto_pad");
  int64_t k[2], st[2], p[4], d[2], g = attr_int(nd, "group", 1);
  if (!n->t[w->src].map) return fail(w, "its input is not a feature map (N, C, H, W)");
  if (ap && ap->has_s && ap->s.len && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
    return fail(w, "auto_pad is not NOTSET: give explicit pads");
  if (attr_ints(nd, "kernel_shape", 2, 0, k) || k[0] < 1 || k[1] < 1 || k[0] > 64 || k[1] > 64)
    return fail(w, "kernel_shape is not two sizes 1..64 (kh, kw)");
  if (attr_ints(nd, "strides", 2, 1, st) || st[0] < 1 || st[1] < 1 || st[0] > 64 || st[1] > 64)
    return fail(w, "strides are not two values 1..64");
  if (attr_ints(nd, "pads", 4, 0, p) || p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0 || p[0] > 64 || p[1] > 64 ||
      p[2] > 64 || p[3] > 64)
    return fail(w, "pads are not four values 0..64 (top, left, bottom, right)");
  if (attr_ints(nd, "dilations", 2, 1, d) || d[0] != 1 || d[1] != 1) return fail(w, "dilations other than 1 do not import");
  if (g < 1 || g > 65535) return fail(w, "group %lld is not 1..65535", (long long)g);
  const int64_t ph = p[0] < p[2] ? p[0] : p[2], pw = p[1] < p[3] ? p[1] : p[3];
  nnf_conv_spec c = {(int)out, (int)k[0], (int)k[1], (int)st[0], (int)st[1], (int)ph, (int)pw, (int)g, 1};
  *s = c;
  pad[0] = (int)(p[1] - pw), pad[1] = (int)(p[3] - pw), pad[2] = (int)(p[0] - ph), pad[3] = (int)(p[2] - ph);
  return 0;
}

/* The ZeroPad2d of a Conv's uneven pads (conv_window), if any; on an int8
 * model its boundary keeps its input's quantization. */
static int conv_pad(walk *w, nnf_net *n, const int pad[4]) {
  char sub[256];
  if (!pad[0] && !pad[1] && !pad[2] && !pad[3]) return 0;
  int a = w->src;
  if (add(w, n, nnf_zeropad2d(pad[0], pad[1], pad[2], pad[3], sub, sizeof sub), sub)) return -1;
  int b = w->src;
  if (w->qset[a]) w->qset[b] = 1, w->given.scale[b] = w->given.scale[a], w->given.zp[b] = w->given.zp[a];
  return 0;
}

/* Gemm and MatMul: a Linear layer from B (k x n, or n x k with trans) and C. */
static int linear(walk *w, nnf_net *n, const node *nd, int gemm) {
  const nnf_tensor *x = &n->t[w->src];
  if (x->map) return fail(w, "its input is a feature map: Flatten it first");
  if (nd->n_input < 2) return fail(w, "it has no weight input");
  const tensor *B = value(w, nd->input[1]);
  if (!B) return fail(w, "its weights '%s' are not an initializer or Constant", nd->input[1]);
  int trans = 0;
  if (gemm) {
    const NnfOnnx__AttributeProto *al = attr(nd, "alpha"), *be = attr(nd, "beta");
    if ((al && al->has_f && al->f != 1.0f) || (be && be->has_f && be->f != 1.0f) || attr_int(nd, "transA", 0))
      return fail(w, "only alpha = 1, beta = 1, transA = 0 import");
    trans = attr_int(nd, "transB", 0) != 0;
  }
  if (B->n_dims != 2 || B->dims[trans ? 1 : 0] != x->width || B->dims[trans ? 0 : 1] < 1 ||
      B->dims[trans ? 0 : 1] > 65535) {
    return fail(w, "its weights '%s' are not a 2-d matrix over the %d inputs", nd->input[1], x->width);
  }
  int in = x->width, out = (int)B->dims[trans ? 0 : 1];
  int64_t dims[2] = {B->dims[0], B->dims[1]}, bd = out;
  float *wv = floats(w, B, "weight", 2, dims), *bv = NULL, *wt = NULL;
  if (!wv) return -1;
  if (gemm && nd->n_input > 2 && nd->input[2][0]) {
    const tensor *C = value(w, nd->input[2]);
    if (!C) {
      free(wv);
      return fail(w, "its bias '%s' is not an initializer or Constant", nd->input[2]);
    }
    if (!(bv = floats(w, C, "bias", 1, &bd))) {
      free(wv);
      return -1;
    }
  }
  if (!trans) { /* [in, out] -> [out, in] */
    if (!(wt = malloc((size_t)in * out * sizeof(float)))) {
      free(wv), free(bv);
      return fail(w, "out of memory");
    }
    for (int i = 0; i < in; i++)
      for (int o = 0; o < out; o++) wt[(size_t)o * in + i] = wv[(size_t)i * out + o];
  }
  char sub[256];
  int rc = add(w, n, nnf_linear(out, sub, sizeof sub), sub);
  if (!rc) nnf_imp_set_params(n->layer[n->nlayers - 1], trans ? wv : wt, bv);
  free(wv), free(bv), free(wt);
  return rc;
}

/* Add after MatMul (its output x, no other reader): the Linear layer's bias. */
static int matmul_bias(walk *w, nnf_net *n, const node *nd, const value_of *x) {
  nnf_layer *l = w->src ? n->layer[w->src - 1] : NULL;
  nnf_dense *d = l ? nnf_layer_dense(l) : NULL;
  if (nd->n_input != 2 || !d || !x->matmul || nnf_net_readers(n, w->src))
    return fail(w, "Add of a constant imports only as the bias of the MatMul before it");
  const char *other = !strcmp(nd->input[0], x->name) ? nd->input[1] : nd->input[0];
  const tensor *C = value(w, other);
  if (!C) return fail(w, "Add imports only as the bias of the MatMul before it ('%s' is not a constant)", other);
  int64_t bd = d->out;
  float *bv = floats(w, C, "bias", 1, &bd);
  if (!bv) return -1;
  for (int o = 0; o < d->out; o++) d->b[o] += bv[o];
  free(bv);
  return 0;
}

static int conv(walk *w, nnf_net *n, const node *nd) {
  const nnf_tensor *x = &n->t[w->src];
  nnf_conv_spec cs;
  int pad[4];
  if (nd->n_input < 2) return fail(w, "it has no weight input");
  const tensor *W = value(w, nd->input[1]);
  if (!W) return fail(w, "its weights '%s' are not an initializer or Constant", nd->input[1]);
  if (W->n_dims != 4 || W->dims[0] < 1 || W->dims[0] > 65535)
    return fail(w, "its weights '%s' are not a 4-d (out, in, kh, kw) tensor", nd->input[1]);
  if (conv_window(w, n, nd, W->dims[0], &cs, pad)) return -1;
  if (x->c % cs.groups) return fail(w, "group %d does not divide its %d input channels", cs.groups, x->c);
  int64_t dims[4] = {W->dims[0], x->c / cs.groups, cs.kh, cs.kw}, bd = W->dims[0];
  float *wv = floats(w, W, "weight", 4, dims), *bv = NULL;
  if (!wv) return -1;
  int has_b = nd->n_input > 2 && nd->input[2][0];
  if (has_b) {
    const tensor *C = value(w, nd->input[2]);
    if (!C || !(bv = floats(w, C, "bias", 1, &bd))) {
      free(wv);
      return C ? -1 : fail(w, "its bias '%s' is not an initializer or Constant", nd->input[2]);
    }
  }
  char sub[256];
  cs.bias = has_b;
  int rc = conv_pad(w, n, pad) || add(w, n, nnf_conv2d_spec(&cs, sub, sizeof sub), sub);
  if (!rc) nnf_imp_set_params(n->layer[n->nlayers - 1], wv, bv);
  free(wv), free(bv);
  return rc;
}

static int pool(walk *w, nnf_net *n, const node *nd, int avg) {
  int64_t k = 0, s = 0, p = 0;
  if (!n->t[w->src].map) return fail(w, "its input is not a feature map (N, C, H, W)");
  if (check_window(w, nd, &k, &s, &p)) return -1;
  if (!avg && attr_int(nd, "storage_order", 0)) return fail(w, "storage_order=1 does not import");
  if (avg && p > 0 && attr_int(nd, "count_include_pad", 0))
    return fail(w, "count_include_pad=1 with pads does not import (nnfpga averages the in-bounds taps, as TFLite)");
  char sub[256];
  nnf_layer *l = avg ? nnf_avgpool2d((int)k, (int)s, (int)p, sub, sizeof sub)
                     : nnf_maxpool2d((int)k, (int)s, (int)p, sub, sizeof sub);
  return add(w, n, l, sub);
}

/* Clip(min, max): inputs 1, 2 (opset 11 and later) or attributes. */
static int clip(walk *w, nnf_net *n, const node *nd) {
  double lo = -INFINITY, hi = INFINITY;
  const NnfOnnx__AttributeProto *a;
  if ((a = attr(nd, "min")) && a->has_f) lo = a->f;
  if ((a = attr(nd, "max")) && a->has_f) hi = a->f;
  for (size_t i = 1; i < nd->n_input && i < 3; i++) {
    if (!nd->input[i][0]) continue;
    const tensor *t = value(w, nd->input[i]);
    if (!t) return fail(w, "its bound '%s' is not an initializer or Constant", nd->input[i]);
    if (scalar(w, t, i == 1 ? "min" : "max", i == 1 ? &lo : &hi)) return -1;
  }
  nnf_act act;
  if (lo == 0.0 && hi == 6.0) act = NNF_ACT_RELU6;
  else if (lo == 0.0 && hi == INFINITY) act = NNF_ACT_RELU;
  else {
    return fail(w, "Clip(%g, %g): only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) import", lo, hi);
  }
  char sub[256];
  return add(w, n, nnf_activation(act, sub, sizeof sub), sub);
}

/* Reshape: imports when it flattens (N, C, H, W) or (N, F) to (N, C*H*W). */
static int reshape(walk *w, nnf_net *n, const node *nd) {
  const nnf_tensor *x = &n->t[w->src];
  int64_t v[8];
  int k = 0;
  const tensor *t = nd->n_input > 1 ? value(w, nd->input[1]) : NULL;
  if (!t) return fail(w, "its shape is not an initializer or Constant");
  if (int64s(w, t, "shape", v, 8, &k)) return -1;
  if (k != 2 || !(v[0] == -1 || v[0] == 0 || v[0] == 1) || !(v[1] == x->width || (v[1] == -1 && v[0] != -1))) {
    return fail(w, "only a Reshape to (N, %d) (a flatten) imports", x->width);
  }
  if (!x->map) return 0;
  char sub[256];
  return add(w, n, nnf_flatten(sub, sizeof sub), sub);
}

/* Pad: imports only when it pads nothing (torch.onnx exports one before
 * AvgPool2d with count_include_pad=True); pads belong in the Conv or pool. */
static int pad_none(walk *w, const node *nd) {
  int64_t v[16];
  int k = 0;
  const tensor *t = nd->n_input > 1 && nd->input[1][0] ? value(w, nd->input[1]) : NULL;
  const NnfOnnx__AttributeProto *a = attr(nd, "pads");
  if (t) {
    if (int64s(w, t, "pads", v, 16, &k)) return -1;
  } else if (a && a->n_ints <= 16) {
    k = (int)a->n_ints;
    memcpy(v, a->ints, (size_t)k * sizeof(int64_t));
  } else {
    return fail(w, "its pads are not an initializer or Constant");
  }
  for (int i = 0; i < k; i++)
    if (v[i]) return fail(w, "only a Pad of zeros on every side imports (give the pads to the Conv or pool)");
  return 0;
}

/* ---- int8 models: QDQ and QOperator ------------------------------------------- */

/* t's integer values (INT8, UINT8 less 128, INT32), exactly n of them,
 * malloc'ed; *dtype their type. NULL after the error. */
static int32_t *ints(walk *w, const tensor *t, const char *what, int64_t n, int32_t *dtype) {
  int32_t dt = t->has_data_type ? t->data_type : 0;
  int size = dt == NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? 4 : 1;
  *dtype = dt;
  if (t->has_data_location && t->data_location == NNF_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    fail(w, "%s '%s' is stored outside the file (external data): save the model with its weights inside", what, TN(t));
    return NULL;
  }
  if (dt != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT8 && dt != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 &&
      dt != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    fail(w, "%s '%s' is %s: only INT8, UINT8 and INT32 import here", what, TN(t), dtype_name(dt));
    return NULL;
  }
  int64_t c = count(t);
  if (c != n) {
    fail(w, "%s '%s' has %lld elements, not %lld", what, TN(t), (long long)c, (long long)n);
    return NULL;
  }
  int raw = t->has_raw_data;
  if ((raw && t->raw_data.len != (size_t)n * size) || (!raw && t->n_int32_data != (size_t)n)) {
    fail(w, "%s '%s': its data does not hold its dims' elements", what, TN(t));
    return NULL;
  }
  int32_t *v = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  if (!v) {
    fail(w, "%s '%s': out of memory", what, TN(t));
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    const uint8_t *b = raw ? t->raw_data.data + size * i : NULL;
    int32_t x = !raw ? t->int32_data[i]
                : size == 4 ? (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24)
                : dt == NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ? (int8_t)b[0] : b[0];
    v[i] = dt == NNF_ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 ? x - 128 : x;
  }
  return v;
}

/* The initializer (or Constant) named nd->input[k]; NULL after the error. */
static const tensor *qinput(walk *w, const node *nd, size_t k, const char *what) {
  const tensor *t = k < nd->n_input && nd->input[k][0] ? value(w, nd->input[k]) : NULL;
  if (!t) fail(w, "its %s '%s' is not an initializer or Constant", what, k < nd->n_input ? nd->input[k] : "");
  return t;
}

/* A quantization: the scales (n of them, or one) of nd->input[si] and the
 * zero points of input zi (absent: 0 of UINT8, ONNX's default; of INT32
 * for a bias, i32), both malloc'ed, the zero points as int8 (a uint8 z is
 * z - 128). */
typedef struct {
  int n;
  float *scale;
  int64_t *zp;
} qp;

static void qp_free(qp *q) { free(q->scale), free(q->zp), q->scale = NULL, q->zp = NULL; }

static int qparams(walk *w, const node *nd, size_t si, size_t zi, const char *what, int n, int i32, qp *q) {
  char sw[64], zw[64];
  snprintf(sw, sizeof sw, "%s scale", what);
  snprintf(zw, sizeof zw, "%s zero point", what);
  const tensor *S = qinput(w, nd, si, sw), *Z = zi < nd->n_input && nd->input[zi][0] ? qinput(w, nd, zi, zw) : NULL;
  if (!S || (zi < nd->n_input && nd->input[zi][0] && !Z)) return -1;
  int64_t c = count(S);
  if (c != 1 && c != n) return fail(w, "its %s '%s' has %lld values, not 1 or %d", sw, TN(S), (long long)c, n);
  q->n = (int)c;
  q->scale = floats(w, S, sw, (int)S->n_dims, S->dims);
  q->zp = calloc((size_t)c, sizeof(int64_t));
  int32_t dt, *z = Z && q->scale && q->zp ? ints(w, Z, zw, c, &dt) : NULL;
  if (!q->scale || !q->zp || (Z && !z)) {
    if (q->scale && !q->zp) fail(w, "out of memory");
    qp_free(q);
    return -1;
  }
  for (int64_t i = 0; i < c; i++) {
    q->zp[i] = z ? z[i] : i32 ? 0 : -128;
    if (!(q->scale[i] > 0)) {
      double bad = q->scale[i];
      free(z), qp_free(q);
      return fail(w, "its %s '%s' is %g, not positive", sw, TN(S), bad);
    }
  }
  if (Z && !i32 && dt == NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    free(z), qp_free(q);
    return fail(w, "its %s '%s' is INT32: activations and weights are INT8 or UINT8", zw, TN(Z));
  }
  free(z);
  return 0;
}

/* An activation's quantization (one scale, one zero point) into s, zp. */
static int act_qp(walk *w, const node *nd, size_t si, size_t zi, const char *what, double *s, int32_t *zp) {
  qp q;
  if (qparams(w, nd, si, zi, what, 1, 0, &q)) return -1;
  *s = q.scale[0];
  *zp = (int32_t)q.zp[0];
  qp_free(&q);
  return 0;
}

/* The quantization of the boundary the node reads must be (s, zp): what a
 * QuantizeLinear after a pool, a DequantizeLinear or a QLinear operator's
 * input says. */
static int same_q(walk *w, double s, int32_t zp, const char *what) {
  int i = w->src;
  if (w->qset[i] && w->given.scale[i] == s && w->given.zp[i] == zp) return 0;
  return fail(w, "its %s (%g, %d) is not the quantization (%g, %d) of the tensor it reads%s", what, s, (int)zp,
              w->given.scale[i], (int)w->given.zp[i],
              w->kind == K_DEQ ? " (a pool, Flatten or Relu keeps its input's quantization)" : "");
}

/* A quantization for the boundaries the node's input tensor left open: its
 * boundary and the ones before it back to a quantized one (a Conv and the
 * Relu after it: the layers that wrote the tensor). A Conv / Gemm / MatMul
 * or an Add quantized to zero point -128 clamps at 0: ONNX Runtime folded
 * its Relu into the quantization, and the ReLU comes back as a layer (the
 * same int8 model, the float one the network trained; after an Add it fuses
 * into the Add's clamp). */
static int give_out(walk *w, nnf_net *n, double s, int32_t zp) {
  nnf_layer *l = w->src ? n->layer[w->src - 1] : NULL;
  char sub[256];
  if (zp == -128 && l && (nnf_layer_dense(l) || nnf_layer_conv(l) || nnf_layer_add_from(l) >= -1) &&
      add(w, n, nnf_activation(NNF_ACT_RELU, sub, sizeof sub), sub))
    return -1;
  for (int i = w->src; i >= 0 && !w->qset[i]; i = i ? n->layer[i - 1]->src : -1)
    w->qset[i] = 1, w->given.scale[i] = s, w->given.zp[i] = zp;
  w->kind = K_INT;
  return 0;
}

/* QuantizeLinear: the network's input quantizer, a layer's output, or
 * (after a pool, Flatten, Relu) the quantization its input already has. */
static int quantize_linear(walk *w, nnf_net *n, const node *nd) {
  double s;
  int32_t zp;
  if (act_qp(w, nd, 1, 2, "output", &s, &zp)) return -1;
  if (w->kind == K_FLOAT && w->src == 0 && !w->qset[0]) return give_out(w, n, s, zp);
  if (w->kind == K_ACC && w->qset[w->src]) return fail(w, "its input is quantized by another QuantizeLinear already");
  if (w->kind == K_ACC) return give_out(w, n, s, zp);
  if (w->kind == K_INT) return fail(w, "its input is already quantized");
  if (same_q(w, s, zp, "output quantization")) return -1;
  w->kind = K_INT;
  return 0;
}

static int dequantize_linear(walk *w, const node *nd) {
  double s;
  int32_t zp;
  if (w->kind != K_INT) return fail(w, "its input is not a quantized tensor");
  if (act_qp(w, nd, 1, 2, "input", &s, &zp) || same_q(w, s, zp, "quantization")) return -1;
  w->kind = K_DEQ;
  return 0;
}

/* The DequantizeLinear node (of an initializer) whose output is name, or NULL. */
static const node *qconst(const walk *w, const char *name) {
  for (size_t i = 0; name && i < w->g->n_node; i++)
    if (w->qconsts[i] && !strcmp(w->qconsts[i]->output[0], name)) return w->qconsts[i];
  return NULL;
}

/* A layer's int8 weights: initializer wk of nd with its scales sk and zero
 * points zk, dims `dims` (ndim), `out` channels along axis oaxis (per
 * channel: the scales' axis must be it), into the layer's order (out x in:
 * transposed when oaxis is 1). *q holds them (free with wq_free). */
typedef struct {
  nnf_imp_wq q;
  int8_t *w;
  float *s;
  qp p;
} wts;

static void wts_free(wts *t) { free(t->w), free(t->s), qp_free(&t->p); }

static int qweights(walk *w, const node *nd, size_t wk, size_t sk, size_t zk, int64_t axis, int ndim,
                    const int64_t *dims, int oaxis, wts *t) {
  memset(t, 0, sizeof *t);
  const tensor *W = qinput(w, nd, wk, "weights");
  if (!W) return -1;
  int same = (int)W->n_dims == ndim;
  for (int d = 0; same && d < ndim; d++) same = W->dims[d] == dims[d];
  if (!same) return fail(w, "its weights '%s' do not have the shape the layer needs", TN(W));
  int out = (int)dims[oaxis];
  int64_t cnt = count(W);
  int in = (int)(cnt / out);
  if (qparams(w, nd, sk, zk, "weight", out, 0, &t->p)) return -1;
  if (t->p.n > 1 && axis != oaxis && axis != oaxis - ndim)
    return wts_free(t), fail(w, "its weights '%s' are quantized along axis %lld, not per output channel (axis %d)",
                             TN(W), (long long)axis, oaxis);
  int32_t dt, *v = ints(w, W, "weights", cnt, &dt);
  t->w = malloc((size_t)cnt);
  t->s = malloc((size_t)out * sizeof(float));
  if (!v || !t->w || !t->s || dt == NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    if (v && t->w && t->s) fail(w, "its weights '%s' are INT32, not INT8 or UINT8", TN(W));
    else if (v) fail(w, "out of memory");
    free(v), wts_free(t);
    return -1;
  }
  for (int64_t i = 0; i < cnt; i++) {
    int64_t o = oaxis ? i % out : i / in, k = oaxis ? i / out : i % in;
    t->w[o * in + k] = (int8_t)v[i];
  }
  for (int o = 0; o < out; o++) t->s[o] = t->p.scale[t->p.n == 1 ? 0 : o];
  free(v);
  t->q = (nnf_imp_wq){TN(W), t->w, t->s, t->p.zp, t->p.n, NULL};
  return 0;
}

/* The int32 bias of a layer with input scale s_in and weight scales sw: an
 * INT32 initializer (QOperator) or, when dq, a DequantizeLinear of one at
 * scale s_in * sw (QDQ). NULL (no error) when nd has no input k. */
static int qbias(walk *w, const node *nd, size_t k, int out, double s_in, const float *sw, int dq, int32_t **b) {
  *b = NULL;
  if (k >= nd->n_input || !nd->input[k][0]) return 0;
  const node *q = nd;
  size_t bk = k;
  if (dq) {
    if (!(q = qconst(w, nd->input[k])))
      return fail(w, "its bias '%s' is not a DequantizeLinear of an INT32 initializer", nd->input[k]);
    bk = 0;
    qp p;
    if (qparams(w, q, 1, 2, "bias", out, 1, &p)) return -1;
    for (int o = 0; o < out; o++) {
      double want = s_in * sw[o], got = p.scale[p.n == 1 ? 0 : o];
      if (p.zp[p.n == 1 ? 0 : o] != 0)
        return qp_free(&p), fail(w, "its bias '%s' has a zero point other than 0", q->input[0]);
      if (fabs(got - want) > 1e-6 * want)
        return qp_free(&p), fail(w, "its bias '%s' has scale %g in channel %d, not input scale x weight scale %g",
                                 q->input[0], got, o, want);
    }
    qp_free(&p);
  }
  const tensor *B = qinput(w, q, bk, "bias");
  int32_t dt;
  if (!B || !(*b = ints(w, B, "bias", out, &dt))) return -1;
  if (dt != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    free(*b), *b = NULL;
    return fail(w, "its bias '%s' is %s, not INT32", TN(B), dtype_name(dt));
  }
  return 0;
}

/* The layer just added takes the weights t and bias b. */
static int give_weights(walk *w, nnf_net *n, wts *t, int32_t *b, int out, int in) {
  t->q.bias = b;
  nnf_layer *l = n->layer[n->nlayers - 1];
  int rc = nnf_imp_weights(&w->ctx, &w->given, l, &t->q, out, in, w->given.scale[l->src]);
  wts_free(t), free(b);
  return rc;
}

/* Where a layer's int8 weights are: a QLinear / QGemm node's own inputs
 * from 3 on (qop), or the DequantizeLinear of an initializer that feeds a
 * QDQ node's input 1 (its inputs from 0). */
static int weight_node(walk *w, const node *nd, int qop, const node **q, size_t *wk) {
  *q = nd, *wk = 3;
  if (qop) return 0;
  if (nd->n_input < 2 || !(*q = qconst(w, nd->input[1])))
    return fail(w, "its weights '%s' are not a DequantizeLinear of an initializer", nd->n_input > 1 ? nd->input[1] : "");
  *wk = 0;
  return 0;
}

/* Conv (QDQ, reading a DequantizeLinear's output) and QLinearConv. */
static int qconv(walk *w, nnf_net *n, const node *nd, int qop) {
  const nnf_tensor *x = &n->t[w->src];
  nnf_conv_spec cs;
  int pad[4];
  const node *q;
  size_t wk;
  if (weight_node(w, nd, qop, &q, &wk)) return -1;
  const tensor *W = qinput(w, q, wk, "weights");
  if (!W) return -1;
  if (W->n_dims != 4 || W->dims[0] < 1 || W->dims[0] > 65535)
    return fail(w, "its weights '%s' are not a 4-d (out, in, kh, kw) tensor", TN(W));
  if (conv_window(w, n, nd, W->dims[0], &cs, pad)) return -1;
  if (x->c % cs.groups) return fail(w, "group %d does not divide its %d input channels", cs.groups, x->c);
  int64_t dims[4] = {W->dims[0], x->c / cs.groups, cs.kh, cs.kw};
  int out = (int)dims[0], in = (int)(dims[1] * cs.kh * cs.kw);
  double sx;
  int32_t zx;
  if (qop && (act_qp(w, nd, 1, 2, "input", &sx, &zx) || same_q(w, sx, zx, "input quantization"))) return -1;
  wts t;
  int32_t *b = NULL;
  if (qweights(w, q, wk, wk + 1, wk + 2, qop ? 0 : attr_int(q, "axis", 1), 4, dims, 0, &t)) return -1;
  if (qbias(w, nd, qop ? 8 : 2, out, w->given.scale[w->src], t.s, !qop, &b)) return wts_free(&t), -1;
  char sub[256];
  cs.bias = b != NULL;
  if (conv_pad(w, n, pad) || add(w, n, nnf_conv2d_spec(&cs, sub, sizeof sub), sub)) return wts_free(&t), free(b), -1;
  if (give_weights(w, n, &t, b, out, in)) return -1;
  w->kind = K_ACC;
  if (!qop) return 0;
  double sy;
  int32_t zy;
  return act_qp(w, nd, 6, 7, "output", &sy, &zy) || give_out(w, n, sy, zy);
}

/* Gemm, MatMul (QDQ), QLinearMatMul and QGemm: a Linear layer. */
static int qlinear(walk *w, nnf_net *n, const node *nd, const char *op) {
  const nnf_tensor *x = &n->t[w->src];
  int qmm = !strcmp(op, "QLinearMatMul"), qgemm = !strcmp(op, "QGemm"), gemm = qgemm || !strcmp(op, "Gemm");
  int qop = qmm || qgemm, trans = 0;
  if (x->map) return fail(w, "its input is a feature map: Flatten it first");
  if (gemm) {
    const NnfOnnx__AttributeProto *al = attr(nd, "alpha"), *be = attr(nd, "beta");
    if ((al && al->has_f && al->f != 1.0f) || (be && be->has_f && be->f != 1.0f) || attr_int(nd, "transA", 0))
      return fail(w, "only alpha = 1, beta = 1, transA = 0 import");
    trans = attr_int(nd, "transB", 0) != 0;
  }
  const node *q;
  size_t wk;
  if (weight_node(w, nd, qop, &q, &wk)) return -1;
  const tensor *B = qinput(w, q, wk, "weights");
  if (!B) return -1;
  if (B->n_dims != 2 || B->dims[trans ? 1 : 0] != x->width || B->dims[trans ? 0 : 1] < 1 ||
      B->dims[trans ? 0 : 1] > 65535)
    return fail(w, "its weights '%s' are not a 2-d matrix over the %d inputs", TN(B), x->width);
  int in = x->width, out = (int)B->dims[trans ? 0 : 1];
  double sx;
  int32_t zx;
  if (qop && (act_qp(w, nd, 1, 2, "input", &sx, &zx) || same_q(w, sx, zx, "input quantization"))) return -1;
  wts t;
  int32_t *b = NULL;
  if (qweights(w, q, wk, wk + 1, wk + 2, qop ? (trans ? 0 : 1) : attr_int(q, "axis", 1), 2, B->dims, trans ? 0 : 1,
               &t))
    return -1;
  if (!qmm && qbias(w, nd, qgemm ? 6 : 2, out, w->given.scale[w->src], t.s, !qop, &b)) return wts_free(&t), -1;
  char sub[256];
  if (add(w, n, nnf_linear(out, sub, sizeof sub), sub)) return wts_free(&t), free(b), -1;
  if (give_weights(w, n, &t, b, out, in)) return -1;
  w->kind = K_ACC;
  if (!qop) return 0;
  double sy;
  int32_t zy;
  if (qgemm && (nd->n_input < 8 || !nd->input[7][0]))
    return fail(w, "QGemm without an output scale (a float output) does not import");
  return act_qp(w, nd, qgemm ? 7 : 6, qgemm ? 8 : 7, "output", &sy, &zy) || give_out(w, n, sy, zy);
}

/* Add after a QDQ MatMul (its output, no other reader): its int32 bias, a
 * DequantizeLinear at s_in * s_w. */
static int qmatmul_bias(walk *w, nnf_net *n, const node *nd, const char *cur) {
  nnf_layer *l = w->src ? n->layer[w->src - 1] : NULL;
  nnf_dense *d = l ? nnf_layer_dense(l) : NULL;
  if (nd->n_input != 2 || !d || w->given.bias[l->index] || nnf_net_readers(n, w->src))
    return fail(w, "Add imports only as the bias of the MatMul right before it");
  node a = *nd; /* the bias as input 0 of a node of one input */
  char *other = !strcmp(nd->input[0], cur) ? nd->input[1] : nd->input[0];
  a.input = &other, a.n_input = 1;
  int32_t *b;
  const float *sw = nnf_layer_given_weight_scales(l);
  if (qbias(w, &a, 0, d->out, w->given.scale[l->src], sw, 1, &b)) return -1;
  for (int o = 0; o < d->out; o++) d->b[o] = (float)((double)b[o] * w->given.scale[l->src] * sw[o]);
  w->given.bias[l->index] = b;
  return 0;
}

/* QLinearAveragePool and QLinearGlobalAveragePool (com.microsoft): the
 * pool of the int8 map, its output quantized as its input. */
static int qlinear_pool(walk *w, nnf_net *n, const node *nd, int global) {
  double sx, sy;
  int32_t zx, zy;
  if (act_qp(w, nd, 1, 2, "input", &sx, &zx) || same_q(w, sx, zx, "input quantization") ||
      act_qp(w, nd, 3, 4, "output", &sy, &zy))
    return -1;
  if (sy != sx || zy != zx) return fail(w, "its output's quantization is not its input's");
  if (attr_int(nd, "channels_last", 0)) return fail(w, "channels_last=1 does not import");
  char sub[256];
  if (!global) return pool(w, n, nd, 1);
  if (!n->t[w->src].map) return fail(w, "its input is not a feature map (N, C, H, W)");
  return add(w, n, nnf_global_avgpool(sub, sizeof sub), sub);
}

/* One node of an int8 graph, reading a (and b: an Add's second tensor,
 * NULL for any other node); 1 when it is not one of the quantized
 * operators (the float path reads it). */
static int walk_qnode(walk *w, nnf_net *n, const node *nd, const char *op, const value_of *a, const value_of *b) {
  int k = w->kind;
  if (!strcmp(op, "QuantizeLinear")) return quantize_linear(w, n, nd);
  if (!strcmp(op, "DequantizeLinear")) return dequantize_linear(w, nd);
  if (k == K_FLOAT) return fail(w, "the graph's input must be quantized (QuantizeLinear) first");
  if (!strcmp(op, "QLinearConv") || !strcmp(op, "QLinearMatMul") || !strcmp(op, "QGemm") ||
      !strcmp(op, "QLinearAveragePool") || !strcmp(op, "QLinearGlobalAveragePool")) {
    if (k != K_INT) return fail(w, "its input is not a quantized tensor");
    if (!strcmp(op, "QLinearConv")) return qconv(w, n, nd, 1);
    if (!strncmp(op, "QLinear", 7) && strstr(op, "Pool")) return qlinear_pool(w, n, nd, !strcmp(op, "QLinearGlobalAveragePool"));
    return qlinear(w, n, nd, op);
  }
  if (!strcmp(op, "Conv") || !strcmp(op, "Gemm") || !strcmp(op, "MatMul")) {
    if (k != K_DEQ) return fail(w, "its input is not a DequantizeLinear's output (only fully quantized graphs import)");
    return !strcmp(op, "Conv") ? qconv(w, n, nd, 0) : qlinear(w, n, nd, op);
  }
  if (b) { /* a residual join of two dequantized tensors; its QuantizeLinear gives its output's quantization */
    if (a->kind != K_DEQ || b->kind != K_DEQ)
      return fail(w, "%s adds two tensors that are not both DequantizeLinear outputs ('%s' and '%s'): in an int8 "
                     "graph a residual %s reads two dequantized tensors", op, a->name, b->name, op);
    if (add_tensors(w, n, nd, a, b)) return -1;
    w->kind = K_ACC;
    return 0;
  }
  if (!strcmp(op, "Add") || !strcmp(op, "Sum")) {
    if (k != K_ACC) return fail(w, "Add of a constant imports only as the bias of the MatMul right before it");
    return qmatmul_bias(w, n, nd, a->name);
  }
  if (k == K_ACC && strcmp(op, "Relu") && strcmp(op, "Clip"))
    return fail(w, "it reads the float output of the layer before it: a QuantizeLinear must come first");
  if (k == K_INT && strcmp(op, "MaxPool") && strcmp(op, "Flatten") && strcmp(op, "Reshape") && strcmp(op, "Identity"))
    return fail(w, "%s reads an int8 tensor: only QLinear operators, MaxPool, Flatten, Reshape and "
                   "DequantizeLinear do", op);
  if (!strcmp(op, "Sigmoid") || !strcmp(op, "Tanh"))
    return fail(w, "%s in an int8 ONNX model does not import (its lookup table is not given)", op);
  return 1;
}

/* The graph's input: the first input that is not an initializer, float,
 * (N, F) or (N, C, H, W); an empty network over it. */
static nnf_net *input_net(walk *w, const char **name) {
  const NnfOnnx__GraphProto *g = w->g;
  snprintf(w->where, sizeof w->where, "graph input");
  for (size_t i = 0; i < g->n_input; i++) {
    const NnfOnnx__ValueInfoProto *v = g->input[i];
    if (!v->name || value(w, v->name)) continue;
    snprintf(w->where, sizeof w->where, "graph input '%.60s'", v->name);
    const NnfOnnx__TypeProto__Tensor *tt = v->type ? v->type->tensor_type : NULL;
    if (!tt || !tt->shape) {
      fail(w, "it has no tensor type with a shape");
      return NULL;
    }
    if (!tt->has_elem_type || tt->elem_type != NNF_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
      fail(w, "it is %s, not FLOAT", dtype_name(tt->has_elem_type ? tt->elem_type : 0));
      return NULL;
    }
    size_t nd = tt->shape->n_dim;
    int64_t d[4] = {0, 0, 0, 0};
    for (size_t k = 1; k < nd && k < 4; k++) {
      const NnfOnnx__TensorShapeProto__Dimension *dm = tt->shape->dim[k];
      d[k] = dm->value_case == NNF_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? dm->dim_value : -1;
    }
    int ok = (nd == 2 || nd == 4);
    for (size_t k = 1; ok && k < nd; k++) ok = d[k] >= 1 && d[k] <= (1 << 24);
    if (!ok) {
      fail(w, "its shape is not (N, features) or (N, C, H, W) with fixed sizes");
      return NULL;
    }
    *name = v->name;
    char sub[256];
    nnf_net *n = nd == 2 ? nnf_net_create((int)d[1], sub, sizeof sub)
                         : nnf_net_create_map((int)d[1], (int)d[2], (int)d[3], sub, sizeof sub);
    if (!n) fail(w, "%s", sub);
    return n;
  }
  fail(w, "the graph has no input that is not an initializer");
  return NULL;
}

/* "node 3 'Conv' (name)": node i, for messages. */
static void node_name(const node *nd, size_t i, char *buf, size_t len) {
  const char *op = nd->op_type ? nd->op_type : "";
  snprintf(buf, len, "node %zu '%.40s'%s%.60s%s", i, op, nd->name && nd->name[0] ? " (" : "", nd->name ? nd->name : "",
           nd->name && nd->name[0] ? ")" : "");
}

/* The node to walk right after node k, whose output t is the last layer's, or
 * -1: a later node not walked yet that reads only t (the other input a
 * constant) and belongs with t's layer: an activation, a QuantizeLinear, an
 * Add of a bias. Walked at once, its layer follows t's (a ReLU fuses only
 * into the layer right before it), whatever the file's order: ONNX
 * Runtime's quantizer may write a shortcut's nodes between a Conv and its
 * QuantizeLinear. */
static long follower(const walk *w, const unsigned char *done, size_t k) {
  const char *t = w->g->node[k]->output[0];
  for (size_t j = k + 1; j < w->g->n_node; j++) {
    const node *nd = w->g->node[j];
    const char *op = nd->op_type ? nd->op_type : "";
    if (done[j] || w->consts[j] || w->qconsts[j] || nd->n_input < 1 || nd->n_output < 1) continue;
    int act = !strcmp(op, "Relu") || !strcmp(op, "Clip") || !strcmp(op, "Sigmoid") || !strcmp(op, "Tanh") ||
              !strcmp(op, "QuantizeLinear");
    int add2 = (!strcmp(op, "Add") || !strcmp(op, "Sum")) && nd->n_input == 2;
    if (act && !strcmp(nd->input[0], t)) return (long)j;
    for (int i = 0; add2 && i < 2; i++)
      if (!strcmp(nd->input[i], t) && (value(w, nd->input[1 - i]) || qconst(w, nd->input[1 - i]))) return (long)j;
  }
  return -1;
}

/* Node i: the layers it adds (reading the boundaries its input tensors
 * are), its output's boundary. */
static int walk_node(walk *w, nnf_net *n, size_t i, const char *last_out, nnf_import_info *info) {
  const NnfOnnx__GraphProto *g = w->g;
  const node *nd = g->node[i];
  const char *op = nd->op_type ? nd->op_type : "";
  node_name(nd, i, w->where, sizeof w->where);
  int ms = nd->domain && !strcmp(nd->domain, "com.microsoft");
  if (nd->domain && nd->domain[0] && strcmp(nd->domain, "ai.onnx") && !ms)
    return fail(w, "operator domain '%s' is not ONNX's: not supported", nd->domain);
  if (nd->n_output < 1) return fail(w, "it has no output");
  if (!strcmp(op, "QLinearAdd"))
    return fail(w, "%s (QOperator) does not import: an Add imports in the QDQ form (DequantizeLinear, Add, "
                "QuantizeLinear), as quantize_static writes it by default", op);
  if (w->qconsts[i] || w->consts[i]) return 0; /* a constant (walk_nodes) */
  if (!strcmp(op, "Constant")) return fail(w, "only Constant with a tensor 'value' imports");
  /* the tensors it reads: its input 0; an Add (Sum) reads two tensors (a
   * residual join) or one and a constant (a MatMul's bias), either first */
  int is_add = !strcmp(op, "Add") || !strcmp(op, "Sum");
  const value_of *a = NULL, *b = NULL;
  if (nd->n_input < 1) return fail(w, "it has no inputs");
  if (is_add && nd->n_input != 2) return fail(w, "%s of %zu tensors: %s imports with two", op, nd->n_input, op);
  if (is_add && !tensor_of(w, nd->input[0]) && tensor_of(w, nd->input[1])) {
    if (!(a = read_tensor(w, nd->input[1]))) return -1;
  } else {
    if (!(a = read_tensor(w, nd->input[0]))) return -1;
    if (is_add && tensor_of(w, nd->input[1]) && !(b = read_tensor(w, nd->input[1]))) return -1;
  }
  w->src = a->b;
  w->kind = a->kind;
  int first = n->nlayers + 1, bias = 0; /* the node's first new boundary */
  char sub[256];
  int q = w->quant ? walk_qnode(w, n, nd, op, a, b) : 1, rc = 0; /* q 1: not an int8 graph's operator */
  if (q < 0) return -1;
  if (q == 0) {
    bias = is_add && !b;
    if (!strcmp(op, "DequantizeLinear") && last_out && !strcmp(nd->output[0], last_out)) {
      char what[64];
      snprintf(what, sizeof what, "DequantizeLinear (node %zu)", i);
      nnf_imp_dropped(info, what);
    }
  } else if (!strcmp(op, "Gemm")) rc = linear(w, n, nd, 1);
  else if (!strcmp(op, "MatMul")) rc = linear(w, n, nd, 0);
  else if (is_add && b) rc = add_tensors(w, n, nd, a, b);
  else if (is_add) rc = matmul_bias(w, n, nd, a), bias = 1;
  else if (!strcmp(op, "Conv")) rc = conv(w, n, nd);
  else if (!strcmp(op, "MaxPool")) rc = pool(w, n, nd, 0);
  else if (!strcmp(op, "AveragePool")) rc = pool(w, n, nd, 1);
  else if (!strcmp(op, "GlobalAveragePool")) {
    rc = n->t[w->src].map ? add(w, n, nnf_global_avgpool(sub, sizeof sub), sub)
                          : fail(w, "its input is not a feature map (N, C, H, W)");
  } else if (!strcmp(op, "Relu")) rc = add(w, n, nnf_activation(NNF_ACT_RELU, sub, sizeof sub), sub);
  else if (!strcmp(op, "Sigmoid")) rc = add(w, n, nnf_activation(NNF_ACT_SIGMOID, sub, sizeof sub), sub);
  else if (!strcmp(op, "Tanh")) rc = add(w, n, nnf_activation(NNF_ACT_TANH, sub, sizeof sub), sub);
  else if (!strcmp(op, "Clip")) rc = clip(w, n, nd);
  else if (!strcmp(op, "Flatten")) {
    if (attr_int(nd, "axis", 1) != 1) return fail(w, "only Flatten with axis 1 imports");
    if (n->t[w->src].map) rc = add(w, n, nnf_flatten(sub, sizeof sub), sub);
  } else if (!strcmp(op, "Reshape")) rc = reshape(w, n, nd);
  else if (!strcmp(op, "Pad")) rc = pad_none(w, nd);
  else if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) {
    if (nd->n_output > 1 && nd->output[1][0]) return fail(w, "Dropout's mask output is not supported");
  } else if (!strcmp(op, "Softmax") && last_out && !strcmp(nd->output[0], last_out) && i + 1 == g->n_node) {
    char what[64];
    snprintf(what, sizeof what, "Softmax (node %zu)", i);
    nnf_imp_dropped(info, what);
  } else if (!strcmp(op, "Softmax")) {
    return fail(w, "Softmax imports only as the last node (it is dropped: the outputs are the logits)");
  } else {
    return fail(w, "operator %s is not supported (docs/import.md lists those that are)", op);
  }
  if (rc) return -1;
  /* its output is the boundary its last layer wrote (or, adding no layer,
   * the one it read); a MatMul's output its bias Add took is no more */
  if (bias) tensor_of(w, a->name)->b = -1;
  w->vals[w->nvals++] = (value_of){nd->output[0], w->src, w->kind, !strcmp(op, "MatMul")};
  for (int k = first; k <= n->nlayers; k++) {
    w->node_of[k] = (int)i;
    /* a pool, Flatten or Relu of a quantized tensor keeps its quantization */
    int s = n->layer[k - 1]->src;
    if (w->quant && (w->kind == K_INT || w->kind == K_DEQ) && !w->qset[k] && w->qset[s])
      w->qset[k] = 1, w->given.scale[k] = w->given.scale[s], w->given.zp[k] = w->given.zp[s];
  }
  return 0;
}

/* The nodes in order (a node that belongs with the layer before it pulled
 * forward: follower), each reading the boundaries its input tensors are
 * (the graph's input or an earlier node's output), its layers appended. */
static int walk_nodes(walk *w, nnf_net *n, const char *input, nnf_import_info *info) {
  const NnfOnnx__GraphProto *g = w->g;
  const char *last_out = g->n_output && g->output[0]->name ? g->output[0]->name : NULL;
  w->vals[w->nvals++] = (value_of){input, 0, K_FLOAT, 0};
  /* the constants first: Constant nodes' values, DequantizeLinear nodes of
   * initializers (weights and biases, read by their layers) */
  for (size_t i = 0; i < g->n_node; i++) {
    const node *nd = g->node[i];
    const NnfOnnx__AttributeProto *a = nd->op_type && !strcmp(nd->op_type, "Constant") ? attr(nd, "value") : NULL;
    if (a && a->t && nd->n_output > 0) w->consts[i] = a->t;
  }
  for (size_t i = 0; i < g->n_node; i++) {
    const node *nd = g->node[i];
    if (nd->op_type && !strcmp(nd->op_type, "DequantizeLinear") && nd->n_input > 0 && nd->n_output > 0 &&
        value(w, nd->input[0]))
      w->qconsts[i] = nd;
  }
  unsigned char *done = calloc(g->n_node + 1, 1);
  if (!done) return fail(w, "out of memory");
  int rc = 0;
  for (size_t i = 0; i < g->n_node && !rc; i++)
    for (long k = (long)i; k >= 0 && !done[k] && !rc;) {
      done[k] = 1;
      rc = walk_node(w, n, (size_t)k, last_out, info);
      const value_of *t = rc ? NULL : tensor_of(w, g->node[k]->output[0]);
      k = t && t->b > 0 && t->b == n->nlayers ? follower(w, done, (size_t)k) : -1;
    }
  free(done);
  if (rc) return -1;
  snprintf(w->where, sizeof w->where, "graph output");
  const value_of *o = last_out ? tensor_of(w, last_out) : NULL;
  if (!o || o->b < 0) return fail(w, "the graph's output '%s' is no node's output", last_out ? last_out : "(none)");
  if (!n->nlayers) return fail(w, "the graph has no layers");
  char who[160];
  if (o->b != n->nlayers) {
    node_name(g->node[w->node_of[n->nlayers]], (size_t)w->node_of[n->nlayers], who, sizeof who);
    return fail(w, "the graph's output '%s' is not the last layer's output ('%s' of %s)", last_out,
                g->node[w->node_of[n->nlayers]]->output[0], who);
  }
  /* every other layer's output feeds a later layer: one output, no dead branch */
  for (int k = 1; k < n->nlayers; k++)
    if (!nnf_net_readers(n, k)) {
      node_name(g->node[w->node_of[k]], (size_t)w->node_of[k], who, sizeof who);
      return fail(w, "%s writes '%s', which no node reads (a graph imports with one output, its last layer's)", who,
                  g->node[w->node_of[k]]->output[0]);
    }
  if (!w->quant) return 0;
  if (o->kind == K_ACC) return fail(w, "the last layer's output is not quantized (no QuantizeLinear after it)");
  info->quantized = 1;
  /* every layer rounds once, an Add too (its int8 form is TFLite's ADD:
   * ONNX Runtime's adds in float32, rounding half to even, and differs near
   * half steps only; docs/import.md "Rounding against ONNX Runtime") */
  nnf_net_set_rounding(n, NNFM_ROUND_SINGLE);
  return nnf_imp_quantize(&w->ctx, n, &w->given);
}

/* An int8 graph: one that quantizes (QDQ or QOperator nodes). */
static int quantizes(const NnfOnnx__GraphProto *g) {
  static const char *const ops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm"};
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
      if (g->node[i]->op_type && !strcmp(g->node[i]->op_type, ops[k])) return 1;
  return 0;
}

nnf_net *nnf_import_onnx(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                         size_t errlen) {
  nnf_import_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  info->format = NNF_IMPORT_ONNX;
  NnfOnnx__ModelProto *m = nnf_onnx__model_proto__unpack(NULL, len, buf);
  if (!m) {
    nnf_fail(err, errlen, "%s: not an ONNX model or a TFLite flatbuffer (the protobuf does not parse: truncated or "
                          "corrupt)", name);
    return NULL;
  }
  walk w;
  memset(&w, 0, sizeof w);
  w.file = name, w.g = m->graph, w.err = err, w.errlen = errlen;
  snprintf(w.where, sizeof w.where, "model");
  w.ctx = (nnf_imp_ctx){name, w.where, sizeof w.where, err, errlen};
  nnf_net *n = NULL;
  const char *cur = NULL;
  snprintf(info->producer, sizeof info->producer, "%.30s%s%.30s", m->producer_name ? m->producer_name : "",
           m->producer_version ? " " : "", m->producer_version ? m->producer_version : "");
  if (!m->graph) {
    fail(&w, "it has no graph");
  } else if (!(w.consts = calloc(m->graph->n_node + 1, sizeof *w.consts)) ||
             !(w.qconsts = calloc(m->graph->n_node + 1, sizeof *w.qconsts)) ||
             !(w.vals = calloc(m->graph->n_node + 1, sizeof *w.vals))) {
    fail(&w, "out of memory");
  } else {
    w.quant = quantizes(m->graph);
    info->operators = (int)m->graph->n_node;
    if ((n = input_net(&w, &cur)) && walk_nodes(&w, n, cur, info)) {
      nnf_net_free(n);
      n = NULL;
    }
  }
  free(w.consts), free(w.qconsts), free(w.vals);
  nnf_imp_given_free(&w.given);
  nnf_onnx__model_proto__free_unpacked(m, NULL);
  return n;
}
