/*
 * nnf_compile.h - what the device compiler (nnf_device.c) and the layers'
 * compile hooks (nnf_layer_ops.plan / pack / emit) share: the device's
 * configuration, the staging image in its layouts, the buffer plan being
 * built and the program being emitted. Depends only on the driver's
 * instruction encoders and the functional model's layouts.
 */
#ifndef NNF_COMPILE_H
#define NNF_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "nnfdrv.h"
#include "nnfm.h"

struct nnf_layer;

#ifdef __cplusplus
extern "C" {
#endif

#define NNF_PLAN_BOUNDARIES 97   /* NNF_MAX_LAYERS + 1 (checked in nnf_compile.c) */
#define NNF_PLAN_LIVE (4 * NNF_PLAN_BOUNDARIES)  /* live ACT regions (reuse) */
#define NNF_LAYER_LUTS 4         /* tables one layer may select (nnf_layer_ops.luts) */

typedef struct nnf_plan {
  const nnfm_config *cfg;
  uint32_t features;           /* the device's INFO feature bits (NNFP_FEAT_*) */
  const char *dev;             /* its URI (messages) */
  nnfm_engine *img;            /* staging image in the device's layouts */
  int B;                       /* rows per chunk */
  int pack;                    /* 1: the host allows PACK (nnf_device_set_pack) */
  int pack_layer;              /* the Conv2d whose input a PACK folds into the
                                  lanes (nnf_conv_packs): the input buffers then
                                  hold the dense map; -1: none */
  int fuse_pool;               /* 1: the host allows CONV's fused 2x2 max pooling
                                  (nnf_device_set_fuse_pool) */
  /* layer i a Conv2d whose CONV also max-pools (pool2, nnf_conv_fuses_pool):
   * boundary i + 1 is not on the device; pool_fused[k]: layer k the
   * MaxPool2d it runs (emits nothing; boundary k + 1 is the CONV's output) */
  uint8_t pooled[NNF_PLAN_BOUNDARIES], pool_fused[NNF_PLAN_BOUNDARIES];
  /* words used so far: W, P, ACT, LIF state entries */
  uint64_t w, p, a, st;
  /* ACT address of every boundary (boundary 0: input buffer 0) */
  uint32_t act[NNF_PLAN_BOUNDARIES];
  /* ACT reuse (inference: nothing but the network's outputs is read back):
   * the regions nnf_plan_act gave out that are still live; a boundary's is
   * freed once the layer reading it is planned (nnf_plan_act_free), and a
   * later one may take its words. `a` is then the high-water mark. Without
   * reuse every region stays (training reads every boundary back). */
  int reuse;
  int nlive;
  uint32_t live_base[NNF_PLAN_LIVE], live_words[NNF_PLAN_LIVE];
  uint8_t live_keep[NNF_PLAN_LIVE];  /* input buffers, constants: never freed */
  uint32_t in_base[2];         /* input buffers (two when streaming) */
  /* emission: instructions of 32 bytes into prog (room for cap) */
  uint8_t *prog;
  int pc, cap;
  int copy;                    /* program copy (input buffer) being emitted */
  int clear;                   /* LIF: this step clears the neurons' state */
  int8_t lut_slot[NNF_PLAN_BOUNDARIES];  /* the device LUT (INFO LUTS) layer i's table is in */
  /* the device LUT of layer i's table k (the luts hook's order; k = 0 is
   * lut_slot[i]) */
  int8_t lut_slots[NNF_PLAN_BOUNDARIES][NNF_LAYER_LUTS];
  /* parameter pages: when the layers' P entries do not fit the device's P,
   * layer i's entries are in page ppage[i] (each page based at entry 0,
   * pused[k] entries; the device compiler uploads a page before the
   * segment that uses it runs). npages 1: P holds them all. */
  int npages, ppage[NNF_PLAN_BOUNDARIES];
  uint64_t pused[NNF_PLAN_BOUNDARIES];
  int in_layer;                /* the layer whose input hook lays out the
                                  input buffers (nnf_layer_ops.input); -1: none */
  /* weight streaming (docs/memory.md): a streamed layer's W words and P
   * entries (stream[i]) are taken past the device's W and P, in the staging
   * image only (vw, vp so far): the device compiler sends them through the
   * banks and rewrites the layer's GEMM into one per chunk. cur: the layer
   * whose plan hook runs (-1: none). */
  uint8_t stream[NNF_PLAN_BOUNDARIES];
  int cur;
  uint64_t vw, vp;
  uint32_t s_wbase[NNF_PLAN_BOUNDARIES], s_pbase[NNF_PLAN_BOUNDARIES]; /* a streamed layer's first (virtual) W word and P entry */
  uint32_t s_words[NNF_PLAN_BOUNDARIES];  /* and its W words */
  int bank_prev;               /* emission: the bank the last chunk acquired (-1: none) */
  /* token tensors (the attention layers, docs/attention.md "Device"):
   * boundary i holds tok_rows[i] tokens of width / tok_rows[i] channels as
   * one GEMM operand (word base + ct * T + t, lane c % rows); 0: the
   * boundary's own layout */
  uint16_t tok_rows[NNF_PLAN_BOUNDARIES];
  /* the LUT group (LUTs 4*g .. 4*g+3) holding layer i's softmax exp table
   * (nnf_layer_ops.softmax_table; the device compiler's segments choose it) */
  int8_t row_tbl[NNF_PLAN_BOUNDARIES];
  /* ACT ranges that hold constants the pack hooks write (a positional
   * table, a pooling row): uploaded once, with the weights */
  int nconst;
  uint32_t const_base[2 * NNF_PLAN_BOUNDARIES], const_words[2 * NNF_PLAN_BOUNDARIES];
  int ok;                      /* 0 once an instruction did not encode */
} nnf_plan;

/* Reserve words of a region: the base address (W and P of a streamed
 * layer: past the device's, cfg->w_words + vw and cfg->p_words + vp). */
uint32_t nnf_plan_w(nnf_plan *p, uint32_t words);
uint32_t nnf_plan_p(nnf_plan *p, uint32_t entries);
uint32_t nnf_plan_act(nnf_plan *p, uint32_t words);
/* With p->reuse: the ACT region based at base (from nnf_plan_act) is dead;
 * later nnf_plan_act calls may overlap it. Input buffers and constants
 * stay. Nothing without reuse. */
void nnf_plan_act_free(nnf_plan *p, uint32_t base);
/* With p->reuse: the region based at base is never freed (an input buffer). */
void nnf_plan_act_keep(nnf_plan *p, uint32_t base);
uint32_t nnf_plan_state(nnf_plan *p, uint32_t entries);
/* ACT words for constants (nnf_plan.const_base): uploaded at load. */
uint32_t nnf_plan_act_const(nnf_plan *p, uint32_t words);
/* Where boundary i is read in the copy being emitted: the copy's input
 * buffer when i is the network's input or aliases it (layers before it
 * that cost the device nothing, e.g. Flatten or Dropout), else act[i]. */
uint32_t nnf_plan_input(const nnf_plan *p, int i);
/* Layer `index` (described as `what`) needs CONV / POOL: 0, or -1 with a
 * message when the device lacks FEAT_CONV. */
int nnf_plan_need_conv(const nnf_plan *p, int index, const char *what, char *err, size_t errlen);
/* A CONV / POOL of p->B images over an h x w input map with an oh x ow
 * output and kt K tiles (KH*KW*CT; 1 for a POOL) fits the walk's counters
 * and the record: B and the input sizes <= 1024, OH*OW*B and KT <= 65535
 * (NNFM_WALK_MAX). 0, or -1 with the numbers. */
int nnf_plan_walk_fits(const nnf_plan *p, int index, const char *what, uint32_t h, uint32_t w, uint32_t oh,
                       uint32_t ow, uint32_t kt, char *err, size_t errlen);
/* Whether the Conv2d l, reading the network's input, runs on the plan's
 * device as PACK and its KH x 1 form (docs/conv.md, "PACK"): PACK allowed
 * (p->pack) and reported (FEAT_PACK), Cin <= rows, fewer K tiles
 * (ceil(KW*Cin/rows) < KW*ceil(Cin/rows)), and the PACK's 1 x KW window
 * passes the model's pool-mode check (nnfm_window_check: no output column
 * of padding only) with M = H*OW <= NNFM_WALK_MAX for one image (the plan
 * then keeps H*OW*B within it, as for the CONV's M). 0 for any other layer. */
int nnf_conv_packs(const struct nnf_layer *l, const nnf_plan *p);
/* Whether layer l's weights may be streamed through the banks
 * (docs/memory.md): a Linear (one GEMM, or after a Flatten of a map one
 * CONV) or a Conv2d (a CONV, after a PACK when it packs its input): its N
 * tiles can run as instructions of their own. */
int nnf_layer_streamable(const struct nnf_layer *l);
/* Whether layer l costs the device an instruction of its own (a plan
 * hook, not folded into the layer before it, not a MaxPool2d its conv runs). */
int nnf_plan_runs(const nnf_plan *p, const struct nnf_layer *l);
/* Whether the Conv2d l runs the MaxPool2d after it as CONV's fused 2x2 max
 * pooling (docs/conv.md, "Fused 2x2 max pooling"): the host allows it
 * (p->fuse_pool) and the device reports FEAT_CONV and FEAT_CONV_POOL; the
 * next layer but those folded into the conv (a ReLU in its clamp) is a
 * MaxPool2d of kernel 2, stride 2, padding 0 without a clamp of its own (no
 * ReLU after it); the conv's output is at least 2 x 2; one image's walk,
 * 4*(OH/2)*(OW/2) rows, within NNFM_WALK_MAX (the plan keeps the batch's
 * within it). The pool's layer index, or -1. */
int nnf_conv_fuses_pool(const struct nnf_layer *l, const nnf_plan *p);
/* The next instruction slot (32 bytes, zeroed), or NULL when full. */
uint8_t *nnf_plan_insn(nnf_plan *p);

#ifdef __cplusplus
}
#endif
#endif /* NNF_COMPILE_H */
