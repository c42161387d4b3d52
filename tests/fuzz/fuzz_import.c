/*
 * fuzz_import.c - libFuzzer target for `nnfpga import`'s readers
 * (nnf_import.h): the input is a whole file image, given to the ONNX reader
 * (protobuf-c over nnf_onnx.proto; float models and int8 ones, QDQ and
 * QOperator, whose seeds are corpus/import/q*.onnx from
 * scripts/gen_import_qdq.py), to the TFLite reader (the bounds-checked
 * flatbuffer reader) and to the dispatcher. Each must fail with a message
 * or give a network that describes itself, runs a float forward pass (and,
 * for an int8 model, the integer one) and frees cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_import.h"
#include "nnf_layer.h"

static void use(nnf_net *n, const char *err) {
  if (!n) {
    if (!err[0]) abort(); /* a failure always says why */
    return;
  }
  char arch[2048];
  nnf_net_describe(n, arch, sizeof arch);
  int in = nnf_net_inputs(n), out = nnf_net_outputs(n);
  if (in < 1 || out < 1 || n->nlayers < 1) abort();
  if (in <= 4096) {
    float *x = calloc((size_t)in, sizeof(float));
    int8_t *xq = calloc((size_t)in, 1), *yq = calloc((size_t)out, 1);
    char e[256];
    if (x && nnf_net_run(n, NNF_FWD_FLOAT, x, 1, e, sizeof e) == 0) {
      for (int i = 0; i < out; i++) (void)n->logits[i];
    }
    if (xq && yq && n->quantized) (void)nnf_net_forward_int(n, xq, 1, yq);
    free(x), free(xq), free(yq);
  }
  nnf_net_free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  err[0] = 0;
  use(nnf_import_onnx(data, size, "fuzz.onnx", NULL, err, sizeof err), err);
  err[0] = 0;
  use(nnf_import_tflite(data, size, "fuzz.tflite", NULL, err, sizeof err), err);
  err[0] = 0;
  nnf_import_info info;
  use(nnf_import_mem(data, size, "fuzz", &info, err, sizeof err), err);
  return 0;
}
