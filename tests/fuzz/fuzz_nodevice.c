/*
 * fuzz_nodevice.c - stand-ins for the device entry points of libnnf
 * (host/lib/nnf_device.c, which needs the driver and the Verilated
 * simulator) in the fuzz targets that link the host library's sources but
 * never run a network on a device (fuzz_ckpt, fuzz_tune). Reaching one is a
 * bug in the target: they abort, and the fuzzer reports it.
 */
#include <stdlib.h>

#include "nnf_model.h"
#include "nnf_snn.h"

int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen) {
  (void)d, (void)n, (void)max_batch, (void)err, (void)errlen;
  abort();
}

int nnf_device_run(nnf_device *d, const int8_t *xq, int batch, int8_t *const *outs, char *err, size_t errlen) {
  (void)d, (void)xq, (void)batch, (void)outs, (void)err, (void)errlen;
  abort();
}

int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen) {
  (void)d, (void)f, (void)err, (void)errlen;
  abort();
}

int nnf_snn_device_load(struct nnf_device *dev, const nnf_snn *n, int max_batch, char *err, size_t errlen) {
  (void)dev, (void)n, (void)max_batch, (void)err, (void)errlen;
  abort();
}

int nnf_snn_device_run(struct nnf_device *dev, nnf_snn *n, const float *x, int batch, int32_t *counts, char *err,
                       size_t errlen) {
  (void)dev, (void)n, (void)x, (void)batch, (void)counts, (void)err, (void)errlen;
  abort();
}

int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen) {
  (void)uri, (void)out, (void)err, (void)errlen;
  abort();
}

void nnf_device_close(nnf_device *d) {
  if (d) abort();   /* closing no device is a no-op, as in nnf_device.c */
}
