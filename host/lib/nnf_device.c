/*
 * nnf_device.c - the device compiler and runner (see nnf_device.h): buffer
 * plan and program from the layer list (through the layers' plan, pack and
 * emit hooks), upload, input streaming and read-back.
 */
#include "nnf_device.h"
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm.h"

#define MAX_SEG NNF_MAX_LAYERS

/* One chunk of a streamed layer: its N tiles [t0, t1), whose W words and P
 * entries are at vw / vp in the staging image (docs/memory.md). */
typedef struct {
  int layer, bank;
  uint32_t t0, t1;
  uint32_t vw, words, vp, entries;
} nnf_chunk;

struct nnf_device {
  nnfdrv *drv;
  char *uri;                 /* as opened (a sim's trace= path may be long) */
  nnfm_config cfg;
  nnfm_engine *img;          /* staging image in the device's layouts */
  const nnf_net *net;        /* the loaded network */
  int spiking;
  int max_batch, prog_batch;
  nnf_plan plan;             /* buffer addresses for max_batch rows */
  int prog_len;              /* instructions of one program copy (streaming) */
  /* segments: layers [seg_first[s], seg_first[s + 1]) run as one program of
   * seg_len[s] instructions and an END, with table seg_lut[s][k] (of
   * tables) in the device's LUT k (-1: none); a new segment begins only
   * where a layer's tables need more LUTs than are free */
  int nseg, seg_first[MAX_SEG + 1], seg_len[MAX_SEG], seg_lut[MAX_SEG][NNFM_LUTS_MAX];
  int8_t tables[NNF_MAX_LAYERS * (NNF_LAYER_LUTS + 4)][256]; /* + 4: a softmax's exp table, byte by byte */
  int ntables;
  int seg_page[MAX_SEG];     /* the parameter page segment s uses (plan.ppage) */
  uint8_t *pages[NNF_PLAN_BOUNDARIES];  /* with plan.npages > 1: each page's P bytes */
  int resident_page;         /* the page in P, -1 none */
  int nluts;                 /* the device's resident LUTs (INFO LUTS) */
  int resident_lut[NNFM_LUTS_MAX];  /* table in LUT k, -1 none */
  int entry_first, entry_next;  /* rate coding: programs of step 0 and later steps */
  int outputs_only;          /* read back only the network's outputs (no backward pass) */
  int pack;                  /* PACK allowed (nnf_device_set_pack; default on) */
  int fuse_pool;             /* CONV's fused pooling allowed (nnf_device_set_fuse_pool; default on) */
  uint64_t images;
  /* weight streaming (docs/memory.md): layer i's weights go through the
   * banks when stream[i]; the plan may take w_cap W words and p_cap P
   * entries (the device's, less the banks' least); the chunks of one pass,
   * in order, chunk j in bank j & 1 (W words bank_w[b] .., P entries
   * bank_p[b] ..) */
  uint8_t stream[NNF_PLAN_BOUNDARIES];
  uint32_t w_cap, p_cap;
  nnf_chunk *chunk;
  int nchunks;
  uint32_t bank_w[2], bank_p[2], bank_words, bank_entries;
  int copies;                /* program copies (input buffers): 2, or 1 when two do not fit */
};

static int drv_fail(nnf_device *d, int rc, const char *what, char *err, size_t errlen) {
  return nnf_fail(err, errlen, "device %s: %s failed: %s (%s)", d->uri, what, nnfdrv_strerror(rc),
                  nnfdrv_errmsg(d->drv));
}

nnf_device *nnf_device_open(const char *uri, char *err, size_t errlen) {
  nnf_device *d = NULL;
  return nnf_device_connect(uri, &d, err, errlen) == NNFDRV_OK ? d : NULL;
}

int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen) {
  *out = NULL;
  nnf_device *d = calloc(1, sizeof *d);
  if (!d) {
    nnf_fail(err, errlen, "out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  const char *u = uri && *uri ? uri : "sim";
  d->uri = malloc(strlen(u) + 1);
  if (d->uri) memcpy(d->uri, u, strlen(u) + 1);
  if (!d->uri) {
    free(d);
    nnf_fail(err, errlen, "out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  int rc = nnfdrv_open(d->uri, &d->drv, err, errlen);
  if (rc) {
    free(d->uri);
    free(d);
    return rc;
  }
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  d->cfg = nnfm_config_default();
  d->cfg.rows = in->rows;
  d->cfg.cols = in->cols;
  d->cfg.act_words = in->act_words;
  d->cfg.w_words = in->w_words;
  d->cfg.p_words = in->p_words;
  d->cfg.acc_depth = in->acc_depth;
  if (!(in->features & 1) || nnfm_config_check(&d->cfg) != NNFM_OK || !(d->img = nnfm_engine_create(&d->cfg))) {
    nnf_fail(err, errlen, "device %s: its INFO record describes no usable GEMM engine", d->uri);
    nnf_device_close(d);
    return NNFDRV_ERR_PROTOCOL;
  }
  d->nluts = in->luts < 1 ? 1 : in->luts > NNFM_LUTS_MAX ? NNFM_LUTS_MAX : (int)in->luts;
  for (int k = 0; k < NNFM_LUTS_MAX; k++) d->resident_lut[k] = -1;
  d->pack = 1;
  d->fuse_pool = 1;
  d->w_cap = d->cfg.w_words;
  d->p_cap = d->cfg.p_words;
  d->copies = 2;
  *out = d;
  return NNFDRV_OK;
}

static void free_pages(nnf_device *d) {
  for (int k = 0; k < NNF_PLAN_BOUNDARIES; k++) free(d->pages[k]), d->pages[k] = NULL;
}

void nnf_device_close(nnf_device *d) {
  if (!d) return;
  free_pages(d);
  free(d->chunk);
  if (d->drv) nnfdrv_close(d->drv);
  nnfm_engine_destroy(d->img);
  free(d->uri);
  free(d);
}

const char *nnf_device_uri(const nnf_device *d) { return d->uri; }

nnfdrv *nnf_device_driver(nnf_device *d) { return d->drv; }

/* Bytes of a word range of ACT. */
static size_t act_bytes(const nnf_device *d, uint32_t words) { return (size_t)words * d->cfg.rows; }

/* Bytes of one P entry (all lanes), by the model's region size. */
static size_t p_entry_bytes(const nnf_device *d) {
  return (size_t)(nnfm_region_bytes(&d->cfg, NNFDRV_P) / d->cfg.p_words);
}

/* The staging image's bytes [src, src + len) of a region to the device's
 * at dst. */
static int upload_to(nnf_device *d, int region, uint32_t src, uint32_t dst, size_t len, const char *what, char *err,
                     size_t errlen) {
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return nnf_fail(err, errlen, "out of memory");
  int rc = nnfm_engine_read_bytes(d->img, region, src, buf, len);
  if (rc == NNFM_OK) rc = nnfdrv_write(d->drv, region, dst, buf, len);
  else rc = NNFDRV_ERR_ARG;
  free(buf);
  return rc ? drv_fail(d, rc, what, err, errlen) : 0;
}

static int upload_range(nnf_device *d, int region, uint32_t addr, size_t len, const char *what, char *err,
                        size_t errlen) {
  return upload_to(d, region, addr, addr, len, what, err, errlen);
}

/* ---- the plan --------------------------------------------------------------- */

/* A boundary's device map (docs/conv.md): a C x H x W map is the
 * feature-map layout; a flat one (H = W = 1) is the same as a GEMM's rows. */
static int is_map(const nnf_tensor *t) { return t->mh * t->mw > 1; }

static uint32_t map_words(const nnfm_config *c, const nnf_tensor *t, int B) {
  if (!is_map(t)) return nnfm_act_words(c, (uint32_t)B, (uint32_t)t->width);
  return nnfm_fmap_words(c, (uint32_t)t->mc, (uint32_t)t->mh, (uint32_t)t->mw, (uint32_t)B);
}

/* Whether ACT words at base are read after layer i is planned: a boundary
 * placed there (itself, or through layers that cost the device nothing) is
 * a later layer's input, or the network's output. */
static int region_read_after(const nnf_net *n, const nnf_plan *p, int i, uint32_t base) {
  for (int b = 0; b <= i + 1; b++) {
    if (p->act[b] != base) continue;
    if (b == n->nlayers) return 1;
    for (int j = i + 1; j < n->nlayers; j++)
      if (n->layer[j]->src == b || n->layer[j]->src2 == b) return 1;
  }
  return 0;
}

/* The layout for batches of B rows into p: the input buffer(s) (two when
 * streaming), then what each layer places. 0 if it fits, else a message. */
static int plan(nnf_device *d, const nnf_net *n, int B, nnf_plan *p, char *err, size_t errlen) {
  const nnfm_config *c = &d->cfg;
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  memset(p, 0, sizeof *p);
  p->cur = -1;
  memcpy(p->stream, d->stream, sizeof p->stream);
  p->cfg = c;
  p->features = in->features;
  p->dev = d->uri;
  p->img = d->img;
  p->B = B;
  /* the first layer the device runs reads the input: a Conv2d there may
   * PACK it (not in spiking programs, whose inputs stay feature maps) */
  p->pack = d->pack && !d->spiking;
  p->pack_layer = -1;
  /* a conv may run the MaxPool2d(2) after it (the conv's own output then
   * never reaches ACT: only when no backward pass reads it back) */
  p->fuse_pool = d->fuse_pool && d->outputs_only && !d->spiking;
  p->in_layer = -1;
  for (int i = 0; i < n->nlayers && !(in->features & NNFP_FEAT_TFL_ROUND); i++)
    if (n->layer[i]->round == NNFM_ROUND_TFLITE) {
      snprintf(err, errlen,
               "device %s does not round as TFLite (its INFO lacks feature bit 10, FEAT_TFL_ROUND): layer %d (%s) "
               "requantizes with TFLite's double rounding (an imported TFLite model: docs/import.md)",
               d->uri, i, n->layer[i]->ops->kind);
      return -1;
    }
  for (int i = 0; i < n->nlayers; i++) {
    const nnf_layer *l = n->layer[i];
    if (!l->ops->plan || l->fused) continue;
    /* (a layer that lays the input out its own way is its one reader: a
     * chain up to it) */
    int chain = 1;
    for (int b = 0; b <= i; b++) chain &= nnf_net_readers(n, b) == 1 && n->layer[b]->src == b;
    if (!chain) break;
    if (nnf_conv_packs(l, p)) p->pack_layer = i;
    if (l->ops->input && !d->spiking && l->ops->input((nnf_layer *)l, p, 0, NULL, B)) p->in_layer = i;
    break;
  }
  /* a ZeroPad2d runs as the padding of the Conv2d after it (nnf_pad.c),
   * its output's one reader */
  for (int i = 0, pad[4]; i < n->nlayers; i++)
    if (nnf_layer_zeropad(n->layer[i], pad) &&
        (i + 1 >= n->nlayers || !nnf_layer_conv(n->layer[i + 1]) || n->layer[i + 1]->src != i + 1 ||
         nnf_net_readers(n, i + 1) != 1)) {
      char what[64];
      n->layer[i]->ops->describe(n->layer[i], what, sizeof what);
      return nnf_fail(err, errlen, "layer %d (%s): on the device a ZeroPad2d runs only as the padding of a Conv2d "
                      "right after it, its output's one reader", i, what);
    }
  /* graphs: the map layers, Linear and Add (recurrent, attention and LIF
   * layers keep regions of their own) */
  if (nnf_net_is_graph(n))
    for (int i = 0; i < n->nlayers; i++)
      if (nnf_layer_attn(n->layer[i], NULL, NULL) >= 0 || nnf_layer_rnn(n->layer[i], NULL, NULL, NULL, NULL) >= 0 ||
          nnf_layer_lif_config(n->layer[i]))
        return nnf_fail(err, errlen, "layer %d (%s): on the device a network with residual joins (Add, from=) runs "
                        "map layers, Linear and Add only", i, n->layer[i]->ops->kind);
  /* a dense input takes ceil(H*W*Cin*B / rows) words, as PACK's check counts */
  const nnf_tensor *t0 = &n->t[0];
  uint32_t in_words = p->pack_layer >= 0
                          ? nnfm_dense_words(c, (uint32_t)t0->mc, (uint32_t)t0->mh, (uint32_t)t0->mw, (uint32_t)B)
                          : map_words(c, t0, B);
  if (p->in_layer >= 0) {
    nnf_layer *l = n->layer[p->in_layer];
    in_words = l->ops->input(l, p, 0, NULL, B);
  }
  /* inference reuses ACT: a boundary's words are free once its reader is
   * planned (training reads every boundary back; spiking programs re-read
   * theirs every step) */
  p->reuse = d->outputs_only && !d->spiking;
  for (int i = 0; i < n->nlayers; i++) /* (attention and recurrent layers keep theirs: token tensors, scratch) */
    if (nnf_layer_attn(n->layer[i], NULL, NULL) >= 0 || nnf_layer_rnn(n->layer[i], NULL, NULL, NULL, NULL) >= 0)
      p->reuse = 0;
  p->in_base[0] = nnf_plan_act(p, in_words);
  p->in_base[1] = d->spiking ? p->in_base[0] : nnf_plan_act(p, in_words);
  nnf_plan_act_keep(p, p->in_base[0]);
  nnf_plan_act_keep(p, p->in_base[1]);
  p->act[0] = p->in_base[0];
  p->npages = 1;
  int p_layer = -1; /* the first layer whose parameters alone exceed P (refused after W's check) */
  uint64_t p_need = 0;
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    if (nnf_plan_runs(p, l)) { /* a conv marks the pool it runs before the loop reaches it */
      uint64_t w0 = p->w, a0 = p->a, s0 = p->st, p0 = p->p, vw0 = p->vw, vp0 = p->vp;
      int c0 = p->nconst, l0 = p->nlive, r0 = p->reuse;
      if (p->tok_rows[i] && nnf_layer_attn(l, NULL, NULL)) {
        char what[256];
        l->ops->describe(l, what, sizeof what);
        return nnf_fail(err, errlen,
                        "layer %d (%s) reads layer %d's tokens: on the device only the attention layers and the token "
                        "pools read a sequence of tokens (pool them first: meanpool or clspool)",
                        i, what, i - 1);
      }
      p->cur = i;
      if (l->ops->plan(l, p, err, errlen)) return -1;
      int retried = p->p > d->p_cap && p0 > 0 && !d->spiking && p->npages < NNF_PLAN_BOUNDARIES;
      if (retried) {
        /* the layer's parameters start a new page (uploaded before its segment runs) */
        p->w = w0, p->a = a0, p->st = s0, p->p = 0, p->vw = vw0, p->vp = vp0, p->nconst = c0;
        p->nlive = l0, p->reuse = r0;
        p->npages++;
        if (l->ops->plan(l, p, err, errlen)) return -1;
      }
      if (p->p > d->p_cap && (p0 == 0 || retried) && !d->spiking && p_layer < 0) /* the layer alone is too many */
        p_layer = i, p_need = p->p;
      p->cur = -1;
    } else {
      p->act[i + 1] = p->act[l->src];
      p->tok_rows[i + 1] = p->tok_rows[l->src];
    }
    /* an input no later layer reads: its words are free */
    if (!region_read_after(n, p, i, p->act[l->src])) nnf_plan_act_free(p, p->act[l->src]);
    if (l->src2 >= 0 && !region_read_after(n, p, i, p->act[l->src2])) nnf_plan_act_free(p, p->act[l->src2]);
    p->ppage[i] = p->npages - 1;
    p->pused[p->npages - 1] = p->p;
  }
  if (d->spiking && (!(in->features & 4) || !in->state_words))
    return nnf_fail(err, errlen, "device %s has no LIF cores (INFO feature bit 2)", d->uri);
  if (p->w > d->w_cap) {
    if (d->w_cap < c->w_words)
      return nnf_fail(err, errlen, "the resident weights need %llu W words; device %s has %u after its two banks "
                      "for the streamed layers", (unsigned long long)p->w, d->uri, d->w_cap);
    int banks = (in->features & NNFP_FEAT_BANKS) && in->banks >= 2;
    return nnf_fail(err, errlen, "the weights need %llu W words; device %s has %u%s", (unsigned long long)p->w, d->uri,
                    c->w_words,
                    !banks        ? " and no banks to stream them through"
                    : d->spiking ? " (a spiking network streams only the layers before its first LIF, with static input: "
                                   "the others run at every step)"
                                 : "");
  }
  if (p_layer >= 0) {
    char what[256];
    n->layer[p_layer]->ops->describe(n->layer[p_layer], what, sizeof what);
    return nnf_fail(err, errlen, "layer %d (%s) needs %llu parameter entries; device %s has %u", p_layer, what,
                    (unsigned long long)p_need, d->uri, d->p_cap);
  }
  for (int k = 0; k < p->npages; k++)
    if (p->pused[k] > d->p_cap)
      return nnf_fail(err, errlen, "the layers need %llu parameter entries; device %s has %u",
                      (unsigned long long)p->pused[k], d->uri, d->p_cap);
  if (p->a > c->act_words)
    return nnf_fail(err, errlen, "a batch of %d needs %llu ACT words; device %s has %u%s", B,
                    (unsigned long long)p->a, d->uri, c->act_words, d->spiking || B == 1 ? "" : " (use a smaller batch)");
  if (p->st > in->state_words)
    return nnf_fail(err, errlen, "a batch of %d needs %llu LIF state entries; device %s has %u", B,
                    (unsigned long long)p->st, d->uri, in->state_words);
  return 0;
}

/* Largest batch (<= want) whose buffers fit: halving for spiking networks,
 * a binary search otherwise; 0 if none. */
static int fit_batch(nnf_device *d, const nnf_net *n, int want) {
  nnf_plan p;
  if (d->spiking) {
    int B = want;
    while (B > 1 && plan(d, n, B, &p, NULL, 0)) B /= 2;
    return plan(d, n, B, &p, NULL, 0) ? 0 : B;
  }
  int lo = 1, hi = want;
  if (plan(d, n, 1, &p, NULL, 0)) return 0;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (plan(d, n, mid, &p, NULL, 0)) hi = mid - 1;
    else lo = mid;
  }
  return lo;
}

/* ---- programs ------------------------------------------------------------------ */

/* A streamed layer's weighted instruction (docs/memory.md): a GEMM or a
 * CONV. Its N (channels), and its output rows per N tile (the output
 * layout is N-tile major: tile nt's rows start at o_base + nt * rows). */
static int weighted(const uint8_t *in) {
  uint32_t op = nnfp_insn_get_opcode(in);
  return op == NNFP_OP_GEMM || op == NNFP_OP_CONV;
}

static uint32_t weighted_n(const uint8_t *in) {
  return nnfp_insn_get_opcode(in) == NNFP_OP_GEMM ? nnfp_gemm_get_n(in) : nnfp_conv_get_n(in);
}

static uint32_t weighted_rows(const uint8_t *in) {
  if (nnfp_insn_get_opcode(in) == NNFP_OP_GEMM) return nnfp_gemm_get_m(in);
  uint32_t h = nnfp_conv_get_h_m1(in) + 1, w = nnfp_conv_get_w_m1(in) + 1, b = nnfp_conv_get_b_m1(in) + 1;
  uint32_t oh = (h + 2 * nnfp_conv_get_ph(in) + nnfp_conv_get_eh(in) - nnfp_conv_get_kh(in)) /
                    (nnfp_conv_get_sh_m1(in) + 1) + 1,
           ow = (w + 2 * nnfp_conv_get_pw(in) + nnfp_conv_get_ew(in) - nnfp_conv_get_kw(in)) /
                    (nnfp_conv_get_sw_m1(in) + 1) + 1;
  return nnfp_conv_get_pool2(in) ? (oh / 2) * (ow / 2) * b : oh * ow * b;
}

/* The chunk's instruction: the layer's, with N cut to the chunk's channels,
 * W and P at its bank, the output moved by t0 tiles. */
static uint8_t *chunk_insn(const nnf_device *d, nnf_plan *p, const uint8_t *g, const nnf_chunk *c) {
  const uint32_t C = (uint32_t)d->cfg.cols, n = weighted_n(g);
  uint8_t *gi = nnf_plan_insn(p);
  if (!gi) return NULL;
  memcpy(gi, g, 32);
  uint32_t n1 = c->t1 * C < n ? c->t1 * C : n;
  if (nnfp_insn_get_opcode(g) == NNFP_OP_GEMM) nnfp_gemm_put_n(gi, n1 - c->t0 * C);
  else nnfp_conv_put_n(gi, n1 - c->t0 * C);
  /* W, P and O sit at the same bytes in GEMM and CONV */
  nnfp_gemm_put_w_base(gi, d->bank_w[c->bank]);
  nnfp_gemm_put_p_base(gi, d->bank_p[c->bank]);
  nnfp_gemm_put_o_base(gi, nnfp_gemm_get_o_base(g) + c->t0 * weighted_rows(g));
  return gi;
}

static int emit_bank(nnf_plan *p, int release, int acquire) {
  uint8_t *b = nnf_plan_insn(p);
  return b && nnfdrv_insn_bank(b, release, acquire) == NNFDRV_OK ? 0 : -1;
}

/* A streamed layer: what it emits before its weighted instruction (a PACK)
 * stays; the weighted instruction becomes per chunk a BANK (release the
 * last chunk's bank, acquire this one's) and the instruction of the chunk's
 * N tiles from the bank's W and P; after the last streamed layer a BANK
 * releases the last bank. With FEAT_REL the full chunks go two at a time
 * through one LOOP body (acquire, chunk, release and acquire, chunk,
 * release; the output base relative, the stride two chunks' output words),
 * so a layer costs at most a dozen instructions however many chunks it has. */
static int emit_streamed(nnf_device *d, nnf_layer *l, nnf_plan *p) {
  int pc0 = p->pc;
  if (l->ops->emit(l, p)) return -1;
  if (p->pc <= pc0 || !weighted(p->prog + 32 * (size_t)(p->pc - 1))) {
    p->ok = 0;
    return -1;
  }
  uint8_t g[32];
  memcpy(g, p->prog + 32 * (size_t)(p->pc - 1), 32);
  p->pc--;
  const uint32_t C = (uint32_t)d->cfg.cols, n = weighted_n(g), rows = weighted_rows(g);
  int first = -1, k = 0, last = 0;
  for (int j = 0; j < d->nchunks; j++) {
    last = d->chunk[j].layer;
    if (d->chunk[j].layer == l->index) {
      if (first < 0) first = j;
      k++;
    }
  }
  if (first < 0) return -1;
  const nnf_chunk *c0 = &d->chunk[first];
  const uint32_t per = c0->t1 - c0->t0;
  /* full chunks: per tiles of COLS channels each */
  int full = 0;
  while (full < k && d->chunk[first + full].t1 - d->chunk[first + full].t0 == per &&
         d->chunk[first + full].t1 * C <= n)
    full++;
  int pairs = (p->features & NNFP_FEAT_REL) && full >= 4 ? full / 2 : 0, j = first;
  if (pairs) {
    if (p->bank_prev >= 0 && emit_bank(p, p->bank_prev, -1)) return -1;
    int body = p->pc, b0 = c0->bank, b1 = d->chunk[first + 1].bank;
    uint8_t *gi;
    if (emit_bank(p, -1, b0) || !(gi = chunk_insn(d, p, g, c0)) || nnfdrv_insn_set_rel(gi, 0, 1, 0) ||
        emit_bank(p, b0, b1) || !(gi = chunk_insn(d, p, g, &d->chunk[first + 1])) ||
        nnfdrv_insn_set_rel(gi, 0, 1, 0) || emit_bank(p, b1, -1))
      return -1;
    uint8_t *lp = nnf_plan_insn(p);
    if (!lp || nnfdrv_insn_loop_stride(lp, (uint32_t)body, (uint32_t)pairs, 2 * per * rows) != NNFDRV_OK) return -1;
    p->bank_prev = -1;
    j = first + 2 * pairs;
  }
  for (; j < first + k; j++) {
    const nnf_chunk *c = &d->chunk[j];
    if (emit_bank(p, p->bank_prev, c->bank) || !chunk_insn(d, p, g, c)) return -1;
    p->bank_prev = c->bank;
  }
  if (l->index == last && p->bank_prev >= 0) {
    if (emit_bank(p, p->bank_prev, -1)) return -1;
    p->bank_prev = -1;
  }
  return 0;
}

/* Emit layers [first, last) (those that cost the device something). */
static int emit_layers(nnf_device *d, const nnf_net *n, nnf_plan *p, int first, int last) {
  for (int i = first; i < last; i++) {
    nnf_layer *l = n->layer[i];
    if (!l->ops->emit || !nnf_plan_runs(p, l)) continue;
    if (d->stream[i] ? emit_streamed(d, l, p) : l->ops->emit(l, p)) return -1;
  }
  return 0;
}

static int emit_end(nnf_plan *p) {
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return -1;
  nnfdrv_insn_end(insn);
  return 0;
}

static int write_prog(nnf_device *d, nnf_plan *p, char *err, size_t errlen) {
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  if ((uint32_t)p->pc > in->prog_words)
    return nnf_fail(err, errlen, "the program needs %d instructions; device %s has %u", p->pc, d->uri, in->prog_words);
  int rc = nnfdrv_write(d->drv, NNFDRV_PROG, 0, p->prog, (size_t)p->pc * 32);
  return rc ? drv_fail(d, rc, "program upload", err, errlen) : 0;
}

/* Streaming: two copies of the program, one per input buffer; copy c starts
 * at instruction c * prog_len, and segment s of a copy at its offset. */
static int stream_program(nnf_device *d, nnf_plan *p, int B) {
  const nnf_net *n = d->net;
  p->B = B;
  for (int copy = 0; copy < d->copies; copy++) {
    p->copy = copy;
    p->bank_prev = -1;
    for (int s = 0; s < d->nseg; s++) {
      int pc0 = p->pc;
      if (emit_layers(d, n, p, d->seg_first[s], d->seg_first[s + 1]) || emit_end(p)) return -1;
      d->seg_len[s] = p->pc - pc0 - 1;
    }
  }
  d->prog_len = p->pc / d->copies;
  return 0;
}

/* Spiking: the layers before the first time-varying one (static input)
 * once, step 0 clearing the neurons, the other T - 1 steps in a LOOP; with
 * time-varying input two one-step programs (with and without clear). */
/* The spiking layers before the first time-varying one: with static input
 * (t[0].steps == 1) they run once, before the steps; 0 otherwise. */
static int static_prefix(const nnf_net *n) {
  int ft = 0;
  if (n->t[0].steps != 1) return 0;
  while (ft < n->nlayers && n->t[ft + 1].steps == 1 && !nnf_layer_lif_config(n->layer[ft])) ft++;
  return ft;
}

static int step_program(nnf_device *d, nnf_plan *p, int B) {
  const nnf_net *n = d->net;
  int T = n->steps, L = n->nlayers, ft = static_prefix(n);
  p->B = B;
  p->copy = 0;
  p->bank_prev = -1;
  if (n->t[0].steps == 1) {
    if (emit_layers(d, n, p, 0, ft)) return -1;
    p->clear = 1;
    if (emit_layers(d, n, p, ft, L)) return -1;
    if (T > 1) {
      int body = p->pc;
      p->clear = 0;
      if (emit_layers(d, n, p, ft, L)) return -1;
      if (T > 2) {
        uint8_t *insn = nnf_plan_insn(p);
        if (!insn || nnfdrv_insn_loop(insn, (uint32_t)body, (uint32_t)(T - 1)) != NNFDRV_OK) return -1;
      }
    }
    return emit_end(p);
  }
  d->entry_first = p->pc;
  p->clear = 1;
  if (emit_layers(d, n, p, 0, L) || emit_end(p)) return -1;
  d->entry_next = p->pc;
  p->clear = 0;
  if (emit_layers(d, n, p, 0, L) || emit_end(p)) return -1;
  return 0;
}

/* Emit and upload the program for chunks of B rows. */
static int write_program(nnf_device *d, int B, char *err, size_t errlen) {
  nnf_plan p = d->plan;
  /* room past the device's program memory, so that write_prog says by how much a program is too long */
  p.cap = 4 * NNF_MAX_LAYERS + 8 + 2 * (2 * d->nchunks + 2) + 2 * (int)nnfdrv_get_info(d->drv)->prog_words + 4096;
  p.pc = 0;
  p.ok = 1;
  if (!(p.prog = calloc((size_t)p.cap, 32))) return nnf_fail(err, errlen, "out of memory");
  int rc = d->spiking ? step_program(d, &p, B) : stream_program(d, &p, B);
  if (!rc && p.ok && !d->spiking && d->copies == 2 && (uint32_t)p.pc > nnfdrv_get_info(d->drv)->prog_words) {
    /* streamed chunks or an encoder make the program long: one copy (one input buffer) */
    d->copies = 1;
    p.pc = 0;
    rc = stream_program(d, &p, B);
  }
  if (rc || !p.ok) {
    free(p.prog);
    return nnf_fail(err, errlen, "an instruction does not encode: a LIF parameter, the step count or a map size is out of the device's range");
  }
  rc = write_prog(d, &p, err, errlen);
  free(p.prog);
  if (!rc) d->prog_batch = B;
  return rc;
}

/* The int8 form of a layer with weights (Linear or Conv2d; NULL for another). */
static const nnf_qlayer *weights_q(nnf_layer *l) {
  const nnf_qlayer *Q = nnf_layer_qlayer(l);
  return Q ? Q : nnf_layer_conv_qlayer(l);
}

/* The tables layer l's instructions select (nnf_layer_ops.luts, else a
 * Linear / Conv2d's LUT activation): their count. */
static int layer_tables(nnf_layer *l, const int8_t **t) {
  if (l->ops->luts) return l->ops->luts(l, t, NNF_LAYER_LUTS);
  const nnf_qlayer *Q = weights_q(l);
  if (!Q || !Q->lut) return 0;
  t[0] = Q->table;
  return 1;
}

/* The four byte planes of a softmax exp table, as ROW reads them from LUTs
 * 4*g .. 4*g+3 (nnfdrv_softmax_luts). */
static void exp_planes(const int32_t *t, int8_t planes[4][256]) {
  uint8_t lut[1024];
  memset(lut, 0, sizeof lut);
  nnfdrv_softmax_luts(t, lut); /* nnfm_softmax_table's entries are in range */
  memcpy(planes, lut, sizeof lut);
}

static void new_segment(nnf_device *d, int first, int page) {
  d->seg_first[d->nseg] = first;
  for (int k = 0; k < NNFM_LUTS_MAX; k++) d->seg_lut[d->nseg][k] = -1;
  d->seg_page[d->nseg++] = page;
}

/* A group of four free LUTs (4*g .. 4*g+3) for segment s's softmax exp
 * table, or -1: consecutive segments prefer different groups (the top one
 * for even segments), so that chunk after chunk each re-uploads only the
 * LUTs the other took. */
static int free_group(const nnf_device *d, const int *seg, int s) {
  const int groups = d->nluts / 4;
  for (int k = 0; k < groups; k++) {
    int g = (groups - 1 - s % 2 - k + 2 * groups) % groups, free = 1;
    for (int b = 0; b < 4 && free; b++) free = seg[4 * g + b] < 0;
    if (free) return g;
  }
  return -1;
}

/* Segments and LUTs: each distinct table (by content) of a segment takes
 * one of the device's LUTs (plan.lut_slots[i][k] says which layer i's
 * table k selects; lut_slot[i] is its first), the lowest free one; a
 * softmax's exp table takes a group of four, LUTs 4*g .. 4*g+3
 * (plan.row_tbl[i] = g; free_group). A new segment begins where a layer's
 * new tables do not fit the LUTs left (with one LUT: wherever the table
 * changes). A layer needing more tables than the device has LUTs is
 * refused. */
static int segments(nnf_device *d, const nnf_net *n, char *err, size_t errlen) {
  d->nseg = 0;
  d->ntables = 0;
  new_segment(d, 0, 0);
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    const int8_t *t[NNF_LAYER_LUTS];
    int runs = nnf_plan_runs(&d->plan, l), nt = runs ? layer_tables(l, t) : 0;
    const int32_t *xt = runs && l->ops->softmax_table ? l->ops->softmax_table(l) : NULL;
    memset(d->plan.lut_slots[i], 0, sizeof d->plan.lut_slots[i]);
    d->plan.lut_slot[i] = 0;
    d->plan.row_tbl[i] = 0;
    if (d->plan.ppage[i] != d->seg_page[d->nseg - 1]) /* a new parameter page: a new segment */
      new_segment(d, i, d->plan.ppage[i]);
    if (!nt && !xt) continue;
    /* the layer's distinct tables */
    int distinct = 0;
    for (int k = 0; k < nt; k++) {
      int dup = 0;
      for (int j = 0; j < k && !dup; j++) dup = !memcmp(t[j], t[k], 256);
      distinct += !dup;
    }
    if (distinct + (xt ? 4 : 0) > d->nluts) {
      char what[256];
      l->ops->describe(l, what, sizeof what);
      return nnf_fail(err, errlen, "layer %d (%s) needs %d activation tables at once%s; device %s has %d LUT%s (INFO LUTS)",
                      i, what, distinct + (xt ? 4 : 0), xt ? " (four for its softmax's exp table)" : "", d->uri,
                      d->nluts, d->nluts == 1 ? "" : "s");
    }
    int8_t planes[4][256];
    if (xt) exp_planes(xt, planes);
    for (int attempt = 0; attempt < 2; attempt++) {
      int *seg = d->seg_lut[d->nseg - 1];
      int grp = -1; /* the exp table's group, when the segment holds it already */
      for (int g = 0; xt && g < d->nluts / 4 && grp < 0; g++) {
        int same = 1;
        for (int b = 0; b < 4 && same; b++) same = seg[4 * g + b] >= 0 && !memcmp(d->tables[seg[4 * g + b]], planes[b], 256);
        if (same) grp = g;
      }
      /* the tables not resident in the segment, and its free LUTs */
      int fresh = 0, free_luts = 0;
      for (int k = 0; k < nt; k++) {
        int found = 0;
        for (int j = 0; j < d->nluts && !found; j++) found = seg[j] >= 0 && !memcmp(d->tables[seg[j]], t[k], 256);
        for (int j = 0; j < k && !found; j++) found = !memcmp(t[j], t[k], 256);
        fresh += !found;
      }
      for (int j = 0; j < d->nluts; j++) free_luts += seg[j] < 0;
      int g_new = xt && grp < 0 ? free_group(d, seg, d->nseg - 1) : -1;
      if ((xt && grp < 0 && g_new < 0) || fresh + 4 * (xt && grp < 0) > free_luts) {
        new_segment(d, i, d->seg_page[d->nseg - 1]); /* an empty segment always fits (checked above) */
        continue;
      }
      if (xt && grp < 0) {
        grp = g_new;
        for (int b = 0; b < 4; b++) {
          memcpy(d->tables[d->ntables], planes[b], 256);
          seg[4 * grp + b] = d->ntables++;
        }
      }
      if (xt) d->plan.row_tbl[i] = (int8_t)grp;
      for (int k = 0; k < nt; k++) {
        int slot = -1;
        for (int j = 0; j < d->nluts && slot < 0; j++)
          if (seg[j] >= 0 && !memcmp(d->tables[seg[j]], t[k], 256)) slot = j;
        for (int j = 0; j < d->nluts && slot < 0; j++)
          if (seg[j] < 0) {
            slot = j;
            memcpy(d->tables[d->ntables], t[k], 256);
            seg[j] = d->ntables++;
          }
        d->plan.lut_slots[i][k] = (int8_t)slot;
      }
      d->plan.lut_slot[i] = d->plan.lut_slots[i][0];
      break;
    }
  }
  d->seg_first[d->nseg] = n->nlayers;
  return 0;
}

/* ---- weight streaming (docs/memory.md) ----------------------------------------------- */

/* A streamed (or would-be streamed) layer's N tiles and the W words of
 * one (all its K rows for COLS channels), from its instruction as it emits
 * it under plan p (in a scratch program) and the words p gave it. 0, or -1
 * when it emits no GEMM or CONV last. */
static int layer_tiles(const nnf_device *d, nnf_plan *p, nnf_layer *l, uint32_t *nt, uint32_t *tile) {
  nnf_plan q = *p;
  uint8_t prog[4 * 32];
  q.prog = prog;
  q.cap = 4;
  q.pc = 0;
  q.ok = 1;
  q.copy = 0;
  if (l->ops->emit(l, &q) || !q.ok || q.pc < 1 || !weighted(prog + 32 * (size_t)(q.pc - 1))) return -1;
  const uint32_t C = (uint32_t)d->cfg.cols;
  *nt = (weighted_n(prog + 32 * (size_t)(q.pc - 1)) + C - 1) / C;
  if (!*nt || p->s_words[l->index] % *nt) return -1;
  *tile = p->s_words[l->index] / *nt;
  return 0;
}

/* Which layers' weights go through the banks: none when they all fit W (or
 * the device has fewer than two banks: the plan then says they do not
 * fit). Otherwise every streamable layer (nnf_layer_streamable; in a
 * spiking network only those before the steps, with static input) starts
 * streamed, and the largest are made resident while the rest still leaves
 * room for two banks of the largest streamed tile: most bytes stay on the
 * device, fewest cross the link. Sets d->stream, d->w_cap, d->p_cap. */
static int choose_streaming(nnf_device *d, const nnf_net *n, char *err, size_t errlen) {
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  memset(d->stream, 0, sizeof d->stream);
  d->w_cap = d->cfg.w_words;
  d->p_cap = d->cfg.p_words;
  nnf_plan p;
  if (plan(d, n, 1, &p, NULL, 0) && p.cur >= 0) return 0; /* a layer's own refusal: reported by the load */
  if (p.w <= d->cfg.w_words || !(in->features & NNFP_FEAT_BANKS) || in->banks < 2) return 0;
  int last = d->spiking ? static_prefix(n) : n->nlayers, cand[NNF_PLAN_BOUNDARIES], nc = 0;
  for (int i = 0; i < last; i++) {
    nnf_layer *l = n->layer[i];
    if (!nnf_plan_runs(&p, l) || !nnf_layer_streamable(l)) continue;
    cand[nc++] = i;
    d->stream[i] = 1;
  }
  if (!nc) return 0;
  /* the plan with every candidate streamed: their words and tiles */
  if (plan(d, n, 1, &p, NULL, 0) && p.cur >= 0) {
    memset(d->stream, 0, sizeof d->stream);
    return 0;
  }
  uint32_t words[NNF_PLAN_BOUNDARIES] = {0}, tile[NNF_PLAN_BOUNDARIES] = {0}, ntiles[NNF_PLAN_BOUNDARIES] = {0};
  for (int a = 0; a < nc; a++) {
    if (layer_tiles(d, &p, n->layer[cand[a]], &ntiles[cand[a]], &tile[cand[a]])) {
      d->stream[cand[a]] = 0; /* not cut into tiles: resident */
      continue;
    }
    words[cand[a]] = p.s_words[cand[a]];
  }
  /* P entries of the resident layers (a tile's N channels take one entry);
   * the banks keep two (p_cap below): a layer made resident must fit both
   * W and P, else the program would need parameter pages, which streaming
   * does not combine with */
  uint64_t pres = p.p;
  uint64_t wres = p.w;
  for (int a = 0; a < nc; a++)
    if (!d->stream[cand[a]]) wres += p.s_words[cand[a]];
  /* largest first */
  for (int a = 0; a < nc; a++)
    for (int b = a + 1; b < nc; b++)
      if (words[cand[b]] > words[cand[a]]) {
        int x = cand[a];
        cand[a] = cand[b];
        cand[b] = x;
      }
  for (int a = 0; a < nc; a++) {
    int i = cand[a];
    if (!d->stream[i]) continue;
    uint64_t tmax = 0;
    for (int b = 0; b < nc; b++)
      if (b != a && d->stream[cand[b]] && tile[cand[b]] > tmax) tmax = tile[cand[b]];
    if (tmax && wres + words[i] + 2 * tmax <= d->cfg.w_words && pres + ntiles[i] + 2 <= d->cfg.p_words) {
      d->stream[i] = 0;
      wres += words[i];
      pres += ntiles[i];
    }
  }
  uint64_t tmax = 0, streamed = 0;
  for (int a = 0; a < nc; a++) {
    if (!d->stream[cand[a]]) continue;
    streamed += words[cand[a]];
    if (tile[cand[a]] > tmax) tmax = tile[cand[a]];
  }
  if (!streamed || wres + 2 * tmax > d->cfg.w_words || d->cfg.p_words < 4) {
    memset(d->stream, 0, sizeof d->stream);
    if (!streamed) return 0;
    return nnf_fail(err, errlen,
                    "the weights need %llu W words; device %s has %u: streaming %llu of them through its banks still "
                    "leaves %llu resident and needs two banks of at least %llu words (one N tile of the widest "
                    "streamed layer)",
                    (unsigned long long)(wres + streamed), d->uri, d->cfg.w_words, (unsigned long long)streamed,
                    (unsigned long long)wres, (unsigned long long)tmax);
  }
  d->w_cap = d->cfg.w_words - 2 * (uint32_t)tmax;
  d->p_cap = d->cfg.p_words - 2;
  return 0;
}

static int next_pow2(uint64_t x, uint32_t *out) {
  uint64_t v = 2;
  while (v < x) v <<= 1;
  if (v > (1u << 24)) return -1;
  *out = (uint32_t)v;
  return 0;
}

/* The staging image for a streaming plan: W and P past the device's hold the
 * streamed layers (nnf_plan_w / _p). */
static int grow_image(nnf_device *d, const nnf_plan *p, char *err, size_t errlen) {
  nnfm_config c = d->cfg;
  if (next_pow2((uint64_t)d->cfg.w_words + p->vw, &c.w_words) || next_pow2((uint64_t)d->cfg.p_words + p->vp, &c.p_words) ||
      c.p_words > (1u << 16))
    return nnf_fail(err, errlen, "the streamed weights (%llu W words) are too large to stage", (unsigned long long)p->vw);
  if (c.w_words == d->img->cfg.w_words && c.p_words == d->img->cfg.p_words) return 0;
  nnfm_engine *img = nnfm_engine_create(&c);
  if (!img) return nnf_fail(err, errlen, "out of memory");
  nnfm_engine_destroy(d->img);
  d->img = img;
  return 0;
}

/* The chunks of one pass, from the final plan: the banks take what the
 * resident layers leave of W and P, halved; a chunk is as many N tiles of
 * its layer as a bank holds. */
static int make_chunks(nnf_device *d, const nnf_net *n, char *err, size_t errlen) {
  nnf_plan *p = &d->plan;
  free(d->chunk);
  d->chunk = NULL;
  d->nchunks = 0;
  d->bank_words = (uint32_t)((d->cfg.w_words - p->w) / 2);
  d->bank_entries = (uint32_t)((d->cfg.p_words - p->pused[0]) / 2);
  for (int b = 0; b < 2; b++) {
    d->bank_w[b] = (uint32_t)p->w + (uint32_t)b * d->bank_words;
    d->bank_p[b] = (uint32_t)p->pused[0] + (uint32_t)b * d->bank_entries;
  }
  int cap = 0;
  for (int i = 0; i < n->nlayers; i++) {
    if (!d->stream[i]) continue;
    uint32_t nt, tile;
    if (layer_tiles(d, &d->plan, n->layer[i], &nt, &tile))
      return nnf_fail(err, errlen, "layer %d: its instruction does not cut into N tiles", i);
    uint32_t per = d->bank_words / tile < d->bank_entries ? d->bank_words / tile : d->bank_entries;
    if (per == 0) return nnf_fail(err, errlen, "layer %d: one N tile (%u W words) does not fit a bank of %u", i, tile, d->bank_words);
    for (uint32_t t0 = 0; t0 < nt; t0 += per) {
      if (d->nchunks == cap) {
        cap = cap ? 2 * cap : 16;
        nnf_chunk *c = realloc(d->chunk, (size_t)cap * sizeof *c);
        if (!c) return nnf_fail(err, errlen, "out of memory");
        d->chunk = c;
      }
      nnf_chunk *c = &d->chunk[d->nchunks];
      c->layer = i;
      c->bank = d->nchunks & 1;
      c->t0 = t0;
      c->t1 = t0 + per < nt ? t0 + per : nt;
      c->vw = p->s_wbase[i] + t0 * tile;
      c->words = (c->t1 - t0) * tile;
      c->vp = p->s_pbase[i] + t0;
      c->entries = c->t1 - t0;
      d->nchunks++;
    }
  }
  return 0;
}

/* One pass of the streamed weights, while the program runs: per chunk,
 * wait until its bank is empty, fill its W and P, post it. */
static int stream_weights(nnf_device *d, char *err, size_t errlen) {
  const uint32_t C = (uint32_t)d->cfg.cols, pe = (uint32_t)p_entry_bytes(d);
  for (int j = 0; j < d->nchunks; j++) {
    const nnf_chunk *c = &d->chunk[j];
    int rc = nnfdrv_bank_wait(d->drv, (unsigned)c->bank);
    if (rc) return drv_fail(d, rc, "bank wait", err, errlen);
    if (upload_to(d, NNFDRV_W, c->vw * C, d->bank_w[c->bank] * C, (size_t)c->words * C, "weight streaming", err,
                  errlen) ||
        upload_to(d, NNFDRV_P, c->vp * pe, d->bank_p[c->bank] * pe, (size_t)c->entries * pe, "parameter streaming",
                  err, errlen))
      return -1;
    if ((rc = nnfdrv_bank_post(d->drv, (unsigned)c->bank))) return drv_fail(d, rc, "bank post", err, errlen);
  }
  return 0;
}

int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen) {
  if (!n->quantized) return nnf_fail(err, errlen, "the network is not quantized yet");
  if (max_batch < 1 || max_batch > 65535) return nnf_fail(err, errlen, "batch %d out of range", max_batch);
  d->spiking = nnf_net_spiking(n);
  if (d->spiking)
    for (int i = 0; i < n->nlayers; i++) {
      const nnf_qlayer *Q = weights_q(n->layer[i]);
      if (Q && Q->lut) return nnf_fail(err, errlen, "layer %d: LUT activations in a spiking program are not supported", i);
    }
  d->max_batch = 0;
  d->net = NULL;
  d->nchunks = 0;
  d->copies = 2;
  if (choose_streaming(d, n, err, errlen)) return -1;
  int streams = 0;
  for (int i = 0; i < NNF_PLAN_BOUNDARIES; i++) streams |= d->stream[i];
  /* streamed weights cross the link once a batch: the largest batch the
   * buffers hold amortises them best (a forward of fewer rows runs fewer) */
  int B = fit_batch(d, n, streams ? 65535 : max_batch);
  if (B < 1) {
    plan(d, n, 1, &d->plan, err, errlen);
    return -1;
  }
  plan(d, n, B, &d->plan, NULL, 0);
  int streaming = d->plan.vw > 0;
  if (streaming && (grow_image(d, &d->plan, err, errlen) || plan(d, n, B, &d->plan, err, errlen))) return -1;
  if (!d->spiking && segments(d, n, err, errlen)) return -1;
  if (streaming) {
    if (d->plan.npages > 1 || d->nseg > 1)
      return nnf_fail(err, errlen, "device %s: streamed weights with more than one program segment (parameter pages "
                      "or more activation tables than its LUTs) are not supported", d->uri);
    if (make_chunks(d, n, err, errlen)) return -1;
    /* no program runs and every bank is empty */
    int rc = nnfdrv_reset(d->drv, NNFP_RESET_ARG_ABORT);
    if (rc) return drv_fail(d, rc, "reset", err, errlen);
  }
  free_pages(d);
  for (int pg = 0; pg < d->plan.npages; pg++) {
    for (int i = 0; i < n->nlayers; i++) {
      nnf_layer *l = n->layer[i];
      if (d->plan.ppage[i] == pg && l->ops->pack && nnf_plan_runs(&d->plan, l) && l->ops->pack(l, &d->plan, err, errlen))
        return -1;
    }
    if (d->plan.npages > 1) { /* keep the page's P bytes for start() */
      size_t len = (size_t)d->plan.pused[pg] * p_entry_bytes(d);
      if (!(d->pages[pg] = malloc(len ? len : 1))) return nnf_fail(err, errlen, "out of memory");
      nnfm_engine_read_bytes(d->img, NNFDRV_P, 0, d->pages[pg], len);
    }
  }
  for (int k = 0; k < d->plan.nconst; k++) /* constants in ACT (a positional table, a pooling row) */
    if (upload_range(d, NNFDRV_ACT, d->plan.const_base[k] * (uint32_t)d->cfg.rows,
                     act_bytes(d, d->plan.const_words[k]), "constant upload", err, errlen))
      return -1;
  if (upload_range(d, NNFDRV_W, 0, (size_t)d->plan.w * d->cfg.cols, "weight upload", err, errlen) ||
      (d->plan.npages == 1 &&
       upload_range(d, NNFDRV_P, 0, (size_t)d->plan.p * p_entry_bytes(d), "parameter upload", err, errlen)))
    return -1;
  d->resident_page = d->plan.npages == 1 ? 0 : -1;
  d->net = n;
  d->max_batch = B;
  for (int k = 0; k < NNFM_LUTS_MAX; k++) d->resident_lut[k] = -1;
  return write_program(d, B, err, errlen);
}

/* ---- streaming (networks without spiking layers) ---------------------------------- */

/* WRITE a chunk's inputs into input buffer `buf`: a dense map (H*W*Cin
 * bytes an image) when the first layer PACKs it, else the first layer's
 * layout. */
static int put_inputs(nnf_device *d, uint32_t base, const int8_t *xq, int B, int K, char *err, size_t errlen) {
  const nnf_tensor *t = &d->net->t[0];
  const uint32_t C = (uint32_t)t->mc, H = (uint32_t)t->mh, W = (uint32_t)t->mw;
  const int dense = d->plan.pack_layer >= 0;
  if (d->plan.in_layer >= 0) { /* a layer's own layout (a recurrent layer's regions) */
    nnf_plan p = d->plan;
    p.B = B;
    nnf_layer *l = d->net->layer[p.in_layer];
    uint32_t words = l->ops->input(l, &p, base, xq, B);
    if (!words) return nnf_fail(err, errlen, "inputs do not pack");
    int rc = nnfdrv_write(d->drv, NNFDRV_ACT, base * (uint32_t)d->cfg.rows, d->img->act + act_bytes(d, base),
                          act_bytes(d, words));
    return rc ? drv_fail(d, rc, "input upload", err, errlen) : 0;
  }
  int rc = dense        ? nnfm_engine_put_dense(d->img, base, xq, (uint32_t)B, C, H, W)
           : is_map(t) ? nnfm_engine_put_fmap(d->img, base, xq, (uint32_t)B, C, H, W)
                       : nnfm_engine_put_act(d->img, base, xq, (uint32_t)B, (uint32_t)K);
  if (rc != NNFM_OK) return nnf_fail(err, errlen, "inputs do not pack");
  uint32_t words = dense ? nnfm_dense_words(&d->cfg, C, H, W, (uint32_t)B) : map_words(&d->cfg, t, B);
  rc = nnfdrv_write(d->drv, NNFDRV_ACT, base * (uint32_t)d->cfg.rows, d->img->act + act_bytes(d, base),
                    act_bytes(d, words));
  return rc ? drv_fail(d, rc, "input upload", err, errlen) : 0;
}

/* Run program copy `buf` segment by segment, uploading LUTs as needed. With
 * one segment the RUN returns at once and the caller overlaps the next
 * chunk's input upload with it; `waited` says whether it already waited. */
static int start(nnf_device *d, int buf, int *waited, char *err, size_t errlen) {
  int rc, pc = buf * d->prog_len;
  *waited = d->nseg > 1;
  for (int s = 0; s < d->nseg; s++) {
    int pg = d->seg_page[s];
    if (pg != d->resident_page) {
      size_t len = (size_t)d->plan.pused[pg] * p_entry_bytes(d);
      if ((rc = nnfdrv_write(d->drv, NNFDRV_P, 0, d->pages[pg], len)))
        return drv_fail(d, rc, "parameter upload", err, errlen);
      d->resident_page = pg;
    }
    for (int k = 0; k < d->nluts; k++) {
      int lut = d->seg_lut[s][k];
      if (lut < 0 || lut == d->resident_lut[k]) continue;
      if ((rc = nnfdrv_write(d->drv, NNFDRV_LUT, (uint32_t)k * 256u, d->tables[lut], 256)))
        return drv_fail(d, rc, "LUT upload", err, errlen);
      d->resident_lut[k] = lut;
    }
    if ((rc = nnfdrv_run(d->drv, (uint32_t)pc))) return drv_fail(d, rc, "run", err, errlen);
    if (d->nchunks && stream_weights(d, err, errlen)) return -1;
    if (d->nseg > 1 && (rc = nnfdrv_wait(d->drv))) return drv_fail(d, rc, "run", err, errlen);
    pc += d->seg_len[s] + 1;
  }
  return 0;
}

/* Whether the device holds layer i's output: a planned layer's, but a conv
 * whose CONV max-pools (its output is the fused MaxPool2d's, in ACT at that
 * layer's boundary). */
static int holds_output(const nnf_device *d, const nnf_net *n, int i) {
  const nnf_layer *l = n->layer[i];
  return l->ops->plan && !l->fused && !d->plan.pooled[i];
}

/* READ every planned layer's outputs of a chunk of B rows starting at row
 * `first` into the network's boundaries (a READ waits for the program). */
static int get_outputs(nnf_device *d, nnf_net *n, int B, size_t first, int buf, char *err, size_t errlen) {
  int last = -1; /* the last layer the device computes: its output is the network's */
  for (int i = 0; i < n->nlayers; i++)
    if (holds_output(d, n, i)) last = i;
  int in_read = 0; /* input buffer buf read back (for output hooks) */
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    if (!holds_output(d, n, i)) continue;
    if (d->outputs_only && i != last) continue;
    const nnf_tensor *y = &n->t[i + 1];
    uint32_t base = d->plan.act[i + 1], W = (uint32_t)l->out;
    nnf_plan p = d->plan;
    p.B = B;
    if (l->ops->output && d->plan.in_layer >= 0 && !l->ops->output(l, &p, 0, NULL, B)) {
      /* the outputs stay in the input buffer's layout */
      uint32_t in = d->plan.in_base[buf];
      nnf_layer *il = n->layer[p.in_layer];
      int rc = 0;
      if (!in_read)
        rc = nnfdrv_read(d->drv, NNFDRV_ACT, in * (uint32_t)d->cfg.rows, d->img->act + act_bytes(d, in),
                         act_bytes(d, il->ops->input(il, &p, 0, NULL, B)));
      if (rc) return drv_fail(d, rc, "activation read-back", err, errlen);
      in_read = 1;
      if (l->ops->output(l, &p, in, y->q + first * W, B)) return nnf_fail(err, errlen, "outputs do not unpack");
      continue;
    }
    /* a sequence of tokens (one a chunk): T rows of W / T channels */
    uint32_t T = d->plan.tok_rows[i + 1];
    uint32_t words = T ? nnfm_act_words(&d->cfg, T, W / T) : map_words(&d->cfg, y, B);
    int rc = nnfdrv_read(d->drv, NNFDRV_ACT, base * (uint32_t)d->cfg.rows, d->img->act + act_bytes(d, base),
                         act_bytes(d, words));
    if (rc) return drv_fail(d, rc, "activation read-back", err, errlen);
    if (T)
      nnfm_engine_get_act(d->img, base, y->q + first * W, T, W / T);
    else if (is_map(y))
      nnfm_engine_get_fmap(d->img, base, y->q + first * W, (uint32_t)B, (uint32_t)y->mc, (uint32_t)y->mh, (uint32_t)y->mw);
    else nnfm_engine_get_act(d->img, base, y->q + first * W, (uint32_t)B, W);
  }
  return 0;
}

/* Chunks of up to max_batch rows, streamed: while chunk i runs from one input
 * buffer, chunk i + 1's inputs are written to the other; then chunk i's
 * outputs are read back and chunk i + 1 started. */
static int stream(nnf_device *d, nnf_net *n, int batch, char *err, size_t errlen) {
  const int8_t *xq = n->t[0].q;
  int K = nnf_net_inputs(n);
  int nchunks = (batch + d->max_batch - 1) / d->max_batch;
  int last = batch - (nchunks - 1) * d->max_batch;
  int B0 = nchunks > 1 ? d->max_batch : last;
  if (B0 != d->prog_batch && write_program(d, B0, err, errlen)) return -1;
  if (put_inputs(d, d->plan.in_base[0], xq, B0, K, err, errlen)) return -1;
  for (int c = 0; c < nchunks; c++) {
    int buf = d->copies == 2 ? c & 1 : 0, B = c + 1 < nchunks ? d->max_batch : last, waited;
    size_t first = (size_t)c * d->max_batch;
    if (start(d, buf, &waited, err, errlen)) return -1;
    int next_B = c + 2 < nchunks ? d->max_batch : last;
    /* the last chunk may be shorter: its program is rewritten, which must
     * wait for this one, so its inputs go in afterwards; with one program
     * copy the next inputs wait for this chunk too */
    int overlap = c + 1 < nchunks && next_B == B && d->copies == 2;
    if (overlap && put_inputs(d, d->plan.in_base[buf ^ 1], xq + (first + (size_t)B) * K, next_B, K, err, errlen))
      return -1;
    if (get_outputs(d, n, B, first, buf, err, errlen)) return -1;
    (void)waited;
    d->images += (uint64_t)B;
    if (c + 1 < nchunks && !overlap) {
      if (next_B != d->prog_batch && write_program(d, next_B, err, errlen)) return -1;
      if (put_inputs(d, d->plan.in_base[d->copies == 2 ? buf ^ 1 : 0], xq + (first + (size_t)B) * K, next_B, K, err,
                     errlen))
        return -1;
    }
  }
  return 0;
}

/* ---- time steps (spiking networks) ------------------------------------------------- */

static int run_wait(nnf_device *d, uint32_t entry, char *err, size_t errlen) {
  int rc = nnfdrv_run(d->drv, entry);
  if (!rc && d->nchunks && stream_weights(d, err, errlen)) return -1;
  if (!rc) rc = nnfdrv_wait(d->drv);
  return rc ? drv_fail(d, rc, "run", err, errlen) : 0;
}


/* One chunk of B rows from row `row0`: inputs in (per step when rate-coded),
 * the T steps, the last layer's spike counts out. */
static int step_chunk(nnf_device *d, nnf_net *n, const float *x, int B, size_t row0, uint64_t base,
                      int32_t *counts, char *err, size_t errlen) {
  const nnf_tensor *t0 = &n->t[0];
  int K = t0->width, L = n->nlayers, C = nnf_net_outputs(n), T = n->steps;
  size_t cnt = (size_t)B * K, nc = (size_t)B * C;
  int8_t *q = malloc(cnt);
  uint8_t *raw = malloc(nc * NNFP_STATE_BYTES);
  int rc = 0;
  if (!q || !raw) rc = nnf_fail(err, errlen, "out of memory");
  if (!rc && B != d->prog_batch) rc = write_program(d, B, err, errlen);
  if (!rc && t0->steps == 1) {
    for (size_t i = 0; i < cnt; i++) q[i] = (int8_t)nnfm_quantize_real(x[i], t0->r.scale, t0->r.zp, -128, 127);
    rc = put_inputs(d, d->plan.in_base[0], q, B, K, err, errlen);
    if (!rc) rc = run_wait(d, 0, err, errlen);
  } else if (!rc) {
    for (int t = 0; t < T && !rc; t++) {
      for (size_t i = 0; i < cnt; i++) q[i] = (int8_t)nnf_rate_spike(base, row0 + i / (size_t)K, t, i % (size_t)K, x[i]);
      rc = put_inputs(d, d->plan.in_base[0], q, B, K, err, errlen);
      if (!rc) rc = run_wait(d, (uint32_t)(t ? d->entry_next : d->entry_first), err, errlen);
    }
  }
  if (!rc) {
    uint32_t s0 = nnf_lif_state_base(n->layer[L - 1]);
    int drc = nnfdrv_read(d->drv, NNFDRV_STATE, s0 * (uint32_t)NNFP_STATE_BYTES, raw, nc * NNFP_STATE_BYTES);
    if (drc) rc = drv_fail(d, drc, "spike count read-back", err, errlen);
  }
  for (size_t i = 0; !rc && i < nc; i++) counts[i] = (int32_t)nnfp_state_get_count(raw + NNFP_STATE_BYTES * i);
  if (!rc) d->images += (uint64_t)B;
  free(q);
  free(raw);
  return rc;
}

int nnf_device_forward(nnf_device *d, nnf_net *n, const float *x, int batch, char *err, size_t errlen) {
  if (d->net != n || !d->max_batch) return nnf_fail(err, errlen, "the network is not loaded on device %s", d->uri);
  if (batch < 1 || batch > 65535) return nnf_fail(err, errlen, "batch %d out of range 1..65535", batch);
  if (nnf_net_reserve(n, batch, err, errlen)) return -1;
  if (!d->spiking) {
    nnf_net_quantize_input(n, x, batch);
    if (stream(d, n, batch, err, errlen)) return -1;
    nnf_pass p = nnf_net_pass(n, NNF_FWD_DEVICE, batch, 0, 1);
    return nnf_net_forward(n, &p, x, err, errlen);
  }
  int C = nnf_net_outputs(n);
  uint64_t base = n->t[0].steps > 1 ? nnf_rng_next(&n->rng) : 0;
  for (int first = 0; first < batch; first += d->max_batch) {
    int B = batch - first < d->max_batch ? batch - first : d->max_batch;
    if (step_chunk(d, n, x + (size_t)first * nnf_net_inputs(n), B, (size_t)first, base, n->counts + (size_t)first * C,
                   err, errlen))
      return -1;
  }
  for (size_t i = 0; i < (size_t)batch * C; i++) n->logits[i] = (float)n->counts[i];
  n->last_mode = NNF_FWD_DEVICE;
  n->last_batch = batch;
  return 0;
}

int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen) {
  nnfdrv_counters c;
  int rc = nnfdrv_get_counters(d->drv, &c);
  if (rc) return drv_fail(d, rc, "counter read", err, errlen);
  f->cycles = c.cycles;
  f->busy_cycles = c.busy_cycles;
  f->stall_cycles = c.stall_cycles;
  f->macs = c.macs;
  f->bytes_in = c.bytes_in;
  f->bytes_out = c.bytes_out;
  f->images = d->images;
  f->rows = d->cfg.rows;
  f->cols = d->cfg.cols;
  return 0;
}

int nnf_device_memory_get(const nnf_device *d, nnf_device_memory *m) {
  memset(m, 0, sizeof *m);
  if (!d || !d->net || !d->max_batch) return -1;
  const uint64_t C = (uint64_t)d->cfg.cols, pe = p_entry_bytes(d);
  m->batch = d->max_batch;
  m->copies = d->spiking ? 1 : d->copies;
  m->resident_w_bytes = d->plan.w * C;
  m->resident_p_bytes = d->plan.p * pe;
  m->chunks = d->nchunks;
  for (int i = 0; i < NNF_PLAN_BOUNDARIES; i++) m->streamed_layers += d->stream[i];
  if (d->nchunks) {
    m->bank_words = d->bank_words;
    m->bank_entries = d->bank_entries;
  }
  for (int j = 0; j < d->nchunks; j++) m->streamed_bytes += d->chunk[j].words * C + d->chunk[j].entries * pe;
  return 0;
}

void nnf_device_set_outputs_only(nnf_device *d, int on) {
  if (d) d->outputs_only = on != 0;
}

void nnf_device_set_pack(nnf_device *d, int on) {
  if (d) d->pack = on != 0;
}

int nnf_device_packed(const nnf_device *d) { return d && d->net && d->max_batch && d->plan.pack_layer >= 0; }

void nnf_device_set_fuse_pool(nnf_device *d, int on) {
  if (d) d->fuse_pool = on != 0;
}

int nnf_device_batch(const nnf_device *d) { return d && d->net ? d->max_batch : 0; }

int nnf_device_pools_fused(const nnf_device *d) {
  int k = 0;
  if (!d || !d->net || !d->max_batch) return 0;
  for (int i = 0; i < d->net->nlayers; i++) k += d->plan.pool_fused[i];
  return k;
}

int nnf_device_reset_counters(nnf_device *d, char *err, size_t errlen) {
  int rc = nnfdrv_reset(d->drv, 1);
  if (rc) return drv_fail(d, rc, "counter reset", err, errlen);
  d->images = 0;
  return 0;
}
