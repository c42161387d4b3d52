/*
 * nnf_models.c - the ready-made networks of the layer stack: the MLP
 * (Linear, activation, ..., Linear) and the spiking network (Linear + LIF
 * per layer), their initialisation, and the accessors by Linear ordinal
 * (see nnf_layer.h). Above the layer kinds and the network executor.
 */
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

static nnf_layer *linear_k(const nnf_net *n, int k) {
  for (int i = 0, seen = 0; i < n->nlayers; i++)
    if (nnf_layer_dense(n->layer[i]) && seen++ == k) return n->layer[i];
  return NULL;
}

nnf_dense *nnf_net_dense(nnf_net *n, int k) { return nnf_layer_dense(linear_k(n, k)); }
nnf_qlayer *nnf_net_qlayer(nnf_net *n, int k) { return nnf_layer_qlayer(linear_k(n, k)); }

int nnf_net_linears(const nnf_net *n) {
  int c = 0;
  for (int i = 0; i < n->nlayers; i++) c += nnf_layer_dense(n->layer[i]) != NULL;
  return c;
}

int nnf_net_size(const nnf_net *n, int i) {
  if (i == 0) return nnf_net_inputs(n);
  nnf_layer *l = linear_k(n, i - 1);
  return l ? l->out : 0;
}

int nnf_net_init(nnf_net *n, const nnf_init_spec *s, uint64_t seed) {
  uint64_t rng = seed;
  for (int i = 0; i < n->nlayers; i++) {
    if (!nnf_rnn_init(n->layer[i], &rng)) continue;  /* recurrent layers: PyTorch's default, always */
    if (!nnf_attn_init(n->layer[i], &rng)) continue; /* attention layers: likewise */
    nnf_dense *d = nnf_layer_dense(n->layer[i]);
    if (!d) d = nnf_layer_conv(n->layer[i]); /* fan-in Cin*K*K, as torch's */
    if (!d) continue;
    int a = i + 1 < n->nlayers ? nnf_layer_act(n->layer[i + 1]) : -1;
    if (nnf_init_layer(d, s, a < 0 ? NNF_ACT_NONE : (nnf_act)a, &rng)) return -1;
  }
  n->quantized = 0;
  return 0;
}

/* ---- ready-made networks --------------------------------------------------------------- */

int nnf_parse_mlp_spec(const char *spec, int *sizes, double *drop, int max, char *err, size_t errlen) {
  int count = 0;
  const char *p = spec;
  const char *want = drop ? "sizes are integers 1..65535 (a dropout: dropout:P) separated by commas"
                          : "sizes are integers 1..65535 separated by commas";
  if (!p || !*p) return nnf_fail(err, errlen, "empty layer list (want e.g. 784,128,10)");
  while (*p) {
    char *end;
    if (drop && !strncmp(p, "dropout:", 8)) {
      errno = 0;
      double v = strtod(p + 8, &end);
      if (end == p + 8 || errno || (*end && *end != ','))
        return nnf_fail(err, errlen, "bad layer list '%s': %s", spec, want);
      if (!(v >= 0 && v <= 1)) return nnf_fail(err, errlen, "bad layer list '%s': a dropout probability is in [0, 1], not %g", spec, v);
      if (!count) return nnf_fail(err, errlen, "bad layer list '%s': a dropout comes after a size (the input's, or a hidden layer's)", spec);
      if (drop[count - 1] > 0) return nnf_fail(err, errlen, "bad layer list '%s': two dropouts in a row", spec);
      drop[count - 1] = v > 0 ? v : 0;
    } else {
      errno = 0;
      long v = strtol(p, &end, 10);
      if (end == p || errno || v < 1 || v > 65535 || (*end && *end != ','))
        return nnf_fail(err, errlen, "bad layer list '%s': %s", spec, want);
      if (count == max) return nnf_fail(err, errlen, "too many layers in '%s' (at most %d sizes)", spec, max);
      if (drop) drop[count] = 0;
      sizes[count++] = (int)v;
    }
    p = *end ? end + 1 : end;
    if (*end && !*p) return nnf_fail(err, errlen, "bad layer list '%s': trailing comma", spec);
  }
  if (count < 2) return nnf_fail(err, errlen, "layer list '%s' needs at least an input and an output size", spec);
  if (drop && drop[count - 1] > 0)
    return nnf_fail(err, errlen, "bad layer list '%s': a dropout after the output layer (the outputs are the logits)", spec);
  return count;
}

int nnf_parse_layers(const char *spec, int *sizes, int max, char *err, size_t errlen) {
  return nnf_parse_mlp_spec(spec, sizes, NULL, max, err, errlen);
}

static int check_sizes(const int *sizes, int nsizes, char *err, size_t errlen) {
  if (nsizes < 2 || nsizes > NNF_MAX_SIZES)
    return nnf_fail(err, errlen, "a network has 2..%d sizes (got %d)", NNF_MAX_SIZES, nsizes);
  for (int i = 0; i < nsizes; i++)
    if (sizes[i] < 1 || sizes[i] > 65535) return nnf_fail(err, errlen, "layer size %d out of range 1..65535", sizes[i]);
  return 0;
}

nnf_net *nnf_mlp_create(const int *sizes, int nsizes, nnf_act act, uint64_t seed, char *err, size_t errlen) {
  return nnf_mlp_create_dropout(sizes, nsizes, act, NULL, seed, err, errlen);
}

nnf_net *nnf_mlp_create_dropout(const int *sizes, int nsizes, nnf_act act, const double *drop, uint64_t seed,
                                char *err, size_t errlen) {
  if (check_sizes(sizes, nsizes, err, errlen)) return NULL;
  if ((unsigned)act > NNF_ACT_TANH) {
    nnf_fail(err, errlen, "unknown activation %d", (int)act);
    return NULL;
  }
  nnf_net *n = nnf_net_create(sizes[0], err, errlen);
  uint64_t rng = seed;
  for (int k = 1; n && k < nsizes; k++) {
    int hidden = k + 1 < nsizes;
    if ((drop && drop[k - 1] > 0 && nnf_net_add(n, nnf_dropout(drop[k - 1], err, errlen), err, errlen)) ||
        nnf_net_add(n, nnf_linear(sizes[k], err, errlen), err, errlen)) {
      nnf_net_free(n);
      return NULL;
    }
    nnf_layer *lin = n->layer[n->nlayers - 1];
    if (hidden && nnf_net_add(n, nnf_activation(act, err, errlen), err, errlen)) {
      nnf_net_free(n);
      return NULL;
    }
    nnf_dense_init_default(nnf_layer_dense(lin), &rng);
  }
  return n;
}

const int8_t *nnf_mlp_output_q(const nnf_net *n, int k) {
  nnf_layer *l = linear_k(n, k - 1);
  return l ? n->t[l->index + 1].q : NULL;
}

nnf_snn_config nnf_snn_defaults(void) {
  nnf_snn_config c;
  memset(&c, 0, sizeof c);
  c.steps = 25;
  c.encoding = NNF_ENC_DIRECT;
  c.lif.beta = 1.0 - 205.0 / 4096.0; /* ~0.95, exactly representable as dv = 205 */
  c.lif.threshold = 1.0;
  c.lif.reset_sub = 1;
  c.lif.surrogate = NNF_SURR_ATAN;
  c.lif.slope = 2.0;
  c.lif.resolution = 48;
  return c;
}

int nnf_snn_config_check(const nnf_snn_config *c, char *err, size_t errlen) {
  if (c->steps < 1 || c->steps > 65535) return nnf_fail(err, errlen, "time steps T must be 1..65535 (got %d)", c->steps);
  if (!(c->lif.beta >= 0 && c->lif.beta <= 1)) return nnf_fail(err, errlen, "beta must be in [0, 1] (got %g)", c->lif.beta);
  if (!(c->lif.threshold > 0) || !isfinite(c->lif.threshold))
    return nnf_fail(err, errlen, "the threshold must be > 0 (got %g)", c->lif.threshold);
  if (!(c->lif.slope > 0) || !isfinite(c->lif.slope))
    return nnf_fail(err, errlen, "the surrogate slope must be > 0 (got %g)", c->lif.slope);
  if (c->lif.resolution < 1 || c->lif.resolution > NNFM_LIF_VTH_MAX)
    return nnf_fail(err, errlen, "the threshold resolution must be 1..%d", NNFM_LIF_VTH_MAX);
  if ((unsigned)c->encoding > NNF_ENC_RATE || (unsigned)c->lif.surrogate > NNF_SURR_ATAN || c->lif.reset_sub > 1 ||
      c->lif.reset_sub < 0)
    return nnf_fail(err, errlen, "unknown encoding, surrogate or reset");
  return 0;
}

/* The input as the spiking network's encoding has it. */
static void set_input(nnf_net *n, nnf_encoding e, int steps) {
  n->steps = steps;
  if (e == NNF_ENC_RATE) {
    n->t[0].steps = steps;
    nnf_qrange_fix(&n->t[0].r, 1.0, 0);
  } else {
    n->t[0].steps = 1;
    nnf_qrange_fix(&n->t[0].r, NNF_PIXEL_SCALE, NNF_PIXEL_ZP);
  }
}

nnf_net *nnf_snn_create(const int *sizes, int nsizes, const nnf_snn_config *c, uint64_t seed, char *err,
                        size_t errlen) {
  if (nnf_snn_config_check(c, err, errlen) || check_sizes(sizes, nsizes, err, errlen)) return NULL;
  nnf_net *n = nnf_net_create(sizes[0], err, errlen);
  if (!n) return NULL;
  set_input(n, c->encoding, c->steps);
  n->rng = seed ^ 0x52a7e5ull;
  uint64_t rng = seed;
  for (int k = 1; k < nsizes; k++) {
    if (nnf_net_add(n, nnf_linear(sizes[k], err, errlen), err, errlen) ||
        nnf_net_add(n, nnf_lif(&c->lif, err, errlen), err, errlen)) {
      nnf_net_free(n);
      return NULL;
    }
    nnf_dense_init_default(nnf_layer_dense(n->layer[n->nlayers - 2]), &rng);
  }
  return n;
}

int nnf_net_snn_config(const nnf_net *n, nnf_snn_config *c) {
  for (int i = 0; i < n->nlayers; i++) {
    const nnf_lif_config *l = nnf_layer_lif_config(n->layer[i]);
    if (!l) continue;
    c->steps = n->steps;
    c->encoding = n->t[0].steps > 1 ? NNF_ENC_RATE : NNF_ENC_DIRECT;
    c->lif = *l;
    return 0;
  }
  return -1;
}
