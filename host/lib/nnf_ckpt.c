/*
 * nnf_ckpt.c - checkpoints in safetensors (see nnf_ckpt.h).
 */
#include "nnf_ckpt.h"
#include "nnf_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_safetensors.h"
#include "nnf_snn.h"

#define MAX_T (NNF_MAX_LAYERS * 8 + 8)

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

/* A layer's tensors: float weights and biases, and with Q its int8 form. */
static void add_layer(tlist *tl, int l, const nnf_dense *D, const nnf_qlayer *Q) {
  char name[48];
  snprintf(name, sizeof name, "layers.%d.weight", 2 * l);
  add(tl, name, NNF_ST_F32, D->w, 2, D->out, D->in);
  snprintf(name, sizeof name, "layers.%d.bias", 2 * l);
  add(tl, name, NNF_ST_F32, D->b, 1, D->out, 0);
  if (!Q) return;
  snprintf(name, sizeof name, "quant.%d.weight_scale", l);
  add(tl, name, NNF_ST_F32, Q->s_w, 1, D->out, 0);
  snprintf(name, sizeof name, "quant.%d.weight_int8", l);
  add(tl, name, NNF_ST_I8, Q->w_kn, 2, D->in, D->out);
  snprintf(name, sizeof name, "quant.%d.bias_int32", l);
  add(tl, name, NNF_ST_I32, Q->bias, 1, D->out, 0);
  snprintf(name, sizeof name, "quant.%d.multiplier", l);
  add(tl, name, NNF_ST_I32, Q->m0, 1, D->out, 0);
  snprintf(name, sizeof name, "quant.%d.shift", l);
  add(tl, name, NNF_ST_I8, Q->shift, 1, D->out, 0);
  if (Q->lut) {
    snprintf(name, sizeof name, "quant.%d.lut", l);
    add(tl, name, NNF_ST_I8, Q->table, 1, 256, 0);
  }
}

int nnf_ckpt_save(const char *path, const nnf_net *n, const char *const *keys,
                  const char *const *vals, int n_extra, char *err, size_t errlen) {
  tlist tl;
  memset(&tl, 0, sizeof tl);
  int L = n->nlayers;
  float ranges[NNF_MAX_LAYERS + 1][2], pranges[NNF_MAX_LAYERS][2];
  double scales[NNF_MAX_LAYERS + 1], pscales[NNF_MAX_LAYERS];
  int32_t zps[NNF_MAX_LAYERS + 1], pzps[NNF_MAX_LAYERS];
  for (int l = 0; l < L; l++) {
    const nnf_dense *D = &n->layer[l];
    const nnf_qlayer *Q = &n->ql[l];
    add_layer(&tl, l, D, n->quantized ? Q : NULL);
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
    nnf_fail(err, errlen, "%s: tensor '%s' missing", path, name);
    return NULL;
  }
  if (t->dtype != dt || t->ndim != ndim || t->shape[0] != d0 || (ndim > 1 && t->shape[1] != d1)) {
    char sh[64];
    if (t->ndim == 1) snprintf(sh, sizeof sh, "[%lld]", (long long)t->shape[0]);
    else if (t->ndim == 2) snprintf(sh, sizeof sh, "[%lld, %lld]", (long long)t->shape[0], (long long)t->shape[1]);
    else snprintf(sh, sizeof sh, "(%d dims)", t->ndim);
    nnf_fail(err, errlen,
         "%s: tensor '%s' is %s %s but the architecture needs %s [%lld%s%lld]", path, name,
         nnf_st_dtype_name(t->dtype), sh, nnf_st_dtype_name(dt), (long long)d0, ndim > 1 ? ", " : "",
         ndim > 1 ? (long long)d1 : 0LL);
    return NULL;
  }
  return t;
}

/* Float weights and biases of layers 0..L-1 from the file. */
static int load_floats(nnf_dense *layers, int L, const nnf_st_file *f, const char *path, char *err,
                       size_t errlen) {
  char name[48];
  for (int l = 0; l < L; l++) {
    nnf_dense *D = &layers[l];
    const nnf_st_tensor *w, *b;
    snprintf(name, sizeof name, "layers.%d.weight", 2 * l);
    if (!(w = want(f, path, name, NNF_ST_F32, 2, D->out, D->in, err, errlen))) return -1;
    snprintf(name, sizeof name, "layers.%d.bias", 2 * l);
    if (!(b = want(f, path, name, NNF_ST_F32, 1, D->out, 0, err, errlen))) return -1;
    memcpy(D->w, w->data, (size_t)D->out * D->in * sizeof(float));
    memcpy(D->b, b->data, (size_t)D->out * sizeof(float));
  }
  return 0;
}

/* The stored int8 tensors of layer l must be what the float weights and
 * ranges give (Q, just recomputed): 0, or -1 and why. */
static int check_int8(const nnf_qlayer *Q, int l, int in, int out, const nnf_st_file *f, const char *path,
                      char *err, size_t errlen) {
  static const char *const names[4] = {"weight_int8", "bias_int32", "multiplier", "shift"};
  const void *mine[4] = {Q->w_kn, Q->bias, Q->m0, Q->shift};
  const nnf_st_dtype types[4] = {NNF_ST_I8, NNF_ST_I32, NNF_ST_I32, NNF_ST_I8};
  const size_t bytes[4] = {(size_t)in * out, (size_t)out * 4, (size_t)out * 4, (size_t)out};
  char name[48];
  int same = 1;
  for (int k = 0; k < 4; k++) {
    const nnf_st_tensor *t;
    snprintf(name, sizeof name, "quant.%d.%s", l, names[k]);
    if (!(t = want(f, path, name, types[k], k ? 1 : 2, k ? out : in, k ? 0 : out, err, errlen))) return -1;
    same = same && !memcmp(t->data, mine[k], bytes[k]);
  }
  if (!same)
    return nnf_fail(err, errlen,
                    "%s: layer %d's int8 tensors do not match its float weights and ranges "
                    "(edited or corrupt checkpoint)", path, l + 1);
  return 0;
}

static int load_into(nnf_net *n, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  int L = n->nlayers;
  if (load_floats(n->layer, L, f, path, err, errlen)) return -1;
  const nnf_st_tensor *r, *pr, *seen;
  if (!(r = want(f, path, "quant.act_range", NNF_ST_F32, 2, L + 1, 2, err, errlen)) ||
      !(pr = want(f, path, "quant.pre_range", NNF_ST_F32, 2, L, 2, err, errlen)) ||
      !(seen = want(f, path, "quant.observed_batches", NNF_ST_I32, 1, 2 * L + 1, 0, err, errlen)))
    return -1;
  const float *rv = r->data, *pv = pr->data;
  const int32_t *sv = seen->data;
  for (int l = 0; l <= L; l++) {
    if (sv[l] < 0) return nnf_fail(err, errlen, "%s: negative observation count", path);
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
  for (int l = 0; l < L; l++)
    if (check_int8(&n->ql[l], l, n->sizes[l], n->sizes[l + 1], f, path, err, errlen)) return -1;
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
    nnf_fail(err, errlen, "%s: not an nnfpga checkpoint (metadata 'format' is %s)", path, fmt ? fmt : "absent");
  else if (!layers || !act)
    nnf_fail(err, errlen, "%s: metadata lacks 'layers' or 'activation'", path);
  else if ((ns = nnf_parse_layers(layers, sizes, NNF_MAX_LAYERS + 1, sub, sizeof sub)) < 0)
    nnf_fail(err, errlen, "%s: %s", path, sub);
  else if ((a = nnf_act_parse(act)) < 0)
    nnf_fail(err, errlen, "%s: unknown activation '%s'", path, act);
  else if ((n = nnf_net_create(sizes, ns, (nnf_act)a, 0, err, errlen)) && load_into(n, f, path, err, errlen)) {
    nnf_net_free(n);
    n = NULL;
  }
  nnf_st_free(f);
  return n;
}

/* ---- spiking networks ------------------------------------------------------ */

int nnf_ckpt_save_snn(const char *path, const nnf_snn *n, const char *const *keys, const char *const *vals,
                      int n_extra, char *err, size_t errlen) {
  if (!n->quantized) return nnf_fail(err, errlen, "the spiking network is not quantized");
  tlist tl;
  memset(&tl, 0, sizeof tl);
  int L = n->nlayers;
  float ranges[NNF_MAX_LAYERS];
  int32_t vth[NNF_MAX_LAYERS], seen[NNF_MAX_LAYERS];
  for (int l = 0; l < L; l++) {
    const nnf_dense *D = &n->layer[l];
    const nnf_qlayer *Q = &n->ql[l];
    add_layer(&tl, l, D, Q);
    ranges[l] = n->cur[l].range;
    vth[l] = n->cur[l].vth;
    seen[l] = n->cur[l].seen;
  }
  add(&tl, "quant.current_range", NNF_ST_F32, ranges, 1, L, 0);
  add(&tl, "quant.vth", NNF_ST_I32, vth, 1, L, 0);
  add(&tl, "quant.observed", NNF_ST_I32, seen, 1, L, 0);
  char layers[128], steps[16], beta[32], thr[32], slope[32], res[16], dv[16];
  size_t used = 0;
  for (int i = 0; i <= L && used < sizeof layers; i++)
    used += (size_t)snprintf(layers + used, sizeof layers - used, i ? ",%d" : "%d", n->sizes[i]);
  snprintf(steps, sizeof steps, "%d", n->cfg.steps);
  snprintf(beta, sizeof beta, "%.17g", n->cfg.beta);
  snprintf(thr, sizeof thr, "%.17g", n->cfg.threshold);
  snprintf(slope, sizeof slope, "%.17g", n->cfg.slope);
  snprintf(res, sizeof res, "%d", n->cfg.resolution);
  snprintf(dv, sizeof dv, "%u", n->lif.dv);
  const char *mk[24] = {"format", "format_version", "model", "layers", "steps", "beta", "threshold", "reset",
                        "encoding", "surrogate", "slope", "resolution", "du", "dv", "quantized"};
  const char *mv[24] = {"nnfpga", "1", "snn", layers, steps, beta, thr, n->cfg.reset_sub ? "subtract" : "zero",
                        n->cfg.encoding == NNF_ENC_RATE ? "rate" : "direct",
                        n->cfg.surrogate == NNF_SURR_ATAN ? "atan" : "fast_sigmoid", slope, res, "4095", dv, "1"};
  int nm = 15;
  for (int i = 0; i < n_extra && nm < 24; i++, nm++) {
    mk[nm] = keys[i];
    mv[nm] = vals[i];
  }
  return nnf_st_write(path, tl.t, tl.n, mk, mv, nm, err, errlen);
}

static int meta_double(const nnf_st_file *f, const char *path, const char *key, double *v, char *err,
                       size_t errlen) {
  const char *s = nnf_st_meta(f, key);
  char *end;
  if (!s) return nnf_fail(err, errlen, "%s: metadata lacks '%s'", path, key);
  *v = strtod(s, &end);
  if (end == s || *end) return nnf_fail(err, errlen, "%s: metadata '%s' is not a number: '%.40s'", path, key, s);
  return 0;
}

static int snn_config_from(const nnf_st_file *f, const char *path, nnf_snn_config *c, char *err, size_t errlen) {
  double steps = 0, res = 0;
  *c = nnf_snn_defaults();
  if (meta_double(f, path, "steps", &steps, err, errlen) || meta_double(f, path, "beta", &c->beta, err, errlen) ||
      meta_double(f, path, "threshold", &c->threshold, err, errlen) ||
      meta_double(f, path, "slope", &c->slope, err, errlen) || meta_double(f, path, "resolution", &res, err, errlen))
    return -1;
  if (steps < 1 || steps > 65535 || res < 1 || res > NNFM_LIF_VTH_MAX)
    return nnf_fail(err, errlen, "%s: steps or resolution out of range", path);
  c->steps = (int)steps;
  c->resolution = (int)res;
  const char *r = nnf_st_meta(f, "reset"), *e = nnf_st_meta(f, "encoding"), *s = nnf_st_meta(f, "surrogate");
  if (!r || !e || !s) return nnf_fail(err, errlen, "%s: metadata lacks reset, encoding or surrogate", path);
  if (!strcmp(r, "subtract")) c->reset_sub = 1;
  else if (strcmp(r, "zero")) return nnf_fail(err, errlen, "%s: unknown reset '%.20s'", path, r);
  if (!strcmp(e, "rate")) c->encoding = NNF_ENC_RATE;
  else if (strcmp(e, "direct")) return nnf_fail(err, errlen, "%s: unknown encoding '%.20s'", path, e);
  if (!strcmp(s, "atan")) c->surrogate = NNF_SURR_ATAN;
  else if (strcmp(s, "fast_sigmoid")) return nnf_fail(err, errlen, "%s: unknown surrogate '%.20s'", path, s);
  return nnf_snn_config_check(c, err, errlen);
}

static int snn_load_into(nnf_snn *n, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  int L = n->nlayers;
  if (load_floats(n->layer, L, f, path, err, errlen)) return -1;
  const nnf_st_tensor *r, *v, *o;
  if (!(r = want(f, path, "quant.current_range", NNF_ST_F32, 1, L, 0, err, errlen)) ||
      !(v = want(f, path, "quant.vth", NNF_ST_I32, 1, L, 0, err, errlen)) ||
      !(o = want(f, path, "quant.observed", NNF_ST_I32, 1, L, 0, err, errlen)))
    return -1;
  for (int l = 0; l < L; l++) {
    n->cur[l].range = ((const float *)r->data)[l];
    n->cur[l].seen = ((const int32_t *)o->data)[l];
  }
  if (nnf_snn_quantize(n, err, errlen)) return -1;
  for (int l = 0; l < L; l++) {
    if (n->cur[l].vth != ((const int32_t *)v->data)[l])
      return nnf_fail(err, errlen, "%s: layer %d's threshold does not match its current range (edited or corrupt "
                      "checkpoint)", path, l + 1);
    if (check_int8(&n->ql[l], l, n->sizes[l], n->sizes[l + 1], f, path, err, errlen)) return -1;
  }
  return 0;
}

nnf_snn *nnf_ckpt_load_snn(const char *path, char *err, size_t errlen) {
  nnf_st_file *f = nnf_st_read(path, err, errlen);
  if (!f) return NULL;
  nnf_snn *n = NULL;
  const char *fmt = nnf_st_meta(f, "format"), *model = nnf_st_meta(f, "model"), *layers = nnf_st_meta(f, "layers");
  int sizes[NNF_MAX_LAYERS + 1], ns;
  char sub[256];
  nnf_snn_config c;
  if (!fmt || strcmp(fmt, "nnfpga") || !model || strcmp(model, "snn"))
    nnf_fail(err, errlen, "%s: not an nnfpga spiking-network checkpoint", path);
  else if (!layers || (ns = nnf_parse_layers(layers, sizes, NNF_MAX_LAYERS + 1, sub, sizeof sub)) < 0)
    nnf_fail(err, errlen, "%s: bad or missing 'layers' metadata", path);
  else if (snn_config_from(f, path, &c, err, errlen) == 0 &&
           (n = nnf_snn_create(sizes, ns, &c, 0, err, errlen)) && snn_load_into(n, f, path, err, errlen)) {
    nnf_snn_free(n);
    n = NULL;
  }
  nnf_st_free(f);
  return n;
}

const char *nnf_ckpt_model_kind(const char *path, char *err, size_t errlen) {
  nnf_st_file *f = nnf_st_read(path, err, errlen);
  if (!f) return NULL;
  const char *m = nnf_st_meta(f, "model");
  const char *kind = m && !strcmp(m, "snn") ? "snn" : "mlp";
  nnf_st_free(f);
  return kind;
}
