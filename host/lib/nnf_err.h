/*
 * nnf_err.h - the library's one way to report a failure: format a message
 * into the caller's buffer (err, errlen; either may be NULL/0) and return -1.
 */
#ifndef NNF_ERR_H
#define NNF_ERR_H

#include <stddef.h>

int nnf_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* NNF_ERR_H */
