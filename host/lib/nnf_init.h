/*
 * nnf_init.h - weight initialisation as torch.nn.init defines it, seeded.
 *
 * For a dense layer's weight [out, in]: fan_in = in, fan_out = out.
 *   NNF_INIT_DEFAULT          torch.nn.Linear's reset_parameters: weights and
 *                             biases uniform in +-1/sqrt(fan_in)
 *   NNF_INIT_ZEROS            zeros_
 *   NNF_INIT_UNIFORM          uniform_(a, b)
 *   NNF_INIT_NORMAL           normal_(mean, std)
 *   NNF_INIT_XAVIER_UNIFORM   bound = gain * sqrt(6 / (fan_in + fan_out))
 *   NNF_INIT_XAVIER_NORMAL    std   = gain * sqrt(2 / (fan_in + fan_out))
 *   NNF_INIT_KAIMING_UNIFORM  bound = sqrt(3) * gain / sqrt(fan), a = 0
 *   NNF_INIT_KAIMING_NORMAL   std   = gain / sqrt(fan)
 * where gain is torch.nn.init.calculate_gain of the nonlinearity that
 * follows the layer (the hidden activation; linear, 1, for the last layer)
 * and fan is fan_in or fan_out (mode). Every initialiser but the default
 * sets the biases to zero. Normal draws use Box-Muller on splitmix64
 * doubles: the same seed gives the same weights on every platform.
 */
#ifndef NNF_INIT_H
#define NNF_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNF_INIT_DEFAULT = 0,
  NNF_INIT_ZEROS,
  NNF_INIT_UNIFORM,
  NNF_INIT_NORMAL,
  NNF_INIT_XAVIER_UNIFORM,
  NNF_INIT_XAVIER_NORMAL,
  NNF_INIT_KAIMING_UNIFORM,
  NNF_INIT_KAIMING_NORMAL,
} nnf_init_kind;

typedef struct {
  nnf_init_kind kind;
  double a, b;          /* uniform bounds (torch default 0, 1) */
  double mean, std;     /* normal (torch default 0, 1) */
  int fan_out;          /* kaiming mode: 0 fan_in (default), 1 fan_out */
} nnf_init_spec;

nnf_init_spec nnf_init_defaults(nnf_init_kind kind);
/* "default", "zeros", "uniform", "normal", "xavier_uniform" (or
 * "glorot_uniform"), "xavier_normal", "kaiming_uniform" (or "he_uniform"),
 * "kaiming_normal" -> kind; -1 if unknown. */
int nnf_init_parse(const char *name);
const char *nnf_init_name(nnf_init_kind kind);
/* torch.nn.init.calculate_gain for an activation (relu6 as relu). */
double nnf_init_gain(nnf_act act);
/* Initialise one layer (weights [out, in], biases [out]); `next` is the
 * nonlinearity after it. Returns 0, or -1 for an invalid spec (b < a,
 * std < 0, non-finite values). */
int nnf_init_layer(nnf_dense *L, const nnf_init_spec *s, nnf_act next, uint64_t *rng);
/* n values uniform in [lo, hi) (torch.nn.init.uniform_), the draws every
 * uniform initialiser here makes (the recurrent layers' default, too). */
void nnf_init_uniform(float *v, size_t n, double lo, double hi, uint64_t *rng);
/* One standard normal draw (Box-Muller, the second value cached in *spare). */
double nnf_rng_normal(uint64_t *rng, double *spare, int *have_spare);

#ifdef __cplusplus
}
#endif
#endif /* NNF_INIT_H */
