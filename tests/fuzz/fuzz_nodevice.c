/*
 * fuzz_nodevice.c - stand-ins for the device entry points of libnnf
 * (host/lib/nnf_device.c, which needs the driver and the Verilated
 * simulator) in the fuzz targets that link the host library's sources but
 * never run a network on a device (fuzz_ckpt, fuzz_tune). Reaching one is a
 * bug in the target: they abort, and the fuzzer reports it.
 */
#include <stdlib.h>

#include "nnf_device.h"
#include "nnfdrv.h"

int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen) {
  (void)d, (void)n, (void)max_batch, (void)err, (void)errlen;
  abort();
}

int nnf_device_forward(nnf_device *d, nnf_net *n, const float *x, int batch, char *err, size_t errlen) {
  (void)d, (void)n, (void)x, (void)batch, (void)err, (void)errlen;
  abort();
}

int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen) {
  (void)d, (void)f, (void)err, (void)errlen;
  abort();
}

int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen) {
  (void)uri, (void)out, (void)err, (void)errlen;
  abort();
}

void nnf_device_close(nnf_device *d) {
  if (d) abort();   /* closing no device is a no-op, as in nnf_device.c */
}

/* The layers' compile hooks encode instructions through the driver. */
void nnfdrv_insn_gemm(uint8_t out[32], const nnfdrv_gemm *g) {
  (void)out, (void)g;
  abort();
}

int nnfdrv_insn_lif(uint8_t out[32], const nnfdrv_lif *l) {
  (void)out, (void)l;
  abort();
}

int nnfdrv_insn_conv(uint8_t out[32], const nnfdrv_conv *c) {
  (void)out, (void)c;
  abort();
}

int nnfdrv_insn_dwconv(uint8_t out[32], const nnfdrv_conv *c) {
  (void)out, (void)c;
  abort();
}

int nnfdrv_insn_pool(uint8_t out[32], const nnfdrv_pool *p) {
  (void)out, (void)p;
  abort();
}

int nnfdrv_insn_pack(uint8_t out[32], const nnfdrv_pack *p) {
  (void)out, (void)p;
  abort();
}

int nnfdrv_insn_set_lut(uint8_t insn[32], unsigned idx) {
  (void)insn, (void)idx;
  abort();
}

int nnfdrv_insn_set_rel(uint8_t insn[32], int a_rel, int o_rel, int b_rel) {
  (void)insn, (void)a_rel, (void)o_rel, (void)b_rel;
  abort();
}

int nnfdrv_insn_ew(uint8_t out[32], const nnfdrv_ew *e) {
  (void)out, (void)e;
  abort();
}

int nnfdrv_insn_loop_stride(uint8_t out[32], uint32_t target, uint32_t count, uint32_t stride) {
  (void)out, (void)target, (void)count, (void)stride;
  abort();
}

int nnfdrv_insn_row(uint8_t out[32], const nnfdrv_row *r) {
  (void)out, (void)r;
  abort();
}

int nnfdrv_insn_actw(uint8_t out[32], const nnfdrv_actw *a) {
  (void)out, (void)a;
  abort();
}

int nnfdrv_layernorm_p(int d, const int32_t *m0, const int8_t *shift, const int8_t *sign, const int32_t *bias,
                       uint32_t cols, uint8_t *out) {
  (void)d, (void)m0, (void)shift, (void)sign, (void)bias, (void)cols, (void)out;
  abort();
}

/* nnfpga_util.c's cli_json_weights (eval's and infer's JSON) asks where the weights live. */
int nnf_device_memory_get(const nnf_device *d, nnf_device_memory *m) {
  (void)d, (void)m;
  abort();
}

/* nnfpga_util.c's cli_trace_report (after a traced run) asks the driver. */
struct nnfdrv *nnf_device_driver(nnf_device *d) {
  (void)d;
  abort();
}

int nnfdrv_trace_range(nnfdrv *d, const char **path, uint64_t *first, uint64_t *end) {
  (void)d, (void)path, (void)first, (void)end;
  abort();
}
