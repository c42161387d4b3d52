/*
 * nnfpga_train.c - `nnfpga train`: one command for every network the layer
 * stack builds (an MLP by default, a spiking network with --model snn),
 * one training loop (nnf_train), one checkpoint format.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf.h"
#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnfpga_cli.h"

#define DEVICE_HELP \
  "  --device URI     where forward passes run: model (default; the functional model),\n" \
  "                   sim (the Verilated RTL), serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]][@BAUD],\n" \
  "                   or host (fake quantization in float on the host, no device)\n"

static void usage_train(FILE *f) {
  fprintf(f,
          "usage: nnfpga train [OPTIONS]\n"
          "\n"
          "Trains a multilayer perceptron (or the network of --arch: convolutions, pooling)\n"
          "with quantization-aware training: forward passes\n"
          "in int8 on the device, gradients and optimizer steps in float on the host.\n"
          "Writes the checkpoint (safetensors) and a CSV of loss and accuracy per epoch.\n"
          "\n"
          "  --model M        mlp (default) or snn: a spiking network (see nnfpga train --model snn --help)\n"
          "  --layers L       sizes, input to output (default 784,128,10); dropout:P between two\n"
          "                   sizes adds a Dropout(P) layer there (e.g. 784,128,dropout:0.2,10)\n"
          CLI_ARCH_HELP
          "  --task T         multiclass (default: softmax + cross-entropy), binary (one sigmoid\n"
          "                   output, labels 0/1), multilabel (a sigmoid per output, CSV targets),\n"
          "                   regression (no activation, CSV targets; reports MSE and MAE)\n"
          "  --loss L         the task's loss: ce (multiclass), bce (binary, multilabel),\n"
          "                   mse (default), mae or huber (regression; --huber-delta X, default 1)\n"
          "  --targets N      multilabel / regression: N target columns per CSV line, from\n"
          "                   --label-col on (-1: the last N); default and required: the outputs\n"
          "  --l1 X           add X * sign(w) to every parameter's gradient (loss + X * sum|w|)\n"
          "  --clip-norm X    clip the gradients to global norm X before each step\n"
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
          "  --train-csv F, --test-csv F   CSV data instead (--label-col N, default 0, -1 the last)\n"
          "  --seq-id N       the CSV has one line per time step, sequences grouped by the id in\n"
          "                   column N (a sample: the whole sequence, its label its last line's)\n"
          "  --limit N        train on the first N samples only\n"
          "  --test-limit N   evaluate on the first N test samples only (0: none)\n"
          DEVICE_HELP
          CLI_TRACE_HELP
          "  --float          train in float without quantization (the float baseline)\n"
          "  --observe-every N  device mode: observe activation ranges on the host every\n"
          "                   N steps (default 8)\n"
          "  --out FILE       checkpoint (default model.safetensors)\n"
          "  --csv FILE       per-epoch log (default: FILE.csv next to --out)\n"
          "  --json           print a JSON summary on stdout\n"
          "  --quiet          no progress bar (nor the trace's line)\n");
}

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
          "  --out FILE, --csv FILE, --plot FILE.svg, --json, --quiet\n"
          "  --device URI, --trace FILE.fst, --trace-window FROM:TO   as for the MLP\n");
}

typedef struct {
  cli_progress bar;
  int quiet;
  int epochs;
  nnf_task_kind task;
} train_ui;

static void on_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  train_ui *u = ctx;
  if (!e) {
    cli_progress_update(&u->bar, done, total);
    return;
  }
  if (u->quiet) return;
  cli_progress_end(&u->bar);
  /* the task's figure: a percentage, or regression's MSE */
  int pct = u->task != NNF_TASK_REGRESSION;
  const char *fmt = pct ? "  %s %.2f%%%s" : "  %s mse %.5g%s";
  double k = pct ? 100 : 1;
  fprintf(stderr, "epoch %d/%d  loss %.4f", e->epoch, u->epochs, e->loss);
  fprintf(stderr, fmt, "train", k * e->train_acc, "");
  if (e->val_acc >= 0) fprintf(stderr, fmt, "val", k * e->val_acc, e->best ? " (best)" : "");
  if (e->test_acc >= 0) fprintf(stderr, fmt, "test", k * e->test_acc, "");
  fprintf(stderr, "  lr %.3g  %.1f s\n", e->lr, e->seconds);
}

static int pick(const char *opt, const char *v, const char *a, const char *b, int *out) {
  if (!strcmp(v, a)) *out = 0;
  else if (!strcmp(v, b)) *out = 1;
  else {
    fprintf(stderr, "nnfpga train: %s is %s or %s, not '%s'\n", opt, a, b, v);
    return -1;
  }
  return 0;
}

/* The flags of `nnfpga train`: one table for every kind of network. */
static struct {
  const char *model, *layers, *arch, *input_shape, *act, *optname, *data, *train_csv, *test_csv, *uri, *out, *csv_path, *plot, *batch,
      *val_split;
  const char *task, *loss, *huber_delta, *l1, *clip_norm;
  const char *init, *init_mode, *init_a, *init_b, *init_mean, *init_std;
  const char *reset, *enc, *surr, *beta, *thr, *slope;
  long epochs, seed, limit, test_limit, label_col, seq_id, observe, accumulate, patience, steps, resolution, targets;
  int json, quiet, use_float;
} f;

static const cli_option train_options[] = {
    {"--model", CLI_STR, &f.model, 0, 0},
    {"--task", CLI_STR, &f.task, 0, 0},
    {"--loss", CLI_STR, &f.loss, 0, 0},
    {"--huber-delta", CLI_STR, &f.huber_delta, 0, 0},
    {"--l1", CLI_STR, &f.l1, 0, 0},
    {"--clip-norm", CLI_STR, &f.clip_norm, 0, 0},
    {"--targets", CLI_INT, &f.targets, 1, 65535},
    {"--layers", CLI_STR, &f.layers, 0, 0},
    {"--arch", CLI_STR, &f.arch, 0, 0},
    {"--input-shape", CLI_STR, &f.input_shape, 0, 0},
    {"--act", CLI_STR, &f.act, 0, 0},
    {"--optimizer", CLI_STR, &f.optname, 0, 0},
    {"--data", CLI_STR, &f.data, 0, 0},
    {"--train-csv", CLI_STR, &f.train_csv, 0, 0},
    {"--test-csv", CLI_STR, &f.test_csv, 0, 0},
    {"--device", CLI_STR, &f.uri, 0, 0},
    {"--out", CLI_STR, &f.out, 0, 0},
    {"--csv", CLI_STR, &f.csv_path, 0, 0},
    {"--plot", CLI_STR, &f.plot, 0, 0},
    {"--batch", CLI_STR, &f.batch, 0, 0},
    {"--val-split", CLI_STR, &f.val_split, 0, 0},
    {"--init", CLI_STR, &f.init, 0, 0},
    {"--init-mode", CLI_STR, &f.init_mode, 0, 0},
    {"--init-a", CLI_STR, &f.init_a, 0, 0},
    {"--init-b", CLI_STR, &f.init_b, 0, 0},
    {"--init-mean", CLI_STR, &f.init_mean, 0, 0},
    {"--init-std", CLI_STR, &f.init_std, 0, 0},
    {"--reset", CLI_STR, &f.reset, 0, 0},
    {"--encoding", CLI_STR, &f.enc, 0, 0},
    {"--surrogate", CLI_STR, &f.surr, 0, 0},
    {"--beta", CLI_STR, &f.beta, 0, 0},
    {"--threshold", CLI_STR, &f.thr, 0, 0},
    {"--slope", CLI_STR, &f.slope, 0, 0},
    {"--epochs", CLI_INT, &f.epochs, 1, 100000},
    {"--seed", CLI_INT, &f.seed, 0, 0x7fffffffL},
    {"--limit", CLI_INT, &f.limit, 0, 0x7fffffffL},
    {"--test-limit", CLI_INT, &f.test_limit, 0, 0x7fffffffL},
    {"--label-col", CLI_INT, &f.label_col, -1, 100000},
    {"--seq-id", CLI_INT, &f.seq_id, 0, 100000},
    {"--observe-every", CLI_INT, &f.observe, 1, 1000000},
    {"--accumulate", CLI_INT, &f.accumulate, 1, 1000000},
    {"--patience", CLI_INT, &f.patience, 1, 1000000},
    {"--steps", CLI_INT, &f.steps, 0, 1000000},
    {"--resolution", CLI_INT, &f.resolution, 1, 131071},
    {"--json", CLI_FLAG, &f.json, 0, 0},
    {"--quiet", CLI_FLAG, &f.quiet, 0, 0},
    {"--float", CLI_FLAG, &f.use_float, 0, 0},
    CLI_END};

/* The initialiser from its flags: 0, or the exit code. */
static int init_spec(nnf_init_spec *is) {
  int ik = nnf_init_parse(f.init);
  if (ik < 0) {
    fprintf(stderr, "nnfpga train: unknown --init '%s' (default, zeros, uniform, normal, xavier_uniform, "
                    "xavier_normal, kaiming_uniform, kaiming_normal)\n", f.init);
    return EXIT_USAGE;
  }
  *is = nnf_init_defaults((nnf_init_kind)ik);
  if (cli_real("train", "--init-a", f.init_a, &is->a) || cli_real("train", "--init-b", f.init_b, &is->b) ||
      cli_real("train", "--init-mean", f.init_mean, &is->mean) || cli_real("train", "--init-std", f.init_std, &is->std))
    return EXIT_USAGE;
  if (strcmp(f.init_mode, "fan_in") && strcmp(f.init_mode, "fan_out")) {
    fprintf(stderr, "nnfpga train: --init-mode is fan_in or fan_out, not '%s'\n", f.init_mode);
    return EXIT_USAGE;
  }
  is->fan_out = !strcmp(f.init_mode, "fan_out");
  if (is->b < is->a || is->std < 0) {
    fprintf(stderr, "nnfpga train: --init-b must be >= --init-a and --init-std >= 0\n");
    return EXIT_USAGE;
  }
  return 0;
}

/* The spiking configuration from its flags: 0, or the exit code. */
static int snn_config(nnf_snn_config *c) {
  char err[512];
  int r = 0, e = 0, s = 0;
  *c = nnf_snn_defaults();
  if (pick("--reset", f.reset, "zero", "subtract", &r) || pick("--encoding", f.enc, "direct", "rate", &e) ||
      pick("--surrogate", f.surr, "fast_sigmoid", "atan", &s))
    return EXIT_USAGE;
  c->lif.reset_sub = r;
  c->encoding = (nnf_encoding)e;
  c->lif.surrogate = (nnf_surrogate)s;
  c->lif.slope = s ? 2.0 : 25.0;
  c->steps = (int)f.steps;
  c->lif.resolution = (int)f.resolution;
  if ((f.beta && cli_real("train", "--beta", f.beta, &c->lif.beta)) ||
      (f.thr && cli_real("train", "--threshold", f.thr, &c->lif.threshold)) ||
      (f.slope && cli_real("train", "--slope", f.slope, &c->lif.slope)))
    return EXIT_USAGE;
  if (nnf_snn_config_check(c, err, sizeof err)) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    return EXIT_USAGE;
  }
  return 0;
}

int cmd_train(int argc, char **argv) {
  memset(&f, 0, sizeof f);
  memset(&cli_trace_values, 0, sizeof cli_trace_values);
  f.model = "mlp", f.layers = NULL, f.input_shape = "1,28,28", f.act = "relu", f.optname = "adam", f.init = "default";
  f.init_mode = "fan_in", f.init_a = "0", f.init_b = "1", f.init_mean = "0", f.init_std = "1";
  f.reset = "subtract", f.enc = "direct", f.surr = "atan";
  f.epochs = 10, f.seed = 1, f.test_limit = -1, f.seq_id = -1, f.observe = 8, f.accumulate = 1, f.steps = 25, f.resolution = 48;
  cli_sched_flags defaults = {"constant", NULL, "0", 10, 0, 0};
  cli_sched_values = defaults;
  cli_deferred hp = {{0}, 0};
  int help = 0;
  const cli_option *tables[] = {train_options, cli_sched_options, cli_trace_options, NULL};
  int rc = cli_parse("train", argc, argv, tables, &help, cli_defer, &hp);
  int snn = !strcmp(f.model, "snn");
  if (help) {
    if (snn) usage_train_snn(stdout);
    else usage_train(stdout);
    return 0;
  }
  if (rc) return rc;
  if (!snn && strcmp(f.model, "mlp")) {
    fprintf(stderr, "nnfpga train: --model is mlp or snn, not '%s'\n", f.model);
    return EXIT_USAGE;
  }
  if (f.arch && (snn || f.layers)) {
    fprintf(stderr, "nnfpga train: --arch gives the whole network: not with %s\n", snn ? "--model snn" : "--layers");
    return EXIT_USAGE;
  }
  const char *spec_flag = f.arch ? "--arch" : "--layers";
  if (!f.layers) f.layers = "784,128,10";
  const char *spec = f.arch ? f.arch : f.layers;
  int arch_io[2] = {0, 0}; /* --arch: checked here, before any data is read; built again below */
  if (f.arch) {
    nnf_net *probe = NULL;
    if ((rc = cli_arch_net("train", f.arch, f.input_shape, &probe))) return rc;
    arch_io[0] = nnf_net_inputs(probe), arch_io[1] = nnf_net_outputs(probe);
    nnf_net_free(probe);
  }
  if (snn && f.use_float) {
    fprintf(stderr, "nnfpga train: a spiking network trains on its integer forward pass (no --float)\n");
    return EXIT_USAGE;
  }
  const char *uri = f.uri ? f.uri : snn ? "host" : "model";
  const char *out = f.out ? f.out : snn ? "snn.safetensors" : "model.safetensors";
  char err[512], open_uri[8192];
  if ((rc = cli_trace_uri("train", f.use_float ? NULL : uri, open_uri, sizeof open_uri))) return rc;
  nnf_opt_config oc;
  if ((rc = cli_optimizer("train", f.optname, &hp, argc, argv, &oc))) return rc;
  long batch = snn ? 128 : 64;
  if (f.batch && !strcmp(f.batch, "full")) batch = 0;
  else if (f.batch && cli_int("train", "--batch", f.batch, 0, 65535, &batch)) return EXIT_USAGE;
  nnf_init_spec is;
  nnf_snn_config sc_snn;
  if ((rc = init_spec(&is)) || (snn && (rc = snn_config(&sc_snn)))) return rc;
  nnf_sched sc;
  if ((rc = cli_schedule("train", &cli_sched_values, f.epochs, &sc))) return rc;
  double vsplit = 0;
  if (f.val_split && (cli_real("train", "--val-split", f.val_split, &vsplit) || !(vsplit > 0 && vsplit < 1))) {
    fprintf(stderr, "nnfpga train: --val-split wants a fraction between 0 and 1, not '%s'\n", f.val_split);
    return EXIT_USAGE;
  }
  if (f.patience && !f.val_split) {
    fprintf(stderr, "nnfpga train: --patience needs --val-split (early stopping watches the validation set)\n");
    return EXIT_USAGE;
  }
  int sizes[NNF_MAX_SIZES];
  double drop[NNF_MAX_SIZES];
  int ns = 2;
  if (f.arch) sizes[0] = arch_io[0], sizes[1] = arch_io[1];
  else ns = snn ? nnf_parse_layers(f.layers, sizes, NNF_MAX_SIZES, err, sizeof err)
                : nnf_parse_mlp_spec(f.layers, sizes, drop, NNF_MAX_SIZES, err, sizeof err);
  int a = nnf_act_parse(f.act);
  if (ns < 0 || a < 0) {
    if (ns < 0) fprintf(stderr, "nnfpga train: %s\n", err);
    else fprintf(stderr, "nnfpga train: unknown activation '%s' (relu, relu6, sigmoid, tanh, none)\n", f.act);
    return EXIT_USAGE;
  }
  nnf_task task;
  float l1 = 0, clip = 0;
  if ((rc = cli_task("train", f.task, f.loss, f.huber_delta, sizes[ns - 1], &task)) ||
      (rc = cli_nonneg("train", "--l1", f.l1, &l1)) || (rc = cli_nonneg("train", "--clip-norm", f.clip_norm, &clip)))
    return rc;
  int targets = nnf_task_uses_targets(task.kind) ? sizes[ns - 1] : 0;
  if (snn && task.kind != NNF_TASK_MULTICLASS) {
    fprintf(stderr, "nnfpga train: a spiking network's outputs are spike counts: --task multiclass only\n");
    return EXIT_USAGE;
  }
  if (f.targets && !targets) {
    fprintf(stderr, "nnfpga train: --targets is for --task multilabel or regression (the %s task reads a label)\n",
            nnf_task_name(task.kind));
    return EXIT_USAGE;
  }
  if (f.targets && f.targets != targets) {
    fprintf(stderr, "nnfpga train: --targets %ld but %s %s has %d outputs (one per target)\n", f.targets,
            spec_flag, spec, targets);
    return EXIT_USAGE;
  }
  if (targets && !f.train_csv) {
    fprintf(stderr, "nnfpga train: the %s task reads its targets from CSV (--train-csv F --test-csv F)\n",
            nnf_task_name(task.kind));
    return EXIT_USAGE;
  }
  if ((f.train_csv != NULL) != (f.test_csv != NULL) && f.test_limit != 0 && f.train_csv) {
    fprintf(stderr, "nnfpga train: --train-csv needs --test-csv (or --test-limit 0)\n");
    return EXIT_USAGE;
  }
  nnf_dataset train = {0}, test = {0}, val = {0};
  if (cli_load_data("train", f.data, f.train_csv, (int)f.label_col, (int)f.seq_id, targets, 1, f.limit, &train)) return EXIT_INPUT;
  int have_test = f.test_limit != 0;
  if (have_test && cli_load_data("train", f.data, f.test_csv, (int)f.label_col, (int)f.seq_id, targets, 0, f.test_limit, &test)) {
    nnf_dataset_free(&train);
    return EXIT_INPUT;
  }
  const nnf_dataset *sets[2] = {&train, &test};
  for (int k = 0; k < 1 + have_test && !rc; k++) {
    const char *which = k ? "test" : "training";
    if (sets[k]->features != (size_t)sizes[0])
      fprintf(stderr, "nnfpga train: %s %s takes %d inputs but the %s data has %zu features per sample\n",
              spec_flag, spec, sizes[0], which, sets[k]->features), rc = EXIT_INPUT;
    else if (task.kind == NNF_TASK_MULTICLASS && sets[k]->classes > sizes[ns - 1])
      fprintf(stderr, "nnfpga train: the %s data has %d classes but %s %s has %d outputs\n", which,
              sets[k]->classes, spec_flag, spec, sizes[ns - 1]), rc = EXIT_INPUT;
    else if (task.kind == NNF_TASK_BINARY && sets[k]->classes > 2)
      fprintf(stderr, "nnfpga train: the binary task takes labels 0 and 1 but the %s data has labels up to %d\n",
              which, sets[k]->classes - 1), rc = EXIT_INPUT;
  }
  if (!rc && f.val_split) {
    nnf_dataset rest;
    if (nnf_dataset_split(&train, vsplit, (uint64_t)f.seed, &rest, &val, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    } else {
      nnf_dataset_free(&train);
      train = rest;
    }
  }
  nnf_net *net = NULL;
  if (!rc) {
    if (f.arch) cli_arch_net("train", f.arch, f.input_shape, &net);
    else net = snn ? nnf_snn_create(sizes, ns, &sc_snn, (uint64_t)f.seed, err, sizeof err)
                   : nnf_mlp_create_dropout(sizes, ns, (nnf_act)a, drop, (uint64_t)f.seed, err, sizeof err);
    if (net) net->task = task;
    if (net && !snn && nnf_net_init(net, &is, (uint64_t)f.seed)) {
      nnf_net_free(net);
      net = NULL;
      snprintf(err, sizeof err, "invalid initialisation parameters");
    }
  }
  nnf_optim *opt = net ? nnf_optim_create(&oc, err, sizeof err) : NULL;
  nnf_device *dev = NULL;
  if (!rc && (!net || !opt || nnf_net_register(net, opt))) {
    fprintf(stderr, "nnfpga train: %s\n", err);
    rc = EXIT_USAGE;
  } else if (!rc && !f.use_float) {
    rc = cli_open_device("train", open_uri, &dev);
  }
  char csv_buf[1024];
  const char *csv_path = f.csv_path;
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
  nnf_epoch_stats *history = calloc((size_t)f.epochs, sizeof *history);
  int epochs_run = 0;
  if (!history && !rc) {
    fprintf(stderr, "nnfpga train: out of memory\n");
    rc = EXIT_INPUT;
  }
  nnf_train_opts o = nnf_train_defaults();
  if (!rc) {
    /* a spiking network trains on its integer path (the device's spikes);
     * an MLP on the device, in fake quantization on the host, or in float */
    o.mode = f.use_float ? NNF_FWD_FLOAT : snn ? NNF_FWD_INT : dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT;
    o.eval_mode = snn && dev ? NNF_FWD_DEVICE : o.mode;
    o.eval_batch = snn ? 256 : 0;
    o.epochs = (int)f.epochs;
    o.batch = (int)batch;
    o.accumulate = (int)f.accumulate;
    o.seed = (uint64_t)f.seed;
    o.observe_every = (int)f.observe;
    o.sched = sc;
    o.patience = (int)f.patience;
    o.l1 = l1;
    o.clip_norm = clip;
    o.csv = csv;
    o.history = history;
    o.epochs_run = &epochs_run;
    train_ui ui;
    ui.quiet = f.quiet || f.json;
    ui.epochs = (int)f.epochs;
    ui.task = task.kind;
    cli_progress_init(&ui.bar, "train", !ui.quiet);
    o.progress = on_progress;
    o.progress_ctx = &ui;
    if (nnf_train(net, opt, dev, &train, f.val_split ? &val : NULL, have_test ? &test : NULL, &o, err, sizeof err)) {
      cli_progress_end(&ui.bar);
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = strstr(err, "dropout needs") ? EXIT_USAGE : dev ? EXIT_DEVICE : EXIT_INPUT;
    } else if (f.use_float && nnf_net_quantize(net, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    } else if (have_test && nnf_evaluate(net, o.eval_mode, dev, &test, snn ? 256 : batch ? (int)batch : 64, &ev, NULL,
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
    snprintf(seed_s, sizeof seed_s, "%ld", f.seed);
    snprintf(ep_s, sizeof ep_s, "%d", epochs_run);
    snprintf(b_s, sizeof b_s, "%ld", batch);
    snprintf(acc_s, sizeof acc_s, "%ld", f.accumulate);
    snprintf(lr_s, sizeof lr_s, "%.9g", oc.lr);
    snprintf(sched_s, sizeof sched_s, "%s step_size=%d gamma=%g t_max=%d eta_min=%g warmup_steps=%ld",
             nnf_sched_name(sc.kind), sc.step_size, sc.gamma, sc.t_max, sc.eta_min, sc.warmup_steps);
    if (is.kind == NNF_INIT_UNIFORM) snprintf(init_s, sizeof init_s, "uniform a=%g b=%g", is.a, is.b);
    else if (is.kind == NNF_INIT_NORMAL) snprintf(init_s, sizeof init_s, "normal mean=%g std=%g", is.mean, is.std);
    else if (is.kind == NNF_INIT_KAIMING_UNIFORM || is.kind == NNF_INIT_KAIMING_NORMAL)
      snprintf(init_s, sizeof init_s, "%s mode=%s", nnf_init_name(is.kind), f.init_mode);
    else snprintf(init_s, sizeof init_s, "%s", nnf_init_name(is.kind));
    char l1_s[32], clip_s[32];
    snprintf(l1_s, sizeof l1_s, "%.9g", (double)l1);
    snprintf(clip_s, sizeof clip_s, "%.9g", (double)clip);
    const char *k[] = {"optimizer", "lr", "seed", "epochs", "batch", "accumulate", "init", "schedule",
                       "val_split", "device", "l1", "clip_norm"};
    const char *v[] = {f.optname, lr_s, seed_s, ep_s, b_s, acc_s, snn ? "default" : init_s, sched_s,
                       f.val_split ? f.val_split : "0", f.use_float ? "float" : uri, l1_s, clip_s};
    if (nnf_ckpt_save(out, net, k, v, 12, err, sizeof err)) {
      fprintf(stderr, "nnfpga train: %s\n", err);
      rc = EXIT_INPUT;
    }
  }
  if (!rc && f.plot) {
    char title[160];
    if (snn) snprintf(title, sizeof title, "spiking %s, T = %d, %s reset", f.layers, sc_snn.steps, f.reset);
    else snprintf(title, sizeof title, "%s %s, %s, forward on %s", spec, f.arch ? "" : f.act, f.optname,
                  f.use_float ? "host (float)" : uri);
    if (cli_plot_history("train", f.plot, title, history, epochs_run)) rc = EXIT_INPUT;
  }
  if (!rc) {
    double secs = cli_now() - t0;
    if (f.json) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "checkpoint", out);
      cJSON_AddStringToObject(j, "csv", csv_path);
      cJSON_AddStringToObject(j, "model", snn ? "snn" : f.arch ? "arch" : "mlp");
      if (f.arch) cJSON_AddStringToObject(j, "arch", f.arch);
      if (snn) cJSON_AddNumberToObject(j, "steps", sc_snn.steps);
      cJSON_AddStringToObject(j, "device", f.use_float ? "float" : uri);
      cJSON_AddNumberToObject(j, "epochs", (double)epochs_run);
      cJSON_AddStringToObject(j, "task", nnf_task_name(task.kind));
      cJSON_AddStringToObject(j, "loss", nnf_loss_name(task.loss));
      if (f.val_split) {
        int low = nnf_task_lower_better(task.kind);
        double best = history[0].val_acc;
        for (int e = 1; e < epochs_run; e++)
          if (low ? history[e].val_acc < best : history[e].val_acc > best) best = history[e].val_acc;
        char key[48];
        snprintf(key, sizeof key, "best_val_%s", nnf_task_figure_name(task.kind));
        cJSON_AddNumberToObject(j, key, best);
      }
      cJSON_AddNumberToObject(j, "train_images", (double)train.count);
      if (have_test) {
        cli_json_figures(j, "test_", &task, &ev, &test);
        cJSON_AddNumberToObject(j, "test_images", (double)ev.images);
      }
      cJSON_AddNumberToObject(j, "seconds", secs);
      cli_trace_report("train", dev, 0, j);
      cli_json_emit(j);
    } else {
      if (snn)
        printf("trained spiking %s (T = %d, %s reset, %s input) on %zu images for %d epochs in %.1f s\n", f.layers,
               sc_snn.steps, f.reset, f.enc, train.count, epochs_run, secs);
      else
        printf("trained %s (%s%s%s) on %zu %s for %d epochs in %.1f s; forward passes on %s\n", spec,
               f.arch ? "arch" : f.act,
               task.kind == NNF_TASK_MULTICLASS ? "" : ", ", task.kind == NNF_TASK_MULTICLASS ? "" : nnf_task_name(task.kind),
               train.count, task.kind == NNF_TASK_MULTICLASS ? "images" : "samples", epochs_run, secs,
               f.use_float ? "the host (float)" : uri);
      if (have_test && task.kind == NNF_TASK_MULTICLASS)
        printf("test accuracy %.2f%% on %llu images%s\n", 100 * ev.accuracy, (unsigned long long)ev.images,
               o.eval_mode == NNF_FWD_INT ? " (host integer reference: the device's spikes)" : "");
      else if (have_test)
        cli_print_figures("test", &task, &ev, &test);
      printf("checkpoint %s, log %s\n", out, csv_path);
      cli_trace_report("train", dev, f.quiet, NULL);
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
