/*
 * nnf_test_device.h - the closing checks of a network run on a device (the
 * e2e device tests): the device really computed (its int8 outputs are not
 * all one value), its counters saw the images and some MACs; then the
 * device is closed.
 */
#ifndef NNF_TEST_DEVICE_H
#define NNF_TEST_DEVICE_H

#include "nnf_device.h"
#include "nnf_test.h"

static inline void nnf_test_device_ran(nnf_device *d, const int8_t *out, size_t n, uint64_t images) {
  char err[512] = "";
  int varied = 0;
  for (size_t i = 1; i < n; i++) varied |= out[i] != out[0];
  CHECK(varied);
  nnf_device_figures f;
  CHECK_OK(nnf_device_figures_get(d, &f, err, sizeof err));
  CHECK_EQ_U64(f.images, images);
  CHECK(f.macs > 0);
  nnf_device_close(d);
}

#endif /* NNF_TEST_DEVICE_H */
