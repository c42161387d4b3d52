/*
 * nnfpga_util.c - option parsing, progress bar and data loading for the
 * nnfpga command (see nnfpga_cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nnf_model.h"
#include "nnf_plot.h"
#include "nnfdrv.h"
#include "nnfpga_cli.h"

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n)) return 0;
  if (a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if (a[n]) return 0;
  if (*i + 1 >= argc) return -1;
  *val = argv[++*i];
  return 1;
}

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "nnfpga %s: %s wants an integer in %ld..%ld, not '%s'\n", cmd, opt, lo, hi, s);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_real(const char *cmd, const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v)) {
    fprintf(stderr, "nnfpga %s: %s wants a number, not '%s'\n", cmd, opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

double cli_now(void) { return nnf_now(); }

void cli_progress_init(cli_progress *p, const char *what, int enabled) {
  p->enabled = enabled && isatty(2);
  p->t0 = p->last = cli_now();
  p->what = what;
}

static void hms(char *buf, size_t len, double s) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress_update(cli_progress *p, long done, long total) {
  if (!p->enabled || total <= 0) return;
  double t = cli_now();
  if (t - p->last < 0.1 && done < total) return;
  p->last = t;
  const int width = 30;
  int fill = (int)((double)done / (double)total * width);
  char bar[64], eta[32];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  double rate = done / (t - p->t0 > 1e-9 ? t - p->t0 : 1e-9);
  hms(eta, sizeof eta, rate > 0 ? (double)(total - done) / rate : 0);
  fprintf(stderr, "\r%s [%s] %3d%% %ld/%ld  %.1f/s  ETA %s ", p->what, bar,
          (int)(100.0 * done / total), done, total, rate, eta);
  fflush(stderr);
}

void cli_progress_end(cli_progress *p) {
  if (p->enabled) fprintf(stderr, "\r%*s\r", 79, "");
}

int cli_load_data(const char *cmd, const char *dir, const char *csv, int label_col, int train,
                  long limit, nnf_dataset *out) {
  char err[512];
  int rc = csv ? nnf_dataset_load_csv(csv, label_col, out, err, sizeof err)
               : nnf_dataset_load_mnist_dir(dir, train, out, err, sizeof err);
  if (rc) {
    fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
    return -1;
  }
  if (limit > 0 && (size_t)limit < out->count) {
    nnf_dataset sub;
    if (nnf_dataset_slice(out, 0, (size_t)limit, &sub)) {
      fprintf(stderr, "nnfpga %s: out of memory\n", cmd);
      nnf_dataset_free(out);
      return -1;
    }
    nnf_dataset_free(out);
    *out = sub;
  }
  return 0;
}

int cli_plot_history(const char *cmd, const char *path, const char *title, const nnf_epoch_stats *h, int n) {
  double *x = malloc(sizeof(double) * (size_t)(n ? n : 1) * 5);
  if (!x) return -1;
  double *loss = x + n, *tr = x + 2 * n, *va = x + 3 * n, *te = x + 4 * n;
  int have_val = 0, have_test = 0;
  for (int i = 0; i < n; i++) {
    x[i] = h[i].epoch;
    loss[i] = h[i].loss;
    tr[i] = 100 * h[i].train_acc;
    va[i] = h[i].val_acc >= 0 ? 100 * h[i].val_acc : NAN;
    te[i] = h[i].test_acc >= 0 ? 100 * h[i].test_acc : NAN;
    have_val |= h[i].val_acc >= 0;
    have_test |= h[i].test_acc >= 0;
  }
  nnf_plot_series s[4] = {{"training loss", loss, 0}, {"training accuracy", tr, 1}, {"validation accuracy", va, 1},
                          {"test accuracy", te, 1}};
  nnf_plot_series use[4];
  int ns = 0;
  use[ns++] = s[0];
  use[ns++] = s[1];
  if (have_val) use[ns++] = s[2];
  if (have_test) use[ns++] = s[3];
  nnf_plot_line_opts o;
  memset(&o, 0, sizeof o);
  o.title = title;
  o.xlabel = "epoch";
  o.ylabel[0] = "loss";
  o.ylabel[1] = "accuracy (%)";
  o.x_integer = 1;
  char err[512];
  int rc = nnf_plot_lines(path, &o, x, n, use, ns, err, sizeof err);
  if (rc) fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
  free(x);
  return rc;
}

int cli_open_device(const char *cmd, const char *uri, nnf_device **dev) {
  *dev = NULL;
  if (!strcmp(uri, "host")) return 0;
  char err[512];
  int rc = nnf_device_connect(uri, dev, err, sizeof err);
  if (rc == NNFDRV_OK) return 0;
  fprintf(stderr, "nnfpga %s: %s\n", cmd, err);
  return rc == NNFDRV_ERR_URI ? EXIT_USAGE : EXIT_DEVICE;
}

/* One printer for both value types: exactly one of ivals / fvals is set. */
static void print_predictions(long first, int B, int C, const int32_t *labels, const int *cls,
                              const int32_t *ivals, const float *fvals, const char *key,
                              const char *label, int json) {
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  for (int r = 0; r < B; r++) {
    size_t row = (size_t)r * C;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "index", (double)(first + r));
      cJSON_AddNumberToObject(o, "label", labels[r]);
      cJSON_AddNumberToObject(o, "class", cls[r]);
      cJSON *lg = cJSON_AddArrayToObject(o, key);
      for (int j = 0; j < C; j++)
        cJSON_AddItemToArray(lg, cJSON_CreateNumber(ivals ? (double)ivals[row + j] : (double)fvals[row + j]));
      cJSON_AddItemToArray(arr, o);
    } else {
      printf("%ld: class %d (label %d) %s", first + r, cls[r], labels[r], label);
      for (int j = 0; j < C; j++) {
        if (ivals)
          printf(" %d", ivals[row + j]);
        else
          printf(" %.9g", (double)fvals[row + j]);
      }
      printf("\n");
    }
  }
  if (json) {
    char *txt = cJSON_Print(arr);
    puts(txt);
    free(txt);
    cJSON_Delete(arr);
  }
}

void cli_print_predictions(long first, int B, int C, const int32_t *labels, const int *cls,
                           const int32_t *vals, const char *key, const char *label, int json) {
  print_predictions(first, B, C, labels, cls, vals, NULL, key, label, json);
}

void cli_print_predictions_f(long first, int B, int C, const int32_t *labels, const int *cls,
                             const float *vals, const char *key, const char *label, int json) {
  print_predictions(first, B, C, labels, cls, NULL, vals, key, label, json);
}
