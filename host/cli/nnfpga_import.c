/*
 * nnfpga_import.c - `nnfpga import FILE --out MODEL`: a network trained
 * elsewhere (ONNX float, TFLite int8, a PyTorch nn.Sequential's state_dict
 * in safetensors with --arch) as an nnfpga checkpoint that eval and infer
 * run like any trained one (nnf_import.h, docs/import.md).
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
          "  FILE             an ONNX float model, a TFLite int8 model or a PyTorch state_dict in\n"
          "                   safetensors (told apart by content); a chain of Gemm / MatMul+Add /\n"
          "                   Conv / pools / Relu / Clip(0,6) / Sigmoid / Tanh / Flatten\n"
          "                   (FULLY_CONNECTED, CONV_2D, pools, RESHAPE, LOGISTIC, TANH); a final\n"
          "                   Softmax is dropped (the outputs are logits)\n"
          "  --out FILE       the checkpoint to write (safetensors)\n"
          "  --arch A         a state_dict's architecture, as train --arch takes it: the\n"
          "                   nn.Sequential's children in order (flatten,dense(64),relu,dense(10)\n"
          "                   reads 1.weight, 1.bias, 3.weight, 3.bias: float32, shapes checked)\n"
          "  --input-shape S  C,H,W of its inputs (default 1,28,28), or N: flat rows\n"
          "  --calib N        float models (ONNX, state_dict): observe the activation ranges on\n"
          "                   the first N training images (one pass: at most 4096), then quantize\n"
          "                   (default 1024; 0: no calibration, the float model only: eval --float,\n"
          "                   nnfpga quantize). A TFLite model keeps its own int8 quantization.\n"
          CLI_OBSERVER_HELP
          "  --data DIR       IDX files in MNIST layout for --calib (default " NNF_FASHION_DEFAULT ")\n"
          "  --json           {format, file, out, architecture, operators, quantized, calibration,\n"
          "                   dropped, producer}\n"
          "\n"
          "exit codes: 0 written, 2 bad usage (also: a state_dict without --arch, --arch with\n"
          "            an ONNX / TFLite file), 3 the file cannot be imported (unsupported\n"
          "            operator, dtype or shape -- named with its index in the graph or the\n"
          "            tensor's name -- or a truncated or corrupt file)\n");
}

/* FILE is the one argument that is no option nor an option's value. */
static const char *const value_opts[] = {"--out", "--calib", "--data", "--observer", "--arch", "--input-shape", NULL};

static int takes_value(const char *a) {
  for (int k = 0; value_opts[k]; k++)
    if (!strcmp(a, value_opts[k])) return 1;
  return 0;
}

/* The network: from the file (ONNX, TFLite), or built from --arch and its
 * parameters read from the state_dict; or the exit code after printing why. */
static int read_net(const char *file, const char *arch, const char *shape, nnf_import_info *info, nnf_net **net) {
  char err[512];
  int rc;
  if (arch) {
    if ((rc = cli_arch_net("import", arch, shape ? shape : "1,28,28", net))) return rc;
    info->format = NNF_IMPORT_SAFETENSORS;
    if (!nnf_import_torch_file(*net, file, info, err, sizeof err)) return 0;
    nnf_net_free(*net);
  } else if (shape) {
    fprintf(stderr, "nnfpga import: --input-shape goes with --arch (a state_dict's architecture)\n");
    return EXIT_USAGE;
  } else {
    info->format = NNF_IMPORT_ONNX;
    if ((*net = nnf_import_file(file, info, err, sizeof err))) return 0;
  }
  *net = NULL;
  fprintf(stderr, "nnfpga import: %s\n", err);
  /* --arch with a file that carries its graph, or a state_dict without one */
  return (info->format == NNF_IMPORT_SAFETENSORS) != (arch != NULL) ? EXIT_USAGE : EXIT_INPUT;
}

int cmd_import(int argc, char **argv) {
  const char *out = NULL, *data = NULL, *file = NULL, *observer = NULL, *arch = NULL, *shape = NULL;
  long calib = 1024;
  int json = 0, help = 0;
  const cli_option opts[] = {{"--out", CLI_STR, &out, 0, 0},          {"--calib", CLI_INT, &calib, 0, 4096},
                             {"--data", CLI_STR, &data, 0, 0},        {"--observer", CLI_STR, &observer, 0, 0},
                             {"--arch", CLI_STR, &arch, 0, 0},        {"--input-shape", CLI_STR, &shape, 0, 0},
                             {"--json", CLI_FLAG, &json, 0, 0},       CLI_END};
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
  nnf_observer obs;
  if ((rc = cli_observer("import", observer, &obs))) return rc;
  char err[512];
  nnf_import_info info;
  nnf_net *net;
  if ((rc = read_net(file, arch, shape, &info, &net))) return rc;
  char calibration[512] = "given (the file's int8 quantization)";
  if (!info.quantized && calib > 0) {
    rc = cli_calibrate("import", net, data, calib, &obs, calibration, sizeof calibration);
    if (rc) fprintf(stderr, "nnfpga import: (--calib 0 imports without calibration)\n");
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
    char desc[2048];
    nnf_net_describe(net, desc, sizeof desc);
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "format", nnf_import_format_name(info.format));
      cJSON_AddStringToObject(o, "file", file);
      cJSON_AddStringToObject(o, "out", out);
      cJSON_AddStringToObject(o, "architecture", desc);
      cJSON_AddNumberToObject(o, "operators", info.operators);
      cJSON_AddBoolToObject(o, "quantized", net->quantized);
      cJSON_AddStringToObject(o, "calibration", calibration);
      cJSON_AddStringToObject(o, "dropped", info.dropped);
      cJSON_AddStringToObject(o, "producer", info.producer);
      cli_json_emit(o);
    } else {
      printf("imported %s (%s, %d operators%s%s): %s\n", file, nnf_import_format_name(info.format), info.operators,
             info.dropped[0] ? "; dropped: " : "", info.dropped, desc);
      printf("quantization: %s\n", calibration);
      printf("wrote %s\n", out);
    }
  }
  nnf_net_free(net);
  return rc;
}
