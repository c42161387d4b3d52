/*
 * test_rnn_device.c - the recurrent layers (Elman RNN tanh / ReLU, GRU,
 * LSTM) compiled for a device (nnf_rnn.c's plan / pack / emit / input /
 * luts hooks: the per-step regions R_t = [x_t][h_{t-1}] in ACT, one step
 * body with relative bases under a LOOP with a stride, the last step
 * unrolled into the output boundary; docs/rnn.md "A recurrent step") and
 * run on a device: every int8 value it returns (the last hidden state, the
 * following Linear's outputs and the logits) byte for byte against the
 * host's integer forward (NNF_FWD_INT, which runs the same step through
 * nnfm_gemm / nnfm_ew), over several chunks with a shorter last one, on
 * fixed shapes (H and I not multiples of the rows, T = 1, T = 2), every
 * step's state (seq=1) as the output, stacked layers (seq=1 into the next),
 * and random ones. Then the refusals, with their exact messages: a device
 * without FEAT_EW / FEAT_REL (`model:ew=0`, `model:rel=0`), fewer LUTs than an LSTM's three
 * tables (`model:luts=2`), every step's state into a Linear, a recurrent
 * layer after another layer, weights beyond W, a sequence beyond ACT.
 *
 * usage: test_rnn_device [seed [random networks [device URI]]]
 * (the device: `model` by default; `sim`, the Verilated RTL, for rtl_rnn_device)
 */
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnf_test_device.h"
#include "nnfdrv.h"

static const char *dev_uri = "model";

static float *inputs(int count, int width, uint64_t seed) {
  float *x = malloc((size_t)count * width * sizeof(float));
  nnf_rng r = nnf_rng_seed(seed);
  for (size_t i = 0; i < (size_t)count * width; i++) x[i] = (float)(nnf_rng_u32(&r) % 2001) / 1000.0f - 0.7f;
  return x;
}

/* A network over sequences of T steps of I features (a 1 x T x I map: the
 * recurrent layer's in= is I). */
static nnf_net *build(const char *arch, int T, int I, uint64_t seed) {
  return nnf_test_device_net(arch, 1, T, I, seed);
}

/* Observe, quantize; the host's INT forward; the device's (over chunks of
 * max_batch): every planned layer's int8 outputs and the logits equal. */
static size_t same_on_device(const char *arch, int T, int I, int count, int max_batch, uint64_t seed) {
  char what[256];
  nnf_net *n = build(arch, T, I, seed);
  float *x = inputs(count, nnf_net_inputs(n), seed * 7 + 1);
  nnf_test_device_quantize(n, x, count);
  snprintf(what, sizeof what, "%s (T %d, I %d)", arch, T, I);
  size_t compared = nnf_test_device_same(n, x, count, dev_uri, max_batch, what, NULL);
  free(x);
  nnf_net_free(n);
  printf("%s on %d steps of %d: %zu int8 values equal\n", arch, T, I, compared);
  return compared;
}

/* Loading arch on uri fails with a message containing want. */
static void refused(const char *arch, int T, int I, const char *uri, int max_batch, const char *want) {
  nnf_net *n = build(arch, T, I, 5);
  float *x = inputs(4, T * I, 3);
  nnf_test_device_quantize(n, x, 4);
  nnf_test_device_refused(n, arch, uri, max_batch, want);
  free(x);
  nnf_net_free(n);
}

int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 11;
  int nrandom = argc > 2 ? atoi(argv[2]) : 12;
  if (argc > 3) dev_uri = argv[3];
  size_t total = 0;
  /* H and I not multiples of the 8 rows, T = 1 and 2 (no LOOP), chunks of 8 with a shorter last one */
  total += same_on_device("rnn(13),dense(4)", 6, 5, 37, 8, seed);
  total += same_on_device("rnn(16,act=relu),dense(3)", 4, 8, 21, 8, seed + 1);
  total += same_on_device("gru(11),dense(5)", 7, 9, 29, 8, seed + 2);
  total += same_on_device("lstm(10),dense(4)", 5, 3, 19, 8, seed + 3);
  total += same_on_device("gru(9)", 1, 12, 17, 8, seed + 4);
  total += same_on_device("lstm(17),dense(6)", 2, 20, 13, 4, seed + 5);
  total += same_on_device("rnn(24)", 3, 16, 10, 16, seed + 6);
  total += same_on_device("lstm(8),dense(10)", 28, 28, 12, 64, seed + 7);
  /* every step's state (seq=1) as the output, stacked layers (a wavefront over shared regions), T = 1 */
  total += same_on_device("lstm(11,seq=1)", 5, 6, 23, 8, seed + 8);
  total += same_on_device("gru(12,seq=1),lstm(9),dense(4)", 6, 7, 21, 8, seed + 9);
  total += same_on_device("rnn(10,seq=1),gru(7,seq=1),rnn(5,act=relu),dense(3)", 4, 9, 19, 8, seed + 10);
  total += same_on_device("gru(9,seq=1),gru(6,seq=1)", 1, 5, 11, 4, seed + 11);
  total += same_on_device("lstm(16,seq=1),lstm(8),dense(10)", 28, 28, 9, 64, seed + 12);
  /* 4H = 512 channels of parameters fill a P of 64 entries of 8 (the model's p_words=64; the simulator's P
   * holds 256): the head's take a parameter page of its own */
  const char *uri = dev_uri;
  if (!strcmp(dev_uri, "model")) dev_uri = "model:p_words=64";
  total += same_on_device("gru(128),dense(10)", 28, 28, 7, 4, seed + 13);
  total += same_on_device("lstm(128),dense(10)", 6, 28, 5, 4, seed + 14);
  dev_uri = uri;
  nnf_rng r = nnf_rng_seed(seed * 13 + 5);
  static const char *const kinds[4] = {"rnn", "rnn", "gru", "lstm"};
  for (int k = 0; k < nrandom; k++) {
    int kind = (int)(nnf_rng_u32(&r) % 4), H = 1 + (int)(nnf_rng_u32(&r) % 40), I = 1 + (int)(nnf_rng_u32(&r) % 20);
    int T = 1 + (int)(nnf_rng_u32(&r) % 9), count = 2 + (int)(nnf_rng_u32(&r) % 30), mb = 1 + (int)(nnf_rng_u32(&r) % 12);
    char arch[160], pre[64] = "";
    if (nnf_rng_u32(&r) % 3 == 0) { /* a seq=1 layer before it */
      int k2 = (int)(nnf_rng_u32(&r) % 4);
      snprintf(pre, sizeof pre, "%s(%d,seq=1%s),", kinds[k2], 1 + (int)(nnf_rng_u32(&r) % 24), k2 == 1 ? ",act=relu" : "");
    }
    snprintf(arch, sizeof arch, "%s%s(%d%s),dense(%d)", pre, kinds[kind], H, kind == 1 ? ",act=relu" : "",
             2 + (int)(nnf_rng_u32(&r) % 9));
    total += same_on_device(arch, T, I, count, mb, seed + 100 + (uint64_t)k);
  }
  /* refusals, before anything runs: arch, T, I, device, message */
  static const struct {
    const char *arch;
    int T, I;
    const char *uri, *want;
  } refusals[] = {
      {"gru(8),dense(3)", 3, 4, "model:ew=0,rel=0",
       "device model:ew=0,rel=0 does not run recurrent layers: its INFO lacks feature bits 7 and 8 (FEAT_EW, FEAT_REL): "
       "layer 0 'gru(8,in=4)' needs relative bases and LOOP's stride and EW"},
      {"gru(8),dense(3)", 3, 4, "model:ew=0",
       "device model:ew=0 does not run recurrent layers: its INFO lacks feature bit 7 (FEAT_EW): "
       "layer 0 'gru(8,in=4)' needs relative bases and LOOP's stride and EW"},
      {"rnn(8),dense(3)", 3, 4, "model:rel=0",
       "device model:rel=0 does not run recurrent layers: its INFO lacks feature bit 8 (FEAT_REL): layer 0 "
       "'rnn(8,in=4)' needs relative bases and LOOP's stride"},
      {"lstm(8),dense(3)", 3, 4, "model:luts=2",
       "layer 0 (LSTM(4,8,batch_first=True)) needs 3 activation tables at once; device model:luts=2 has 2 LUTs "
       "(INFO LUTS)"},
      {"lstm(8,seq=1),dense(3)", 3, 4, "model",
       "layer 0 'lstm(8,in=4,seq=1)': on the device every step's hidden state (seq=1) feeds a recurrent layer or is "
       "the network's output (layer 1, Linear, does not read it yet)"},
      {"flatten,dense(12),rnn(8,in=4)", 3, 4, "model",
       "layer 2 'rnn(8,in=4)': on the device a recurrent layer reads the network's input or a recurrent layer's "
       "every step (after another layer it does not run on the device yet)"},
      {"lstm(1500),dense(3)", 3, 28, "model", "the weights need 1156576 W words; device model has 32768"},
      {"rnn(8)", 30000, 8, "model", "a batch of 1 needs 120005 ACT words; device model has 32768"},
  };
  for (size_t k = 0; k < sizeof refusals / sizeof refusals[0]; k++)
    refused(refusals[k].arch, refusals[k].T, refusals[k].I, refusals[k].uri, 8, refusals[k].want);
  printf("%zu int8 values equal\n", total);
  return nnf_test_done(argv[0]);
}
