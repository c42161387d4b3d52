/*
 * nnf_init.c - torch.nn.init's initialisers on dense layers (see nnf_init.h).
 */
#include "nnf_init.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"default", "zeros", "uniform", "normal", "xavier_uniform",
                                    "xavier_normal", "kaiming_uniform", "kaiming_normal"};

nnf_init_spec nnf_init_defaults(nnf_init_kind kind) {
  nnf_init_spec s;
  memset(&s, 0, sizeof s);
  s.kind = kind;
  s.a = 0.0;
  s.b = 1.0;
  s.mean = 0.0;
  s.std = 1.0;
  return s;
}

int nnf_init_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
    if (!strcmp(name, names[i])) return i;
  if (!strcmp(name, "glorot_uniform")) return NNF_INIT_XAVIER_UNIFORM;
  if (!strcmp(name, "glorot_normal")) return NNF_INIT_XAVIER_NORMAL;
  if (!strcmp(name, "he_uniform")) return NNF_INIT_KAIMING_UNIFORM;
  if (!strcmp(name, "he_normal")) return NNF_INIT_KAIMING_NORMAL;
  return -1;
}

const char *nnf_init_name(nnf_init_kind kind) {
  return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : "?";
}

double nnf_init_gain(nnf_act act) {
  switch (act) {
    case NNF_ACT_RELU:
    case NNF_ACT_RELU6: return sqrt(2.0);
    case NNF_ACT_TANH: return 5.0 / 3.0;
    default: return 1.0; /* linear, sigmoid */
  }
}

/* A double in [0, 1) with 53 random bits. */
static double u53(uint64_t *rng) { return (double)(nnf_rng_next(rng) >> 11) * 0x1.0p-53; }

double nnf_rng_normal(uint64_t *rng, double *spare, int *have_spare) {
  if (*have_spare) {
    *have_spare = 0;
    return *spare;
  }
  double u1 = 1.0 - u53(rng), u2 = u53(rng); /* u1 in (0, 1] */
  double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
  *spare = r * sin(t);
  *have_spare = 1;
  return r * cos(t);
}

void nnf_init_uniform(float *v, size_t n, double lo, double hi, uint64_t *rng) {
  for (size_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * u53(rng));
}

static void fill_uniform(float *v, size_t n, double lo, double hi, uint64_t *rng) { nnf_init_uniform(v, n, lo, hi, rng); }

static void fill_normal(float *v, size_t n, double mean, double std, uint64_t *rng) {
  double spare = 0;
  int have = 0;
  for (size_t i = 0; i < n; i++) v[i] = (float)(mean + std * nnf_rng_normal(rng, &spare, &have));
}

int nnf_init_layer(nnf_dense *L, const nnf_init_spec *s, nnf_act next, uint64_t *rng) {
  size_t nw = (size_t)L->in * L->out;
  double fan_in = L->in, fan_out = L->out, gain = nnf_init_gain(next);
  double fan = s->fan_out ? fan_out : fan_in;
  if (!isfinite(s->a) || !isfinite(s->b) || !isfinite(s->mean) || !isfinite(s->std) ||
      s->b < s->a || s->std < 0)
    return -1;
  if (s->kind == NNF_INIT_DEFAULT) {
    nnf_dense_init_default(L, rng);
    return 0;
  }
  memset(L->b, 0, (size_t)L->out * sizeof(float));
  switch (s->kind) {
    case NNF_INIT_ZEROS: memset(L->w, 0, nw * sizeof(float)); break;
    case NNF_INIT_UNIFORM: fill_uniform(L->w, nw, s->a, s->b, rng); break;
    case NNF_INIT_NORMAL: fill_normal(L->w, nw, s->mean, s->std, rng); break;
    case NNF_INIT_XAVIER_UNIFORM: {
      double a = gain * sqrt(6.0 / (fan_in + fan_out));
      fill_uniform(L->w, nw, -a, a, rng);
      break;
    }
    case NNF_INIT_XAVIER_NORMAL: fill_normal(L->w, nw, 0, gain * sqrt(2.0 / (fan_in + fan_out)), rng); break;
    case NNF_INIT_KAIMING_UNIFORM: {
      double a = sqrt(3.0) * gain / sqrt(fan);
      fill_uniform(L->w, nw, -a, a, rng);
      break;
    }
    case NNF_INIT_KAIMING_NORMAL: fill_normal(L->w, nw, 0, gain / sqrt(fan), rng); break;
    default: return -1;
  }
  return 0;
}
