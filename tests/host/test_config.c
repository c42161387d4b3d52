/*
 * test_config.c - configuration ids (host/lib/nnf_config.c) against
 * scripts/nnfconfig.py, which the RTL's CONFIG_ID comes from:
 *   - two known answers, computed from the canonical text's definition
 *     (docs/codesign.md), so a change to the rule on both sides is caught;
 *   - every file of configs/: the C id equals `nnfconfig.py id`, and
 *     nnf_config_find() maps it back to that file and name;
 *   - the id ignores member order and "board", and moves with any core value
 *     and the link;
 *   - what is not a configuration has no id: not JSON, a string or a negative
 *     or fractional value in "core", no link, a UART without its baud, a file
 *     that does not exist.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_config.h"
#include "nnf_test.h"

#define SRC NNF_TEST_DATA "/../.."

static uint32_t python_id(const char *path) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "python3 '%s/scripts/nnfconfig.py' id '%s'", SRC, path);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  unsigned v = 0;
  int n = fscanf(p, "%x", &v);
  CHECK_EQ(pclose(p), 0);
  CHECK_EQ(n, 1);
  return v;
}

int main(void) {
  /* known answers (zlib.crc32 of the canonical text, folded) */
  CHECK_EQ(nnf_config_id_of_json("{\"name\":\"x\",\"core\":{\"B\":2,\"A\":1},\"link\":{\"kind\":\"stream\"}}"),
           0x3d5eu);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"A\":1,\"B\":3},\"link\":{\"kind\":\"uart\",\"baud\":115200}}"),
           0x0a09u);
  /* order and "board" do not matter; values and the link do */
  const char *base = "{\"core\":{\"ROWS\":4,\"COLS\":4},\"link\":{\"kind\":\"uart\",\"baud\":3000000}}";
  uint32_t id = nnf_config_id_of_json(base);
  CHECK(id != 0);
  CHECK_EQ(nnf_config_id_of_json("{\"board\":{\"top\":\"t\"},\"link\":{\"baud\":3000000,\"kind\":\"uart\"},"
                                 "\"core\":{\"COLS\":4,\"ROWS\":4}}"), id);
  CHECK(nnf_config_id_of_json("{\"core\":{\"ROWS\":4,\"COLS\":8},\"link\":{\"kind\":\"uart\",\"baud\":3000000}}") != id);
  CHECK(nnf_config_id_of_json("{\"core\":{\"ROWS\":4,\"COLS\":4},\"link\":{\"kind\":\"uart\",\"baud\":1000000}}") != id);
  CHECK(nnf_config_id_of_json("{\"core\":{\"ROWS\":4,\"COLS\":4},\"link\":{\"kind\":\"stream\"}}") != id);
  /* not configurations */
  CHECK_EQ(nnf_config_id_of_json(NULL), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":4"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":\"4\"},\"link\":{\"kind\":\"stream\"}}"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":-4},\"link\":{\"kind\":\"stream\"}}"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":4.5},\"link\":{\"kind\":\"stream\"}}"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":4}}"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":{\"ROWS\":4},\"link\":{\"kind\":\"uart\"}}"), 0u);
  CHECK_EQ(nnf_config_id_of_json("{\"core\":[4],\"link\":{\"kind\":\"stream\"}}"), 0u);
  CHECK_EQ(nnf_config_id_of_file(NNF_TEST_TMP "/no-such-config.json", NULL, 0), 0u);
  CHECK_EQ(nnf_config_find(0, NULL, 0, NULL, 0), 0);

  /* every shipped configuration, against the Python tool */
  setenv("NNF_CONFIG_DIR", SRC "/configs", 1);
  DIR *d = opendir(SRC "/configs");
  CHECK(d != NULL);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json")) continue;
    char path[4096], name[128], fname[128], fpath[4096];
    snprintf(path, sizeof path, "%s/configs/%s", SRC, e->d_name);
    uint32_t c = nnf_config_id_of_file(path, name, sizeof name);
    CHECK(c != 0);
    CHECK_EQ(c, python_id(path));
    CHECK_EQ(strncmp(e->d_name, name, n - 5), 0);
    CHECK_EQ(nnf_config_find(c, fname, sizeof fname, fpath, sizeof fpath), 1);
    CHECK_EQ(strcmp(fname, name), 0);
    files++;
  }
  closedir(d);
  CHECK(files >= 5); /* sim and the four boards */
  printf("test_config: %d configuration files agree with scripts/nnfconfig.py\n", files);
  return 0;
}
