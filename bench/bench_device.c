/*
 * bench_device.c - figures of the whole device through the driver:
 *
 *   link           payload bytes / bytes on the wire for bulk transfers
 *   mlp_inference  a resident 784-128-10 int8 MLP, batch 64, inputs streamed
 *                  in while the previous batch computes: device cycles per
 *                  image (link included) against the ideal MACs / (ROWS*COLS)
 *
 * Cycles come from the device's own counters, so the figures are exact and
 * repeatable; every batch's outputs are checked bit for bit against the
 * functional model (a mismatch is an error, not a figure).
 *
 *   bench_device [--device URI] [--batches N] [--json FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_json.h"
#include "nnfdrv.h"
#include "nnfm.h"

static uint64_t rng_s = 0x853c49e6748fea9bull;
static uint32_t rnd(void) {
  uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void die(nnfdrv *d, const char *what, int rc) {
  fprintf(stderr, "bench_device: %s: %s (%s)\n", what, d ? nnfdrv_errmsg(d) : "", nnfdrv_strerror(rc));
  exit(1);
}
#define DRV(call, what)              \
  do {                               \
    int rc_ = (call);                \
    if (rc_) die(d, what, rc_);      \
  } while (0)

/* One dense layer's quantized parameters. */
typedef struct {
  int k, n;
  int8_t *w;
  int32_t *bias, *m0;
  int8_t *shift;
} dense;

static dense dense_random(int k, int n) {
  dense L = {k, n, malloc((size_t)k * n), malloc(4u * n), malloc(4u * n), malloc((size_t)n)};
  for (int i = 0; i < k * n; i++) L.w[i] = (int8_t)((int)(rnd() % 255) - 127);
  for (int j = 0; j < n; j++) {
    L.bias[j] = (int32_t)(rnd() % 20001) - 10000;
    L.m0[j] = (int32_t)((1u << 30) + rnd() % (1u << 30));
    L.shift[j] = (int8_t)(-7 - (int)(rnd() % 3));
  }
  return L;
}

static void dense_free(dense *L) {
  free(L->w);
  free(L->bias);
  free(L->m0);
  free(L->shift);
}

/* Upload weights and parameters through an engine image. */
static void upload(nnfdrv *d, nnfm_engine *img, const dense *L, uint32_t w_base, uint32_t p_base) {
  const nnfm_config *c = &img->cfg;
  if (nnfm_engine_put_weights(img, w_base, L->w, (uint32_t)L->k, (uint32_t)L->n) ||
      nnfm_engine_put_params(img, p_base, L->bias, L->m0, L->shift, (uint32_t)L->n)) {
    fprintf(stderr, "bench_device: layer does not fit the device\n");
    exit(1);
  }
  DRV(nnfdrv_write(d, NNFDRV_W, w_base * (uint32_t)c->cols, img->w + (size_t)w_base * c->cols,
                   (size_t)nnfm_w_words(c, (uint32_t)L->k, (uint32_t)L->n) * c->cols), "weights");
  /* P through the image's host-port bytes: the model defines the layout */
  uint32_t p_addr = p_base * (uint32_t)c->cols * 16, p_len = nnfm_p_entries(c, (uint32_t)L->n) * (uint32_t)c->cols * 16;
  uint8_t *rec = malloc(p_len);
  if (nnfm_engine_read_bytes(img, NNFDRV_P, p_addr, rec, p_len) != NNFM_OK) {
    fprintf(stderr, "bench_device: parameters do not fit the device\n");
    exit(1);
  }
  DRV(nnfdrv_write(d, NNFDRV_P, p_addr, rec, p_len), "parameters");
  free(rec);
}

static double bench_link(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  size_t n = (size_t)in->act_words * in->rows;
  if (n > (1u << 20)) n = 1u << 20;
  uint8_t *buf = malloc(n);
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
  nnfdrv_counters c0, c1;
  DRV(nnfdrv_get_counters(d, &c0), "counters");
  DRV(nnfdrv_write(d, NNFDRV_ACT, 0, buf, n), "bulk write");
  DRV(nnfdrv_get_counters(d, &c1), "counters");
  free(buf);
  /* every byte both ways, as the device counted them; the COUNTERS frame
   * that read c1 is inside the window (its request in, not its answer out) */
  uint64_t wire = (c1.bytes_in - c0.bytes_in) + (c1.bytes_out - c0.bytes_out);
  return (double)n / (double)wire;
}

int main(int argc, char **argv) {
  const char *uri = "sim", *json_path = NULL;
  int batches = 6;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) uri = argv[++i];
    else if (!strcmp(argv[i], "--batches") && i + 1 < argc) batches = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else {
      printf("usage: bench_device [--device URI] [--batches N] [--json FILE]\n"
             "  link efficiency and resident 784-128-10 MLP inference (batch 64) on a device\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (batches < 2) batches = 2;
  char err[256];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc) {
    fprintf(stderr, "bench_device: %s\n", err);
    return 1;
  }
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = in->rows;
  cfg.cols = in->cols;
  cfg.act_words = in->act_words;
  cfg.w_words = in->w_words;
  cfg.p_words = in->p_words;
  cfg.acc_depth = in->acc_depth;
  nnfm_engine *img = nnfm_engine_create(&cfg);

  double efficiency = bench_link(d);

  /* The network, resident: W and P uploaded once. */
  const int B = 64, K1 = 784, H = 128, O = 10;
  dense L1 = dense_random(K1, H), L2 = dense_random(H, O);
  uint32_t w2 = nnfm_w_words(&cfg, K1, H), p2 = nnfm_p_entries(&cfg, H);
  upload(d, img, &L1, 0, 0);
  upload(d, img, &L2, w2, p2);
  /* ACT: two input buffers (ping-pong), the hidden layer, two outputs */
  uint32_t in_words = nnfm_act_words(&cfg, B, K1);
  uint32_t x0 = 0, x1 = in_words, hid = 2 * in_words, hid_words = nnfm_act_words(&cfg, B, H);
  uint32_t out_words = nnfm_act_words(&cfg, B, O), o0 = hid + hid_words, o1 = o0 + out_words;
  uint8_t prog[6 * 32];
  for (int s = 0; s < 2; s++) {
    nnfdrv_gemm g1 = {(uint16_t)B, (uint16_t)K1, (uint16_t)H, s ? x1 : x0, 0, 0, hid, -128, -128, 127, 0, NNFM_ROUND_SINGLE};
    nnfdrv_gemm g2 = {(uint16_t)B, (uint16_t)H, (uint16_t)O, hid, w2, p2, s ? o1 : o0, 0, -128, 127, 0, NNFM_ROUND_SINGLE};
    nnfdrv_insn_gemm(prog + (3 * s) * 32, &g1);
    nnfdrv_insn_gemm(prog + (3 * s + 1) * 32, &g2);
    nnfdrv_insn_end(prog + (3 * s + 2) * 32);
  }
  DRV(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog), "program");

  /* Inputs and expected outputs for every batch. */
  int8_t **x = malloc(sizeof *x * (size_t)batches), **y = malloc(sizeof *y * (size_t)batches);
  int8_t *h = malloc((size_t)B * H);
  nnfm_gemm_args a1 = {B, K1, H, -128, -128, 127, NULL, NNFM_ROUND_SINGLE}, a2 = {B, H, O, 0, -128, 127, NULL, NNFM_ROUND_SINGLE};
  for (int b = 0; b < batches; b++) {
    x[b] = malloc((size_t)B * K1);
    y[b] = malloc((size_t)B * O);
    for (int i = 0; i < B * K1; i++) x[b][i] = (int8_t)((int)(rnd() % 256) - 128);
    nnfm_gemm(&a1, x[b], L1.w, L1.bias, L1.m0, L1.shift, h);
    nnfm_gemm(&a2, h, L2.w, L2.bias, L2.m0, L2.shift, y[b]);
  }
  size_t in_bytes = (size_t)in_words * cfg.rows, out_bytes = (size_t)out_words * cfg.rows;
  uint8_t *raw = malloc(out_bytes);
  int8_t *got = malloc((size_t)B * O);

  /* Stream: RUN(b) | WRITE inputs(b+1) while it computes | READ outputs(b). */
  nnfdrv_counters c0, c1;
  DRV(nnfdrv_get_counters(d, &c0), "counters");
  DRV(nnfm_engine_put_act(img, x0, x[0], B, K1) == NNFM_OK ? 0 : -1, "pack");
  DRV(nnfdrv_write(d, NNFDRV_ACT, x0 * cfg.rows, img->act + (size_t)x0 * cfg.rows, in_bytes), "inputs");
  int mismatches = 0;
  for (int b = 0; b < batches; b++) {
    int s = b & 1;
    DRV(nnfdrv_run(d, (uint32_t)(3 * s)), "run");
    if (b + 1 < batches) {
      uint32_t xn = s ? x0 : x1;
      nnfm_engine_put_act(img, xn, x[b + 1], B, K1);
      DRV(nnfdrv_write(d, NNFDRV_ACT, xn * cfg.rows, img->act + (size_t)xn * cfg.rows, in_bytes), "inputs");
    }
    uint32_t ob = s ? o1 : o0;
    DRV(nnfdrv_read(d, NNFDRV_ACT, ob * cfg.rows, raw, out_bytes), "outputs");
    memcpy(img->act + (size_t)ob * cfg.rows, raw, out_bytes);
    nnfm_engine_get_act(img, ob, got, B, O);
    if (memcmp(got, y[b], (size_t)B * O)) mismatches++;
  }
  DRV(nnfdrv_get_counters(d, &c1), "counters");
  if (mismatches) {
    fprintf(stderr, "bench_device: %d batches differ from the model\n", mismatches);
    return 1;
  }
  /* From the first input byte in to the last output byte out. */
  double images = (double)batches * B;
  double cycles = (double)(c1.cycles - c0.cycles);
  double ideal = (double)((uint64_t)K1 * H + (uint64_t)H * O) / (double)(cfg.rows * cfg.cols);
  double util = (double)(c1.macs - c0.macs) / ((double)cfg.rows * cfg.cols * (double)(c1.cycles - c0.cycles));

  printf("device %s: %ux%u array\n", uri, cfg.rows, cfg.cols);
  printf("link efficiency (bulk WRITE, both directions): %.4f\n", efficiency);
  printf("mlp_inference 784-128-10, batch %d, %d batches: %.1f cycles/image (ideal %.1f, %.3fx), "
         "utilization %.3f, stall cycles %llu, bit-exact: yes\n",
         B, batches, cycles / images, ideal, cycles / images / ideal, util,
         (unsigned long long)(c1.stall_cycles - c0.stall_cycles));

  if (json_path) {
    cJSON *root = bench_json_load(json_path), *link = cJSON_CreateObject(), *mlp = cJSON_CreateObject();
    cJSON_AddNumberToObject(link, "efficiency", efficiency);
    cJSON_AddNumberToObject(link, "max_payload", in->max_payload);
    cJSON_AddStringToObject(mlp, "device", uri);
    cJSON_AddNumberToObject(mlp, "batch", B);
    cJSON_AddNumberToObject(mlp, "batches", batches);
    cJSON_AddNumberToObject(mlp, "cycles_per_image", cycles / images);
    cJSON_AddNumberToObject(mlp, "ideal_cycles_per_image", ideal);
    cJSON_AddNumberToObject(mlp, "ratio", cycles / images / ideal);
    cJSON_AddNumberToObject(mlp, "utilization", util);
    bench_json_set(root, "link", link);
    bench_json_set(root, "mlp_inference", mlp);
    if (bench_json_save(json_path, root)) {
      fprintf(stderr, "bench_device: cannot write %s\n", json_path);
      return 1;
    }
  }
  for (int b = 0; b < batches; b++) {
    free(x[b]);
    free(y[b]);
  }
  free(x);
  free(y);
  free(h);
  free(raw);
  free(got);
  dense_free(&L1);
  dense_free(&L2);
  nnfm_engine_destroy(img);
  nnfdrv_close(d);
  return 0;
}
