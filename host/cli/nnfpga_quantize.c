/*
 * nnfpga_quantize.c - `nnfpga quantize --model FLOAT --calib N --out Q`:
 * post-training quantization of a float checkpoint (nnf_calib.h,
 * docs/import.md "Post-training quantization"), then the float and int8
 * accuracies on the test set and the drop between them. Also the
 * calibration step `nnfpga import --calib N` shares (cli_calibrate).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_calib.h"
#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_safetensors.h"
#include "nnf_train.h"
#include "nnfpga_cli.h"

static void usage_quantize(FILE *f) {
  fprintf(f,
          "usage: nnfpga quantize --model FLOAT.safetensors --out Q.safetensors [OPTIONS]\n"
          "\n"
          "Post-training quantization: observes the activation ranges of a float checkpoint\n"
          "(nnfpga import --calib 0, nnfpga train --float) on training images, writes its int8\n"
          "model as a checkpoint that eval and infer run on any device, then evaluates the float\n"
          "and the int8 model on the test set and prints both accuracies and the drop.\n"
          "\n"
          "  --model FILE     the float checkpoint (one already quantized is refused)\n"
          "  --out FILE       the quantized checkpoint to write (safetensors)\n"
          "  --calib N        calibration images: the first N of the training set (default 1024,\n"
          "                   1..4096; one float pass, so every observed value is kept)\n"
          CLI_OBSERVER_HELP
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT "): the\n"
          "                   training split calibrates, the test split evaluates\n"
          "  --eval N         evaluate on the first N test images (default all; 0: all)\n"
          "  --device URI     where the int8 model runs: model (default), sim, a board, or host\n"
          "                   (fake quantization on the host); the float model runs on the host\n"
          "  --batch N        images per device run (default 64)\n"
          "  --json           {model, out, observer, calibration, calib_images, device, images,\n"
          "                   float_accuracy, float_loss, int8_accuracy, int8_loss,\n"
          "                   accuracy_drop_points}\n"
          "  --quiet          no progress bar\n"
          "\n"
          "exit codes: 0 written and evaluated, 1 the device failed, 2 bad usage (an option out of\n"
          "            range, a bad --observer, more --calib images than the training set holds),\n"
          "            3 bad input (a missing or quantized checkpoint, missing data, data whose\n"
          "            features are not the model's inputs)\n");
}

int cli_observer(const char *cmd, const char *s, nnf_observer *o) {
  char err[256];
  if (!nnf_observer_parse(s ? s : "minmax", o, err, sizeof err)) return 0;
  fprintf(stderr, "nnfpga %s: --observer: %s\n", cmd, err);
  return EXIT_USAGE;
}

int cli_calibrate(const char *cmd, nnf_net *net, const char *dir, long calib, const nnf_observer *o, char *desc,
                  size_t desclen) {
  nnf_dataset d = {0};
  char err[512], obs[64];
  dir = dir ? dir : NNF_FASHION_DEFAULT;
  if (cli_load_data(cmd, dir, NULL, 0, -1, 0, 1, calib, &d)) return EXIT_INPUT;
  int rc = 0;
  if (d.count < (size_t)calib) {
    fprintf(stderr, "nnfpga %s: --calib %ld: the training set of %s holds %zu images\n", cmd, calib, dir, d.count);
    rc = EXIT_USAGE;
  } else if ((int)d.features != nnf_net_inputs(net)) {
    fprintf(stderr, "nnfpga %s: the calibration data's %zu features are not the model's %d inputs\n", cmd, d.features,
            nnf_net_inputs(net));
    rc = EXIT_INPUT;
  } else if (nnf_calibrate(net, d.x, (int)d.count, o, err, sizeof err)) {
    fprintf(stderr, "nnfpga %s: calibration: %s\n", cmd, err);
    rc = EXIT_INPUT;
  }
  nnf_observer_describe(o, obs, sizeof obs);
  snprintf(desc, desclen, "%s of %zu training images of %s", obs, d.count, dir);
  nnf_dataset_free(&d);
  return rc;
}

/* The float checkpoint: loaded, not quantized, not spiking; or the exit code. */
static int load_float(const char *path, nnf_net **net) {
  char err[512];
  if (!(*net = nnf_ckpt_load(path, err, sizeof err))) {
    fprintf(stderr, "nnfpga quantize: %s\n", err);
    return EXIT_INPUT;
  }
  const char *why = (*net)->quantized      ? "is quantized already (quantize takes a float checkpoint: import --calib 0, "
                                             "train --float)"
                    : nnf_net_spiking(*net) ? "is a spiking network (its ranges come from training on the int8 path)"
                                            : NULL;
  if (!why) return 0;
  fprintf(stderr, "nnfpga quantize: %s: %s\n", path, why);
  nnf_net_free(*net);
  *net = NULL;
  return EXIT_INPUT;
}

/* Write the quantized checkpoint, keeping where the float one came from. */
static int save(const char *out, const char *model, const nnf_net *net, const char *calibration) {
  char err[512];
  const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
  const char *keys[4] = {"quantized_from", "calibration", "imported_from", "import_format"};
  const char *vals[4] = {base, calibration, NULL, NULL};
  nnf_st_file *f = nnf_st_read(model, NULL, 0);
  int n = 2;
  for (int k = 2; f && k < 4; k++)
    if ((vals[n] = nnf_st_meta(f, keys[k]))) keys[n++] = keys[k];
  int rc = nnf_ckpt_save(out, net, keys, vals, n, err, sizeof err);
  nnf_st_free(f);
  if (rc) fprintf(stderr, "nnfpga quantize: %s\n", err);
  return rc ? EXIT_INPUT : 0;
}

typedef struct {
  const char *uri;
  long limit, batch;
  int quiet, json;
} eval_opts;

static void progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  (void)e;
  cli_progress_update(ctx, done, total);
}

/* The float model on the host and the int8 model on the device over the test set. */
static int evaluate(nnf_net *net, const char *dir, const eval_opts *eo, nnf_dataset *d, nnf_eval_result *rf,
                    nnf_eval_result *rq) {
  char err[512];
  if (cli_load_data("quantize", dir, NULL, 0, -1, 0, 0, eo->limit, d)) return EXIT_INPUT;
  nnf_device *dev = NULL;
  int rc = cli_open_device("quantize", eo->uri, &dev);
  if (rc) return rc;
  nnf_device_set_outputs_only(dev, 1);
  cli_progress bar;
  cli_progress_init(&bar, "float", !eo->quiet && !eo->json);
  if (nnf_evaluate(net, NNF_FWD_FLOAT, NULL, d, (int)eo->batch, rf, progress, &bar, err, sizeof err)) rc = EXIT_INPUT;
  cli_progress_end(&bar);
  cli_progress_init(&bar, "int8", !eo->quiet && !eo->json);
  if (!rc && nnf_evaluate(net, dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT, dev, d, (int)eo->batch, rq, progress, &bar,
                          err, sizeof err))
    rc = strstr(err, "features") || strstr(err, "classes") ? EXIT_INPUT : EXIT_DEVICE;
  cli_progress_end(&bar);
  if (rc) fprintf(stderr, "nnfpga quantize: evaluation: %s\n", err);
  nnf_device_close(dev);
  return rc;
}

static void report(const char *model, const char *out, const nnf_observer *o, const char *calibration, long calib,
                   const eval_opts *eo, const nnf_net *net, const nnf_dataset *d, const nnf_eval_result *rf,
                   const nnf_eval_result *rq) {
  char obs[64];
  nnf_observer_describe(o, obs, sizeof obs);
  int classes = net->task.kind == NNF_TASK_MULTICLASS || net->task.kind == NNF_TASK_BINARY;
  double drop = 100.0 * (rf->accuracy - rq->accuracy);
  if (eo->json) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "out", out);
    cJSON_AddStringToObject(j, "observer", obs);
    cJSON_AddStringToObject(j, "calibration", calibration);
    cJSON_AddNumberToObject(j, "calib_images", (double)calib);
    cJSON_AddStringToObject(j, "device", eo->uri);
    cJSON_AddNumberToObject(j, "images", (double)rq->images);
    cli_json_figures(j, "float_", &net->task, rf, d);
    cli_json_figures(j, "int8_", &net->task, rq, d);
    if (classes) cJSON_AddNumberToObject(j, "accuracy_drop_points", drop);
    cli_json_emit(j);
    return;
  }
  printf("calibration: %s\n", calibration);
  cli_print_figures("float on the host:", &net->task, rf, d);
  char what[160];
  snprintf(what, sizeof what, "int8 on %s:", eo->uri);
  cli_print_figures(what, &net->task, rq, d);
  if (classes) printf("drop: %.2f points\n", drop);
  printf("wrote %s\n", out);
}

int cmd_quantize(int argc, char **argv) {
  const char *model = NULL, *out = NULL, *data = NULL, *observer = NULL;
  long calib = 1024;
  int help = 0;
  eval_opts eo = {"model", 0, 64, 0, 0};
  const cli_option opts[] = {{"--model", CLI_STR, &model, 0, 0},          {"--out", CLI_STR, &out, 0, 0},
                             {"--calib", CLI_INT, &calib, 1, 4096},       {"--observer", CLI_STR, &observer, 0, 0},
                             {"--data", CLI_STR, &data, 0, 0},            {"--eval", CLI_INT, &eo.limit, 0, 0x7fffffffL},
                             {"--device", CLI_STR, &eo.uri, 0, 0},        {"--batch", CLI_INT, &eo.batch, 1, 65535},
                             {"--json", CLI_FLAG, &eo.json, 0, 0},        {"--quiet", CLI_FLAG, &eo.quiet, 0, 0},
                             CLI_END};
  const cli_option *const tables[] = {opts, NULL};
  int rc = cli_parse("quantize", argc, argv, tables, &help, NULL, NULL);
  if (rc) return rc;
  if (help) {
    usage_quantize(stdout);
    return 0;
  }
  if (!model || !out) {
    fprintf(stderr, "nnfpga quantize: %s is required (see nnfpga quantize --help)\n", !model ? "--model FILE" : "--out FILE");
    return EXIT_USAGE;
  }
  nnf_observer o;
  if ((rc = cli_observer("quantize", observer, &o))) return rc;
  nnf_net *net;
  if ((rc = load_float(model, &net))) return rc;
  char calibration[512];
  nnf_dataset d = {0};
  nnf_eval_result rf, rq;
  rc = cli_calibrate("quantize", net, data, calib, &o, calibration, sizeof calibration);
  if (!rc) rc = save(out, model, net, calibration);
  if (!rc) rc = evaluate(net, data ? data : NNF_FASHION_DEFAULT, &eo, &d, &rf, &rq);
  if (!rc) report(model, out, &o, calibration, calib, &eo, net, &d, &rf, &rq);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  return rc;
}
