/*
 * test_cnn_device.c - CNNs of the layer stack compiled for a device
 * (nnf_device.c through the layers' plan / pack / emit hooks: CONV for
 * Conv2d and for a dense layer after a flattened map, POOL for the pools)
 * and run on the driver's `model` backend, every int8 value the device
 * returns (each layer's outputs, the logits) bit for bit against the host's
 * integer forward (NNF_FWD_INT, the model's nnfm_conv2d_ref / pools), over
 * several chunks with a shorter last one. Then the refusals, with their
 * exact messages: a device without FEAT_CONV (`model:conv=0`, which still
 * runs an MLP), a map the walk's 16-bit counters cannot take, maps that do
 * not fit ACT, a flattened map too large for a whole-map kernel.
 *
 * PACK (docs/conv.md): first layers over 1 or 3 channels (kernels 2..7,
 * strides 1..2, padding) with packing allowed and off (nnf_device_set_pack),
 * both bit for bit against NNF_FWD_INT, the program read back holding PACK
 * + the KH x 1 CONV in each copy, fewer link bytes in, the same MACs; and
 * first layers that must not pack (a 1 x 1 kernel, 9 channels, no K tile
 * saved, a padding-only output column): no PACK, the same bytes. On a
 * device without FEAT_PACK (today's RTL) nothing packs.
 *
 * Fused 2x2 max pooling (docs/conv.md): CNNs with conv (+ ReLU) +
 * MaxPool2d(2), packed first layers among them, with the fusion on and off
 * (nnf_device_set_fuse_pool), outputs and logits bit for bit against
 * NNF_FWD_INT, the programs shorter by the fused POOLs (fuse_case).
 *
 * Then 40 random architectures (random_arch) the same way (those whose
 * first conv qualifies pack).
 *
 * usage: test_cnn_device [seed [random networks [device URI]]]
 * (the device: `model` by default; `sim`, the Verilated RTL, for rtl_cnn_device)
 */
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnf_test_device.h"
#include "nnfdrv.h"

static const char *dev_uri = "model"; /* where the CNNs run */

static float *inputs(int count, int width, uint64_t seed) {
  float *x = malloc((size_t)count * width * sizeof(float));
  nnf_rng r = nnf_rng_seed(seed);
  for (size_t i = 0; i < (size_t)count * width; i++) x[i] = (float)(nnf_rng_u32(&r) % 2001) / 1000.0f - 0.6f;
  return x;
}

static nnf_net *build(const char *arch, int c, int h, int w, uint64_t seed) {
  return nnf_test_device_net(arch, c, h, w, seed);
}

/* Observe x, quantize, the host's INT forward: every boundary's int8
 * values into host[1..L] (malloc'd). */
static void host_int(nnf_net *n, const float *x, int count, int8_t **host) {
  char err[512];
  CHECK_OK(nnf_net_observe(n, x, count, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, count, err, sizeof err));
  for (int i = 1; i <= n->nlayers; i++) {
    size_t cnt = (size_t)count * n->t[i].width;
    host[i] = malloc(cnt);
    memcpy(host[i], n->t[i].q, cnt);
  }
}

/* The device's forward of x (after scribbling over the boundaries): every
 * planned layer's int8 outputs equal host's. Returns the values compared. */
static size_t device_equals_host(const char *what, nnf_device *d, nnf_net *n, const float *x, int count,
                                 int8_t *const *host) {
  char err[512] = "";
  for (int i = 1; i <= n->nlayers; i++) memset(n->t[i].q, 0x5a, (size_t)count * n->t[i].width);
  nnf_test_ctx("%s: forward", what);
  CHECK_OK(nnf_device_forward(d, n, x, count, err, sizeof err));
  nnf_test_ctx("%s: forward: %s", what, err);
  size_t compared = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    if (!l->ops->plan || l->fused) continue; /* what the device wrote: each planned layer's output */
    nnf_test_ctx("%s: layer %d (%s) outputs, device vs host INT", what, i, l->ops->kind);
    CHECK_MEM_EQ(n->t[i + 1].q, host[i + 1], (size_t)count * n->t[i + 1].width);
    compared += (size_t)count * n->t[i + 1].width;
  }
  return compared;
}

/* Observe, quantize; host INT forward; the device's; every planned layer's
 * int8 outputs and the logits equal. Returns the number of values compared. */
static uint64_t last_bytes_in; /* link bytes the last same_on_device's device took in */

static size_t same_on_device(const char *arch, int c, int h, int w, int count, int max_batch, uint64_t seed) {
  char err[512];
  nnf_net *n = build(arch, c, h, w, seed);
  int K = nnf_net_inputs(n), L = n->nlayers;
  float *x = inputs(count, K, seed * 7 + 1);
  int8_t *host[NNF_MAX_LAYERS + 1] = {0};
  host_int(n, x, count, host);
  float *logits = malloc((size_t)count * nnf_net_outputs(n) * sizeof(float));
  memcpy(logits, n->logits, (size_t)count * nnf_net_outputs(n) * sizeof(float));
  nnf_device *d = nnf_device_open(dev_uri, err, sizeof err);
  nnf_test_ctx("%s: open %s: %s", arch, dev_uri, err);
  CHECK(d != NULL);
  CHECK_OK(nnf_device_load(d, n, max_batch, err, sizeof err));
  size_t compared = device_equals_host(arch, d, n, x, count, host);
  nnf_test_ctx("%s: logits", arch);
  CHECK_MEM_EQ(n->t[L].q, host[L], (size_t)count * nnf_net_outputs(n));
  CHECK_MEM_EQ(n->logits, logits, (size_t)count * nnf_net_outputs(n) * sizeof(float));
  last_bytes_in = nnf_test_device_ran(d, host[L], (size_t)count * nnf_net_outputs(n), (uint64_t)count);
  for (int i = 1; i <= L; i++) free(host[i]);
  free(logits);
  free(x);
  nnf_net_free(n);
  printf("%s on %d x %d x %d: %zu int8 values equal\n", arch, c, h, w, compared);
  return compared;
}

/* The device of dev_uri, its driver and INFO. */
static nnf_device *open_dev(const char *arch, nnfdrv **drv, const nnfdrv_info **in) {
  char err[512] = "";
  nnf_device *d = nnf_device_open(dev_uri, err, sizeof err);
  nnf_test_ctx("%s: open %s: %s", arch, dev_uri, err);
  CHECK(d != NULL);
  *drv = nnf_device_driver(d);
  *in = nnfdrv_get_info(*drv);
  return d;
}

/* The depthwise unit (docs/conv.md "The depthwise unit"): a 3x3 depthwise
 * conv runs as one DWCONV of all its channels where the device reports
 * FEAT_DW, and as diagonal CONVs (one a channel tile) where it does not; a
 * 5x5 one (over the unit's kernels) and one with a LUT after it (tanh)
 * stay diagonal CONVs either way. Outputs bit for bit the host's on `uri`
 * and, on the model, also without the unit (model:dw=0); the program read
 * back names the instructions. */
static void dw_case(const char *uri, uint64_t seed) {
  const char *arch = "conv(12,3,pad=1),relu,dwconv(3,pad=1),relu6,dwconv(5,stride=2,pad=2),relu,"
                     "dwconv(3,stride=2,pad=1),tanh,gap,flatten,dense(3)";
  const int c = 3, h = 11, w = 11, count = 5;
  char err[512];
  nnf_net *n = build(arch, c, h, w, seed);
  int K = nnf_net_inputs(n), L = n->nlayers;
  float *x = inputs(count, K, seed * 7 + 1);
  int8_t *host[NNF_MAX_LAYERS + 1] = {0};
  host_int(n, x, count, host);
  const char *saved = dev_uri;
  dev_uri = uri;
  nnfdrv *drv;
  const nnfdrv_info *in;
  nnf_device *d = open_dev(arch, &drv, &in);
  const int unit = (in->features & NNFP_FEAT_DW) != 0;
  nnf_test_ctx("%s on %s: load: %s", arch, uri, err);
  CHECK_OK(nnf_device_load(d, n, 4, err, sizeof err));
  size_t plen = (size_t)in->prog_words * NNFP_INSN_BYTES;
  uint8_t *prog = malloc(plen);
  CHECK(prog != NULL);
  CHECK_EQ(nnfdrv_read(drv, NNFDRV_PROG, 0, prog, plen), NNFDRV_OK);
  int dws = 0, diag3 = 0, diag5 = 0, ends = 0;
  for (size_t i = 0; i < in->prog_words && ends < 2; i++) { /* the two program copies */
    const uint8_t *k = prog + i * NNFP_INSN_BYTES;
    if (k[0] == NNFP_OP_END) ends++;
    if (k[0] == NNFP_OP_DWCONV) {
      dws++;
      CHECK_EQ(nnfp_dwconv_get_c(k), 12u);
      CHECK_EQ(nnfp_dwconv_get_n(k), 12u);
      CHECK_EQ(nnfp_dwconv_get_kh(k), 3u);
      CHECK_EQ(nnfp_dwconv_get_sh_m1(k), 0u); /* the stride-1 one: the other has the LUT */
    }
    /* a diagonal CONV: its tile's channels in and out, at most a tile */
    if (k[0] == NNFP_OP_CONV && nnfp_conv_get_cin(k) == nnfp_conv_get_n(k) && nnfp_conv_get_cin(k) <= in->rows &&
        nnfp_conv_get_kh(k) != 1) {
      if (nnfp_conv_get_kh(k) == 5) diag5++;
      else if (nnfp_conv_get_kh(k) == 3) diag3++;
    }
  }
  const int tiles = (12 + in->rows - 1) / in->rows;
  nnf_test_ctx("%s on %s (FEAT_DW %d): %d DWCONVs, %d + %d diagonal CONVs", arch, uri, unit, dws, diag3, diag5);
  CHECK_EQ(dws, unit ? 2 : 0);           /* one a program copy */
  CHECK_EQ(diag5, 2 * tiles);            /* the 5x5: one a tile, each copy */
  CHECK_EQ(diag3, (unit ? 2 : 4) * tiles); /* the 3x3 with the LUT; without the unit the other too */
  free(prog);
  char what[600];
  snprintf(what, sizeof what, "%s on %s", arch, uri);
  device_equals_host(what, d, n, x, count, host);
  nnf_device_close(d);
  dev_uri = saved;
  for (int i = 1; i <= L; i++) free(host[i]);
  free(x);
  nnf_net_free(n);
}

/* PACK (docs/conv.md): the CNN on the device with packing allowed and with
 * it off (nnf_device_set_pack, the CLI's --no-pack), each time every
 * planned layer's int8 outputs bit for bit against the host's INT forward;
 * then the program read back: with packing (expected when the device
 * reports FEAT_PACK and `packs`), each copy holds a PACK of the input
 * (Cin = c, h x w) followed by the KH x 1 CONV of KW*c channels over its
 * output, and the link carried fewer bytes in (at least half of the
 * H*W*(rows - c) bytes an image packing saves, less the longer program);
 * without, no PACK and exactly the same bytes. The MACs are the same
 * either way. */
static void pack_case(const char *arch, int c, int h, int w, int count, int max_batch, uint64_t seed, int packs) {
  char err[512];
  nnf_net *n = build(arch, c, h, w, seed);
  int K = nnf_net_inputs(n), L = n->nlayers;
  float *x = inputs(count, K, seed * 7 + 1);
  int8_t *host[NNF_MAX_LAYERS + 1] = {0};
  host_int(n, x, count, host);
  uint64_t bytes_in[2] = {0, 0}, macs[2] = {0, 0};
  int rows = 0, packed = 0;
  for (int pack = 0; pack < 2; pack++) {
    nnfdrv *drv;
    const nnfdrv_info *in;
    nnf_device *d = open_dev(arch, &drv, &in);
    const int want = pack && packs && (in->features & NNFP_FEAT_PACK);
    rows = in->rows;
    if (pack) packed = want;
    nnf_device_set_pack(d, pack);
    nnf_test_ctx("%s, pack %d: load: %s", arch, pack, err);
    CHECK_OK(nnf_device_load(d, n, max_batch, err, sizeof err));
    CHECK_EQ(nnf_device_packed(d), want);
    /* the program as the device holds it */
    size_t plen = (size_t)in->prog_words * NNFP_INSN_BYTES;
    uint8_t *prog = malloc(plen);
    CHECK_EQ(nnfdrv_read(drv, NNFDRV_PROG, 0, prog, plen), NNFDRV_OK);
    int seen = 0;
    for (size_t i = 0; i + 1 < in->prog_words; i++) {
      const uint8_t *k = prog + i * NNFP_INSN_BYTES, *cv = k + NNFP_INSN_BYTES;
      if (k[0] != NNFP_OP_PACK) continue;
      seen++;
      nnf_test_ctx("%s: the PACK at %zu and the CONV after it", arch, i);
      CHECK_EQ(nnfp_pack_get_cin(k), (uint32_t)c);
      CHECK_EQ(nnfp_pack_get_h_m1(k) + 1, (uint32_t)h);
      CHECK_EQ(nnfp_pack_get_w_m1(k) + 1, (uint32_t)w);
      CHECK_EQ(cv[0], NNFP_OP_CONV);
      CHECK_EQ(nnfp_conv_get_cin(cv), nnfp_pack_get_kw(k) * (uint32_t)c);
      CHECK_EQ(nnfp_conv_get_kh(cv), nnfp_pack_get_kw(k));
      CHECK_EQ(nnfp_conv_get_kw(cv), 1);
      CHECK_EQ(nnfp_conv_get_sw_m1(cv), 0);
      CHECK_EQ(nnfp_conv_get_pw(cv), 0);
      CHECK_EQ(nnfp_conv_get_a_base(cv), nnfp_pack_get_o_base(k));
    }
    nnf_test_ctx("%s, pack %d: PACK instructions in the program", arch, pack);
    CHECK_EQ(seen, want ? 2 : 0); /* one per program copy (input buffer) */
    free(prog);
    CHECK_OK(nnf_device_reset_counters(d, err, sizeof err));
    char what[600];
    snprintf(what, sizeof what, "%s, pack %d", arch, pack);
    device_equals_host(what, d, n, x, count, host);
    nnf_device_figures f;
    CHECK_OK(nnf_device_figures_get(d, &f, err, sizeof err));
    bytes_in[pack] = f.bytes_in, macs[pack] = f.macs;
    nnf_device_close(d);
  }
  nnf_test_ctx("%s: link bytes in %llu packed, %llu not", arch, (unsigned long long)bytes_in[1],
               (unsigned long long)bytes_in[0]);
  CHECK_EQ_U64(macs[1], macs[0]);
  CHECK(macs[0] > 0);
  /* the program, rewritten for a shorter last chunk, is 2 PACKs longer:
   * at most 160 bytes (two writes, frames included) */
  if (packed) CHECK(bytes_in[1] + (uint64_t)count * h * w * (uint64_t)(rows - c) / 2 <= bytes_in[0] + 160);
  else CHECK_EQ_U64(bytes_in[1], bytes_in[0]);
  printf("%s on %d x %d x %d: packed %s, link bytes in %.1f an image (%.1f unpacked)\n", arch, c, h, w,
         packed ? "yes" : "no", (double)bytes_in[1] / count, (double)bytes_in[0] / count);
  for (int i = 1; i <= L; i++) free(host[i]);
  free(x);
  nnf_net_free(n);
}

/* Fused 2x2 max pooling (docs/conv.md): the CNN on the device, outputs
 * only (what eval and infer read back), with the fusion allowed and off
 * (nnf_device_set_fuse_pool, the CLI's --no-fuse-pool), and with PACK
 * allowed or not: the network's int8 outputs and logits bit for bit
 * against the host's INT forward (conv, then the pool) every time; with the
 * fusion (expected when the device reports FEAT_CONV_POOL) `fused` pools
 * run inside their convs: each program copy holds `fused` CONVs with pool2
 * and `fused` POOLs fewer, the other instructions the same; the MACs no
 * more (fewer when a map's odd row or column is dropped), the batch the
 * plan fits no smaller. fused < 0: whatever the host decides (0 or more),
 * still bit for bit. Then with every boundary read back (training's mode)
 * the fusion is off, and every planned layer's outputs equal the host's.
 * Skipped on a device without FEAT_CONV_POOL. */
static void fuse_case(const char *arch, int c, int h, int w, int count, int max_batch, uint64_t seed, int fused) {
  char err[512];
  {
    /* a device without FEAT_CONV_POOL (today's RTL) compiles as before:
     * the other cases cover it */
    nnfdrv *drv;
    const nnfdrv_info *in;
    nnf_device *d = open_dev(arch, &drv, &in);
    const int has = (in->features & NNFP_FEAT_CONV_POOL) != 0;
    nnf_device_close(d);
    if (!has) {
      printf("%s: skipped (device %s lacks FEAT_CONV_POOL)\n", arch, dev_uri);
      return;
    }
  }
  nnf_net *n = build(arch, c, h, w, seed);
  int K = nnf_net_inputs(n), L = n->nlayers, O = nnf_net_outputs(n);
  float *x = inputs(count, K, seed * 7 + 1);
  int8_t *host[NNF_MAX_LAYERS + 1] = {0};
  host_int(n, x, count, host);
  float *logits = malloc((size_t)count * O * sizeof(float));
  memcpy(logits, n->logits, (size_t)count * O * sizeof(float));
  int insns[2][2][3] = {{{0}}}; /* [pack][fuse]: CONV with pool2, POOL, all but END */
  uint64_t macs[2][2] = {{0}};
  int batch[2][2] = {{0}}, got_fused = 0;
  for (int pack = 0; pack < 2; pack++)
    for (int fuse = 0; fuse < 2; fuse++) {
      nnfdrv *drv;
      const nnfdrv_info *in;
      nnf_device *d = open_dev(arch, &drv, &in);
      const int can = fuse && (in->features & NNFP_FEAT_CONV_POOL);
      nnf_device_set_pack(d, pack);
      nnf_device_set_fuse_pool(d, fuse);
      nnf_device_set_outputs_only(d, 1);
      nnf_test_ctx("%s, pack %d, fuse %d: load: %s", arch, pack, fuse, err);
      CHECK_OK(nnf_device_load(d, n, max_batch, err, sizeof err));
      const int k = nnf_device_pools_fused(d);
      if (fused >= 0) CHECK_EQ(k, can ? fused : 0);
      else if (!can) CHECK_EQ(k, 0);
      if (fuse) got_fused = k;
      batch[pack][fuse] = nnf_device_batch(d);
      size_t plen = (size_t)in->prog_words * NNFP_INSN_BYTES;
      uint8_t *prog = malloc(plen);
      CHECK_EQ(nnfdrv_read(drv, NNFDRV_PROG, 0, prog, plen), NNFDRV_OK);
      for (size_t i = 0; i < in->prog_words; i++) {
        const uint8_t *q = prog + i * NNFP_INSN_BYTES;
        insns[pack][fuse][0] += q[0] == NNFP_OP_CONV && nnfp_conv_get_pool2(q);
        insns[pack][fuse][1] += q[0] == NNFP_OP_POOL;
        insns[pack][fuse][2] += q[0] != NNFP_OP_END;
      }
      free(prog);
      nnf_test_ctx("%s, pack %d, fuse %d: %d pools fused, instructions", arch, pack, fuse, k);
      CHECK_EQ(insns[pack][fuse][0], 2 * k); /* one per program copy */
      CHECK_OK(nnf_device_reset_counters(d, err, sizeof err));
      memset(n->t[L].q, 0x5a, (size_t)count * n->t[L].width);
      nnf_test_ctx("%s, pack %d, fuse %d: forward", arch, pack, fuse);
      CHECK_OK(nnf_device_forward(d, n, x, count, err, sizeof err));
      nnf_test_ctx("%s, pack %d, fuse %d: outputs, device vs host INT", arch, pack, fuse);
      CHECK_MEM_EQ(n->t[L].q, host[L], (size_t)count * n->t[L].width);
      CHECK_MEM_EQ(n->logits, logits, (size_t)count * O * sizeof(float));
      nnf_device_figures f;
      CHECK_OK(nnf_device_figures_get(d, &f, err, sizeof err));
      macs[pack][fuse] = f.macs;
      nnf_device_close(d);
    }
  for (int pack = 0; pack < 2; pack++) {
    nnf_test_ctx("%s, pack %d: fused vs not: %d fused", arch, pack, got_fused);
    const int k = insns[pack][1][0] / 2;
    CHECK_EQ(insns[pack][1][1], insns[pack][0][1] - 2 * k);
    CHECK_EQ(insns[pack][1][2], insns[pack][0][2] - 2 * k);
    CHECK_EQ(insns[pack][0][0], 0);
    CHECK(macs[pack][1] <= macs[pack][0] && macs[pack][1] > 0);
    if (!k) CHECK_EQ_U64(macs[pack][1], macs[pack][0]);
    CHECK(batch[pack][1] >= batch[pack][0]);
  }
  /* every boundary read back: no fusion, every planned layer as the host's */
  {
    nnf_device *d = nnf_device_open(dev_uri, err, sizeof err);
    CHECK(d != NULL);
    CHECK_OK(nnf_device_load(d, n, max_batch, err, sizeof err));
    CHECK_EQ(nnf_device_pools_fused(d), 0);
    char what[600];
    snprintf(what, sizeof what, "%s, every boundary", arch);
    device_equals_host(what, d, n, x, count, host);
    nnf_device_close(d);
  }
  printf("%s on %d x %d x %d: %d pools fused, %d instructions a copy (%d unfused), MACs %llu (%llu), batch %d (%d)\n",
         arch, c, h, w, got_fused, insns[1][1][2] / 2, insns[1][0][2] / 2, (unsigned long long)macs[1][1],
         (unsigned long long)macs[1][0], batch[1][1], batch[1][0]);
  for (int i = 1; i <= L; i++) free(host[i]);
  free(logits);
  free(x);
  nnf_net_free(n);
}

/* A random CNN of seed r: 1..3 blocks of conv (kernel 1..5, stride 1..2,
 * padding up to k/2+1, 1..13 channels, with or without bias; or the same
 * per axis, or depthwise, or after a ZeroPad2d of up to one row and column
 * after the map) followed by
 * nothing, ReLU or ReLU6, maybe a residual join (Add) around a depthwise
 * conv or a 3x3 conv with a 1x1 conv shortcut, and maybe a max / average pool (padding up to
 * k/2, stride 1..k) or a ReLU after it; then global pooling or not,
 * flatten, and one or two dense layers. Written in the --arch grammar;
 * shapes that do not compose are drawn again. */
/* The items of an --arch text so far. */
static int items(const char *a) {
  int k = *a ? 1 : 0, depth = 0;
  for (; *a; a++) {
    depth += *a == '(' ? 1 : *a == ')' ? -1 : 0;
    k += *a == ',' && !depth;
  }
  return k;
}

static int random_arch(nnf_rng *r, char *buf, size_t len, int c, int h, int w) {
  static const char *const acts[] = {"", ",relu", ",relu6"};
  size_t u = 0;
  int blocks = 1 + (int)nnf_rng_range(r, 0, 2);
  buf[0] = 0;
  for (int b = 0; b < blocks; b++) {
    int k = 1 + (int)nnf_rng_range(r, 0, 4), st = 1 + (int)nnf_rng_range(r, 0, 1), pd = (int)nnf_rng_range(r, 0, k / 2 + 1);
    /* the conv: square, rectangular (kernel, stride, padding per axis),
     * depthwise, or after a ZeroPad2d of one row / column after the map */
    const int form = (int)nnf_rng_range(r, 0, 5);
    if (form == 4)
      u += (size_t)snprintf(buf + u, len - u, "%szeropad(0,%d,0,%d)", b ? "," : "", (int)nnf_rng_range(r, 0, 1),
                            (int)nnf_rng_range(r, 0, 1));
    if (form == 3)
      u += (size_t)snprintf(buf + u, len - u, "%sdwconv(%d,stride=%d,pad=%d,bias=%d)%s", b ? "," : "", k, st, pd,
                            (int)nnf_rng_range(r, 0, 1), acts[nnf_rng_range(r, 0, 2)]);
    else if (form == 2) {
      int kw = 1 + (int)nnf_rng_range(r, 0, 4);
      u += (size_t)snprintf(buf + u, len - u, "%sconv(%d,kh=%d,kw=%d,sh=%d,sw=%d,ph=%d,pw=%d)%s", b ? "," : "",
                            1 + (int)nnf_rng_range(r, 0, 12), k, kw, st, 1 + (int)nnf_rng_range(r, 0, 1), pd,
                            (int)nnf_rng_range(r, 0, kw / 2 + 1), acts[nnf_rng_range(r, 0, 2)]);
    } else
      u += (size_t)snprintf(buf + u, len - u, "%sconv(%d,%d,stride=%d,pad=%d,bias=%d)%s",
                            b || form == 4 ? "," : "", 1 + (int)nnf_rng_range(r, 0, 12), k, st, pd,
                            (int)nnf_rng_range(r, 0, 1), acts[nnf_rng_range(r, 0, 2)]);
    /* a residual join after the block: the identity around a depthwise
     * conv, or a 1x1 conv shortcut around a 3x3 conv (ResNet's) */
    const int res = (int)nnf_rng_range(r, 0, 3), K = items(buf) - 1;
    if (res == 1)
      u += (size_t)snprintf(buf + u, len - u, ",dwconv(3,pad=1)%s,add(%d)%s", acts[nnf_rng_range(r, 0, 2)], K,
                            acts[nnf_rng_range(r, 0, 2)]);
    else if (res == 2) {
      int c2 = 1 + (int)nnf_rng_range(r, 0, 12);
      u += (size_t)snprintf(buf + u, len - u, ",conv(%d,3,pad=1),relu,conv(%d,1,from=%d),add(%d)%s", c2, c2, K, K + 2,
                            acts[nnf_rng_range(r, 0, 2)]);
    }
    if (nnf_rng_range(r, 0, 2)) {
      int pk = 2 + (int)nnf_rng_range(r, 0, 1);
      u += (size_t)snprintf(buf + u, len - u, ",%s(%d,stride=%d,pad=%d)%s", nnf_rng_range(r, 0, 1) ? "maxpool" : "avgpool",
                            pk, 1 + (int)nnf_rng_range(r, 0, pk - 1), (int)nnf_rng_range(r, 0, pk / 2),
                            nnf_rng_range(r, 0, 2) ? "" : ",relu");
    }
  }
  u += (size_t)snprintf(buf + u, len - u, "%s,flatten,dense(%d)", nnf_rng_range(r, 0, 3) ? "" : ",gap",
                        2 + (int)nnf_rng_range(r, 0, 8));
  if (nnf_rng_range(r, 0, 1)) snprintf(buf + u, len - u, ",relu,dense(%d)", 2 + (int)nnf_rng_range(r, 0, 5));
  char err[512];
  int shape[3] = {c, h, w};
  nnf_net *n = nnf_arch_build(buf, shape, err, sizeof err);
  if (!n) return -1;
  /* the dense layer after a flattened map runs as a whole-map CONV: at most 7 x 7 */
  int ok = 1;
  for (int i = 0; i <= n->nlayers; i++) ok &= n->t[i].map || (n->t[i].mh <= 7 && n->t[i].mw <= 7);
  nnf_net_free(n);
  return ok ? 0 : -1;
}

/* nnf_device_load refuses with exactly msg. */
static void refused(const char *uri, const char *arch, int c, int h, int w, int max_batch, const char *msg) {
  char err[512] = "";
  nnf_net *n = build(arch, c, h, w, 3);
  float *x = inputs(2, nnf_net_inputs(n), 5);
  CHECK_OK(nnf_net_observe(n, x, 2, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  nnf_test_ctx("open %s: %s", uri, err);
  CHECK(d != NULL);
  err[0] = 0;
  CHECK(nnf_device_load(d, n, max_batch, err, sizeof err) == -1);
  nnf_test_ctx("%s on %s:\n    got  '%s'\n    want '%s'", arch, uri, err, msg);
  CHECK(!strcmp(err, msg));
  /* nothing is loaded: a forward is refused too */
  CHECK(nnf_device_forward(d, n, x, 2, err, sizeof err) == -1);
  nnf_device_close(d);
  free(x);
  nnf_net_free(n);
}

/* ACT reuse (docs/memory.md, "The plan", item 7): six 8-channel 16 x 16
 * maps of 256 words each and two input buffers of 256 need 2,050 words
 * when every boundary keeps its own (training reads them all back), more
 * than the 2,048 of ACT here: refused. When only the outputs come back the
 * chain's boundaries share words (at most two maps live), the device takes
 * it, and its outputs are the host's bit for bit. */
static size_t reuse_case(void) {
  const char *arch = "conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,"
                     "conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,gap,flatten,dense(3)";
  const char *uri = "model:act_words=2048";
  char err[512] = "";
  nnf_net *n = build(arch, 1, 16, 16, 21);
  const int count = 3, L = n->nlayers;
  float *x = inputs(count, nnf_net_inputs(n), 22);
  int8_t *host[NNF_MAX_LAYERS + 1] = {0};
  host_int(n, x, count, host);
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  nnf_test_ctx("open %s: %s", uri, err);
  CHECK(d != NULL);
  nnf_device_set_pack(d, 0); /* (PACK's packed map would be one more region) */
  CHECK(nnf_device_load(d, n, 1, err, sizeof err) == -1);
  nnf_test_ctx("ACT reuse, training's plan: '%s'", err);
  CHECK(!strcmp(err, "a batch of 1 needs 2050 ACT words; device model:act_words=2048 has 2048"));
  nnf_device_set_outputs_only(d, 1);
  nnf_test_ctx("ACT reuse, inference's plan: load: %s", err);
  CHECK_OK(nnf_device_load(d, n, count, err, sizeof err));
  /* 1,024 words an image (two maps and the two inputs): two images fill ACT exactly, the maps alternating
   * between its ends */
  CHECK_EQ(nnf_device_batch(d), 2);
  memset(n->t[L].q, 0x5a, (size_t)count * n->t[L].width);
  nnf_test_ctx("ACT reuse: forward: %s", err);
  CHECK_OK(nnf_device_forward(d, n, x, count, err, sizeof err));
  nnf_test_ctx("ACT reuse: outputs, device vs host INT");
  CHECK_MEM_EQ(n->t[L].q, host[L], (size_t)count * n->t[L].width);
  nnf_device_close(d);
  for (int i = 1; i <= L; i++) free(host[i]);
  free(x);
  nnf_net_free(n);
  return (size_t)count * 3;
}

int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 14;
  if (argc > 3) dev_uri = argv[3];
  size_t total = 0;
  /* conv 3x3 pad 1 over 3 channels (a ragged tile), max pool, a stride-2
   * conv into ReLU6, an average pool with padding (count_include_pad=False),
   * a 1x1 conv, global average pooling, dense after the 1 x 1 map (a GEMM) */
  total += same_on_device("conv(10,3,pad=1),relu,maxpool(2),conv(12,3,pad=1,stride=2),relu6,avgpool(2,stride=1,pad=1),"
                          "conv(9,1),gap,flatten,dense(5)",
                          3, 12, 12, 37, 16, seed);
  /* flatten + dense over a 11 x 2 x 2 map: a whole-map CONV (PyTorch's flatten
   * order translated by the weights' packing); no bias; a conv with stride 3 */
  total += same_on_device("conv(6,3,pad=1,bias=0),relu,maxpool(3,stride=2,pad=1),conv(11,2,stride=3,pad=2),relu,flatten,"
                          "dense(7),relu,dense(4)",
                          2, 10, 9, 29, 1000, seed + 1);
  /* the Fashion-MNIST shape: 1 x 28 x 28, two conv blocks, flatten + dense 7 x 7 */
  total += same_on_device("conv(8,5,pad=2),relu,maxpool(2),conv(16,5,pad=2),relu,maxpool(2),flatten,dense(10)", 1, 28,
                          28, 11, 1000, seed + 2);
  /* LUT activations: conv + tanh and dense + sigmoid need two tables: in two
   * of the device's LUTs, one program (LUT_IDX); on a device with one LUT,
   * two program segments with a LUT upload between them, every chunk. The
   * same bytes either way, and fewer link bytes with two LUTs. */
  {
    const char *arch = "conv(6,3,pad=1),tanh,maxpool(2),flatten,dense(8),sigmoid,dense(3)";
    const char *uri = dev_uri;
    total += same_on_device(arch, 1, 8, 8, 19, 8, seed + 5);
    if (!strncmp(uri, "model", 5)) {
      uint64_t in_luts[2];
      const char *uris[2] = {"model:luts=1", "model:luts=2"};
      for (int k = 0; k < 2; k++) {
        dev_uri = uris[k];
        total += same_on_device(arch, 1, 8, 8, 19, 8, seed + 5);
        in_luts[k] = last_bytes_in;
      }
      dev_uri = uri;
      nnf_test_ctx("link bytes in: one LUT %llu, two %llu", (unsigned long long)in_luts[0],
                   (unsigned long long)in_luts[1]);
      CHECK(in_luts[0] >= in_luts[1] + 4 * 256); /* six table uploads (three chunks) against two */
    }
  }
  /* ReLU after a max pool and ReLU6 after an average pool: the POOL's clamp */
  total += same_on_device("conv(6,3),maxpool(2),relu,conv(5,3,pad=1),avgpool(2,pad=1),relu6,flatten,dense(4)", 2, 11,
                          11, 23, 1000, seed + 6);
  /* an MLP over a map input (flattened on the host: the GEMM path) */
  total += same_on_device("flatten,dense(16),relu,dense(4)", 1, 6, 6, 9, 4, seed + 3);
  /* large maps: the batch is chosen so OH*OW*B <= 65535 (here B <= 16 for 64 x 64) */
  total += same_on_device("conv(4,3,pad=1),relu,avgpool(4),conv(4,3),gap,flatten,dense(3)", 1, 64, 64, 21, 1000,
                          seed + 4);

  /* PACK of the first layer: 1 and 3 channels, kernels 2..7, strides 1..2,
   * padding; several chunks with a shorter last one (the inputs stream
   * dense into both buffers) */
  pack_case("conv(8,3,pad=1),relu,maxpool(2),conv(16,3,pad=1),relu,maxpool(2),flatten,dense(10)", 1, 28, 28, 37, 16,
            seed + 20, 1);
  pack_case("conv(6,5,stride=2,pad=2),relu,flatten,dense(4)", 3, 13, 11, 23, 8, seed + 21, 1);
  pack_case("conv(5,7,pad=3),relu6,gap,flatten,dense(3)", 1, 9, 9, 19, 1000, seed + 22, 1);
  pack_case("conv(5,7,stride=2,pad=1,bias=0),tanh,gap,flatten,dense(3)", 3, 10, 12, 9, 4, seed + 23, 1);
  pack_case("conv(4,2,stride=2),relu,flatten,dense(5)", 3, 6, 7, 11, 3, seed + 24, 1);
  pack_case("conv(7,4,stride=1,pad=2),maxpool(2),relu,conv(6,3),flatten,dense(4)", 1, 9, 8, 13, 5, seed + 25, 1);
  pack_case("conv(3,6,stride=2,pad=0),avgpool(2,pad=1),flatten,dense(3)", 3, 16, 17, 7, 1000, seed + 26, 1);
  /* a 1 x 1 input (its unpacked upload is the GEMM's row layout) and a
   * single row */
  pack_case("conv(4,3,pad=1),relu,flatten,dense(3)", 3, 1, 1, 10, 4, seed + 31, 1);
  pack_case("conv(4,3,pad=1),relu,flatten,dense(3)", 1, 1, 7, 10, 4, seed + 32, 1);
  /* not packed, as before: a 1 x 1 kernel (nothing to fold), 9 channels
   * (more than the rows), 5 channels with a 2 x 2 kernel (2 K tiles either
   * way), and a 2 x 2 kernel with padding 2 (PACK refuses an output
   * column of padding only; CONV takes it) */
  pack_case("conv(4,1),relu,flatten,dense(3)", 3, 6, 6, 9, 1000, seed + 27, 0);
  pack_case("conv(4,3,pad=1),relu,flatten,dense(3)", 9, 6, 6, 9, 1000, seed + 28, 0);
  pack_case("conv(4,2),relu,flatten,dense(3)", 5, 6, 6, 9, 1000, seed + 29, 0);
  pack_case("conv(4,2,pad=2),relu,gap,flatten,dense(3)", 1, 5, 5, 9, 1000, seed + 30, 0);

  /* fused 2x2 max pooling: conv + ReLU + maxpool(2) twice (the first conv
   * packed when PACK is allowed), odd maps (floor: the last row and column
   * dropped), a conv + maxpool(2) without ReLU, a pool as the network's
   * last layer, tanh (a LUT) before the pool, several chunks with a shorter
   * last one; pools that do not fuse (stride 1, kernel 3, average, a ReLU
   * after the pool, which the host may fuse only when that clamp is none) */
  fuse_case("conv(8,3,pad=1),relu,maxpool(2),conv(16,3,pad=1),relu,maxpool(2),flatten,dense(10)", 1, 28, 28, 37, 16,
            seed + 40, 2);
  fuse_case("conv(6,3,pad=1),relu,maxpool(2),conv(7,2),maxpool(2),flatten,dense(5)", 3, 11, 13, 23, 8, seed + 41, 2);
  fuse_case("conv(9,3),maxpool(2),flatten,dense(4)", 2, 10, 9, 19, 1000, seed + 42, 1);
  fuse_case("conv(5,3,pad=1),relu6,maxpool(2)", 1, 9, 7, 13, 5, seed + 43, 1);
  fuse_case("conv(6,3,pad=1),tanh,maxpool(2),flatten,dense(8),sigmoid,dense(3)", 1, 8, 8, 19, 8, seed + 44, 1);
  fuse_case("conv(6,3,pad=1),relu,maxpool(2,stride=1),conv(6,3),maxpool(3),conv(4,1),avgpool(2),flatten,dense(3)", 2,
            12, 12, 9, 1000, seed + 45, 0);
  fuse_case("conv(4,3),maxpool(2),relu,flatten,dense(3)", 1, 8, 8, 9, 1000, seed + 46, -1);
  /* a 64 x 64 map: without the conv's unpooled 4096 words an image in ACT
   * the plan fits a larger batch (fuse_case checks it is no smaller) */
  fuse_case("conv(8,3,pad=1),relu,maxpool(2),gap,flatten,dense(3)", 1, 64, 64, 7, 8, seed + 48, 1);

  /* depthwise convs (docs/conv.md "Depthwise and rectangular"): one CONV a
   * channel tile with diagonal weights; 12 channels are a full tile and a
   * ragged one on the 8x8 array, 3 channels less than a tile; strides 1 and
   * 2, padding, no bias, a LUT after one */
  total += same_on_device("conv(12,3,pad=1),relu,dwconv(3,pad=1),relu6,conv(9,1),dwconv(3,stride=2,pad=1,bias=0),relu,"
                          "gap,flatten,dense(4)",
                          3, 11, 11, 13, 8, seed + 50);
  total += same_on_device("dwconv(3,pad=1),tanh,dwconv(5,stride=2,pad=2),conv(4,1),relu,flatten,dense(3)", 3, 9, 8, 9,
                          1000, seed + 51);
  /* the depthwise unit: DWCONV where the device has it, diagonal CONVs where not */
  dw_case(dev_uri, seed + 53);
  if (!strcmp(dev_uri, "model")) dw_case("model:dw=0", seed + 53);
  /* rectangular kernels, strides and padding per axis, and ZeroPad2d's
   * uneven padding (TFLite's SAME over a stride) absorbed by the conv after
   * it: EH and EW */
  total += same_on_device("zeropad(0,1,0,1),conv(8,3,stride=2),relu,conv(6,kh=3,kw=2,sh=1,sw=2,ph=1,pw=0),relu,"
                          "zeropad(1,2,0,1),dwconv(3,kh=2,stride=2),flatten,dense(4)",
                          2, 12, 14, 11, 8, seed + 52);
  /* a first conv with a kernel over the device's: KWS's 10 x 4 at stride 2
   * over 49 x 10 with TFLite's SAME padding (4 rows above, 5 below), run as
   * a 5 x 2 conv at stride 1 over the input the host lays out
   * space-to-depth; then a depthwise-separable block */
  total += same_on_device("zeropad(0,0,0,1),conv(16,kh=10,kw=4,stride=2,ph=4,pw=1),relu,dwconv(3,pad=1),relu,conv(8,1),"
                          "relu,gap,flatten,dense(5)",
                          1, 49, 10, 9, 8, seed + 53);
  total += same_on_device("conv(5,9,stride=3,pad=4),relu6,flatten,dense(3)", 2, 13, 12, 7, 4, seed + 54);

  /* residual graphs (docs/tiny.md "Residual graphs"): ResNet-8's blocks,
   * an identity join and a strided one with a 1x1 conv shortcut (reading
   * the block's input, which ACT keeps until then), each Add an EW ADD with
   * its ReLU in the clamp; joins reading the network's input (three
   * readers: nothing packs it); and a batch whose maps fill most of ACT */
  total += same_on_device("conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,conv(8,3,pad=1),add(1),relu,zeropad(0,1,0,1),"
                          "conv(12,3,stride=2),relu,conv(12,3,pad=1),conv(12,1,stride=2,from=6),add(10),relu,gap,"
                          "flatten,dense(4)",
                          3, 12, 12, 11, 8, seed + 60);
  total += same_on_device("dwconv(3,pad=1),add(-1),relu6,conv(5,3,pad=1,from=-1),conv(5,1,from=2),add(3),flatten,dense(3)",
                          2, 7, 6, 9, 1000, seed + 61);
  total += same_on_device("conv(8,3,pad=1),relu,conv(8,3,pad=1),relu,conv(8,3,pad=1),add(1),relu,gap,flatten,dense(4)",
                          3, 32, 32, 5, 16, seed + 62);

  /* random architectures (random input sizes and channel counts too) */
  {
    nnf_rng r = nnf_rng_seed(seed * 31 + 7);
    int nets = argc > 2 ? atoi(argv[2]) : 40;
    for (int k = 0; k < nets; k++) {
      char arch[512];
      int c = 1 + (int)nnf_rng_range(&r, 0, 9), h = 4 + (int)nnf_rng_range(&r, 0, 12), w = 4 + (int)nnf_rng_range(&r, 0, 12);
      while (random_arch(&r, arch, sizeof arch, c, h, w)) {}
      total += same_on_device(arch, c, h, w, 3 + (int)nnf_rng_range(&r, 0, 20), 1 + (int)nnf_rng_range(&r, 0, 30),
                              seed + 100 + (uint64_t)k);
    }
  }

  /* refusals */
  refused("model:conv=0", "conv(4,3),relu,flatten,dense(3)", 1, 8, 8, 8,
          "device model:conv=0 does not run CONV / POOL (its INFO lacks feature bit 4, FEAT_CONV): layer 0 "
          "(Conv2d(1,4,kernel_size=3,stride=1,padding=0)) needs them");
  refused("model:conv=0", "maxpool(2),flatten,dense(3)", 2, 8, 8, 8,
          "device model:conv=0 does not run CONV / POOL (its INFO lacks feature bit 4, FEAT_CONV): layer 0 "
          "(MaxPool2d(kernel_size=2,stride=2,padding=0)) needs them");
  refused("model", "conv(2,1),relu,gap,flatten,dense(3)", 1, 300, 300, 8,
          "layer 0 (Conv2d(1,2,kernel_size=1,stride=1,padding=0)) does not fit the device's walk: 300 x 300 outputs x "
          "1 images = 90000 rows, more than 65535");
  refused("model", "conv(64,3,pad=1),relu,gap,flatten,dense(3)", 8, 128, 128, 8,
          "a batch of 1 needs 163849 ACT words; device model has 32768"); /* 2 x 16384 inputs + 8 x 16384 + 8 + 1 */
  refused("model", "conv(4,3,pad=1),flatten,dense(3)", 1, 9, 9, 8,
          "layer 2 (Linear) after Flatten: the device runs it as a conv over the whole 4 x 9 x 9 map, and its kernel "
          "is at most 7 x 7 (pool the map first)");
  refused("model", "conv(4,3),zeropad(1,1,1,1),maxpool(2),flatten,dense(3)", 1, 8, 8, 8,
          "layer 1 (ZeroPad2d((1,1,1,1))): on the device a ZeroPad2d runs only as the padding of a Conv2d right after "
          "it, its output's one reader");
  refused("model", "conv(4,3),zeropad(1,1,1,1),conv(4,3),conv(4,3,from=1),add(2),flatten,dense(3)", 1, 8, 8, 8,
          "layer 1 (ZeroPad2d((1,1,1,1))): on the device a ZeroPad2d runs only as the padding of a Conv2d right after "
          "it, its output's one reader");
  refused("model:ew=0", "conv(4,3,pad=1),relu,conv(4,3,pad=1),add(1),relu,flatten,dense(3)", 1, 8, 8, 8,
          "device model:ew=0 does not run EW (its INFO lacks feature bit 7, FEAT_EW): layer 3 (Add(1)) needs an EW "
          "ADD");
  refused("model:act_words=524288", "add(-1),relu,gap,flatten,dense(3)", 1, 300, 300, 8,
          "layer 0 (Add(-1)): its EW reads 90000 rows (300 x 300 pixels x 1 images), more than 65535");
  refused("model", "zeropad(1,0,0,0),conv(4,3),flatten,dense(3)", 1, 8, 8, 8,
          "layer 1 (Conv2d(1,4,kernel_size=3,stride=1,padding=0)): with ZeroPad2d layer 0 before it, it pads 0 rows "
          "above and 0 below, 1 columns left and 0 right; the device pads as much or one more after the map as before "
          "it");
  refused("model", "conv(4,3),relu,conv(4,9,stride=2),flatten,dense(3)", 1, 20, 20, 8,
          "layer 2 (Conv2d(4,4,kernel_size=9,stride=2,padding=0)): the device's CONV takes kernels 1..7, strides "
          "1..4, padding 0..7 before the map and as much or one more after (here a 9 x 9 kernel, strides 2 x 2, "
          "padding 0 + 0 rows, 0 + 0 columns); a larger kernel runs as the first layer with stride s, over an input "
          "the host lays out space-to-depth, when its kernel over s is in range");
  refused("model", "zeropad(0,2,0,2),conv(4,3),flatten,dense(3)", 1, 8, 8, 8,
          "layer 1 (Conv2d(1,4,kernel_size=3,stride=1,padding=0)): the device's CONV takes kernels 1..7, strides "
          "1..4, padding 0..7 before the map and as much or one more after (here a 3 x 3 kernel, strides 1 x 1, "
          "padding 0 + 2 rows, 0 + 2 columns)");
  refused("model", "conv(4,3,groups=2),flatten,dense(3)", 2, 8, 8, 8,
          "layer 0 (Conv2d(2,4,kernel_size=3,stride=1,padding=0,groups=2)): of the grouped convs the device runs the "
          "depthwise ones with one output channel an input channel (groups = in = out channels) on a square array");
  total += reuse_case();
  /* the same MLP runs on a device without FEAT_CONV */
  {
    char err[512];
    nnf_net *n = build("flatten,dense(8),relu,dense(3)", 1, 5, 5, 9);
    float *x = inputs(4, 25, 2);
    CHECK_OK(nnf_net_observe(n, x, 4, 1));
    CHECK_OK(nnf_net_quantize(n, err, sizeof err));
    nnf_device *d = nnf_device_open("model:conv=0", err, sizeof err);
    CHECK(d != NULL);
    nnf_test_ctx("MLP on model:conv=0: %s", err);
    CHECK_OK(nnf_device_load(d, n, 4, err, sizeof err));
    CHECK_OK(nnf_device_forward(d, n, x, 4, err, sizeof err));
    nnf_device_close(d);
    free(x);
    nnf_net_free(n);
  }
  /* a malformed model URI */
  {
    char err[512] = "";
    CHECK(nnf_device_open("model:conv=2", err, sizeof err) == NULL);
    nnf_test_ctx("%s", err);
    CHECK(strstr(err, "model: unknown option \"conv=2\" (options, comma-separated: conv=0|1, ew=0|1, row=0|1, dw=0|1, "
                      "luts=1|2|4|8, rel=0|1, tfl_round=0|1, banks=0..8, w_words=N, p_words=N, act_words=N: powers of two)") != NULL);
  }
  printf("%zu int8 values equal in all\n", total);
  return nnf_test_done(argv[0]);
}
