/*
 * nnf_calib.h - post-training calibration: a float network's activation
 * ranges from a batch of calibration samples, then its int8 model
 * (docs/import.md, "Post-training quantization"). What `nnfpga import
 * --calib N` and `nnfpga quantize` both run.
 *
 * One float pass over all the samples (nnf_net_observe: the first
 * observation of a range is the batch's min / max, exact), then per
 * observer:
 *   min/max      each activation's range is the observed [min, max];
 *   percentile   each activation's range is clipped to its P-th and
 *                (100 - P)-th percentiles over every value the pass
 *                produced there: exactly m = floor((100 - P) / 100 * n)
 *                of its n values lie above hi, and m below lo (hi is the
 *                (m+1)-th largest value, lo the (m+1)-th smallest). The
 *                order statistics are exact (a radix selection over the
 *                values' order-preserving 32-bit keys: two 65536-bin
 *                histograms), so the result does not depend on the order
 *                of the values or on any binning.
 * Fixed ranges (sigmoid, tanh, pixel inputs, given quantization) stay as
 * they are; the int8 model then follows from the ranges as always
 * (nnf_net_quantize: per-channel weights, docs/numerics.md).
 */
#ifndef NNF_CALIB_H
#define NNF_CALIB_H

#include <stddef.h>

#include "nnf_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NNF_OBSERVER_MINMAX = 0, NNF_OBSERVER_PERCENTILE } nnf_observer_kind;

/* The default P of "percentile" (docs/import.md says why). */
#define NNF_PERCENTILE_DEFAULT 99.99

typedef struct {
  nnf_observer_kind kind;
  double percentile;  /* P, 50 < P <= 100 (PERCENTILE) */
} nnf_observer;

/* "minmax", "percentile" or "percentile:P" (50 < P <= 100): 0, or -1 + err. */
int nnf_observer_parse(const char *s, nnf_observer *o, char *err, size_t errlen);
/* "min/max", "percentile 99.99". */
void nnf_observer_describe(const nnf_observer *o, char *buf, size_t len);

/* The range [lo, hi] of cnt values (cnt >= 1, none NaN) clipped at
 * percentile P as above (P = 100: min and max). *clipped: m. 0, or -1 when
 * out of memory. */
int nnf_percentile_range(const float *v, size_t cnt, double p, float *lo, float *hi, size_t *clipped);

/* Observe n's ranges on count rows of x (count <= 65535; earlier
 * observations are forgotten) with observer o and quantize n. 0, or -1 +
 * err (a spiking network: its ranges come from the int8 path, nnf_train). */
int nnf_calibrate(nnf_net *n, const float *x, int count, const nnf_observer *o, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_CALIB_H */
