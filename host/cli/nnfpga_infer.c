/*
 * nnfpga_infer.c - `nnfpga infer`: each sample's class and outputs (an
 * MLP's int8 logits, float logits with --float, or a spiking network's
 * spike counts) from a checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnf_safetensors.h"
#include "nnfm.h"
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
          "  --count N        how many samples (default 10; with --int8 all the file holds)\n"
          "  --float          the float weights on the host instead: float logits (exact, %%.9g)\n"
          "  --int8 FILE      raw int8 input tensors instead of --data / --csv, one after the\n"
          "                   other, at the model's input quantization (as a TFLite model's\n"
          "                   int8 input takes them): prints each sample's int8 outputs; a model\n"
          "                   imported from TFLite reads them in TFLite's order (H, W, C) and\n"
          "                   writes maps so, others in PyTorch's (C, H, W) (docs/tiny.md)\n"
          "  --expect FILE    with --int8: the int8 outputs the samples must give (e.g. TFLite's,\n"
          "                   raw, in the same order); prints how many are equal and the device's\n"
          "                   figures per inference instead, exit 1 if any differs\n"
          "  --json           a JSON array of {index, label, class, logits} (and no trace line);\n"
          "                   --int8: {index, outputs}; --expect: one object of the comparison\n");
}

/* ---- raw int8 samples (--int8, --expect) ---------------------------------------- */

/* The whole of path (nnf_import_read: at most 256 MiB), a whole number of
 * `per`-byte samples: 0 with *buf (the caller frees) and *n samples, or
 * EXIT_INPUT after printing why. */
static int read_samples(const char *path, const char *opt, size_t per, int8_t **buf, size_t *n) {
  char err[512];
  size_t len = 0;
  uint8_t *b = nnf_import_read(path, &len, err, sizeof err);
  if (!b) {
    fprintf(stderr, "nnfpga infer: %s %s\n", opt, err);
    return EXIT_INPUT;
  }
  if (len == 0 || len % per) {
    fprintf(stderr, "nnfpga infer: %s %s holds %zu bytes: not a whole number of %zu-byte samples (the model's %s)\n",
            opt, path, len, per, strcmp(opt, "--int8") ? "outputs" : "inputs");
    free(b);
    return EXIT_INPUT;
  }
  *buf = (int8_t *)b;
  *n = len / per;
  return 0;
}

/* Whether the checkpoint at path was imported from TFLite: its samples are
 * then in TFLite's (H, W, C) order. */
static int tflite_order(const char *path) {
  if (!path) return 0;
  nnf_st_file *f = nnf_st_read(path, NULL, 0);
  const char *fmt = f ? nnf_st_meta(f, "import_format") : NULL;
  int r = fmt && !strcmp(fmt, "tflite");
  nnf_st_free(f);
  return r;
}

/* Element i of a (C, H, W) row at index hwc_index(t, i) of the same row in
 * (H, W, C) order (the identity for flat rows and single channels). */
static size_t hwc_index(const nnf_tensor *t, size_t i) {
  if (!t->map || t->c <= 1) return i;
  size_t hw = (size_t)t->h * t->w, c = i / hw, p = i % hw;
  return p * (size_t)t->c + c;
}

/* The samples as the data set nnfpga runs: each int8 value q as the real
 * number it means, s * (q - zp), which the input quantizer maps back to q
 * exactly (checked: |error| is far below half a step). */
static int int8_dataset(const nnf_net *net, const int8_t *q, size_t n, int hwc, nnf_dataset *d) {
  const nnf_tensor *t0 = &net->t[0];
  size_t K = (size_t)t0->width;
  memset(d, 0, sizeof *d);
  d->x = malloc(sizeof(float) * n * K);
  d->y = calloc(n, sizeof(int32_t));
  if (!d->x || !d->y) {
    fprintf(stderr, "nnfpga infer: out of memory\n");
    nnf_dataset_free(d);
    return EXIT_INPUT;
  }
  d->count = n, d->features = K, d->classes = nnf_net_outputs(net);
  for (size_t r = 0; r < n; r++)
    for (size_t i = 0; i < K; i++) {
      int32_t v = q[r * K + (hwc ? hwc_index(t0, i) : i)];
      float x = (float)(t0->r.scale * (double)(v - t0->r.zp));
      if (nnfm_quantize_real(x, t0->r.scale, t0->r.zp, -128, 127) != v) {
        fprintf(stderr, "nnfpga infer: --int8: sample %zu value %zu (%d) does not survive the input quantizer "
                        "(scale %g, zero point %d)\n", r, i, (int)v, t0->r.scale, (int)t0->r.zp);
        nnf_dataset_free(d);
        return EXIT_INPUT;
      }
      d->x[r * K + i] = x;
    }
  return 0;
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

/* --expect: how many outputs equal the expected ones, and the device's
 * figures per inference over the run (f1 - f0). 0 when all are equal, else
 * EXIT_DEVICE. */
static int report_expect(const nnf_net *net, const char *expectf, const int8_t *got, const int8_t *want, long first,
                         int B, int C, const nnf_device_figures *f0, const nnf_device_figures *f1, nnf_device *dev,
                         int json) {
  int has_dev = dev != NULL;
  char host[256];
  uint64_t eq = 0, samples_eq = 0;
  long fs = -1, fo = -1;
  for (int r = 0; r < B; r++) {
    int all = 1;
    for (int j = 0; j < C; j++) {
      int e = got[(size_t)r * C + j] == want[(size_t)r * C + j];
      eq += (uint64_t)e;
      if (!e && all && fs < 0) fs = r, fo = j;
      all &= e;
    }
    samples_eq += (uint64_t)all;
  }
  uint64_t total = (uint64_t)B * (uint64_t)C;
  double cycles = has_dev ? (double)(f1->cycles - f0->cycles) : 0, macs = has_dev ? (double)(f1->macs - f0->macs) : 0;
  double in = has_dev ? (double)(f1->bytes_in - f0->bytes_in) : 0, out = has_dev ? (double)(f1->bytes_out - f0->bytes_out) : 0;
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", cli_model_values.model ? cli_model_values.model : cli_model_values.arch);
    cJSON_AddStringToObject(o, "device", cli_model_values.uri);
    cJSON_AddStringToObject(o, "expect", expectf);
    cJSON_AddNumberToObject(o, "first", (double)first);
    cJSON_AddNumberToObject(o, "samples", B);
    cJSON_AddNumberToObject(o, "samples_equal", (double)samples_eq);
    cJSON_AddNumberToObject(o, "outputs", (double)total);
    cJSON_AddNumberToObject(o, "outputs_equal", (double)eq);
    if (fs >= 0) {
      cJSON *d = cJSON_AddObjectToObject(o, "first_difference");
      cJSON_AddNumberToObject(d, "sample", (double)(first + fs));
      cJSON_AddNumberToObject(d, "output", (double)fo);
      cJSON_AddNumberToObject(d, "got", got[(size_t)fs * C + fo]);
      cJSON_AddNumberToObject(d, "want", want[(size_t)fs * C + fo]);
    } else {
      cJSON_AddNullToObject(o, "first_difference");
    }
    if (has_dev && cycles > 0) {
      cJSON_AddNumberToObject(o, "cycles_per_inference", cycles / B);
      cJSON_AddNumberToObject(o, "utilization", macs / (cycles * f1->rows * f1->cols));
      cJSON_AddNumberToObject(o, "busy_cycles_per_inference", (double)(f1->busy_cycles - f0->busy_cycles) / B);
      cJSON_AddNumberToObject(o, "stall_cycles_per_inference", (double)(f1->stall_cycles - f0->stall_cycles) / B);
    } else {
      cJSON_AddNullToObject(o, "cycles_per_inference");
    }
    if (has_dev) {
      cJSON_AddNumberToObject(o, "macs_per_inference", macs / B);
      cJSON_AddNumberToObject(o, "link_bytes_in_per_inference", in / B);
      cJSON_AddNumberToObject(o, "link_bytes_out_per_inference", out / B);
      cJSON_AddNumberToObject(o, "device_batch", nnf_device_batch(dev));
      cli_json_weights(o, dev, f1->cols);
      cli_host_layers(net, host, sizeof host, o);
    }
    cli_json_emit(o);
  } else {
    printf("%s: %llu of %d samples, %llu of %llu outputs equal to %s (on %s)\n",
           eq == total ? "bit-exact" : "DIFFERENT", (unsigned long long)samples_eq, B, (unsigned long long)eq,
           (unsigned long long)total, expectf, cli_model_values.uri);
    if (fs >= 0)
      printf("first difference: sample %ld output %ld: %d, expected %d\n", first + fs, fo,
             got[(size_t)fs * C + fo], want[(size_t)fs * C + fo]);
    if (has_dev && cycles > 0)
      printf("device: %.1f cycles per inference, %.0f MACs (utilization %.3f of the %dx%d array), "
             "link %.1f bytes in / %.1f out per inference\n", cycles / B, macs / B,
             macs / (cycles * f1->rows * f1->cols), f1->rows, f1->cols, in / B, out / B);
    else if (has_dev)
      printf("device: %.0f MACs per inference (the functional model keeps no clock; --device sim for cycles), "
             "link %.1f bytes in / %.1f out per inference\n", macs / B, in / B, out / B);
    if (has_dev && cli_host_layers(net, host, sizeof host, NULL))
      printf("on the host, by design: %s (after the device's outputs come back; docs/tiny.md)\n", host);
  }
  return eq == total ? 0 : EXIT_DEVICE;
}

int cmd_infer(int argc, char **argv) {
  long first = 0, count = 0;
  const char *int8f = NULL, *expectf = NULL;
  const cli_option opts[] = {{"--first", CLI_INT, &first, 0, 0x7fffffffL},
                             {"--count", CLI_INT, &count, 1, 65535},
                             {"--int8", CLI_STR, &int8f, 0, 0},
                             {"--expect", CLI_STR, &expectf, 0, 0},
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
  int8_t *q8 = NULL, *want = NULL;
  size_t n8 = 0;
  int hwc = 0;
  if (int8f) {
    const char *why = data || csvf ? "--int8 replaces --data and --csv"
                      : spiking    ? "--int8 feeds int8 inputs to a network of int8 layers, not a spiking one"
                      : use_float && expectf ? "--expect compares int8 outputs: not with --float"
                                           : NULL;
    if (why) {
      fprintf(stderr, "nnfpga infer: %s\n", why);
      nnf_net_free(net);
      return EXIT_USAGE;
    }
    hwc = tflite_order(cli_model_values.model);
    size_t K = (size_t)nnf_net_inputs(net);
    if ((rc = read_samples(int8f, "--int8", K, &q8, &n8))) {
      nnf_net_free(net);
      return rc;
    }
    if ((size_t)first >= n8) {
      fprintf(stderr, "nnfpga infer: --first %ld but %s holds %zu samples\n", first, int8f, n8);
      rc = EXIT_USAGE;
    } else {
      size_t cnt = count ? (size_t)count : n8 - (size_t)first;
      if (cnt > n8 - (size_t)first) cnt = n8 - (size_t)first;
      if (cnt > 65535) cnt = 65535;
      rc = int8_dataset(net, q8 + (size_t)first * K, cnt, hwc, &d);
    }
    size_t ne = 0;
    if (!rc && expectf && !(rc = read_samples(expectf, "--expect", (size_t)nnf_net_outputs(net), &want, &ne)) &&
        ne != n8) {
      fprintf(stderr, "nnfpga infer: --expect %s holds %zu samples' outputs, --int8 %s %zu samples\n", expectf, ne,
              int8f, n8);
      rc = EXIT_INPUT;
    }
  } else if (expectf) {
    fprintf(stderr, "nnfpga infer: --expect goes with --int8\n");
    rc = EXIT_USAGE;
  } else if (cli_load_data("infer", data, csvf, (int)label_col, (int)cli_model_values.seq_id, targets, 0, 0, &all)) {
    rc = EXIT_INPUT;
  } else if ((size_t)first >= all.count) {
    fprintf(stderr, "nnfpga infer: --first %ld but the data has %zu samples\n", first, all.count);
    rc = EXIT_USAGE;
  } else if (nnf_dataset_slice(&all, (size_t)first, (size_t)(count ? count : 10), &d)) {
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
  nnf_device_figures f0 = {0}, f1 = {0};
  int differs = 0;
  if (!rc) {
    int frc = dev ? nnf_device_load(dev, net, B, err, sizeof err) || nnf_device_figures_get(dev, &f0, err, sizeof err) ||
                        nnf_device_forward(dev, net, d.x, B, err, sizeof err) ||
                        nnf_device_figures_get(dev, &f1, err, sizeof err)
                  : nnf_net_run(net, use_float ? NNF_FWD_FLOAT : spiking || int8f ? NNF_FWD_INT : NNF_FWD_FAKEQUANT,
                                d.x, B, err, sizeof err);
    if (frc) {
      fprintf(stderr, "nnfpga infer: %s\n", err);
      rc = EXIT_DEVICE;
    }
  }
  if (!rc && int8f && !use_float) {
    /* the int8 outputs in the file's order */
    const nnf_tensor *tl = &net->t[net->nlayers];
    int8_t *o = malloc((size_t)B * C);
    if (!o) {
      fprintf(stderr, "nnfpga infer: out of memory\n");
      rc = EXIT_INPUT;
    } else {
      for (size_t r = 0; r < (size_t)B; r++)
        for (size_t j = 0; j < (size_t)C; j++) o[r * C + (hwc ? hwc_index(tl, j) : j)] = tl->q[r * C + j];
      if (expectf) {
        rc = report_expect(net, expectf, o, want + (size_t)first * C, first, B, C, &f0, &f1, dev, json);
        differs = rc != 0;
      } else {
        cJSON *arr = json ? cJSON_CreateArray() : NULL;
        for (int r = 0; r < B; r++) {
          const int8_t *v = o + (size_t)r * C;
          if (json) {
            cJSON *e = cJSON_CreateObject(), *ov = cJSON_AddArrayToObject(e, "outputs");
            cJSON_AddNumberToObject(e, "index", (double)(first + r));
            for (int j = 0; j < C; j++) cJSON_AddItemToArray(ov, cJSON_CreateNumber(v[j]));
            cJSON_AddItemToArray(arr, e);
          } else {
            printf("%ld: outputs", first + r);
            for (int j = 0; j < C; j++) printf(" %d", v[j]);
            printf("\n");
          }
        }
        if (json) cli_json_emit(arr);
      }
      free(o);
    }
  } else if (!rc) {
    int32_t *q = malloc(sizeof(int32_t) * (size_t)B * C);
    int *cls = malloc(sizeof(int) * (size_t)B);
    if (!q || !cls) {
      fprintf(stderr, "nnfpga infer: out of memory\n");
      rc = EXIT_INPUT;
    } else {
      const int8_t *lq = net->t[nnf_net_logits_at(net)].q; /* (before a final Softmax: --int8 prints its output) */
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
  if (!rc || differs) cli_trace_report("infer", dev, json, NULL); /* its JSON is an array: the line only in text */
  nnf_device_close(dev);
  nnf_dataset_free(&all);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  free(q8);
  free(want);
  return rc;
}
