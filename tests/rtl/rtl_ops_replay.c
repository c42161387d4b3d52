/*
 * rtl_ops_replay.c - run an operation list (nnf_ops.h) on the Verilated
 * engine, driving the ports as tb_gemm_icarus.v does, and write the bytes
 * read in the testbench's format; print the counters like the testbench.
 *
 *   rtl_ops_replay <ops.hex> <out.hex>
 */
#include <stdio.h>

#include "nnf_ops_replay.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: rtl_ops_replay <ops.hex> <out.hex>\n");
    return 2;
  }
  nnf_ops_list l;
  if (nnf_ops_load(argv[1], &l)) {
    fprintf(stderr, "rtl_ops_replay: cannot read %s\n", argv[1]);
    return 1;
  }
  FILE *out = fopen(argv[2], "w");
  nnfsim *s = nnfsim_create();
  if (!out || !s) {
    fprintf(stderr, "rtl_ops_replay: cannot open %s or create the simulator\n", argv[2]);
    return 1;
  }
  nnf_ops_counts n;
  char err[200];
  int rc = nnf_ops_replay(s, &l, out, 100000000, &n, err, sizeof err);
  if (fclose(out) != 0) rc = -1;
  nnfsim_destroy(s);
  nnf_ops_free(&l);
  if (rc) {
    fprintf(stderr, "rtl_ops_replay: %s\n", err);
    printf("ERROR %s\n", err);
    return 1;
  }
  printf("cycles %llu busy %llu macs %llu\n", (unsigned long long)n.cycles, (unsigned long long)n.busy,
         (unsigned long long)n.macs);
  return 0;
}
