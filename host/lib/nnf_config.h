/*
 * nnf_config.h - the device configurations of configs/ seen from the host
 * (docs/codesign.md). A device reports the id of the configuration file it
 * was built from in INFO (CONFIG_ID; 0: none); these functions compute a
 * file's id exactly as scripts/nnfconfig.py does and find the file of an id.
 */
#ifndef NNF_CONFIG_H
#define NNF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id of the configuration in `json` (a configs/ file's text): the CRC-32
 * of its canonical text folded to 16 bits, 1..0xffff. 0 when the text is
 * not a configuration (no "core" object of integers, or no "link"). */
uint32_t nnf_config_id_of_json(const char *json);

/* The id of a configuration file; 0 (and errno set) when it cannot be read
 * or is not a configuration. With name != NULL, the file's "name". */
uint32_t nnf_config_id_of_file(const char *path, char *name, size_t name_len);

/* The folders of configuration files: $NNF_CONFIG_DIR (a colon-separated
 * list, searched in order), else the source tree's configs/ this library
 * was built from. */
const char *nnf_config_dir(void);

/* The configuration file (path and "name") in nnf_config_dir()'s folders whose id is
 * `id`. 1 when found, 0 when no file has it (or id is 0). */
int nnf_config_find(uint32_t id, char *name, size_t name_len, char *path, size_t path_len);

#ifdef __cplusplus
}
#endif

#endif /* NNF_CONFIG_H */
