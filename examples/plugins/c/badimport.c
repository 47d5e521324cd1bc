/* A plugin importing something the host does not offer: loading must fail
 * with an error naming env.mystery. */
__attribute__((import_module("env"), import_name("mystery"))) int mystery(void);
__attribute__((export_name("malloc"))) unsigned malloc_(unsigned n) { return n + (unsigned)mystery(); }
