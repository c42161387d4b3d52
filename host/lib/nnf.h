/*
 * nnf.h - libnnf, the host library of nnfpga: one include for the whole
 * library. See docs/host.md for the design.
 */
#ifndef NNF_H
#define NNF_H

#define NNF_VERSION_STRING "0.4.0"

#ifdef __cplusplus
extern "C" {
#endif

const char *nnf_version(void);

#ifdef __cplusplus
}
#endif
#endif /* NNF_H */
