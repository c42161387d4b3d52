/*
 * nnf_data.h - data sets for libnnf: IDX files (raw or gzip, read through
 * zlib), CSV files, Fashion-MNIST by directory, and seeded shuffling.
 *
 * Every loader validates its input completely (magic, dtype, dimension
 * counts and sizes against the bytes present, label range, field counts,
 * numbers) and fails with a message in err and nothing allocated; it never
 * crashes or reads past its input. Parsers over memory exist so that the
 * libFuzzer targets in tests/fuzz/ reach the same code as the file loaders.
 *
 * Ownership: a loaded nnf_dataset owns x and y; nnf_dataset_free releases
 * them (safe on a zeroed struct).
 */
#ifndef NNF_DATA_H
#define NNF_DATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits that keep hostile headers from asking for absurd memory. */
#define NNF_IDX_MAX_DIMS 8
#define NNF_DATA_MAX_BYTES ((size_t)1 << 31)

/* One IDX array (any of the format's dtypes, converted to float). */
typedef struct {
  int dtype;                      /* IDX type byte: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64 */
  int ndims;
  uint32_t dims[NNF_IDX_MAX_DIMS];
  size_t count;                   /* product of dims */
  float *data;                    /* count values, as stored (no scaling) */
} nnf_idx;

/* Parse an IDX image already in memory (raw, not gzip). 0 or -1 + err. */
int nnf_idx_parse(const uint8_t *buf, size_t len, nnf_idx *out, char *err, size_t errlen);
/* Like nnf_idx_parse, but a gzip image (magic 1f 8b) is inflated first,
 * under the same size cap as nnf_idx_read (the file reader's memory path). */
int nnf_idx_parse_any(const uint8_t *buf, size_t len, nnf_idx *out, char *err, size_t errlen);
/* Read an IDX file; gzip (by its magic bytes 1f 8b) is inflated with zlib,
 * and a truncated or corrupt gzip stream is an error. */
int nnf_idx_read(const char *path, nnf_idx *out, char *err, size_t errlen);
void nnf_idx_free(nnf_idx *a);

typedef struct {
  size_t count;     /* samples */
  size_t features;  /* floats per sample */
  int classes;      /* labels are 0..classes-1 */
  float *x;         /* count x features, row-major */
  int32_t *y;       /* count labels (all 0 when the data holds targets) */
  size_t targets;   /* float targets per sample (0: integer labels only) */
  float *t;         /* count x targets, row-major (NULL when targets is 0) */
} nnf_dataset;

/* Images (N x d1 x d2 ..., u8 scaled by 1/255; other dtypes as stored) and
 * labels (N, integers 0..255) from two IDX files; N must agree. classes =
 * max label + 1, at least 2. */
int nnf_dataset_load_idx(const char *images, const char *labels, nnf_dataset *out, char *err,
                         size_t errlen);
/* Fashion-MNIST (or MNIST) from a directory holding the four standard
 * files, gzip or not: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
 * t10k-...; train != 0 picks the training split. dir NULL: NNF_FASHION_DEFAULT. */
#define NNF_FASHION_DEFAULT "/usr/share/datasets/fashion-mnist"
int nnf_dataset_load_mnist_dir(const char *dir, int train, nnf_dataset *out, char *err,
                               size_t errlen);

/* CSV: one sample per line, the label (a non-negative integer) in column
 * label_col (0-based; -1 = last column), every other field a number. A first
 * line that does not parse as numbers is a header and skipped. Blank lines
 * are skipped; CRLF accepted; every line must have the same field count.
 * Values are used as stored (no scaling). */
int nnf_csv_parse(const char *buf, size_t len, int label_col, nnf_dataset *out, char *err,
                  size_t errlen);
int nnf_dataset_load_csv(const char *path, int label_col, nnf_dataset *out, char *err,
                         size_t errlen);
/* CSV with float targets (multi-label and regression): the ntargets >= 1
 * consecutive columns starting at first_col (0-based; -1 = the last
 * ntargets columns) are the targets (any finite number), the other columns
 * the features (at least one). Otherwise as nnf_csv_parse; classes is 0
 * and y all 0. */
int nnf_csv_parse_targets(const char *buf, size_t len, int first_col, int ntargets, nnf_dataset *out,
                          char *err, size_t errlen);
int nnf_dataset_load_csv_targets(const char *path, int first_col, int ntargets, nnf_dataset *out, char *err,
                                 size_t errlen);

/* Sequences (docs/host.md "Recurrent layers"), one CSV line per time step:
 * a sequence-id column (any text without a comma), the features of the
 * step, and a label or targets. A sequence's lines are consecutive (an id
 * that comes back after another sequence is refused with both line ranges);
 * every sequence has the same number of steps T (steps, or the first
 * sequence's: a ragged one is refused with its id and lines). A sample is a
 * whole sequence: features = T * (per-step features), time-major (PyTorch's
 * batch_first (T, I) row, what the recurrent layers read), its label or
 * targets those of its last line. Header, blank lines, numbers and labels
 * as nnf_csv_parse. (One line per sequence, T * I features and a label, is
 * plain nnf_csv_parse.) */
typedef struct {
  int id_col;     /* the sequence id's column (0-based; -1: the last) */
  int label_col;  /* the label's, or the first target's (0-based; -1: the last ones before
                     an id in the last column, else the last ones) */
  int ntargets;   /* 0: one integer label; >= 1: float targets */
  int steps;      /* in: T (0: the first sequence's length); out: T */
} nnf_csv_seq;
int nnf_csv_parse_steps(const char *buf, size_t len, nnf_csv_seq *o, nnf_dataset *out, char *err, size_t errlen);
int nnf_dataset_load_csv_steps(const char *path, nnf_csv_seq *o, nnf_dataset *out, char *err, size_t errlen);

void nnf_dataset_free(nnf_dataset *d);

/* A copy of samples [first, first + n) (n clipped to what is there). */
int nnf_dataset_slice(const nnf_dataset *d, size_t first, size_t n, nnf_dataset *out);

/* Seeded shuffling: perm[i] = i, then a Fisher-Yates shuffle driven by
 * splitmix64(seed) with unbiased bounded draws. Same seed, same order, on
 * every platform. */
void nnf_shuffle(uint32_t *perm, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif /* NNF_DATA_H */
