/*
 * nnf_config.c - configuration ids and the configs/ folder (nnf_config.h).
 *
 * The canonical text (scripts/nnfconfig.py, docs/codesign.md) is one line
 * "NAME=VALUE\n" per member of "core", in byte order of the names, then
 * "link.kind=KIND\n" and, for a UART, "link.baud=BAUD\n". Its CRC-32 (IEEE)
 * c gives the id (c ^ c >> 16) & 0xffff, with 0 read as 1.
 */
#include "nnf_config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nnf_proto.h"

#ifndef NNF_CONFIG_SOURCE_DIR
#define NNF_CONFIG_SOURCE_DIR ""
#endif

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint32_t id_of(const cJSON *root) {
  const cJSON *core = cJSON_GetObjectItemCaseSensitive(root, "core");
  const cJSON *link = cJSON_GetObjectItemCaseSensitive(root, "link");
  const cJSON *kind = link ? cJSON_GetObjectItemCaseSensitive(link, "kind") : NULL;
  if (!cJSON_IsObject(core) || !cJSON_IsString(kind)) return 0;
  int n = cJSON_GetArraySize(core);
  if (n <= 0 || n > 256) return 0;
  const char *names[256];
  int k = 0;
  for (const cJSON *it = core->child; it; it = it->next) {
    double v = it->valuedouble;
    if (!cJSON_IsNumber(it) || !it->string || v < 0 || v > 4294967295.0 || v != (double)(uint32_t)v) return 0;
    names[k++] = it->string;
  }
  qsort(names, (size_t)k, sizeof *names, cmp_names);
  uint32_t crc = 0;
  char line[320];
  for (int i = 0; i < k; i++) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(core, names[i]);
    int len = snprintf(line, sizeof line, "%s=%lu\n", names[i], (unsigned long)(uint32_t)it->valuedouble);
    if (len < 0 || (size_t)len >= sizeof line) return 0;
    crc = nnfp_crc32(crc, (const uint8_t *)line, (size_t)len);
  }
  int len = snprintf(line, sizeof line, "link.kind=%s\n", kind->valuestring);
  if (len < 0 || (size_t)len >= sizeof line) return 0;
  crc = nnfp_crc32(crc, (const uint8_t *)line, (size_t)len);
  if (!strcmp(kind->valuestring, "uart")) {
    const cJSON *baud = cJSON_GetObjectItemCaseSensitive(link, "baud");
    if (!cJSON_IsNumber(baud) || baud->valuedouble < 1 || baud->valuedouble > 4294967295.0) return 0;
    len = snprintf(line, sizeof line, "link.baud=%lu\n", (unsigned long)(uint32_t)baud->valuedouble);
    crc = nnfp_crc32(crc, (const uint8_t *)line, (size_t)len);
  }
  uint32_t id = (crc ^ (crc >> 16)) & 0xffffu;
  return id ? id : 1;
}

uint32_t nnf_config_id_of_json(const char *json) {
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  uint32_t id = root ? id_of(root) : 0;
  cJSON_Delete(root);
  return id;
}

uint32_t nnf_config_id_of_file(const char *path, char *name, size_t name_len) {
  if (name && name_len) name[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      if (cap >= (1u << 20)) break; /* a configuration is a few kB: refuse larger files */
      cap = cap ? 2 * cap : 8192;
      char *p = realloc(buf, cap);
      if (!p) break;
      buf = p;
    }
    size_t got = fread(buf + len, 1, 4096, f);
    len += got;
    if (got < 4096) break;
  }
  fclose(f);
  if (!buf) return 0;
  buf[len] = 0;
  cJSON *root = cJSON_Parse(buf);
  free(buf);
  uint32_t id = root ? id_of(root) : 0;
  const cJSON *nm = root ? cJSON_GetObjectItemCaseSensitive(root, "name") : NULL;
  if (id && name && name_len && cJSON_IsString(nm)) snprintf(name, name_len, "%s", nm->valuestring);
  cJSON_Delete(root);
  if (!id) errno = EINVAL;
  return id;
}

const char *nnf_config_dir(void) {
  const char *env = getenv("NNF_CONFIG_DIR");
  return env && *env ? env : NNF_CONFIG_SOURCE_DIR;
}

static int find_in(const char *dir, uint32_t id, char *name, size_t name_len, char *path, size_t path_len) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int found = 0;
  struct dirent *e;
  while (!found && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json")) continue;
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    char nm[128];
    if (nnf_config_id_of_file(p, nm, sizeof nm) == id) {
      found = 1;
      if (name && name_len) snprintf(name, name_len, "%s", nm);
      if (path && path_len) snprintf(path, path_len, "%s", p);
    }
  }
  closedir(d);
  return found;
}

int nnf_config_find(uint32_t id, char *name, size_t name_len, char *path, size_t path_len) {
  const char *dirs = nnf_config_dir();
  if (!id) return 0;
  /* a colon-separated list, searched in order */
  while (*dirs) {
    size_t n = strcspn(dirs, ":");
    char dir[4096];
    if (n > 0 && n < sizeof dir) {
      memcpy(dir, dirs, n);
      dir[n] = 0;
      if (find_in(dir, id, name, name_len, path, path_len)) return 1;
    }
    dirs += n;
    if (*dirs == ':') dirs++;
  }
  return 0;
}
