/*
 * nnfpga_snn.c - `nnfpga train --model snn` and `nnfpga eval` of a spiking
 * network checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_snn.h"
#include "nnfpga_cli.h"

static void usage_train_snn(FILE *f) {
  fprintf(f,
          "usage: nnfpga train --model snn [OPTIONS]\n"
          "\n"
          "Trains a spiking network of LIF layers on the host with surrogate-gradient\n"
          "backpropagation through time; its forward pass is the device's integer\n"
          "arithmetic, so `nnfpga eval` on a device reproduces the host's spikes exactly.\n"
          "\n"
          "  --layers L       sizes, input to output (default 784,128,10); every layer is LIF\n"
          "  --steps T        time steps (default 25)\n"
          "  --beta B         membrane decay, snnTorch's beta (default 0.94995 = 1 - 205/4096;\n"
          "                   mapped to dv = round((1 - B) 4096))\n"
          "  --threshold X    firing threshold (default 1)\n"
          "  --reset R        subtract (default) or zero\n"
          "  --encoding E     direct (the image as a current every step, default) or rate\n"
          "                   (seeded Bernoulli spikes)\n"
          "  --surrogate S    atan (default, slope alpha 2) or fast_sigmoid (slope k 25)\n"
          "  --slope X        the surrogate's slope\n"
          "  --resolution N   least threshold in current steps (vth, default 48)\n"
          "  --optimizer O, --lr X, ...   as for the MLP (default adam, lr 1e-3)\n"
          "  --schedule S, --step-size N, --gamma G, --t-max N, --eta-min X, --warmup-steps N\n"
          "                   the learning-rate schedule, as for the MLP (default constant)\n"
          "  --epochs N (default 10), --batch N (default 128), --seed N (default 1)\n"
          "  --data DIR, --train-csv F --test-csv F, --label-col N, --limit N, --test-limit N\n"
          "  --observe-every N  steps between current-range observations (default 8)\n"
          "  --out FILE, --csv FILE, --plot FILE.svg, --json, --quiet\n");
}

static void usage_eval_snn(FILE *f) {
  fprintf(f,
          "usage: nnfpga eval --model FILE.safetensors [--device URI] [--data DIR | --csv F] [--limit N]\n"
          "                   [--batch N] [--json] [--quiet]\n"
          "\n"
          "Evaluates a spiking checkpoint: on a device (model, sim, a board), or with --device host\n"
          "on the host's integer reference (the same spikes). --json adds the device figures:\n"
          "cycles_per_image and neuron_updates_per_cycle.\n");
}

int cli_model_is_snn(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    if (cli_opt(argc, argv, &i, "--model", &v) == 1) {
      char err[256];
      const char *k = nnf_ckpt_model_kind(v, err, sizeof err);
      return k && !strcmp(k, "snn");
    }
  }
  return 0;
}

typedef struct {
  cli_progress bar;
  int quiet, epochs;
  nnf_epoch_stats *history;
} snn_ui;

static void on_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  snn_ui *u = ctx;
  if (!e) {
    cli_progress_update(&u->bar, done, total);
    return;
  }
  if (u->history && e->epoch >= 1 && e->epoch <= u->epochs) u->history[e->epoch - 1] = *e;
  if (u->quiet) return;
  cli_progress_end(&u->bar);
  fprintf(stderr, "epoch %d/%d  loss %.4f  train %.2f%%", e->epoch, u->epochs, e->loss, 100 * e->train_acc);
  if (e->test_acc >= 0) fprintf(stderr, "  test %.2f%%", 100 * e->test_acc);
  fprintf(stderr, "  %.1f s\n", e->seconds);
}

static int pick(const char *cmd, const char *opt, const char *v, const char *a, const char *b, int *out) {
  if (!strcmp(v, a)) *out = 0;
  else if (!strcmp(v, b)) *out = 1;
  else {
    fprintf(stderr, "nnfpga %s: %s is %s or %s, not '%s'\n", cmd, opt, a, b, v);
    return -1;
  }
  return 0;
}

int cmd_train_snn(int argc, char **argv) {
  const char *layers = "784,128,10", *optname = "adam", *data = NULL, *train_csv = NULL, *test_csv = NULL;
  const char *out = "snn.safetensors", *csv_path = NULL, *reset = "subtract", *enc = "direct", *surr = "atan";
  const char *beta_s = NULL, *thr_s = NULL, *slope_s = NULL, *plot = NULL, *sched_s = "constant",
             *gamma_s = NULL, *eta_s = "0";
  long step_size = 10, t_max = 0, warmup = 0;
  long epochs = 10, batch = 128, seed = 1, limit = 0, test_limit = -1, label_col = 0, observe = 8, steps = 25,
       resolution = 48;
  int json = 0, quiet = 0, hp[64], nhp = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
#define SSTR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define SINT(flag, var, lo, hi) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("train", flag, v, lo, hi, &var)) return EXIT_USAGE; continue; }
    if ((g = cli_opt(argc, argv, &i, "--model", &v)) != 0) continue;
    SSTR("--layers", layers) SSTR("--optimizer", optname) SSTR("--data", data) SSTR("--train-csv", train_csv)
    SSTR("--test-csv", test_csv) SSTR("--out", out) SSTR("--csv", csv_path) SSTR("--reset", reset)
    SSTR("--encoding", enc) SSTR("--surrogate", surr) SSTR("--beta", beta_s) SSTR("--threshold", thr_s)
    SSTR("--slope", slope_s) SSTR("--plot", plot) SSTR("--schedule", sched_s) SSTR("--gamma", gamma_s)
    SSTR("--eta-min", eta_s) SINT("--step-size", step_size, 1, 1000000) SINT("--t-max", t_max, 1, 1000000)
    SINT("--warmup-steps", warmup, 0, 1000000000L)
    SINT("--epochs", epochs, 1, 100000) SINT("--batch", batch, 1, 65535) SINT("--seed", seed, 0, 0x7fffffffL)
    SINT("--limit", limit, 0, 0x7fffffffL) SINT("--test-limit", test_limit, 0, 0x7fffffffL)
    SINT("--label-col", label_col, -1, 100000) SINT("--observe-every", observe, 1, 1000000)
    SINT("--steps", steps, 0, 1000000) SINT("--resolution", resolution, 1, 131071)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { quiet = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_train_snn(stdout); return 0; }
    if (!strncmp(argv[i], "--", 2) && nhp < 64) {
      hp[nhp++] = i;
      if (!strchr(argv[i], '=') && i + 1 < argc && strncmp(argv[i + 1], "--", 2) && strcmp(argv[i], "--nesterov") &&
          strcmp(argv[i], "--centered") && strcmp(argv[i], "--amsgrad"))
        i++;
      continue;
    }
    fprintf(stderr, "nnfpga train: unexpected argument '%s'\n", argv[i]);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga train: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  char err[512];
  int kind = nnf_optim_parse(optname);
  if (kind < 0) {
    fprintf(stderr, "nnfpga train: unknown optimizer '%s'\n", optname);
    return EXIT_USAGE;
  }
  nnf_opt_config oc = nnf_optim_defaults((nnf_opt_kind)kind);
  for (int k = 0; k < nhp; k++) {
    int i = hp[k], handled;
    if (cli_opt_flag("train", &oc, argc, argv, &i, &handled)) return EXIT_USAGE;
    if (!handled) {
      fprintf(stderr, "nnfpga train: unknown option '%s' for --model snn (see --model snn --help)\n", argv[hp[k]]);
      return EXIT_USAGE;
    }
  }
  if (nnf_optim_validate(&oc, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  nnf_snn_config c = nnf_snn_defaults();
  int r = 0, e = 0, s = 0;
  if (pick("train", "--reset", reset, "zero", "subtract", &r) || pick("train", "--encoding", enc, "direct", "rate", &e) ||
      pick("train", "--surrogate", surr, "fast_sigmoid", "atan", &s))
    return EXIT_USAGE;
  c.reset_sub = r;
  c.encoding = (nnf_encoding)e;
  c.surrogate = (nnf_surrogate)s;
  c.slope = s ? 2.0 : 25.0;
  c.steps = (int)steps;
  c.resolution = (int)resolution;
  if ((beta_s && cli_real("train", "--beta", beta_s, &c.beta)) ||
      (thr_s && cli_real("train", "--threshold", thr_s, &c.threshold)) ||
      (slope_s && cli_real("train", "--slope", slope_s, &c.slope)))
    return EXIT_USAGE;
  if (nnf_snn_config_check(&c, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  nnf_sched sc;
  memset(&sc, 0, sizeof sc);
  int sk = nnf_sched_parse(sched_s);
  if (sk < 0) {
    fprintf(stderr, "nnfpga train: unknown --schedule '%s' (constant, step, exponential, cosine)\n", sched_s);
    return EXIT_USAGE;
  }
  sc.kind = (nnf_sched_kind)sk;
  sc.step_size = (int)step_size;
  sc.gamma = sc.kind == NNF_SCHED_EXPONENTIAL ? 0.95 : 0.1;
  sc.t_max = (int)(t_max ? t_max : epochs);
  sc.warmup_steps = warmup;
  if ((gamma_s && cli_real("train", "--gamma", gamma_s, &sc.gamma)) || cli_real("train", "--eta-min", eta_s, &sc.eta_min))
    return EXIT_USAGE;
  if (nnf_sched_validate(&sc, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  int sizes[NNF_MAX_LAYERS + 1];
  int ns = nnf_parse_layers(layers, sizes, NNF_MAX_LAYERS + 1, err, sizeof err);
  if (ns < 0) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  nnf_dataset train = {0}, test = {0};
  if (cli_load_data("train", data, train_csv, (int)label_col, 1, limit, &train)) return EXIT_INPUT;
  int have_test = test_limit != 0;
  if (have_test && cli_load_data("train", data, test_csv, (int)label_col, 0, test_limit, &test)) {
    nnf_dataset_free(&train);
    return EXIT_INPUT;
  }
  int rc = 0;
  if (train.features != (size_t)sizes[0] || train.classes > sizes[ns - 1]) {
    fprintf(stderr, "nnfpga train: --layers %s does not fit the data (%zu features, %d classes)\n", layers,
            train.features, train.classes);
    rc = EXIT_INPUT;
  }
  nnf_snn *n = rc ? NULL : nnf_snn_create(sizes, ns, &c, (uint64_t)seed, err, sizeof err);
  nnf_optim *opt = n ? nnf_optim_create(&oc, err, sizeof err) : NULL;
  if (!rc && (!n || !opt || nnf_snn_register(n, opt))) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    rc = EXIT_USAGE;
  }
  char csv_buf[1024];
  FILE *csv = NULL;
  if (!rc) {
    if (!csv_path) {
      snprintf(csv_buf, sizeof csv_buf, "%s", out);
      char *dot = strrchr(csv_buf, '.');
      if (dot && !strchr(dot, '/')) *dot = 0;
      strncat(csv_buf, ".csv", sizeof csv_buf - strlen(csv_buf) - 1);
      csv_path = csv_buf;
    }
    if (!(csv = fopen(csv_path, "w"))) {
      fprintf(stderr, "nnfpga train: cannot write %s\n", csv_path);
      rc = EXIT_INPUT;
    }
  }
  double t0 = cli_now();
  nnf_epoch_stats *history = calloc((size_t)epochs, sizeof *history);
  if (!history && !rc) rc = EXIT_INPUT;
  nnf_snn_eval ev;
  memset(&ev, 0, sizeof ev);
  if (!rc) {
    snn_ui ui;
    ui.quiet = quiet || json;
    ui.epochs = (int)epochs;
    ui.history = history;
    cli_progress_init(&ui.bar, "train", !ui.quiet);
    nnf_snn_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = (int)epochs;
    o.batch = (int)batch;
    o.seed = (uint64_t)seed;
    o.observe_every = (int)observe;
    o.sched = sc;
    o.progress = on_progress;
    o.progress_ctx = &ui;
    o.csv = csv;
    if (nnf_snn_train(n, opt, &train, have_test ? &test : NULL, &o, err, sizeof err) ||
        (have_test && nnf_snn_evaluate(n, NULL, &test, 256, &ev, NULL, NULL, err, sizeof err))) {
      cli_progress_end(&ui.bar);
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    }
  }
  if (csv && fclose(csv) && !rc) {
    fprintf(stderr, "nnfpga train: writing %s failed\n", csv_path);
    rc = EXIT_INPUT;
  }
  if (!rc) {
    char seed_s[32], lr_s[32];
    snprintf(seed_s, sizeof seed_s, "%ld", seed);
    snprintf(lr_s, sizeof lr_s, "%.9g", oc.lr);
    const char *k[] = {"optimizer", "lr", "seed"};
    const char *v[] = {optname, lr_s, seed_s};
    if (nnf_ckpt_save_snn(out, n, k, v, 3, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    }
  }
  if (!rc && plot) {
    char title[160];
    snprintf(title, sizeof title, "spiking %s, T = %d, %s reset", layers, c.steps, reset);
    if (cli_plot_history("train", plot, title, history, (int)epochs)) rc = EXIT_INPUT;
  }
  if (!rc) {
    double secs = cli_now() - t0;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "checkpoint", out);
      cJSON_AddStringToObject(o, "model", "snn");
      cJSON_AddNumberToObject(o, "steps", c.steps);
      cJSON_AddNumberToObject(o, "epochs", (double)epochs);
      if (have_test) cJSON_AddNumberToObject(o, "test_accuracy", ev.accuracy);
      cJSON_AddNumberToObject(o, "seconds", secs);
      char *txt = cJSON_Print(o);
      puts(txt);
      free(txt);
      cJSON_Delete(o);
    } else {
      printf("trained spiking %s (T = %d, %s reset, %s input) on %zu images for %ld epochs in %.1f s\n", layers,
             c.steps, reset, enc, train.count, epochs, secs);
      if (have_test)
        printf("test accuracy %.2f%% on %llu images (host integer reference: the device's spikes)\n",
               100 * ev.accuracy, (unsigned long long)ev.images);
      printf("checkpoint %s, log %s\n", out, csv_path);
    }
  }
  free(history);
  nnf_optim_destroy(opt);
  nnf_snn_free(n);
  nnf_dataset_free(&train);
  nnf_dataset_free(&test);
  return rc;
}

static void eval_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  (void)e;
  cli_progress_update(ctx, done, total);
}

int cmd_eval_snn(int argc, char **argv) {
  const char *model = NULL, *uri = "model", *data = NULL, *csvf = NULL;
  long limit = 0, batch = 64, label_col = 0;
  int json = 0, quiet = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
    SSTR("--model", model) SSTR("--device", uri) SSTR("--data", data) SSTR("--csv", csvf)
    SINT("--limit", limit, 0, 0x7fffffffL) SINT("--batch", batch, 1, 65535) SINT("--label-col", label_col, -1, 100000)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { quiet = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_eval_snn(stdout); return 0; }
    fprintf(stderr, "nnfpga eval: unexpected argument '%s' for a spiking network\n", argv[i]);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga eval: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  char err[512];
  nnf_snn *n = nnf_ckpt_load_snn(model, err, sizeof err);
  if (!n) {
    fprintf(stderr, "nnfpga eval: %s\n", err);
    return EXIT_INPUT;
  }
  nnf_dataset d = {0};
  if (cli_load_data("eval", data, csvf, (int)label_col, 0, limit, &d)) {
    nnf_snn_free(n);
    return EXIT_INPUT;
  }
  int rc = 0;
  nnf_device *dev = NULL;
  rc = cli_open_device("eval", uri, &dev);
  nnf_snn_eval r;
  cli_progress bar;
  cli_progress_init(&bar, "eval", !quiet && !json);
  if (!rc && nnf_snn_evaluate(n, dev, &d, (int)batch, &r, eval_progress, &bar, err, sizeof err)) {
    cli_progress_end(&bar);
    fprintf(stderr, "nnfpga eval: %s\n", err);
    rc = strstr(err, "features") || strstr(err, "classes") ? EXIT_INPUT : EXIT_DEVICE;
  }
  cli_progress_end(&bar);
  if (!rc) {
    int has = dev && r.dev.cycles > 0;
    double cpi = has ? (double)r.dev.cycles / (double)r.images : 0;
    /* synaptic operations: every spike into a layer times its fan-out */
    uint64_t updates = 0;
    for (int l = 0; l < n->nlayers; l++) updates += (uint64_t)n->sizes[l + 1];
    updates *= (uint64_t)n->cfg.steps * r.images;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "model", model);
      cJSON_AddStringToObject(o, "device", uri);
      cJSON_AddNumberToObject(o, "accuracy", r.accuracy);
      cJSON_AddNumberToObject(o, "images", (double)r.images);
      cJSON_AddNumberToObject(o, "correct", (double)r.correct);
      cJSON_AddNumberToObject(o, "steps", n->cfg.steps);
      if (has) {
        cJSON_AddNumberToObject(o, "cycles_per_image", cpi);
        cJSON_AddNumberToObject(o, "neuron_updates_per_cycle", (double)updates / (double)r.dev.cycles);
        cJSON_AddNumberToObject(o, "cycles", (double)r.dev.cycles);
      } else {
        cJSON_AddNullToObject(o, "cycles_per_image");
      }
      char *txt = cJSON_Print(o);
      puts(txt);
      free(txt);
      cJSON_Delete(o);
    } else {
      printf("accuracy %.2f%% (%llu of %llu images), spiking network, T = %d, on %s\n", 100 * r.accuracy,
             (unsigned long long)r.correct, (unsigned long long)r.images, n->cfg.steps, uri);
      if (has)
        printf("device: %.1f cycles per image, %.3f neuron updates per cycle\n", cpi,
               (double)updates / (double)r.dev.cycles);
    }
  }
  nnf_device_close(dev);
  nnf_dataset_free(&d);
  nnf_snn_free(n);
  return rc;
}

int cmd_infer_snn(int argc, char **argv) {
  const char *model = NULL, *uri = "model", *data = NULL, *csvf = NULL;
  long first = 0, count = 10, label_col = 0;
  int json = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
    SSTR("--model", model) SSTR("--device", uri) SSTR("--data", data) SSTR("--csv", csvf)
    SINT("--first", first, 0, 0x7fffffffL) SINT("--count", count, 1, 65535) SINT("--label-col", label_col, -1, 100000)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    fprintf(stderr, "nnfpga infer: unexpected argument '%s' for a spiking network\n", argv[i]);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga infer: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  char err[512];
  nnf_snn *n = nnf_ckpt_load_snn(model, err, sizeof err);
  if (!n) {
    fprintf(stderr, "nnfpga infer: %s\n", err);
    return EXIT_INPUT;
  }
  nnf_dataset all = {0}, d = {0};
  int rc = 0;
  if (cli_load_data("infer", data, csvf, (int)label_col, 0, 0, &all)) rc = EXIT_INPUT;
  else if ((size_t)first >= all.count) {
    fprintf(stderr, "nnfpga infer: --first %ld but the data has %zu samples\n", first, all.count);
    rc = EXIT_USAGE;
  } else if (nnf_dataset_slice(&all, (size_t)first, (size_t)count, &d) || d.features != (size_t)n->sizes[0]) {
    fprintf(stderr, "nnfpga infer: the model takes %d inputs but the data has %zu features\n", n->sizes[0],
            all.features);
    rc = EXIT_INPUT;
  }
  int B = (int)d.count, C = n->sizes[n->nlayers];
  int32_t *counts = rc ? NULL : malloc(sizeof(int32_t) * (size_t)B * C);
  nnf_device *dev = NULL;
  if (!rc) rc = cli_open_device("infer", uri, &dev);
  if (!rc) {
    int frc = dev ? (nnf_snn_device_load(dev, n, B, err, sizeof err) ||
                     nnf_snn_device_run(dev, n, d.x, B, counts, err, sizeof err))
                  : nnf_snn_forward(n, d.x, B, err, sizeof err);
    if (frc) {
      fprintf(stderr, "nnfpga infer: %s\n", err);
      rc = EXIT_DEVICE;
    } else if (!dev) {
      memcpy(counts, n->counts, sizeof(int32_t) * (size_t)B * C);
    }
  }
  int *cls = rc ? NULL : malloc(sizeof(int) * (size_t)B);
  if (!rc && !cls) {
    fprintf(stderr, "nnfpga infer: out of memory\n");
    rc = EXIT_INPUT;
  }
  if (!rc) {
    for (int r = 0; r < B; r++) cls[r] = nnf_snn_class(counts + (size_t)r * C, C);
    cli_print_predictions(first, B, C, d.y, cls, counts, "spike_counts", "spike counts", json);
  }
  free(cls);
  free(counts);
  nnf_device_close(dev);
  nnf_dataset_free(&all);
  nnf_dataset_free(&d);
  nnf_snn_free(n);
  return rc;
}
