/*
 * nnf_util.h - the helpers libnnf defines once: the seeded generator
 * (splitmix64), the monotonic clock, and atomic file writes. Nothing here
 * depends on the rest of the library (the bottom of host/lib's order).
 */
#ifndef NNF_UTIL_H
#define NNF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64: the library's seeded generator (the state advances by the
 * golden gamma 0x9e3779b97f4a7c15 per draw). */
uint64_t nnf_rng_next(uint64_t *state);
/* Uniform float in [0, 1) with 24 random bits. */
float nnf_rng_uniform(uint64_t *state);
/* Uniform in [0, bound) (bound >= 1), unbiased: draws below 2^64 mod bound
 * are rejected. */
uint64_t nnf_rng_below(uint64_t *state, uint64_t bound);

/* Seconds on the monotonic clock. */
double nnf_now(void);

/* Write a file atomically: write(fp, ctx) fills "<path>.tmp.<pid>", which
 * is flushed, fsynced and renamed over path (the directory fsynced, best
 * effort); on any failure the temporary file is removed and path is left
 * as it was. write returns 0, or -1 with errno set. 0, or -1 with
 * "<path>: <what> failed: <why>" in err. */
int nnf_write_atomic(const char *path, int (*write)(FILE *fp, void *ctx), void *ctx, char *err,
                     size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_UTIL_H */
