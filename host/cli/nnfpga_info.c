/*
 * nnfpga_info.c - `nnfpga info`: what the device is (INFO record, counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_config.h"
#include "nnf_proto_gen.h"
#include "nnfdrv.h"
#include "nnfpga_cli.h"

static void usage_info(FILE *f) {
  fprintf(f,
          "usage: nnfpga info [--device URI] [--json]\n"
          "\n"
          "Opens the device, reads its INFO record and counters, and prints them.\n"
          "  --device URI   sim (default; sim:board=ulx3s|icebreaker|..., sim:link=uart3m|usbfs, sim:cpb=N), model,\n"
          "                 serial:/dev/ttyUSB1[@BAUD], usb[:VID:PID[:SERIAL]][@BAUD]\n"
          "  --json         one JSON object on stdout\n");
}

/* INFO's FEATURES bits by name (proto/nnf_proto.def). */
static const struct {
  unsigned bit;
  const char *name;
} feature_names[] = {{NNFP_FEAT_GEMM, "gemm"}, {NNFP_FEAT_LUT, "lut"}, {NNFP_FEAT_LIF, "lif"},
                     {NNFP_FEAT_VEC_SERIAL, "vec_serial"}, {NNFP_FEAT_CONV, "conv"}, {NNFP_FEAT_PACK, "pack"},
                     {NNFP_FEAT_CONV_POOL, "conv_pool"}, {NNFP_FEAT_EW, "ew"}, {NNFP_FEAT_REL, "rel"},
                     {NNFP_FEAT_BANKS, "banks"}, {NNFP_FEAT_TFL_ROUND, "tfl_round"}, {NNFP_FEAT_ROW, "row"},
                     {NNFP_FEAT_ACTW, "actw"}, {NNFP_FEAT_DW, "dw"}};

int cmd_info(int argc, char **argv) {
  const char *uri = "sim";
  int json = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) uri = argv[++i];
    else if (!strncmp(argv[i], "--device=", 9)) uri = argv[i] + 9;
    else if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage_info(stdout);
      return 0;
    } else {
      fprintf(stderr, "nnfpga info: unexpected argument '%s'\n", argv[i]);
      usage_info(stderr);
      return EXIT_USAGE;
    }
  }
  char err[512];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc) {
    fprintf(stderr, "nnfpga info: %s\n", err);
    return rc == NNFDRV_ERR_URI ? EXIT_USAGE : EXIT_DEVICE;
  }
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfdrv_counters c;
  rc = nnfdrv_get_counters(d, &c);
  if (rc) {
    fprintf(stderr, "nnfpga info: %s\n", nnfdrv_errmsg(d));
    nnfdrv_close(d);
    return EXIT_DEVICE;
  }
  char cfg_name[128] = "", cfg_path[4096] = "";
  int have_cfg = nnf_config_find(in->config_id, cfg_name, sizeof cfg_name, cfg_path, sizeof cfg_path);
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", uri);
    cJSON_AddNumberToObject(o, "protocol_version", in->proto_version);
    char rtl[16];
    snprintf(rtl, sizeof rtl, "%u.%u", in->rtl_version >> 8, in->rtl_version & 0xFF);
    cJSON_AddStringToObject(o, "rtl_version", rtl);
    cJSON_AddNumberToObject(o, "rows", in->rows);
    cJSON_AddNumberToObject(o, "cols", in->cols);
    cJSON *feat = cJSON_AddArrayToObject(o, "features");
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
      if (in->features & feature_names[i].bit) cJSON_AddItemToArray(feat, cJSON_CreateString(feature_names[i].name));
    cJSON_AddNumberToObject(o, "act_bytes", (double)in->act_words * in->rows);
    cJSON_AddNumberToObject(o, "weight_bytes", (double)in->w_words * in->cols);
    cJSON_AddNumberToObject(o, "param_entries", in->p_words);
    cJSON_AddNumberToObject(o, "acc_depth", in->acc_depth);
    cJSON_AddNumberToObject(o, "program_words", in->prog_words);
    cJSON_AddNumberToObject(o, "luts", in->luts);
    cJSON_AddNumberToObject(o, "banks", in->banks);
    cJSON_AddNumberToObject(o, "max_payload", in->max_payload);
    cJSON_AddNumberToObject(o, "clock_hz", in->clock_hz);
    cJSON *cf = cJSON_AddObjectToObject(o, "config");
    char idhex[8];
    snprintf(idhex, sizeof idhex, "0x%04x", (unsigned)in->config_id);
    cJSON_AddStringToObject(cf, "id", idhex);
    if (have_cfg) {
      cJSON_AddStringToObject(cf, "name", cfg_name);
      cJSON_AddStringToObject(cf, "file", cfg_path);
    } else {
      cJSON_AddNullToObject(cf, "name");
      cJSON_AddNullToObject(cf, "file");
    }
    cJSON *cn = cJSON_AddObjectToObject(o, "counters");
    cJSON_AddNumberToObject(cn, "cycles", (double)c.cycles);
    cJSON_AddNumberToObject(cn, "busy_cycles", (double)c.busy_cycles);
    cJSON_AddNumberToObject(cn, "macs", (double)c.macs);
    cJSON_AddNumberToObject(cn, "stall_cycles", (double)c.stall_cycles);
    cJSON_AddNumberToObject(cn, "bytes_in", (double)c.bytes_in);
    cJSON_AddNumberToObject(cn, "bytes_out", (double)c.bytes_out);
    cJSON_AddNumberToObject(cn, "frame_errors", (double)c.frame_errors);
    cli_json_emit(o);
  } else {
    printf("device         %s\n", uri);
    printf("protocol       %u, RTL %u.%u\n", in->proto_version, in->rtl_version >> 8, in->rtl_version & 0xFF);
    if (have_cfg)
      printf("configuration  %s (%s, id 0x%04x)\n", cfg_name, cfg_path, (unsigned)in->config_id);
    else if (in->config_id)
      printf("configuration  id 0x%04x (no file in %s has it)\n", (unsigned)in->config_id, nnf_config_dir());
    else
      printf("configuration  none (built from no configuration file)\n");
    printf("array          %u x %u int8 MACs%s\n", in->rows, in->cols,
           (in->features & 8) ? " (shared requantizer)" : "");
    printf("features      ");
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
      if (in->features & feature_names[i].bit) printf(" %s", feature_names[i].name);
    printf("\n");
    printf("activations    %llu bytes\n", (unsigned long long)in->act_words * in->rows);
    printf("weights        %llu bytes\n", (unsigned long long)in->w_words * in->cols);
    printf("parameters     %u entries x %u channels\n", in->p_words, in->cols);
    printf("accumulators   %u rows\n", in->acc_depth);
    printf("program        %u instructions\n", in->prog_words);
    printf("LUTs           %u resident\n", in->luts);
    if (in->banks)
      printf("banks          %u (weights larger than W stream through them while the program runs)\n", in->banks);
    else
      printf("banks          none (networks must fit the weight buffer)\n");
    printf("max payload    %u bytes\n", in->max_payload);
    if (in->clock_hz) printf("clock          %.1f MHz\n", in->clock_hz / 1e6);
    printf("counters       %llu cycles, %llu MACs, %llu bytes in, %llu out, %llu frame errors\n",
           (unsigned long long)c.cycles, (unsigned long long)c.macs, (unsigned long long)c.bytes_in,
           (unsigned long long)c.bytes_out, (unsigned long long)c.frame_errors);
  }
  nnfdrv_close(d);
  return 0;
}

