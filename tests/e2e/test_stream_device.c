/*
 * test_stream_device.c - weight streaming (docs/memory.md): networks whose
 * weights do not fit the device's W run with their largest layers streamed
 * through the banks (BWAIT / WRITE / BPOST on the host, BANK acquire /
 * release in the program), bit for bit as the host's integer forward
 * (NNF_FWD_INT) and as the same network resident on a device with a larger
 * W; spiking networks by their spike counts against the resident run.
 *
 * - MLPs 784-512-256-10 and 784-128-10, several chunks a pass, over several
 *   device batches with a shorter last one, on devices with W shrunk to a
 *   quarter of the model and less (one program copy when two do not fit);
 * - a CNN: a packed first conv, a conv with its max pooling fused, the
 *   Flatten + dense that runs as a CONV over the map, streamed by N tiles;
 * - ragged shapes (K and N not multiples of the array), a LUT activation
 *   (sigmoid) in a streamed layer, a layer kept resident beside streamed ones;
 * - a 784-384-10 spiking network with static input (its first layer runs
 *   once, before the steps, and is streamed);
 * - the refusals, with their messages: no banks, a tile larger than any
 *   bank could be, rate-coded spiking input (its layers run every step).
 *
 * usage: test_stream_device [DEVICE]   (model URIs by default: the RTL
 * through `sim` and a board configuration's, `sim:board=ulx3s`, run the
 * MLP and SNN cases (and `sim` the CNN) with DEVICE as the streaming device)
 */
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnf_test_device.h"
#include "nnfdrv.h"

static float *inputs(int count, int width, uint64_t seed) {
  float *x = malloc((size_t)count * width * sizeof(float));
  nnf_rng r = nnf_rng_seed(seed);
  for (size_t i = 0; i < (size_t)count * width; i++) x[i] = (float)(nnf_rng_u32(&r) % 1001) / 1000.0f;
  return x;
}

static nnf_device *open_dev(const char *uri) {
  char err[512] = "";
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  nnf_test_ctx("open %s: %s", uri, err);
  CHECK(d != NULL);
  return d;
}

/* arch over `width` features: the device's int8 outputs of every layer and
 * its logits equal the host's INT forward; the load streams `want_streamed`
 * layers in at least `min_chunks` chunks (0: resident). */
/* With inference_only: only the outputs come back (nnf_device_set_outputs_only:
 * then a conv may run its MaxPool2d(2) fused) and only they are compared. */
static int inference_only;

static void same_as_host_map(const char *arch, int c, int h, int w, const char *uri, int count, int max_batch,
                             int want_streamed, int min_chunks, uint64_t seed) {
  char err[512] = "";
  nnf_net *n = nnf_test_device_net(arch, c, h, w, seed);
  const int width = h ? c * h * w : c;
  int L = n->nlayers, C = nnf_net_outputs(n);
  float *x = inputs(count, width, seed + 3);
  nnf_test_device_quantize(n, x, count);
  int8_t *host[NNF_MAX_LAYERS + 1];
  float *logits = nnf_test_device_host_int(n, x, count, host);
  nnf_device *d = open_dev(uri);
  nnf_device_set_outputs_only(d, inference_only);
  int rc = nnf_device_load(d, n, max_batch, err, sizeof err);
  nnf_test_ctx("%s on %s: load: %s", arch, uri, err);
  CHECK_OK(rc);
  nnf_device_memory m;
  CHECK_OK(nnf_device_memory_get(d, &m));
  nnf_test_ctx("%s on %s: %d layers streamed in %d chunks (want %d, >= %d)", arch, uri, m.streamed_layers, m.chunks,
               want_streamed, min_chunks);
  if (want_streamed >= 0) CHECK_EQ(m.streamed_layers, want_streamed);
  else CHECK(m.streamed_layers >= -want_streamed);
  CHECK(m.chunks >= min_chunks && (m.chunks > 0) == (want_streamed != 0));
  for (int i = 1; i <= L; i++) memset(n->t[i].q, 0x5a, (size_t)count * n->t[i].width);
  rc = nnf_device_forward(d, n, x, count, err, sizeof err);
  nnf_test_ctx("%s on %s: forward: %s", arch, uri, err);
  CHECK_OK(rc);
  if (inference_only) CHECK(nnf_device_pools_fused(d) > 0);
  for (int i = inference_only ? L - 1 : 0; i < L; i++) {
    nnf_layer *l = n->layer[i];
    if (!l->ops->plan || l->fused) continue;
    nnf_test_ctx("%s on %s: layer %d (%s) outputs, device vs host INT", arch, uri, i, l->ops->kind);
    CHECK_MEM_EQ(n->t[i + 1].q, host[i + 1], (size_t)count * n->t[i + 1].width);
  }
  nnf_test_ctx("%s on %s: logits", arch, uri);
  CHECK_MEM_EQ(n->logits, logits, (size_t)count * C * sizeof(float));
  printf("%s on %s: batch %d, %d layer(s) streamed in %d chunks of <= %u W words, %llu bytes a pass, "
         "%llu resident; %d program cop%s: equal\n",
         arch, uri, m.batch, m.streamed_layers, m.chunks, m.bank_words, (unsigned long long)m.streamed_bytes,
         (unsigned long long)m.resident_w_bytes, m.copies, m.copies == 1 ? "y" : "ies");
  nnf_test_device_ran(d, host[L], (size_t)count * C, (uint64_t)count);
  nnf_test_device_host_free(host, logits);
  free(x);
  nnf_net_free(n);
}

static void same_as_host(const char *arch, int width, const char *uri, int count, int max_batch, int want_streamed,
                         int min_chunks, uint64_t seed) {
  same_as_host_map(arch, width, 0, 0, uri, count, max_batch, want_streamed, min_chunks, seed);
}

/* A spiking network's spike counts on `uri` (streamed) and on `resident`. */
static void snn_same(const int *sizes, int ns, nnf_encoding enc, const char *uri, const char *resident, int count,
                     int max_batch) {
  char err[512] = "";
  nnf_snn_config c = nnf_snn_defaults();
  c.steps = 6;
  c.encoding = enc;
  nnf_net *n = nnf_snn_create(sizes, ns, &c, 4, err, sizeof err);
  CHECK(n != NULL);
  float *x = inputs(count, sizes[0], 17);
  CHECK_OK(nnf_net_calibrate(n, x, count, err, sizeof err));
  const size_t nc = (size_t)count * sizes[ns - 1];
  int32_t *counts[2];
  const char *uris[2] = {resident, uri};
  for (int k = 0; k < 2; k++) {
    nnf_device *d = open_dev(uris[k]);
    int rc = nnf_device_load(d, n, max_batch, err, sizeof err);
    nnf_test_ctx("snn on %s: load: %s", uris[k], err);
    CHECK_OK(rc);
    nnf_device_memory m;
    CHECK_OK(nnf_device_memory_get(d, &m));
    nnf_test_ctx("snn on %s: %d layers streamed, %d chunks", uris[k], m.streamed_layers, m.chunks);
    CHECK(k == 0 ? m.chunks == 0 : m.streamed_layers == 1 && m.chunks > 1);
    rc = nnf_device_forward(d, n, x, count, err, sizeof err);
    nnf_test_ctx("snn on %s: forward: %s", uris[k], err);
    CHECK_OK(rc);
    counts[k] = malloc(nc * sizeof(int32_t));
    memcpy(counts[k], nnf_net_counts(n), nc * sizeof(int32_t));
    if (k == 1)
      printf("snn %d-%d-%d on %s: %d chunks of <= %u W words: spike counts equal to %s's\n", sizes[0], sizes[1],
             sizes[2], uri, m.chunks, m.bank_words, resident);
    nnf_device_close(d);
  }
  nnf_test_ctx("snn: spike counts, streamed vs resident");
  CHECK_MEM_EQ(counts[1], counts[0], nc * sizeof(int32_t));
  int64_t total = 0;
  for (size_t i = 0; i < nc; i++) total += counts[0][i];
  CHECK(total > 0);
  free(counts[0]);
  free(counts[1]);
  free(x);
  nnf_net_free(n);
}

static void refused(const char *arch, int width, const char *uri, const char *want) {
  nnf_net *n = nnf_test_device_net(arch, width, 0, 0, 5);
  float *x = inputs(4, width, 3);
  nnf_test_device_quantize(n, x, 4);
  nnf_test_device_refused(n, arch, uri, 16, want);
  free(x);
  nnf_net_free(n);
}

int main(int argc, char **argv) {
  const char *dev = argc > 1 ? argv[1] : NULL;
  /* 784-512-256-10 is 67,072 W words at 8 x 8 (its first layer 50,176):
   * the simulator's W (32,768) streams the first layer, a W of 16,384 both */
  const char *mlp3 = "dense(512),relu,dense(256),relu,dense(10)";
  same_as_host(mlp3, 784, "model:w_words=131072,banks=4", 150, 64, 0, 0, 1);
  same_as_host(mlp3, 784, dev ? dev : "model:banks=4", 150, 64, dev && strcmp(dev, "sim") ? 2 : 1, 4, 1);
  if (!dev) same_as_host(mlp3, 784, "model:banks=4,w_words=16384", 150, 64, 2, 4, 1);
  if (!dev) {
    same_as_host(mlp3, 784, "model:banks=4,w_words=8192", 70, 32, 2, 8, 2);
    /* ragged K and N, a sigmoid's LUT in a streamed layer, a small layer kept resident */
    same_as_host("dense(90),sigmoid,dense(37),relu,dense(5)", 101, "model:banks=2,w_words=512,p_words=16", 45, 16, 2,
                 4, 3);
    same_as_host("dense(128),relu,dense(10)", 784, "model:banks=4,w_words=4096", 40, 64, 1, 4, 4);
    /* many chunks: through a LOOP (FEAT_REL), or unrolled in one program copy without it (rel=0) */
    same_as_host("dense(300),relu,dense(10)", 784, "model:banks=2,w_words=4096,act_words=4096", 20, 8, 1, 16, 5);
    same_as_host("dense(300),relu,dense(10)", 784, "model:banks=2,w_words=4096,act_words=4096,rel=0", 20, 8, 1, 16, 5);
  }
  /* CNNs: convs (a packed first one, one with its 2x2 max pooling fused)
   * and the Flatten + dense that runs as a CONV over the whole map (its
   * 3136 x 128 weights, 50,176 W words at 8 x 8, over the simulator's W) */
  const char *cnn = "conv(16,5,pad=2),relu,maxpool(2),conv(64,3,pad=1),relu,maxpool(2),flatten,dense(128),relu,dense(10)";
  same_as_host_map(cnn, 1, 28, 28, "model:w_words=65536,banks=4", 40, 16, 0, 0, 6);
  if (!dev || !strcmp(dev, "sim")) /* (a board's ACT does not hold these maps) */
    same_as_host_map(cnn, 1, 28, 28, dev ? dev : "model:banks=4", 40, 16, -1, 2, 6);
  if (!dev) {
    same_as_host_map(cnn, 1, 28, 28, "model:banks=4,w_words=8192", 40, 16, 1, 6, 6);
    /* the convs themselves streamed: one packed with its pooling fused, and
     * two 3x3 convs (through the LOOP of chunk pairs, and unrolled) */
    same_as_host_map("conv(64,5,pad=2),relu,maxpool(2),gap,flatten,dense(10)", 3, 8, 8, "model:banks=4,w_words=256", 30,
                     16, 2, 8, 7);
    inference_only = 1;
    same_as_host_map("conv(64,5,pad=2),relu,maxpool(2),gap,flatten,dense(10)", 3, 8, 8, "model:banks=4,w_words=256", 30,
                     16, 2, 8, 7);
    inference_only = 0;
    const char *convs = "conv(64,3,pad=1),relu,conv(64,3,pad=1),relu,gap,flatten,dense(10)";
    same_as_host_map(convs, 16, 8, 8, "model:banks=4,w_words=2048", 30, 16, 2, 8, 8);
    same_as_host_map(convs, 16, 8, 8, "model:banks=4,w_words=2048,rel=0", 30, 16, 2, 8, 8);
  }
  const int snn[3] = {784, 384, 10}; /* its first layer 37,632 W words: over the simulator's W */
  snn_same(snn, 3, NNF_ENC_DIRECT, dev ? dev : "model:banks=4", "model:w_words=65536", 20, 8);
  if (!dev) {
    refused(mlp3, 784, "model:banks=0", "and no banks to stream them through");
    refused("dense(64),relu,dense(10)", 4000, "model:banks=4,w_words=512", "needs two banks of at least");
    nnf_snn_config c = nnf_snn_defaults();
    c.steps = 4;
    c.encoding = NNF_ENC_RATE;
    char err[512] = "";
    nnf_net *n = nnf_snn_create(snn, 3, &c, 4, err, sizeof err);
    CHECK(n != NULL);
    float *x = inputs(4, 784, 9);
    CHECK_OK(nnf_net_calibrate(n, x, 4, err, sizeof err));
    nnf_device *d = open_dev("model:banks=4");
    CHECK(nnf_device_load(d, n, 4, err, sizeof err) != 0);
    nnf_test_ctx("rate-coded snn refused with \"%s\"", err);
    CHECK(strstr(err, "the weights need 38400 W words; device model:banks=4 has 32768 (a spiking network streams only") != NULL);
    printf("refused: %s\n", err);
    nnf_device_close(d);
    free(x);
    nnf_net_free(n);
  }
  return nnf_test_done(argv[0]);
}
