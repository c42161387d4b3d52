/*
 * nnfpga_sweep.c - `nnfpga sweep`: every configuration of a list or a grid
 * built, run and synthesised, with the results as CSV, JSON and a Pareto
 * plot per model (docs/codesign.md, "Sweeps").
 *
 * The sweep lives in one folder, DIR:
 *   plan.json          what the sweep is: the request (files with their ids
 *                      and checksums, data, limit, batch, seed), the
 *                      configurations, the models and the jobs; written once
 *   configs/NAME.json  each configuration, copied or derived (nnfconfig.py
 *                      derive) when the plan is made: the jobs read these
 *   results/JOB.json   one job's result, written atomically; {"error": ...}
 *                      when it failed (the failure is the result)
 *   locks/JOB.lock     flock()ed while a worker runs the job (its id inside)
 *   logs/JOB.log       the commands a job ran and what they printed
 *   synth/CONFIG/      synth.py's report and work files
 *   sweep.csv, sweep.json, pareto-MODEL.svg   written by --collect (and at the
 *                      end of every run of the sweep)
 *
 * Jobs: per configuration a synth job (scripts/synth.py --config, when it has
 * a board), per configuration and model an eval job (`nnfpga eval --json` as
 * a child process of this executable, on the prebuilt simulator whose INFO
 * reports the configuration's id, or on the module `nnfconfig.py build-sim`
 * builds: sim:module=PATH). Each job is the plain command `nnfpga sweep
 * --dir DIR --run-job K`, so any scheduler can run them; running the sweep
 * here starts those commands itself, --jobs at a time. A job takes its lock
 * without waiting: a job another worker holds is skipped, a finished one
 * (its result exists) is not run again, an interrupted one (no result) is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nnf_ckpt.h"
#include "nnf_config.h"
#include "nnf_plot.h"
#include "nnf_proto.h"
#include "nnf_tune.h"
#include "nnfdrv.h"
#include "nnfpga_cli.h"

#ifndef NNF_SOURCE_DIR
#define NNF_SOURCE_DIR ""
#endif

#define PATH_LEN 4096
#define MAX_CONFIGS 512
#define MAX_MODELS 32
#define MAX_WORKERS 64
#define MAX_GRID_DIMS 8
#define MAX_GRID_VALS 32

enum { JOB_SYNTH, JOB_EVAL };
static const char *const JOB_KIND[] = {"synth", "eval"};

typedef struct {
  char name[64];
  char file[PATH_LEN];      /* DIR/configs/NAME.json */
  unsigned id;
  long rows, cols;
  double clock_hz;
  char target[64];          /* board.target ("" without a board: nothing to synthesise) */
} sw_config;

typedef struct {
  char name[128];
  char path[PATH_LEN];
  unsigned crc;
  double bytes;
} sw_model;

typedef struct {
  int kind, config, model;  /* model -1 for synth */
  char name[256];
} sw_job;

typedef struct {
  /* options */
  const char *dir_arg, *configs_s, *base_s, *grid_s, *models_s, *data_s;
  long limit, batch, seed, jobs, run_job;
  int limit_set, batch_set, seed_set, no_synth, synth_only, print_jobs, collect, json, quiet, retry_failed;
  /* paths */
  char dir[PATH_LEN], src[PATH_LEN], self[PATH_LEN];
  /* the plan */
  sw_config cfg[MAX_CONFIGS];
  int ncfg;
  sw_model model[MAX_MODELS];
  int nmodel;
  sw_job *job;
  int njob;
  char data[PATH_LEN];      /* "" : eval's default */
  long p_limit, p_batch, p_seed;
  nnf_tune_store store;
} sweep;

/* A message "nnfpga sweep: ..." on stderr; returns code. */
static int say_err(int code, const char *fmt, va_list ap) {
  fprintf(stderr, "nnfpga sweep: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  return code;
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = say_err(EXIT_USAGE, fmt, ap);
  va_end(ap);
  return rc;
}

static int input_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int input_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = say_err(EXIT_INPUT, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- small helpers ------------------------------------------------------------ */

/* The whole of a stream from its start (NULL when out of memory; free() it). */
static char *slurp_stream(FILE *f) {
  size_t n = 0, cap = 4096, r;
  char *p = malloc(cap);
  if (!p) return NULL;
  rewind(f);
  while ((r = fread(p + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) {
      char *q = realloc(p, cap * 2);
      if (!q) {
        free(p);
        return NULL;
      }
      p = q;
      cap *= 2;
    }
  }
  p[n] = 0;
  return p;
}

static char *slurp_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *p = slurp_stream(f);
  fclose(f);
  return p;
}

static cJSON *read_json(const char *path) {
  char *t = slurp_file(path);
  cJSON *j = t ? cJSON_Parse(t) : NULL;
  free(t);
  return j;
}

/* The last non-empty line of text, without a trailing newline, at most len - 1
 * bytes (its end kept). */
static void last_line(const char *text, char *out, size_t len) {
  out[0] = 0;
  if (!text) return;
  const char *end = text + strlen(text);
  while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) end--;
  const char *start = end;
  while (start > text && start[-1] != '\n') start--;
  size_t n = (size_t)(end - start);
  if (n >= len) {
    start = end - (len - 1);
    n = len - 1;
  }
  memcpy(out, start, n);
  out[n] = 0;
}

/* Text joined onto one line ("; " between lines), at most len - 1 bytes. */
static void one_line(const char *text, char *out, size_t len) {
  size_t o = 0;
  int gap = 0;
  for (const char *p = text ? text : ""; *p && o + 3 < len; p++) {
    if (*p == '\n' || *p == '\r') {
      gap = o > 0;
      continue;
    }
    if (gap) {
      out[o++] = ';';
      out[o++] = ' ';
      gap = 0;
      if (o + 1 >= len) break;
    }
    out[o++] = *p;
  }
  out[o] = 0;
}

/* Shortest text that reads back as the same double. */
static void fmt_num(double v, char *buf, size_t len) {
  snprintf(buf, len, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void add_num_or_null(cJSON *o, const char *k, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
  else cJSON_AddNullToObject(o, k);
}

static int mkdir_p1(const char *path) { return mkdir(path, 0777) && errno != EEXIST ? -1 : 0; }

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

static void host_id(char *buf, size_t len) {
  char host[128] = "host";
  if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "host");
  host[sizeof host - 1] = 0;
  snprintf(buf, len, "%s.%ld", host, (long)getpid());
}

static void now_iso(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* CRC-32 and size of a file: 0, or -1 when it cannot be read. */
static int file_crc(const char *path, unsigned *crc, double *bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t buf[65536];
  size_t r;
  uint32_t c = 0;
  double n = 0;
  while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
    c = nnfp_crc32(c, buf, r);
    n += (double)r;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) return -1;
  *crc = c;
  *bytes = n;
  return 0;
}

/* A word for a shell: as it is when it is plain, else in single quotes. */
static void shell_word(FILE *f, const char *s) {
  int plain = *s != 0;
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *p)) plain = 0;
  if (plain) {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (const char *p = s; *p; p++) {
    if (*p == '\'') fputs("'\\''", f);
    else fputc(*p, f);
  }
  fputc('\'', f);
}

/* ---- child processes ------------------------------------------------------------ */

/* Run argv (argv[0] looked up on PATH) with stdout to out_fd and stderr to
 * err_fd (-1: this process's). Returns its exit status, 128 + the signal
 * that killed it, or 127 when it could not start (said on err_fd). */
static int spawn_wait(char *const *argv, int out_fd, int err_fd) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    dprintf(err_fd >= 0 ? err_fd : 2, "cannot start %s: %s\n", argv[0], strerror(errno));
    return 127;
  }
  if (pid == 0) {
    if (out_fd >= 0 && out_fd != 1) dup2(out_fd, 1);
    if (err_fd >= 0 && err_fd != 2) dup2(err_fd, 2);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The command as a line of the job's log. */
static void log_command(FILE *log, char *const *argv) {
  if (!log) return;
  fprintf(log, "$");
  for (int i = 0; argv[i]; i++) {
    fputc(' ', log);
    shell_word(log, argv[i]);
  }
  fputc('\n', log);
  fflush(log);
}

/* Run argv; its stdout comes back in *out and its stderr in *errtext (both
 * malloc()ed, may be NULL), and both go to the log too. Returns as spawn_wait. */
static int run_captured(char *const *argv, FILE *log, char **out, char **errtext) {
  FILE *o = tmpfile(), *e = tmpfile();
  *out = *errtext = NULL;
  if (!o || !e) {
    if (o) fclose(o);
    if (e) fclose(e);
    *errtext = strdup("cannot create a temporary file");
    return 127;
  }
  log_command(log, argv);
  int rc = spawn_wait(argv, fileno(o), fileno(e));
  *out = slurp_stream(o);
  *errtext = slurp_stream(e);
  if (log) {
    if (*out && **out) fprintf(log, "%s%s", *out, (*out)[strlen(*out) - 1] == '\n' ? "" : "\n");
    if (*errtext && **errtext) fprintf(log, "%s%s", *errtext, (*errtext)[strlen(*errtext) - 1] == '\n' ? "" : "\n");
    fprintf(log, "(exit %d)\n", rc);
    fflush(log);
  }
  fclose(o);
  fclose(e);
  return rc;
}

/* Why a child failed, in words: its last line of stderr, or its status. */
static void child_failure(const char *what, int rc, const char *errtext, char *buf, size_t len) {
  char line[600];
  last_line(errtext, line, sizeof line);
  if (rc > 128) snprintf(buf, len, "%s was killed by signal %d%s%s", what, rc - 128, line[0] ? ": " : "", line);
  else if (line[0]) snprintf(buf, len, "%s", line);
  else snprintf(buf, len, "%s exited %d", what, rc);
}

/* ---- configurations ------------------------------------------------------------ */

static void python_script(const sweep *s, const char *script, char *buf, size_t len) {
  snprintf(buf, len, "%s/scripts/%s", s->src, script);
}

/* `nnfconfig.py check FILE`: 0, or EXIT_USAGE after printing its reason. */
static int check_config(const sweep *s, const char *opt, const char *path) {
  char script[PATH_LEN + 32];
  python_script(s, "nnfconfig.py", script, sizeof script);
  char *argv[] = {"python3", script, "check", (char *)path, NULL};
  char *out, *errtext;
  int rc = run_captured(argv, NULL, &out, &errtext);
  if (rc) {
    char line[1024];
    child_failure("nnfconfig.py check", rc, errtext, line, sizeof line);
    const char *msg = strncmp(line, "nnfconfig: ", 11) ? line : line + 11;
    usage_err("%s: %s", opt, msg);
  }
  free(out);
  free(errtext);
  return rc ? EXIT_USAGE : 0;
}

/* The fields of a configuration file the sweep uses: 0, or -1 (why in err). */
static int read_config(const char *path, sw_config *c, char *err, size_t errlen) {
  char *text = slurp_file(path);
  if (!text) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  memset(c, 0, sizeof *c);
  c->id = nnf_config_id_of_json(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  const cJSON *core = cJSON_GetObjectItemCaseSensitive(j, "core"), *board = cJSON_GetObjectItemCaseSensitive(j, "board");
  const char *name = jstr(j, "name");
  if (!j || !c->id || !name || !cJSON_IsObject(core)) {
    cJSON_Delete(j);
    snprintf(err, errlen, "%s: not a configuration file", path);
    return -1;
  }
  snprintf(c->name, sizeof c->name, "%s", name);
  snprintf(c->file, sizeof c->file, "%s", path);
  c->rows = (long)jnum(core, "ROWS");
  c->cols = (long)jnum(core, "COLS");
  c->clock_hz = jnum(core, "CLOCK_HZ");
  const char *target = jstr(board, "target");
  if (target) snprintf(c->target, sizeof c->target, "%s", target);
  cJSON_Delete(j);
  return 0;
}

/* ---- the request: what the command line asks for --------------------------------- */

typedef struct {
  char name[64];
  long v[MAX_GRID_VALS];
  int n;
} grid_dim;

typedef struct {
  char configs[MAX_CONFIGS][PATH_LEN];   /* --configs, real paths */
  int nconfigs;
  char base[PATH_LEN];                   /* --base, real path ("" : none) */
  grid_dim dim[MAX_GRID_DIMS];
  int ndims;
  char grid[2048];                       /* --grid, normalised */
} request;

/* Split s at commas into its pieces (empty pieces refused): their count, or -1. */
static int split_list(const char *s, char out[][PATH_LEN], int max, const char *opt) {
  int n = 0;
  const char *p = s;
  for (;;) {
    size_t len = strcspn(p, ",");
    if (!len) return usage_err("%s %s: an empty entry", opt, s), -1;
    if (n == max) return usage_err("%s: more than %d entries", opt, max), -1;
    if (len >= PATH_LEN) return usage_err("%s: a path too long", opt), -1;
    memcpy(out[n], p, len);
    out[n++][len] = 0;
    if (!p[len]) return n;
    p += len + 1;
  }
}

/* Does the base configuration have a parameter called name (core, link.baud,
 * board.params, as nnfconfig.py derive takes them)? */
static int base_has(const cJSON *base, const char *name) {
  if (!strcmp(name, "link.baud"))
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(base, "link"), "baud") != NULL;
  if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(base, "core"), name)) return 1;
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(base, "board");
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "params"), name) != NULL;
}

/* --grid NAME=v,v[:NAME=v,...] against the base's parameters. */
static int parse_grid(request *rq, const char *spec, const cJSON *base, const char *base_path) {
  const char *p = spec;
  rq->ndims = 0;
  rq->grid[0] = 0;
  long points = 1;
  for (;;) {
    size_t len = strcspn(p, ":");
    char part[1024];
    if (!len || len >= sizeof part) return usage_err("--grid %s: want NAME=V1,V2[:NAME=V1,...]", spec);
    memcpy(part, p, len);
    part[len] = 0;
    char *eq = strchr(part, '=');
    if (!eq || eq == part || !eq[1]) return usage_err("--grid: '%s' is not NAME=V1,V2,...", part);
    *eq = 0;
    if (rq->ndims == MAX_GRID_DIMS) return usage_err("--grid: at most %d parameters", MAX_GRID_DIMS);
    grid_dim *d = &rq->dim[rq->ndims];
    if (strlen(part) >= sizeof d->name) return usage_err("--grid: parameter name '%s' too long", part);
    for (int k = 0; k < rq->ndims; k++)
      if (!strcmp(rq->dim[k].name, part)) return usage_err("--grid: %s given twice", part);
    if (!base_has(base, part)) {
      char known[2048] = "";
      const cJSON *it;
      cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(base, "core")) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "", it->string);
      }
      return usage_err("--grid: %s is not a parameter of %s (its core has %s; also link.baud and the board's "
                       "params)", part, base_path, known);
    }
    snprintf(d->name, sizeof d->name, "%s", part);
    d->n = 0;
    for (char *v = eq + 1; *v;) {
      char *end;
      errno = 0;
      long x = strtol(v, &end, 10);
      if (end == v || errno || x < 0 || x > 0xffffffffL || (*end && *end != ','))
        return usage_err("--grid %s: values are integers 0..4294967295, not '%.*s'", d->name, (int)strcspn(v, ","), v);
      for (int k = 0; k < d->n; k++)
        if (d->v[k] == x) return usage_err("--grid %s: %ld given twice", d->name, x);
      if (d->n == MAX_GRID_VALS) return usage_err("--grid %s: at most %d values", d->name, MAX_GRID_VALS);
      d->v[d->n++] = x;
      v = *end ? end + 1 : end;
      if (*end == ',' && !*v) return usage_err("--grid %s: an empty value", d->name);
    }
    points *= d->n;
    if (points > MAX_CONFIGS) return usage_err("--grid: more than %d configurations", MAX_CONFIGS);
    size_t l = strlen(rq->grid);
    l += (size_t)snprintf(rq->grid + l, sizeof rq->grid - l, "%s%s=", rq->ndims ? ":" : "", d->name);
    for (int k = 0; k < d->n && l < sizeof rq->grid; k++)
      l += (size_t)snprintf(rq->grid + l, sizeof rq->grid - l, "%s%ld", k ? "," : "", d->v[k]);
    rq->ndims++;
    if (!p[len]) return 0;
    p += len + 1;
  }
}

static cJSON *file_entry(const char *path, const char *key, const char *val) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "file", path);
  cJSON_AddStringToObject(o, key, val);
  return o;
}

/* Check every input the command line names and describe the sweep it asks
 * for (the plan's "request": files with their ids and checksums, so an edited
 * file is another sweep). 0, or the exit code after printing why. */
static int build_request(sweep *s, request *rq, cJSON **out) {
  char err[PATH_LEN + 256], hex[32];
  *out = NULL;
  cJSON *req = cJSON_CreateObject(), *cf = cJSON_AddArrayToObject(req, "configs");
  int rc = 0;
  char (*items)[PATH_LEN] = calloc(MAX_CONFIGS, PATH_LEN);
  if (!items) return usage_err("out of memory");
  rq->nconfigs = 0;
  if (s->configs_s) {
    int n = split_list(s->configs_s, items, MAX_CONFIGS, "--configs");
    if (n < 0) rc = EXIT_USAGE;
    for (int i = 0; !rc && i < n; i++) {
      if (!realpath(items[i], rq->configs[i])) {
        rc = usage_err("--configs: %s: %s", items[i], strerror(errno));
        break;
      }
      if ((rc = check_config(s, "--configs", rq->configs[i]))) break;
      unsigned id = nnf_config_id_of_file(rq->configs[i], NULL, 0);
      snprintf(hex, sizeof hex, "0x%04x", id);
      cJSON_AddItemToArray(cf, file_entry(rq->configs[i], "id", hex));
      rq->nconfigs++;
    }
  }
  rq->base[0] = 0;
  rq->ndims = 0;
  if (!rc && (s->base_s != NULL) != (s->grid_s != NULL)) rc = usage_err("--base and --grid go together");
  if (!rc && s->base_s) {
    if (!realpath(s->base_s, rq->base)) rc = usage_err("--base: %s: %s", s->base_s, strerror(errno));
    if (!rc) rc = check_config(s, "--base", rq->base);
    cJSON *base = NULL;
    if (!rc && !(base = read_json(rq->base))) rc = usage_err("--base: %s: cannot read it", rq->base);
    if (!rc) rc = parse_grid(rq, s->grid_s, base, s->base_s);
    cJSON_Delete(base);
    if (!rc) {
      snprintf(hex, sizeof hex, "0x%04x", nnf_config_id_of_file(rq->base, NULL, 0));
      cJSON_AddItemToObject(req, "base", file_entry(rq->base, "id", hex));
      cJSON_AddStringToObject(req, "grid", rq->grid);
    }
  } else if (!rc) {
    cJSON_AddNullToObject(req, "base");
    cJSON_AddNullToObject(req, "grid");
  }
  if (!rc && !rq->nconfigs && !rq->base[0])
    rc = usage_err("no configurations: give --configs A.json,B.json or --base F.json --grid ...");
  cJSON *md = cJSON_AddArrayToObject(req, "models");
  s->nmodel = 0;
  if (!rc && s->models_s) {
    int n = split_list(s->models_s, items, MAX_MODELS, "--model");
    if (n < 0) rc = EXIT_USAGE;
    for (int i = 0; !rc && i < n; i++) {
      sw_model *m = &s->model[i];
      if (!realpath(items[i], m->path)) {
        rc = usage_err("--model: %s: %s", items[i], strerror(errno));
        break;
      }
      nnf_net *net = nnf_ckpt_load(m->path, err, sizeof err);
      if (!net) {
        rc = input_err("--model %s: %s", items[i], err);
        break;
      }
      nnf_net_free(net);
      if (file_crc(m->path, &m->crc, &m->bytes)) {
        rc = input_err("--model %s: %s", items[i], strerror(errno));
        break;
      }
      /* the name: the file's name without its extension, in job-name characters */
      const char *b = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
      snprintf(m->name, sizeof m->name, "%s", b);
      char *dot = strrchr(m->name, '.');
      if (dot && dot != m->name) *dot = 0;
      for (char *c = m->name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c)) *c = '_';
      for (int k = 0; k < i; k++)
        if (!strcmp(s->model[k].name, m->name))
          rc = usage_err("--model: %s and %s are both named %s (a model is named by its file)", s->model[k].path,
                         m->path, m->name);
      snprintf(hex, sizeof hex, "0x%08x", m->crc);
      cJSON_AddItemToArray(md, file_entry(m->path, "crc32", hex));
      s->nmodel++;
    }
  }
  if (!rc && !s->nmodel && !s->synth_only) rc = usage_err("--model CHECKPOINT is required (or --synth-only)");
  s->data[0] = 0;
  if (!rc && s->data_s) {
    struct stat st;
    if (!realpath(s->data_s, s->data) || stat(s->data, &st) || !S_ISDIR(st.st_mode))
      rc = usage_err("--data %s: not a folder (IDX files in MNIST layout)", s->data_s);
  }
  if (s->data[0]) cJSON_AddStringToObject(req, "data", s->data);
  else cJSON_AddNullToObject(req, "data");
  cJSON_AddNumberToObject(req, "limit", (double)s->limit);
  cJSON_AddNumberToObject(req, "batch", (double)s->batch);
  cJSON_AddNumberToObject(req, "seed", (double)s->seed);
  free(items);
  if (rc) {
    cJSON_Delete(req);
    return rc;
  }
  *out = req;
  return 0;
}

/* The first difference between two JSON values, as "PATH was A, now B". */
static int json_diff(const cJSON *a, const cJSON *b, const char *path, char *out, size_t len) {
  char sub[512];
  if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
    const cJSON *c;
    cJSON_ArrayForEach(c, b) {
      snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", c->string);
      const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, c->string);
      if (!o) {
        snprintf(out, len, "%s was not set", sub);
        return 1;
      }
      if (json_diff(o, c, sub, out, len)) return 1;
    }
    cJSON_ArrayForEach(c, a) {
      if (!cJSON_GetObjectItemCaseSensitive(b, c->string)) {
        snprintf(out, len, "%s%s%s was set, now not", path, *path ? "." : "", c->string);
        return 1;
      }
    }
    return 0;
  }
  if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
    int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
    for (int i = 0; i < na && i < nb; i++) {
      snprintf(sub, sizeof sub, "%s[%d]", path, i);
      if (json_diff(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), sub, out, len)) return 1;
    }
    if (na != nb) {
      snprintf(out, len, "%s had %d entries, now %d", path, na, nb);
      return 1;
    }
    return 0;
  }
  if (cJSON_Compare(a, b, 1)) return 0;
  char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
  snprintf(out, len, "%s was %s, now %s", path, x ? x : "?", y ? y : "?");
  free(x);
  free(y);
  return 1;
}

/* ---- the plan -------------------------------------------------------------------- */

static void dir_path(const sweep *s, char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void dir_path(const sweep *s, char *buf, size_t len, const char *fmt, ...) {
  int n = snprintf(buf, len, "%s/", s->dir);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < len) vsnprintf(buf + n, len - (size_t)n, fmt, ap);
  va_end(ap);
}

static int store_put(const sweep *s, const char *name, const char *text) {
  char err[PATH_LEN + 256];
  if (!nnf_tune_store_write(&s->store, name, text, err, sizeof err)) return 0;
  fprintf(stderr, "nnfpga sweep: %s\n", err);
  return -1;
}

static int add_config(sweep *s, const sw_config *c, const char *from) {
  for (int k = 0; k < s->ncfg; k++)
    if (!strcmp(s->cfg[k].name, c->name))
      return usage_err("two configurations are named %s (%s, and %s): a configuration's name labels its rows",
                       c->name, s->cfg[k].file, from);
  if (s->ncfg == MAX_CONFIGS) return usage_err("more than %d configurations", MAX_CONFIGS);
  s->cfg[s->ncfg++] = *c;
  return 0;
}

static void remove_tree_flat(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[PATH_LEN + 300];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

/* Derive the grid's configurations from the base into tmp (nnfconfig.py
 * derive; COLS follows ROWS unless the grid sets it) and add them. */
static int derive_grid(sweep *s, const request *rq, const char *tmp, char (*from)[512]) {
  sw_config base;
  char err[PATH_LEN + 256], script[PATH_LEN + 32];
  if (read_config(rq->base, &base, err, sizeof err)) return usage_err("--base: %s", err);
  python_script(s, "nnfconfig.py", script, sizeof script);
  long points = 1;
  for (int d = 0; d < rq->ndims; d++) points *= rq->dim[d].n;
  for (long k = 0; k < points; k++) {
    char sets[MAX_GRID_DIMS][96], name[256], out[PATH_LEN + 300], what[512];
    char *argv[10 + 2 * MAX_GRID_DIMS];
    int a = 0;
    long rest = k, stride = points;
    snprintf(name, sizeof name, "%s", base.name);
    snprintf(what, sizeof what, "%s with", base.name);
    argv[a++] = "python3", argv[a++] = script, argv[a++] = "derive", argv[a++] = (char *)rq->base;
    for (int d = 0; d < rq->ndims; d++) {   /* the first parameter varies slowest */
      stride /= rq->dim[d].n;
      long v = rq->dim[d].v[rest / stride];
      rest %= stride;
      snprintf(sets[d], sizeof sets[d], "%s=%ld", rq->dim[d].name, v);
      argv[a++] = "--set", argv[a++] = sets[d];
      size_t l = strlen(name);
      snprintf(name + l, sizeof name - l, "-");
      for (const char *c = rq->dim[d].name; *c && strlen(name) + 1 < sizeof name; c++) {
        l = strlen(name);
        name[l] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        name[l + 1] = 0;
      }
      l = strlen(name);
      snprintf(name + l, sizeof name - l, "%ld", v);
      l = strlen(what);
      snprintf(what + l, sizeof what - l, "%s %s", d ? "," : "", sets[d]);
    }
    snprintf(out, sizeof out, "%s/%s.json", tmp, name);
    argv[a++] = "--name", argv[a++] = name, argv[a++] = "--out", argv[a++] = out;
    argv[a] = NULL;
    char *o, *e;
    int rc = run_captured(argv, NULL, &o, &e);
    if (rc) {
      char line[1024];
      child_failure("nnfconfig.py derive", rc, e, line, sizeof line);
      free(o);
      free(e);
      return usage_err("--grid: %s: %s", what, strncmp(line, "nnfconfig: ", 11) ? line : line + 11);
    }
    free(o);
    free(e);
    sw_config c;
    if (read_config(out, &c, err, sizeof err)) return usage_err("--grid: %s", err);
    if ((rc = add_config(s, &c, what))) return rc;
    snprintf(from[s->ncfg - 1], sizeof from[0], "%s", what);
  }
  return 0;
}

/* A new plan: configurations copied or derived into DIR/configs, the jobs,
 * plan.json. With the store lock held. */
static int create_plan(sweep *s, const request *rq, cJSON *req) {
  char err[PATH_LEN + 256], path[PATH_LEN + 300], tmp[PATH_LEN + 64];
  int rc = 0;
  char (*from)[512] = calloc(MAX_CONFIGS, 512);
  if (!from) return usage_err("out of memory");
  s->ncfg = 0;
  for (int i = 0; !rc && i < rq->nconfigs; i++) {
    sw_config c;
    if (read_config(rq->configs[i], &c, err, sizeof err)) rc = usage_err("--configs: %s", err);
    else if (!(rc = add_config(s, &c, rq->configs[i]))) snprintf(from[s->ncfg - 1], 512, "%s", rq->configs[i]);
  }
  dir_path(s, tmp, sizeof tmp, ".derive.%ld", (long)getpid());
  if (!rc && rq->base[0]) {
    if (mkdir_p1(tmp)) rc = input_err("cannot create %s: %s", tmp, strerror(errno));
    if (!rc) rc = derive_grid(s, rq, tmp, from);
  }
  dir_path(s, path, sizeof path, "configs");
  if (!rc && mkdir_p1(path)) rc = input_err("cannot create %s: %s", path, strerror(errno));
  /* the sweep's own copy of every configuration: the jobs read these */
  for (int i = 0; !rc && i < s->ncfg; i++) {
    char rel[128], *text = slurp_file(s->cfg[i].file);
    snprintf(rel, sizeof rel, "configs/%s.json", s->cfg[i].name);
    if (!text) rc = input_err("%s: %s", s->cfg[i].file, strerror(errno));
    else if (store_put(s, rel, text)) rc = EXIT_INPUT;
    free(text);
  }
  remove_tree_flat(tmp);
  if (rc) {
    free(from);
    return rc;
  }
  cJSON *plan = cJSON_CreateObject();
  char when[64], hex[32];
  now_iso(when, sizeof when);
  cJSON_AddStringToObject(plan, "format", "nnfpga-sweep");
  cJSON_AddNumberToObject(plan, "version", 1);
  cJSON_AddStringToObject(plan, "created", when);
  cJSON_AddItemToObject(plan, "request", cJSON_Duplicate(req, 1));
  cJSON *cf = cJSON_AddArrayToObject(plan, "configs"), *md = cJSON_AddArrayToObject(plan, "models"),
        *jb = cJSON_AddArrayToObject(plan, "jobs");
  for (int i = 0; i < s->ncfg; i++) {
    const sw_config *c = &s->cfg[i];
    cJSON *o = cJSON_CreateObject();
    char rel[128];
    snprintf(rel, sizeof rel, "configs/%s.json", c->name);
    snprintf(hex, sizeof hex, "0x%04x", c->id);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "file", rel);
    cJSON_AddStringToObject(o, "from", from[i]);
    cJSON_AddStringToObject(o, "id", hex);
    cJSON_AddItemToArray(cf, o);
  }
  for (int i = 0; i < s->nmodel; i++) {
    cJSON *o = cJSON_CreateObject();
    snprintf(hex, sizeof hex, "0x%08x", s->model[i].crc);
    cJSON_AddStringToObject(o, "name", s->model[i].name);
    cJSON_AddStringToObject(o, "file", s->model[i].path);
    cJSON_AddStringToObject(o, "crc32", hex);
    cJSON_AddNumberToObject(o, "bytes", s->model[i].bytes);
    cJSON_AddItemToArray(md, o);
  }
  /* synthesis first: the longest jobs start first when --jobs runs them */
  for (int i = 0; i < s->ncfg; i++) {
    if (!s->cfg[i].target[0]) continue;
    cJSON *o = cJSON_CreateObject();
    char name[128];
    snprintf(name, sizeof name, "synth-%s", s->cfg[i].name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kind", "synth");
    cJSON_AddStringToObject(o, "config", s->cfg[i].name);
    cJSON_AddItemToArray(jb, o);
  }
  for (int i = 0; i < s->ncfg; i++)
    for (int m = 0; m < s->nmodel; m++) {
      cJSON *o = cJSON_CreateObject();
      char name[256];
      snprintf(name, sizeof name, "eval-%s@%s", s->model[m].name, s->cfg[i].name);
      cJSON_AddStringToObject(o, "name", name);
      cJSON_AddStringToObject(o, "kind", "eval");
      cJSON_AddStringToObject(o, "config", s->cfg[i].name);
      cJSON_AddStringToObject(o, "model", s->model[m].name);
      cJSON_AddItemToArray(jb, o);
    }
  char *text = cJSON_Print(plan);
  cJSON_Delete(plan);
  free(from);
  static const char *const SUB[] = {"results", "locks", "logs", "synth"};
  for (size_t k = 0; k < sizeof SUB / sizeof *SUB && !rc; k++) {
    dir_path(s, path, sizeof path, "%s", SUB[k]);
    if (mkdir_p1(path)) rc = input_err("cannot create %s: %s", path, strerror(errno));
  }
  if (!rc && (!text || store_put(s, "plan.json", text))) rc = EXIT_INPUT;
  free(text);
  return rc;
}

static int plan_err(const sweep *s, const char *what) {
  return input_err("%s/plan.json: %s (not a plan of this nnfpga sweep; use another --dir)", s->dir, what);
}

/* plan.json into s (configurations read back from DIR/configs). */
static int load_plan(sweep *s, cJSON *plan) {
  const cJSON *req = cJSON_GetObjectItemCaseSensitive(plan, "request");
  const char *fmt = jstr(plan, "format");
  if (!fmt || strcmp(fmt, "nnfpga-sweep") || jnum(plan, "version") != 1 || !cJSON_IsObject(req))
    return plan_err(s, "no format nnfpga-sweep, version 1");
  const char *data = jstr(req, "data");
  snprintf(s->data, sizeof s->data, "%s", data ? data : "");
  s->p_limit = (long)jnum(req, "limit");
  s->p_batch = (long)jnum(req, "batch");
  s->p_seed = (long)jnum(req, "seed");
  if (!(s->p_batch >= 1) || !(s->p_limit >= 0) || !(s->p_seed >= 0)) return plan_err(s, "bad limit, batch or seed");
  const cJSON *o;
  char err[PATH_LEN + 256], path[PATH_LEN + 300];
  s->ncfg = 0;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(plan, "configs")) {
    const char *name = jstr(o, "name"), *file = jstr(o, "file"), *id = jstr(o, "id");
    if (!name || !file || !id || strstr(file, "..") || file[0] == '/' || s->ncfg == MAX_CONFIGS)
      return plan_err(s, "a bad configuration entry");
    dir_path(s, path, sizeof path, "%s", file);
    sw_config *c = &s->cfg[s->ncfg];
    if (read_config(path, c, err, sizeof err)) return input_err("%s", err);
    if (strtoul(id, NULL, 16) != c->id || strcmp(name, c->name))
      return input_err("%s was changed after the plan was made (id %s there, 0x%04x now): restore it, or start a "
                       "new sweep in another --dir", path, id, c->id);
    s->ncfg++;
  }
  s->nmodel = 0;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(plan, "models")) {
    const char *name = jstr(o, "name"), *file = jstr(o, "file"), *crc = jstr(o, "crc32");
    if (!name || !file || !crc || s->nmodel == MAX_MODELS) return plan_err(s, "a bad model entry");
    sw_model *m = &s->model[s->nmodel++];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->path, sizeof m->path, "%s", file);
    m->crc = (unsigned)strtoul(crc, NULL, 16);
    m->bytes = jnum(o, "bytes");
  }
  const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(plan, "jobs");
  int n = cJSON_GetArraySize(jobs);
  free(s->job);
  s->job = calloc((size_t)(n ? n : 1), sizeof *s->job);
  if (!s->job) return input_err("out of memory");
  s->njob = 0;
  cJSON_ArrayForEach(o, jobs) {
    const char *name = jstr(o, "name"), *kind = jstr(o, "kind"), *config = jstr(o, "config"), *model = jstr(o, "model");
    sw_job *j = &s->job[s->njob];
    if (!name || !kind || !config || strchr(name, '/') || strlen(name) >= sizeof j->name) return plan_err(s, "a bad job");
    snprintf(j->name, sizeof j->name, "%s", name);
    j->kind = !strcmp(kind, "synth") ? JOB_SYNTH : !strcmp(kind, "eval") ? JOB_EVAL : -1;
    j->config = j->model = -1;
    for (int i = 0; i < s->ncfg; i++)
      if (!strcmp(s->cfg[i].name, config)) j->config = i;
    for (int i = 0; model && i < s->nmodel; i++)
      if (!strcmp(s->model[i].name, model)) j->model = i;
    if (j->kind < 0 || j->config < 0 || (j->kind == JOB_EVAL && j->model < 0)) return plan_err(s, "a bad job");
    s->njob++;
  }
  return 0;
}

/* ---- jobs ------------------------------------------------------------------------- */

/* The INFO config_id of the device at uri: 0 and *id, or -1 when it does not open. */
static int device_id(const char *uri, unsigned *id) {
  nnfdrv *d = NULL;
  char e[512];
  if (nnfdrv_open(uri, &d, e, sizeof e)) return -1;
  *id = nnfdrv_get_info(d)->config_id;
  nnfdrv_close(d);
  return 0;
}

/* Add to names[] the name of each configuration with a board in folder dir
 * (not yet there; at most max). */
static void board_names(const char *dir, char (*names)[64], int *n, int max) {
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) && *n < max) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
    char p[PATH_LEN + 300], err[PATH_LEN + 256];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    sw_config other;
    if (read_config(p, &other, err, sizeof err) || !other.target[0]) continue;
    int seen = 0;
    for (int i = 0; i < *n && !seen; i++) seen = !strcmp(names[i], other.name);
    if (!seen) snprintf(names[(*n)++], sizeof names[0], "%s", other.name);
  }
  if (d) closedir(d);
}

/* A prebuilt simulator that reports id c->id in INFO: the in-process "sim",
 * or "sim:board=NAME" for each configuration with a board in the folders of
 * nnf_config_dir() (else the source tree's configs/), c's own name first.
 * Names only order the tries: the device's INFO decides. 1 with uri set,
 * or 0. */
static int prebuilt_device(const sweep *s, const sw_config *c, char *uri, size_t len) {
  unsigned id;
  if (!device_id("sim", &id) && id == c->id) {
    snprintf(uri, len, "sim");
    return 1;
  }
  char tried[64][64], dir[PATH_LEN + 16];
  int nt = 0;
  snprintf(tried[nt++], sizeof tried[0], "%s", c->name);
  const char *dirs = nnf_config_dir();
  if (!*dirs) {
    snprintf(dir, sizeof dir, "%s/configs", s->src);
    board_names(dir, tried, &nt, 64);
  }
  while (*dirs) {   /* a colon-separated list */
    size_t n = strcspn(dirs, ":");
    if (n > 0 && n < sizeof dir) {
      memcpy(dir, dirs, n);
      dir[n] = 0;
      board_names(dir, tried, &nt, 64);
    }
    dirs += n + (dirs[n] == ':');
  }
  for (int i = 0; i < nt; i++) {
    char u[128];
    snprintf(u, sizeof u, "sim:board=%.63s", tried[i]);
    if (!device_id(u, &id) && id == c->id) {
      snprintf(uri, len, "%s", u);
      return 1;
    }
  }
  return 0;
}

static cJSON *error_result(cJSON *r, const char *stage, int rc, const char *msg) {
  cJSON_AddStringToObject(r, "error", msg);
  cJSON_AddStringToObject(r, "stage", stage);
  if (rc) cJSON_AddNumberToObject(r, "exit", rc);
  return r;
}

/* An eval job: the device for the configuration, then `nnfpga eval --json`
 * as a child process. The result's fields, or "error". */
static cJSON *eval_job(const sweep *s, const sw_job *j, FILE *log) {
  const sw_config *c = &s->cfg[j->config];
  const sw_model *m = &s->model[j->model];
  cJSON *r = cJSON_CreateObject();
  char msg[2048], uri[PATH_LEN + 64];
  unsigned crc;
  double bytes;
  if (file_crc(m->path, &crc, &bytes)) {
    snprintf(msg, sizeof msg, "checkpoint %s: %s", m->path, strerror(errno));
    return error_result(r, "checkpoint", 0, msg);
  }
  if (crc != m->crc) {
    snprintf(msg, sizeof msg, "checkpoint %s changed since the plan was made (crc32 0x%08x, now 0x%08x)", m->path,
             m->crc, crc);
    return error_result(r, "checkpoint", 0, msg);
  }
  const char *source = "prebuilt";
  if (!prebuilt_device(s, c, uri, sizeof uri)) {
    char script[PATH_LEN + 32], *o, *e;
    python_script(s, "nnfconfig.py", script, sizeof script);
    char *argv[] = {"python3", script, "build-sim", (char *)c->file, NULL};
    if (log) fprintf(log, "# no prebuilt simulator reports id 0x%04x: building one\n", c->id);
    int rc = run_captured(argv, log, &o, &e);
    char path[PATH_LEN];
    last_line(o, path, sizeof path);
    if (rc || !path[0]) {
      child_failure("nnfconfig.py build-sim", rc, e, msg, sizeof msg);
      free(o);
      free(e);
      return error_result(r, "build-sim", rc, msg);
    }
    snprintf(uri, sizeof uri, "sim:module=%s", path);
    source = "build-sim";
    free(o);
    free(e);
  }
  cJSON_AddStringToObject(r, "device", uri);
  cJSON_AddStringToObject(r, "device_source", source);
  char limit[32], batch[32];
  snprintf(limit, sizeof limit, "%ld", s->p_limit);
  snprintf(batch, sizeof batch, "%ld", s->p_batch);
  char *argv[20];
  int a = 0;
  argv[a++] = (char *)s->self, argv[a++] = "eval", argv[a++] = "--model", argv[a++] = (char *)m->path;
  argv[a++] = "--device", argv[a++] = uri, argv[a++] = "--json", argv[a++] = "--quiet";
  argv[a++] = "--batch", argv[a++] = batch;
  if (s->p_limit) argv[a++] = "--limit", argv[a++] = limit;
  if (s->data[0]) argv[a++] = "--data", argv[a++] = (char *)s->data;
  argv[a] = NULL;
  char *o, *e;
  int rc = run_captured(argv, log, &o, &e);
  cJSON *ev = rc ? NULL : cJSON_Parse(o ? o : "");
  if (rc || !cJSON_IsObject(ev)) {
    if (!rc) snprintf(msg, sizeof msg, "nnfpga eval printed no JSON object");
    else child_failure("nnfpga eval", rc, e, msg, sizeof msg);
    if (!strncmp(msg, "nnfpga eval: ", 13)) memmove(msg, msg + 13, strlen(msg + 13) + 1);
    cJSON_Delete(ev);
    free(o);
    free(e);
    return error_result(r, "eval", rc, msg);
  }
  free(o);
  free(e);
  add_num_or_null(r, "accuracy", jnum(ev, "accuracy"));
  add_num_or_null(r, "images", jnum(ev, "images"));
  add_num_or_null(r, "cycles_per_image", jnum(ev, "cycles_per_image"));
  cJSON_AddItemToObject(r, "eval", ev);
  return r;
}

/* A synth job: scripts/synth.py --config on the sweep's copy of the file. */
static cJSON *synth_job(const sweep *s, const sw_job *j, FILE *log) {
  const sw_config *c = &s->cfg[j->config];
  cJSON *r = cJSON_CreateObject();
  char script[PATH_LEN + 32], work[PATH_LEN + 300], out[PATH_LEN + 400], seed[32], msg[PATH_LEN + 600];
  python_script(s, "synth.py", script, sizeof script);
  dir_path(s, work, sizeof work, "synth/%s", c->name);
  snprintf(out, sizeof out, "%s/report.json", work);
  snprintf(seed, sizeof seed, "%ld", s->p_seed);
  if (mkdir_p1(work)) {
    snprintf(msg, sizeof msg, "cannot create %s: %s", work, strerror(errno));
    return error_result(r, "synth", 0, msg);
  }
  unlink(out);   /* a report left by an interrupted run is not this run's */
  char *argv[] = {"python3", script, "--config", (char *)c->file, "--out", out, "--workdir", work, "--seed", seed, NULL};
  char *o, *e;
  int rc = run_captured(argv, log, &o, &e);
  cJSON *rep = rc ? NULL : read_json(out);
  if (rc || !cJSON_IsObject(rep)) {
    if (!rc) snprintf(msg, sizeof msg, "synth.py wrote no report %s", out);
    else if (rc > 128 || !e || !*e) child_failure("synth.py", rc, e, msg, sizeof msg);
    else one_line(e, msg, 600);
    free(o);
    free(e);
    cJSON_Delete(rep);
    return error_result(r, "synth", rc, msg);
  }
  free(o);
  free(e);
  int ice40 = cJSON_GetObjectItemCaseSensitive(rep, "lcs") != NULL;
  cJSON_AddStringToObject(r, "target", jstr(rep, "target") ? jstr(rep, "target") : c->target);
  cJSON_AddStringToObject(r, "logic_kind", ice40 ? "lcs" : "luts");
  add_num_or_null(r, "logic", jnum(rep, ice40 ? "lcs" : "luts"));
  add_num_or_null(r, "luts", jnum(rep, "luts"));
  if (ice40) add_num_or_null(r, "lcs", jnum(rep, "lcs"));
  add_num_or_null(r, "ffs", jnum(rep, "ffs"));
  add_num_or_null(r, "dsps", jnum(rep, "dsps"));
  add_num_or_null(r, "rams", jnum(rep, "rams"));
  if (ice40) add_num_or_null(r, "sprams", jnum(rep, "sprams"));
  add_num_or_null(r, "fmax_mhz", jnum(rep, "fmax_mhz"));
  add_num_or_null(r, "target_mhz", jnum(rep, "target_mhz"));
  const cJSON *tm = cJSON_GetObjectItemCaseSensitive(rep, "timing_met");
  if (cJSON_IsBool(tm)) cJSON_AddBoolToObject(r, "timing_met", cJSON_IsTrue(tm));
  cJSON_AddItemToObject(r, "report", rep);
  return r;
}

/* One line about a result: its figures, or why it failed. */
static void result_summary(const cJSON *r, char *buf, size_t len) {
  const char *err = jstr(r, "error");
  if (err) {
    snprintf(buf, len, "failed: %s", err);
  } else if (!strcmp(jstr(r, "kind") ? jstr(r, "kind") : "", "synth")) {
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(r, "timing_met");
    snprintf(buf, len, "%.0f %s, %.0f FFs, %.0f DSPs, %.0f RAMs, fmax %.2f MHz (target %g: %s)", jnum(r, "logic"),
             !strcmp(jstr(r, "logic_kind") ? jstr(r, "logic_kind") : "", "lcs") ? "LCs" : "LUTs", jnum(r, "ffs"),
             jnum(r, "dsps"), jnum(r, "rams"), jnum(r, "fmax_mhz"), jnum(r, "target_mhz"),
             cJSON_IsTrue(tm) ? "met" : "missed");
  } else {
    snprintf(buf, len, "accuracy %.2f%% over %.0f images, %.1f cycles/image on %s", 100 * jnum(r, "accuracy"),
             jnum(r, "images"), jnum(r, "cycles_per_image"), jstr(r, "device") ? jstr(r, "device") : "?");
  }
}

typedef enum { ST_DONE, ST_FAILED, ST_FINISHED, ST_RUNNING } job_status;
static const char *const STATUS[] = {"done", "failed", "finished", "running"};

/* A result file's content when it is a result (NULL when absent or unreadable). */
static cJSON *load_result(const sweep *s, const sw_job *j) {
  char path[PATH_LEN + 300];
  dir_path(s, path, sizeof path, "results/%s.json", j->name);
  cJSON *r = read_json(path);
  if (r && !cJSON_IsObject(r)) {
    cJSON_Delete(r);
    r = NULL;
  }
  return r;
}

/* Run job k unless it is finished or another worker holds it. 0 with *st,
 * *result (the result, NULL when running elsewhere) and holder (who holds it)
 * set; or the exit code after printing why it could not be run or recorded. */
static int run_job(sweep *s, int k, job_status *st, cJSON **result, char *holder, size_t hlen, double *seconds) {
  const sw_job *j = &s->job[k];
  char path[PATH_LEN + 300], me[256];
  *result = NULL;
  *seconds = 0;
  holder[0] = 0;
  dir_path(s, path, sizeof path, "locks/%s.lock", j->name);
  /* not O_CLOEXEC: the job's child processes keep the lock while they live */
  int fd = open(path, O_RDWR | O_CREAT, 0666);
  if (fd < 0) return input_err("cannot open %s: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    int busy = errno == EWOULDBLOCK;
    if (busy) {
      ssize_t n = pread(fd, holder, hlen - 1, 0);
      holder[n > 0 ? n : 0] = 0;
      holder[strcspn(holder, "\n")] = 0;
    }
    close(fd);
    if (!busy) return input_err("cannot lock %s: %s", path, strerror(errno));
    *st = ST_RUNNING;
    return 0;
  }
  cJSON *old = load_result(s, j);
  if (old && !(s->retry_failed && jstr(old, "error"))) {
    close(fd);
    *st = ST_FINISHED;
    *result = old;
    return 0;
  }
  cJSON_Delete(old);
  char when[64];
  host_id(me, sizeof me);
  now_iso(when, sizeof when);
  if (ftruncate(fd, 0) == 0) dprintf(fd, "%s since %s\n", me, when);
  dir_path(s, path, sizeof path, "logs/%s.log", j->name);
  FILE *log = fopen(path, "w");
  if (log) fprintf(log, "# job %d (%s) by %s at %s\n", k, j->name, me, when);
  double t0 = cli_now();
  cJSON *r = j->kind == JOB_EVAL ? eval_job(s, j, log) : synth_job(s, j, log);
  *seconds = cli_now() - t0;
  /* who and what first, then the figures */
  cJSON *res = cJSON_CreateObject();
  cJSON_AddStringToObject(res, "job", j->name);
  cJSON_AddStringToObject(res, "kind", JOB_KIND[j->kind]);
  cJSON_AddStringToObject(res, "config", s->cfg[j->config].name);
  if (j->kind == JOB_EVAL) cJSON_AddStringToObject(res, "model", s->model[j->model].name);
  cJSON_AddStringToObject(res, "worker", me);
  cJSON_AddStringToObject(res, "started", when);
  cJSON_AddNumberToObject(res, "seconds", round(*seconds * 1000) / 1000);
  while (r->child) {
    cJSON *it = cJSON_DetachItemViaPointer(r, r->child);
    cJSON_AddItemToObject(res, it->string, it);   /* cJSON copies the name before freeing the old */
  }
  cJSON_Delete(r);
  if (log) {
    fprintf(log, "# %s after %.1f s\n", jstr(res, "error") ? "failed" : "done", *seconds);
    fclose(log);
  }
  char *text = cJSON_Print(res), rel[300];
  snprintf(rel, sizeof rel, "results/%s.json", j->name);
  int rc = !text || store_put(s, rel, text) ? EXIT_INPUT : 0;
  free(text);
  /* the holder's line goes with the lock (left behind, it would only name a past worker) */
  if (ftruncate(fd, 0)) errno = 0;
  close(fd);
  if (rc) {
    cJSON_Delete(res);
    return rc;
  }
  *st = jstr(res, "error") ? ST_FAILED : ST_DONE;
  *result = res;
  return 0;
}

/* ---- collecting: CSV, JSON, plots ------------------------------------------------- */

static const char *const CSV_COLS[] = {
    "config", "id", "rows", "cols", "macs_per_cycle", "clock_hz", "model", "accuracy", "images",
    "cycles_per_image", "images_per_s_at_clock", "fmax_mhz", "images_per_s_at_fmax", "timing_met", "logic",
    "logic_kind", "ffs", "dsps", "rams", "sprams", "pareto", "error"};
#define NCOLS (int)(sizeof CSV_COLS / sizeof *CSV_COLS)

static int find_job(const sweep *s, int kind, int config, int model) {
  for (int k = 0; k < s->njob; k++)
    if (s->job[k].kind == kind && s->job[k].config == config && (kind == JOB_SYNTH || s->job[k].model == model))
      return k;
  return -1;
}

/* A job's state for a row: its result (or NULL) and "done", "failed", "pending" or "none". */
static const char *job_state(const sweep *s, int k, cJSON **r) {
  *r = k >= 0 ? load_result(s, &s->job[k]) : NULL;
  if (k < 0) return "none";
  if (!*r) return "pending";
  return jstr(*r, "error") ? "failed" : "done";
}

typedef struct {
  int total, done, failed, pending;
} tally;

static void count_state(tally *t, const char *st) {
  if (!strcmp(st, "none")) return;
  t->total++;
  if (!strcmp(st, "done")) t->done++;
  else if (!strcmp(st, "failed")) t->failed++;
  else t->pending++;
}

/* One row per configuration and model (per configuration when there is no model). */
static cJSON *build_rows(const sweep *s, tally *t) {
  cJSON *rows = cJSON_CreateArray();
  memset(t, 0, sizeof *t);
  for (int i = 0; i < s->ncfg; i++) {
    const sw_config *c = &s->cfg[i];
    cJSON *sr;
    const char *sst = job_state(s, find_job(s, JOB_SYNTH, i, -1), &sr);
    count_state(t, sst);
    for (int m = 0; m < (s->nmodel ? s->nmodel : 1); m++) {
      cJSON *er = NULL;
      const char *est = s->nmodel ? job_state(s, find_job(s, JOB_EVAL, i, m), &er) : "none";
      count_state(t, est);
      cJSON *o = cJSON_CreateObject();
      char hex[16], err[2048] = "";
      snprintf(hex, sizeof hex, "0x%04x", c->id);
      cJSON_AddStringToObject(o, "config", c->name);
      cJSON_AddStringToObject(o, "id", hex);
      cJSON_AddNumberToObject(o, "rows", (double)c->rows);
      cJSON_AddNumberToObject(o, "cols", (double)c->cols);
      cJSON_AddNumberToObject(o, "macs_per_cycle", (double)(c->rows * c->cols));
      cJSON_AddNumberToObject(o, "clock_hz", c->clock_hz);
      if (s->nmodel) cJSON_AddStringToObject(o, "model", s->model[m].name);
      else cJSON_AddNullToObject(o, "model");
      double cpi = er && !jstr(er, "error") ? jnum(er, "cycles_per_image") : NAN;
      double fmax = sr && !jstr(sr, "error") ? jnum(sr, "fmax_mhz") : NAN;
      add_num_or_null(o, "accuracy", er ? jnum(er, "accuracy") : NAN);
      add_num_or_null(o, "images", er ? jnum(er, "images") : NAN);
      add_num_or_null(o, "cycles_per_image", cpi);
      add_num_or_null(o, "images_per_s_at_clock", c->clock_hz > 0 && cpi > 0 ? c->clock_hz / cpi : NAN);
      add_num_or_null(o, "fmax_mhz", fmax);
      add_num_or_null(o, "images_per_s_at_fmax", fmax > 0 && cpi > 0 ? fmax * 1e6 / cpi : NAN);
      const cJSON *tm = sr ? cJSON_GetObjectItemCaseSensitive(sr, "timing_met") : NULL;
      if (cJSON_IsBool(tm)) cJSON_AddBoolToObject(o, "timing_met", cJSON_IsTrue(tm));
      else cJSON_AddNullToObject(o, "timing_met");
      add_num_or_null(o, "logic", sr ? jnum(sr, "logic") : NAN);
      if (sr && jstr(sr, "logic_kind")) cJSON_AddStringToObject(o, "logic_kind", jstr(sr, "logic_kind"));
      else cJSON_AddNullToObject(o, "logic_kind");
      static const char *const RES[] = {"ffs", "dsps", "rams", "sprams"};
      for (int k = 0; k < 4; k++) add_num_or_null(o, RES[k], sr ? jnum(sr, RES[k]) : NAN);
      cJSON_AddNullToObject(o, "pareto");
      if (er && jstr(er, "error")) snprintf(err, sizeof err, "eval: %s", jstr(er, "error"));
      if ((sr && jstr(sr, "error")) || !c->target[0]) {
        size_t l = strlen(err);
        snprintf(err + l, sizeof err - l, "%ssynth: %s", l ? "; " : "",
                 c->target[0] ? jstr(sr, "error") : "the configuration has no board, nothing to synthesise");
      }
      if (err[0]) cJSON_AddStringToObject(o, "error", err);
      else cJSON_AddNullToObject(o, "error");
      /* beyond the CSV */
      if (er && jstr(er, "device")) cJSON_AddStringToObject(o, "device", jstr(er, "device"));
      if (c->target[0]) cJSON_AddStringToObject(o, "target", c->target);
      cJSON_AddStringToObject(o, "eval", est);
      cJSON_AddStringToObject(o, "synth", sst);
      cJSON_AddItemToArray(rows, o);
      cJSON_Delete(er);
    }
    cJSON_Delete(sr);
  }
  return rows;
}

static void csv_field(FILE *f, const cJSON *v) {
  char buf[64];
  if (cJSON_IsNumber(v)) {
    fmt_num(v->valuedouble, buf, sizeof buf);
    fputs(buf, f);
  } else if (cJSON_IsBool(v)) {
    fputs(cJSON_IsTrue(v) ? "true" : "false", f);
  } else if (cJSON_IsString(v)) {
    const char *p = v->valuestring;
    if (!strpbrk(p, ",\"\n\r")) {
      fputs(p, f);
      return;
    }
    fputc('"', f);
    for (; *p; p++) {
      if (*p == '"') fputc('"', f);
      fputc(*p, f);
    }
    fputc('"', f);
  }
}

static char *render_csv(const cJSON *rows) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  for (int c = 0; c < NCOLS; c++) fprintf(f, "%s%s", c ? "," : "", CSV_COLS[c]);
  fputc('\n', f);
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    for (int c = 0; c < NCOLS; c++) {
      if (c) fputc(',', f);
      csv_field(f, cJSON_GetObjectItemCaseSensitive(r, CSV_COLS[c]));
    }
    fputc('\n', f);
  }
  fclose(f);
  return buf;
}

/* Mark each model's Pareto front in the rows (images/s at fmax up, logic
 * down) and draw it: DIR/pareto-MODEL.svg when some row has both figures. */
static int pareto_plots(const sweep *s, cJSON *rows, cJSON *fronts, cJSON *plots) {
  int n = cJSON_GetArraySize(rows), rc = 0;
  double *x = calloc((size_t)n + 1, sizeof *x), *y = calloc((size_t)n + 1, sizeof *y);
  int *front = calloc((size_t)n + 1, sizeof *front), *at = calloc((size_t)n + 1, sizeof *at);
  const char **label = calloc((size_t)n + 1, sizeof *label);
  if (!x || !y || !front || !at || !label) rc = input_err("out of memory");
  for (int m = 0; !rc && m < s->nmodel; m++) {
    int np = 0, lcs = 0, luts = 0;
    for (int i = 0; i < n; i++) {
      cJSON *r = cJSON_GetArrayItem(rows, i);
      const char *model = jstr(r, "model");
      double lx = jnum(r, "logic"), iy = jnum(r, "images_per_s_at_fmax");
      if (!model || strcmp(model, s->model[m].name) || !isfinite(lx) || !isfinite(iy)) continue;
      x[np] = lx, y[np] = iy, at[np] = i, label[np] = jstr(r, "config");
      lcs += !strcmp(jstr(r, "logic_kind") ? jstr(r, "logic_kind") : "", "lcs");
      luts += !strcmp(jstr(r, "logic_kind") ? jstr(r, "logic_kind") : "", "luts");
      np++;
    }
    char path[PATH_LEN + 300], title[512], err[PATH_LEN + 256];
    dir_path(s, path, sizeof path, "pareto-%s.svg", s->model[m].name);
    if (!np) {
      unlink(path);   /* no figure left to draw (a result was removed) */
      continue;
    }
    nnf_plot_pareto(x, y, np, front);
    cJSON *names = cJSON_AddArrayToObject(fronts, s->model[m].name);
    for (int p = 0; p < np; p++) {
      cJSON *r = cJSON_GetArrayItem(rows, at[p]);
      cJSON_ReplaceItemInObjectCaseSensitive(r, "pareto", cJSON_CreateBool(front[p]));
      if (front[p]) cJSON_AddItemToArray(names, cJSON_CreateString(label[p]));
    }
    double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
    for (int p = 0; p < np; p++) xlo = fmin(xlo, x[p]), xhi = fmax(xhi, x[p]), ylo = fmin(ylo, y[p]), yhi = fmax(yhi, y[p]);
    snprintf(title, sizeof title, "%s: images/s at fmax against logic (%d configuration%s)", s->model[m].name, np,
             np == 1 ? "" : "s");
    nnf_plot_front_opts o = {title,
                             lcs && luts ? "logic (ECP5 LUTs, iCE40 logic cells)" : lcs ? "iCE40 logic cells" : "LUTs",
                             "images/s at fmax",
                             xlo > 0 && xhi / xlo > 50,
                             ylo > 0 && yhi / ylo > 50,
                             "configuration",
                             "Pareto front",
                             0,
                             0};
    if (nnf_plot_front(path, &o, x, y, label, front, np, err, sizeof err)) {
      rc = input_err("%s", err);
      break;
    }
    cJSON_AddItemToArray(plots, cJSON_CreateString(path));
  }
  free(x);
  free(y);
  free(front);
  free(at);
  free(label);
  return rc;
}

/* Write DIR/sweep.csv, DIR/sweep.json and the plots from the results there.
 * *rows_out (may be NULL) gets the rows and *t the job counts. */
static int collect(sweep *s, cJSON **rows_out, cJSON **plots_out, tally *t) {
  cJSON *rows = build_rows(s, t), *fronts = cJSON_CreateObject(), *plots = cJSON_CreateArray();
  int rc = 0;
  if (nnf_tune_store_lock(&s->store)) rc = input_err("cannot lock %s/.lock: %s", s->dir, strerror(errno));
  if (!rc) rc = pareto_plots(s, rows, fronts, plots);
  char *csv = rc ? NULL : render_csv(rows);
  if (!rc && (!csv || store_put(s, "sweep.csv", csv))) rc = EXIT_INPUT;
  free(csv);
  if (!rc) {
    cJSON *o = cJSON_CreateObject(), *jobs = cJSON_CreateObject(), *models = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "format", "nnfpga-sweep-results");
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "dir", s->dir);
    for (int m = 0; m < s->nmodel; m++) cJSON_AddItemToArray(models, cJSON_CreateString(s->model[m].name));
    cJSON_AddItemToObject(o, "models", models);
    cJSON_AddNumberToObject(jobs, "total", t->total);
    cJSON_AddNumberToObject(jobs, "done", t->done);
    cJSON_AddNumberToObject(jobs, "failed", t->failed);
    cJSON_AddNumberToObject(jobs, "pending", t->pending);
    cJSON_AddItemToObject(o, "jobs", jobs);
    cJSON_AddItemToObject(o, "rows", cJSON_Duplicate(rows, 1));
    cJSON_AddItemToObject(o, "pareto", fronts);
    fronts = NULL;
    cJSON_AddItemToObject(o, "plots", cJSON_Duplicate(plots, 1));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text || store_put(s, "sweep.json", text)) rc = EXIT_INPUT;
    free(text);
  }
  nnf_tune_store_unlock(&s->store);
  cJSON_Delete(fronts);
  if (rows_out && !rc) *rows_out = rows;
  else cJSON_Delete(rows);
  if (plots_out && !rc) *plots_out = plots;
  else cJSON_Delete(plots);
  return rc;
}

/* The rows as a table on stdout. */
static void print_table(const cJSON *rows) {
  int w = 6;
  const cJSON *r;
  cJSON_ArrayForEach(r, rows) {
    int l = (int)strlen(jstr(r, "config")) + (jstr(r, "model") ? (int)strlen(jstr(r, "model")) + 1 : 0);
    if (l > w) w = l;
  }
  printf("%-*s  %8s  %11s  %8s  %11s  %7s  %s\n", w, "config/model", "accuracy", "cycles/img", "fmax MHz",
         "img/s@fmax", "logic", "front, error");
  cJSON_ArrayForEach(r, rows) {
    char name[512], acc[32] = "-", cpi[32] = "-", fmax[32] = "-", ips[32] = "-", logic[32] = "-";
    snprintf(name, sizeof name, "%s%s%s", jstr(r, "config"), jstr(r, "model") ? "/" : "",
             jstr(r, "model") ? jstr(r, "model") : "");
    if (isfinite(jnum(r, "accuracy"))) snprintf(acc, sizeof acc, "%.2f%%", 100 * jnum(r, "accuracy"));
    if (isfinite(jnum(r, "cycles_per_image"))) snprintf(cpi, sizeof cpi, "%.1f", jnum(r, "cycles_per_image"));
    if (isfinite(jnum(r, "fmax_mhz"))) snprintf(fmax, sizeof fmax, "%.2f", jnum(r, "fmax_mhz"));
    if (isfinite(jnum(r, "images_per_s_at_fmax"))) snprintf(ips, sizeof ips, "%.1f", jnum(r, "images_per_s_at_fmax"));
    if (isfinite(jnum(r, "logic")))
      snprintf(logic, sizeof logic, "%.0f %s", jnum(r, "logic"),
               !strcmp(jstr(r, "logic_kind") ? jstr(r, "logic_kind") : "", "lcs") ? "LC" : "LUT");
    const char *err = jstr(r, "error");
    printf("%-*s  %8s  %11s  %8s  %11s  %7s  %s%s%s\n", w, name, acc, cpi, fmax, ips, logic,
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "pareto")) ? "front" : "",
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "pareto")) && err ? ", " : "", err ? err : "");
  }
}

/* ---- running the jobs ------------------------------------------------------------ */

/* Does this run take job k (--no-synth, --synth-only)? */
static int selected(const sweep *s, int k) {
  return s->job[k].kind == JOB_SYNTH ? !s->no_synth : !s->synth_only;
}

/* The job's command, as a shell line. */
static char *job_command(const sweep *s, int k) {
  char *buf = NULL, num[32];
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  snprintf(num, sizeof num, "%d", k);
  shell_word(f, s->self);
  fputs(" sweep --dir ", f);
  shell_word(f, s->dir);
  fprintf(f, " --run-job %s%s", num, s->retry_failed ? " --retry-failed" : "");
  fclose(f);
  return buf;
}

static int print_jobs(const sweep *s) {
  cJSON *arr = s->json ? cJSON_CreateArray() : NULL;
  for (int k = 0; k < s->njob; k++) {
    if (!selected(s, k)) continue;
    char *cmd = job_command(s, k);
    if (!cmd) return input_err("out of memory");
    if (arr) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "job", k);
      cJSON_AddStringToObject(o, "name", s->job[k].name);
      cJSON_AddStringToObject(o, "kind", JOB_KIND[s->job[k].kind]);
      cJSON_AddStringToObject(o, "command", cmd);
      cJSON_AddItemToArray(arr, o);
    } else {
      printf("%s\n", cmd);
    }
    free(cmd);
  }
  if (arr) cli_json_emit(arr);
  return 0;
}

/* --run-job K: the job, and one line (or JSON object) saying what happened. */
static int run_one(sweep *s, long k) {
  if (k >= s->njob) return usage_err("--run-job %ld: the plan has jobs 0..%d", k, s->njob - 1);
  job_status st = ST_FINISHED;
  cJSON *r;
  char holder[256], summary[2400];
  double secs;
  int rc = run_job(s, (int)k, &st, &r, holder, sizeof holder, &secs);
  if (rc) return rc;
  const sw_job *j = &s->job[k];
  summary[0] = 0;
  if (r) result_summary(r, summary, sizeof summary);
  if (s->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "job", (double)k);
    cJSON_AddStringToObject(o, "name", j->name);
    cJSON_AddStringToObject(o, "kind", JOB_KIND[j->kind]);
    cJSON_AddStringToObject(o, "status", STATUS[st]);
    cJSON_AddNumberToObject(o, "seconds", round(secs * 1000) / 1000);
    if (summary[0]) cJSON_AddStringToObject(o, "summary", summary);
    if (st == ST_RUNNING) cJSON_AddStringToObject(o, "holder", holder[0] ? holder : "?");
    cli_json_emit(o);
  } else if (st == ST_RUNNING) {
    printf("job %ld (%s): running in another worker (%s): skipped\n", k, j->name, holder[0] ? holder : "?");
  } else if (st == ST_FINISHED) {
    printf("job %ld (%s): finished before, not run again: %s\n", k, j->name, summary);
  } else {
    printf("job %ld (%s): %s (%.1f s)\n", k, j->name, summary, secs);
  }
  cJSON_Delete(r);
  return 0;
}

typedef struct {
  int ran, failed, before, running, lost, skipped;
} run_count;

/* Is job k finished for this run (a result, and not a failure --retry-failed reruns)? */
static int finished(const sweep *s, int k) {
  cJSON *r = load_result(s, &s->job[k]);
  int f = r && !(s->retry_failed && jstr(r, "error"));
  cJSON_Delete(r);
  return f;
}

/* Run the selected jobs that have no result, --jobs at a time, each as
 * `nnfpga sweep --dir DIR --run-job K --json` (the command a scheduler runs). */
static int run_sweep(sweep *s, run_count *n) {
  int *queue = calloc((size_t)s->njob + 1, sizeof *queue), nq = 0;
  if (!queue) return input_err("out of memory");
  memset(n, 0, sizeof *n);
  for (int k = 0; k < s->njob; k++) {
    if (!selected(s, k)) n->skipped++;
    else if (finished(s, k)) n->before++;
    else queue[nq++] = k;
  }
  struct {
    pid_t pid;
    FILE *out;
    int k;
  } slot[MAX_WORKERS];
  int active = 0, next = 0, ended = 0, rc = 0;
  int show = !s->quiet && !s->json;
  if (show && nq)
    fprintf(stderr, "sweep %s: %d job%s to run, %ld at a time\n", s->dir, nq, nq == 1 ? "" : "s",
            s->jobs < nq ? s->jobs : (long)nq);
  while (next < nq || active) {
    while (next < nq && active < s->jobs) {
      int k = queue[next++];
      char num[32];
      snprintf(num, sizeof num, "%d", k);
      char *argv[] = {s->self, "sweep", "--dir", s->dir, "--run-job", num, "--json",
                      s->retry_failed ? "--retry-failed" : NULL, NULL};
      FILE *out = tmpfile();
      fflush(NULL);
      pid_t pid = out ? fork() : -1;
      if (pid < 0) {   /* start no more; wait for the running ones */
        rc = input_err("cannot start job %d: %s", k, strerror(errno));
        if (out) fclose(out);
        next = nq;
        break;
      }
      if (pid == 0) {
        dup2(fileno(out), 1);
        execv(s->self, argv);
        dprintf(2, "nnfpga sweep: cannot run %s: %s\n", s->self, strerror(errno));
        _exit(127);
      }
      slot[active].pid = pid, slot[active].out = out, slot[active].k = k;
      active++;
    }
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int a = 0;
    while (a < active && slot[a].pid != pid) a++;
    if (a == active) continue;   /* not one of ours */
    char *text = slurp_stream(slot[a].out);
    fclose(slot[a].out);
    int k = slot[a].k;
    slot[a] = slot[--active];
    ended++;
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    const char *status = jstr(o, "status"), *summary = jstr(o, "summary");
    const sw_job *j = &s->job[k];
    if (!WIFEXITED(st) || WEXITSTATUS(st) || !status) {
      n->lost++;
      fprintf(stderr, "nnfpga sweep: job %d (%s): its worker %s %d, recording nothing\n", k, j->name,
              WIFEXITED(st) ? "exited" : "was killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    } else if (!strcmp(status, "running")) {
      n->running++;
      if (show)
        fprintf(stderr, "[%d/%d] %s: running in another worker (%s): skipped\n", ended, nq, j->name,
                jstr(o, "holder") ? jstr(o, "holder") : "?");
    } else if (!strcmp(status, "finished")) {
      n->before++;
    } else {
      n->ran++;
      n->failed += !strcmp(status, "failed");
      if (show)
        fprintf(stderr, "[%d/%d] %s: %s (%.1f s)\n", ended, nq, j->name, summary ? summary : status,
                jnum(o, "seconds"));
    }
    cJSON_Delete(o);
  }
  free(queue);
  return rc;
}

/* ---- the command ------------------------------------------------------------------ */

static void usage_sweep(FILE *f) {
  fprintf(f,
          "usage: nnfpga sweep --dir DIR --configs A.json,B.json,... --model M[,M2,...] [OPTIONS]\n"
          "       nnfpga sweep --dir DIR --base F.json --grid ROWS=2,4,8[:PE_DSP=0,1] --model M [OPTIONS]\n"
          "       nnfpga sweep --dir DIR [--print-jobs | --run-job K | --collect] [OPTIONS]\n"
          "\n"
          "Co-design sweep (docs/codesign.md, \"Sweeps\"): for each configuration, the network(s)'\n"
          "accuracy and cycles per image on its simulator, and its synthesis for its part\n"
          "(LUTs or logic cells, FFs, DSPs, RAMs, fmax); then DIR/sweep.csv, DIR/sweep.json\n"
          "and DIR/pareto-MODEL.svg (images/s at fmax against logic, the Pareto front joined\n"
          "and labelled). The first run writes the plan, DIR/plan.json; later runs with --dir\n"
          "alone (or with the same arguments) resume it, running only the jobs without a\n"
          "result; other arguments on the same DIR are refused.\n"
          "\n"
          "the plan:\n"
          "  --configs LIST    configuration files (configs/*.json or your own), comma-separated\n"
          "  --base F --grid G every combination of the grid's values, derived from F\n"
          "                    (nnfconfig.py derive: COLS follows ROWS unless the grid sets it);\n"
          "                    G is NAME=V1,V2,... joined by ':'; NAME a core parameter,\n"
          "                    link.baud or a board parameter. With --configs, both are swept\n"
          "  --model LIST      checkpoints (nnfpga train / import), comma-separated; each is\n"
          "                    named by its file name without the extension\n"
          "  --data DIR        test images for eval (IDX, MNIST layout; default eval's)\n"
          "  --limit N         the first N test images only (default 0: all)\n"
          "  --batch N         images per device run (default 64)\n"
          "  --seed N          nextpnr's placer seed (default 1)\n"
          "\n"
          "jobs: an eval job per configuration and model (the prebuilt simulator whose INFO\n"
          "reports the configuration's id, sim or sim:board=NAME; else the module\n"
          "scripts/nnfconfig.py build-sim builds, sim:module=PATH), a synth job per\n"
          "configuration with a board (scripts/synth.py --config). A failed job records\n"
          "its error, which the CSV shows; it is not run again unless --retry-failed.\n"
          "  --jobs N          run N jobs at a time on this machine (default 1)\n"
          "  --no-synth        this run: eval jobs only (--print-jobs: list only those)\n"
          "  --synth-only      this run: synth jobs only (a plan made so needs no --model)\n"
          "  --retry-failed    run again the jobs whose result is an error\n"
          "  --print-jobs      print each job's command, one a line, and exit:\n"
          "                    nnfpga sweep --dir DIR --print-jobs | parallel -j 8\n"
          "  --run-job K       run job K only (0-based; what --print-jobs prints): a finished\n"
          "                    job is not run again, one another worker holds is skipped\n"
          "  --collect         (re)write sweep.csv, sweep.json and the plots from the results\n"
          "                    (every run of the sweep does this at its end)\n"
          "\n"
          "  --json            a JSON summary (with --print-jobs: the jobs as JSON)\n"
          "  --quiet           no progress lines\n"
          "\n"
          "environment: NNF_SOURCE_DIR the nnfpga source tree (scripts/nnfconfig.py, synth.py;\n"
          "default the tree this nnfpga was built from), NNF_SIM_DIR the board modules,\n"
          "NNF_SIM_CACHE build-sim's cache, NNF_CONFIG_DIR the folders (colon-separated) of\n"
          "the configurations tried as prebuilt boards.\n"
          "\n"
          "exit codes: 0 success (failed jobs are results: see the CSV's error column),\n"
          "1 a job's worker died without a result, 2 bad usage (or a different plan in\n"
          "DIR), 3 bad input (a checkpoint, or files in DIR that cannot be used)\n");
}

static int parse_args(sweep *s, int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g;
#define SSTR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define SINT(flag, var, lo, hi, set) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("sweep", flag, v, lo, hi, &var)) return EXIT_USAGE; set; continue; }
    SSTR("--dir", s->dir_arg) SSTR("--configs", s->configs_s) SSTR("--base", s->base_s) SSTR("--grid", s->grid_s)
    SSTR("--model", s->models_s) SSTR("--data", s->data_s)
    SINT("--limit", s->limit, 0, 0x7fffffffL, s->limit_set = 1) SINT("--batch", s->batch, 1, 65535, s->batch_set = 1)
    SINT("--seed", s->seed, 0, 0x7fffffffL, s->seed_set = 1) SINT("--jobs", s->jobs, 1, MAX_WORKERS, (void)0)
    SINT("--run-job", s->run_job, 0, 0x7fffffffL, (void)0)
#undef SSTR
#undef SINT
    if (!strcmp(argv[i], "--no-synth")) { s->no_synth = 1; continue; }
    if (!strcmp(argv[i], "--synth-only")) { s->synth_only = 1; continue; }
    if (!strcmp(argv[i], "--print-jobs")) { s->print_jobs = 1; continue; }
    if (!strcmp(argv[i], "--collect")) { s->collect = 1; continue; }
    if (!strcmp(argv[i], "--retry-failed")) { s->retry_failed = 1; continue; }
    if (!strcmp(argv[i], "--json")) { s->json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { s->quiet = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_sweep(stdout); return -1; }
    fprintf(stderr, "nnfpga sweep: unknown option '%s' (see nnfpga sweep --help)\n", argv[i]);
    return EXIT_USAGE;
  missing:
    return usage_err("%s needs a value", argv[i]);
  }
  if (!s->dir_arg) return usage_err("--dir DIR is required (where the plan, the results and the plots go)");
  if (s->no_synth && s->synth_only) return usage_err("--no-synth and --synth-only exclude each other");
  if ((s->run_job >= 0) + s->print_jobs + s->collect > 1)
    return usage_err("--print-jobs, --run-job and --collect exclude each other");
  if (s->jobs > 1 && (s->run_job >= 0 || s->print_jobs || s->collect))
    return usage_err("--jobs runs the sweep's jobs here: not with --print-jobs, --run-job or --collect");
  if (s->run_job >= 0 && (s->no_synth || s->synth_only))
    return usage_err("--run-job runs the job it names: --no-synth and --synth-only do not apply");
  return 0;
}

/* The source tree (scripts/) and this executable. */
static int find_paths(sweep *s, int need_src) {
  const char *src = getenv("NNF_SOURCE_DIR");
  if (!src || !*src) src = NNF_SOURCE_DIR;
  snprintf(s->src, sizeof s->src, "%s", src);
  char p[PATH_LEN + 64];
  snprintf(p, sizeof p, "%s/scripts/nnfconfig.py", s->src);
  if (need_src && (!s->src[0] || !file_exists(p)))
    return usage_err("no scripts/nnfconfig.py in '%s': set NNF_SOURCE_DIR to the nnfpga source tree", s->src);
  ssize_t n = readlink("/proc/self/exe", s->self, sizeof s->self - 1);
  if (n <= 0) return usage_err("cannot find this executable (/proc/self/exe): %s", strerror(errno));
  s->self[n] = 0;
  return 0;
}

/* A DIR this command created for a plan it could not make: remove what it put there. */
static void discard_new_dir(sweep *s) {
  char p[PATH_LEN + 300];
  dir_path(s, p, sizeof p, "configs");
  remove_tree_flat(p);
  dir_path(s, p, sizeof p, ".lock");
  unlink(p);
  rmdir(s->dir);
}

/* Make or resume the plan in DIR, with the store lock held. */
static int open_plan(sweep *s, int *created) {
  int plan_args = s->configs_s || s->base_s || s->grid_s || s->models_s || s->data_s || s->limit_set ||
                  s->batch_set || s->seed_set;
  char err[PATH_LEN + 256], path[PATH_LEN + 64];
  struct stat st;
  int existed = !stat(s->dir_arg, &st);
  *created = 0;
  if (existed && !S_ISDIR(st.st_mode)) return usage_err("--dir %s is not a folder", s->dir_arg);
  snprintf(path, sizeof path, "%s/plan.json", s->dir_arg);
  int has_plan = existed && file_exists(path);
  if (!has_plan && !plan_args)
    return usage_err("%s holds no sweep (no plan.json): give the configurations (--configs, or --base and --grid) "
                     "and --model to plan one", s->dir_arg);
  if (has_plan && plan_args && !s->configs_s && !s->base_s)
    return usage_err("%s holds a sweep: resume it with --dir alone, or give all of its plan's arguments "
                     "(--configs or --base/--grid, --model, --data, --limit, --batch, --seed) as they were",
                     s->dir_arg);
  request *rq = calloc(1, sizeof *rq);
  cJSON *req = NULL, *plan = NULL;
  int rc = rq ? 0 : usage_err("out of memory");
  if (!rc && plan_args) rc = build_request(s, rq, &req);
  if (!rc && nnf_tune_store_open(&s->store, s->dir_arg, err, sizeof err)) rc = input_err("%s", err);
  if (!rc && !realpath(s->dir_arg, s->dir)) rc = input_err("--dir %s: %s", s->dir_arg, strerror(errno));
  if (!rc) {   /* the store by its absolute path */
    nnf_tune_store_close(&s->store);
    if (nnf_tune_store_open(&s->store, s->dir, err, sizeof err)) rc = input_err("%s", err);
  }
  if (!rc && nnf_tune_store_lock(&s->store)) rc = input_err("cannot lock %s/.lock: %s", s->dir, strerror(errno));
  if (!rc) {
    char *text = nnf_tune_store_read(&s->store, "plan.json");
    if (!text && !req) {
      rc = usage_err("%s holds no sweep (no plan.json)", s->dir);
    } else if (!text) {
      rc = create_plan(s, rq, req);
      if (rc && !existed) discard_new_dir(s);
      *created = !rc;
      if (!rc && !(text = nnf_tune_store_read(&s->store, "plan.json"))) rc = input_err("%s/plan.json vanished", s->dir);
    }
    if (!rc && !(plan = cJSON_Parse(text))) rc = plan_err(s, "not valid JSON");
    free(text);
    if (!rc && req && !*created) {
      char diff[1024] = "";
      if (json_diff(cJSON_GetObjectItemCaseSensitive(plan, "request"), req, "", diff, sizeof diff))
        rc = usage_err("%s holds another sweep (%s); resume it with --dir alone, use another --dir, or remove it to "
                       "start over", s->dir, diff);
    }
    if (!rc) rc = load_plan(s, plan);
    nnf_tune_store_unlock(&s->store);
  }
  cJSON_Delete(req);
  cJSON_Delete(plan);
  free(rq);
  return rc;
}

static void summary(const sweep *s, int created, const run_count *n, const tally *t, const cJSON *rows,
                    const cJSON *plots, double seconds) {
  char path[PATH_LEN + 64];
  if (s->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", s->dir);
    cJSON_AddStringToObject(o, "plan", created ? "created" : "resumed");
    cJSON_AddNumberToObject(o, "jobs", s->njob);
    cJSON_AddNumberToObject(o, "ran", n->ran);
    cJSON_AddNumberToObject(o, "failed_now", n->failed);
    cJSON_AddNumberToObject(o, "finished_before", n->before);
    cJSON_AddNumberToObject(o, "running_elsewhere", n->running);
    cJSON_AddNumberToObject(o, "not_selected", n->skipped);
    cJSON_AddNumberToObject(o, "lost", n->lost);
    cJSON_AddNumberToObject(o, "done", t->done);
    cJSON_AddNumberToObject(o, "failed", t->failed);
    cJSON_AddNumberToObject(o, "pending", t->pending);
    cJSON_AddNumberToObject(o, "seconds", round(seconds * 1000) / 1000);
    dir_path(s, path, sizeof path, "sweep.csv");
    cJSON_AddStringToObject(o, "csv", path);
    dir_path(s, path, sizeof path, "sweep.json");
    cJSON_AddStringToObject(o, "json", path);
    cJSON_AddItemToObject(o, "plots", cJSON_Duplicate(plots, 1));
    cJSON_AddItemToObject(o, "rows", cJSON_Duplicate(rows, 1));
    cli_json_emit(o);
    return;
  }
  printf("sweep %s (%s): %d job%s, %d done, %d failed, %d pending\n", s->dir, created ? "new plan" : "resumed",
         s->njob, s->njob == 1 ? "" : "s", t->done, t->failed, t->pending);
  if (s->collect)
    printf("collected the results of %d job%s\n", t->done + t->failed, t->done + t->failed == 1 ? "" : "s");
  else if (!n->ran && !n->running && !n->lost)
    printf("nothing to run: the %d selected job%s had finished before%s (delete DIR/results/JOB.json to run a job "
           "again, or --retry-failed)\n", n->before, n->before == 1 ? "" : "s",
           n->skipped ? ", the others were not selected" : "");
  else
    printf("this run: %d job%s run (%d failed), %d finished before, %d running in other workers%s%s\n", n->ran,
           n->ran == 1 ? "" : "s", n->failed, n->before, n->running, n->lost ? ", lost: " : "",
           n->lost ? "see above" : "");
  if (n->skipped) printf("not selected (%s): %d job%s\n", s->no_synth ? "--no-synth" : "--synth-only", n->skipped,
                         n->skipped == 1 ? "" : "s");
  print_table(rows);
  printf("wrote %s/sweep.csv, %s/sweep.json", s->dir, s->dir);
  const cJSON *p;
  cJSON_ArrayForEach(p, plots) printf(", %s", p->valuestring);
  printf(" in %.1f s\n", seconds);
}

int cmd_sweep(int argc, char **argv) {
  sweep *s = calloc(1, sizeof *s);
  if (!s) return usage_err("out of memory");
  s->limit = 0;
  s->batch = 64;
  s->seed = 1;
  s->jobs = 1;
  s->run_job = -1;
  s->store.lock_fd = s->store.worker_fd = -1;
  int rc = parse_args(s, argc, argv), created = 0;
  if (rc) {
    free(s);
    return rc < 0 ? 0 : rc;
  }
  double t0 = cli_now();
  int runs = !s->print_jobs && !s->collect;
  rc = find_paths(s, runs || s->configs_s || s->base_s);
  if (!rc) rc = open_plan(s, &created);
  if (!rc && s->print_jobs) {
    rc = print_jobs(s);
  } else if (!rc && s->run_job >= 0) {
    rc = run_one(s, s->run_job);
  } else if (!rc) {
    run_count n;
    memset(&n, 0, sizeof n);
    tally t;
    cJSON *rows = NULL, *plots = NULL;
    if (!s->collect) rc = run_sweep(s, &n);
    if (!rc) rc = collect(s, &rows, &plots, &t);
    if (!rc) {
      if (s->collect) n.before = t.done + t.failed;
      summary(s, created, &n, &t, rows, plots, cli_now() - t0);
      if (n.lost) rc = EXIT_DEVICE;
    }
    cJSON_Delete(rows);
    cJSON_Delete(plots);
  }
  nnf_tune_store_close(&s->store);
  free(s->job);
  free(s);
  return rc;
}
