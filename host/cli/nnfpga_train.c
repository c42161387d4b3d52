/*
 * nnfpga_train.c - `nnfpga train`, `nnfpga eval` and `nnfpga infer`.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf.h"
#include "nnf_ckpt.h"
#include "nnf_model.h"
#include "nnf_train.h"
#include "nnfpga_cli.h"

#define DEVICE_HELP \
  "  --device URI     where forward passes run: model (default; the functional model),\n" \
  "                   sim (the Verilated RTL), serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]],\n" \
  "                   or host (fake quantization in float on the host, no device)\n"

static void usage_train(FILE *f) {
  fprintf(f,
          "usage: nnfpga train [OPTIONS]\n"
          "\n"
          "Trains a multilayer perceptron with quantization-aware training: forward passes\n"
          "in int8 on the device, gradients and optimizer steps in float on the host.\n"
          "Writes the checkpoint (safetensors) and a CSV of loss and accuracy per epoch.\n"
          "\n"
          "  --model M        mlp (default) or snn: a spiking network (see nnfpga train --model snn --help)\n"
          "  --layers L       sizes, input to output (default 784,128,10)\n"
          "  --act A          hidden activation: relu (default), relu6, sigmoid, tanh, none\n"
          "  --optimizer O    sgd, adagrad, rmsprop, adam (default), adamw\n"
          "  --lr X, --momentum X, --dampening X, --weight-decay X, --lr-decay X,\n"
          "  --initial-accumulator-value X, --alpha X, --beta1 X, --beta2 X, --eps X,\n"
          "  --nesterov, --centered, --amsgrad\n"
          "                   optimizer hyperparameters (PyTorch's names and defaults)\n"
          "  --init I         weight initialisation: default (torch.nn.Linear's), zeros, uniform,\n"
          "                   normal, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal\n"
          "                   (--init-a/--init-b uniform bounds, --init-mean/--init-std normal,\n"
          "                   --init-mode fan_in|fan_out for kaiming; gains from --act)\n"
          "  --epochs N       (default 10)\n"
          "  --batch N        samples per forward pass (default 64; 1: online; 0 or full: the\n"
          "                   whole training set, one step per epoch)\n"
          "  --accumulate N   passes per optimizer step (gradient accumulation, default 1)\n"
          "  --schedule S     learning rate: constant (default), step (--step-size N --gamma G),\n"
          "                   exponential (--gamma G), cosine (--t-max N --eta-min X)\n"
          "  --warmup-steps N linear warm-up over the first N optimizer steps\n"
          "  --val-split F    hold out a fraction F of the training set for validation; the\n"
          "                   weights with the best validation accuracy are kept\n"
          "  --patience N     stop after N epochs without a better validation accuracy\n"
          "  --plot FILE.svg  draw loss and accuracy per epoch (SVG)\n"
          "  --seed N         initialisation, shuffling and split seed (default 1)\n"
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT ")\n"
          "  --train-csv F, --test-csv F   CSV data instead (--label-col N, default 0)\n"
          "  --limit N        train on the first N samples only\n"
          "  --test-limit N   evaluate on the first N test samples only (0: none)\n"
          DEVICE_HELP
          "  --float          train in float without quantization (the float baseline)\n"
          "  --observe-every N  device mode: observe activation ranges on the host every\n"
          "                   N steps (default 8)\n"
          "  --out FILE       checkpoint (default model.safetensors)\n"
          "  --csv FILE       per-epoch log (default: FILE.csv next to --out)\n"
          "  --json           print a JSON summary on stdout\n"
          "  --quiet          no progress bar\n");
}

static void usage_eval(FILE *f) {
  fprintf(f,
          "usage: nnfpga eval --model FILE [OPTIONS]\n"
          "\n"
          "Evaluates a checkpoint's int8 model on a device over a test set and prints the\n"
          "accuracy and the device's figures.\n"
          "\n"
          "  --model FILE     checkpoint written by nnfpga train\n"
          DEVICE_HELP
          "  --float          evaluate the float weights on the host instead\n"
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT "), test split\n"
          "  --csv F          CSV data instead (--label-col N, default 0)\n"
          "  --limit N        the first N samples only\n"
          "  --batch N        images per device run (default 64)\n"
          "  --json           {accuracy, images, correct, loss, cycles_per_image, utilization, ...}\n"
          "  --quiet          no progress bar\n");
}

static void usage_infer(FILE *f) {
  fprintf(f,
          "usage: nnfpga infer --model FILE [OPTIONS]\n"
          "\n"
          "Runs a checkpoint's int8 model on a device and prints each sample's class and\n"
          "int8 logits.\n"
          "\n"
          "  --model FILE     checkpoint written by nnfpga train\n"
          DEVICE_HELP
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT "), test split\n"
          "  --csv F          CSV samples instead (--label-col N, default 0; -1 = last)\n"
          "  --first N        the first sample to run (default 0)\n"
          "  --count N        how many samples (default 10)\n"
          "  --float          the float weights on the host instead: float logits (exact, %%.9g)\n"
          "  --json           a JSON array of {index, label, class, logits}\n");
}

typedef struct {
  cli_progress bar;
  int quiet;
  int epochs;
} train_ui;

static void on_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  train_ui *u = ctx;
  if (!e) {
    cli_progress_update(&u->bar, done, total);
    return;
  }
  if (u->quiet) return;
  cli_progress_end(&u->bar);
  fprintf(stderr, "epoch %d/%d  loss %.4f  train %.2f%%", e->epoch, u->epochs, e->loss,
          100 * e->train_acc);
  if (e->val_acc >= 0) fprintf(stderr, "  val %.2f%%%s", 100 * e->val_acc, e->best ? " (best)" : "");
  if (e->test_acc >= 0) fprintf(stderr, "  test %.2f%%", 100 * e->test_acc);
  fprintf(stderr, "  lr %.3g  %.1f s\n", e->lr, e->seconds);
}

/* Optimizer hyperparameter flags: --name-with-dashes maps to torch's name. */
int cli_opt_flag(const char *cmd, nnf_opt_config *oc, int argc, char **argv, int *i, int *handled) {
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

/* A deferred hyperparameter: flags may come before --optimizer. */
typedef struct {
  int idx[64];
  int n;
} deferred;

int cmd_train(int argc, char **argv) {
  for (int i = 0; i + 1 < argc; i++)
    if ((!strcmp(argv[i], "--model") && !strcmp(argv[i + 1], "snn")) || !strcmp(argv[i], "--model=snn"))
      return cmd_train_snn(argc, argv);
  const char *layers = "784,128,10", *act = "relu", *optname = "adam", *data = NULL;
  const char *train_csv = NULL, *test_csv = NULL, *uri = "model", *out = "model.safetensors",
             *csv_path = NULL, *init = "default", *init_mode = "fan_in", *sched = "constant",
             *batch_s = "64", *plot = NULL;
  const char *init_a = "0", *init_b = "1", *init_mean = "0", *init_std = "1", *gamma = NULL,
             *eta_min = "0", *val_split = NULL;
  long epochs = 10, batch = 64, seed = 1, limit = 0, test_limit = -1, label_col = 0, observe = 8;
  long accumulate = 1, step_size = 10, t_max = 0, warmup = 0, patience = 0;
  int json = 0, quiet = 0, use_float = 0;
  deferred hp = {{0}, 0};
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
#define STR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define INT(flag, var, lo, hi) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("train", flag, v, lo, hi, &var)) return EXIT_USAGE; continue; }
    STR("--layers", layers) STR("--act", act) STR("--optimizer", optname) STR("--data", data)
    STR("--train-csv", train_csv) STR("--test-csv", test_csv) STR("--device", uri)
    STR("--out", out) STR("--csv", csv_path) STR("--init", init) STR("--init-mode", init_mode)
    STR("--init-a", init_a) STR("--init-b", init_b) STR("--init-mean", init_mean) STR("--init-std", init_std)
    STR("--schedule", sched) STR("--gamma", gamma) STR("--eta-min", eta_min) STR("--val-split", val_split)
    STR("--batch", batch_s) STR("--plot", plot)
    INT("--accumulate", accumulate, 1, 1000000) INT("--step-size", step_size, 1, 1000000)
    INT("--t-max", t_max, 1, 1000000) INT("--warmup-steps", warmup, 0, 1000000000L)
    INT("--patience", patience, 1, 1000000)
    INT("--epochs", epochs, 1, 100000) INT("--seed", seed, 0, 0x7fffffffL)
    INT("--limit", limit, 0, 0x7fffffffL) INT("--test-limit", test_limit, 0, 0x7fffffffL)
    INT("--label-col", label_col, -1, 100000) INT("--observe-every", observe, 1, 1000000)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { quiet = 1; continue; }
    if (!strcmp(argv[i], "--float")) { use_float = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_train(stdout); return 0; }
    if (!strncmp(argv[i], "--", 2) && hp.n < 64) {
      hp.idx[hp.n++] = i;
      /* skip a separate value of a hyperparameter flag */
      if (!strchr(argv[i], '=') && i + 1 < argc && strncmp(argv[i + 1], "--", 2) &&
          strcmp(argv[i], "--nesterov") && strcmp(argv[i], "--centered") && strcmp(argv[i], "--amsgrad"))
        i++;
      continue;
    }
    fprintf(stderr, "nnfpga train: unexpected argument '%s'\n", argv[i]);
    usage_train(stderr);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga train: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  char err[512];
  int kind = nnf_optim_parse(optname);
  if (kind < 0) {
    fprintf(stderr, "nnfpga train: unknown optimizer '%s' (sgd, adagrad, rmsprop, adam, adamw)\n", optname);
    return EXIT_USAGE;
  }
  nnf_opt_config oc = nnf_optim_defaults((nnf_opt_kind)kind);
  for (int k = 0; k < hp.n; k++) {
    int i = hp.idx[k], handled;
    if (cli_opt_flag("train", &oc, argc, argv, &i, &handled)) return EXIT_USAGE;
    if (!handled) {
      fprintf(stderr, "nnfpga train: unknown option '%s' (see nnfpga train --help)\n", argv[hp.idx[k]]);
      return EXIT_USAGE;
    }
  }
  if (nnf_optim_validate(&oc, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  /* batch, initialisation, schedule, validation split */
  if (!strcmp(batch_s, "full")) batch = 0;
  else if (cli_int("train", "--batch", batch_s, 0, 65535, &batch)) return EXIT_USAGE;
  int ik = nnf_init_parse(init);
  if (ik < 0) {
    fprintf(stderr, "nnfpga train: unknown --init '%s' (default, zeros, uniform, normal, xavier_uniform, "
                    "xavier_normal, kaiming_uniform, kaiming_normal)\n", init);
    return EXIT_USAGE;
  }
  nnf_init_spec is = nnf_init_defaults((nnf_init_kind)ik);
  if (cli_real("train", "--init-a", init_a, &is.a) || cli_real("train", "--init-b", init_b, &is.b) ||
      cli_real("train", "--init-mean", init_mean, &is.mean) || cli_real("train", "--init-std", init_std, &is.std))
    return EXIT_USAGE;
  if (strcmp(init_mode, "fan_in") && strcmp(init_mode, "fan_out")) {
    fprintf(stderr, "nnfpga train: --init-mode is fan_in or fan_out, not '%s'\n", init_mode);
    return EXIT_USAGE;
  }
  is.fan_out = !strcmp(init_mode, "fan_out");
  if (is.b < is.a || is.std < 0) {
    fprintf(stderr, "nnfpga train: --init-b must be >= --init-a and --init-std >= 0\n");
    return EXIT_USAGE;
  }
  nnf_sched sc;
  memset(&sc, 0, sizeof sc);
  int skind = nnf_sched_parse(sched);
  if (skind < 0) {
    fprintf(stderr, "nnfpga train: unknown --schedule '%s' (constant, step, exponential, cosine)\n", sched);
    return EXIT_USAGE;
  }
  sc.kind = (nnf_sched_kind)skind;
  sc.step_size = (int)step_size;
  sc.gamma = sc.kind == NNF_SCHED_EXPONENTIAL ? 0.95 : 0.1;
  if (gamma && cli_real("train", "--gamma", gamma, &sc.gamma)) return EXIT_USAGE;
  sc.t_max = (int)(t_max ? t_max : epochs);
  if (cli_real("train", "--eta-min", eta_min, &sc.eta_min)) return EXIT_USAGE;
  sc.warmup_steps = warmup;
  if (nnf_sched_validate(&sc, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  double vsplit = 0;
  if (val_split && (cli_real("train", "--val-split", val_split, &vsplit) || !(vsplit > 0 && vsplit < 1))) {
    fprintf(stderr, "nnfpga train: --val-split wants a fraction between 0 and 1, not '%s'\n", val_split);
    return EXIT_USAGE;
  }
  if (patience && !val_split) {
    fprintf(stderr, "nnfpga train: --patience needs --val-split (early stopping watches the validation set)\n");
    return EXIT_USAGE;
  }
  int sizes[NNF_MAX_LAYERS + 1];
  int ns = nnf_parse_layers(layers, sizes, NNF_MAX_LAYERS + 1, err, sizeof err);
  int a = nnf_act_parse(act);
  if (ns < 0 || a < 0) {
    if (ns < 0) fprintf(stderr, "nnfpga train: %s\n", err);
    else fprintf(stderr, "nnfpga train: unknown activation '%s' (relu, relu6, sigmoid, tanh, none)\n", act);
    return EXIT_USAGE;
  }
  if ((train_csv != NULL) != (test_csv != NULL) && test_limit != 0 && train_csv) {
    fprintf(stderr, "nnfpga train: --train-csv needs --test-csv (or --test-limit 0)\n");
    return EXIT_USAGE;
  }
  nnf_dataset train = {0}, test = {0};
  if (cli_load_data("train", data, train_csv, (int)label_col, 1, limit, &train)) return EXIT_INPUT;
  int have_test = test_limit != 0;
  if (have_test && cli_load_data("train", data, test_csv, (int)label_col, 0, test_limit, &test)) {
    nnf_dataset_free(&train);
    return EXIT_INPUT;
  }
  /* the architecture must fit the data: a usage problem of the data (exit 3) */
  const nnf_dataset *sets[2] = {&train, have_test ? &test : NULL};
  for (int k = 0; k < 2; k++) {
    if (!sets[k]) continue;
    const char *which = k ? "test" : "training";
    if (sets[k]->features != (size_t)sizes[0] || sets[k]->classes > sizes[ns - 1]) {
      if (sets[k]->features != (size_t)sizes[0])
        fprintf(stderr, "nnfpga train: --layers %s takes %d inputs but the %s data has %zu features per sample\n",
                layers, sizes[0], which, sets[k]->features);
      else
        fprintf(stderr, "nnfpga train: the %s data has %d classes but --layers %s has %d outputs\n", which,
                sets[k]->classes, layers, sizes[ns - 1]);
      nnf_dataset_free(&train);
      nnf_dataset_free(&test);
      return EXIT_INPUT;
    }
  }
  nnf_dataset val = {0};
  if (val_split) {
    nnf_dataset rest;
    if (nnf_dataset_split(&train, vsplit, (uint64_t)seed, &rest, &val, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      nnf_dataset_free(&train);
      nnf_dataset_free(&test);
      return EXIT_INPUT;
    }
    nnf_dataset_free(&train);
    train = rest;
  }
  nnf_net *net = nnf_net_create(sizes, ns, (nnf_act)a, (uint64_t)seed, err, sizeof err);
  if (net && nnf_net_init(net, &is, (uint64_t)seed)) {
    fprintf(stderr, "nnfpga train: invalid initialisation parameters\n");
    nnf_net_free(net);
    net = NULL;
    snprintf(err, sizeof err, "invalid initialisation");
  }
  nnf_optim *opt = net ? nnf_optim_create(&oc, err, sizeof err) : NULL;
  nnf_device *dev = NULL;
  int rc = 0;
  if (!net || !opt || nnf_net_register(net, opt)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    rc = EXIT_USAGE;
  } else if (!use_float) {
    rc = cli_open_device("train", uri, &dev);
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
  nnf_eval_result ev = {0};
  nnf_epoch_stats *history = calloc((size_t)epochs, sizeof *history);
  int epochs_run = 0;
  if (!history && !rc) {
    fprintf(stderr, "nnfpga train: out of memory\n");
    rc = EXIT_INPUT;
  }
  if (!rc) {
    nnf_train_opts o = nnf_train_defaults();
    o.mode = use_float ? NNF_FWD_FLOAT : dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT;
    o.eval_mode = o.mode;
    o.epochs = (int)epochs;
    o.batch = (int)batch;
    o.accumulate = (int)accumulate;
    o.seed = (uint64_t)seed;
    o.observe_every = (int)observe;
    o.sched = sc;
    o.patience = (int)patience;
    o.csv = csv;
    o.history = history;
    o.epochs_run = &epochs_run;
    train_ui ui;
    ui.quiet = quiet || json;
    ui.epochs = (int)epochs;
    cli_progress_init(&ui.bar, "train", !ui.quiet);
    o.progress = on_progress;
    o.progress_ctx = &ui;
    if (nnf_train(net, opt, dev, &train, val_split ? &val : NULL, have_test ? &test : NULL, &o, err,
                  sizeof err)) {
      cli_progress_end(&ui.bar);
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = dev ? EXIT_DEVICE : EXIT_INPUT;
    } else if (use_float && nnf_net_quantize(net, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    } else if (have_test && nnf_evaluate(net, o.eval_mode, dev, &test, batch ? (int)batch : 64, &ev, NULL,
                                         NULL, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_DEVICE;
    }
  }
  if (csv && fclose(csv) && !rc) {
    fprintf(stderr, "nnfpga train: writing %s failed\n", csv_path);
    rc = EXIT_INPUT;
  }
  if (!rc) {
    char seed_s[32], ep_s[32], b_s[32], acc_s[32], sched_s[128], init_s[128], lr_s[32];
    snprintf(seed_s, sizeof seed_s, "%ld", seed);
    snprintf(ep_s, sizeof ep_s, "%d", epochs_run);
    snprintf(b_s, sizeof b_s, "%ld", batch);
    snprintf(acc_s, sizeof acc_s, "%ld", accumulate);
    snprintf(lr_s, sizeof lr_s, "%.9g", oc.lr);
    snprintf(sched_s, sizeof sched_s, "%s step_size=%d gamma=%g t_max=%d eta_min=%g warmup_steps=%ld",
             nnf_sched_name(sc.kind), sc.step_size, sc.gamma, sc.t_max, sc.eta_min, sc.warmup_steps);
    if (is.kind == NNF_INIT_UNIFORM) snprintf(init_s, sizeof init_s, "uniform a=%g b=%g", is.a, is.b);
    else if (is.kind == NNF_INIT_NORMAL) snprintf(init_s, sizeof init_s, "normal mean=%g std=%g", is.mean, is.std);
    else if (is.kind == NNF_INIT_KAIMING_UNIFORM || is.kind == NNF_INIT_KAIMING_NORMAL)
      snprintf(init_s, sizeof init_s, "%s mode=%s", nnf_init_name(is.kind), init_mode);
    else snprintf(init_s, sizeof init_s, "%s", nnf_init_name(is.kind));
    const char *k[] = {"optimizer", "lr", "seed", "epochs", "batch", "accumulate", "init", "schedule",
                       "val_split", "device"};
    const char *v[] = {optname, lr_s, seed_s, ep_s, b_s, acc_s, init_s, sched_s, val_split ? val_split : "0",
                       use_float ? "float" : uri};
    if (nnf_ckpt_save(out, net, k, v, 10, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    }
  }
  if (!rc && plot) {
    char title[160];
    snprintf(title, sizeof title, "%s %s, %s, forward on %s", layers, act, optname, use_float ? "host (float)" : uri);
    if (cli_plot_history("train", plot, title, history, epochs_run)) rc = EXIT_INPUT;
  }
  if (!rc) {
    double secs = cli_now() - t0;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "checkpoint", out);
      cJSON_AddStringToObject(o, "csv", csv_path);
      cJSON_AddStringToObject(o, "device", use_float ? "float" : uri);
      cJSON_AddNumberToObject(o, "epochs", (double)epochs_run);
      if (val_split) {
        double best = -1;
        for (int e = 0; e < epochs_run; e++) best = history[e].val_acc > best ? history[e].val_acc : best;
        cJSON_AddNumberToObject(o, "best_val_accuracy", best);
      }
      cJSON_AddNumberToObject(o, "train_images", (double)train.count);
      if (have_test) {
        cJSON_AddNumberToObject(o, "test_accuracy", ev.accuracy);
        cJSON_AddNumberToObject(o, "test_images", (double)ev.images);
      }
      cJSON_AddNumberToObject(o, "seconds", secs);
      char *txt = cJSON_Print(o);
      puts(txt);
      free(txt);
      cJSON_Delete(o);
    } else {
      printf("trained %s (%s) on %zu images for %d epochs in %.1f s; forward passes on %s\n", layers,
             act, train.count, epochs_run, secs, use_float ? "the host (float)" : uri);
      if (have_test) printf("test accuracy %.2f%% on %llu images\n", 100 * ev.accuracy, (unsigned long long)ev.images);
      printf("checkpoint %s, log %s\n", out, csv_path);
    }
  }
  nnf_device_close(dev);
  nnf_optim_destroy(opt);
  nnf_net_free(net);
  nnf_dataset_free(&train);
  nnf_dataset_free(&test);
  nnf_dataset_free(&val);
  free(history);
  return rc;
}

static void eval_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  (void)e;
  cli_progress_update(ctx, done, total);
}

int cmd_eval(int argc, char **argv) {
  if (cli_model_is_snn(argc, argv)) return cmd_eval_snn(argc, argv);
  const char *model = NULL, *uri = "model", *data = NULL, *csvf = NULL;
  long limit = 0, batch = 64, label_col = 0;
  int json = 0, quiet = 0, use_float = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
#define ESTR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define EINT(flag, var, lo, hi) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("eval", flag, v, lo, hi, &var)) return EXIT_USAGE; continue; }
    ESTR("--model", model) ESTR("--device", uri) ESTR("--data", data) ESTR("--csv", csvf)
    EINT("--limit", limit, 0, 0x7fffffffL) EINT("--batch", batch, 1, 65535) EINT("--label-col", label_col, -1, 100000)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { quiet = 1; continue; }
    if (!strcmp(argv[i], "--float")) { use_float = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_eval(stdout); return 0; }
    fprintf(stderr, "nnfpga eval: unexpected argument '%s'\n", argv[i]);
    usage_eval(stderr);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga eval: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  if (!model) {
    fprintf(stderr, "nnfpga eval: --model FILE is required\n");
    return EXIT_USAGE;
  }
  char err[512];
  nnf_net *net = nnf_ckpt_load(model, err, sizeof err);
  if (!net) {
    fprintf(stderr, "nnfpga eval: %s\n", err);
    return EXIT_INPUT;
  }
  if (!use_float && !net->quantized) {
    fprintf(stderr, "nnfpga eval: %s holds no quantized model (trained with --float and never quantized)\n", model);
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  nnf_dataset d = {0};
  if (cli_load_data("eval", data, csvf, (int)label_col, 0, limit, &d)) {
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  nnf_device *dev = NULL;
  int rc = 0;
  if (!use_float) rc = cli_open_device("eval", uri, &dev);
  nnf_eval_result r;
  nnf_fwd_mode mode = use_float ? NNF_FWD_FLOAT : dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT;
  cli_progress bar;
  cli_progress_init(&bar, "eval", !quiet && !json);
  if (!rc && nnf_evaluate(net, mode, dev, &d, (int)batch, &r, eval_progress, &bar, err, sizeof err)) {
    fprintf(stderr, "nnfpga eval: %s\n", err);
    rc = strstr(err, "features") || strstr(err, "classes") ? EXIT_INPUT : EXIT_DEVICE;
  }
  cli_progress_end(&bar);
  if (!rc) {
    int has_cycles = dev && r.dev.cycles > 0;
    double cpi = has_cycles ? (double)r.dev.cycles / (double)r.images : 0;
    double util = has_cycles ? (double)r.dev.macs / ((double)r.dev.cycles * r.dev.rows * r.dev.cols) : 0;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "model", model);
      cJSON_AddStringToObject(o, "device", use_float ? "float" : uri);
      cJSON_AddNumberToObject(o, "accuracy", r.accuracy);
      cJSON_AddNumberToObject(o, "images", (double)r.images);
      cJSON_AddNumberToObject(o, "correct", (double)r.correct);
      cJSON_AddNumberToObject(o, "loss", r.loss);
      if (has_cycles) {
        cJSON_AddNumberToObject(o, "cycles_per_image", cpi);
        cJSON_AddNumberToObject(o, "utilization", util);
        cJSON_AddNumberToObject(o, "cycles", (double)r.dev.cycles);
      } else {
        cJSON_AddNullToObject(o, "cycles_per_image");
      }
      if (dev) cJSON_AddNumberToObject(o, "macs", (double)r.dev.macs);
      char *txt = cJSON_Print(o);
      puts(txt);
      free(txt);
      cJSON_Delete(o);
    } else {
      printf("accuracy %.2f%% (%llu of %llu images), loss %.4f, on %s\n", 100 * r.accuracy,
             (unsigned long long)r.correct, (unsigned long long)r.images, r.loss,
             use_float ? "the host (float)" : uri);
      if (has_cycles)
        printf("device: %.1f cycles per image, utilization %.3f of the %dx%d array\n", cpi, util,
               r.dev.rows, r.dev.cols);
      else if (dev)
        printf("device: %llu MACs (the functional model keeps no clock; use --device sim for cycles)\n",
               (unsigned long long)r.dev.macs);
    }
  }
  nnf_device_close(dev);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  return rc;
}

int cmd_infer(int argc, char **argv) {
  if (cli_model_is_snn(argc, argv)) return cmd_infer_snn(argc, argv);
  const char *model = NULL, *uri = "model", *data = NULL, *csvf = NULL;
  long first = 0, count = 10, label_col = 0;
  int json = 0, use_float = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
#define ISTR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define IINT(flag, var, lo, hi) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("infer", flag, v, lo, hi, &var)) return EXIT_USAGE; continue; }
    ISTR("--model", model) ISTR("--device", uri) ISTR("--data", data) ISTR("--csv", csvf)
    IINT("--first", first, 0, 0x7fffffffL) IINT("--count", count, 1, 65535) IINT("--label-col", label_col, -1, 100000)
    if (!strcmp(argv[i], "--json")) { json = 1; continue; }
    if (!strcmp(argv[i], "--float")) { use_float = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_infer(stdout); return 0; }
    fprintf(stderr, "nnfpga infer: unexpected argument '%s'\n", argv[i]);
    usage_infer(stderr);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga infer: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  if (!model) {
    fprintf(stderr, "nnfpga infer: --model FILE is required\n");
    return EXIT_USAGE;
  }
  char err[512];
  nnf_net *net = nnf_ckpt_load(model, err, sizeof err);
  if (!net || !net->quantized) {
    fprintf(stderr, "nnfpga infer: %s\n", net ? "the checkpoint holds no quantized model" : err);
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  nnf_dataset all = {0}, d = {0};
  if (cli_load_data("infer", data, csvf, (int)label_col, 0, 0, &all)) {
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  int rc = 0;
  if ((size_t)first >= all.count) {
    fprintf(stderr, "nnfpga infer: --first %ld but the data has %zu samples\n", first, all.count);
    rc = EXIT_USAGE;
  } else if (nnf_dataset_slice(&all, (size_t)first, (size_t)count, &d)) {
    fprintf(stderr, "nnfpga infer: out of memory\n");
    rc = EXIT_INPUT;
  } else if (d.features != (size_t)net->sizes[0]) {
    fprintf(stderr, "nnfpga infer: the model takes %d inputs but the data has %zu features\n",
            net->sizes[0], d.features);
    rc = EXIT_INPUT;
  }
  nnf_device *dev = NULL;
  if (!rc && !use_float) rc = cli_open_device("infer", uri, &dev);
  int B = (int)d.count;
  nnf_fwd_mode mode = use_float ? NNF_FWD_FLOAT : dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT;
  if (!rc && dev && nnf_device_load(dev, net, B, err, sizeof err)) {
    fprintf(stderr, "nnfpga infer: %s\n", err);
    rc = EXIT_DEVICE;
  }
  if (!rc && nnf_net_forward(net, mode, dev, d.x, B, err, sizeof err)) {
    fprintf(stderr, "nnfpga infer: %s\n", err);
    rc = EXIT_DEVICE;
  }
  if (!rc) {
    int L = net->nlayers, C = net->sizes[L];
    int32_t *q = malloc(sizeof(int32_t) * (size_t)B * C);
    int *cls = malloc(sizeof(int) * (size_t)B);
    if (!q || !cls) {
      fprintf(stderr, "nnfpga infer: out of memory\n");
      rc = EXIT_INPUT;
    } else {
      for (int r = 0; r < B; r++) cls[r] = nnf_argmax(net->a[L] + (size_t)r * C, C);
      if (use_float) {
        cli_print_predictions_f(first, B, C, d.y, cls, net->a[L], "logits", "logits", json);
      } else {
        for (size_t i = 0; i < (size_t)B * C; i++) q[i] = net->qa[L][i];
        cli_print_predictions(first, B, C, d.y, cls, q, "logits", "logits", json);
      }
    }
    free(q);
    free(cls);
  }
  nnf_device_close(dev);
  nnf_dataset_free(&all);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  return rc;
}
