/*
 * nnf_safetensors.h - read and write safetensors files
 * (https://huggingface.co/docs/safetensors: an 8-byte little-endian header
 * length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets"}, ...,
 * "__metadata__": {string: string}}, then the tensor bytes, little-endian,
 * row-major). Files written here load with safetensors.torch.load_file.
 *
 * Writing is atomic: a temporary file in the same directory, fsync, rename.
 * Reading validates everything before use: header length against the file
 * size (and a 100 MB cap), the JSON, every dtype name, shape (non-negative,
 * product without overflow), data_offsets (begin <= end, inside the data
 * area, end - begin == product(shape) * dtype size), no overlaps, and that
 * the tensors cover the data area exactly, as the reference implementation
 * requires. A hostile file gives -1 and a message, never a crash.
 */
#ifndef NNF_SAFETENSORS_H
#define NNF_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNF_ST_F32 = 0, NNF_ST_F64, NNF_ST_I8, NNF_ST_U8, NNF_ST_I16, NNF_ST_I32, NNF_ST_I64,
} nnf_st_dtype;

#define NNF_ST_MAX_DIMS 8

typedef struct {
  const char *name;
  nnf_st_dtype dtype;
  int ndim;
  int64_t shape[NNF_ST_MAX_DIMS];
  const void *data;   /* product(shape) elements, host order (little-endian) */
} nnf_st_tensor;

/* Write tensors and string metadata (meta_keys/meta_vals: n_meta pairs,
 * may be 0) to path, atomically. 0 or -1 + err (the old file, if any, is
 * untouched on failure). Names must be unique and non-empty. */
int nnf_st_write(const char *path, const nnf_st_tensor *tensors, int n_tensors,
                 const char *const *meta_keys, const char *const *meta_vals, int n_meta,
                 char *err, size_t errlen);

typedef struct nnf_st_file nnf_st_file;

/* Parse a whole file image (the struct copies what it needs). */
nnf_st_file *nnf_st_parse(const uint8_t *buf, size_t len, char *err, size_t errlen);
nnf_st_file *nnf_st_read(const char *path, char *err, size_t errlen);
void nnf_st_free(nnf_st_file *f);

int nnf_st_count(const nnf_st_file *f);
/* The i-th tensor (in file order) or the one named; NULL if none. The
 * returned struct and its data belong to f. */
const nnf_st_tensor *nnf_st_get(const nnf_st_file *f, int i);
const nnf_st_tensor *nnf_st_find(const nnf_st_file *f, const char *name);
/* Metadata value for key, NULL if absent. */
const char *nnf_st_meta(const nnf_st_file *f, const char *key);
/* Bytes per element of a dtype; its safetensors name ("F32", ...). */
size_t nnf_st_dtype_size(nnf_st_dtype t);
const char *nnf_st_dtype_name(nnf_st_dtype t);

#ifdef __cplusplus
}
#endif
#endif /* NNF_SAFETENSORS_H */
