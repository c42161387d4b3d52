/* nnf_version.c - the library's version string. */
#include "nnf.h"

const char *nnf_version(void) { return NNF_VERSION_STRING; }
