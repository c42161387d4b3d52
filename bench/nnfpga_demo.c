/*
 * nnfpga_demo.c - the CTest rtl_gemm_layer_pair (once `make demo`, which
 * is now scripts/demo.sh: training on the simulated device): an int8 MLP
 * layer pair, 784 -> 128 (ReLU) ->
 * 10, for a batch of 64 rows, on the cycle-accurate simulator of the GEMM
 * engine (the Verilated RTL): inputs, weights and per-channel parameters go
 * in through the byte-wide host port, the two layers run as two commands,
 * the second reading the first's output where it lies in the activation
 * buffer, and the result comes back through the host port. Everything is
 * checked byte for byte against the functional model, twice: the engine
 * model on the same buffer images, and plain row-major nnfm_gemm.
 *
 * Weights and inputs are seeded random numbers (training comes later); the
 * quantization is the real thing (TFLite's int8 scheme: per-channel
 * multipliers from nnfm_quantize_multiplier, ReLU as a clamp at the zero
 * point).
 *
 *   nnfpga_demo [--batch N] [--seed S] [--trace FILE.fst]
 *
 * Exit status: 0 when bit-exact, 1 on a mismatch or an error, 2 on bad usage.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnfm.h"
#include "nnfsim.h"

enum { IN = 784, HID = 128, OUT = 10 };

static uint64_t rng_s;
static uint64_t rnd(void) {
  uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "nnfpga_demo: %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
  return 1;
}

/* A dense int8 layer: w K x N row-major, per-channel bias / m0 / shift. */
typedef struct {
  int k, n;
  int8_t *w;
  int32_t *bias, *m0;
  int8_t *shift;
  int32_t zp, lo, hi;
} dense;

/* Random weights (symmetric int8) and the requantization of a layer whose
 * accumulator spreads over ~sqrt(K) * in_rms * w_rms, scaled to ~out_rms. */
static int make_layer(dense *L, int k, int n, double in_rms, double out_rms, int relu, int32_t zp) {
  L->k = k, L->n = n;
  L->w = malloc((size_t)k * n);
  L->bias = malloc(sizeof *L->bias * n);
  L->m0 = malloc(sizeof *L->m0 * n);
  L->shift = malloc((size_t)n);
  if (!L->w || !L->bias || !L->m0 || !L->shift) return -1;
  for (int i = 0; i < k * n; i++) L->w[i] = (int8_t)((int)(rnd() % 255) - 127);
  double acc_rms = sqrt((double)k) * in_rms * 73.3; /* rms of uniform -127..127 */
  for (int j = 0; j < n; j++) {
    L->bias[j] = (int32_t)((uniform() - 0.5) * acc_rms);
    int sh;
    if (nnfm_quantize_multiplier(out_rms / acc_rms * (0.8 + 0.4 * uniform()), &L->m0[j], &sh) != NNFM_OK)
      return -1;
    L->shift[j] = (int8_t)sh;
  }
  L->zp = zp;
  L->lo = relu ? zp : -128;
  L->hi = 127;
  return 0;
}

static void free_layer(dense *L) {
  free(L->w);
  free(L->bias);
  free(L->m0);
  free(L->shift);
}

/* Host-port transfers of a packed region of the model image to the device. */
static int upload(nnfsim *s, const nnfm_engine *e, int region, uint32_t addr, size_t len) {
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return NNFSIM_ERR_RANGE;
  int rc = nnfm_engine_read_bytes(e, region, addr, buf, len) ? NNFSIM_ERR_RANGE : NNFSIM_OK;
  if (!rc) rc = nnfsim_write(s, region, addr, buf, len);
  free(buf);
  return rc;
}

/* P entries [entry, entry + n): bytes 0..8 of each slot (9..15 hold nothing). */
static int upload_params(nnfsim *s, const nnfm_engine *e, uint32_t entry, uint32_t n) {
  const uint32_t C = (uint32_t)e->cfg.cols;
  for (uint32_t slot = entry * C; slot < (entry + n) * C; slot++) {
    int rc = upload(s, e, 2, slot * 16, 9);
    if (rc) return rc;
  }
  return NNFSIM_OK;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: nnfpga_demo [--batch N] [--seed S] [--trace FILE.fst]\n"
          "  Runs an int8 MLP layer pair 784 -> 128 (ReLU) -> 10 on the cycle-accurate\n"
          "  simulator of the GEMM engine (the Verilated RTL) and checks every output\n"
          "  byte against the functional model.\n"
          "  --batch N   rows in the batch (1..256, default 64)\n"
          "  --seed S    seed of the random weights and inputs (default 1)\n"
          "  --trace F   write an FST waveform of the run (large; view with GTKWave)\n"
          "  Exit status 0: bit-exact; 1: mismatch or error; 2: bad usage.\n");
}

int main(int argc, char **argv) {
  int batch = 64;
  const char *trace = NULL;
  rng_s = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) rng_s = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--trace") && i + 1 < argc) trace = argv[++i];
    else {
      usage(stderr);
      return 2;
    }
  }
  if (batch < 1 || batch > 256) {
    usage(stderr);
    return 2;
  }
  const double t_start = now();
  nnfsim *s = nnfsim_create();
  if (!s) return fail("cannot create the simulator", NULL);
  nnfm_config cfg = nnfsim_config(s);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  if (!e) return fail("cannot create the model", NULL);
  if (trace && nnfsim_trace_open(s, trace)) return fail("trace", nnfsim_last_error(s));
  const uint32_t R = (uint32_t)cfg.rows, C = (uint32_t)cfg.cols, M = (uint32_t)batch;
  printf("nnfpga demo: int8 MLP %d -> %d (ReLU) -> %d, batch %d, on the simulated RTL\n", IN, HID, OUT, batch);
  printf("device: %dx%d systolic array, ACT %u x %u B, W %u x %u B, accumulators %u deep\n", cfg.rows, cfg.cols,
         cfg.act_words, R, cfg.w_words, C, cfg.acc_depth);

  /* the network and a batch of inputs (post-ReLU-like: 0..127) */
  dense L1, L2;
  const int32_t zp1 = -128; /* layer 1's output: ReLU with zero point -128 (full int8 range) */
  if (make_layer(&L1, IN, HID, 63.5, 90.0, 1, zp1) || make_layer(&L2, HID, OUT, 70.0, 40.0, 0, 3))
    return fail("cannot build the layers", NULL);
  int8_t *x = malloc((size_t)M * IN);
  if (!x) return fail("out of memory", NULL);
  for (size_t i = 0; i < (size_t)M * IN; i++) x[i] = (int8_t)(rnd() % 128);
  /* layer 2 sees layer 1's zero point: fold it into its bias (the engine has
   * no input zero point) */
  if (nnfm_fold_input_zp(L2.w, HID, OUT, zp1, L2.bias, L2.bias)) return fail("fold_input_zp", NULL);

  /* where everything lives (word addresses) */
  nnfm_cmd c1, c2;
  memset(&c1, 0, sizeof c1);
  memset(&c2, 0, sizeof c2);
  c1.m = M, c1.k = IN, c1.n = HID, c1.a_base = 0, c1.o_base = nnfm_act_words(&cfg, M, IN);
  c1.w_base = 0, c1.p_base = 0, c1.zp = L1.zp, c1.lo = L1.lo, c1.hi = L1.hi;
  c2.m = M, c2.k = HID, c2.n = OUT, c2.a_base = c1.o_base; /* layer 1's output, in place */
  c2.o_base = c1.o_base + nnfm_act_words(&cfg, M, HID);
  c2.w_base = nnfm_w_words(&cfg, IN, HID), c2.p_base = nnfm_p_entries(&cfg, HID);
  c2.zp = L2.zp, c2.lo = L2.lo, c2.hi = L2.hi;
  if (nnfm_engine_put_act(e, c1.a_base, x, M, IN) || nnfm_engine_put_weights(e, c1.w_base, L1.w, IN, HID) ||
      nnfm_engine_put_params(e, c1.p_base, L1.bias, L1.m0, L1.shift, HID) ||
      nnfm_engine_put_weights(e, c2.w_base, L2.w, HID, OUT) ||
      nnfm_engine_put_params(e, c2.p_base, L2.bias, L2.m0, L2.shift, OUT) || nnfm_engine_check(e, &c1) ||
      nnfm_engine_check(e, &c2))
    return fail("the network does not fit this configuration", NULL);

  /* host -> device through the host port */
  nnfsim_ports *p = nnfsim_ports_of(s);
  const double t0 = now();
  const uint64_t cyc0 = p->cnt_cycles;
  int rc = upload(s, e, 0, c1.a_base * R, (size_t)nnfm_act_words(&cfg, M, IN) * R);
  if (!rc) rc = upload(s, e, 1, c1.w_base * C, (size_t)nnfm_w_words(&cfg, IN, HID) * C);
  if (!rc) rc = upload(s, e, 1, c2.w_base * C, (size_t)nnfm_w_words(&cfg, HID, OUT) * C);
  if (!rc) rc = upload_params(s, e, c1.p_base, nnfm_p_entries(&cfg, HID));
  if (!rc) rc = upload_params(s, e, c2.p_base, nnfm_p_entries(&cfg, OUT));
  if (rc) return fail("upload", nnfsim_last_error(s));
  const uint64_t cyc_upload = p->cnt_cycles - cyc0;

  /* the two layers, chained on the device */
  uint64_t busy1, macs1, busy2, macs2;
  if ((rc = nnfsim_gemm(s, &c1, 0, &busy1, &macs1))) return fail("layer 1", nnfsim_last_error(s));
  if ((rc = nnfsim_gemm(s, &c2, 0, &busy2, &macs2))) return fail("layer 2", nnfsim_last_error(s));

  /* device -> host: both layers' outputs */
  size_t h_bytes = (size_t)nnfm_p_entries(&cfg, HID) * M * R, y_bytes = (size_t)nnfm_p_entries(&cfg, OUT) * M * R;
  uint8_t *h_dev = malloc(h_bytes), *y_dev = malloc(y_bytes);
  if (!h_dev || !y_dev) return fail("out of memory", NULL);
  if (nnfsim_read(s, 0, c1.o_base * R, h_dev, h_bytes) || nnfsim_read(s, 0, c2.o_base * R, y_dev, y_bytes))
    return fail("read back", nnfsim_last_error(s));
  const double wall = now() - t0;
  const uint64_t cycles = p->cnt_cycles - cyc0;
  nnfsim_trace_close(s);

  /* the model: the engine on the same images, and plain nnfm_gemm */
  uint64_t mm1, mm2;
  if (nnfm_engine_gemm(e, &c1, &mm1) || nnfm_engine_gemm(e, &c2, &mm2)) return fail("model", NULL);
  int exact = !memcmp(h_dev, e->act + (size_t)c1.o_base * R, h_bytes) &&
              !memcmp(y_dev, e->act + (size_t)c2.o_base * R, y_bytes) && macs1 == mm1 && macs2 == mm2;
  int8_t *h_ref = malloc((size_t)M * HID), *y_ref = malloc((size_t)M * OUT), *y_got = malloc((size_t)M * OUT);
  nnfm_gemm_args g1 = {(int)M, IN, HID, L1.zp, L1.lo, L1.hi, NULL, NNFM_ROUND_SINGLE};
  nnfm_gemm_args g2 = {(int)M, HID, OUT, L2.zp, L2.lo, L2.hi, NULL, NNFM_ROUND_SINGLE};
  if (!h_ref || !y_ref || !y_got || nnfm_gemm(&g1, x, L1.w, L1.bias, L1.m0, L1.shift, h_ref) ||
      nnfm_gemm(&g2, h_ref, L2.w, L2.bias, L2.m0, L2.shift, y_ref))
    return fail("reference gemm", NULL);
  /* the device's Y in row-major: the engine model's unpacking of the bytes read */
  memcpy(e->act + (size_t)c2.o_base * R, y_dev, y_bytes);
  if (nnfm_engine_get_act(e, c2.o_base, y_got, M, OUT)) return fail("unpack", NULL);
  exact = exact && !memcmp(y_got, y_ref, (size_t)M * OUT);

  const uint64_t mac_cap = (uint64_t)R * C;
  printf("layer 1: %u x %d -> %d  busy %8" PRIu64 " cycles  %9" PRIu64 " MACs  utilization %.4f\n", M, IN, HID,
         busy1, macs1, (double)macs1 / (double)(mac_cap * busy1));
  printf("layer 2: %u x %d -> %d   busy %8" PRIu64 " cycles  %9" PRIu64 " MACs  utilization %.4f\n", M, HID, OUT,
         busy2, macs2, (double)macs2 / (double)(mac_cap * busy2));
  printf("host port: %" PRIu64 " cycles to load %zu bytes; %" PRIu64 " cycles in all\n", cyc_upload,
         (size_t)(nnfm_act_words(&cfg, M, IN) * R + (nnfm_w_words(&cfg, IN, HID) + nnfm_w_words(&cfg, HID, OUT)) * C),
         cycles);
  printf("simulator: %.2f s wall, %.2f M simulated cycles/s\n", wall, (double)cycles / wall / 1e6);
  printf("row 0 outputs:");
  for (int j = 0; j < OUT; j++) printf(" %d", y_got[j]);
  printf("\nbit-exact: %s\n", exact ? "yes" : "NO");
  if (!exact) {
    for (size_t i = 0; i < (size_t)M * OUT; i++)
      if (y_got[i] != y_ref[i]) {
        fprintf(stderr, "first difference: row %zu output %zu: device %d, model %d\n", i / OUT, i % OUT, y_got[i],
                y_ref[i]);
        break;
      }
  }
  printf("total %.2f s\n", now() - t_start);
  free(x);
  free(h_dev);
  free(y_dev);
  free(h_ref);
  free(y_ref);
  free(y_got);
  free_layer(&L1);
  free_layer(&L2);
  nnfm_engine_destroy(e);
  nnfsim_destroy(s);
  return exact ? 0 : 1;
}
