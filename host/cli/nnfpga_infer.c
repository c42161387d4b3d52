/*
 * nnfpga_infer.c - `nnfpga infer`: each sample's class and outputs (an
 * MLP's int8 logits, float logits with --float, or a spiking network's
 * spike counts) from a checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnfpga_cli.h"

#define DEVICE_HELP \
  "  --device URI     where forward passes run: model (default; the functional model),\n" \
  "                   sim (the Verilated RTL), serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]][@BAUD],\n" \
  "                   or host (fake quantization in float on the host, no device)\n"

static void usage_infer(FILE *f) {
  fprintf(f,
          "usage: nnfpga infer --model FILE [OPTIONS]\n"
          "\n"
          "Runs a checkpoint's int8 model on a device and prints each sample's class and\n"
          "int8 logits (binary: the probability; multilabel: each label and its probability;\n"
          "regression: the predictions; both beside the targets).\n"
          "\n"
          "  --model FILE     checkpoint written by nnfpga train\n"
          CLI_MODEL_ARCH_HELP
          DEVICE_HELP
          CLI_TRACE_HELP
          CLI_PACK_HELP
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT "), test split\n"
          "  --csv F          CSV samples instead (--label-col N, default 0; -1 = last)\n"
          "  --seq-id N       the CSV has one line per time step, sequences by the id in column N\n"
          "  --first N        the first sample to run (default 0)\n"
          "  --count N        how many samples (default 10)\n"
          "  --float          the float weights on the host instead: float logits (exact, %%.9g)\n"
          "  --json           a JSON array of {index, label, class, logits} (and no trace line)\n");
}

/* Multilabel (per label: its probability and the decision p > 0.5) and
 * regression (the predictions), each row beside its targets. */
static void print_targets(const nnf_net *net, long first, int B, const nnf_dataset *d, int json) {
  int C = nnf_net_outputs(net), reg = net->task.kind == NNF_TASK_REGRESSION;
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  for (int r = 0; r < B; r++) {
    const float *z = net->logits + (size_t)r * C, *t = d->t + (size_t)r * C;
    if (json) {
      cJSON *o = cJSON_CreateObject(), *pv = cJSON_AddArrayToObject(o, reg ? "predictions" : "probabilities");
      cJSON *tv = cJSON_AddArrayToObject(o, "targets"), *lv = reg ? NULL : cJSON_AddArrayToObject(o, "labels");
      cJSON_AddNumberToObject(o, "index", (double)(first + r));
      for (int j = 0; j < C; j++) {
        cJSON_AddItemToArray(pv, cJSON_CreateNumber(reg ? z[j] : nnf_sigmoid(z[j])));
        cJSON_AddItemToArray(tv, cJSON_CreateNumber(t[j]));
        if (lv) cJSON_AddItemToArray(lv, cJSON_CreateNumber(z[j] > 0));
      }
      cJSON_AddItemToArray(arr, o);
      continue;
    }
    printf("%ld: %s", first + r, reg ? "predictions" : "labels");
    for (int j = 0; j < C; j++) {
      if (reg) printf(" %.9g", (double)z[j]);
      else printf(" %d (%.3f)", z[j] > 0, (double)nnf_sigmoid(z[j]));
    }
    printf("  targets");
    for (int j = 0; j < C; j++) printf(" %.9g", (double)t[j]);
    printf("\n");
  }
  if (json) {
    cli_json_emit(arr);
  }
}

int cmd_infer(int argc, char **argv) {
  long first = 0, count = 10;
  const cli_option opts[] = {{"--first", CLI_INT, &first, 0, 0x7fffffffL},
                             {"--count", CLI_INT, &count, 1, 65535},
                             CLI_END};
  nnf_net *net;
  int rc = cli_model_command("infer", argc, argv, opts, usage_infer, &net);
  if (rc) return rc < 0 ? 0 : rc;
  const char *uri = cli_model_values.open_uri, *data = cli_model_values.data, *csvf = cli_model_values.csv;
  long label_col = cli_model_values.label_col;
  int json = cli_model_values.json, use_float = cli_model_values.use_float;
  char err[512];
  int spiking = nnf_net_spiking(net);
  nnf_dataset all = {0}, d = {0};
  int targets = nnf_task_uses_targets(net->task.kind) ? nnf_net_outputs(net) : 0;
  if (cli_load_data("infer", data, csvf, (int)label_col, (int)cli_model_values.seq_id, targets, 0, 0, &all)) {
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  if ((size_t)first >= all.count) {
    fprintf(stderr, "nnfpga infer: --first %ld but the data has %zu samples\n", first, all.count);
    rc = EXIT_USAGE;
  } else if (nnf_dataset_slice(&all, (size_t)first, (size_t)count, &d)) {
    fprintf(stderr, "nnfpga infer: out of memory\n");
    rc = EXIT_INPUT;
  } else if (d.features != (size_t)nnf_net_inputs(net)) {
    fprintf(stderr, "nnfpga infer: the model takes %d inputs but the data has %zu features\n", nnf_net_inputs(net),
            d.features);
    rc = EXIT_INPUT;
  }
  nnf_device *dev = NULL;
  if (!rc && !use_float) rc = cli_open_device("infer", uri, &dev);
  nnf_device_set_pack(dev, !cli_model_values.no_pack);
  nnf_device_set_fuse_pool(dev, !cli_model_values.no_fuse_pool);
  nnf_device_set_outputs_only(dev, 1); /* only the outputs cross the link back */
  int B = (int)d.count, C = nnf_net_outputs(net);
  if (!rc) {
    int frc = dev ? nnf_device_load(dev, net, B, err, sizeof err) || nnf_device_forward(dev, net, d.x, B, err, sizeof err)
                  : nnf_net_run(net, use_float ? NNF_FWD_FLOAT : spiking ? NNF_FWD_INT : NNF_FWD_FAKEQUANT, d.x, B,
                                err, sizeof err);
    if (frc) {
      fprintf(stderr, "nnfpga infer: %s\n", err);
      rc = EXIT_DEVICE;
    }
  }
  if (!rc) {
    int32_t *q = malloc(sizeof(int32_t) * (size_t)B * C);
    int *cls = malloc(sizeof(int) * (size_t)B);
    if (!q || !cls) {
      fprintf(stderr, "nnfpga infer: out of memory\n");
      rc = EXIT_INPUT;
    } else {
      const int8_t *lq = net->t[net->nlayers].q;
      for (int r = 0; r < B; r++) cls[r] = nnf_argmax(net->logits + (size_t)r * C, C);
      if (net->task.kind == NNF_TASK_BINARY) {
        /* the probability of class 1 (sigmoid of the logit); class: p > 0.5 */
        float *v = (float *)q; /* B x C floats fit where B x C int32 do */
        for (int r = 0; r < B; r++) v[r] = nnf_sigmoid(net->logits[r]), cls[r] = net->logits[r] > 0;
        cli_print_predictions_f(first, B, C, d.y, cls, v, "probability", "probability", json);
      } else if (net->task.kind != NNF_TASK_MULTICLASS) {
        print_targets(net, first, B, &d, json);
      } else if (use_float) {
        cli_print_predictions_f(first, B, C, d.y, cls, net->logits, "logits", "logits", json);
      } else if (spiking) {
        cli_print_predictions(first, B, C, d.y, cls, nnf_net_counts(net), "spike_counts", "spike counts", json);
      } else {
        for (size_t i = 0; i < (size_t)B * C; i++) q[i] = lq[i];
        cli_print_predictions(first, B, C, d.y, cls, q, "logits", "logits", json);
      }
    }
    free(q);
    free(cls);
  }
  if (!rc) cli_trace_report("infer", dev, json, NULL); /* its JSON is an array: the line only in text */
  nnf_device_close(dev);
  nnf_dataset_free(&all);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  return rc;
}
