/*
 * nnf_test.h - the tiny test helper shared by the unit and RTL tests.
 *
 *   CHECK(cond)                 fails unless cond
 *   CHECK_EQ(a, b)              integers (any width, compared as int64 /
 *                               printed both ways), e.g. codes, int32 values
 *   CHECK_EQ_U64(a, b)          unsigned 64-bit (counters)
 *   CHECK_MEM_EQ(a, b, n)       n bytes; reports the first differing offset
 *   CHECK_OK(expr)              expr == 0 (a status code)
 *
 * A failing check prints file:line, the expression and the values, plus the
 * context set with nnf_test_ctx() (e.g. the seed of a random case), and
 * exits with status 1. Passing checks are counted; nnf_test_done() prints the
 * count and returns 0 for main.
 *
 * nnf_rng: a seeded splitmix64 generator, so random cases are reproducible on
 * every platform (no rand()).
 */
#ifndef NNF_TEST_H
#define NNF_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long nnf_test_checks_;
static char nnf_test_ctx_[256];

/* printf-style context shown with a failure (cleared with an empty string). */
static inline void nnf_test_ctx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nnf_test_ctx_, sizeof nnf_test_ctx_, fmt, ap);
  va_end(ap);
}

static inline void nnf_test_fail_(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: FAIL: %s\n", file, line, what);
  if (nnf_test_ctx_[0]) fprintf(stderr, "  context: %s\n", nnf_test_ctx_);
  exit(1);
}

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) nnf_test_fail_(__FILE__, __LINE__, "CHECK(" #cond ")"); \
    nnf_test_checks_++;                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                              \
  do {                                                                              \
    long long nnf_a_ = (long long)(a), nnf_b_ = (long long)(b);                     \
    if (nnf_a_ != nnf_b_) {                                                         \
      char nnf_m_[512];                                                             \
      snprintf(nnf_m_, sizeof nnf_m_, "CHECK_EQ(%s, %s): %lld (0x%llx) != %lld (0x%llx)", \
               #a, #b, nnf_a_, (unsigned long long)nnf_a_, nnf_b_,                  \
               (unsigned long long)nnf_b_);                                         \
      nnf_test_fail_(__FILE__, __LINE__, nnf_m_);                                   \
    }                                                                               \
    nnf_test_checks_++;                                                             \
  } while (0)

#define CHECK_EQ_U64(a, b)                                                      \
  do {                                                                          \
    uint64_t nnf_a_ = (uint64_t)(a), nnf_b_ = (uint64_t)(b);                    \
    if (nnf_a_ != nnf_b_) {                                                     \
      char nnf_m_[512];                                                         \
      snprintf(nnf_m_, sizeof nnf_m_, "CHECK_EQ_U64(%s, %s): %" PRIu64 " != %" PRIu64, #a, \
               #b, nnf_a_, nnf_b_);                                             \
      nnf_test_fail_(__FILE__, __LINE__, nnf_m_);                               \
    }                                                                           \
    nnf_test_checks_++;                                                         \
  } while (0)

#define CHECK_OK(expr) CHECK_EQ((expr), 0)

#define CHECK_MEM_EQ(a, b, n)                                                           \
  do {                                                                                  \
    const unsigned char *nnf_p_ = (const unsigned char *)(a);                           \
    const unsigned char *nnf_q_ = (const unsigned char *)(b);                           \
    size_t nnf_n_ = (size_t)(n);                                                        \
    for (size_t nnf_i_ = 0; nnf_i_ < nnf_n_; nnf_i_++)                                  \
      if (nnf_p_[nnf_i_] != nnf_q_[nnf_i_]) {                                           \
        char nnf_m_[512];                                                               \
        snprintf(nnf_m_, sizeof nnf_m_,                                                 \
                 "CHECK_MEM_EQ(%s, %s, %s): byte %zu differs: 0x%02x != 0x%02x", #a, #b, \
                 #n, nnf_i_, nnf_p_[nnf_i_], nnf_q_[nnf_i_]);                           \
        nnf_test_fail_(__FILE__, __LINE__, nnf_m_);                                     \
      }                                                                                 \
    nnf_test_checks_++;                                                                 \
  } while (0)

/* Print the number of passed checks; use as `return nnf_test_done(argv[0]);`. */
static inline int nnf_test_done(const char *name) {
  printf("%s: %lu checks passed\n", name, nnf_test_checks_);
  return 0;
}

/* A whole file as a NUL-terminated string (malloc'ed; NULL if unreadable). */
static inline char *nnf_test_read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
      free(buf);
      buf = NULL;
    } else {
      buf[len] = '\0';
    }
  }
  fclose(f);
  return buf;
}

/* ---- seeded random numbers (splitmix64) ----------------------------------- */

typedef struct {
  uint64_t s;
} nnf_rng;

static inline nnf_rng nnf_rng_seed(uint64_t seed) {
  nnf_rng r = {seed};
  return r;
}

static inline uint64_t nnf_rng_u64(nnf_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline uint32_t nnf_rng_u32(nnf_rng *r) { return (uint32_t)(nnf_rng_u64(r) >> 32); }

/* Uniform integer in [lo, hi] (inclusive; hi - lo < 2^32). */
static inline int64_t nnf_rng_range(nnf_rng *r, int64_t lo, int64_t hi) {
  uint64_t span = (uint64_t)(hi - lo) + 1;
  return lo + (int64_t)(nnf_rng_u64(r) % span);
}

static inline int8_t nnf_rng_i8(nnf_rng *r) { return (int8_t)nnf_rng_range(r, -128, 127); }
/* Uniform in [0, 1): the top 53 bits. */
static inline double nnf_rng_unit(nnf_rng *r) { return (double)(nnf_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

static inline void nnf_rng_fill(nnf_rng *r, void *buf, size_t n) {
  unsigned char *p = (unsigned char *)buf;
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(nnf_rng_u64(r) >> 56);
}

#endif /* NNF_TEST_H */
