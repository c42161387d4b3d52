/*
 * nnf_import.c - importing networks trained elsewhere (nnf_import.h): the
 * format by content, the file, and what the readers share.
 */
#include "nnf_import.h"
#include "nnf_import_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"

/* safetensors: an 8-byte little-endian header length, then the JSON header. */
static int is_safetensors(const uint8_t *buf, size_t len) {
  if (len < 10) return 0;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | buf[i];
  return n >= 2 && n <= len - 8 && buf[8] == '{';
}

nnf_import_format nnf_import_detect(const uint8_t *buf, size_t len) {
  if (len >= 8 && !memcmp(buf + 4, "TFL3", 4)) return NNF_IMPORT_TFLITE;
  return is_safetensors(buf, len) ? NNF_IMPORT_SAFETENSORS : NNF_IMPORT_ONNX;
}

const char *nnf_import_format_name(nnf_import_format f) {
  return f == NNF_IMPORT_TFLITE ? "tflite" : f == NNF_IMPORT_SAFETENSORS ? "safetensors" : "onnx";
}

nnf_net *nnf_import_mem(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                        size_t errlen) {
  nnf_import_format fmt = nnf_import_detect(buf, len);
  if (fmt == NNF_IMPORT_SAFETENSORS) {
    if (info) memset(info, 0, sizeof *info), info->format = fmt;
    nnf_fail(err, errlen, "%s: a PyTorch state_dict (safetensors) holds no architecture: give it with --arch "
                          "(as nnfpga train takes it, docs/import.md)", name);
    return NULL;
  }
  return fmt == NNF_IMPORT_TFLITE ? nnf_import_tflite(buf, len, name, info, err, errlen)
                                  : nnf_import_onnx(buf, len, name, info, err, errlen);
}

uint8_t *nnf_import_read(const char *path, size_t *lenp, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    nnf_fail(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 1 << 16;
      uint8_t *nb = ncap <= (size_t)NNF_IMPORT_MAX_BYTES + 1 ? realloc(buf, ncap) : NULL;
      if (!nb) {
        free(buf);
        fclose(f);
        nnf_fail(err, errlen, "%s: larger than %u MiB, or out of memory", path, NNF_IMPORT_MAX_BYTES >> 20);
        return NULL;
      }
      buf = nb, cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad || len > NNF_IMPORT_MAX_BYTES) {
    free(buf);
    nnf_fail(err, errlen, bad ? "%s: read error" : "%s: larger than 256 MiB", path);
    return NULL;
  }
  *lenp = len;
  return buf;
}

nnf_net *nnf_import_file(const char *path, nnf_import_info *info, char *err, size_t errlen) {
  size_t len;
  uint8_t *buf = nnf_import_read(path, &len, err, errlen);
  nnf_net *n = buf ? nnf_import_mem(buf, len, path, info, err, errlen) : NULL;
  free(buf);
  return n;
}

/* ---- shared by the readers ---------------------------------------------------- */

int nnf_imp_vfail(char *err, size_t errlen, const char *file, const char *where, const char *fmt, va_list ap) {
  char msg[384];
  vsnprintf(msg, sizeof msg, fmt, ap);
  return nnf_fail(err, errlen, "%s: %s: %s", file, where, msg);
}

int nnf_imp_add(nnf_net *n, nnf_layer *l, const char *sub, const char *file, const char *where, char *err,
                size_t errlen) {
  return nnf_imp_add_from(n, l, n->nlayers - 1, sub, file, where, err, errlen);
}

int nnf_imp_add_from(nnf_net *n, nnf_layer *l, int from, const char *sub, const char *file, const char *where,
                     char *err, size_t errlen) {
  char why[384];
  why[0] = 0;
  if (!l) return nnf_fail(err, errlen, "%s: %s: %s", file, where, sub && sub[0] ? sub : "cannot make the layer");
  if (nnf_net_add_from(n, l, from, why, sizeof why)) return nnf_fail(err, errlen, "%s: %s: %s", file, where, why);
  return 0;
}

void nnf_imp_set_params(nnf_layer *l, const float *w, const float *b) {
  nnf_param p[NNF_MAX_PARAMS];
  int k = l->ops->params ? l->ops->params(l, p) : 0;
  if (k > 0) memcpy(p[0].data, w, nnf_param_size(&p[0]) * sizeof(float));
  if (k > 1) {
    if (b) memcpy(p[1].data, b, nnf_param_size(&p[1]) * sizeof(float));
    else memset(p[1].data, 0, nnf_param_size(&p[1]) * sizeof(float));
  }
  l->net->quantized = 0;
}

void nnf_imp_dropped(nnf_import_info *info, const char *what) {
  size_t u = strlen(info->dropped);
  snprintf(info->dropped + u, sizeof info->dropped - u, "%s%s", u ? ", " : "", what);
}
