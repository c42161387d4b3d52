/* fake_sim_module.c - a loadable module that is not a simulator module of
 * this build: a table of another ABI (FAKE_ABI), or none at all (without
 * FAKE_ABI). tests/e2e/trace_cli.sh checks that sim:module= refuses it by
 * name. */
#ifdef FAKE_ABI
__attribute__((visibility("default"))) const struct {
  unsigned abi;
} nnfsim_module_api = {FAKE_ABI};
#else
__attribute__((visibility("default"))) int nnfsim_fake_module_marker = 1;
#endif
