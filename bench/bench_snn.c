/*
 * bench_snn.c - a spiking network on the device, through the driver:
 *
 *   snn  a resident 784-128-10 LIF network, T = 25 time steps, direct
 *        current input (layer 1's currents computed once), batch 64, as one
 *        micro-program:
 *          GEMM1 (x -> cur1)
 *          LIF1 (cur1 -> spk1, clear)  GEMM2 (spk1 -> cur2)  LIF2 (cur2 -> spk2, clear, count)
 *          body: LIF1  GEMM2  LIF2 (count);  LOOP (body, T - 1)
 *        only the inputs in and the output spike counts (STATE) out.
 *
 * Figures, from the device's own cycle counter (exact, repeatable):
 *   cycles_per_image          RUN to WAIT, per image
 *   cycles_per_image_with_io  inputs WRITE + RUN + WAIT + counts READ, per image
 *   sop_per_cycle             synaptic operations the MAC array performs (every
 *                             synapse of W s, dense: K*N per row and step) per cycle
 *   event_sop_per_cycle       synaptic events only: the direct-current layer's
 *                             MACs plus (hidden spikes x 10) per cycle
 *   neuron_updates_per_cycle  LIF updates (batch x 138 x T) per cycle
 * The spike counts and final spikes are checked bit for bit against the
 * functional model (--ref-device, default "model"): a mismatch is an error.
 *
 *   bench_snn [--device URI] [--ref-device URI] [--steps T] [--json FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_json.h"

#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm.h"

static uint64_t rng_s = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) {
  uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void die(nnfdrv *d, const char *what, int rc) {
  fprintf(stderr, "bench_snn: %s: %s (%s)\n", what, d ? nnfdrv_errmsg(d) : "", nnfdrv_strerror(rc));
  exit(1);
}
#define DRV(d, call, what)           \
  do {                               \
    int rc_ = (call);                \
    if (rc_) die(d, what, rc_);      \
  } while (0)

enum { B = 64, K1 = 784, H = 128, O = 10 };

typedef struct {
  uint64_t cycles_run, cycles_io, macs;
  uint8_t *counts2, *counts1;  /* STATE bytes of layer 2 / layer 1 */
  uint8_t *spk2;               /* ACT bytes of the last spikes */
} result;

/* Build everything on one device and run the program once. */
static result run_on(const char *uri, int T, const nnfm_config *want) {
  char err[256];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc) {
    fprintf(stderr, "bench_snn: %s\n", err);
    exit(1);
  }
  const nnfdrv_info *in = nnfdrv_get_info(d);
  if (!(in->features & 4) || in->state_words < (uint32_t)B * (H + O)) {
    fprintf(stderr, "bench_snn: %s has no LIF core or too little state memory\n", uri);
    exit(1);
  }
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = in->rows;
  cfg.cols = in->cols;
  cfg.act_words = in->act_words;
  cfg.w_words = in->w_words;
  cfg.p_words = in->p_words;
  cfg.acc_depth = in->acc_depth;
  if (want && memcmp(want, &cfg, sizeof cfg)) {
    fprintf(stderr, "bench_snn: %s has another configuration than the reference\n", uri);
    exit(1);
  }
  nnfm_engine *img = nnfm_engine_create(&cfg);

  /* the same seeded network and inputs on every device */
  rng_s = 0x2545F4914F6CDD1Dull;
  int8_t *w1 = malloc((size_t)K1 * H), *w2 = malloc((size_t)H * O), *x = malloc((size_t)B * K1);
  int32_t b1[H], m1[H], b2[O], m2[O];
  int8_t s1[H], s2[O];
  for (int i = 0; i < K1 * H; i++) w1[i] = (int8_t)((int)(rnd() % 255) - 127);
  for (int i = 0; i < H * O; i++) w2[i] = (int8_t)((int)(rnd() % 255) - 127);
  for (int j = 0; j < H; j++) {
    b1[j] = (int32_t)(rnd() % 20001) - 10000;
    m1[j] = (int32_t)((1u << 30) + rnd() % (1u << 30));
    s1[j] = (int8_t)(-8 - (int)(rnd() % 2));
  }
  for (int j = 0; j < O; j++) {
    b2[j] = (int32_t)(rnd() % 2001) - 1000;
    m2[j] = (int32_t)((1u << 30) + rnd() % (1u << 30));
    s2[j] = (int8_t)(-3 - (int)(rnd() % 2));
  }
  for (int i = 0; i < B * K1; i++) x[i] = (int8_t)((int)(rnd() % 256) - 128);

  uint32_t w2b = nnfm_w_words(&cfg, K1, H), p2 = nnfm_p_entries(&cfg, H);
  if (nnfm_engine_put_weights(img, 0, w1, K1, H) || nnfm_engine_put_weights(img, w2b, w2, H, O) ||
      nnfm_engine_put_params(img, 0, b1, m1, s1, H) || nnfm_engine_put_params(img, p2, b2, m2, s2, O)) {
    fprintf(stderr, "bench_snn: the network does not fit %s\n", uri);
    exit(1);
  }
  DRV(d, nnfdrv_write(d, NNFDRV_W, 0, img->w, (size_t)(w2b + nnfm_w_words(&cfg, H, O)) * cfg.cols), "weights");
  uint32_t p_len = (p2 + nnfm_p_entries(&cfg, O)) * cfg.cols * 16;
  uint8_t *prec = malloc(p_len);
  nnfm_engine_read_bytes(img, NNFDRV_P, 0, prec, p_len);
  DRV(d, nnfdrv_write(d, NNFDRV_P, 0, prec, p_len), "parameters");
  free(prec);

  /* ACT: x, cur1, spk1, cur2, spk2 ; STATE: layer 1 then layer 2 */
  uint32_t xw = nnfm_act_words(&cfg, B, K1), hw = nnfm_act_words(&cfg, B, H), ow = nnfm_act_words(&cfg, B, O);
  uint32_t a_x = 0, a_c1 = xw, a_s1 = a_c1 + hw, a_c2 = a_s1 + hw, a_s2 = a_c2 + ow;
  uint32_t st1 = 0, st2 = (uint32_t)B * H;
  nnfdrv_gemm g1 = {B, K1, H, a_x, 0, 0, a_c1, 0, -128, 127, 0, NNFM_ROUND_SINGLE};
  nnfdrv_gemm g2 = {B, H, O, a_s1, w2b, p2, a_c2, 0, -128, 127, 0, NNFM_ROUND_SINGLE};
  nnfdrv_lif l1, l2;
  memset(&l1, 0, sizeof l1);
  l1.m = B;
  l1.n = H;
  l1.a_base = a_c1;
  l1.o_base = a_s1;
  l1.s_base = st1;
  l1.du = 4095;          /* snnTorch Leaky: no current memory */
  l1.dv = 410;           /* beta = 1 - 410/4096 ~ 0.9 */
  l1.vth = 100;          /* threshold 6400 = input 100 for one step */
  l1.count = 1;
  l2 = l1;
  l2.n = O;
  l2.a_base = a_c2;
  l2.o_base = a_s2;
  l2.s_base = st2;
  l2.vth = 60;
  uint8_t prog[9][32];
  int np = 0;
  nnfdrv_insn_gemm(prog[np++], &g1);
  l1.clear = l2.clear = 1;
  DRV(d, nnfdrv_insn_lif(prog[np++], &l1), "lif");
  nnfdrv_insn_gemm(prog[np++], &g2);
  DRV(d, nnfdrv_insn_lif(prog[np++], &l2), "lif");
  if (T > 1) {
    int body = np;
    l1.clear = l2.clear = 0;
    DRV(d, nnfdrv_insn_lif(prog[np++], &l1), "lif");
    nnfdrv_insn_gemm(prog[np++], &g2);
    DRV(d, nnfdrv_insn_lif(prog[np++], &l2), "lif");
    DRV(d, nnfdrv_insn_loop(prog[np++], (uint32_t)body, (uint32_t)(T - 1)), "loop");
  }
  nnfdrv_insn_end(prog[np++]);
  DRV(d, nnfdrv_write(d, NNFDRV_PROG, 0, prog, (size_t)np * 32), "program");

  nnfm_engine_put_act(img, a_x, x, B, K1);
  size_t xb = (size_t)xw * cfg.rows, cb = (size_t)B * O * 16;
  result r;
  r.counts2 = malloc(cb);
  r.counts1 = malloc((size_t)B * H * 16);
  r.spk2 = malloc((size_t)ow * cfg.rows);
  nnfdrv_counters c0, c1, c2, c3;
  DRV(d, nnfdrv_get_counters(d, &c0), "counters");
  DRV(d, nnfdrv_write(d, NNFDRV_ACT, a_x * cfg.rows, img->act + (size_t)a_x * cfg.rows, xb), "inputs");
  DRV(d, nnfdrv_get_counters(d, &c1), "counters");
  DRV(d, nnfdrv_run(d, 0), "run");
  DRV(d, nnfdrv_wait(d), "wait");
  DRV(d, nnfdrv_get_counters(d, &c2), "counters");
  DRV(d, nnfdrv_read(d, NNFDRV_STATE, st2 * 16, r.counts2, cb), "counts");
  DRV(d, nnfdrv_get_counters(d, &c3), "counters");
  DRV(d, nnfdrv_read(d, NNFDRV_STATE, st1 * 16, r.counts1, (size_t)B * H * 16), "hidden counts");
  DRV(d, nnfdrv_read(d, NNFDRV_ACT, a_s2 * cfg.rows, r.spk2, (size_t)ow * cfg.rows), "spikes");
  r.cycles_run = c2.cycles - c1.cycles;
  r.cycles_io = (c1.cycles - c0.cycles) + (c3.cycles - c1.cycles);
  r.macs = c2.macs - c1.macs;
  free(w1);
  free(w2);
  free(x);
  nnfm_engine_destroy(img);
  nnfdrv_close(d);
  return r;
}

int main(int argc, char **argv) {
  const char *uri = "sim", *ref_uri = "model", *json_path = NULL;
  int T = 25;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) uri = argv[++i];
    else if (!strcmp(argv[i], "--ref-device") && i + 1 < argc) ref_uri = argv[++i];
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) T = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else {
      printf("usage: bench_snn [--device URI] [--ref-device URI] [--steps T] [--json FILE]\n"
             "  a 784-128-10 LIF network, T steps (default 25), batch 64, on a device\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (T < 1 || T > 65536) {
    fprintf(stderr, "bench_snn: --steps must be 1..65536\n");
    return 2;
  }
  result r = run_on(uri, T, NULL);
  result ref = run_on(ref_uri, T, NULL);
  if (memcmp(r.counts2, ref.counts2, (size_t)B * O * 16) ||
      memcmp(r.counts1, ref.counts1, (size_t)B * H * 16)) {
    fprintf(stderr, "bench_snn: %s and %s disagree on the state after %d steps\n", uri, ref_uri, T);
    return 1;
  }
  uint64_t hidden_spikes = 0, out_spikes = 0;
  for (int i = 0; i < B * H; i++) hidden_spikes += nnfp_get32(r.counts1 + (size_t)i * 16 + 8);
  for (int i = 0; i < B * O; i++) out_spikes += nnfp_get32(r.counts2 + (size_t)i * 16 + 8);
  double cyc = (double)r.cycles_run, images = B;
  double updates = (double)B * (H + O) * T;
  double event_sops = (double)B * K1 * H + (double)hidden_spikes * O;
  printf("snn 784-128-10 LIF, T = %d, batch %d on %s: %.1f cycles/image (%.1f with I/O), "
         "%.2f SOP/cycle (dense), %.2f event SOP/cycle, %.3f neuron updates/cycle; "
         "spike rates hidden %.3f, output %.3f; bit-exact against %s: yes\n",
         T, B, uri, cyc / images, (cyc + (double)r.cycles_io) / images, (double)r.macs / cyc,
         event_sops / cyc, updates / cyc, (double)hidden_spikes / ((double)B * H * T),
         (double)out_spikes / ((double)B * O * T), ref_uri);

  if (json_path) {
    cJSON *root = bench_json_load(json_path), *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "network", "784-128-10 LIF, direct current input");
    cJSON_AddStringToObject(s, "device", uri);
    cJSON_AddNumberToObject(s, "steps", T);
    cJSON_AddNumberToObject(s, "batch", B);
    cJSON_AddNumberToObject(s, "cycles_per_image", cyc / images);
    cJSON_AddNumberToObject(s, "cycles_per_image_with_io", (cyc + (double)r.cycles_io) / images);
    cJSON_AddNumberToObject(s, "sop_per_cycle", (double)r.macs / cyc);
    cJSON_AddNumberToObject(s, "event_sop_per_cycle", event_sops / cyc);
    cJSON_AddNumberToObject(s, "neuron_updates_per_cycle", updates / cyc);
    cJSON_AddNumberToObject(s, "hidden_spike_rate", (double)hidden_spikes / ((double)B * H * T));
    cJSON_AddNumberToObject(s, "output_spike_rate", (double)out_spikes / ((double)B * O * T));
    cJSON_AddBoolToObject(s, "bit_exact", 1);
    bench_json_set(root, "snn", s);
    if (bench_json_save(json_path, root)) {
      fprintf(stderr, "bench_snn: cannot write %s\n", json_path);
      return 1;
    }
  }
  free(r.counts1);
  free(r.counts2);
  free(r.spk2);
  free(ref.counts1);
  free(ref.counts2);
  free(ref.spk2);
  return 0;
}
