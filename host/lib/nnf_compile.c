/*
 * nnf_compile.c - the buffer plan and program emission helpers (see
 * nnf_compile.h).
 */
#include "nnf_compile.h"

#include <string.h>

/* Take `words` from a region whose use so far is *used: the base. */
static uint32_t take(uint64_t *used, uint32_t words) {
  uint32_t base = (uint32_t)*used;
  *used += words;
  return base;
}

uint32_t nnf_plan_w(nnf_plan *p, uint32_t words) { return take(&p->w, words); }
uint32_t nnf_plan_p(nnf_plan *p, uint32_t entries) { return take(&p->p, entries); }
uint32_t nnf_plan_act(nnf_plan *p, uint32_t words) { return take(&p->a, words); }
uint32_t nnf_plan_state(nnf_plan *p, uint32_t entries) { return take(&p->st, entries); }

uint32_t nnf_plan_input(const nnf_plan *p, int i) {
  return i == 0 || p->act[i] == p->act[0] ? p->in_base[p->copy] : p->act[i];
}

uint8_t *nnf_plan_insn(nnf_plan *p) {
  if (p->pc >= p->cap) {
    p->ok = 0;
    return NULL;
  }
  uint8_t *i = p->prog + 32 * (size_t)p->pc++;
  memset(i, 0, 32);
  return i;
}
