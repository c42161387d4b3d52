/*
 * nnf_ckpt.c - checkpoints in safetensors (see nnf_ckpt.h).
 */
#include "nnf_ckpt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_safetensors.h"

#define MAX_T (NNF_MAX_LAYERS * 8 + 8)

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

typedef struct {
  nnf_st_tensor t[MAX_T];
  char names[MAX_T][48];
  int n;
} tlist;

static void add(tlist *tl, const char *name, nnf_st_dtype dt, const void *data, int ndim, int64_t d0,
                int64_t d1) {
  nnf_st_tensor *t = &tl->t[tl->n];
  snprintf(tl->names[tl->n], sizeof tl->names[0], "%s", name);
  t->name = tl->names[tl->n];
  t->dtype = dt;
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = d1;
  t->data = data;
  tl->n++;
}

int nnf_ckpt_save(const char *path, const nnf_net *n, const char *const *keys,
                  const char *const *vals, int n_extra, char *err, size_t errlen) {
  tlist tl;
  memset(&tl, 0, sizeof tl);
  int L = n->nlayers;
  float ranges[NNF_MAX_LAYERS + 1][2], pranges[NNF_MAX_LAYERS][2];
  double scales[NNF_MAX_LAYERS + 1], pscales[NNF_MAX_LAYERS];
  int32_t zps[NNF_MAX_LAYERS + 1], pzps[NNF_MAX_LAYERS];
  char name[48];
  for (int l = 0; l < L; l++) {
    const nnf_dense *D = &n->layer[l];
    const nnf_qlayer *Q = &n->ql[l];
    snprintf(name, sizeof name, "layers.%d.weight", 2 * l);
    add(&tl, name, NNF_ST_F32, D->w, 2, D->out, D->in);
    snprintf(name, sizeof name, "layers.%d.bias", 2 * l);
    add(&tl, name, NNF_ST_F32, D->b, 1, D->out, 0);
    if (n->quantized) {
      snprintf(name, sizeof name, "quant.%d.weight_scale", l);
      add(&tl, name, NNF_ST_F32, Q->s_w, 1, D->out, 0);
      snprintf(name, sizeof name, "quant.%d.weight_int8", l);
      add(&tl, name, NNF_ST_I8, Q->w_kn, 2, D->in, D->out);
      snprintf(name, sizeof name, "quant.%d.bias_int32", l);
      add(&tl, name, NNF_ST_I32, Q->bias, 1, D->out, 0);
      snprintf(name, sizeof name, "quant.%d.multiplier", l);
      add(&tl, name, NNF_ST_I32, Q->m0, 1, D->out, 0);
      snprintf(name, sizeof name, "quant.%d.shift", l);
      add(&tl, name, NNF_ST_I8, Q->shift, 1, D->out, 0);
      if (Q->lut) {
        snprintf(name, sizeof name, "quant.%d.lut", l);
        add(&tl, name, NNF_ST_I8, Q->table, 1, 256, 0);
      }
    }
  }
  for (int l = 0; l <= L; l++) {
    ranges[l][0] = n->q[l].lo;
    ranges[l][1] = n->q[l].seen ? n->q[l].hi : 0.0f;
    if (!n->q[l].seen) ranges[l][0] = 0.0f;
    scales[l] = n->q[l].scale;
    zps[l] = n->q[l].zp;
    if (l < L) {
      pranges[l][0] = n->pre[l].seen ? n->pre[l].lo : 0.0f;
      pranges[l][1] = n->pre[l].seen ? n->pre[l].hi : 0.0f;
      pscales[l] = n->pre[l].scale;
      pzps[l] = n->pre[l].zp;
    }
  }
  add(&tl, "quant.act_range", NNF_ST_F32, ranges, 2, L + 1, 2);
  add(&tl, "quant.act_scale", NNF_ST_F64, scales, 1, L + 1, 0);
  add(&tl, "quant.act_zero_point", NNF_ST_I32, zps, 1, L + 1, 0);
  add(&tl, "quant.pre_range", NNF_ST_F32, pranges, 2, L, 2);
  add(&tl, "quant.pre_scale", NNF_ST_F64, pscales, 1, L, 0);
  add(&tl, "quant.pre_zero_point", NNF_ST_I32, pzps, 1, L, 0);
  int32_t seen[NNF_MAX_LAYERS * 2 + 1];
  for (int l = 0; l <= L; l++) seen[l] = n->q[l].seen;
  for (int l = 0; l < L; l++) seen[L + 1 + l] = n->pre[l].seen;
  add(&tl, "quant.observed_batches", NNF_ST_I32, seen, 1, 2 * L + 1, 0);

  char layers[128];
  nnf_net_layers_string(n, layers, sizeof layers);
  const char *mk[16] = {"format", "format_version", "layers", "activation", "quantized"};
  const char *mv[16] = {"nnfpga", "1", layers, nnf_act_name(n->act), n->quantized ? "1" : "0"};
  int nm = 5;
  for (int i = 0; i < n_extra && nm < 16; i++, nm++) {
    mk[nm] = keys[i];
    mv[nm] = vals[i];
  }
  return nnf_st_write(path, tl.t, tl.n, mk, mv, nm, err, errlen);
}

/* The tensor `name` with exactly this dtype and shape, or NULL + err. */
static const nnf_st_tensor *want(const nnf_st_file *f, const char *path, const char *name,
                                 nnf_st_dtype dt, int ndim, int64_t d0, int64_t d1, char *err,
                                 size_t errlen) {
  const nnf_st_tensor *t = nnf_st_find(f, name);
  if (!t) {
    fail(err, errlen, "%s: tensor '%s' missing", path, name);
    return NULL;
  }
  if (t->dtype != dt || t->ndim != ndim || t->shape[0] != d0 || (ndim > 1 && t->shape[1] != d1)) {
    char sh[64];
    if (t->ndim == 1) snprintf(sh, sizeof sh, "[%lld]", (long long)t->shape[0]);
    else if (t->ndim == 2) snprintf(sh, sizeof sh, "[%lld, %lld]", (long long)t->shape[0], (long long)t->shape[1]);
    else snprintf(sh, sizeof sh, "(%d dims)", t->ndim);
    fail(err, errlen,
         "%s: tensor '%s' is %s %s but the architecture needs %s [%lld%s%lld]", path, name,
         nnf_st_dtype_name(t->dtype), sh, nnf_st_dtype_name(dt), (long long)d0, ndim > 1 ? ", " : "",
         ndim > 1 ? (long long)d1 : 0LL);
    return NULL;
  }
  return t;
}

static int load_into(nnf_net *n, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  int L = n->nlayers;
  char name[48];
  for (int l = 0; l < L; l++) {
    nnf_dense *D = &n->layer[l];
    const nnf_st_tensor *w, *b;
    snprintf(name, sizeof name, "layers.%d.weight", 2 * l);
    if (!(w = want(f, path, name, NNF_ST_F32, 2, D->out, D->in, err, errlen))) return -1;
    snprintf(name, sizeof name, "layers.%d.bias", 2 * l);
    if (!(b = want(f, path, name, NNF_ST_F32, 1, D->out, 0, err, errlen))) return -1;
    memcpy(D->w, w->data, (size_t)D->out * D->in * sizeof(float));
    memcpy(D->b, b->data, (size_t)D->out * sizeof(float));
  }
  const nnf_st_tensor *r, *pr, *seen;
  if (!(r = want(f, path, "quant.act_range", NNF_ST_F32, 2, L + 1, 2, err, errlen)) ||
      !(pr = want(f, path, "quant.pre_range", NNF_ST_F32, 2, L, 2, err, errlen)) ||
      !(seen = want(f, path, "quant.observed_batches", NNF_ST_I32, 1, 2 * L + 1, 0, err, errlen)))
    return -1;
  const float *rv = r->data, *pv = pr->data;
  const int32_t *sv = seen->data;
  for (int l = 0; l <= L; l++) {
    if (sv[l] < 0) return fail(err, errlen, "%s: negative observation count", path);
    n->q[l].lo = rv[2 * l];
    n->q[l].hi = rv[2 * l + 1];
    n->q[l].seen = sv[l];
    if (l < L) {
      n->pre[l].lo = pv[2 * l];
      n->pre[l].hi = pv[2 * l + 1];
      n->pre[l].seen = sv[L + 1 + l];
    }
  }
  const char *qz = nnf_st_meta(f, "quantized");
  if (!qz || strcmp(qz, "1")) return 0;
  if (nnf_net_quantize(n, err, errlen)) return -1;
  /* the stored int8 model must be the one these weights and ranges give */
  for (int l = 0; l < L; l++) {
    const nnf_qlayer *Q = &n->ql[l];
    int in = n->sizes[l], out = n->sizes[l + 1];
    const nnf_st_tensor *t;
    snprintf(name, sizeof name, "quant.%d.weight_int8", l);
    if (!(t = want(f, path, name, NNF_ST_I8, 2, in, out, err, errlen))) return -1;
    int same = !memcmp(t->data, Q->w_kn, (size_t)in * out);
    snprintf(name, sizeof name, "quant.%d.bias_int32", l);
    if (!(t = want(f, path, name, NNF_ST_I32, 1, out, 0, err, errlen))) return -1;
    same = same && !memcmp(t->data, Q->bias, (size_t)out * 4);
    snprintf(name, sizeof name, "quant.%d.multiplier", l);
    if (!(t = want(f, path, name, NNF_ST_I32, 1, out, 0, err, errlen))) return -1;
    same = same && !memcmp(t->data, Q->m0, (size_t)out * 4);
    snprintf(name, sizeof name, "quant.%d.shift", l);
    if (!(t = want(f, path, name, NNF_ST_I8, 1, out, 0, err, errlen))) return -1;
    same = same && !memcmp(t->data, Q->shift, (size_t)out);
    if (!same)
      return fail(err, errlen,
                  "%s: layer %d's int8 tensors do not match its float weights and ranges "
                  "(edited or corrupt checkpoint)", path, l + 1);
  }
  return 0;
}

nnf_net *nnf_ckpt_load(const char *path, char *err, size_t errlen) {
  nnf_st_file *f = nnf_st_read(path, err, errlen);
  if (!f) return NULL;
  nnf_net *n = NULL;
  const char *fmt = nnf_st_meta(f, "format"), *layers = nnf_st_meta(f, "layers"),
             *act = nnf_st_meta(f, "activation");
  int sizes[NNF_MAX_LAYERS + 1], ns, a;
  char sub[256];
  if (!fmt || strcmp(fmt, "nnfpga"))
    fail(err, errlen, "%s: not an nnfpga checkpoint (metadata 'format' is %s)", path, fmt ? fmt : "absent");
  else if (!layers || !act)
    fail(err, errlen, "%s: metadata lacks 'layers' or 'activation'", path);
  else if ((ns = nnf_parse_layers(layers, sizes, NNF_MAX_LAYERS + 1, sub, sizeof sub)) < 0)
    fail(err, errlen, "%s: %s", path, sub);
  else if ((a = nnf_act_parse(act)) < 0)
    fail(err, errlen, "%s: unknown activation '%s'", path, act);
  else if ((n = nnf_net_create(sizes, ns, (nnf_act)a, 0, err, errlen)) && load_into(n, f, path, err, errlen)) {
    nnf_net_free(n);
    n = NULL;
  }
  nnf_st_free(f);
  return n;
}
