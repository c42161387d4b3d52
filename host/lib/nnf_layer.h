/*
 * nnf_layer.h - the layer stack: a network is a sequence of layers, read the
 * way torch.nn.Sequential reads, and each layer is a small vtable
 * (docs/host.md, "The layer stack").
 *
 * Graphs. A layer reads the boundary before it unless it joined reading
 * another (nnf_net_add_from: a residual block's shortcut), and an Add layer
 * also reads a second one: the residual networks' forks and joins. Layers
 * stay in order (each reads only boundaries before it), so the forward pass
 * is the list in order and the backward pass the list in reverse, summing
 * the gradients of a boundary that several layers read.
 *
 * Tensors between layers. Boundary i (0..nlayers) is the network's input
 * (i = 0) or layer i-1's output: rows of `width` features, `steps` x batch
 * of them (steps is 1, or the network's time steps T after a spiking layer
 * or a rate-coded input), as floats (dequantized in the quantized modes)
 * and, in the quantized modes, as int8 with the boundary's quantization.
 *
 * Forward modes:
 *   NNF_FWD_FLOAT      float on the host (the float baseline)
 *   NNF_FWD_FAKEQUANT  float on the host through fake quantization (QAT)
 *   NNF_FWD_INT        the int8 model on the host, exact integer sums: the
 *                      device's arithmetic (the integer reference, and the
 *                      training forward of spiking networks)
 *   NNF_FWD_DEVICE     the int8 model on a device (nnf_device.h runs it and
 *                      leaves its int8 outputs in the boundaries; the layers
 *                      then only dequantize)
 * The backward pass is float; in the quantized modes it passes straight
 * through the rounding and stops where an output was clamped.
 *
 * Fusion. On the quantized paths an elementwise activation after a Linear
 * layer is the Linear layer's requantization clamp (ReLU, ReLU6, Identity)
 * or its LUT (sigmoid, tanh), and a LIF layer takes the Linear layer's int8
 * output as its synaptic current: the consumer says how its producer
 * quantizes (nnf_fusion), the producer does it. Fused activations copy.
 *
 * Ownership: nnf_net_create returns a network owned by the caller; layers
 * added to it belong to it. Functions returning int give 0 or -1 with a
 * message in err.
 */
#ifndef NNF_LAYER_H
#define NNF_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_init.h"
#include "nnf_nn.h"
#include "nnf_optim.h"
#include "nnf_task.h"
#include "nnfm.h"
#include "nnfm_attn.h"
#include "nnfm_lif.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNF_MAX_LAYERS 96   /* layers of a network (activations count) */
#define NNF_MAX_PARAMS 12   /* parameter tensors of one layer (a TransformerEncoderLayer's 12) */
#define NNF_MAX_NET_PARAMS (NNF_MAX_PARAMS * NNF_MAX_LAYERS) /* of a network */
#define NNF_MAX_SIZES 9     /* sizes of a ready-made MLP or SNN: up to 8 Linear layers */

/* The input quantizer of images in [0, 1]: pixels are exact (the model's
 * definition, nnfm.h). */
#define NNF_PIXEL_SCALE NNFM_PIXEL_SCALE
#define NNF_PIXEL_ZP NNFM_PIXEL_ZP

typedef enum { NNF_FWD_FLOAT = 0, NNF_FWD_FAKEQUANT, NNF_FWD_INT, NNF_FWD_DEVICE } nnf_fwd_mode;

/* An activation tensor's quantization and its observed range. */
typedef struct {
  float lo, hi;    /* observed range (moving average of batch min / max) */
  int seen;        /* batches observed */
  int fixed;       /* 1: scale / zp fixed (sigmoid and tanh outputs, pixels, spikes) */
  double scale;
  int32_t zp;
} nnf_qrange;

/* The int8 form of a Linear layer (engine layout). */
typedef struct {
  float *s_w;        /* out: per-channel weight scales */
  int8_t *w_kn;      /* in x out, int8 weights in the engine's K x N layout */
  float *w_fq;       /* out x in, dequantized weights (the fake-quant weights) */
  float *b_fq;       /* out, dequantized biases */
  int32_t *bias;     /* out, int32 biases with the input zero point folded in */
  int32_t *m0;       /* out */
  int8_t *shift;     /* out */
  int32_t zp, lo, hi;
  int lut;           /* 1: the outputs go through table */
  int8_t table[256];
  float *s_w_given;  /* out, or NULL: per-channel weight scales given (an imported int8
                        model's, nnf_layer_give_weight_scales) instead of max|W[n,:]| / 127 */
  int32_t *b_given;  /* out, or NULL: the int32 biases given (nnf_layer_give_biases), taken
                        for each channel whose float bias is still b_given_at's */
  float *b_given_at; /* out: the float biases when they were given */
  int round;         /* NNFM_ROUND_*: the requantizer's rounding (the layer's,
                        nnf_layer_set_rounding) */
} nnf_qlayer;

/* The int8 form of one dense layer (the numeric contract, docs/numerics.md):
 * per-channel symmetric weights (s_w = max|W[n,:]| / 127), int32 biases at
 * s_in * s_w, multipliers s_in * s_w / s_out, the input zero point folded
 * into the biases; also the dequantized (fake-quant) weights and biases.
 * Leaves zp / lo / hi / lut to the caller. `layer` (1-based) names it. */
int nnf_qlayer_quantize(nnf_qlayer *Q, const nnf_dense *L, double s_in, int32_t zp_in, double s_out,
                        int layer, char *err, size_t errlen);

typedef struct {
  int width, steps;
  int c, h, w;       /* the shape of a row: c x h x w == width, PyTorch's (C, H, W)
                        order (c = width, h = w = 1 for flat rows) */
  int map;           /* 1: rows are maps (PyTorch's 4-d tensors, even 1 x 1: a
                        Linear layer needs a Flatten before it), 0: flat */
  int mc, mh, mw;    /* the map the device holds for it (nnf_compile.h): the shape,
                        or after a Flatten (which costs the device nothing) the
                        map it flattens */
  float *f;          /* steps x cap x width */
  int8_t *q;         /* steps x cap x width (quantized modes) */
  nnf_qrange r;      /* this boundary's quantization (inputs: the network's input quantizer) */
} nnf_tensor;

/* A pass through the network. */
typedef struct {
  nnf_fwd_mode mode;
  int batch;         /* B rows per step */
  int steps;         /* the network's T */
  int observe;       /* update the observers on this pass */
  int every;         /* observing every `every` passes: each observer moves as far as
                        `every` of its per-step updates would */
  int calibrate;     /* a calibration pass: observers take this batch's values as they are */
  int training;      /* dropout active */
  uint64_t *rng;     /* the network's generator (rate coding, dropout) */
} nnf_pass;

struct nnf_plan;
typedef struct nnf_layer nnf_layer;
typedef struct nnf_net nnf_net;

/* How a consumer wants its producer's int8 output (nnf_layer_ops.fuse). */
typedef struct {
  nnf_act act;              /* the activation the producer applies (NONE: none) */
  nnf_qrange *out;          /* the quantization of the producer's output (and the observer
                               of its float output, unless fixed); NULL: the producer's own */
  int32_t lo, hi;           /* clamp bounds of the requantization */
  int lut;                  /* 1: the activation goes through a LUT (the producer observes and
                               requantizes its pre-activation to its own range) */
  nnf_layer *current;       /* a LIF consumer: the producer's output is its synaptic current,
                               quantized at the consumer's scale (zp 0) */
} nnf_fusion;

/* One parameter tensor: the state_dict name is "<layer index>.<name>". */
typedef struct {
  const char *name;   /* "weight", "bias" */
  float *data, *grad;
  int ndim;
  int shape[4];       /* Linear [out, in], Conv2d [out, in, kh, kw], biases [out] */
} nnf_param;

/* Elements of a parameter tensor. */
size_t nnf_param_size(const nnf_param *p);

typedef struct {
  const char *kind;   /* the PyTorch class it follows: "Linear", "ReLU", "LIF", "Flatten", ... */
  int fusable;        /* the layer after it may fuse into it (nnf_fusion) */
  int spiking;        /* its outputs are spikes: as the last layer, their counts are the logits */
  /* The output width for input width `in` (and steps: *steps in, out).
   * Called once, when the layer joins the network; allocates the layer's
   * own state. 0, or -1 + err (the message names the layer). */
  int (*shape)(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen);
  /* Forward of p->batch rows (x: boundary l->index, y: l->index + 1). */
  int (*forward)(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err,
                 size_t errlen);
  /* Backward: dy (y's shape) -> dx (x's shape, NULL for the first layer);
   * parameter gradients written, or with accumulate added. dy may be
   * overwritten. */
  void (*backward)(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y,
                   float *dy, float *dx, int accumulate);
  /* A layer with a second input (Add, l->src2 >= 0): dy -> dx2, the
   * gradient of the second input, written; called before backward, dy
   * unchanged. NULL: one input. */
  void (*backward2)(nnf_layer *l, const nnf_pass *p, const nnf_tensor *y, const float *dy, float *dx2);
  /* Parameters (up to NNF_MAX_PARAMS) into out; the count. NULL: none. */
  int (*params)(nnf_layer *l, nnf_param *out);
  /* What this layer asks of the layer before it (NULL: nothing; the
   * producer uses its own range). */
  int (*fuse)(nnf_layer *l, nnf_fusion *f);
  /* Observed ranges -> scales and zero points (before quantize). NULL: none. */
  void (*qparams)(nnf_layer *l);
  /* Derive the int8 form from the float parameters, x's quantization and
   * the consumer's fusion. NULL: nothing to derive. */
  int (*quantize)(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen);
  /* Forget the observed ranges before a calibration pass. NULL: none. */
  void (*forget)(nnf_layer *l);
  /* Observe a batch's largest |synaptic current| (real units) computed by
   * the producer (LIF). */
  void (*observe_current)(nnf_layer *l, double absmax, const nnf_pass *p);
  /* The device compiler's hooks (nnf_compile.h): place buffers, pack the
   * int8 model into the staging image, emit one step's instructions. NULL:
   * the layer costs the device nothing (fused, or a reshape). */
  int (*plan)(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen);
  int (*pack)(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen);
  int (*emit)(nnf_layer *l, struct nnf_plan *p);
  /* The activation tables the layer's instructions select (a layer with
   * several: the recurrent ones), at most max, in the layer's order: their
   * count. The device compiler gives each distinct table a device LUT
   * (nnf_plan.lut_slots[index][k] for the layer's table k). NULL: the
   * Linear / Conv2d table of nnf_qlayer, if any. */
  int (*luts)(const nnf_layer *l, const int8_t **tables, int max);
  /* The softmax exp table (256 entries, nnfm_softmax_table) the layer's ROW
   * SOFTMAX reads, or NULL: the device compiler gives it a group of four
   * LUTs (nnf_plan.row_tbl). NULL hook: none. */
  const int32_t *(*softmax_table)(const nnf_layer *l);
  /* A layer that reads the network's input in a layout of its own (the
   * recurrent layers' per-step regions): with xq NULL the ACT words one
   * input buffer of p->B rows takes; else lay B rows of xq (the input
   * boundary's int8 rows) into the staging image at ACT word base. NULL:
   * the input is in the boundary's layout. */
  uint32_t (*input)(nnf_layer *l, const struct nnf_plan *p, uint32_t base, const int8_t *xq, int B);
  /* A layer whose outputs stay in the input buffer's layout (a recurrent
   * layer's every step, seq=1): its B rows into yq, from the staging image
   * of the input buffer at ACT word base, read back: 0, or -1. It returns 1
   * (with any yq, NULL too) when the outputs are in the boundary after all;
   * with yq NULL, 0 when it would read them. NULL: the boundary. */
  int (*output)(nnf_layer *l, const struct nnf_plan *p, uint32_t base, int8_t *yq, int B);
  /* The architecture entry: "Linear(784,128)", "ReLU", "LIF(...)". */
  void (*describe)(const nnf_layer *l, char *buf, size_t len);
  void (*destroy)(nnf_layer *l);
} nnf_layer_ops;

struct nnf_layer {
  const nnf_layer_ops *ops;
  nnf_net *net;
  int index;           /* position in the network (its state_dict prefix) */
  int src;             /* the boundary it reads: index (the layer before it's output), or
                          the one nnf_net_add_from gave (src < index + 1) */
  int src2;            /* an Add's second input boundary; -1: none */
  int in, out;         /* widths */
  int ic, ih, iw;      /* the input's shape (C, H, W); the shape hook sets */
  int oc, oh, ow;      /* the output's (preset to the input's; a layer that leaves
                          them so keeps the map's shape) */
  int imap, omap;      /* input / output rows are maps (nnf_tensor.map); omap preset to imap */
  int fused;           /* folded into the layer before it on the quantized paths */
  nnf_fusion fusion;   /* what the layer after it asks of this one's output */
  int round;           /* NNFM_ROUND_*: its requantizations' rounding (nnf_layer_set_rounding) */
};

typedef enum { NNF_ENC_DIRECT = 0, NNF_ENC_RATE } nnf_encoding;

/* The network's input: observed (an MLP's default), the pixel quantizer
 * (1/255, -128: images in [0, 1]), or rate-coded spikes over the steps. */
typedef enum { NNF_INPUT_OBSERVED = 0, NNF_INPUT_PIXELS, NNF_INPUT_RATE } nnf_input_kind;

struct nnf_net {
  int nlayers;
  nnf_layer *layer[NNF_MAX_LAYERS];
  int steps;                             /* T: time steps of the spiking layers (1: none) */
  float observer_momentum;               /* EMA constant of the range observers (0.01) */
  uint64_t rng;                          /* rate coding, dropout */
  nnf_task task;                         /* what the outputs mean, the loss (nnf_task.h) */
  int quantized;                         /* the int8 forms are up to date with the weights */
  /* boundaries and work buffers for batches of up to cap rows */
  int cap;
  nnf_tensor t[NNF_MAX_LAYERS + 1];
  int ngrad;
  float *grad[NNF_MAX_LAYERS + 2];       /* gradient buffers of `widest` floats (backward) */
  size_t widest;                         /* floats of the widest boundary */
  float *logits;                         /* cap x outputs: the last forward's logits (a
                                            boundary's floats, or spike counts) */
  int32_t *counts;                       /* cap x outputs: spike counts (spiking outputs) */
  const float *input;                    /* the last float forward's input */
  nnf_fwd_mode last_mode;
  int last_batch;
};

/* An empty network taking `inputs` features. */
nnf_net *nnf_net_create(int inputs, char *err, size_t errlen);
/* An empty network taking c x h x w feature maps (PyTorch's (C, H, W) rows;
 * c x h x w <= 2^24). */
nnf_net *nnf_net_create_map(int c, int h, int w, char *err, size_t errlen);
void nnf_net_free(nnf_net *n);
/* Append a layer (made by one of the constructors below; the network owns
 * it from here, also on failure). 0, or -1 if its shape does not compose. */
int nnf_net_add(nnf_net *n, nnf_layer *l, char *err, size_t errlen);
/* The same, the layer reading the output of layer `from` (-1: the
 * network's input) instead of the last one's: a residual block's shortcut.
 * Recurrent, attention and LIF layers read only the layer before them. */
int nnf_net_add_from(nnf_net *n, nnf_layer *l, int from, char *err, size_t errlen);
/* The layers that read boundary b (0: the input; Add's second inputs too). */
int nnf_net_readers(const nnf_net *n, int b);
/* 1 when some layer reads a boundary other than the one before it. */
int nnf_net_is_graph(const nnf_net *n);
/* The layer whose output layer l reads (NULL: the network's input). */
nnf_layer *nnf_layer_producer(const nnf_layer *l);
int nnf_net_inputs(const nnf_net *n);
int nnf_net_outputs(const nnf_net *n);
/* The boundary that holds the network's logits (nnf_net.logits, what the
 * losses read and the backward pass starts from): the last, or the one
 * before a final Softmax layer (an imported TFLite model's SOFTMAX, whose
 * probabilities are the last boundary). */
int nnf_net_logits_at(const nnf_net *n);
/* 1 when the network has spiking layers (its outputs are spike counts). */
int nnf_net_spiking(const nnf_net *n);
/* The rounding of a layer's requantizations in its int8 form
 * (nnfm_requantize_r): NNFM_ROUND_SINGLE (nnfpga's, the default) or
 * NNFM_ROUND_TFLITE (TFLite's double rounding: an imported TFLite model's
 * convolutions, docs/import.md). The device needs INFO feature
 * FEAT_TFL_ROUND for the latter; checkpoints keep it (quant.rounding).
 * nnf_net_set_rounding sets every layer's. 0, or -1 for another value. */
int nnf_layer_set_rounding(nnf_layer *l, int round);
int nnf_net_set_rounding(nnf_net *n, int round);
/* 1 when some layer rounds as TFLite (NNFM_ROUND_TFLITE). */
int nnf_net_tflite_rounding(const nnf_net *n);
/* The architecture, e.g. "Linear(784,128),ReLU,Linear(128,10)". */
void nnf_net_describe(const nnf_net *n, char *buf, size_t len);

/* Layers. */
nnf_layer *nnf_linear(int out, char *err, size_t errlen);
nnf_layer *nnf_activation(nnf_act act, char *err, size_t errlen);
nnf_layer *nnf_flatten(char *err, size_t errlen);
/* A residual join (nnf_add.c): y = x + the output of layer `from` (-1: the
 * network's input), the same shape; torch's `x + skip`. Quantized, TFLite's
 * int8 ADD (nnfm_ew, its own output range, a ReLU after it fused into its
 * clamp); on the device an EW ADD. Described "Add(K)". */
nnf_layer *nnf_add(int from, char *err, size_t errlen);
/* An Add's `from` (-2 for another kind of layer). */
int nnf_layer_add_from(const nnf_layer *l);
/* torch.nn.Softmax(dim=1) over each row; quantized, TFLite's int8 SOFTMAX
 * (reference kernel, beta 1), its output at 1/256 and -128; no device
 * program (it runs on the host after the device's outputs). */
nnf_layer *nnf_softmax(char *err, size_t errlen);

/* Maps (nnf_conv.c, docs/conv.md "Host"), over c x h x w rows:
 * torch.nn.Conv2d(cin, cout, k, stride, padding, bias) with cin taken from
 * its input (k 1..7, stride 1..4, padding 0..7: the device's ranges);
 * MaxPool2d(k, stride, padding) and AvgPool2d(k, stride, padding) as
 * TFLite pools (padding taps skipped: PyTorch's count_include_pad=False;
 * floor output sizes: ceil_mode=False; PyTorch's MaxPool2d needs padding
 * <= k/2, which the constructor checks); AdaptiveAvgPool2d(1) (global
 * average pooling, 1 x 1 output). stride 0 means the kernel size (PyTorch's
 * default for pools). Shapes that do not compose are refused when the
 * layer joins a network (nnf_net_add), naming it. */
nnf_layer *nnf_conv2d(int cout, int k, int stride, int pad, int bias, char *err, size_t errlen);
/* The general torch.nn.Conv2d: a kernel, stride and padding per axis and
 * groups (docs/conv.md "Depthwise and rectangular"). groups 0 is a
 * depthwise conv: groups = Cin and, with cout 0, Cout = Cin (TFLite's
 * DEPTHWISE_CONV_2D with multiplier Cout / Cin). On the host kernels are
 * 1..NNF_CONV_KERNEL_MAX, strides 1..NNF_CONV_STRIDE_MAX, padding
 * 0..NNF_CONV_KERNEL_MAX; the device compiler checks its own ranges. */
#define NNF_CONV_KERNEL_MAX 32
#define NNF_CONV_STRIDE_MAX 16
typedef struct {
  int cout;           /* output channels (0 with groups 0: Cin) */
  int kh, kw;         /* kernel rows, columns */
  int sh, sw;         /* strides */
  int ph, pw;         /* padding, the same before and after (ZeroPad2d pads unevenly) */
  int groups;         /* 1: a full conv; G: grouped; 0: depthwise (G = Cin) */
  int bias;           /* 0/1 */
} nnf_conv_spec;
nnf_layer *nnf_conv2d_spec(const nnf_conv_spec *s, char *err, size_t errlen);
/* A Conv2d's spec (groups resolved once the layer joined a network): 0, or
 * -1 for another kind. */
int nnf_conv_spec_of(const nnf_layer *l, nnf_conv_spec *s);
/* torch.nn.ZeroPad2d((left, right, top, bottom)) over a map: padding of the
 * real 0.0 (on the int8 paths the input's zero point, which keeps its
 * quantization), each side 0..NNF_CONV_KERNEL_MAX. On the device it runs
 * only as the padding of the Conv2d right after it, which then pads
 * unevenly (TFLite's SAME over a stride). */
nnf_layer *nnf_zeropad2d(int left, int right, int top, int bottom, char *err, size_t errlen);
/* The padding of a ZeroPad2d layer into pad[4] (left, right, top, bottom):
 * 1, or 0 for another kind. */
int nnf_layer_zeropad(const nnf_layer *l, int pad[4]);
nnf_layer *nnf_maxpool2d(int k, int stride, int pad, char *err, size_t errlen);
nnf_layer *nnf_avgpool2d(int k, int stride, int pad, char *err, size_t errlen);
nnf_layer *nnf_global_avgpool(char *err, size_t errlen);
/* A Conv2d layer's float weights (as a dense layer of in = cin*k*k, out =
 * cout, OIHW rows) and int8 form; NULL for another kind. */
nnf_dense *nnf_layer_conv(nnf_layer *l);
nnf_qlayer *nnf_layer_conv_qlayer(nnf_layer *l);
/* A network from the users' architecture grammar (nnf_arch.c, docs/cli.md),
 * e.g. "conv(16,5,pad=2),relu,maxpool(2),flatten,dense(10)", over
 * shape[0] x shape[1] x shape[2] inputs (C, H, W), or flat rows of shape[0]
 * features when shape[1] = shape[2] = 0; parameters zero (then
 * nnf_net_init). NULL + err naming the item (index from 0, its text) that
 * is malformed, unknown or whose shape does not compose. */
nnf_net *nnf_arch_build(const char *spec, const int shape[3], char *err, size_t errlen);
/* The PyTorch-form entry of a map layer ("Conv2d(1,16,kernel_size=5,...)",
 * "MaxPool2d(...)", "AvgPool2d(...)", "AdaptiveAvgPool2d(1)") as
 * nnf_layer_ops.describe writes it: the layer, or NULL + err (also NULL
 * with err "" when tok is no map layer's entry). */
nnf_layer *nnf_map_layer_parse(const char *tok, int cin, char *err, size_t errlen);
/* torch.nn.Dropout(p), 0 <= p <= 1: on training passes of the host's float
 * and fake-quant forwards each value is zeroed with probability p (drawn
 * from the network's generator) and the others scaled by 1 / (1 - p); the
 * identity at evaluation, on the integer path and on the device (the
 * compiler emits nothing for it). */
nnf_layer *nnf_dropout(double p, char *err, size_t errlen);
/* A Dropout layer's p (-1 for another kind). */
double nnf_layer_dropout_p(const nnf_layer *l);
/* The dropout rule given a mask (1 = kept): y = x * (mask ? 1 / (1 - p) : 0),
 * the factor 1 / (float)(1 - p) with 1 - p in double (torch's); also its
 * backward (dy -> dx).
 * y may alias x. */
void nnf_dropout_apply(const float *x, const uint8_t *mask, size_t n, double p, float *y);

/* Recurrent layers (nnf_rnn.c, docs/host.md "Recurrent layers"):
 * torch.nn.RNN (nonlinearity tanh or relu), GRU and LSTM with
 * batch_first=True, one layer, one direction, zero initial states. A row is
 * a whole sequence, PyTorch's (T, I) slice of its (B, T, I) tensor: width =
 * T * in. The output is the last hidden state (width hidden), or with
 * seq = 1 every step's (PyTorch's `output`, width T * hidden). in = 0: taken
 * from the input when the layer joins a network (a C x H x W map: in = W,
 * C * H steps; after a recurrent layer with seq = 1: its hidden size), else
 * refused. Parameters weight_ih_l0 (G*hidden x in), weight_hh_l0
 * (G*hidden x hidden), bias_ih_l0, bias_hh_l0 (G*hidden), G = 1, 3 (GRU:
 * r, z, n), 4 (LSTM: i, f, g, o). FLOAT, FAKEQUANT and INT on the host
 * (INT: docs/rnn.md's int8 step through the functional model); the device
 * compiler refuses them. */
typedef enum { NNF_RNN_TANH = 0, NNF_RNN_RELU, NNF_RNN_GRU, NNF_RNN_LSTM } nnf_rnn_kind;
nnf_layer *nnf_rnn(nnf_rnn_kind kind, int hidden, int in, int seq, char *err, size_t errlen);
/* A recurrent layer's configuration (in: resolved once in a network); -1
 * for another kind. Any pointer may be NULL. */
int nnf_layer_rnn(const nnf_layer *l, nnf_rnn_kind *kind, int *hidden, int *in, int *seq);
/* PyTorch's default initialisation of a recurrent layer (every parameter
 * uniform in +-1/sqrt(hidden), in state_dict order) from rng; -1 for
 * another kind. */
int nnf_rnn_init(nnf_layer *l, uint64_t *rng);
/* The observed ranges of its int8 step's intermediates (docs/rnn.md;
 * checkpoints keep them): their count (0..7) and *ranges, or -1 for
 * another kind. */
int nnf_layer_rnn_ranges(nnf_layer *l, nnf_qrange **ranges);
/* Its entry in the users' grammar, e.g. "gru(128,in=28)". */
void nnf_rnn_grammar(const nnf_layer *l, char *buf, size_t len);
/* The PyTorch-form entry describe writes ("GRU(28,128,batch_first=True)",
 * "RNN(28,128,nonlinearity='relu',batch_first=True,seq=1)"): the layer, or
 * NULL + err (NULL with err "" when tok is no recurrent layer's entry). */
nnf_layer *nnf_rnn_layer_parse(const char *tok, char *err, size_t errlen);

/* Attention layers (nnf_attn.c, docs/attention.md): a Transformer encoder's
 * pieces with PyTorch's semantics, parameter names and layouts, over rows
 * of tokens as the recurrent layers lay sequences out: a row is one whole
 * sequence of T tokens of d features, PyTorch's (T, d) slice of its
 * batch_first (B, T, d) tensor, width T * d. The token width d is given
 * (d = 0: taken when the layer joins a network from the layer before: a
 * token layer's d, a recurrent layer's hidden size with seq=1, a C x H x W
 * map's W, through activations and Dropout; refused where there is none).
 *   EMBED      a Linear applied to every token: (B, T, in) -> (B, T, d);
 *              weight [d, in], bias [d] (torch.nn.Linear on the last dim);
 *              in = 0: the input's token width
 *   POSEMBED   learned positional embedding: y[:, t] = x[:, t] + weight[t],
 *              weight [positions, d]; T <= positions
 *   CLSTOKEN   a learned class token before the tokens: T -> T + 1,
 *              class_token [1, 1, d]
 *   MEANPOOL   the mean over the T tokens: width d (no tokens after it)
 *   CLSPOOL    the first token (the class token's): width d
 *   LAYERNORM  torch.nn.LayerNorm(d, eps): weight, bias [d] (d = 0 without
 *              tokens before it: the whole row)
 *   GELU       torch.nn.GELU(approximate='none' | 'tanh'), elementwise
 *   MHA        torch.nn.MultiheadAttention(d, heads, batch_first=True) as
 *              self-attention (query = key = value = x, no masks, no
 *              dropout, outputs only): in_proj_weight [3d, d],
 *              in_proj_bias [3d], out_proj.weight [d, d], out_proj.bias [d]
 *   ENCODER    torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=0,
 *              activation relu | gelu, layer_norm_eps, batch_first=True,
 *              norm_first): its 12 parameters under PyTorch's names
 *              (self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*)
 * FLOAT only: the quantized forwards and the device compiler refuse them,
 * naming the layer (issue 26's device part is next). */
typedef enum {
  NNF_ATTN_EMBED = 0,
  NNF_ATTN_POSEMBED,
  NNF_ATTN_CLSTOKEN,
  NNF_ATTN_MEANPOOL,
  NNF_ATTN_CLSPOOL,
  NNF_ATTN_LAYERNORM,
  NNF_ATTN_GELU,
  NNF_ATTN_MHA,
  NNF_ATTN_ENCODER,
} nnf_attn_kind;

typedef struct {
  int d;           /* token width (EMBED: its output's); 0: from the input (not MHA, ENCODER) */
  int in;          /* EMBED: the input token's features (0: from the input) */
  int positions;   /* POSEMBED: the table's positions, 1..65535 */
  int heads;       /* MHA, ENCODER: dividing d */
  int ff;          /* ENCODER: dim_feedforward */
  int gelu;        /* ENCODER: 0 ReLU, 1 GELU (erf) */
  int tanh_approx; /* GELU: 1 approximate='tanh' */
  int norm_first;  /* ENCODER: 1 pre-norm, 0 post-norm (PyTorch's default) */
  double eps;      /* LAYERNORM, ENCODER: 1e-5 by default */
} nnf_attn_config;

/* A configuration with PyTorch's defaults (eps 1e-5, ReLU, post-norm, ff 0:
 * the constructor makes it 4 d). */
nnf_attn_config nnf_attn_defaults(void);
nnf_layer *nnf_attn(nnf_attn_kind kind, const nnf_attn_config *c, char *err, size_t errlen);
/* An attention layer's kind and configuration (d, in resolved once in a
 * network; ff as built); -1 for another kind. Either pointer may be NULL. */
int nnf_layer_attn(const nnf_layer *l, nnf_attn_kind *kind, nnf_attn_config *c);
/* An attention layer's intermediate ranges (MultiheadAttention: 5,
 * TransformerEncoderLayer: 13; the others: 0): their count, or -1 for
 * another kind of layer. */
int nnf_layer_attn_ranges(nnf_layer *l, nnf_qrange **ranges);
/* A recurrent or attention layer's intermediate ranges (checkpoints keep
 * them as quant.<i>.rnn_ranges): their count (0..16), or -1. */
int nnf_layer_ranges(nnf_layer *l, nnf_qrange **ranges);
/* An attention layer's int8 form (after nnf_net_quantize), read only: the
 * Linear parts (embed; in_proj's q, k, v; out_proj; linear1, linear2), the
 * softmax's table, the products' arguments (Q K^T, P V; sizes unset), the
 * norms, the elementwise ops (residual adds; posembed's add; clstoken's and
 * clspool's MAP), the table of posembed / clstoken, GELU's LUT, meanpool's
 * multiplier, the intermediate ranges. 0, or -1 for another kind. */
typedef struct {
  const nnf_qlayer *qe, *qp[3], *qo, *q1, *q2;
  const int32_t *smax;
  const nnfm_matmul_args *mm;
  const nnfm_layernorm_params *ln;
  const nnfm_ew_params *ew;
  const int8_t *tabq, *lut;
  int32_t pool_m0;
  int pool_shift;
  const nnf_qrange *rg;
} nnf_attn_int;
int nnf_layer_attn_int(nnf_layer *l, nnf_attn_int *v);
/* PyTorch's initialisation of an attention layer from rng (EMBED: Linear's
 * default; POSEMBED normal(0, 0.02) and CLSTOKEN zeros, as torchvision's
 * VisionTransformer; LayerNorm ones and zeros; MultiheadAttention's
 * _reset_parameters: xavier_uniform_ in_proj_weight, Linear's default
 * out_proj.weight, zero biases; linear1 / linear2 Linear's default); -1 for
 * another kind. */
int nnf_attn_init(nnf_layer *l, uint64_t *rng);
/* The entry describe writes ("TransformerEncoderLayer(64,4,...)",
 * "LayerNorm(64,eps=1e-05)", "GELU(approximate='tanh')", ...): the layer,
 * or NULL + err (NULL with err "" when tok is no attention layer's entry). */
nnf_layer *nnf_attn_layer_parse(const char *tok, char *err, size_t errlen);

typedef enum { NNF_SURR_FAST_SIGMOID = 0, NNF_SURR_ATAN } nnf_surrogate;

/* A LIF layer's neuron (docs/snn.md): snnTorch's Leaky on Lava's integer
 * arithmetic. */
typedef struct {
  double beta;             /* membrane decay, snnTorch's beta; dv = round((1 - beta) 4096) */
  double threshold;        /* theta (float units of the current) */
  int reset_sub;           /* 0: reset to zero (Lava); 1: subtract the threshold */
  nnf_surrogate surrogate;
  double slope;            /* fast sigmoid k (default 25) or arctan alpha (default 2) */
  int resolution;          /* least vth (default 48) */
} nnf_lif_config;

nnf_layer *nnf_lif(const nnf_lif_config *c, char *err, size_t errlen);

/* The Linear layer's parts (NULL for another kind). */
nnf_dense *nnf_layer_dense(nnf_layer *l);
nnf_qlayer *nnf_layer_qlayer(nnf_layer *l);
/* A LIF layer's configuration, integer parameters and current scale
 * (NULL / -1 for another kind). */
const nnf_lif_config *nnf_layer_lif_config(const nnf_layer *l);
int nnf_layer_lif_params(const nnf_layer *l, nnfm_lif_params *p);
/* A LIF layer's observed current range: read and set (checkpoints). */
int nnf_layer_lif_current(nnf_layer *l, float **range, int **seen, int32_t **vth, double **scale);
/* An activation layer's kind (-1 for another kind). */
int nnf_layer_act(const nnf_layer *l);
/* The range a layer owns (the observer of its output; NULL if none). */
nnf_qrange *nnf_layer_range(nnf_layer *l);
/* Given quantization (an imported int8 model, nnf_import.h): boundary i
 * (0: the input) takes (scale, zp) as it is, never observed; a Linear or
 * Conv2d layer's weights take the per-channel scales s (its out of them)
 * instead of max|W[n,:]| / 127. Checkpoints keep both (nnf_ckpt.h). 0, or
 * -1 + err (a layer without weights, a scale not finite and positive). */
int nnf_net_give_range(nnf_net *n, int i, double scale, int32_t zp, char *err, size_t errlen);
int nnf_layer_give_weight_scales(nnf_layer *l, const float *s, char *err, size_t errlen);
/* The weight scales given to a layer (NULL: none, or another kind). */
const float *nnf_layer_given_weight_scales(nnf_layer *l);
/* Given int32 biases (an imported int8 model's, out of them): a float32
 * bias holds an int32 bias of a tiny scale exactly only up to 2^24, and a
 * file's may be anything (the real VWW's reach 2^30 on dead channels). The
 * layer's int8 form takes b[o] as channel o's bias while its float bias is
 * still at[o], the one it had when given (at NULL: the float biases now);
 * training that moves it hands the channel back to the float. Checkpoints
 * keep both (quant.<i>.bias_given, quant.<i>.bias_given_at). 0, or -1 + err
 * for a layer without biases. nnf_layer_given_biases: the biases and *at,
 * or NULL when none were given. */
int nnf_layer_give_biases(nnf_layer *l, const int32_t *b, const float *at, char *err, size_t errlen);
const int32_t *nnf_layer_given_biases(nnf_layer *l, const float **at);

/* The k-th Linear layer (k = 0..) of a network: its float layer and int8
 * form (NULL past the last); the count of Linear layers; and the sizes the
 * ready-made networks are built from: i = 0 the inputs, i = k + 1 the k-th
 * Linear layer's outputs. */
nnf_dense *nnf_net_dense(nnf_net *n, int k);
nnf_qlayer *nnf_net_qlayer(nnf_net *n, int k);
int nnf_net_linears(const nnf_net *n);
int nnf_net_size(const nnf_net *n, int i);

/* Parameters of the whole network, in order (owner[i]: the layer index). */
int nnf_net_params(nnf_net *n, nnf_param *out, int max, int *owner);
/* Register every parameter with an optimizer. */
int nnf_net_register(nnf_net *n, nnf_optim *o);
void nnf_net_zero_grad(nnf_net *n);
/* Re-initialise every Linear layer with an initialiser (nnf_init.h) from
 * seed, the gain of the activation after it. 0, or -1 for an invalid spec. */
int nnf_net_init(nnf_net *n, const nnf_init_spec *s, uint64_t seed);

/* Make the work buffers hold batches of `batch` rows. */
int nnf_net_reserve(nnf_net *n, int batch, char *err, size_t errlen);
/* Quantize a batch of inputs into boundary 0 (steps x batch rows; rate
 * coding draws one base from the network's generator). */
void nnf_net_quantize_input(nnf_net *n, const float *x, int batch);
/* Observe activation ranges with a float forward on the host (MLPs);
 * every: the observation period in passes. */
int nnf_net_observe(nnf_net *n, const float *x, int batch, int every);
/* A spiking network's calibration: the current ranges of a batch as they
 * are, twice (the second through the scales the first gives), then quantize. */
int nnf_net_calibrate(nnf_net *n, const float *x, int batch, char *err, size_t errlen);
/* Observed ranges -> the int8 model. */
int nnf_net_quantize(nnf_net *n, char *err, size_t errlen);

/* Forward pass of a batch (batch <= 65535). FLOAT, FAKEQUANT and INT run
 * on the host; DEVICE expects the device's int8 outputs in the boundaries
 * (nnf_device_forward). The logits are then in n->logits. */
int nnf_net_forward(nnf_net *n, const nnf_pass *p, const float *x, char *err, size_t errlen);
/* A pass of mode over batch rows (observing every `every` passes). */
nnf_pass nnf_net_pass(nnf_net *n, nnf_fwd_mode mode, int batch, int observe, int every);
/* Shorthand: a pass of mode over batch rows, observing as QAT does in
 * FAKEQUANT mode. */
int nnf_net_run(nnf_net *n, nnf_fwd_mode mode, const float *x, int batch, char *err, size_t errlen);
/* The task's loss (n->task; multiclass: softmax cross-entropy) of the last
 * forward's outputs against labels (multiclass, binary) or targets
 * (multilabel, regression: batch x outputs): the gradients of scale *
 * (mean loss) overwrite the parameters' gradients, or with accumulate are
 * added to them. Returns the mean loss. */
float nnf_net_backward_task(nnf_net *n, const int32_t *labels, const float *targets, float scale, int accumulate);
/* The backward pass from a given gradient gy of the last boundary (steps x
 * batch x outputs) of the last forward: parameter gradients written (added
 * with accumulate); the input's gradient into dx when not NULL (zeros when
 * no layer reads the input). 0, or -1 (no forward before). */
int nnf_net_backward_grad(nnf_net *n, const float *gy, float *dx, int accumulate);
/* The same with labels only (multiclass and binary). */
float nnf_net_backward(nnf_net *n, const int32_t *labels, float scale, int accumulate);
/* Regularisation on the parameters' gradients (all of them, biases too, as
 * `loss + l1 * sum(p.abs().sum() for p in model.parameters())` does): adds
 * l1 * sign(w); returns the penalty l1 * sum |w|. */
double nnf_net_l1(nnf_net *n, float l1);
/* torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm) over the
 * gradients: returns the total norm before clipping. */
float nnf_net_clip_grad_norm(nnf_net *n, float max_norm);
/* 1 if the network has a Dropout layer with p > 0. */
int nnf_net_has_dropout(const nnf_net *n);
/* The int8 model on the host (INT mode) from int8 inputs xq (batch x
 * inputs; DIRECT / observed inputs only); out: batch x outputs int8. */
int nnf_net_forward_int(nnf_net *n, const int8_t *xq, int batch, int8_t *out);

/* ---- ready-made networks ------------------------------------------------- */

/* A multilayer perceptron: Linear(sizes[0], sizes[1]), act, Linear, ...,
 * Linear(.., sizes[n-1]) (no activation after the last; act NONE gives
 * Identity layers, as the checkpoints of nn.Sequential name them), weights
 * initialised as torch.nn.Linear's defaults from seed. */
nnf_net *nnf_mlp_create(const int *sizes, int nsizes, nnf_act act, uint64_t seed, char *err,
                        size_t errlen);
/* Parse "784,128,10" into sizes; the count or -1 (+ err). */
int nnf_parse_layers(const char *spec, int *sizes, int max, char *err, size_t errlen);
/* The same with dropouts: "784,dropout:0.2,128,dropout:0.5,10" puts
 * Dropout(0.2) before the first Linear layer and Dropout(0.5) after the
 * hidden layer's activation (torch's usual place); drop[i] (max entries)
 * is the p after size i, 0 for none. Not after the output size. */
int nnf_parse_mlp_spec(const char *spec, int *sizes, double *drop, int max, char *err, size_t errlen);
/* nnf_mlp_create with drop[i] > 0 (i = 0..nsizes-2, or drop NULL) a Dropout
 * after size i: before the first Linear layer (i = 0), else after hidden
 * layer i's activation. Same initialisation as without. */
nnf_net *nnf_mlp_create_dropout(const int *sizes, int nsizes, nnf_act act, const double *drop, uint64_t seed,
                                char *err, size_t errlen);
/* The int8 outputs of an MLP's k-th Linear layer (k = 1..), batch x width. */
const int8_t *nnf_mlp_output_q(const nnf_net *n, int k);

/* A spiking network: Linear + LIF per layer, T steps, direct (the image as
 * a current every step) or rate-coded input. */
typedef struct {
  int steps;               /* T, 1..65535 */
  nnf_encoding encoding;
  nnf_lif_config lif;
} nnf_snn_config;

nnf_snn_config nnf_snn_defaults(void);
int nnf_snn_config_check(const nnf_snn_config *c, char *err, size_t errlen);
nnf_net *nnf_snn_create(const int *sizes, int nsizes, const nnf_snn_config *c, uint64_t seed,
                        char *err, size_t errlen);
/* The spiking configuration of a network (its steps, encoding and first
 * LIF layer's neuron); -1 if it has no LIF layer. */
int nnf_net_snn_config(const nnf_net *n, nnf_snn_config *c);
/* Rate coding: the input spike of feature i of row r at step t for value x,
 * a Bernoulli draw that is a pure function of (base, r, t, i). */
int nnf_rate_spike(uint64_t base, size_t r, int t, size_t i, float x);
/* The spike counts of the last forward (spiking networks), batch x outputs. */
const int32_t *nnf_net_counts(const nnf_net *n);

#ifdef __cplusplus
}
#endif
#endif /* NNF_LAYER_H */
