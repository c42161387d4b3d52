/*
 * nnfpga_import.c - `nnfpga import FILE --out MODEL`: a network trained
 * elsewhere (ONNX float, TFLite int8) as an nnfpga checkpoint that eval and
 * infer run like any trained one (nnf_import.h, docs/import.md).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnfpga_cli.h"

static void usage_import(FILE *f) {
  fprintf(f,
          "usage: nnfpga import FILE --out MODEL.safetensors [OPTIONS]\n"
          "\n"
          "Reads a network trained elsewhere and writes it as a checkpoint that nnfpga eval\n"
          "and infer run on a device like any nnfpga train output (docs/import.md).\n"
          "\n"
          "  FILE             an ONNX float model or a TFLite int8 model (told apart by content);\n"
          "                   a chain of Gemm / MatMul+Add / Conv / pools / Relu / Clip(0,6) /\n"
          "                   Sigmoid / Tanh / Flatten (FULLY_CONNECTED, CONV_2D, pools, RESHAPE,\n"
          "                   LOGISTIC, TANH); a final Softmax is dropped (the outputs are logits)\n"
          "  --out FILE       the checkpoint to write (safetensors)\n"
          "  --calib N        ONNX (float) models: observe the activation ranges (min / max) on\n"
          "                   the first N training images (one pass: at most 4096), then quantize\n"
          "                   (default 1024; 0: no calibration, the float model only: eval --float).\n"
          "                   A TFLite model keeps its own int8 quantization.\n"
          "  --data DIR       IDX files in MNIST layout for --calib (default " NNF_FASHION_DEFAULT ")\n"
          "  --json           {format, file, out, architecture, operators, quantized, calibration,\n"
          "                   dropped, producer}\n"
          "\n"
          "exit codes: 0 written, 2 bad usage, 3 the file cannot be imported (unsupported\n"
          "            operator, dtype or shape -- named with its index in the graph -- or a\n"
          "            truncated or corrupt file)\n");
}

/* FILE is the one argument that is no option nor an option's value. */
static const char *const value_opts[] = {"--out", "--calib", "--data", NULL};

static int takes_value(const char *a) {
  for (int k = 0; value_opts[k]; k++)
    if (!strcmp(a, value_opts[k])) return 1;
  return 0;
}

int cmd_import(int argc, char **argv) {
  const char *out = NULL, *data = NULL, *file = NULL;
  long calib = 1024;
  int json = 0, help = 0;
  const cli_option opts[] = {{"--out", CLI_STR, &out, 0, 0},       {"--calib", CLI_INT, &calib, 0, 4096},
                             {"--data", CLI_STR, &data, 0, 0},     {"--json", CLI_FLAG, &json, 0, 0},
                             CLI_END};
  const cli_option *const tables[] = {opts, NULL};
  char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
  int nrest = 0;
  if (!rest) return EXIT_USAGE;
  for (int i = 0; i < argc; i++) {
    if (argv[i][0] != '-' && !file) {
      file = argv[i];
      continue;
    }
    rest[nrest++] = argv[i];
    if (takes_value(argv[i]) && i + 1 < argc) rest[nrest++] = argv[++i];
  }
  int rc = cli_parse("import", nrest, rest, tables, &help, NULL, NULL);
  free(rest);
  if (rc) return rc;
  if (help) {
    usage_import(stdout);
    return 0;
  }
  if (!file || !out) {
    fprintf(stderr, "nnfpga import: %s (see nnfpga import --help)\n", !file ? "no FILE to import" : "--out FILE is required");
    return EXIT_USAGE;
  }
  char err[512];
  nnf_import_info info;
  nnf_net *net = nnf_import_file(file, &info, err, sizeof err);
  if (!net) {
    fprintf(stderr, "nnfpga import: %s\n", err);
    return EXIT_INPUT;
  }
  char calibration[160] = "given (the file's int8 quantization)";
  if (!info.quantized && calib > 0) {
    nnf_dataset d = {0};
    const char *dir = data ? data : NNF_FASHION_DEFAULT;
    if (cli_load_data("import", dir, NULL, 0, -1, 0, 1, calib, &d)) {
      fprintf(stderr, "nnfpga import: (--calib 0 imports without calibration)\n");
      nnf_net_free(net);
      return EXIT_INPUT;
    }
    if ((int)d.features != nnf_net_inputs(net)) {
      fprintf(stderr, "nnfpga import: the calibration data's %zu features are not the model's %d inputs (--calib 0 "
                      "imports without calibration)\n", d.features, nnf_net_inputs(net));
      rc = EXIT_INPUT;
    } else if (nnf_net_observe(net, d.x, (int)d.count, 1) || nnf_net_quantize(net, err, sizeof err)) {
      fprintf(stderr, "nnfpga import: calibration: %s\n", err);
      rc = EXIT_INPUT;
    }
    snprintf(calibration, sizeof calibration, "min/max of %zu training images of %s", d.count, dir);
    nnf_dataset_free(&d);
  } else if (!info.quantized) {
    snprintf(calibration, sizeof calibration, "none (float only)");
  }
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  const char *keys[3] = {"imported_from", "import_format", "calibration"};
  const char *vals[3] = {base, nnf_import_format_name(info.format), calibration};
  if (!rc && nnf_ckpt_save(out, net, keys, vals, 3, err, sizeof err)) {
    fprintf(stderr, "nnfpga import: %s\n", err);
    rc = EXIT_INPUT;
  }
  if (!rc) {
    char arch[2048];
    nnf_net_describe(net, arch, sizeof arch);
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "format", nnf_import_format_name(info.format));
      cJSON_AddStringToObject(o, "file", file);
      cJSON_AddStringToObject(o, "out", out);
      cJSON_AddStringToObject(o, "architecture", arch);
      cJSON_AddNumberToObject(o, "operators", info.operators);
      cJSON_AddBoolToObject(o, "quantized", net->quantized);
      cJSON_AddStringToObject(o, "calibration", calibration);
      cJSON_AddStringToObject(o, "dropped", info.dropped);
      cJSON_AddStringToObject(o, "producer", info.producer);
      cli_json_emit(o);
    } else {
      printf("imported %s (%s, %d operators%s%s): %s\n", file, nnf_import_format_name(info.format), info.operators,
             info.dropped[0] ? "; dropped: " : "", info.dropped, arch);
      printf("quantization: %s\n", calibration);
      printf("wrote %s\n", out);
    }
  }
  nnf_net_free(net);
  return rc;
}
