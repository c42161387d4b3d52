/*
 * bench_gemm.c - figures of the GEMM engine on the cycle-accurate simulator
 * (nnfsim, the Verilated RTL):
 *
 *   gemm  per layer shape: busy cycles and MACs from the engine's own
 *         counters (exact, repeatable), utilization = MACs / (ROWS * COLS *
 *         busy cycles). Every result is checked byte for byte against the
 *         functional model: a mismatch is an error (exit 1), not a figure.
 *   sim   the simulator's speed (simulated cycles per wall-clock second),
 *         and its ratio to Icarus Verilog on the same operation list
 *         (tests/rtl/nnf_ops.h: the same port activity cycle for cycle,
 *         under tb_gemm_icarus.v and replayed on nnfsim; outputs checked
 *         against the model and the cycle counts against each other).
 *
 *   bench_gemm [--json FILE] [--key NAME] [--shape MxKxN]... [--seed S]
 *              [--icarus-vvp TB.vvp --icarus-gen GEN [--icarus-shape MxKxN] [--vvp VVP]]
 *
 * --json merges {"<key>": [...], "sim": {...}} into FILE (other keys kept;
 * key defaults to "gemm"). Wall-clock figures vary from run to run; cycle
 * figures do not.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench_json.h"
#include "nnf_ops_replay.h"
#include "nnfm.h"
#include "nnfsim.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "bench_gemm: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(1);
}

static uint64_t rng_s = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
  uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct {
  uint32_t m, k, n;
} shape;

typedef struct {
  shape s;
  int fits;
  uint64_t busy, macs, cycles_total;
  double util, seconds;
} result;

static int parse_shape(const char *t, shape *s) {
  unsigned m, k, n;
  char x;
  if (sscanf(t, "%ux%ux%u%c", &m, &k, &n, &x) != 3) return -1;
  s->m = m, s->k = k, s->n = n;
  return 0;
}

/* One layer: random data at fixed places, uploaded through the host port,
 * run on the device and on the model, output compared byte for byte. */
static result run_shape(nnfsim *sim, nnfm_engine *e, shape sh) {
  const nnfm_config cfg = e->cfg;
  const uint32_t R = (uint32_t)cfg.rows, C = (uint32_t)cfg.cols;
  result res;
  memset(&res, 0, sizeof res);
  res.s = sh;
  nnfm_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.m = sh.m, c.k = sh.k, c.n = sh.n;
  c.o_base = nnfm_act_words(&cfg, sh.m, sh.k);
  c.lo = -128, c.hi = 127;
  if (nnfm_engine_check(e, &c) != NNFM_OK || sh.m > 65535 || sh.k > 65535 || sh.n > 65535) return res;
  int8_t *a = malloc((size_t)sh.m * sh.k + 1), *w = malloc((size_t)sh.k * sh.n + 1);
  int32_t *b = malloc(4 * ((size_t)sh.n + 1)), *q = malloc(4 * ((size_t)sh.n + 1));
  int8_t *s = malloc((size_t)sh.n + 1);
  if (!a || !w || !b || !q || !s) die("out of memory%s", "");
  for (size_t i = 0; i < (size_t)sh.m * sh.k; i++) a[i] = (int8_t)(rnd() >> 56);
  for (size_t i = 0; i < (size_t)sh.k * sh.n; i++) w[i] = (int8_t)((int)(rnd() % 255) - 127);
  for (uint32_t j = 0; j < sh.n; j++) {
    b[j] = (int32_t)(rnd() % 200001) - 100000;
    double real = 1.0 / (40.0 * 127.0 * (sh.k ? sqrt((double)sh.k) : 1.0));
    int sft;
    if (nnfm_quantize_multiplier(real * (0.75 + 0.5 * (double)(rnd() % 1000) / 1000.0), &q[j], &sft) != NNFM_OK)
      die("quantize_multiplier%s", "");
    s[j] = (int8_t)sft;
  }
  if (nnfm_engine_put_act(e, 0, a, sh.m, sh.k) || nnfm_engine_put_weights(e, 0, w, sh.k, sh.n) ||
      nnfm_engine_put_params(e, 0, b, q, s, sh.n))
    die("packing%s", "");
  nnfsim_ports *p = nnfsim_ports_of(sim);
  const double t0 = now();
  const uint64_t c0 = p->cnt_cycles;
  size_t a_bytes = (size_t)nnfm_act_words(&cfg, sh.m, sh.k) * R;
  size_t w_bytes = (size_t)nnfm_w_words(&cfg, sh.k, sh.n) * C;
  uint32_t entries = nnfm_p_entries(&cfg, sh.n);
  int rc = nnfsim_write(sim, 0, 0, e->act, a_bytes);
  if (!rc) rc = nnfsim_write(sim, 1, 0, e->w, w_bytes);
  for (uint32_t slot = 0; !rc && slot < entries * C; slot++) {
    uint8_t rec[9];
    nnfm_engine_read_bytes(e, 2, slot * 16, rec, 9);
    rc = nnfsim_write(sim, 2, slot * 16, rec, 9);
  }
  if (rc) die("upload: %s", nnfsim_last_error(sim));
  uint64_t busy = 0, macs = 0, macs_model = 0;
  if ((rc = nnfsim_gemm(sim, &c, 0, &busy, &macs)) != NNFSIM_OK) die("gemm: %s", nnfsim_last_error(sim));
  size_t o_bytes = (size_t)entries * sh.m * R;
  uint8_t *got = malloc(o_bytes + 1);
  if (nnfsim_read(sim, 0, c.o_base * R, got, o_bytes)) die("read: %s", nnfsim_last_error(sim));
  res.seconds = now() - t0;
  res.cycles_total = p->cnt_cycles - c0;
  if (nnfm_engine_gemm(e, &c, &macs_model)) die("model gemm%s", "");
  const uint8_t *want = e->act + (size_t)c.o_base * R;
  for (size_t i = 0; i < o_bytes; i++)
    if (got[i] != want[i]) {
      fprintf(stderr,
              "bench_gemm: M=%u K=%u N=%u: NOT BIT-EXACT: ACT word %zu byte %zu: RTL 0x%02x, model 0x%02x\n",
              sh.m, sh.k, sh.n, (size_t)c.o_base + i / R, i % R, got[i], want[i]);
      exit(1);
    }
  if (macs != macs_model) {
    fprintf(stderr, "bench_gemm: M=%u K=%u N=%u: cnt_macs %" PRIu64 " != model %" PRIu64 "\n", sh.m, sh.k,
            sh.n, macs, macs_model);
    exit(1);
  }
  res.fits = 1;
  res.busy = busy;
  res.macs = macs;
  res.util = busy ? (double)macs / ((double)R * C * (double)busy) : 0.0;
  free(a);
  free(w);
  free(b);
  free(q);
  free(s);
  free(got);
  return res;
}

/* Run argv[0] with stdout to out_path (NULL: inherit); exit status or -1. */
static int run(char *const argv[], const char *out_path) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (out_path) {
      int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || dup2(fd, 1) < 0) _exit(127);
      close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  if (b) b[n] = 0;
  fclose(f);
  return b;
}

static int same_file(const char *x, const char *y) {
  char *a = slurp(x), *b = slurp(y);
  int same = a && b && !strcmp(a, b);
  free(a);
  free(b);
  return same;
}

typedef struct {
  int done;
  shape s;
  uint64_t cycles;
  double icarus_s, verilator_s, icarus_cps, verilator_cps, ratio;
} icarus_result;

/* The same operation list under Icarus and on nnfsim. */
static icarus_result icarus_ratio(nnfsim *sim, const char *vvp_bin, const char *vvp_tb, const char *gen, shape sh) {
  icarus_result r;
  memset(&r, 0, sizeof r);
  r.s = sh;
  const char *tmp = getenv("TMPDIR");
  char dir[512], ops[600], exp[600], out_i[600], out_v[600], log[600];
  snprintf(dir, sizeof dir, "%s/nnf_bench_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) die("cannot create a directory in %s", tmp && *tmp ? tmp : "/tmp");
  snprintf(ops, sizeof ops, "%s/ops.hex", dir);
  snprintf(exp, sizeof exp, "%s/expected.hex", dir);
  snprintf(out_i, sizeof out_i, "%s/icarus.hex", dir);
  snprintf(out_v, sizeof out_v, "%s/verilator.hex", dir);
  snprintf(log, sizeof log, "%s/icarus.log", dir);
  char m[16], k[16], n[16], plus_ops[640], plus_out[640];
  snprintf(m, sizeof m, "%u", sh.m);
  snprintf(k, sizeof k, "%u", sh.k);
  snprintf(n, sizeof n, "%u", sh.n);
  char *gargv[] = {(char *)gen, "--shape", m, k, n, ops, exp, NULL};
  if (run(gargv, NULL) != 0) die("%s failed", gen);
  snprintf(plus_ops, sizeof plus_ops, "+ops=%s", ops);
  snprintf(plus_out, sizeof plus_out, "+out=%s", out_i);
  char *vargv[] = {(char *)vvp_bin, "-n", (char *)vvp_tb, plus_ops, plus_out, NULL};
  printf("icarus: M=%u K=%u N=%u under vvp ...\n", sh.m, sh.k, sh.n);
  double t0 = now();
  int rc = run(vargv, log);
  r.icarus_s = now() - t0;
  char *text = slurp(log);
  unsigned long long ic = 0, ib = 0, im = 0;
  const char *line = text ? strstr(text, "cycles ") : NULL;
  if (rc != 0 || !line || sscanf(line, "cycles %llu busy %llu macs %llu", &ic, &ib, &im) != 3)
    die("the Icarus testbench failed: %s", text ? text : "(no output)");
  free(text);
  if (!same_file(out_i, exp)) die("Icarus output differs from the model's (%s)", dir);
  /* the same list on nnfsim */
  nnf_ops_list l;
  if (nnf_ops_load(ops, &l)) die("cannot read %s", ops);
  FILE *fo = fopen(out_v, "w");
  if (!fo) die("cannot write %s", out_v);
  nnf_ops_counts cnt;
  char err[200];
  t0 = now();
  rc = nnf_ops_replay(sim, &l, fo, UINT64_MAX, &cnt, err, sizeof err);
  r.verilator_s = now() - t0;
  fclose(fo);
  nnf_ops_free(&l);
  if (rc) die("replay: %s", err);
  if (!same_file(out_v, exp)) die("Verilator output differs from the model's (%s)", dir);
  if (cnt.cycles != ic || cnt.busy != ib || cnt.macs != im) {
    fprintf(stderr, "bench_gemm: cycle counts differ: Icarus %llu/%llu/%llu, Verilator %" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
            ic, ib, im, cnt.cycles, cnt.busy, cnt.macs);
    exit(1);
  }
  remove(ops);
  remove(exp);
  remove(out_i);
  remove(out_v);
  remove(log);
  rmdir(dir);
  r.cycles = ic;
  r.icarus_cps = (double)ic / r.icarus_s;
  r.verilator_cps = (double)cnt.cycles / r.verilator_s;
  r.ratio = r.verilator_cps / r.icarus_cps;
  r.done = 1;
  return r;
}

/* Merge our keys into the JSON file (other keys kept), atomically. */
static void write_json(const char *path, const char *key, const nnfm_config *cfg, nnfsim *sim,
                       const result *res, int nres, double cps, const icarus_result *ir) {
  cJSON *root = bench_json_load(path);
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < nres; i++) {
    if (!res[i].fits) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "m", res[i].s.m);
    cJSON_AddNumberToObject(o, "k", res[i].s.k);
    cJSON_AddNumberToObject(o, "n", res[i].s.n);
    cJSON_AddNumberToObject(o, "rows", cfg->rows);
    cJSON_AddNumberToObject(o, "cols", cfg->cols);
    cJSON_AddNumberToObject(o, "cycles", (double)res[i].busy);
    cJSON_AddNumberToObject(o, "macs", (double)res[i].macs);
    cJSON_AddNumberToObject(o, "utilization", res[i].util);
    cJSON_AddBoolToObject(o, "bit_exact", 1);
    cJSON_AddItemToArray(arr, o);
  }
  bench_json_set(root, key, arr);
  char ckey[80];
  snprintf(ckey, sizeof ckey, "%s_config", key);
  cJSON *c = cJSON_CreateObject();
  static const char *names[] = {"ROWS", "COLS", "ACT_WORDS", "W_WORDS", "P_WORDS", "ACC_DEPTH", "VEC_SERIAL", "PE_DSP"};
  for (int i = 0; i < 8; i++) cJSON_AddNumberToObject(c, names[i], (double)nnfsim_param(sim, names[i]));
  bench_json_set(root, ckey, c);
  if (ir) { /* the simulator figures (only from the run that measured them) */
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "cycles_per_second", cps);
    if (ir->done) {
      cJSON_AddNumberToObject(s, "icarus_ratio", ir->ratio);
      cJSON_AddNumberToObject(s, "icarus_cycles_per_second", ir->icarus_cps);
      cJSON_AddNumberToObject(s, "verilator_cycles_per_second_same_workload", ir->verilator_cps);
      cJSON *wl = cJSON_CreateObject();
      cJSON_AddNumberToObject(wl, "m", ir->s.m);
      cJSON_AddNumberToObject(wl, "k", ir->s.k);
      cJSON_AddNumberToObject(wl, "n", ir->s.n);
      cJSON_AddNumberToObject(wl, "cycles", (double)ir->cycles);
      cJSON_AddNumberToObject(wl, "icarus_seconds", ir->icarus_s);
      cJSON_AddNumberToObject(wl, "verilator_seconds", ir->verilator_s);
      cJSON_AddItemToObject(s, "icarus_workload", wl);
    } else {
      cJSON_AddNullToObject(s, "icarus_ratio");
    }
    bench_json_set(root, "sim", s);
  }
  if (bench_json_save(path, root) != 0) die("cannot write %s", path);
  printf("wrote %s\n", path);
}

int main(int argc, char **argv) {
  const char *json = NULL, *key = "gemm", *vvp_tb = NULL, *gen = NULL, *vvp_bin = "vvp";
  shape shapes[32];
  int nshapes = 0;
  shape ish = {64, 128, 64};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc && nshapes < 32) {
      if (parse_shape(argv[++i], &shapes[nshapes++])) die("bad shape %s (MxKxN)", argv[i]);
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) rng_s = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--icarus-vvp") && i + 1 < argc) vvp_tb = argv[++i];
    else if (!strcmp(argv[i], "--icarus-gen") && i + 1 < argc) gen = argv[++i];
    else if (!strcmp(argv[i], "--vvp") && i + 1 < argc) vvp_bin = argv[++i];
    else if (!strcmp(argv[i], "--icarus-shape") && i + 1 < argc) {
      if (parse_shape(argv[++i], &ish)) die("bad shape %s (MxKxN)", argv[i]);
    } else {
      printf("usage: bench_gemm [--json FILE] [--key NAME] [--shape MxKxN]... [--seed S]\n"
             "                  [--icarus-vvp TB.vvp --icarus-gen GEN [--icarus-shape MxKxN] [--vvp VVP]]\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (!nshapes) {
    static const shape def[] = {{64, 784, 128}, {256, 784, 128}, {1, 784, 128}, {16, 784, 128},
                                {128, 784, 128}, {256, 128, 128}, {64, 128, 10}, {256, 16, 128}};
    nshapes = (int)(sizeof def / sizeof def[0]);
    memcpy(shapes, def, sizeof def);
  }
  nnfsim *sim = nnfsim_create();
  if (!sim) die("cannot create the simulator%s", "");
  nnfm_config cfg = nnfsim_config(sim);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  if (!e) die("cannot create the model%s", "");
  printf("nnf_gemm %dx%d, ACT %u x %d B, W %u x %d B, P %u, ACC %u, VEC_SERIAL %ld, PE_DSP %ld\n", cfg.rows,
         cfg.cols, cfg.act_words, cfg.rows, cfg.w_words, cfg.cols, cfg.p_words, cfg.acc_depth,
         nnfsim_param(sim, "VEC_SERIAL"), nnfsim_param(sim, "PE_DSP"));
  printf("%6s %5s %5s %10s %12s %8s  %s\n", "M", "K", "N", "busy", "MACs", "util", "");
  result res[32];
  uint64_t all_cycles = 0;
  double all_s = 0;
  for (int i = 0; i < nshapes; i++) {
    res[i] = run_shape(sim, e, shapes[i]);
    if (!res[i].fits) {
      printf("%6u %5u %5u  does not fit this configuration's buffers: skipped\n", shapes[i].m, shapes[i].k,
             shapes[i].n);
      continue;
    }
    all_cycles += res[i].cycles_total;
    all_s += res[i].seconds;
    printf("%6u %5u %5u %10" PRIu64 " %12" PRIu64 " %8.4f  bit-exact\n", shapes[i].m, shapes[i].k, shapes[i].n,
           res[i].busy, res[i].macs, res[i].util);
  }
  for (int i = 0; i < nshapes; i++) /* the targets (reported, not enforced) */
    if (res[i].fits && res[i].s.k == 784 && res[i].s.n == 128 && (res[i].s.m == 256 || res[i].s.m == 64)) {
      double target = res[i].s.m == 256 ? 0.95 : 0.90;
      printf("utilization M=%u K=784 N=128: %.4f (target >= %.2f: %s)\n", res[i].s.m, res[i].util, target,
             res[i].util >= target ? "met" : "NOT MET");
    }
  double cps = all_s > 0 ? (double)all_cycles / all_s : 0;
  printf("simulator: %" PRIu64 " cycles in %.2f s: %.0f cycles/s (uploads, commands and read-back)\n", all_cycles,
         all_s, cps);
  icarus_result ir;
  memset(&ir, 0, sizeof ir);
  if (vvp_tb && gen) {
    if (cfg.rows != nnfm_config_default().rows || cfg.act_words != nnfm_config_default().act_words)
      printf("icarus: the testbench runs the default configuration: no ratio for this one\n");
    else {
      ir = icarus_ratio(sim, vvp_bin, vvp_tb, gen, ish);
      printf("icarus: %" PRIu64 " cycles, %.1f s (%.0f cycles/s); nnfsim: %.3f s (%.0f cycles/s): ratio %.0f\n",
             ir.cycles, ir.icarus_s, ir.icarus_cps, ir.verilator_s, ir.verilator_cps, ir.ratio);
    }
  }
  if (json) write_json(json, key, &cfg, sim, res, nshapes, cps, (vvp_tb && gen) ? &ir : NULL);
  nnfm_engine_destroy(e);
  nnfsim_destroy(sim);
  return 0;
}
