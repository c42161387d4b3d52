/*
 * nnfpga_cli.h - what the nnfpga command's files share: exit codes, option
 * parsing, the progress bar and data loading.
 */
#ifndef NNFPGA_CLI_H
#define NNFPGA_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "nnf_calib.h"
#include "nnf_data.h"
#include "nnf_device.h"
#include "nnf_optim.h"
#include "nnf_task.h"
#include "nnf_train.h"

/* Exit codes (documented in `nnfpga --help` and docs/cli.md). */
enum { EXIT_DEVICE = 1, EXIT_USAGE = 2, EXIT_INPUT = 3 };

/* Option tables: each command parses its argv against a list of tables
 * (shared ones, e.g. cli_data_options, and its own), so no option is
 * declared twice. CLI_STR stores the value (const char *), CLI_INT parses a
 * long in lo..hi, CLI_FLAG sets an int to 1. */
typedef enum { CLI_STR = 0, CLI_INT, CLI_FLAG } cli_kind;
typedef struct {
  const char *flag;
  cli_kind kind;
  void *var;
  long lo, hi;
} cli_option;
#define CLI_END {NULL, CLI_STR, NULL, 0, 0}

/* Parse argv[0..argc) against the NULL-terminated list of tables. Options
 * that no table knows are handed to `other` (may be NULL: then they are an
 * error) with the index; it returns 0 when it took them (advancing *i past
 * a value), -1 when it did not. -h/--help sets *help. 0, or the exit code
 * after printing the error. */
int cli_parse(const char *cmd, int argc, char **argv, const cli_option *const *tables, int *help,
              int (*other)(void *ctx, int argc, char **argv, int *i), void *ctx);

/* Optimizer hyperparameters given before or after --optimizer: collected
 * by cli_parse (as `other`), applied by cli_optimizer. */
typedef struct {
  int idx[64];
  int n;
} cli_deferred;
int cli_defer(void *ctx, int argc, char **argv, int *i);
/* The optimizer `name` with the deferred flags: 0, or the exit code. */
int cli_optimizer(const char *cmd, const char *name, const cli_deferred *hp, int argc, char **argv,
                  nnf_opt_config *oc);
/* What eval and infer share: the checkpoint, the device, the data. */
typedef struct {
  const char *model, *uri, *data, *csv;
  const char *open_uri;             /* uri with --trace's options (cli_trace_uri) */
  const char *arch, *input_shape;   /* --arch instead of --model: an untrained network */
  long label_col, seed;
  long seq_id;                      /* --seq-id N: CSV of one line per time step (-1: none) */
  int json, use_float;
  int no_pack;                      /* --no-pack: nnf_device_set_pack(dev, 0) */
  int no_fuse_pool;                 /* --no-fuse-pool: nnf_device_set_fuse_pool(dev, 0) */
} cli_model_flags;
extern const cli_option cli_model_options[];
extern cli_model_flags cli_model_values;
/* The start of eval and infer: parse argv against cli_model_options,
 * cli_trace_options and the command's own table (the URI to open, with the
 * trace's options: open_uri), then load the checkpoint (quantized unless
 * --float), or with --arch build that network untrained (torch's default
 * initialisation from --seed, ranges observed on 64 seeded uniform inputs
 * in [0, 1), quantized): what an architecture costs a device. 0 with *net set; -1 after printing the help (exit 0); or the
 * exit code after printing the error. */
int cli_model_command(const char *cmd, int argc, char **argv, const cli_option *own, void (*usage)(FILE *),
                      nnf_net **net);

/* The learning-rate schedule from its flags: 0, or the exit code. */
typedef struct {
  const char *name, *gamma, *eta_min;
  long step_size, t_max, warmup;
} cli_sched_flags;
extern const cli_option cli_sched_options[];
extern cli_sched_flags cli_sched_values;
int cli_schedule(const char *cmd, const cli_sched_flags *f, long epochs, nnf_sched *out);

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 and *val set (and *i
 * advanced past a separate value), 0 if argv[*i] is another option, -1 if
 * the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* Integers / reals with a range; print an error and return -1 if bad. */
int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_real(const char *cmd, const char *opt, const char *s, double *out);

/* A progress bar with rate and ETA on stderr, drawn only when stderr is a
 * terminal and enabled. */
typedef struct {
  int enabled;
  double t0, last;
  const char *what;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *what, int enabled);
void cli_progress_update(cli_progress *p, long done, long total);
void cli_progress_end(cli_progress *p);
double cli_now(void);

/* Data: a directory of IDX files (MNIST layout; split "train" or "test") or
 * a CSV file (label_col; with targets > 0, that many float target columns
 * from label_col on, -1: the last ones; CSV only); limit > 0 keeps the
 * first limit samples; seq_id >= 0: a CSV of one line per time step, the
 * sequence id in that column (nnf_csv_parse_steps). Prints the error and
 * returns -1. */
int cli_load_data(const char *cmd, const char *dir, const char *csv, int label_col, int seq_id, int targets, int train,
                  long limit, nnf_dataset *out);
/* The task from --task, --loss, --huber-delta (NULL: defaults) for a
 * network of `outputs` outputs: 0, or EXIT_USAGE after printing why. */
int cli_task(const char *cmd, const char *task, const char *loss, const char *delta, int outputs, nnf_task *out);
/* A real option >= 0 (NULL: 0): 0, or EXIT_USAGE after printing why. */
int cli_nonneg(const char *cmd, const char *opt, const char *s, float *out);
/* An evaluation's figures by task: into a JSON object as <prefix>accuracy,
 * <prefix>label_accuracy / exact_match / baseline_label_accuracy,
 * <prefix>mse / mae / baseline_mse, <prefix>loss; or as a text line.
 * The baselines are what a constant guess scores on d. */
/* Where the loaded network's weights live (docs/memory.md), into j as
 * "weights": {resident_bytes, streamed_layers, chunks, bank_bytes,
 * streamed_bytes_per_pass, streamed_bytes_per_image, program_copies}
 * (eval's and infer's --json); nothing when the device has none loaded.
 * cols: the device's array columns (a W word's bytes). */
void cli_json_weights(cJSON *j, nnf_device *dev, int cols);
/* The layers that run on the host by design when n runs on a device (a
 * final Softmax: no device program), as "layer 12 (Softmax)" items joined
 * by ", " into buf ("" when none); with j also as the JSON array
 * "host_layers" of layer indices. Returns how many. */
int cli_host_layers(const nnf_net *n, char *buf, size_t len, cJSON *j);
/* Prints j (cJSON_Print: indented) and a newline to stdout, then deletes j. */
void cli_json_emit(cJSON *j);
void cli_json_figures(cJSON *j, const char *prefix, const nnf_task *t, const nnf_eval_result *r, const nnf_dataset *d);
void cli_print_figures(const char *what, const nnf_task *t, const nnf_eval_result *r, const nnf_dataset *d);

/* Optimizer hyperparameter flags (--lr, --momentum, --nesterov, ...) at
 * argv[*i]: *handled says whether it was one; -1 on a bad value. */
int cli_opt_flag(const char *cmd, nnf_opt_config *oc, int argc, char **argv, int *i, int *handled);
/* Loss and accuracy per epoch (n epochs of h) as an SVG line chart; prints
 * the error and returns -1 on failure. */
int cli_plot_history(const char *cmd, const char *path, const char *title, const nnf_epoch_stats *h, int n);
/* eval's and infer's --arch (cli_model_command). */
#define CLI_MODEL_ARCH_HELP                                                                             \
  "  --arch A         instead of --model: an untrained network of that architecture (as\n"           \
  "                   train --arch takes it; --input-shape S, --seed N): what it costs the\n"         \
  "                   device (cycles, MACs) and whether it fits; its accuracy is chance\n"
/* The help text of --no-pack (eval and infer). */
#define CLI_PACK_HELP                                                                                   \
  "  --no-pack        do not PACK a first conv's few input channels on the device: the\n"          \
  "                   inputs go as feature maps (a word of ROWS bytes a pixel) and the\n"          \
  "                   conv runs as it is; the same results, for comparison (docs/conv.md)\n"          \
  "  --no-fuse-pool   do not run a MaxPool2d(2) after a conv (and ReLU) inside the conv's\n"       \
  "                   CONV (fused 2x2 max pooling, INFO feature conv_pool): the conv's map\n"     \
  "                   goes to ACT and a POOL reads it; the same results, for comparison\n"
/* The help text of --arch and --input-shape (train and tune). */
#define CLI_ARCH_HELP                                                                                   \
  "  --arch A         the network as layers, e.g. (docs/cli.md)\n"                                     \
  "                   conv(16,5,pad=2),relu,maxpool(2),conv(32,5,pad=2),relu,maxpool(2),flatten,dense(10)\n" \
  "                   conv(OUT,K,stride=S,pad=P,bias=0|1,groups=G) (per axis: kh= kw= sh= sw= ph= pw=),\n"   \
  "                   dwconv(K,...) (depthwise), zeropad(L,R,T,B), maxpool(K,stride=S,pad=P),\n"           \
  "                   avgpool(K,...), gap (global average pooling), flatten, dense(OUT), relu, relu6,\n"    \
  "                   sigmoid, tanh, identity, softmax, dropout(P); the device runs K 1..7, stride 1..4,\n" \
  "                   pad 0..7 (pools: stride K by default); residual graphs: add(K) adds layer K's\n"   \
  "                   output, and any item's from=K reads layer K's output (-1: the input) instead of\n" \
  "                   the one before it\n"                                                                 \
  "  --input-shape S  C,H,W of the inputs for --arch (default 1,28,28: the images), or N:\n"     \
  "                   flat rows of N features (CSV data; then dense first, no conv)\n"
/* The network of --arch over --input-shape (C,H,W or CxHxW): 0 and *net,
 * or EXIT_USAGE after printing why (the layer's index and text). */
int cli_arch_net(const char *cmd, const char *arch, const char *shape, nnf_net **net);
/* Open the device of a command's --device (NULL, and 0, for "host"):
 * 0, or the exit code after printing the error (EXIT_USAGE for a malformed
 * URI, EXIT_DEVICE when nothing usable answers there). */
int cli_open_device(const char *cmd, const char *uri, nnf_device **dev);

/* --trace FILE.fst and --trace-window FROM:TO (eval, infer, train): an FST
 * waveform of the RTL simulator (the sim backend's trace= options,
 * docs/cli.md, Waveforms). */
typedef struct {
  const char *file, *window;
} cli_trace_flags;
extern const cli_option cli_trace_options[];
extern cli_trace_flags cli_trace_values;
/* The URI to open into out (outlen bytes): uri, with the trace's options
 * when --trace was given. uri NULL: the command runs no device (--float).
 * 0, or EXIT_USAGE after printing why: --trace without a simulator, a comma
 * in its path (the URI's separator), a trace in uri already, a bad window,
 * --trace-window without --trace. */
int cli_trace_uri(const char *cmd, const char *uri, char *out, size_t outlen);
/* After a run on a traced simulator (nothing otherwise): the FST's path and
 * the cycles it holds, into j as "trace": {file, from, to} when j is given,
 * else as a line on stderr unless quiet. Call it after the device's last
 * command, before nnf_device_close (which completes the file). */
void cli_trace_report(const char *cmd, nnf_device *dev, int quiet, cJSON *j);
#define CLI_TRACE_HELP                                                                                  \
  "  --trace FILE.fst an FST waveform of the whole device (every signal of nnf_core) as it\n"    \
  "                   runs, for GTKWave or Surfer: --device sim, sim:board=NAME or\n"             \
  "                   sim:module=PATH only (docs/cli.md, Waveforms); its path and cycles\n"      \
  "                   are printed on stderr at the end (in --json: \"trace\")\n"                   \
  "  --trace-window FROM:TO  only the device cycles [FROM, TO), or from FROM on (FROM:);\n"      \
  "                   cycles count from the simulator's start, cycle c at time 2c\n"

/* infer's output for samples first .. first + B - 1: per sample its label
 * (labels[r]), the class and the C output values (vals, B x C, row-major)
 * named `key` in JSON ("logits", "spike_counts") and `label` in text, as
 * text lines or a JSON array. */
void cli_print_predictions(long first, int B, int C, const int32_t *labels, const int *cls,
                           const int32_t *vals, const char *key, const char *label, int json);
/* The same with float values (printed exactly: %.9g in text, a double in JSON). */
void cli_print_predictions_f(long first, int B, int C, const int32_t *labels, const int *cls,
                             const float *vals, const char *key, const char *label, int json);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* Calibration, shared by import and quantize (nnfpga_quantize.c): the
 * observer of --observer (NULL: minmax): 0, or EXIT_USAGE after printing
 * why; and calibrate + quantize net on the first `calib` training images of
 * dir (NULL: Fashion-MNIST) with it, desc then saying what was done
 * ("min/max of 1024 training images of DIR"): 0, or the exit code after
 * printing why (EXIT_USAGE: fewer images than calib; EXIT_INPUT: no data,
 * features that are not the model's inputs). */
int cli_observer(const char *cmd, const char *s, nnf_observer *o);
int cli_calibrate(const char *cmd, nnf_net *net, const char *dir, long calib, const nnf_observer *o, char *desc,
                  size_t desclen);
#define CLI_OBSERVER_HELP                                                                               \
  "  --observer O     how each activation's range is taken from the calibration pass:\n"          \
  "                   minmax (default: the observed min / max) or percentile[:P] (clipped to\n"   \
  "                   the P-th and (100-P)-th percentiles, exact; P in (50, 100], default\n"       \
  "                   99.99: docs/import.md)\n"

#endif /* NNFPGA_CLI_H */
