// oneDNN's C API (Debian libdnnl-dev 2.6, OpenMP threading through libgomp).
#include <oneapi/dnnl/dnnl.h>

// The execution-argument indices are macros defined through other macros, which Swift does
// not import; these constants carry them.
static const int CDNNL_ARG_SRC = DNNL_ARG_SRC;
static const int CDNNL_ARG_DST = DNNL_ARG_DST;
static const int CDNNL_ARG_WEIGHTS = DNNL_ARG_WEIGHTS;
static const int CDNNL_ARG_BIAS = DNNL_ARG_BIAS;
static const int CDNNL_ARG_DIFF_SRC = DNNL_ARG_DIFF_SRC;
static const int CDNNL_ARG_DIFF_DST = DNNL_ARG_DIFF_DST;
static const int CDNNL_ARG_DIFF_WEIGHTS = DNNL_ARG_DIFF_WEIGHTS;
static const int CDNNL_ARG_DIFF_BIAS = DNNL_ARG_DIFF_BIAS;
static const int CDNNL_ARG_FROM = DNNL_ARG_FROM;
static const int CDNNL_ARG_TO = DNNL_ARG_TO;
static const int CDNNL_ARG_SCRATCHPAD = DNNL_ARG_SCRATCHPAD;

// libgomp's thread-count controls (omp.h is not on the default include path).
void omp_set_num_threads(int count);
int omp_get_max_threads(void);
