/*
 * test_attn_device.c - the attention layers compiled for a device
 * (nnf_attn.c's plan / pack / emit / input / luts / softmax_table hooks,
 * docs/attention.md "Device": a chunk is one sequence, its tokens one GEMM
 * operand of T rows; in_proj's heads padded to whole words; per head ACTW
 * K^T, GEMM, ROW SOFTMAX, ACTW V, GEMM in a LOOP over the heads; LayerNorm
 * as ROW LAYERNORM, the residual adds as EW ADD, GELU as linear1's LUT or
 * an EW MAP's; the pools a GEMM of a constant row times ACTW's tokens) and
 * run on a device: every int8 value it returns (each attention layer's
 * tokens, the pooled row, the head's outputs and the logits) byte for byte
 * against the host's integer forward (NNF_FWD_INT: nnfm_gemm,
 * nnfm_matmul_act, nnfm_softmax, nnfm_layernorm, nnfm_ew), over several
 * sequences, on fixed shapes (head sizes, token widths and sequence lengths
 * not multiples of the rows; one head; post-norm and pre-norm; GELU and
 * ReLU; two layers; mean and class pooling; a class token; a LayerNorm,
 * GELU and MultiheadAttention of their own), logits scaled up so that the softmax
 * saturates, and random ones. Then the refusals, with their exact messages:
 * a device without FEAT_ROW / FEAT_ACTW / FEAT_EW, too few LUTs, tokens
 * into a Linear, a layer's parameters beyond P, a sequence
 * beyond ACT or beyond a softmax row.
 *
 * usage: test_attn_device [seed [random networks [device URI]]]
 * (the device: `model` by default; `sim`, the Verilated RTL, for rtl_attn_device)
 */
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnf_test_device.h"
#include "nnfdrv.h"

static const char *dev_uri = "model";

static float *inputs(int count, int width, uint64_t seed, float gain) {
  float *x = malloc((size_t)count * width * sizeof(float));
  nnf_rng r = nnf_rng_seed(seed);
  for (size_t i = 0; i < (size_t)count * width; i++) x[i] = gain * ((float)(nnf_rng_u32(&r) % 2001) / 1000.0f - 0.9f);
  return x;
}

/* Observe, quantize; the host's INT forward; the device's: every planned
 * layer's int8 outputs and the logits equal. gain scales the inputs (large:
 * the logits spread and the softmax saturates). */
static size_t same_on_device(const char *arch, int T, int I, int count, float gain, uint64_t seed) {
  char what[512];
  nnf_net *n = nnf_test_device_net(arch, 1, T, I, seed);
  float *x = inputs(count, nnf_net_inputs(n), seed * 7 + 1, gain);
  nnf_test_device_quantize(n, x, count);
  snprintf(what, sizeof what, "%s (T %d, I %d)", arch, T, I);
  int batch = 0;
  size_t compared = nnf_test_device_same(n, x, count, dev_uri, 16, what, &batch);
  CHECK_EQ(batch, 1); /* a chunk is one sequence */
  free(x);
  nnf_net_free(n);
  printf("%s on %d tokens of %d: %zu int8 values equal\n", arch, T, I, compared);
  return compared;
}

/* Loading arch on uri fails with a message containing want. */
static void refused(const char *arch, int T, int I, const char *uri, const char *want) {
  nnf_net *n = nnf_test_device_net(arch, 1, T, I, 5);
  float *x = inputs(3, T * I, 3, 1.0f);
  nnf_test_device_quantize(n, x, 3);
  nnf_test_device_refused(n, arch, uri, 4, want);
  free(x);
  nnf_net_free(n);
}

int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 11;
  int nrandom = argc > 2 ? atoi(argv[2]) : 8;
  if (argc > 3) dev_uri = argv[3];
  size_t total = 0;
  /* the trained model's shape, smaller: pre-norm GELU, two layers, mean pooling */
  total += same_on_device("embed(16),posembed(9),encoder(16,4,ff=24,act=gelu,norm_first=1),"
                          "encoder(16,4,ff=24,act=gelu,norm_first=1),meanpool,dense(5)",
                          9, 7, 3, 1.0f, seed);
  /* post-norm ReLU, heads of 3 (padded to a word), 13 tokens, class pooling, a hidden Linear */
  total += same_on_device("embed(12),encoder(12,4,ff=20),clspool,dense(9),relu,dense(4)", 13, 5, 3, 1.0f, seed + 1);
  /* one head of 11; logits spread wide: the softmax saturates */
  total += same_on_device("embed(11),encoder(11,1,ff=16,act=gelu),meanpool,dense(3)", 10, 6, 2, 40.0f, seed + 2);
  /* the pieces as layers of their own */
  total += same_on_device("embed(10),layernorm,mha(10,2),gelu,posembed(8),meanpool", 8, 4, 3, 1.0f, seed + 3);
  /* a class token (its row an ACT constant, the tokens mapped below it a word column at a time), class pooling */
  total += same_on_device("embed(19),clstoken,posembed(12),encoder(19,1,ff=7,act=gelu,norm_first=1),layernorm,"
                          "gelu(approx=tanh),clspool,dense(6)",
                          11, 5, 3, 1.0f, seed + 6);
  total += same_on_device("clstoken,encoder(8,2,ff=8),meanpool", 1, 8, 2, 1.0f, seed + 7);
  /* tokens as the output; one token */
  total += same_on_device("embed(9),encoder(9,3,ff=9,norm_first=1)", 5, 9, 2, 1.0f, seed + 4);
  total += same_on_device("encoder(8,2,ff=8),meanpool,dense(2)", 1, 8, 2, 1.0f, seed + 5);
  nnf_rng r = nnf_rng_seed(seed * 13 + 5);
  for (int k = 0; k < nrandom; k++) {
    int heads = 1 + (int)(nnf_rng_u32(&r) % 4), dh = 1 + (int)(nnf_rng_u32(&r) % 11), d = heads * dh;
    int T = 1 + (int)(nnf_rng_u32(&r) % 20), I = 1 + (int)(nnf_rng_u32(&r) % 12), ff = 1 + (int)(nnf_rng_u32(&r) % 30);
    int layers = 1 + (int)(nnf_rng_u32(&r) % 2), nf = (int)(nnf_rng_u32(&r) % 2), gelu = (int)(nnf_rng_u32(&r) % 2);
    char arch[400];
    int at = snprintf(arch, sizeof arch, "embed(%d)%s%s", d, nnf_rng_u32(&r) % 4 ? "" : ",clstoken",
                      nnf_rng_u32(&r) % 2 ? ",posembed(21)" : "");
    for (int j = 0; j < layers; j++)
      at += snprintf(arch + at, sizeof arch - (size_t)at, ",encoder(%d,%d,ff=%d%s,norm_first=%d)", d, heads, ff,
                     gelu ? ",act=gelu" : "", nf);
    snprintf(arch + at, sizeof arch - (size_t)at, ",%s,dense(%d)", nnf_rng_u32(&r) % 3 ? "meanpool" : "clspool",
             2 + (int)(nnf_rng_u32(&r) % 6));
    total += same_on_device(arch, T, I, 2, nnf_rng_u32(&r) % 4 ? 1.0f : 30.0f, seed + 100 + (uint64_t)k);
  }
  /* refusals, before anything runs: arch, T, I, device, message */
  static const struct {
    const char *arch;
    int T, I;
    const char *uri, *want;
  } refusals[] = {
      {"embed(8),encoder(8,2,ff=8),meanpool", 4, 3, "model:row=0",
       "layer 1 (TransformerEncoderLayer(8,2,dim_feedforward=8,dropout=0.0,activation='relu',layer_norm_eps=1e-05,"
       "batch_first=True,norm_first=False)): device model:row=0 does not run it: its INFO lacks feature bits 11 "
       "and 12 (FEAT_ROW, FEAT_ACTW)"},
      {"embed(8),meanpool", 4, 3, "model:row=0", "layer 1 (TokenPool(8,mode='mean')): device model:row=0 does not "
                                                 "run it: its INFO lacks feature bit 12 (FEAT_ACTW)"},
      {"embed(8),posembed(4),meanpool", 4, 3, "model:ew=0",
       "layer 1 (PositionalEmbedding(4,8)): device model:ew=0 does not run it: its INFO lacks feature bit 7 (FEAT_EW)"},
      {"embed(8),encoder(8,2,ff=8,act=gelu),meanpool", 4, 3, "model:luts=4",
       "needs 5 activation tables at once (four for its softmax's exp table); device model:luts=4 has 4 LUTs"},
      {"embed(8),clstoken,meanpool", 4, 3, "model:ew=0",
       "layer 1 (ClassToken(8)): device model:ew=0 does not run it: its INFO lacks feature bit 7 (FEAT_EW)"},
      {"embed(8),dense(3)", 4, 3, "model",
       "layer 1 (Linear(32,3)) reads layer 0's tokens: on the device only the attention layers and the token pools read a "
       "sequence of tokens (pool them first: meanpool or clspool)"},
      {"flatten,dense(12),embed(8,in=3),meanpool", 4, 3, "model",
       "layer 2 (TokenLinear(3,8)): its input (layer 1's output) is not a sequence of tokens on the device: attention "
       "layers read the network's input or another attention layer's tokens"},
      {"embed(64),encoder(64,4,ff=128),meanpool", 3, 5, "model:p_words=64",
       "layer 1 (TransformerEncoderLayer(64,4,dim_feedforward=128,dropout=0.0,activation='relu',layer_norm_eps=1e-05,"
       "batch_first=True,norm_first=False)) needs 75 parameter entries; device model:p_words=64 has 64"},
      {"encoder(1,1,ff=1),meanpool", 4096, 1, "model",
       "layer 0 (TransformerEncoderLayer(1,1,dim_feedforward=1,dropout=0.0,activation='relu',layer_norm_eps=1e-05,"
       "batch_first=True,norm_first=False)): 4096 tokens, more than the device's softmax row of 4095"},
      {"embed(64),encoder(64,4,ff=64),meanpool", 1000, 3, "model",
       "layer 1 (TransformerEncoderLayer(64,4,dim_feedforward=64,dropout=0.0,activation='relu',layer_norm_eps=1e-05,"
       "batch_first=True,norm_first=False)): a sequence of 1000 tokens needs 213000 ACT words here (10000 before it; "
       "the attention matrix alone 125000); device model has 32768"},
  };
  for (size_t k = 0; k < sizeof refusals / sizeof refusals[0]; k++)
    refused(refusals[k].arch, refusals[k].T, refusals[k].I, refusals[k].uri, refusals[k].want);
  printf("%zu int8 values equal\n", total);
  return nnf_test_done(argv[0]);
}
