/*
 * nnfpga_eval.c - `nnfpga eval`: accuracy, loss and device figures of any
 * checkpoint (an MLP's int8 logits or a spiking network's spike counts) over
 * a data set, through the one evaluation loop (nnf_evaluate).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnfpga_cli.h"

#define DEVICE_HELP \
  "  --device URI     where forward passes run: model (default; the functional model),\n" \
  "                   sim (the Verilated RTL), serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]][@BAUD],\n" \
  "                   or host (fake quantization in float on the host, no device)\n"

static void usage_eval(FILE *f) {
  fprintf(f,
          "usage: nnfpga eval --model FILE [OPTIONS]\n"
          "\n"
          "Evaluates a checkpoint's int8 model on a device over a test set and prints the\n"
          "figures of its task (recorded in the checkpoint: accuracy; per-label accuracy and\n"
          "exact match for multilabel; MSE and MAE for regression) and the device's figures.\n"
          "\n"
          "  --model FILE     checkpoint written by nnfpga train\n"
          CLI_MODEL_ARCH_HELP
          DEVICE_HELP
          CLI_TRACE_HELP
          CLI_PACK_HELP
          "  --float          evaluate the float weights on the host instead\n"
          "  --int            with --device host: the host's exact integer forward (the device's\n"
          "                   arithmetic, the functional model's rules) instead of fake quantization\n"
          "  --data DIR       IDX files in MNIST layout (default " NNF_FASHION_DEFAULT "), test split\n"
          "  --csv F          CSV data instead (--label-col N, default 0, -1 the last; multilabel\n"
          "                   and regression read one target column per output from there)\n"
          "  --seq-id N       the CSV has one line per time step, sequences by the id in column N\n"
          "  --limit N        the first N samples only\n"
          "  --batch N        images per device run (default 64)\n"
          "  --json           {accuracy, images, correct, loss, cycles_per_image, utilization,\n"
          "                   link_bytes_in_per_image, link_bytes_out_per_image, packed, pools_fused,\n"
          "                   device_batch (the largest batch <= --batch the buffers fit; with streamed\n"
          "                   weights the largest they fit), weights {resident_bytes,\n"
          "                   streamed_layers, chunks, bank_bytes, streamed_bytes_per_pass,\n"
          "                   streamed_bytes_per_image, program_copies}, trace {file, from, to}, ...}\n"
          "  --quiet          no progress bar (nor the trace's line)\n");
}

static void eval_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  (void)e;
  cli_progress_update(ctx, done, total);
}

int cmd_eval(int argc, char **argv) {
  long limit = 0, batch = 64;
  int quiet = 0, exact = 0;
  const cli_option opts[] = {{"--limit", CLI_INT, &limit, 0, 0x7fffffffL},
                             {"--int", CLI_FLAG, &exact, 0, 0},
                             {"--batch", CLI_INT, &batch, 1, 65535},
                             {"--quiet", CLI_FLAG, &quiet, 0, 0},
                             CLI_END};
  nnf_net *net;
  int rc = cli_model_command("eval", argc, argv, opts, usage_eval, &net);
  if (rc) return rc < 0 ? 0 : rc;
  const char *model = cli_model_values.model ? cli_model_values.model : cli_model_values.arch, *uri = cli_model_values.uri, *data = cli_model_values.data,
             *csvf = cli_model_values.csv;
  long label_col = cli_model_values.label_col;
  int json = cli_model_values.json, use_float = cli_model_values.use_float;
  char err[512];
  int spiking = nnf_net_spiking(net);
  nnf_dataset d = {0};
  int targets = nnf_task_uses_targets(net->task.kind) ? nnf_net_outputs(net) : 0;
  if (cli_load_data("eval", data, csvf, (int)label_col, (int)cli_model_values.seq_id, targets, 0, limit, &d)) {
    nnf_net_free(net);
    return EXIT_INPUT;
  }
  nnf_device *dev = NULL;
  if (!use_float) rc = cli_open_device("eval", cli_model_values.open_uri, &dev);
  nnf_device_set_pack(dev, !cli_model_values.no_pack);
  nnf_device_set_fuse_pool(dev, !cli_model_values.no_fuse_pool);
  nnf_device_set_outputs_only(dev, 1); /* only the logits cross the link back */
  nnf_eval_result r;
  nnf_fwd_mode mode = use_float ? NNF_FWD_FLOAT : dev ? NNF_FWD_DEVICE : spiking || exact ? NNF_FWD_INT : NNF_FWD_FAKEQUANT;
  cli_progress bar;
  cli_progress_init(&bar, "eval", !quiet && !json);
  if (!rc && nnf_evaluate(net, mode, dev, &d, (int)batch, &r, eval_progress, &bar, err, sizeof err)) {
    cli_progress_end(&bar);
    fprintf(stderr, "nnfpga eval: %s\n", err);
    rc = strstr(err, "features") || strstr(err, "classes") || strstr(err, "task") ? EXIT_INPUT : EXIT_DEVICE;
  }
  cli_progress_end(&bar);
  if (!rc) {
    int has_cycles = dev && r.dev.cycles > 0;
    double cpi = has_cycles ? (double)r.dev.cycles / (double)r.images : 0;
    double util = has_cycles ? (double)r.dev.macs / ((double)r.dev.cycles * r.dev.rows * r.dev.cols) : 0;
    /* neuron updates: every neuron of every spiking layer, every step */
    uint64_t updates = 0;
    for (int i = 0; i < net->nlayers; i++)
      if (nnf_layer_lif_config(net->layer[i])) updates += (uint64_t)net->layer[i]->out;
    updates *= (uint64_t)net->steps * r.images;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "model", model);
      cJSON_AddStringToObject(o, "device", use_float ? "float" : uri);
      cJSON_AddStringToObject(o, "task", nnf_task_name(net->task.kind));
      cJSON_AddStringToObject(o, "loss_kind", nnf_loss_name(net->task.loss));
      if (net->task.kind == NNF_TASK_MULTICLASS) {
        cJSON_AddNumberToObject(o, "accuracy", r.accuracy);
        cJSON_AddNumberToObject(o, "loss", r.loss);
      } else {
        cli_json_figures(o, "", &net->task, &r, &d);
      }
      cJSON_AddNumberToObject(o, "images", (double)r.images);
      cJSON_AddNumberToObject(o, "correct", (double)r.correct);
      if (spiking) cJSON_AddNumberToObject(o, "steps", net->steps);
      if (has_cycles) {
        cJSON_AddNumberToObject(o, "cycles_per_image", cpi);
        if (spiking) cJSON_AddNumberToObject(o, "neuron_updates_per_cycle", (double)updates / (double)r.dev.cycles);
        else cJSON_AddNumberToObject(o, "utilization", util);
        cJSON_AddNumberToObject(o, "cycles", (double)r.dev.cycles);
      } else {
        cJSON_AddNullToObject(o, "cycles_per_image");
      }
      if (dev) {
        cJSON_AddNumberToObject(o, "macs", (double)r.dev.macs);
        /* the link's bytes per image, frames included (inputs in, outputs out);
         * the model counts them too */
        cJSON_AddNumberToObject(o, "link_bytes_in_per_image", (double)r.dev.bytes_in / (double)r.images);
        cJSON_AddNumberToObject(o, "link_bytes_out_per_image", (double)r.dev.bytes_out / (double)r.images);
        cJSON_AddBoolToObject(o, "packed", nnf_device_packed(dev));
        cJSON_AddNumberToObject(o, "pools_fused", nnf_device_pools_fused(dev));
        cJSON_AddNumberToObject(o, "device_batch", nnf_device_batch(dev));
        cli_json_weights(o, dev, r.dev.cols);
        char host[256];
        cli_host_layers(net, host, sizeof host, o);
      }
      cli_trace_report("eval", dev, 0, o);
      cli_json_emit(o);
    } else {
      if (spiking)
        printf("accuracy %.2f%% (%llu of %llu images), spiking network, T = %d, on %s\n", 100 * r.accuracy,
               (unsigned long long)r.correct, (unsigned long long)r.images, net->steps, uri);
      else if (net->task.kind == NNF_TASK_MULTICLASS)
        printf("accuracy %.2f%% (%llu of %llu images), loss %.4f, on %s\n", 100 * r.accuracy,
               (unsigned long long)r.correct, (unsigned long long)r.images, r.loss, use_float ? "the host (float)" : uri);
      else {
        char what[160];
        snprintf(what, sizeof what, "%s task on %s:", nnf_task_name(net->task.kind), use_float ? "the host (float)" : uri);
        cli_print_figures(what, &net->task, &r, &d);
      }
      if (has_cycles && spiking)
        printf("device: %.1f cycles per image, %.3f neuron updates per cycle\n", cpi, (double)updates / (double)r.dev.cycles);
      else if (has_cycles)
        printf("device: %.1f cycles per image, utilization %.3f of the %dx%d array\n", cpi, util, r.dev.rows, r.dev.cols);
      else if (dev)
        printf("device: %llu MACs (the functional model keeps no clock; use --device sim for cycles)\n",
               (unsigned long long)r.dev.macs);
      char host[256];
      if (dev && cli_host_layers(net, host, sizeof host, NULL))
        printf("on the host, by design: %s (after the device's outputs come back; docs/tiny.md)\n", host);
      nnf_device_memory m;
      if (dev && !nnf_device_memory_get(dev, &m) && m.chunks)
        printf("weights: %llu bytes resident, %llu streamed per batch of %d (%d layer%s in %d chunks through two banks "
               "of %llu bytes), %.0f bytes an image\n",
               (unsigned long long)(m.resident_w_bytes + m.resident_p_bytes), (unsigned long long)m.streamed_bytes,
               m.batch, m.streamed_layers, m.streamed_layers == 1 ? "" : "s", m.chunks,
               (unsigned long long)m.bank_words * (unsigned long long)r.dev.cols, (double)m.streamed_bytes / m.batch);
      cli_trace_report("eval", dev, quiet, NULL);
    }
  }
  nnf_device_close(dev);
  nnf_dataset_free(&d);
  nnf_net_free(net);
  return rc;
}
