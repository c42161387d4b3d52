/*
 * nnf_device.h - the device compiler and runner: a network's int8 model on
 * an nnfpga device through the driver (docs/host.md, "Device layout").
 *
 * nnf_device_load plans the device's buffers from the layer list (each
 * layer's plan hook places its weights, parameters, outputs and neuron
 * state), packs the int8 model into the device's layouts (the functional
 * model's engine image, the one definition of them), uploads it and writes
 * the micro-program the layers emit:
 *   - networks without spiking layers: one program per LUT segment (a GEMM
 *     per Linear layer; the device holds one LUT), twice, one copy per input
 *     buffer, so that the next chunk's inputs stream in while one runs;
 *     every Linear layer's int8 outputs come back;
 *   - spiking networks: the layers before the first time-varying one once,
 *     then one time step (clearing the neurons), then the other T - 1 steps
 *     in a LOOP; with rate-coded input two one-step programs the host runs
 *     per step with that step's spikes; the last LIF layer's spike counts
 *     come back from the neuron state.
 * The largest batch (<= max_batch) that fits is used; larger batches are
 * split into chunks.
 *
 * Ownership: nnf_device_open returns a device owned by the caller (close
 * with nnf_device_close). Functions returning int give 0 or -1 with a
 * message in err (nnf_device_connect: a driver status).
 */
#ifndef NNF_DEVICE_H
#define NNF_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnf_device nnf_device;
struct nnfdrv;

/* Open by URI (driver URIs: "model", "sim", "serial:...", "usb..."). */
nnf_device *nnf_device_open(const char *uri, char *err, size_t errlen);
/* The same, returning the driver's status (NNFDRV_OK, or NNFDRV_ERR_URI for
 * a malformed URI, NNFDRV_ERR_NO_DEVICE, ...; NNFDRV_ERR_PROTOCOL when the
 * device's INFO describes no usable engine); *out is set only on success. */
int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen);
void nnf_device_close(nnf_device *d);
const char *nnf_device_uri(const nnf_device *d);
/* The driver handle (tests read the device's regions back through it). */
struct nnfdrv *nnf_device_driver(nnf_device *d);

/* Compile and upload the quantized network for batches of up to max_batch
 * rows; fails if it does not fit the device's buffers (the message says
 * which and by how much). When weights do not fit W and the device has
 * banks, the largest layers stream through them (docs/memory.md; see
 * nnf_device_memory_get) and the batch is the largest the buffers hold,
 * whatever max_batch says: each batch sends the streamed weights once. The
 * network must stay loaded (and unchanged) until the next load. */
int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen);
/* A forward pass of batch rows on the device: the inputs quantized by the
 * network's input quantizer, the device's outputs left in the network's
 * boundaries and logits as nnf_net_forward leaves them (n->last_mode
 * NNF_FWD_DEVICE, so nnf_net_backward works from them). */
int nnf_device_forward(nnf_device *d, nnf_net *n, const float *x, int batch, char *err, size_t errlen);

/* Device figures since open (or the last nnf_device_reset_counters). */
typedef struct {
  uint64_t cycles, busy_cycles, macs, images;
  uint64_t stall_cycles;          /* a WRITE waiting for the engine, or a command for the program */
  uint64_t bytes_in, bytes_out;   /* link bytes the device took in / sent (frames included) */
  int rows, cols;
} nnf_device_figures;
int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen);
/* Where the loaded network's weights live (docs/memory.md): resident in W
 * and P, or streamed through two banks (each pass of a device batch sends
 * streamed_bytes: the chunks' W and P bytes, whole frames not counted). */
typedef struct {
  int batch;                      /* rows per device run (pass) */
  int streamed_layers, chunks;    /* 0, 0: everything resident */
  int copies;                     /* program copies: 2 (inputs double-buffered) or 1 */
  uint32_t bank_words, bank_entries;  /* each bank's W words and P entries */
  uint64_t resident_w_bytes, resident_p_bytes;
  uint64_t streamed_bytes;        /* per pass */
} nnf_device_memory;
/* 0, or -1 when no network is loaded. */
int nnf_device_memory_get(const nnf_device *d, nnf_device_memory *m);
int nnf_device_reset_counters(nnf_device *d, char *err, size_t errlen);
/* Read back only the network's outputs after each chunk (on: inference,
 * where no backward pass needs the hidden boundaries; off, the default:
 * every layer's output, as training and the tests need). Non-spiking
 * networks; the hidden boundaries then keep stale values. */
void nnf_device_set_outputs_only(nnf_device *d, int on);
/* PACK (docs/conv.md, "PACK"; on by default): when the network's first
 * layer is a Conv2d over few input channels that packing speeds up on a
 * device reporting FEAT_PACK (nnf_conv_packs), the inputs are uploaded as
 * dense maps (H*W*Cin bytes an image) and the program PACKs them before
 * the conv's KH x 1 form; the results are bit for bit the same. Off: the
 * inputs go as feature maps and the conv runs as it is. Takes effect at the
 * next nnf_device_load. */
void nnf_device_set_pack(nnf_device *d, int on);
/* 1 when the loaded network's first layer runs through PACK. */
int nnf_device_packed(const nnf_device *d);
/* CONV's fused 2x2 max pooling (docs/conv.md, "Fused 2x2 max pooling"; on
 * by default): a Conv2d (and a ReLU folded into its clamp) followed by
 * MaxPool2d(2) (kernel 2, stride 2, padding 0, no ReLU after it) runs as one
 * CONV that max-pools its output on a device reporting FEAT_CONV_POOL
 * (nnf_conv_fuses_pool): the pool emits nothing and the conv's unpooled map
 * never reaches ACT, so fewer instructions, ACT words and passes; the
 * results are bit for bit the same. Only with outputs only
 * (nnf_device_set_outputs_only at the load): the conv's own boundary, which
 * a backward pass reads, is not computed. Takes effect at the next
 * nnf_device_load. */
void nnf_device_set_fuse_pool(nnf_device *d, int on);
/* The number of MaxPool2d layers the loaded network's convs run (0 when
 * nothing is loaded). */
int nnf_device_pools_fused(const nnf_device *d);
/* The batch the loaded program runs (the largest <= max_batch that fits;
 * 0 when nothing is loaded). */
int nnf_device_batch(const nnf_device *d);

#ifdef __cplusplus
}
#endif
#endif /* NNF_DEVICE_H */
