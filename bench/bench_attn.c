/*
 * bench_attn.c - transformer_inference: a Transformer encoder on a device
 * (docs/attention.md "Device"), the sequential Fashion-MNIST model's shape
 * by default (each image 28 tokens of 28 pixels; two pre-norm encoder
 * layers of d_model 64, 4 heads, ff 128, GELU; mean pooling; a Linear to 10
 * classes), untrained: the cycles do not depend on the weights.
 *
 * The network is compiled by libnnf's device compiler and run on the
 * device over --sequences sequences; every output byte is checked against
 * the host's integer forward (a mismatch is an error, not a figure). Then
 * each instruction of the loaded program runs on its own, once and 17
 * times in a row (a LOOP's body counted as many times as the LOOP runs
 * it): the difference of the device's cycle counter over 16 is the
 * instruction's cycles, the link's share cancelling. Summed by unit, that
 * is the split of a sequence's cycles between the array (GEMM) and the
 * units outside it (ACTW, ROW SOFTMAX, ROW LAYERNORM, EW), measured on the
 * device itself.
 *
 * Records in bench.json, under "transformer_inference":
 *   cycles_per_sequence       the device's cycle counter over the run, per
 *                             sequence (link included: tokens in, logits out)
 *   busy_cycles_per_sequence  the cycles its executor ran instructions
 *   model_macs_per_sequence   the network's own MACs (projections, Q K^T,
 *                             P V, feed-forward, pooling, the head)
 *   ideal_cycles_per_sequence model MACs / (rows * cols); ratio = cycles / ideal
 *   utilization               device MACs / (cycles * rows * cols)
 *   split                     per unit: cycles per sequence and share of the
 *                             instructions' sum (gemm, actw, softmax,
 *                             layernorm, ew, other)
 *
 *   bench_attn [--device URI] [--arch A] [--tokens T] [--width I] [--sequences N] [--json FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_json.h"
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_proto_gen.h"
#include "nnfdrv.h"

static void fail(const char *what, const char *err) {
  fprintf(stderr, "bench_attn: %s: %s\n", what, err);
  exit(1);
}

enum { U_GEMM = 0, U_ACTW, U_SOFTMAX, U_LN, U_EW, U_OTHER, U_N };
static const char *const unit_names[U_N] = {"gemm", "actw", "softmax", "layernorm", "ew", "other"};

static int unit_of(const uint8_t *insn) {
  switch (nnfp_insn_get_opcode(insn)) {
    case NNFP_OP_GEMM:
    case NNFP_OP_CONV: return U_GEMM;
    case NNFP_OP_ACTW: return U_ACTW;
    case NNFP_OP_ROW: return nnfp_row_get_op(insn) == NNFM_ROW_LAYERNORM ? U_LN : U_SOFTMAX;
    case NNFP_OP_EW: return U_EW;
    default: return U_OTHER;
  }
}

/* The network's own MACs per sequence, from its layers' shapes. */
static double model_macs(const nnf_net *n) {
  double m = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_attn_kind k;
    nnf_attn_config c;
    const nnf_layer *l = n->layer[i];
    if (nnf_layer_attn(l, &k, &c)) {
      if (!strcmp(l->ops->kind, "Linear")) m += (double)l->in * l->out;
      continue;
    }
    const double d = c.d, T = (double)l->in / (k == NNF_ATTN_EMBED ? c.in : c.d); /* tokens in */
    if (k == NNF_ATTN_EMBED) m += T * c.in * d;
    else if (k == NNF_ATTN_MEANPOOL) m += T * d;
    else if (k == NNF_ATTN_MHA || k == NNF_ATTN_ENCODER) {
      m += T * d * 3 * d + 2 * T * T * d + T * d * d; /* in_proj, Q K^T and P V over the heads, out_proj */
      if (k == NNF_ATTN_ENCODER) m += 2 * T * d * c.ff;
    }
  }
  return m;
}

int main(int argc, char **argv) {
  const char *uri = "sim", *json_path = NULL;
  const char *arch = "embed(64),posembed(28),encoder(64,4,ff=128,act=gelu,norm_first=1),"
                     "encoder(64,4,ff=128,act=gelu,norm_first=1),meanpool,dense(10)";
  int T = 28, I = 28, count = 8;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) uri = argv[++i];
    else if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
    else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) T = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--width") && i + 1 < argc) I = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--sequences") && i + 1 < argc) count = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else {
      printf("usage: bench_attn [--device URI] [--arch A] [--tokens T] [--width I] [--sequences N] [--json FILE]\n"
             "  a Transformer encoder on a device (default: sequential Fashion-MNIST's 2-layer encoder on sim):\n"
             "  cycles per sequence against the ideal, and the split between the array and the other units\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (T < 1 || I < 1 || count < 1) fail("arguments", "--tokens, --width and --sequences are at least 1");
  char err[512] = "";
  int shape[3] = {1, T, I};
  nnf_net *n = nnf_arch_build(arch, shape, err, sizeof err);
  if (!n) fail(arch, err);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  if (nnf_net_init(n, &is, 1)) fail("init", "failed");
  const int K = nnf_net_inputs(n), C = nnf_net_outputs(n);
  float *x = malloc((size_t)count * K * sizeof(float));
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < (size_t)count * K; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (float)((s >> 40) % 1000) / 1000.0f;
  }
  if (nnf_net_observe(n, x, count, 1) || nnf_net_quantize(n, err, sizeof err)) fail("quantize", err);
  if (nnf_net_run(n, NNF_FWD_INT, x, count, err, sizeof err)) fail("host INT forward", err);
  int8_t *want = malloc((size_t)count * C);
  memcpy(want, n->t[n->nlayers].q, (size_t)count * C);

  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  if (!d) fail(uri, err);
  nnf_device_set_outputs_only(d, 1);
  if (nnf_device_load(d, n, 1, err, sizeof err)) fail("load", err);
  if (nnf_device_reset_counters(d, err, sizeof err)) fail("counters", err);
  nnfdrv *drv = nnf_device_driver(d);
  nnfdrv_counters c0, c1;
  if (nnfdrv_get_counters(drv, &c0)) fail("counters", nnfdrv_errmsg(drv));
  if (nnf_device_forward(d, n, x, count, err, sizeof err)) fail("forward", err);
  if (nnfdrv_get_counters(drv, &c1)) fail("counters", nnfdrv_errmsg(drv));
  if (memcmp(n->t[n->nlayers].q, want, (size_t)count * C)) fail("outputs", "the device's differ from the host's INT");
  const nnfdrv_info *in = nnfdrv_get_info(drv);
  const double rows = in->rows, cols = in->cols;
  const double cycles = (double)(c1.cycles - c0.cycles) / count, busy = (double)(c1.busy_cycles - c0.busy_cycles) / count;
  const double dev_macs = (double)(c1.macs - c0.macs) / count, macs = model_macs(n), ideal = macs / (rows * cols);
  nnf_device_memory mem;
  nnf_device_memory_get(d, &mem);

  /* each instruction alone, at the end of program memory: run 1 and 1 + REPS
   * times in a row, the difference over REPS (the link's share cancels) */
  enum { REPS = 16 };
  size_t plen = (size_t)in->prog_words * 32;
  uint8_t *prog = malloc(plen);
  if (nnfdrv_read(drv, NNFDRV_PROG, 0, prog, plen)) fail("program read", nnfdrv_errmsg(drv));
  uint32_t last = 0; /* instructions in use: up to the last that is not END */
  for (uint32_t pc = 0; pc < in->prog_words; pc++)
    if (nnfp_insn_get_opcode(prog + 32 * (size_t)pc) != NNFP_OP_END) last = pc + 1;
  const uint32_t at = in->prog_words - (REPS + 2);
  if (last > at) fail("program", "no room after it to run its instructions alone");
  double *t = calloc(last + 1, sizeof *t), unit[U_N] = {0};
  uint8_t *rep = malloc(32 * (REPS + 2));
  for (uint32_t pc = 0; pc < last; pc++) {
    uint8_t *insn = prog + 32 * (size_t)pc;
    uint32_t op = nnfp_insn_get_opcode(insn);
    if (op == NNFP_OP_END) continue;
    if (op == NNFP_OP_LOOP) { /* the body ran count times in all */
      uint32_t target = nnfp_loop_get_target(insn), times = nnfp_loop_get_count(insn);
      for (uint32_t b = target; b < pc; b++) t[b] *= times;
      continue;
    }
    double took[2];
    for (int k = 0; k < 2; k++) {
      int n_in = k ? REPS + 1 : 1;
      for (int j = 0; j < n_in; j++) {
        uint8_t *one = rep + 32 * j;
        memcpy(one, insn, 32);
        nnfp_insn_put_a_rel(one, 0);
        if (op != NNFP_OP_ACTW) nnfp_insn_put_o_rel(one, 0);
        if (op == NNFP_OP_EW) nnfp_ew_put_b_rel(one, 0);
      }
      nnfdrv_insn_end(rep + 32 * n_in);
      nnfdrv_counters a, b;
      if (nnfdrv_write(drv, NNFDRV_PROG, at * 32, rep, 32 * (size_t)(n_in + 1)) || nnfdrv_get_counters(drv, &a) ||
          nnfdrv_run(drv, at) || nnfdrv_wait(drv) || nnfdrv_get_counters(drv, &b))
        fail("an instruction alone", nnfdrv_errmsg(drv));
      took[k] = (double)(b.cycles - a.cycles);
    }
    t[pc] = (took[1] - took[0]) / REPS;
  }
  free(rep);
  double sum = 0;
  for (uint32_t pc = 0; pc < last; pc++) {
    unit[unit_of(prog + 32 * (size_t)pc)] += t[pc] / mem.copies;
    sum += t[pc] / mem.copies;
  }

  printf("transformer_inference %s on %s (%.0fx%.0f): %.0f cycles/sequence (busy %.0f), ideal %.0f (%.2fx), "
         "utilization %.3f\n",
         arch, uri, rows, cols, cycles, busy, ideal, cycles / ideal, dev_macs / (cycles * rows * cols));
  printf("  instructions alone: %.0f cycles/sequence:", sum);
  for (int u = 0; u < U_N; u++) printf(" %s %.0f (%.1f%%)", unit_names[u], unit[u], 100.0 * unit[u] / sum);
  printf("\n");
  if (json_path) {
    cJSON *o = cJSON_CreateObject(), *sp = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", uri);
    cJSON_AddStringToObject(o, "arch", arch);
    cJSON_AddNumberToObject(o, "tokens", T);
    cJSON_AddNumberToObject(o, "rows", rows);
    cJSON_AddNumberToObject(o, "cols", cols);
    cJSON_AddNumberToObject(o, "sequences", count);
    cJSON_AddNumberToObject(o, "cycles_per_sequence", cycles);
    cJSON_AddNumberToObject(o, "busy_cycles_per_sequence", busy);
    cJSON_AddNumberToObject(o, "model_macs_per_sequence", macs);
    cJSON_AddNumberToObject(o, "device_macs_per_sequence", dev_macs);
    cJSON_AddNumberToObject(o, "ideal_cycles_per_sequence", ideal);
    cJSON_AddNumberToObject(o, "ratio", cycles / ideal);
    cJSON_AddNumberToObject(o, "utilization", dev_macs / (cycles * rows * cols));
    cJSON_AddNumberToObject(o, "link_bytes_in_per_sequence", (double)(c1.bytes_in - c0.bytes_in) / count);
    cJSON_AddNumberToObject(o, "link_bytes_out_per_sequence", (double)(c1.bytes_out - c0.bytes_out) / count);
    cJSON_AddNumberToObject(o, "instruction_cycles_per_sequence", sum);
    for (int u = 0; u < U_N; u++) {
      cJSON *e = cJSON_CreateObject();
      cJSON_AddNumberToObject(e, "cycles_per_sequence", unit[u]);
      cJSON_AddNumberToObject(e, "share", unit[u] / sum);
      cJSON_AddItemToObject(sp, unit_names[u], e);
    }
    cJSON_AddItemToObject(o, "split", sp);
    cJSON_AddNumberToObject(o, "outside_array_share", (sum - unit[U_GEMM]) / sum);
    cJSON *root = bench_json_load(json_path);
    bench_json_set(root, "transformer_inference", o);
    if (bench_json_save(json_path, root)) fail(json_path, "cannot write");
  }
  free(t), free(prog), free(want), free(x);
  nnf_device_close(d);
  nnf_net_free(n);
  return 0;
}
