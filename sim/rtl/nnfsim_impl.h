/*
 * nnfsim_impl.h - private to sim/rtl: the part of the simulator handle that
 * the C conveniences (nnfsim.c) keep, and the hooks between nnfsim.c and the
 * C++ shim (nnfsim_shim.cpp). Not installed, not for users of nnfsim.h.
 */
#ifndef NNFSIM_IMPL_H
#define NNFSIM_IMPL_H

#include <stdint.h>

#include "nnfsim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNFSIM_ERR_LEN 256

/* Host-side state of a handle (lives inside the shim's struct nnfsim). */
typedef struct {
  char err[NNFSIM_ERR_LEN]; /* last failure, "" if none */
  int pending;              /* a command was started and its done not yet seen */
  uint64_t limit;           /* cycle limit derived from the pending command */
} nnfsim_host;

nnfsim_host *nnfsim_host_of_(nnfsim *s);
const nnfsim_host *nnfsim_host_of_const_(const nnfsim *s);

/* printf-style message for nnfsim_last_error; returns status. */
int nnfsim_fail_(nnfsim *s, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* NNFSIM_IMPL_H */
