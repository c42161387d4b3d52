/*
 * nnfpga - the command-line tool of nnfpga.
 *
 *   nnfpga info | train | eval | infer | bench | tune | sweep | import | quantize  [OPTIONS]
 *   (nnfpga COMMAND --help)
 *
 * Exit codes: 0 success, 1 the device failed or refused, 2 bad usage,
 * 3 bad input (a data set, checkpoint or file that cannot be used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfpga_cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: nnfpga COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  info     show what the device is: array size, buffers, protocol, counters\n"
          "  train    train a network: int8 forward passes on the device, QAT on the host\n"
          "  eval     accuracy and device figures of a checkpoint over a test set\n"
          "  infer    classes and int8 logits of samples, from a checkpoint\n"
          "  bench    host training step time and device inference figures\n"
          "  tune     hyperparameter search (grid or random), resumable, with a plot\n"
          "  sweep    device configurations built, run and synthesised: accuracy, cycles, area,\n"
          "           fmax as CSV and JSON, the Pareto front as a plot; resumable, parallel\n"
          "  import   a model trained elsewhere (ONNX float, TFLite int8, a PyTorch nn.Sequential's\n"
          "           state_dict in safetensors) as a checkpoint\n"
          "  quantize post-training quantization of a float checkpoint, with the accuracy drop\n"
          "\n"
          "options:\n"
          "  --device URI   sim (default; sim:board=ulx3s|icebreaker|..., sim:link=uart3m|usbfs, sim:cpb=N), model,\n"
          "                 serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]][@BAUD]\n"
          "  --json         machine-readable output\n"
          "  -h, --help     this text (also: nnfpga COMMAND --help)\n"
          "\n"
          "exit codes: 0 success, 1 the device failed or refused, 2 bad usage,\n"
          "            3 bad input (data set, checkpoint or file)\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
  if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
  if (!strcmp(argv[1], "eval")) return cmd_eval(argc - 2, argv + 2);
  if (!strcmp(argv[1], "infer")) return cmd_infer(argc - 2, argv + 2);
  if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 2, argv + 2);
  if (!strcmp(argv[1], "tune")) return cmd_tune(argc - 2, argv + 2);
  if (!strcmp(argv[1], "sweep")) return cmd_sweep(argc - 2, argv + 2);
  if (!strcmp(argv[1], "import")) return cmd_import(argc - 2, argv + 2);
  if (!strcmp(argv[1], "quantize")) return cmd_quantize(argc - 2, argv + 2);
  fprintf(stderr, "nnfpga: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}
