/*
 * bench_json.h - the C benches' bench.json: each bench replaces its own keys
 * in the file and keeps the others (bench_json.py does the same for the
 * Python ones).
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

/* path's JSON object, or a new one when the file is missing or not an object
   (said on stderr: the file is then replaced). */
static inline cJSON *bench_json_load(const char *path) {
  cJSON *root = NULL;
  FILE *f = fopen(path, "rb");
  int found = f != NULL;
  if (f) {
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *txt = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (txt && fread(txt, 1, (size_t)len, f) == (size_t)len) {
      txt[len] = 0;
      root = cJSON_Parse(txt);
    }
    free(txt);
    fclose(f);
  }
  if (!cJSON_IsObject(root)) {
    if (found) fprintf(stderr, "bench: %s is not a JSON object: replaced\n", path);
    cJSON_Delete(root);
    root = cJSON_CreateObject();
  }
  return root;
}

/* root's key replaced by value (which root then owns). */
static inline void bench_json_set(cJSON *root, const char *key, cJSON *value) {
  cJSON_DeleteItemFromObject(root, key);
  cJSON_AddItemToObject(root, key, value);
}

/* root written to path through a temporary file (and freed): 0, or -1. */
static inline int bench_json_save(const char *path, cJSON *root) {
  char *txt = cJSON_Print(root), tmp[4096];
  cJSON_Delete(root);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *o = txt ? fopen(tmp, "wb") : NULL;
  int ok = o && fputs(txt, o) >= 0 && fputc('\n', o) != EOF;
  if (o && fclose(o) != 0) ok = 0;
  free(txt);
  return ok && rename(tmp, path) == 0 ? 0 : -1;
}

#endif /* BENCH_JSON_H */
