/*
 * nnf_import_torch.c - a PyTorch nn.Sequential's state_dict in safetensors
 * into a network built from its architecture (nnf_import.h,
 * docs/import.md "PyTorch nn.Sequential").
 *
 * The network's layers are the Sequential's children in order, so layer
 * i's parameter "weight" is the tensor "<i>.weight": every parameter of
 * the network is looked up by that name and checked (F32, the layer's
 * shape), then every tensor of the file must have been one of them.
 */
#include "nnf_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"
#include "nnf_safetensors.h"

/* "[784, 64]" */
static void shape_text(const int64_t *shape, int ndim, char *buf, size_t len) {
  size_t u = (size_t)snprintf(buf, len, "[");
  for (int d = 0; d < ndim && u < len; d++)
    u += (size_t)snprintf(buf + u, len - u, "%s%lld", d ? ", " : "", (long long)shape[d]);
  if (u < len) snprintf(buf + u, len - u, "]");
}

/* BatchNorm's buffers: the one kind of state_dict entry that names its layer kind. */
static int batchnorm_key(const char *k) {
  static const char *const bn[] = {".running_mean", ".running_var", ".num_batches_tracked"};
  size_t n = strlen(k);
  for (int i = 0; i < 3; i++) {
    size_t m = strlen(bn[i]);
    if (n > m && !strcmp(k + n - m, bn[i])) return 1;
  }
  return 0;
}

/* Layer l's parameter p from tensor t (already found by name): dtype and
 * shape checked, the floats copied. */
static int take_param(const nnf_layer *l, const nnf_param *p, const nnf_st_tensor *t, const char *file, char *err,
                      size_t errlen) {
  char what[160], want[96], got[96];
  l->ops->describe(l, what, sizeof what);
  if (t->dtype != NNF_ST_F32)
    return nnf_fail(err, errlen, "%s: tensor '%s' is %s: only F32 (float32) tensors import (save "
                                 "model.float().state_dict())", file, t->name, nnf_st_dtype_name(t->dtype));
  int64_t shape[4];
  for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
  int same = t->ndim == p->ndim;
  for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == shape[d];
  if (!same) {
    shape_text(t->shape, t->ndim, got, sizeof got);
    shape_text(shape, p->ndim, want, sizeof want);
    return nnf_fail(err, errlen, "%s: tensor '%s' is %s, but layer %d (%s) has %s %s", file, t->name, got, l->index,
                    what, p->name, want);
  }
  memcpy(p->data, t->data, nnf_param_size(p) * sizeof(float));
  return 0;
}

/* Every parameter of n from f; *used counts the tensors taken. */
static int take_params(nnf_net *n, const nnf_st_file *f, const char *file, int *used, char *err, size_t errlen) {
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    nnf_param p[NNF_MAX_PARAMS];
    int k = l->ops->params ? l->ops->params(l, p) : 0;
    for (int j = 0; j < k; j++) {
      char key[64], what[160];
      snprintf(key, sizeof key, "%d.%s", i, p[j].name);
      const nnf_st_tensor *t = nnf_st_find(f, key);
      if (!t) {
        l->ops->describe(l, what, sizeof what);
        return nnf_fail(err, errlen, "%s: no tensor '%s' (layer %d of --arch, %s, has a %s)", file, key, i, what,
                        p[j].name);
      }
      if (take_param(l, &p[j], t, file, err, errlen)) return -1;
      (*used)++;
    }
  }
  return 0;
}

/* The first tensor of f that is no parameter of n (file order), or NULL. */
static const char *extra_tensor(nnf_net *n, const nnf_st_file *f) {
  for (int k = 0; k < nnf_st_count(f); k++) {
    const char *name = nnf_st_get(f, k)->name;
    int i = -1, end = 0;
    char pname[32];
    if (sscanf(name, "%d.%31s%n", &i, pname, &end) != 2 || (size_t)end != strlen(name) || i < 0 || i >= n->nlayers)
      return name;
    nnf_param p[NNF_MAX_PARAMS];
    int np = n->layer[i]->ops->params ? n->layer[i]->ops->params(n->layer[i], p) : 0, found = 0;
    for (int j = 0; j < np; j++) found |= !strcmp(p[j].name, pname);
    if (!found) return name;
  }
  return NULL;
}

/* Refusals before matching: an nnfpga checkpoint, BatchNorm's buffers. */
static int check_file(const nnf_st_file *f, const char *file, char *err, size_t errlen) {
  const char *fmt = nnf_st_meta(f, "format");
  if (fmt && !strcmp(fmt, "nnfpga"))
    return nnf_fail(err, errlen, "%s: an nnfpga checkpoint already (eval, infer and quantize take it as it is)", file);
  for (int k = 0; k < nnf_st_count(f); k++) {
    const char *name = nnf_st_get(f, k)->name;
    if (batchnorm_key(name))
      return nnf_fail(err, errlen, "%s: tensor '%s' is a BatchNorm buffer: the layer stack has no BatchNorm (fold it "
                                   "into the Linear / Conv2d before it, torch.nn.utils.fusion, and save that)",
                      file, name);
  }
  return 0;
}

int nnf_import_torch(nnf_net *n, const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                     size_t errlen) {
  if (info) {
    memset(info, 0, sizeof *info);
    info->format = nnf_import_detect(buf, len);
  }
  if (nnf_import_detect(buf, len) != NNF_IMPORT_SAFETENSORS)
    return nnf_fail(err, errlen, "%s: not a safetensors file (--arch is for a PyTorch nn.Sequential state_dict in "
                                 "safetensors; an ONNX or TFLite model carries its own architecture)", name);
  char why[384];
  nnf_st_file *f = nnf_st_parse(buf, len, why, sizeof why);
  if (!f) {
    const char *prefix = "safetensors data: ";
    return nnf_fail(err, errlen, "%s: %s", name, strncmp(why, prefix, strlen(prefix)) ? why : why + strlen(prefix));
  }
  int used = 0, rc = check_file(f, name, err, errlen);
  if (!rc) rc = take_params(n, f, name, &used, err, errlen);
  const char *extra = rc ? NULL : extra_tensor(n, f);
  if (extra)
    rc = nnf_fail(err, errlen, "%s: tensor '%s' is no parameter of --arch (%d layers; the file has %d tensors, the "
                               "architecture %d)", name, extra, n->nlayers, nnf_st_count(f), used);
  if (!rc && info) {
    info->operators = n->nlayers;
    const char *producer = nnf_st_meta(f, "format");
    snprintf(info->producer, sizeof info->producer, "%s", producer ? producer : "");
  }
  nnf_st_free(f);
  n->quantized = 0;
  return rc;
}

int nnf_import_torch_file(nnf_net *n, const char *path, nnf_import_info *info, char *err, size_t errlen) {
  size_t len;
  uint8_t *buf = nnf_import_read(path, &len, err, errlen);
  int rc = buf ? nnf_import_torch(n, buf, len, path, info, err, errlen) : -1;
  free(buf);
  return rc;
}
