/*
 * nnfpga_bench.c - `nnfpga bench`: the host training step and the device's
 * inference figures, measured, never asserted.
 *
 *   train_step: forward, backward and one Adam step of a 784-128-10 MLP on a
 *               batch of 64 random images, float on the host, one thread
 *               (OpenBLAS is told to use one); the median of repeated runs.
 *   inference:  a 784-128-10 int8 MLP on the device, batches of 64; cycles
 *               per image and utilization from the device's counters.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnfpga_cli.h"

extern void openblas_set_num_threads(int num_threads);

static void usage_bench(FILE *f) {
  fprintf(f,
          "usage: nnfpga bench [--device URI] [--steps N] [--images N] [--json]\n"
          "\n"
          "Measures the host training step (784-128-10, batch 64, Adam, float, one thread)\n"
          "and the int8 inference figures of the device.\n"
          "  --device URI   sim (default), model, serial:..., usb...; 'none' skips the device\n"
          "  --steps N      training steps timed (default 200)\n"
          "  --images N     images for the device figures (default 640)\n"
          "  --json         {train_step: {nnfpga_us}, inference: {cycles_per_image, ...}}\n");
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median microseconds of one training step. */
static double bench_train_step(long steps, char *err, size_t errlen) {
  const int sizes[3] = {784, 128, 10}, B = 64;
  nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, 7, err, errlen);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_ADAM);
  nnf_optim *o = n ? nnf_optim_create(&oc, err, errlen) : NULL;
  float *x = malloc(sizeof(float) * B * 784);
  int32_t y[64];
  double *t = malloc(sizeof(double) * (size_t)steps);
  double med = -1;
  if (n && o && x && t && !nnf_net_register(n, o)) {
    uint64_t rng = 11;
    for (int i = 0; i < B * 784; i++) x[i] = nnf_rng_uniform(&rng);
    for (int i = 0; i < B; i++) y[i] = (int32_t)(nnf_rng_next(&rng) % 10);
    for (long s = -20; s < steps; s++) { /* 20 warm-up steps */
      double t0 = cli_now();
      nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, errlen);
      nnf_net_backward(n, y, 1.0f, 0);
      nnf_optim_step(o);
      if (s >= 0) t[s] = (cli_now() - t0) * 1e6;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_d);
    med = t[steps / 2];
  }
  free(x);
  free(t);
  nnf_optim_destroy(o);
  nnf_net_free(n);
  return med;
}

int cmd_bench(int argc, char **argv) {
  const char *uri = "sim";
  long steps = 200, images = 640;
  int json = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
    if ((g = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
      if (g < 0) goto missing;
      uri = v;
      continue;
    }
    if ((g = cli_opt(argc, argv, &i, "--steps", &v)) != 0) {
      if (g < 0) goto missing;
      if (cli_int("bench", "--steps", v, 1, 1000000, &steps)) return EXIT_USAGE;
      continue;
    }
    if ((g = cli_opt(argc, argv, &i, "--images", &v)) != 0) {
      if (g < 0) goto missing;
      if (cli_int("bench", "--images", v, 1, 1000000, &images)) return EXIT_USAGE;
      continue;
    }
    if (!strcmp(argv[i], "--json")) {
      json = 1;
      continue;
    }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage_bench(stdout);
      return 0;
    }
    fprintf(stderr, "nnfpga bench: unexpected argument '%s'\n", argv[i]);
    usage_bench(stderr);
    return EXIT_USAGE;
  missing:
    fprintf(stderr, "nnfpga bench: %s needs a value\n", argv[i]);
    return EXIT_USAGE;
  }
  char err[512] = "";
  openblas_set_num_threads(1);
  double us = bench_train_step(steps, err, sizeof err);
  if (us < 0) {
    fprintf(stderr, "nnfpga bench: %s\n", err);
    return EXIT_DEVICE;
  }
  cJSON *root = cJSON_CreateObject();
  cJSON *ts = cJSON_AddObjectToObject(root, "train_step");
  cJSON_AddStringToObject(ts, "network", "784-128-10 relu, batch 64, adam, float, 1 thread");
  cJSON_AddNumberToObject(ts, "nnfpga_us", us);
  if (!json) printf("train_step (784-128-10, batch 64, Adam, float, 1 thread): %.1f us\n", us);
  int rc = 0;
  if (strcmp(uri, "none")) {
    const int sizes[3] = {784, 128, 10};
    nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, 3, err, sizeof err);
    nnf_dataset d = {0};
    d.count = (size_t)images;
    d.features = 784;
    d.classes = 10;
    d.x = malloc(sizeof(float) * 784 * (size_t)images);
    d.y = calloc((size_t)images, sizeof(int32_t));
    uint64_t rng = 5;
    for (size_t i = 0; d.x && i < 784 * (size_t)images; i++) d.x[i] = nnf_rng_uniform(&rng);
    nnf_device *dev = NULL;
    int orc = cli_open_device("bench", uri, &dev);
    nnf_eval_result r;
    if (orc) {
      rc = orc;
    } else if (!n || !dev || !d.x || !d.y || nnf_net_observe(n, d.x, 64, 1) || nnf_net_quantize(n, err, sizeof err) ||
        nnf_evaluate(n, NNF_FWD_DEVICE, dev, &d, 64, &r, NULL, NULL, err, sizeof err)) {
      fprintf(stderr, "nnfpga bench: %s\n", err);
      rc = EXIT_DEVICE;
    } else {
      cJSON *inf = cJSON_AddObjectToObject(root, "inference");
      cJSON_AddStringToObject(inf, "device", uri);
      cJSON_AddNumberToObject(inf, "images", (double)r.images);
      if (r.dev.cycles) {
        double cpi = (double)r.dev.cycles / (double)r.images;
        double util = (double)r.dev.macs / ((double)r.dev.cycles * r.dev.rows * r.dev.cols);
        cJSON_AddNumberToObject(inf, "cycles_per_image", cpi);
        cJSON_AddNumberToObject(inf, "utilization", util);
        if (!json)
          printf("inference on %s (784-128-10 int8, batch 64, weights uploaded once): %.1f cycles/image, utilization %.3f\n",
                 uri, cpi, util);
      } else if (!json) {
        printf("inference on %s: %llu images, %llu MACs (no clock on this device)\n", uri,
               (unsigned long long)r.images, (unsigned long long)r.dev.macs);
      }
    }
    nnf_device_close(dev);
    nnf_net_free(n);
    nnf_dataset_free(&d);
  }
  if (json && !rc) {
    char *txt = cJSON_Print(root);
    puts(txt);
    free(txt);
  }
  cJSON_Delete(root);
  return rc;
}
