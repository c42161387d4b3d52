/*
 * nnf_util.c - the seeded generator, the clock and atomic writes (see
 * nnf_util.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "nnf_util.h"
#include "nnf_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t nnf_rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float nnf_rng_uniform(uint64_t *state) {
  return (float)(nnf_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

uint64_t nnf_rng_below(uint64_t *state, uint64_t bound) {
  uint64_t reject_below = (0 - bound) % bound;
  for (;;) {
    uint64_t r = nnf_rng_next(state);
    if (r >= reject_below) return r % bound;
  }
}

double nnf_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* fsync the directory holding path, so the rename is durable (best effort). */
static void sync_dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if ((size_t)(slash - path) < sizeof dir)
    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
  else return;
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

int nnf_write_atomic(const char *path, int (*write)(FILE *fp, void *ctx), void *ctx, char *err,
                     size_t errlen) {
  size_t tl = strlen(path) + 32;
  char *tmp = malloc(tl);
  if (!tmp) return nnf_fail(err, errlen, "%s: out of memory", path);
  snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
  FILE *fp = fopen(tmp, "wb");
  if (!fp) {
    nnf_fail(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  errno = 0;
  int rc = write(fp, ctx);
  if (!rc && (fflush(fp) || fsync(fileno(fp)))) rc = -1;
  int saved = errno ? errno : EIO;
  if (fclose(fp) && !rc) rc = -1, saved = errno;
  const char *what = "write";
  if (!rc && rename(tmp, path)) rc = -1, saved = errno, what = "rename";
  if (rc) {
    unlink(tmp);
    nnf_fail(err, errlen, "%s: %s failed: %s", path, what, strerror(saved));
  } else {
    sync_dir_of(path);
  }
  free(tmp);
  return rc;
}
