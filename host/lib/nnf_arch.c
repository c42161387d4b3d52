/*
 * nnf_arch.c - the users' architecture grammar (nnfpga --arch, docs/cli.md):
 *
 *   conv(16,5,pad=2),relu,maxpool(2),conv(32,5,pad=2,stride=2),relu,avgpool(2),gap,flatten,dense(10)
 *
 * items separated by commas at the top level, each a name and optional
 * arguments, positional first, then key=value:
 *   conv(OUT, K, stride=S, pad=P, bias=0|1, groups=G)   Conv2d (conv2d too); stride 1, pad 0,
 *                                             bias 1, groups 1; per axis kh=, kw=, sh=, sw=, ph=, pw=
 *   dwconv(K, stride=S, pad=P, bias=0|1)      depthwise Conv2d (groups and outputs = input channels)
 *   zeropad(L, R, T, B)                       ZeroPad2d((L, R, T, B)): uneven padding before a conv
 *   maxpool(K, stride=S, pad=P)               MaxPool2d; stride K, pad 0
 *   avgpool(K, stride=S, pad=P)               AvgPool2d (count_include_pad=False)
 *   gap                                       AdaptiveAvgPool2d(1): global average pooling
 *   flatten                                   Flatten
 *   add(K)                                    Add: the input plus layer K's output (-1: the
 *                                             network's input): a residual join
 *   dense(OUT)                                Linear (linear too)
 *   relu, relu6, sigmoid, tanh, identity      activations
 *   dropout(P)                                Dropout
 *   rnn(H, in=I, act=tanh|relu, seq=0|1)      RNN (batch_first); in from the input if omitted
 *   gru(H, in=I, seq=0|1), lstm(H, in=I, seq=0|1)   GRU, LSTM; seq=1: every step's output
 * and the attention layers (nnf_attn.c, docs/attention.md) over rows of tokens; D, a
 * token's features, is taken from the input when omitted (d=):
 *   embed(D, in=I)                            TokenLinear: a Linear on every token (I -> D)
 *   posembed(P, d=D)                          learned positional embedding of P positions
 *   clstoken(d=D)                             a learned class token before the tokens
 *   meanpool(d=D), clspool(d=D)               T tokens -> 1 row: their mean, the class token's
 *   layernorm(D, eps=E)                       LayerNorm over each token; eps 1e-5
 *   gelu(approx=none|tanh)                    GELU (erf, or tanh's approximation)
 *   mha(D, HEADS)                             MultiheadAttention, self-attention
 *   encoder(D, HEADS, ff=F, act=relu|gelu, norm_first=0|1, eps=E)
 *                                             TransformerEncoderLayer; ff 4 D, relu, post-norm
 * Any item may read an earlier layer's output instead of the one before it:
 * from=K (K = -1: the network's input), a residual block's shortcut:
 *   conv(16,3,pad=1),relu,conv(16,3,pad=1),relu,conv(16,3,pad=1),add(1),relu
 *   ...,conv(32,1,stride=2,from=6),add(9),relu
 * Names are case-insensitive; "padding" is "pad". Every shape is checked
 * when the item joins the network, so an architecture that does not
 * compose is refused here with the item's index and text (see nnf_ckpt.h).
 */
#include "nnf_ckpt.h"
#include "nnf_err.h"
#include "nnf_layer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ARGS 8

typedef struct {
  char name[32];
  int npos;
  double pos[MAX_ARGS];
  int nkey;
  char key[MAX_ARGS][16];
  double kval[MAX_ARGS];
  char kstr[MAX_ARGS][16]; /* a word value (act=relu): kval is then NAN */
} item;

/* One number: all of the text, finite. */
static int number(const char *s, size_t len, double *v) {
  char buf[48], *end;
  if (!len || len >= sizeof buf) return -1;
  memcpy(buf, s, len);
  buf[len] = 0;
  errno = 0;
  *v = strtod(buf, &end);
  return end == buf || *end || errno || *v != *v ? -1 : 0;
}

/* "name" or "name(a,b,k=v)" into it; -1 + err on a malformed item. */
static int split_item(const char *tok, item *it, char *err, size_t errlen) {
  memset(it, 0, sizeof *it);
  size_t n = strcspn(tok, "(");
  while (n && isspace((unsigned char)tok[n - 1])) n--;
  if (!n || n >= sizeof it->name) return nnf_fail(err, errlen, "no layer name");
  for (size_t i = 0; i < n; i++) it->name[i] = (char)tolower((unsigned char)tok[i]);
  const char *p = strchr(tok, '(');
  if (!p) return strlen(tok) == n ? 0 : nnf_fail(err, errlen, "unexpected text after the name");
  const char *close = strrchr(tok, ')');
  if (!close || close[1]) return nnf_fail(err, errlen, "arguments are closed by ')' at the end");
  p++;
  while (p < close) {
    const char *e = p;
    while (e < close && *e != ',') e++;
    const char *eq = memchr(p, '=', (size_t)(e - p));
    while (p < e && isspace((unsigned char)*p)) p++;
    if (eq) {
      size_t kl = (size_t)(eq - p);
      while (kl && isspace((unsigned char)p[kl - 1])) kl--;
      if (it->nkey == MAX_ARGS || !kl || kl >= sizeof it->key[0]) return nnf_fail(err, errlen, "bad argument");
      for (size_t i = 0; i < kl; i++) it->key[it->nkey][i] = (char)tolower((unsigned char)p[i]);
      const char *v = eq + 1;
      while (v < e && isspace((unsigned char)*v)) v++;
      size_t vl = (size_t)(e - v);
      while (vl && isspace((unsigned char)v[vl - 1])) vl--;
      if (number(v, vl, &it->kval[it->nkey])) {
        /* the keys that take a word: act (rnn, encoder), approx (gelu) */
        if ((strcmp(it->key[it->nkey], "act") && strcmp(it->key[it->nkey], "approx")) || !vl ||
            vl >= sizeof it->kstr[0])
          return nnf_fail(err, errlen, "%s wants a number, not '%.*s'", it->key[it->nkey], (int)vl, v);
        for (size_t i = 0; i < vl; i++) it->kstr[it->nkey][i] = (char)tolower((unsigned char)v[i]);
        it->kval[it->nkey] = NAN;
      }
      it->nkey++;
    } else {
      size_t vl = (size_t)(e - p);
      while (vl && isspace((unsigned char)p[vl - 1])) vl--;
      if (it->nkey) return nnf_fail(err, errlen, "positional arguments come before key=value ones");
      if (it->npos == MAX_ARGS || number(p, vl, &it->pos[it->npos]))
        return nnf_fail(err, errlen, "'%.*s' is not a number", (int)vl, p);
      it->npos++;
    }
    p = e < close ? e + 1 : e;
  }
  return 0;
}

/* An integer argument: positional i (or key), default dflt (-1: required). */
static int int_arg(const item *it, int i, const char *key, const char *alias, int dflt, int *out, char *err,
                   size_t errlen) {
  double v = dflt;
  int have = i >= 0 && i < it->npos;
  if (have) v = it->pos[i];
  for (int k = 0; k < it->nkey; k++)
    if (!strcmp(it->key[k], key) || (alias && !strcmp(it->key[k], alias))) {
      if (have) return nnf_fail(err, errlen, "%s given twice", key);
      v = it->kval[k], have = 1;
    }
  if (!have && dflt < 0) return nnf_fail(err, errlen, "needs %s", key);
  if (v != (double)(int)v || v < 0 || v > 1e6) return nnf_fail(err, errlen, "%s wants a whole number, not %g", key, v);
  *out = (int)v;
  return 0;
}

/* A real argument by key (dflt if absent). */
static int num_arg(const item *it, const char *key, double dflt, double *out, char *err, size_t errlen) {
  *out = dflt;
  for (int k = 0; k < it->nkey; k++)
    if (!strcmp(it->key[k], key)) {
      if (it->kval[k] != it->kval[k]) return nnf_fail(err, errlen, "%s wants a number, not '%s'", key, it->kstr[k]);
      *out = it->kval[k];
    }
  return 0;
}

/* A word argument by key: the index of its value in words (dflt if absent). */
static int word_arg(const item *it, const char *key, const char *const *words, int dflt, int *out, char *err,
                    size_t errlen) {
  *out = dflt;
  for (int k = 0; k < it->nkey; k++)
    if (!strcmp(it->key[k], key)) {
      *out = -1;
      for (int j = 0; words[j]; j++)
        if (!strcmp(it->kstr[k], words[j])) *out = j;
      if (*out < 0)
        return nnf_fail(err, errlen, "%s is %s or %s, not '%s'", key, words[0], words[1],
                        it->kstr[k][0] ? it->kstr[k] : "a number");
    }
  return 0;
}

static int only(const item *it, int npos, const char *const *keys, char *err, size_t errlen);

/* The attention layers' items (nnf_attn.c); NULL + err "" for another name. */
static nnf_layer *make_attn(const item *it, char *err, size_t errlen) {
  static const char *const names[] = {"embed", "posembed", "clstoken", "meanpool", "clspool",
                                      "layernorm", "gelu", "mha", "encoder", NULL};
  static const char *const keys[][7] = {{"out", "in", NULL},     {"positions", "d", NULL}, {"d", NULL},
                                        {"d", NULL},             {"d", NULL},              {"d", "eps", NULL},
                                        {"approx", NULL},        {"d", "heads", NULL},
                                        {"d", "heads", "ff", "act", "norm_first", "eps", NULL}};
  static const int npos[] = {1, 1, 0, 0, 0, 1, 0, 2, 2};
  static const char *const acts[] = {"relu", "gelu", NULL}, *const approx[] = {"none", "tanh", NULL};
  int k = 0;
  while (names[k] && strcmp(it->name, names[k])) k++;
  err[0] = 0;
  if (!names[k]) return NULL;
  nnf_attn_config c = nnf_attn_defaults();
  int e = k == NNF_ATTN_ENCODER || k == NNF_ATTN_MHA, pk = 0;
  if (only(it, npos[k], keys[k], err, errlen)) return NULL;
  switch (k) {
    case NNF_ATTN_EMBED:
      if (int_arg(it, 0, "out", NULL, -1, &c.d, err, errlen) || int_arg(it, -1, "in", NULL, 0, &c.in, err, errlen))
        return NULL;
      for (int j = 0; j < it->nkey; j++)
        if (!strcmp(it->key[j], "in") && !c.in) return nnf_fail(err, errlen, "in is 1..65535, not 0"), NULL;
      break;
    case NNF_ATTN_POSEMBED: pk = int_arg(it, 0, "positions", NULL, -1, &c.positions, err, errlen); break;
    case NNF_ATTN_GELU: pk = word_arg(it, "approx", approx, 0, &c.tanh_approx, err, errlen); break;
    default: break;
  }
  if (pk || (k != NNF_ATTN_EMBED && k != NNF_ATTN_GELU &&
             int_arg(it, e || k == NNF_ATTN_LAYERNORM ? 0 : -1, "d", NULL, e ? -1 : 0, &c.d, err, errlen)) ||
      (e && int_arg(it, 1, "heads", NULL, -1, &c.heads, err, errlen)) ||
      int_arg(it, -1, "ff", NULL, 0, &c.ff, err, errlen) || int_arg(it, -1, "norm_first", NULL, 0, &c.norm_first, err, errlen) ||
      word_arg(it, "act", acts, 0, &c.gelu, err, errlen) || num_arg(it, "eps", 1e-5, &c.eps, err, errlen))
    return NULL;
  for (int j = 0; j < it->nkey; j++)
    if ((!strcmp(it->key[j], "d") || !strcmp(it->key[j], "ff")) && !it->kval[j])
      return nnf_fail(err, errlen, "%s is 1..65535, not 0", it->key[j]), NULL;
  if (c.norm_first > 1) return nnf_fail(err, errlen, "norm_first is 0 or 1, not %d", c.norm_first), NULL;
  return nnf_attn((nnf_attn_kind)k, &c, err, errlen);
}

/* Refuse arguments the item does not take. */
static int only(const item *it, int npos, const char *const *keys, char *err, size_t errlen) {
  if (it->npos > npos) return nnf_fail(err, errlen, "takes %d positional argument%s, not %d", npos, npos == 1 ? "" : "s", it->npos);
  for (int k = 0; k < it->nkey; k++) {
    int ok = 0;
    for (int j = 0; keys && keys[j]; j++) ok |= !strcmp(it->key[k], keys[j]);
    if (!ok) return nnf_fail(err, errlen, "has no argument '%s'", it->key[k]);
  }
  return 0;
}

static nnf_layer *make(const item *it, char *err, size_t errlen) {
  static const char *const conv_keys[] = {"out", "kernel", "stride", "pad", "padding", "bias", "groups",
                                          "kh", "kw", "sh", "sw", "ph", "pw", NULL};
  static const char *const pool_keys[] = {"kernel", "stride", "pad", "padding", NULL};
  static const char *const acts[] = {"identity", "relu", "relu6", "sigmoid", "tanh"};
  const char *n = it->name;
  int a = 0, k = 0, s = 0, p = 0;
  if (!strcmp(n, "conv") || !strcmp(n, "conv2d") || !strcmp(n, "dwconv")) {
    /* dwconv(K, ...): depthwise, as many outputs as inputs (groups 0: nnf_conv2d_spec) */
    const int dw = n[0] == 'd';
    nnf_conv_spec c = {0, 0, 0, 0, 0, 0, 0, 1, 1};
    int axes = 0; /* kh= and kw= both given: no kernel needed */
    for (int j = 0; j < it->nkey; j++) axes += !strcmp(it->key[j], "kh") || !strcmp(it->key[j], "kw");
    if (only(it, dw ? 1 : 2, conv_keys + dw, err, errlen) ||
        (!dw && int_arg(it, 0, "out", NULL, -1, &c.cout, err, errlen)) ||
        int_arg(it, dw ? 0 : 1, "kernel", NULL, axes == 2 ? 0 : -1, &k, err, errlen) ||
        int_arg(it, -1, "stride", NULL, 1, &s, err, errlen) || int_arg(it, -1, "pad", "padding", 0, &p, err, errlen) ||
        int_arg(it, -1, "bias", NULL, 1, &c.bias, err, errlen) ||
        int_arg(it, -1, "groups", NULL, dw ? 0 : 1, &c.groups, err, errlen) ||
        int_arg(it, -1, "kh", NULL, k, &c.kh, err, errlen) || int_arg(it, -1, "kw", NULL, k, &c.kw, err, errlen) ||
        int_arg(it, -1, "sh", NULL, s, &c.sh, err, errlen) || int_arg(it, -1, "sw", NULL, s, &c.sw, err, errlen) ||
        int_arg(it, -1, "ph", NULL, p, &c.ph, err, errlen) || int_arg(it, -1, "pw", NULL, p, &c.pw, err, errlen))
      return NULL;
    if (c.bias > 1) return nnf_fail(err, errlen, "bias is 0 or 1"), NULL;
    if (!dw && !c.groups) return nnf_fail(err, errlen, "groups is 1..65535, not 0 (dwconv is depthwise)"), NULL;
    return nnf_conv2d_spec(&c, err, errlen);
  }
  if (!strcmp(n, "zeropad") || !strcmp(n, "zeropad2d")) {
    static const char *const zkeys[] = {"left", "right", "top", "bottom", NULL};
    int z[4];
    for (int j = 0; j < 4; j++)
      if ((j == 0 && only(it, 4, zkeys, err, errlen)) || int_arg(it, j, zkeys[j], NULL, 0, &z[j], err, errlen))
        return NULL;
    return nnf_zeropad2d(z[0], z[1], z[2], z[3], err, errlen);
  }
  if (!strcmp(n, "maxpool") || !strcmp(n, "maxpool2d") || !strcmp(n, "avgpool") || !strcmp(n, "avgpool2d")) {
    if (only(it, 1, pool_keys, err, errlen) || int_arg(it, 0, "kernel", NULL, -1, &k, err, errlen) ||
        int_arg(it, -1, "stride", NULL, 0, &s, err, errlen) || int_arg(it, -1, "pad", "padding", 0, &p, err, errlen))
      return NULL;
    if (!s) s = k;
    return n[0] == 'm' ? nnf_maxpool2d(k, s, p, err, errlen) : nnf_avgpool2d(k, s, p, err, errlen);
  }
  if (!strcmp(n, "gap") || !strcmp(n, "adaptiveavgpool2d")) {
    /* AdaptiveAvgPool2d(1) may say its 1 */
    if (it->nkey || it->npos > 1 || (it->npos == 1 && it->pos[0] != 1))
      return nnf_fail(err, errlen, "global average pooling takes no arguments (or 1: the output size)"), NULL;
    return nnf_global_avgpool(err, errlen);
  }
  if (!strcmp(n, "dense") || !strcmp(n, "linear")) {
    static const char *const keys[] = {"out", NULL};
    if (only(it, 1, keys, err, errlen) || int_arg(it, 0, "out", NULL, -1, &a, err, errlen)) return NULL;
    return nnf_linear(a, err, errlen);
  }
  if (!strcmp(n, "rnn") || !strcmp(n, "gru") || !strcmp(n, "lstm")) {
    static const char *const rnn_keys[] = {"hidden", "in", "seq", "act", NULL};
    int in = 0, seq = 0;
    nnf_rnn_kind kind = n[0] == 'g' ? NNF_RNN_GRU : n[0] == 'l' ? NNF_RNN_LSTM : NNF_RNN_TANH;
    for (int j = 0; j < it->nkey; j++)
      if (!strcmp(it->key[j], "act")) {
        if (kind != NNF_RNN_TANH) return nnf_fail(err, errlen, "has no argument 'act' (only rnn does: tanh or relu)"), NULL;
        if (!strcmp(it->kstr[j], "relu")) kind = NNF_RNN_RELU;
        else if (strcmp(it->kstr[j], "tanh"))
          return nnf_fail(err, errlen, "act is tanh or relu, not '%s'", it->kstr[j][0] ? it->kstr[j] : "a number"), NULL;
      }
    if (only(it, 1, rnn_keys, err, errlen) || int_arg(it, 0, "hidden", NULL, -1, &a, err, errlen) ||
        int_arg(it, -1, "in", NULL, 0, &in, err, errlen) || int_arg(it, -1, "seq", NULL, 0, &seq, err, errlen))
      return NULL;
    for (int j = 0; j < it->nkey; j++)
      if (!strcmp(it->key[j], "in") && !in) return nnf_fail(err, errlen, "in is 1..65535, not 0"), NULL;
    return nnf_rnn(kind, a, in, seq, err, errlen);
  }
  nnf_layer *at = make_attn(it, err, errlen);
  if (at || err[0]) return at;
  if (!strcmp(n, "dropout")) {
    if (it->npos != 1 || it->nkey) return nnf_fail(err, errlen, "takes one argument, the probability"), NULL;
    return nnf_dropout(it->pos[0], err, errlen);
  }
  if (!strcmp(n, "softmax")) {
    if (it->npos || it->nkey) return nnf_fail(err, errlen, "takes no arguments"), NULL;
    return nnf_softmax(err, errlen);
  }
  for (int j = 0; j <= NNF_ACT_TANH; j++)
    if (!strcmp(n, acts[j]) || !strcmp(n, "flatten")) {
      if (it->npos || it->nkey) return nnf_fail(err, errlen, "takes no arguments"), NULL;
      return strcmp(n, "flatten") ? nnf_activation((nnf_act)j, err, errlen) : nnf_flatten(err, errlen);
    }
  if (!strcmp(n, "add")) {
    if (only(it, 1, NULL, err, errlen)) return NULL;
    double v = it->npos ? it->pos[0] : NAN;
    if (v != (double)(int)v || v < -1)
      return nnf_fail(err, errlen, "add(K) adds the output of layer K (-1: the input)"), NULL;
    return nnf_add((int)v, err, errlen);
  }
  nnf_fail(err, errlen,
           "unknown layer '%s' (conv, dwconv, zeropad, maxpool, avgpool, gap, flatten, add, dense, relu, relu6, sigmoid, "
           "tanh, identity, softmax, dropout, rnn, gru, lstm, embed, posembed, clstoken, meanpool, clspool, layernorm, "
           "gelu, mha, encoder)",
           n);
  return NULL;
}

/* An item's from=K (any item: it reads layer K's output, -1 the input),
 * taken out of its arguments into *from. */
static int take_from(item *it, int idx, int *from, char *err, size_t errlen) {
  for (int k = 0; k < it->nkey; k++) {
    if (strcmp(it->key[k], "from")) continue;
    double v = it->kval[k];
    if (v != (double)(int)v || v < -1 || v >= idx)
      return nnf_fail(err, errlen, "from=%g: it reads the output of a layer before it (0..%d) or the input (-1)", v,
                      idx - 1);
    *from = (int)v;
    for (int j = k + 1; j < it->nkey; j++) {
      memcpy(it->key[j - 1], it->key[j], sizeof it->key[j]);
      it->kval[j - 1] = it->kval[j];
      memcpy(it->kstr[j - 1], it->kstr[j], sizeof it->kstr[j]);
    }
    it->nkey--;
    return 0;
  }
  return 0;
}

/* A layer's own message starts "layer N (Kind(...)): "; the item says that. */
static const char *strip_prefix(const char *m) {
  if (strncmp(m, "layer ", 6)) return m;
  const char *c = strstr(m, "): ");
  return c ? c + 3 : m;
}

nnf_net *nnf_arch_build(const char *spec, const int shape[3], char *err, size_t errlen) {
  if (!spec || !*spec) {
    nnf_fail(err, errlen, "empty architecture (want e.g. conv(16,5,pad=2),relu,maxpool(2),flatten,dense(10))");
    return NULL;
  }
  nnf_net *n = shape[1] || shape[2] ? nnf_net_create_map(shape[0], shape[1], shape[2], err, errlen)
                                     : nnf_net_create(shape[0], err, errlen);
  if (!n) return NULL;
  const char *p = spec;
  for (int idx = 0; *p; idx++) {
    char tok[128], sub[384];
    size_t k = 0;
    int depth = 0, too_long = 0;
    for (; *p && (depth || *p != ','); p++) {
      depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
      if (k + 1 < sizeof tok) tok[k++] = *p;
      else too_long = 1;
    }
    tok[k] = 0;
    if (*p == ',' && !*++p) {
      nnf_fail(err, errlen, "architecture ends with a comma");
      nnf_net_free(n);
      return NULL;
    }
    item it;
    nnf_layer *l = NULL;
    int from = n->nlayers - 1;
    if (too_long) nnf_fail(sub, sizeof sub, "too long");
    else if (!split_item(tok, &it, sub, sizeof sub) && !take_from(&it, n->nlayers, &from, sub, sizeof sub))
      l = make(&it, sub, sizeof sub);
    if (!l || nnf_net_add_from(n, l, from, sub, sizeof sub)) {
      nnf_fail(err, errlen, "layer %d '%s': %s", idx, tok, strip_prefix(sub));
      nnf_net_free(n);
      return NULL;
    }
  }
  return n;
}
