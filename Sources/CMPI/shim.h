// Open MPI's C API (Debian's libopenmpi-dev) for data-parallel training. MPI's handles
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE) are macros over library globals, which Swift
// does not import; these functions carry them. Every call is on MPI_COMM_WORLD and returns MPI's
// error code (MPI_SUCCESS is 0); the world communicator returns errors instead of aborting, so a
// failure can be reported with the rank that saw it.
#include <mpi.h>

static inline int vae_mpi_initialize(void) {
    int provided = 0;
    int status = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (status == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return status;
}
static inline int vae_mpi_is_initialized(void) { int flag = 0; MPI_Initialized(&flag); return flag; }
static inline int vae_mpi_is_finalized(void) { int flag = 0; MPI_Finalized(&flag); return flag; }
static inline int vae_mpi_finalize(void) { return MPI_Finalize(); }
static inline int vae_mpi_rank(void) { int rank = -1; MPI_Comm_rank(MPI_COMM_WORLD, &rank); return rank; }
static inline int vae_mpi_size(void) { int size = 0; MPI_Comm_size(MPI_COMM_WORLD, &size); return size; }
static inline int vae_mpi_sum_floats(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int vae_mpi_sum_doubles(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static inline int vae_mpi_broadcast_bytes(void *bytes, int count, int root) {
    return MPI_Bcast(bytes, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
static inline int vae_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline int vae_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static inline double vae_mpi_time(void) { return MPI_Wtime(); }
