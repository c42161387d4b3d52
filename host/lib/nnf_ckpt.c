/*
 * nnf_ckpt.c - checkpoints in safetensors (see nnf_ckpt.h): format 2 for
 * every network of the layer stack, and the loader of format 1.
 */
#include "nnf_ckpt.h"
#include "nnf_err.h"
#include "nnf_layer_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_safetensors.h"
#include "nnfm_lif.h"

#define MAX_T (NNF_MAX_LAYERS * 10 + 8)

typedef struct {
  nnf_st_tensor t[MAX_T];
  char names[MAX_T][48];
  int n;
} tlist;

static void add_shape(tlist *tl, const char *name, nnf_st_dtype dt, const void *data, int ndim, const int *shape) {
  if (tl->n == MAX_T) return;
  nnf_st_tensor *t = &tl->t[tl->n];
  snprintf(tl->names[tl->n], sizeof tl->names[0], "%s", name);
  t->name = tl->names[tl->n];
  t->dtype = dt;
  t->ndim = ndim;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
  t->data = data;
  tl->n++;
}

static void add(tlist *tl, const char *name, nnf_st_dtype dt, const void *data, int ndim, int64_t d0, int64_t d1) {
  int shape[2] = {(int)d0, (int)d1};
  add_shape(tl, name, dt, data, ndim, shape);
}

/* Layer `i`'s int8 form under the prefix "quant.<k>." (k: the layer's index
 * in format 2, its Linear ordinal in format 1). */
static const char *const q_names[5] = {"weight_scale", "weight_int8", "bias_int32", "multiplier", "shift"};

static void add_qlayer(tlist *tl, int k, int in, int out, const nnf_qlayer *Q) {
  char name[48];
  const void *data[5] = {Q->s_w, Q->w_kn, Q->bias, Q->m0, Q->shift};
  const nnf_st_dtype dt[5] = {NNF_ST_F32, NNF_ST_I8, NNF_ST_I32, NNF_ST_I32, NNF_ST_I8};
  for (int j = 0; j < 5; j++) {
    snprintf(name, sizeof name, "quant.%d.%s", k, q_names[j]);
    add(tl, name, dt[j], data[j], j == 1 ? 2 : 1, j == 1 ? in : out, j == 1 ? out : 0);
  }
  if (Q->lut) {
    snprintf(name, sizeof name, "quant.%d.lut", k);
    add(tl, name, NNF_ST_I8, Q->table, 1, 256, 0);
  }
}

/* A range as stored: (lo, hi), zeros when nothing was observed. */
static void range_pair(const nnf_qrange *r, float out[2]) {
  out[0] = r->seen ? r->lo : 0.0f;
  out[1] = r->seen ? r->hi : 0.0f;
}

static int has_range(nnf_layer *l) {
  return nnf_layer_dense(l) || nnf_layer_conv(l) || nnf_layer_act(l) >= 0 || !nnf_layer_rnn(l, NULL, NULL, NULL, NULL) ||
         !nnf_layer_attn(l, NULL, NULL);
}

static const char *act_meta(int a) {
  static const char *const names[] = {"none", "relu", "relu6", "sigmoid", "tanh"};
  return a >= 0 && a <= 4 ? names[a] : "none";
}

int nnf_ckpt_save(const char *path, const nnf_net *cn, const char *const *keys, const char *const *vals, int n_extra,
                  char *err, size_t errlen) {
  nnf_net *n = (nnf_net *)cn; /* read only: the layer accessors take non-const layers */
  tlist *tl = calloc(1, sizeof *tl);
  float ranges[NNF_MAX_LAYERS + 1][2];
  int32_t seen[NNF_MAX_LAYERS + 1];
  float rnn_ranges[NNF_MAX_LAYERS][16][2]; /* a recurrent or attention layer's intermediates */
  int32_t rnn_seen[NNF_MAX_LAYERS][16];
  if (!tl) return nnf_fail(err, errlen, "out of memory");
  char name[48];
  range_pair(&n->t[0].r, ranges[NNF_MAX_LAYERS]);
  seen[NNF_MAX_LAYERS] = n->t[0].r.seen;
  add(tl, "quant.input.range", NNF_ST_F32, ranges[NNF_MAX_LAYERS], 1, 2, 0);
  add(tl, "quant.input.observed", NNF_ST_I32, &seen[NNF_MAX_LAYERS], 1, 1, 0);
  int has_lif = 0, act = -1, given = 0;
  double given_scale[NNF_MAX_LAYERS + 1];
  int32_t given_zp[NNF_MAX_LAYERS + 1];
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    nnf_param p[NNF_MAX_PARAMS];
    const float *gs = nnf_layer_given_weight_scales(l);
    if (gs) {
      given = 1;
      snprintf(name, sizeof name, "quant.%d.weight_scale_given", i);
      add(tl, name, NNF_ST_F32, gs, 1, nnf_layer_dense(l) ? l->out : nnf_layer_conv(l)->out, 0);
    }
    const float *gat;
    const int32_t *gb = nnf_layer_given_biases(l, &gat);
    if (gb) {
      const int out = nnf_layer_dense(l) ? l->out : nnf_layer_conv(l)->out;
      snprintf(name, sizeof name, "quant.%d.bias_given", i);
      add(tl, name, NNF_ST_I32, gb, 1, out, 0);
      snprintf(name, sizeof name, "quant.%d.bias_given_at", i);
      add(tl, name, NNF_ST_F32, gat, 1, out, 0);
    }
    int k = l->ops->params ? l->ops->params(l, p) : 0;
    for (int j = 0; j < k; j++) {
      snprintf(name, sizeof name, "%d.%s", i, p[j].name);
      add_shape(tl, name, NNF_ST_F32, p[j].data, p[j].ndim, p[j].shape);
    }
    if (has_range(l)) {
      range_pair(nnf_layer_range(l), ranges[i]);
      seen[i] = nnf_layer_range(l)->seen;
      snprintf(name, sizeof name, "quant.%d.range", i);
      add(tl, name, NNF_ST_F32, ranges[i], 1, 2, 0);
      snprintf(name, sizeof name, "quant.%d.observed", i);
      add(tl, name, NNF_ST_I32, &seen[i], 1, 1, 0);
    }
    nnf_qrange *rr;
    int nr = nnf_layer_ranges(l, &rr);
    for (int j = 0; j < nr && j < 16; j++) {
      range_pair(&rr[j], rnn_ranges[i][j]);
      rnn_seen[i][j] = rr[j].seen;
    }
    if (nr > 0) {
      snprintf(name, sizeof name, "quant.%d.rnn_ranges", i);
      add(tl, name, NNF_ST_F32, rnn_ranges[i], 2, nr, 2);
      snprintf(name, sizeof name, "quant.%d.rnn_observed", i);
      add(tl, name, NNF_ST_I32, rnn_seen[i], 1, nr, 0);
    }
    if (nnf_layer_act(l) >= 0 && act < 0) act = nnf_layer_act(l);
    float *range;
    int *cseen;
    int32_t *vth;
    if (!nnf_layer_lif_current(l, &range, &cseen, &vth, NULL)) {
      has_lif = 1;
      snprintf(name, sizeof name, "quant.%d.current_range", i);
      add(tl, name, NNF_ST_F32, range, 1, 1, 0);
      snprintf(name, sizeof name, "quant.%d.vth", i);
      add(tl, name, NNF_ST_I32, vth, 1, 1, 0);
      snprintf(name, sizeof name, "quant.%d.observed", i);
      add(tl, name, NNF_ST_I32, cseen, 1, 1, 0);
    }
    if (n->quantized && nnf_layer_dense(l)) add_qlayer(tl, i, l->in, l->out, nnf_layer_qlayer(l));
    const nnf_dense *cd = nnf_layer_conv(l);
    if (n->quantized && cd) add_qlayer(tl, i, cd->in, cd->out, nnf_layer_conv_qlayer(l));
  }
  int32_t rounding[NNF_MAX_LAYERS];
  if (nnf_net_tflite_rounding(n)) { /* each layer's rounding (absent: single everywhere) */
    for (int i = 0; i < n->nlayers; i++) rounding[i] = n->layer[i]->round;
    add(tl, "quant.rounding", NNF_ST_I32, rounding, 1, n->nlayers, 0);
  }
  if (given) { /* an imported int8 model: every fixed boundary's quantization as given */
    for (int i = 0; i <= n->nlayers; i++) {
      given_scale[i] = n->t[i].r.fixed ? n->t[i].r.scale : 0.0;
      given_zp[i] = n->t[i].r.fixed ? n->t[i].r.zp : 0;
    }
    add(tl, "quant.given_scale", NNF_ST_F64, given_scale, 1, n->nlayers + 1, 0);
    add(tl, "quant.given_zero_point", NNF_ST_I32, given_zp, 1, n->nlayers + 1, 0);
  }
  char arch[2048], inputs[16], steps[16], layers[160], shape[48];
  nnf_net_describe(n, arch, sizeof arch);
  snprintf(shape, sizeof shape, "%d,%d,%d", n->t[0].c, n->t[0].h, n->t[0].w);
  snprintf(inputs, sizeof inputs, "%d", nnf_net_inputs(n));
  snprintf(steps, sizeof steps, "%d", n->steps);
  size_t used = (size_t)snprintf(layers, sizeof layers, "%d", nnf_net_inputs(n));
  for (int i = 0; i < n->nlayers && used < sizeof layers; i++)
    if (nnf_layer_dense(n->layer[i])) used += (size_t)snprintf(layers + used, sizeof layers - used, ",%d", n->layer[i]->out);
  const char *input = n->t[0].steps > 1 ? "rate" : n->t[0].r.fixed ? "pixels" : "observed";
  const char *mk[40] = {"format", "format_version", "architecture", "inputs", "steps", "input", "quantized", "model", "layers"};
  const char *mv[40] = {"nnfpga", "2", arch, inputs, steps, input, n->quantized ? "1" : "0", has_lif ? "snn" : "mlp", layers};
  int nm = 9;
  if (!has_lif) {
    mk[nm] = "activation";
    mv[nm++] = act_meta(act);
  }
  char delta[32];
  snprintf(delta, sizeof delta, "%.9g", (double)(n->task.huber_delta > 0 ? n->task.huber_delta : 1.0f));
  mk[nm] = "task", mv[nm++] = nnf_task_name(n->task.kind);
  mk[nm] = "loss", mv[nm++] = nnf_loss_name(n->task.loss);
  if (n->task.loss == NNF_LOSS_HUBER) mk[nm] = "huber_delta", mv[nm++] = delta;
  if (n->t[0].map) mk[nm] = "input_shape", mv[nm++] = shape; /* C,H,W of map inputs */
  for (int i = 0; i < n_extra && nm < 40; i++, nm++) {
    mk[nm] = keys[i];
    mv[nm] = vals[i];
  }
  int rc = nnf_st_write(path, tl->t, tl->n, mk, mv, nm, err, errlen);
  free(tl);
  return rc;
}

static int load_rounding(nnf_net *n, const nnf_st_file *f, const char *path, char *err, size_t errlen);

/* ---- reading ---------------------------------------------------------------- */

/* The tensor `name` with exactly this dtype and shape, or NULL + err. */
static const nnf_st_tensor *want_shape(const nnf_st_file *f, const char *path, const char *name, nnf_st_dtype dt,
                                       int ndim, const int *shape, char *err, size_t errlen) {
  const nnf_st_tensor *t = nnf_st_find(f, name);
  if (!t) {
    nnf_fail(err, errlen, "%s: tensor '%s' missing", path, name);
    return NULL;
  }
  int same = t->dtype == dt && t->ndim == ndim;
  for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
  if (!same) {
    char sh[96], need[96];
    size_t u = 0, v = 0;
    sh[0] = need[0] = 0;
    for (int d = 0; d < t->ndim && d < 4 && u < sizeof sh; d++)
      u += (size_t)snprintf(sh + u, sizeof sh - u, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (t->ndim > 4 && u < sizeof sh) snprintf(sh + u, sizeof sh - u, ", ...");
    for (int d = 0; d < ndim && v < sizeof need; d++)
      v += (size_t)snprintf(need + v, sizeof need - v, "%s%d", d ? ", " : "", shape[d]);
    nnf_fail(err, errlen, "%s: tensor '%s' is %s [%s] but the architecture needs %s [%s]", path, name,
             nnf_st_dtype_name(t->dtype), sh, nnf_st_dtype_name(dt), need);
    return NULL;
  }
  return t;
}

static const nnf_st_tensor *want(const nnf_st_file *f, const char *path, const char *name, nnf_st_dtype dt, int ndim,
                                 int64_t d0, int64_t d1, char *err, size_t errlen) {
  int shape[2] = {(int)d0, (int)d1};
  return want_shape(f, path, name, dt, ndim, shape, err, errlen);
}

/* The float parameters of every layer, named "<prefix><i>.<name>". */
static int load_params(nnf_net *n, const nnf_st_file *f, const char *path, const char *prefix, char *err,
                       size_t errlen) {
  char name[64];
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    nnf_param p[NNF_MAX_PARAMS];
    int k = l->ops->params ? l->ops->params(l, p) : 0;
    for (int j = 0; j < k; j++) {
      const nnf_st_tensor *t;
      snprintf(name, sizeof name, "%s%d.%s", prefix, i, p[j].name);
      if (!(t = want_shape(f, path, name, NNF_ST_F32, p[j].ndim, p[j].shape, err, errlen))) return -1;
      memcpy(p[j].data, t->data, nnf_param_size(&p[j]) * sizeof(float));
    }
  }
  return 0;
}

/* The stored int8 tensors of a Linear layer (prefix quant.<k>.) must be what
 * the float weights and ranges give (Q, just recomputed). */
static int check_int8(const nnf_qlayer *Q, int k, int in, int out, const nnf_st_file *f, const char *path, char *err,
                      size_t errlen) {
  const void *mine[4] = {Q->w_kn, Q->bias, Q->m0, Q->shift};
  const nnf_st_dtype types[4] = {NNF_ST_I8, NNF_ST_I32, NNF_ST_I32, NNF_ST_I8};
  const size_t bytes[4] = {(size_t)in * out, (size_t)out * 4, (size_t)out * 4, (size_t)out};
  char name[48];
  int same = 1;
  for (int j = 0; j < 4; j++) {
    const nnf_st_tensor *t;
    snprintf(name, sizeof name, "quant.%d.%s", k, q_names[j + 1]);
    if (!(t = want(f, path, name, types[j], j ? 1 : 2, j ? out : in, j ? 0 : out, err, errlen))) return -1;
    same = same && !memcmp(t->data, mine[j], bytes[j]);
  }
  if (!same)
    return nnf_fail(err, errlen,
                    "%s: layer %d's int8 tensors do not match its float weights and ranges "
                    "(edited or corrupt checkpoint)", path, k + 1);
  return 0;
}

/* An observed range (one never observed has none: stored as zeros). */
static void set_range(nnf_qrange *r, const float *v, int32_t seen) {
  r->lo = seen > 0 ? v[0] : 0.0f;
  r->hi = seen > 0 ? v[1] : 0.0f;
  r->seen = seen > 0 ? seen : 0;
}

static int set_current(nnf_layer *l, float range, int32_t seen) {
  float *r;
  int *s;
  if (nnf_layer_lif_current(l, &r, &s, NULL, NULL)) return -1;
  *r = range;
  *s = seen;
  return 0;
}

/* After quantizing: the stored int8 model and thresholds must be what the
 * weights and ranges give. k_of(i): the name index of layer i. */
static int check_quantized(nnf_net *n, const nnf_st_file *f, const char *path, int v1, const int32_t *vth,
                           char *err, size_t errlen) {
  int ordinal = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    int32_t *mine;
    if (vth && !nnf_layer_lif_current(l, NULL, NULL, &mine, NULL) && *mine != vth[i])
      return nnf_fail(err, errlen,
                      "%s: layer %d's threshold does not match its current range (edited or corrupt checkpoint)",
                      path, v1 ? i / 2 + 1 : i);
    const nnf_dense *cd = nnf_layer_conv(l);
    if (cd && check_int8(nnf_layer_conv_qlayer(l), i, cd->in, cd->out, f, path, err, errlen)) return -1;
    if (!nnf_layer_dense(l)) continue;
    if (check_int8(nnf_layer_qlayer(l), v1 ? ordinal : i, l->in, l->out, f, path, err, errlen)) return -1;
    ordinal++;
  }
  return 0;
}

static int meta_double(const nnf_st_file *f, const char *path, const char *key, double *v, char *err, size_t errlen) {
  const char *s = nnf_st_meta(f, key);
  char *end;
  if (!s) return nnf_fail(err, errlen, "%s: metadata lacks '%s'", path, key);
  *v = strtod(s, &end);
  if (end == s || *end) return nnf_fail(err, errlen, "%s: metadata '%s' is not a number: '%.40s'", path, key, s);
  return 0;
}

/* ---- format 1 ---------------------------------------------------------------- */

static int v1_snn_config(const nnf_st_file *f, const char *path, nnf_snn_config *c, char *err, size_t errlen) {
  double steps = 0, res = 0;
  *c = nnf_snn_defaults();
  if (meta_double(f, path, "steps", &steps, err, errlen) || meta_double(f, path, "beta", &c->lif.beta, err, errlen) ||
      meta_double(f, path, "threshold", &c->lif.threshold, err, errlen) ||
      meta_double(f, path, "slope", &c->lif.slope, err, errlen) || meta_double(f, path, "resolution", &res, err, errlen))
    return -1;
  if (steps < 1 || steps > 65535 || res < 1 || res > NNFM_LIF_VTH_MAX)
    return nnf_fail(err, errlen, "%s: steps or resolution out of range", path);
  c->steps = (int)steps;
  c->lif.resolution = (int)res;
  const char *r = nnf_st_meta(f, "reset"), *e = nnf_st_meta(f, "encoding"), *s = nnf_st_meta(f, "surrogate");
  if (!r || !e || !s) return nnf_fail(err, errlen, "%s: metadata lacks reset, encoding or surrogate", path);
  c->lif.reset_sub = 0;
  if (!strcmp(r, "subtract")) c->lif.reset_sub = 1;
  else if (strcmp(r, "zero")) return nnf_fail(err, errlen, "%s: unknown reset '%.20s'", path, r);
  if (!strcmp(e, "rate")) c->encoding = NNF_ENC_RATE;
  else if (strcmp(e, "direct")) return nnf_fail(err, errlen, "%s: unknown encoding '%.20s'", path, e);
  c->lif.surrogate = NNF_SURR_FAST_SIGMOID;
  if (!strcmp(s, "atan")) c->lif.surrogate = NNF_SURR_ATAN;
  else if (strcmp(s, "fast_sigmoid")) return nnf_fail(err, errlen, "%s: unknown surrogate '%.20s'", path, s);
  return nnf_snn_config_check(c, err, errlen);
}

/* MLP: quant.act_range [L+1, 2] (input, then each Linear's activated output),
 * quant.pre_range [L, 2] (pre-activations), quant.observed_batches [2L+1]. */
static int v1_mlp_ranges(nnf_net *n, int L, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  const nnf_st_tensor *r, *pr, *seen;
  if (!(r = want(f, path, "quant.act_range", NNF_ST_F32, 2, L + 1, 2, err, errlen)) ||
      !(pr = want(f, path, "quant.pre_range", NNF_ST_F32, 2, L, 2, err, errlen)) ||
      !(seen = want(f, path, "quant.observed_batches", NNF_ST_I32, 1, 2 * L + 1, 0, err, errlen)))
    return -1;
  const float *rv = r->data, *pv = pr->data;
  const int32_t *sv = seen->data;
  for (int k = 0; k < 2 * L + 1; k++)
    if (sv[k] < 0) return nnf_fail(err, errlen, "%s: negative observation count", path);
  set_range(&n->t[0].r, rv, sv[0]);
  for (int k = 0; k < L; k++) {
    /* Linear k is layer 2k, its activation layer 2k + 1 (none after the last) */
    nnf_qrange *own = nnf_layer_range(n->layer[2 * k]);
    if (k + 1 == L) set_range(own, rv + 2 * L, sv[L]);
    else {
      set_range(own, pv + 2 * k, sv[L + 1 + k]);
      set_range(nnf_layer_range(n->layer[2 * k + 1]), rv + 2 * (k + 1), sv[k + 1]);
    }
  }
  return 0;
}

static nnf_net *load_v1(const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  const char *model = nnf_st_meta(f, "model"), *layers = nnf_st_meta(f, "layers");
  int sizes[NNF_MAX_SIZES], ns, snn = model && !strcmp(model, "snn");
  char sub[256];
  nnf_net *n = NULL;
  int32_t vth[NNF_MAX_LAYERS] = {0};
  if (!layers || (ns = nnf_parse_layers(layers, sizes, NNF_MAX_SIZES, sub, sizeof sub)) < 0) {
    nnf_fail(err, errlen, "%s: bad or missing 'layers' metadata%s%s", path, layers ? ": " : "", layers ? sub : "");
    return NULL;
  }
  int L = ns - 1;
  if (snn) {
    nnf_snn_config c;
    if (v1_snn_config(f, path, &c, err, errlen) || !(n = nnf_snn_create(sizes, ns, &c, 0, err, errlen))) return NULL;
  } else {
    const char *act = nnf_st_meta(f, "activation");
    int a = act ? nnf_act_parse(act) : -1;
    if (a < 0) {
      nnf_fail(err, errlen, "%s: metadata lacks 'activation' or it is unknown", path);
      return NULL;
    }
    if (!(n = nnf_mlp_create(sizes, ns, (nnf_act)a, 0, err, errlen))) return NULL;
  }
  int rc = load_params(n, f, path, "layers.", err, errlen);
  if (!rc && !snn) rc = v1_mlp_ranges(n, L, f, path, err, errlen);
  if (!rc && snn) {
    const nnf_st_tensor *r, *v, *o;
    if (!(r = want(f, path, "quant.current_range", NNF_ST_F32, 1, L, 0, err, errlen)) ||
        !(v = want(f, path, "quant.vth", NNF_ST_I32, 1, L, 0, err, errlen)) ||
        !(o = want(f, path, "quant.observed", NNF_ST_I32, 1, L, 0, err, errlen)))
      rc = -1;
    for (int k = 0; !rc && k < L; k++) {
      set_current(n->layer[2 * k + 1], ((const float *)r->data)[k], ((const int32_t *)o->data)[k]);
      vth[2 * k + 1] = ((const int32_t *)v->data)[k];
    }
  }
  const char *qz = nnf_st_meta(f, "quantized");
  if (!rc && (snn || (qz && !strcmp(qz, "1"))))
    rc = nnf_net_quantize(n, err, errlen) || check_quantized(n, f, path, 1, snn ? vth : NULL, err, errlen);
  if (rc) {
    nnf_net_free(n);
    return NULL;
  }
  return n;
}

/* ---- format 2 ------------------------------------------------------------------- */

/* key=value in a LIF(...) argument list. */
static int lif_arg(const char *args, const char *key, char *val, size_t len) {
  size_t kl = strlen(key);
  for (const char *p = args; p && *p;) {
    if (!strncmp(p, key, kl) && p[kl] == '=') {
      const char *v = p + kl + 1, *e = strpbrk(v, ",)");
      size_t n = e ? (size_t)(e - v) : strlen(v);
      if (n >= len) return -1;
      memcpy(val, v, n);
      val[n] = 0;
      return 0;
    }
    p = strchr(p, ',');
    if (p) p++;
  }
  return -1;
}

static nnf_layer *parse_layer(const char *tok, int width, int channels, char *err, size_t errlen) {
  static const char *const acts[] = {"Identity", "ReLU", "ReLU6", "Sigmoid", "Tanh"};
  int in, out;
  char tail;
  if (sscanf(tok, "Linear(%d,%d%c", &in, &out, &tail) == 3 && tail == ')') {
    if (in != width) {
      nnf_fail(err, errlen, "Linear(%d,%d) follows a layer of %d outputs", in, out, width);
      return NULL;
    }
    return nnf_linear(out, err, errlen);
  }
  for (int a = 0; a <= NNF_ACT_TANH; a++)
    if (!strcmp(tok, acts[a])) return nnf_activation((nnf_act)a, err, errlen);
  if (!strcmp(tok, "Flatten")) return nnf_flatten(err, errlen);
  if (!strcmp(tok, "Softmax(dim=1)")) return nnf_softmax(err, errlen);
  int from;
  if (sscanf(tok, "Add(%d%c", &from, &tail) == 2 && tail == ')') return nnf_add(from, err, errlen);
  double dp;
  if (sscanf(tok, "Dropout(%lf%c", &dp, &tail) == 2 && tail == ')') return nnf_dropout(dp, err, errlen);
  if (!strncmp(tok, "LIF(", 4)) {
    nnf_lif_config c = nnf_snn_defaults().lif;
    char v[64];
    const char *args = tok + 4;
    if (!lif_arg(args, "beta", v, sizeof v)) c.beta = strtod(v, NULL);
    if (!lif_arg(args, "threshold", v, sizeof v)) c.threshold = strtod(v, NULL);
    if (!lif_arg(args, "slope", v, sizeof v)) c.slope = strtod(v, NULL);
    if (!lif_arg(args, "resolution", v, sizeof v)) c.resolution = atoi(v);
    if (!lif_arg(args, "reset", v, sizeof v)) c.reset_sub = !strcmp(v, "subtract") ? 1 : !strcmp(v, "zero") ? 0 : -1;
    if (!lif_arg(args, "surrogate", v, sizeof v))
      c.surrogate = !strcmp(v, "atan") ? NNF_SURR_ATAN : !strcmp(v, "fast_sigmoid") ? NNF_SURR_FAST_SIGMOID : (nnf_surrogate)9;
    return nnf_lif(&c, err, errlen);
  }
  nnf_layer *m = nnf_map_layer_parse(tok, channels, err, errlen);
  if (!m && !err[0]) m = nnf_rnn_layer_parse(tok, err, errlen);
  if (!m && !err[0]) m = nnf_attn_layer_parse(tok, err, errlen);
  if (!m && !err[0]) nnf_fail(err, errlen, "unknown layer '%.60s'", tok);
  return m;
}

static nnf_net *arch_layers(nnf_net *n, const char *arch, int steps, nnf_input_kind input, char *err, size_t errlen);

nnf_net *nnf_arch_parse(const char *arch, int inputs, int steps, nnf_input_kind input, char *err, size_t errlen) {
  nnf_net *n = nnf_net_create(inputs, err, errlen); /* flat rows (an MLP's) */
  return n ? arch_layers(n, arch, steps, input, err, errlen) : NULL;
}

nnf_net *nnf_arch_parse_map(const char *arch, const int shape[3], int steps, nnf_input_kind input, char *err,
                            size_t errlen) {
  nnf_net *n = nnf_net_create_map(shape[0], shape[1], shape[2], err, errlen);
  return n ? arch_layers(n, arch, steps, input, err, errlen) : NULL;
}

/* The layers of arch appended to the empty network n (freed on failure). */
static nnf_net *arch_layers(nnf_net *n, const char *arch, int steps, nnf_input_kind input, char *err, size_t errlen) {
  n->steps = steps < 1 ? 1 : steps;
  if (input == NNF_INPUT_RATE) {
    n->t[0].steps = n->steps;
    nnf_qrange_fix(&n->t[0].r, 1.0, 0);
  } else if (input == NNF_INPUT_PIXELS) {
    nnf_qrange_fix(&n->t[0].r, NNF_PIXEL_SCALE, NNF_PIXEL_ZP);
  }
  const char *p = arch;
  while (p && *p) {
    char tok[512];
    size_t k = 0;
    int depth = 0;
    for (; *p && (depth || *p != ','); p++) {
      depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
      if (k + 1 < sizeof tok) tok[k++] = *p;
    }
    tok[k] = 0;
    if (*p == ',') p++;
    char sub[256], entry[512];
    int from = n->nlayers - 1, g = nnf_split_from(tok, entry, sizeof entry, &from);
    if (g < 0 || from >= n->nlayers) {
      nnf_fail(err, errlen, "architecture '%.80s': layer %d '%.60s': from= names no layer before it", arch, n->nlayers,
               tok);
      nnf_net_free(n);
      return NULL;
    }
    const nnf_tensor *last = &n->t[from + 1];
    sub[0] = 0;
    if (nnf_net_add_from(n, parse_layer(entry, last->width, last->c, sub, sizeof sub), from, sub, sizeof sub)) {
      nnf_fail(err, errlen, "architecture '%.80s': %s", arch, sub);
      nnf_net_free(n);
      return NULL;
    }
  }
  if (!n->nlayers) {
    nnf_fail(err, errlen, "empty architecture");
    nnf_net_free(n);
    return NULL;
  }
  return n;
}

/* Given quantization (an imported int8 model): quant.given_scale F64 and
 * quant.given_zero_point I32 [nlayers + 1] (scale 0: the boundary is
 * observed), quant.<i>.weight_scale_given F32 [out], quant.<i>.bias_given I32
 * [out] and quant.<i>.bias_given_at F32 [out] (the float biases they go
 * with: a channel whose float bias moved since takes the float's). Absent:
 * none. */
static int load_given(nnf_net *n, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  char name[48], sub[256];
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    const nnf_dense *d = nnf_layer_dense(l) ? nnf_layer_dense(l) : nnf_layer_conv(l);
    const nnf_st_tensor *t;
    snprintf(name, sizeof name, "quant.%d.weight_scale_given", i);
    if (!nnf_st_find(f, name)) continue;
    if (!d) return nnf_fail(err, errlen, "%s: tensor '%s' but layer %d has no weights", path, name, i);
    if (!(t = want(f, path, name, NNF_ST_F32, 1, d->out, 0, err, errlen))) return -1;
    if (nnf_layer_give_weight_scales(l, t->data, sub, sizeof sub)) return nnf_fail(err, errlen, "%s: %s", path, sub);
    snprintf(name, sizeof name, "quant.%d.bias_given", i);
    if (!nnf_st_find(f, name)) continue;
    const nnf_st_tensor *at;
    char an[48];
    snprintf(an, sizeof an, "quant.%d.bias_given_at", i);
    if (!(t = want(f, path, name, NNF_ST_I32, 1, d->out, 0, err, errlen)) ||
        !(at = want(f, path, an, NNF_ST_F32, 1, d->out, 0, err, errlen)))
      return -1;
    if (nnf_layer_give_biases(l, t->data, at->data, sub, sizeof sub)) return nnf_fail(err, errlen, "%s: %s", path, sub);
  }
  if (!nnf_st_find(f, "quant.given_scale")) return 0;
  const nnf_st_tensor *s, *z;
  if (!(s = want(f, path, "quant.given_scale", NNF_ST_F64, 1, n->nlayers + 1, 0, err, errlen)) ||
      !(z = want(f, path, "quant.given_zero_point", NNF_ST_I32, 1, n->nlayers + 1, 0, err, errlen)))
    return -1;
  for (int i = 0; i <= n->nlayers; i++) {
    double sc;
    int32_t zp;
    memcpy(&sc, (const char *)s->data + 8 * i, 8);
    memcpy(&zp, (const char *)z->data + 4 * i, 4);
    if (sc != 0.0 && nnf_net_give_range(n, i, sc, zp, sub, sizeof sub)) return nnf_fail(err, errlen, "%s: %s", path, sub);
  }
  return 0;
}

static nnf_net *load_v2(const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  const char *arch = nnf_st_meta(f, "architecture"), *input = nnf_st_meta(f, "input");
  double inputs = 0, steps = 1;
  if (!arch || !input) {
    nnf_fail(err, errlen, "%s: metadata lacks 'architecture' or 'input'", path);
    return NULL;
  }
  if (meta_double(f, path, "inputs", &inputs, err, errlen) || meta_double(f, path, "steps", &steps, err, errlen))
    return NULL;
  nnf_input_kind in = !strcmp(input, "rate") ? NNF_INPUT_RATE : !strcmp(input, "pixels") ? NNF_INPUT_PIXELS : NNF_INPUT_OBSERVED;
  char sub[512];
  int shape[3] = {(int)inputs, 1, 1};
  const char *ms = nnf_st_meta(f, "input_shape");
  char tail;
  if (ms && (sscanf(ms, "%d,%d,%d%c", &shape[0], &shape[1], &shape[2], &tail) != 3 ||
             (double)shape[0] * shape[1] * shape[2] != inputs)) {
    nnf_fail(err, errlen, "%s: metadata 'input_shape' '%.40s' is not C,H,W of the %g inputs", path, ms, inputs);
    return NULL;
  }
  /* maps with input_shape; flat rows (an MLP's) without */
  nnf_net *n = ms ? nnf_arch_parse_map(arch, shape, (int)steps, in, sub, sizeof sub)
                  : nnf_arch_parse(arch, (int)inputs, (int)steps, in, sub, sizeof sub);
  if (!n) {
    nnf_fail(err, errlen, "%s: %s", path, sub);
    return NULL;
  }
  int32_t vth[NNF_MAX_LAYERS] = {0};
  int rc = load_params(n, f, path, "", err, errlen);
  const nnf_st_tensor *t, *o;
  if (!rc && (!(t = want(f, path, "quant.input.range", NNF_ST_F32, 1, 2, 0, err, errlen)) ||
              !(o = want(f, path, "quant.input.observed", NNF_ST_I32, 1, 1, 0, err, errlen))))
    rc = -1;
  if (!rc) set_range(&n->t[0].r, t->data, *(const int32_t *)o->data);
  char name[48];
  for (int i = 0; !rc && i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    snprintf(name, sizeof name, "quant.%d.observed", i);
    nnf_qrange *rr;
    int nr = nnf_layer_ranges(l, &rr);
    snprintf(sub, sizeof sub, "quant.%d.rnn_ranges", i);
    if (nr > 0 && nnf_layer_attn_ranges(l, &rr) >= 0 && !nnf_st_find(f, sub))
      nr = 0; /* an attention layer saved before its int8 form: its ranges are observed anew */
    if (nr > 0) {
      char on[48];
      snprintf(on, sizeof on, "quant.%d.rnn_observed", i);
      if (!(t = want(f, path, sub, NNF_ST_F32, 2, nr, 2, err, errlen)) ||
          !(o = want(f, path, on, NNF_ST_I32, 1, nr, 0, err, errlen))) {
        rc = -1;
        break;
      }
      for (int j = 0; j < nr; j++) set_range(&rr[j], (const float *)t->data + 2 * j, ((const int32_t *)o->data)[j]);
    }
    if (has_range(l)) {
      snprintf(sub, sizeof sub, "quant.%d.range", i);
      if (!(t = want(f, path, sub, NNF_ST_F32, 1, 2, 0, err, errlen)) ||
          !(o = want(f, path, name, NNF_ST_I32, 1, 1, 0, err, errlen)))
        rc = -1;
      else set_range(nnf_layer_range(l), t->data, *(const int32_t *)o->data);
    } else if (nnf_layer_lif_config(l)) {
      const nnf_st_tensor *v;
      snprintf(sub, sizeof sub, "quant.%d.current_range", i);
      char vn[48];
      snprintf(vn, sizeof vn, "quant.%d.vth", i);
      if (!(t = want(f, path, sub, NNF_ST_F32, 1, 1, 0, err, errlen)) ||
          !(o = want(f, path, name, NNF_ST_I32, 1, 1, 0, err, errlen)) ||
          !(v = want(f, path, vn, NNF_ST_I32, 1, 1, 0, err, errlen)))
        rc = -1;
      else {
        set_current(l, *(const float *)t->data, *(const int32_t *)o->data);
        vth[i] = *(const int32_t *)v->data;
      }
    }
  }
  if (!rc) rc = load_given(n, f, path, err, errlen);
  if (!rc) rc = load_rounding(n, f, path, err, errlen);
  const char *qz = nnf_st_meta(f, "quantized");
  if (!rc && qz && !strcmp(qz, "1"))
    rc = nnf_net_quantize(n, err, errlen) || check_quantized(n, f, path, 0, vth, err, errlen);
  if (rc) {
    nnf_net_free(n);
    return NULL;
  }
  return n;
}

/* Each layer's requantization rounding: quant.rounding I32 [nlayers],
 * NNFM_ROUND_* (absent: single rounding everywhere). */
static int load_rounding(nnf_net *n, const nnf_st_file *f, const char *path, char *err, size_t errlen) {
  if (!nnf_st_find(f, "quant.rounding")) return 0;
  const nnf_st_tensor *t = want(f, path, "quant.rounding", NNF_ST_I32, 1, n->nlayers, 0, err, errlen);
  if (!t) return -1;
  for (int i = 0; i < n->nlayers; i++)
    if (nnf_layer_set_rounding(n->layer[i], ((const int32_t *)t->data)[i]))
      return nnf_fail(err, errlen, "%s: quant.rounding[%d] is %d, not 0 (single) or 1 (TFLite's double rounding)",
                      path, i, (int)((const int32_t *)t->data)[i]);
  return 0;
}

/* The task and loss (absent before tasks: multiclass, cross-entropy). */
static int load_task(const nnf_st_file *f, const char *path, nnf_net *n, char *err, size_t errlen) {
  const char *task = nnf_st_meta(f, "task"), *loss = nnf_st_meta(f, "loss");
  nnf_task t = {NNF_TASK_MULTICLASS, NNF_LOSS_CE, 0.0f};
  int k = task ? nnf_task_parse(task) : 0, l = loss ? nnf_loss_parse(loss) : -1;
  if (k < 0) return nnf_fail(err, errlen, "%s: unknown task '%.40s' in the metadata", path, task);
  if (loss && l < 0) return nnf_fail(err, errlen, "%s: unknown loss '%.40s' in the metadata", path, loss);
  t.kind = (nnf_task_kind)k;
  t.loss = loss ? (nnf_loss_kind)l : nnf_task_default_loss(t.kind);
  if (t.loss == NNF_LOSS_HUBER) {
    double d = 1.0;
    if (meta_double(f, path, "huber_delta", &d, err, errlen)) return -1;
    t.huber_delta = (float)d;
  }
  char sub[256];
  if (nnf_task_check(&t, nnf_net_outputs(n), sub, sizeof sub)) return nnf_fail(err, errlen, "%s: %s", path, sub);
  n->task = t;
  return 0;
}

nnf_net *nnf_ckpt_load(const char *path, char *err, size_t errlen) {
  nnf_st_file *f = nnf_st_read(path, err, errlen);
  if (!f) return NULL;
  nnf_net *n = NULL;
  const char *fmt = nnf_st_meta(f, "format"), *ver = nnf_st_meta(f, "format_version");
  if (!fmt || strcmp(fmt, "nnfpga"))
    nnf_fail(err, errlen, "%s: not an nnfpga checkpoint (metadata 'format' is %s)", path, fmt ? fmt : "absent");
  else if (!ver || !strcmp(ver, "1"))
    n = load_v1(f, path, err, errlen);
  else if (!strcmp(ver, "2"))
    n = load_v2(f, path, err, errlen);
  else
    nnf_fail(err, errlen, "%s: format_version %.20s is newer than this nnfpga reads (1, 2)", path, ver);
  if (n && load_task(f, path, n, err, errlen)) {
    nnf_net_free(n);
    n = NULL;
  }
  nnf_st_free(f);
  return n;
}
