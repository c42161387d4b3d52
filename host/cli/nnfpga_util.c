/*
 * nnfpga_util.c - option parsing, progress bar and data loading for the
 * nnfpga command (see nnfpga_cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_plot.h"
#include "nnf_util.h"
#include "nnfdrv.h"
#include "nnfpga_cli.h"

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n)) return 0;
  if (a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if (a[n]) return 0;
  if (*i + 1 >= argc) return -1;
  *val = argv[++*i];
  return 1;
}

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "nnfpga %s: %s wants an integer in %ld..%ld, not '%s'\n", cmd, opt, lo, hi, s);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_real(const char *cmd, const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v)) {
    fprintf(stderr, "nnfpga %s: %s wants a number, not '%s'\n", cmd, opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

double cli_now(void) { return nnf_now(); }

void cli_progress_init(cli_progress *p, const char *what, int enabled) {
  p->enabled = enabled && isatty(2);
  p->t0 = p->last = cli_now();
  p->what = what;
}

static void hms(char *buf, size_t len, double s) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress_update(cli_progress *p, long done, long total) {
  if (!p->enabled || total <= 0) return;
  double t = cli_now();
  if (t - p->last < 0.1 && done < total) return;
  p->last = t;
  const int width = 30;
  int fill = (int)((double)done / (double)total * width);
  char bar[64], eta[32];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  double rate = done / (t - p->t0 > 1e-9 ? t - p->t0 : 1e-9);
  hms(eta, sizeof eta, rate > 0 ? (double)(total - done) / rate : 0);
  fprintf(stderr, "\r%s [%s] %3d%% %ld/%ld  %.1f/s  ETA %s ", p->what, bar,
          (int)(100.0 * done / total), done, total, rate, eta);
  fflush(stderr);
}

void cli_progress_end(cli_progress *p) {
  if (p->enabled) fprintf(stderr, "\r%*s\r", 79, "");
}

int cli_load_data(const char *cmd, const char *dir, const char *csv, int label_col, int seq_id, int targets, int train,
                  long limit, nnf_dataset *out) {
  char err[512];
  if (targets && !csv) {
    fprintf(stderr, "nnfpga %s: float targets (multilabel, regression) come from CSV data, not an IDX directory\n", cmd);
    return -1;
  }
  if (seq_id >= 0 && !csv) {
    fprintf(stderr, "nnfpga %s: --seq-id reads CSV data (one line per time step), not an IDX directory\n", cmd);
    return -1;
  }
  nnf_csv_seq sq = {seq_id, label_col, targets, 0};
  int rc = seq_id >= 0 ? nnf_dataset_load_csv_steps(csv, &sq, out, err, sizeof err)
           : targets ? nnf_dataset_load_csv_targets(csv, label_col, targets, out, err, sizeof err)
           : csv   ? nnf_dataset_load_csv(csv, label_col, out, err, sizeof err)
                   : nnf_dataset_load_mnist_dir(dir, train, out, err, sizeof err);
  if (rc) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return -1;
  }
  if (limit > 0 && (size_t)limit < out->count) {
    nnf_dataset sub;
    if (nnf_dataset_slice(out, 0, (size_t)limit, &sub)) {
      fprintf(stderr, "nnfpga %s: out of memory\n", cmd);
      nnf_dataset_free(out);
      return -1;
    }
    nnf_dataset_free(out);
    *out = sub;
  }
  return 0;
}

int cli_task(const char *cmd, const char *task, const char *loss, const char *delta, int outputs, nnf_task *out) {
  char err[256];
  int k = task ? nnf_task_parse(task) : NNF_TASK_MULTICLASS;
  int l = loss ? nnf_loss_parse(loss) : -1;
  if (k < 0) {
    fprintf(stderr, "nnfpga %s: --task is multiclass, binary, multilabel or regression, not '%s'\n", cmd, task);
    return EXIT_USAGE;
  }
  if (loss && l < 0) {
    fprintf(stderr, "nnfpga %s: --loss is ce, bce, mse, mae or huber, not '%s'\n", cmd, loss);
    return EXIT_USAGE;
  }
  memset(out, 0, sizeof *out);
  out->kind = (nnf_task_kind)k;
  out->loss = loss ? (nnf_loss_kind)l : nnf_task_default_loss(out->kind);
  double d = 1.0;
  if (delta && out->loss != NNF_LOSS_HUBER) {
    fprintf(stderr, "nnfpga %s: --huber-delta goes with --loss huber\n", cmd);
    return EXIT_USAGE;
  }
  if (delta && (cli_real(cmd, "--huber-delta", delta, &d) || !(d > 0))) {
    fprintf(stderr, "nnfpga %s: --huber-delta must be > 0\n", cmd);
    return EXIT_USAGE;
  }
  out->huber_delta = (float)d;
  if (nnf_task_check(out, outputs, err, sizeof err)) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return EXIT_USAGE;
  }
  return 0;
}

int cli_nonneg(const char *cmd, const char *opt, const char *s, float *out) {
  double v = 0;
  *out = 0;
  if (!s) return 0;
  if (cli_real(cmd, opt, s, &v)) return EXIT_USAGE;
  if (!(v >= 0) || !isfinite(v) || v > 3.4e38) {
    fprintf(stderr, "nnfpga %s: %s must be a number >= 0, not '%s'\n", cmd, opt, s);
    return EXIT_USAGE;
  }
  *out = (float)v;
  return 0;
}

/* What a constant guess scores on d: regression, the MSE of predicting each
 * target's mean (the targets' variance); multilabel, the per-label accuracy
 * of predicting each label's majority value. */
static double baseline(const nnf_task *t, const nnf_dataset *d) {
  size_t T = d->targets, n = d->count;
  double score = 0;
  if (!d->t || !T || !n) return 0;
  for (size_t j = 0; j < T; j++) {
    double mean = 0, sq = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) mean += d->t[i * T + j], pos += d->t[i * T + j] >= 0.5f;
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) sq += (d->t[i * T + j] - mean) * (d->t[i * T + j] - mean);
    score += t->kind == NNF_TASK_REGRESSION ? sq / (double)n : (double)(pos > n - pos ? pos : n - pos) / (double)n;
  }
  return score / (double)T;
}

void cli_json_figures(cJSON *j, const char *prefix, const nnf_task *t, const nnf_eval_result *r, const nnf_dataset *d) {
  char key[64];
#define FIG(name, value) (snprintf(key, sizeof key, "%s%s", prefix, name), cJSON_AddNumberToObject(j, key, value))
  switch (t->kind) {
    case NNF_TASK_MULTICLASS:
    case NNF_TASK_BINARY: FIG("accuracy", r->accuracy); break;
    case NNF_TASK_MULTILABEL:
      FIG("label_accuracy", r->accuracy);
      FIG("exact_match", r->exact_match);
      FIG("baseline_label_accuracy", baseline(t, d));
      break;
    case NNF_TASK_REGRESSION:
      FIG("mse", r->mse);
      FIG("mae", r->mae);
      FIG("baseline_mse", baseline(t, d));
      break;
  }
  FIG("loss", r->loss);
#undef FIG
}

void cli_print_figures(const char *what, const nnf_task *t, const nnf_eval_result *r, const nnf_dataset *d) {
  switch (t->kind) {
    case NNF_TASK_MULTICLASS:
    case NNF_TASK_BINARY:
      printf("%s accuracy %.2f%% on %llu samples, loss %.4f\n", what, 100 * r->accuracy, (unsigned long long)r->images,
             r->loss);
      break;
    case NNF_TASK_MULTILABEL:
      printf("%s per-label accuracy %.2f%% (always the majority: %.2f%%), exact match %.2f%% on %llu samples, "
             "loss %.4f\n", what, 100 * r->accuracy, 100 * baseline(t, d), 100 * r->exact_match,
             (unsigned long long)r->images, r->loss);
      break;
    case NNF_TASK_REGRESSION:
      printf("%s MSE %.5g, MAE %.5g on %llu samples (predicting the mean: MSE %.5g)\n", what, r->mse, r->mae,
             (unsigned long long)r->images, baseline(t, d));
      break;
  }
}

int cli_plot_history(const char *cmd, const char *path, const char *title, const nnf_epoch_stats *h, int n) {
  double *x = malloc(sizeof(double) * (size_t)(n ? n : 1) * 5);
  if (!x) return -1;
  double *loss = x + n, *tr = x + 2 * n, *va = x + 3 * n, *te = x + 4 * n;
  int have_val = 0, have_test = 0;
  for (int i = 0; i < n; i++) {
    x[i] = h[i].epoch;
    loss[i] = h[i].loss;
    tr[i] = 100 * h[i].train_acc;
    va[i] = h[i].val_acc >= 0 ? 100 * h[i].val_acc : NAN;
    te[i] = h[i].test_acc >= 0 ? 100 * h[i].test_acc : NAN;
    have_val |= h[i].val_acc >= 0;
    have_test |= h[i].test_acc >= 0;
  }
  nnf_plot_series s[4] = {{"training loss", loss, 0}, {"training accuracy", tr, 1}, {"validation accuracy", va, 1},
                          {"test accuracy", te, 1}};
  nnf_plot_series use[4];
  int ns = 0;
  use[ns++] = s[0];
  use[ns++] = s[1];
  if (have_val) use[ns++] = s[2];
  if (have_test) use[ns++] = s[3];
  nnf_plot_line_opts o;
  memset(&o, 0, sizeof o);
  o.title = title;
  o.xlabel = "epoch";
  o.ylabel[0] = "loss";
  o.ylabel[1] = "accuracy (%)";
  o.x_integer = 1;
  char err[512];
  int rc = nnf_plot_lines(path, &o, x, n, use, ns, err, sizeof err);
  if (rc) fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
  free(x);
  return rc;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_option *const *tables, int *help,
              int (*other)(void *ctx, int argc, char **argv, int *i), void *ctx) {
  for (int i = 0; i < argc; i++) {
    int taken = 0;
    for (int t = 0; tables[t] && !taken; t++)
      for (const cli_option *o = tables[t]; o->flag && !taken; o++) {
        const char *v = NULL;
        if (o->kind == CLI_FLAG) {
          if (strcmp(argv[i], o->flag)) continue;
          *(int *)o->var = 1;
          taken = 1;
          continue;
        }
        int g = cli_opt(argc, argv, &i, o->flag, &v);
        if (!g) continue;
        if (g < 0) {
          fprintf(stderr, "nnfpga %s: %s needs a value\n", cmd, argv[i]);
          return EXIT_USAGE;
        }
        if (o->kind == CLI_STR) *(const char **)o->var = v;
        else if (cli_int(cmd, o->flag, v, o->lo, o->hi, (long *)o->var)) return EXIT_USAGE;
        taken = 1;
      }
    if (taken) continue;
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      *help = 1;
      continue;
    }
    if (other && !strncmp(argv[i], "--", 2) && other(ctx, argc, argv, &i) == 0) continue;
    fprintf(stderr, "nnfpga %s: unexpected argument '%s' (see nnfpga %s --help)\n", cmd, argv[i], cmd);
    return EXIT_USAGE;
  }
  return 0;
}

int cli_defer(void *ctx, int argc, char **argv, int *i) {
  cli_deferred *hp = ctx;
  if (hp->n == 64) return -1;
  hp->idx[hp->n++] = *i;
  /* skip a separate value of a hyperparameter flag */
  if (!strchr(argv[*i], '=') && *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) && strcmp(argv[*i], "--nesterov") &&
      strcmp(argv[*i], "--centered") && strcmp(argv[*i], "--amsgrad"))
    (*i)++;
  return 0;
}

/* Optimizer hyperparameter flags: --name-with-dashes maps to torch's name. */
static int opt_flag(const char *cmd, nnf_opt_config *oc, int argc, char **argv, int *i, int *handled) {
  static const char *bools[] = {"nesterov", "centered", "amsgrad"};
  static const char *reals[] = {"lr", "momentum", "dampening", "weight-decay", "lr-decay",
                                "initial-accumulator-value", "alpha", "beta1", "beta2", "eps"};
  char err[256], name[64];
  *handled = 0;
  const char *a = argv[*i];
  if (strncmp(a, "--", 2)) return 0;
  for (size_t b = 0; b < sizeof bools / sizeof *bools; b++)
    if (!strcmp(a + 2, bools[b])) {
      *handled = 1;
      if (nnf_optim_set(oc, bools[b], 1, err, sizeof err)) {
        fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
        return -1;
      }
      return 0;
    }
  for (size_t r = 0; r < sizeof reals / sizeof *reals; r++) {
    char flag[64];
    const char *v;
    snprintf(flag, sizeof flag, "--%s", reals[r]);
    int got = cli_opt(argc, argv, i, flag, &v);
    if (!got) continue;
    *handled = 1;
    double x;
    if (got < 0) {
      fprintf(stderr, "nnfpga %s: %s needs a value\n", cmd, flag);
      return -1;
    }
    if (cli_real(cmd, flag, v, &x)) return -1;
    snprintf(name, sizeof name, "%s", reals[r]);
    for (char *c = name; *c; c++)
      if (*c == '-') *c = '_';
    if (nnf_optim_set(oc, name, x, err, sizeof err)) {
      fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
      return -1;
    }
    return 0;
  }
  return 0;
}

int cli_optimizer(const char *cmd, const char *name, const cli_deferred *hp, int argc, char **argv,
                  nnf_opt_config *oc) {
  char err[512];
  int kind = nnf_optim_parse(name);
  if (kind < 0) {
    fprintf(stderr, "nnfpga %s: unknown optimizer '%s' (sgd, adagrad, rmsprop, adam, adamw)\n", cmd, name);
    return EXIT_USAGE;
  }
  *oc = nnf_optim_defaults((nnf_opt_kind)kind);
  for (int k = 0; k < hp->n; k++) {
    int i = hp->idx[k], handled;
    if (opt_flag(cmd, oc, argc, argv, &i, &handled)) return EXIT_USAGE;
    if (!handled) {
      fprintf(stderr, "nnfpga %s: unknown option '%s' (see nnfpga %s --help)\n", cmd, argv[hp->idx[k]], cmd);
      return EXIT_USAGE;
    }
  }
  if (nnf_optim_validate(oc, err, sizeof err)) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return EXIT_USAGE;
  }
  return 0;
}

cli_model_flags cli_model_values;
const cli_option cli_model_options[] = {
    {"--model", CLI_STR, &cli_model_values.model, 0, 0},
    {"--device", CLI_STR, &cli_model_values.uri, 0, 0},
    {"--data", CLI_STR, &cli_model_values.data, 0, 0},
    {"--csv", CLI_STR, &cli_model_values.csv, 0, 0},
    {"--label-col", CLI_INT, &cli_model_values.label_col, -1, 100000},
    {"--seq-id", CLI_INT, &cli_model_values.seq_id, 0, 100000},
    {"--json", CLI_FLAG, &cli_model_values.json, 0, 0},
    {"--float", CLI_FLAG, &cli_model_values.use_float, 0, 0},
    {"--no-pack", CLI_FLAG, &cli_model_values.no_pack, 0, 0},
    {"--no-fuse-pool", CLI_FLAG, &cli_model_values.no_fuse_pool, 0, 0},
    {"--arch", CLI_STR, &cli_model_values.arch, 0, 0},
    {"--input-shape", CLI_STR, &cli_model_values.input_shape, 0, 0},
    {"--seed", CLI_INT, &cli_model_values.seed, 0, 0x7fffffffL},
    CLI_END};

/* --arch: the network untrained, its ranges observed on 64 seeded uniform
 * inputs in [0, 1), quantized. 0, or the exit code after printing why. */
static int untrained(const char *cmd, nnf_net **net) {
  const cli_model_flags *m = &cli_model_values;
  char err[512];
  int rc = cli_arch_net(cmd, m->arch, m->input_shape, net);
  if (rc) return rc;
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  size_t cnt = (size_t)64 * nnf_net_inputs(*net);
  float *x = malloc(cnt * sizeof(float));
  uint64_t g = (uint64_t)m->seed;
  for (size_t i = 0; x && i < cnt; i++) x[i] = nnf_rng_uniform(&g);
  if (!x || nnf_net_init(*net, &is, (uint64_t)m->seed) || nnf_net_observe(*net, x, 64, 1) ||
      nnf_net_quantize(*net, err, sizeof err)) {
    fprintf(stderr, "nnfpga %s: --arch: %s\n", cmd, x ? err : "out of memory");
    free(x);
    nnf_net_free(*net);
    *net = NULL;
    return EXIT_INPUT;
  }
  free(x);
  return 0;
}

int cli_model_command(const char *cmd, int argc, char **argv, const cli_option *own, void (*usage)(FILE *),
                      nnf_net **net) {
  char err[512];
  int help = 0;
  *net = NULL;
  memset(&cli_model_values, 0, sizeof cli_model_values);
  memset(&cli_trace_values, 0, sizeof cli_trace_values);
  cli_model_values.uri = "model";
  cli_model_values.input_shape = "1,28,28";
  cli_model_values.seq_id = -1;
  cli_model_values.seed = 1;
  const cli_option *tables[] = {cli_model_options, cli_trace_options, own, NULL};
  int rc = cli_parse(cmd, argc, argv, tables, &help, NULL, NULL);
  if (help) {
    usage(stdout);
    return -1;
  }
  if (rc) return rc;
  static char open_uri[8192];
  if ((rc = cli_trace_uri(cmd, cli_model_values.use_float ? NULL : cli_model_values.uri, open_uri, sizeof open_uri)))
    return rc;
  cli_model_values.open_uri = open_uri;
  const char *path = cli_model_values.model;
  if (path && cli_model_values.arch) {
    fprintf(stderr, "nnfpga %s: --model and --arch both give the network: one of them\n", cmd);
    return EXIT_USAGE;
  }
  if (cli_model_values.arch) return untrained(cmd, net);
  if (!path) {
    fprintf(stderr, "nnfpga %s: --model FILE (or --arch A) is required\n", cmd);
    return EXIT_USAGE;
  }
  if (!(*net = nnf_ckpt_load(path, err, sizeof err))) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return EXIT_INPUT;
  }
  if (!cli_model_values.use_float && !(*net)->quantized) {
    fprintf(stderr, "nnfpga %s: %s holds no quantized model (trained with --float and never quantized)\n", cmd, path);
    nnf_net_free(*net);
    *net = NULL;
    return EXIT_INPUT;
  }
  if (cli_model_values.use_float && nnf_net_spiking(*net)) {
    fprintf(stderr, "nnfpga %s: a spiking network has no float forward (use --device host)\n", cmd);
    nnf_net_free(*net);
    *net = NULL;
    return EXIT_USAGE;
  }
  return 0;
}

cli_sched_flags cli_sched_values = {"constant", NULL, "0", 10, 0, 0};
const cli_option cli_sched_options[] = {
    {"--schedule", CLI_STR, &cli_sched_values.name, 0, 0},
    {"--gamma", CLI_STR, &cli_sched_values.gamma, 0, 0},
    {"--eta-min", CLI_STR, &cli_sched_values.eta_min, 0, 0},
    {"--step-size", CLI_INT, &cli_sched_values.step_size, 1, 1000000},
    {"--t-max", CLI_INT, &cli_sched_values.t_max, 1, 1000000},
    {"--warmup-steps", CLI_INT, &cli_sched_values.warmup, 0, 1000000000L},
    CLI_END};

int cli_schedule(const char *cmd, const cli_sched_flags *f, long epochs, nnf_sched *sc) {
  char err[512];
  memset(sc, 0, sizeof *sc);
  int kind = nnf_sched_parse(f->name);
  if (kind < 0) {
    fprintf(stderr, "nnfpga %s: unknown --schedule '%s' (constant, step, exponential, cosine)\n", cmd, f->name);
    return EXIT_USAGE;
  }
  sc->kind = (nnf_sched_kind)kind;
  sc->step_size = (int)f->step_size;
  sc->gamma = sc->kind == NNF_SCHED_EXPONENTIAL ? 0.95 : 0.1;
  if (f->gamma && cli_real(cmd, "--gamma", f->gamma, &sc->gamma)) return EXIT_USAGE;
  sc->t_max = (int)(f->t_max ? f->t_max : epochs);
  if (cli_real(cmd, "--eta-min", f->eta_min, &sc->eta_min)) return EXIT_USAGE;
  sc->warmup_steps = f->warmup;
  if (nnf_sched_validate(sc, err, sizeof err)) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return EXIT_USAGE;
  }
  return 0;
}

int cli_arch_net(const char *cmd, const char *arch, const char *shape, nnf_net **net) {
  int sh[3];
  char sep1, sep2, tail;
  char err[512];
  *net = NULL;
  int got = sscanf(shape, "%d%c%d%c%d%c", &sh[0], &sep1, &sh[1], &sep2, &sh[2], &tail);
  if (got == 1) sh[1] = sh[2] = 0; /* N: flat rows of N features (CSV data) */
  else if (got != 5 || sep1 != sep2 || (sep1 != ',' && sep1 != 'x') || sh[1] < 1 || sh[2] < 1 || sh[1] > 65535 ||
           sh[2] > 65535)
    got = 0;
  if (!got || sh[0] < 1 || sh[0] > 65535) {
    fprintf(stderr, "nnfpga %s: --input-shape wants C,H,W (e.g. 1,28,28) or N (flat rows), not '%s'\n", cmd, shape);
    return EXIT_USAGE;
  }
  if (!(*net = nnf_arch_build(arch, sh, err, sizeof err))) {
    fprintf(stderr, "nnfpga %s: --arch: %s\n", cmd, err);
    return EXIT_USAGE;
  }
  return 0;
}

/* "sim" or "sim:...": the RTL simulator. */
static int is_sim(const char *uri) { return !strncmp(uri, "sim", 3) && (!uri[3] || uri[3] == ':'); }

int cli_open_device(const char *cmd, const char *uri, nnf_device **dev) {
  *dev = NULL;
  if (!strcmp(uri, "host")) return 0;
  char err[1024];
  int rc = nnf_device_connect(uri, dev, err, sizeof err);
  if (rc == NNFDRV_OK) return 0;
  fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
  /* the simulator's only I/O at open is its trace file: a file that cannot be used */
  return rc == NNFDRV_ERR_URI ? EXIT_USAGE : rc == NNFDRV_ERR_IO && is_sim(uri) ? EXIT_INPUT : EXIT_DEVICE;
}

cli_trace_flags cli_trace_values;
const cli_option cli_trace_options[] = {
    {"--trace", CLI_STR, &cli_trace_values.file, 0, 0},
    {"--trace-window", CLI_STR, &cli_trace_values.window, 0, 0},
    CLI_END};

/* A cycle number of --trace-window: digits only, at most 18 of them. */
static int trace_cycle(const char *s, size_t n, unsigned long long *v) {
  if (n == 0 || n > 18) return -1;
  *v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    *v = *v * 10 + (unsigned long long)(s[i] - '0');
  }
  return 0;
}

int cli_trace_uri(const char *cmd, const char *uri, char *out, size_t outlen) {
  const cli_trace_flags *f = &cli_trace_values;
  if (!f->file) {
    if (f->window) {
      fprintf(stderr, "nnfpga %s: --trace-window needs --trace FILE.fst\n", cmd);
      return EXIT_USAGE;
    }
    if ((size_t)snprintf(out, outlen, "%s", uri ? uri : "") >= outlen) {
      fprintf(stderr, "nnfpga %s: --device URI too long\n", cmd);
      return EXIT_USAGE;
    }
    return 0;
  }
  if (!uri || !is_sim(uri)) {
    fprintf(stderr, "nnfpga %s: --trace needs the RTL simulator (--device sim, sim:board=NAME or "
            "sim:module=PATH), not %s%s%s\n", cmd, uri ? "--device " : "--float", uri ? uri : "",
            uri && !strcmp(uri, "host") ? " (no device)" : "");
    return EXIT_USAGE;
  }
  if (!*f->file || strchr(f->file, ',')) {
    fprintf(stderr, "nnfpga %s: --trace '%s': %s\n", cmd, f->file,
            *f->file ? "the path has a comma, which the device URI cannot carry (its options are "
                       "comma-separated); choose a name without one"
                     : "an empty path");
    return EXIT_USAGE;
  }
  const char *opts = uri[3] == ':' ? uri + 4 : "";
  for (const char *o = opts; *o; o += strcspn(o, ","), o += *o == ',')
    if (!strncmp(o, "trace", 5)) {
      fprintf(stderr, "nnfpga %s: --trace and the trace options of --device %s: give the trace once\n", cmd, uri);
      return EXIT_USAGE;
    }
  unsigned long long from = 0, to = 0;
  int has_to = 0;
  if (f->window) {
    const char *colon = strchr(f->window, ':');
    has_to = colon && colon[1];
    if (!colon || trace_cycle(f->window, (size_t)(colon - f->window), &from) ||
        (has_to && trace_cycle(colon + 1, strlen(colon + 1), &to)) || (has_to && from >= to)) {
      fprintf(stderr, "nnfpga %s: --trace-window wants FROM:TO or FROM: (device cycles, digits only, "
              "FROM < TO), not '%s'\n", cmd, f->window);
      return EXIT_USAGE;
    }
  }
  int n = snprintf(out, outlen, "sim:%s%strace=%s", opts, *opts ? "," : "", f->file);
  if (n >= 0 && (size_t)n < outlen && f->window)
    n += snprintf(out + n, outlen - (size_t)n, ",trace_from=%llu", from);
  if (n >= 0 && (size_t)n < outlen && has_to) n += snprintf(out + n, outlen - (size_t)n, ",trace_to=%llu", to);
  if (n < 0 || (size_t)n >= outlen) {
    fprintf(stderr, "nnfpga %s: --trace '%s': the path is too long\n", cmd, f->file);
    return EXIT_USAGE;
  }
  return 0;
}

void cli_trace_report(const char *cmd, nnf_device *dev, int quiet, cJSON *j) {
  const char *path;
  uint64_t first, end;
  if (!dev || nnfdrv_trace_range(nnf_device_driver(dev), &path, &first, &end)) return;
  if (j) {
    cJSON *t = cJSON_AddObjectToObject(j, "trace");
    cJSON_AddStringToObject(t, "file", path);
    cJSON_AddNumberToObject(t, "from", (double)first);
    cJSON_AddNumberToObject(t, "to", (double)end);
    return;
  }
  if (quiet) return;
  if (end > first)
    fprintf(stderr, "nnfpga %s: trace %s: cycles %llu..%llu (%llu cycles; FST times %llu..%llu)\n", cmd, path,
            (unsigned long long)first, (unsigned long long)end, (unsigned long long)(end - first),
            2 * (unsigned long long)first, 2 * (unsigned long long)end);
  else
    fprintf(stderr, "nnfpga %s: trace %s: no cycle in the window (the device ran to cycle %llu)\n", cmd, path,
            (unsigned long long)end);
}

/* One printer for both value types: exactly one of ivals / fvals is set. */
static void print_predictions(long first, int B, int C, const int32_t *labels, const int *cls,
                              const int32_t *ivals, const float *fvals, const char *key,
                              const char *label, int json) {
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  for (int r = 0; r < B; r++) {
    size_t row = (size_t)r * C;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "index", (double)(first + r));
      cJSON_AddNumberToObject(o, "label", labels[r]);
      cJSON_AddNumberToObject(o, "class", cls[r]);
      cJSON *lg = cJSON_AddArrayToObject(o, key);
      for (int j = 0; j < C; j++)
        cJSON_AddItemToArray(lg, cJSON_CreateNumber(ivals ? (double)ivals[row + j] : (double)fvals[row + j]));
      cJSON_AddItemToArray(arr, o);
    } else {
      printf("%ld: class %d (label %d) %s", first + r, cls[r], labels[r], label);
      for (int j = 0; j < C; j++) {
        if (ivals)
          printf(" %d", ivals[row + j]);
        else
          printf(" %.9g", (double)fvals[row + j]);
      }
      printf("\n");
    }
  }
  if (json) {
    cli_json_emit(arr);
  }
}

void cli_print_predictions(long first, int B, int C, const int32_t *labels, const int *cls,
                           const int32_t *vals, const char *key, const char *label, int json) {
  print_predictions(first, B, C, labels, cls, vals, NULL, key, label, json);
}

void cli_print_predictions_f(long first, int B, int C, const int32_t *labels, const int *cls,
                             const float *vals, const char *key, const char *label, int json) {
  print_predictions(first, B, C, labels, cls, NULL, vals, key, label, json);
}

void cli_json_weights(cJSON *j, nnf_device *dev, int cols) {
  nnf_device_memory m;
  if (!dev || nnf_device_memory_get(dev, &m)) return;
  cJSON *mo = cJSON_AddObjectToObject(j, "weights");
  cJSON_AddNumberToObject(mo, "resident_bytes", (double)(m.resident_w_bytes + m.resident_p_bytes));
  cJSON_AddNumberToObject(mo, "streamed_layers", m.streamed_layers);
  cJSON_AddNumberToObject(mo, "chunks", m.chunks);
  cJSON_AddNumberToObject(mo, "bank_bytes", (double)m.bank_words * cols);
  cJSON_AddNumberToObject(mo, "streamed_bytes_per_pass", (double)m.streamed_bytes);
  cJSON_AddNumberToObject(mo, "streamed_bytes_per_image", m.batch ? (double)m.streamed_bytes / m.batch : 0);
  cJSON_AddNumberToObject(mo, "program_copies", m.copies);
}

int cli_host_layers(const nnf_net *n, char *buf, size_t len, cJSON *j) {
  int k = 0;
  size_t at = 0;
  cJSON *arr = j ? cJSON_AddArrayToObject(j, "host_layers") : NULL;
  if (len) buf[0] = 0;
  for (int i = 0; i < n->nlayers; i++) {
    if (strcmp(n->layer[i]->ops->kind, "Softmax")) continue;
    if (arr) cJSON_AddItemToArray(arr, cJSON_CreateNumber(i));
    int w = snprintf(buf + at, len > at ? len - at : 0, "%slayer %d (Softmax)", k ? ", " : "", i);
    if (w > 0) at += (size_t)w;
    k++;
  }
  return k;
}

void cli_json_emit(cJSON *j) {
  char *txt = cJSON_Print(j);
  if (txt) puts(txt);
  else fprintf(stderr, "nnfpga: out of memory printing JSON\n");
  free(txt);
  cJSON_Delete(j);
}
