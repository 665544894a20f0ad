// Open MPI's C API (Debian's libopenmpi-dev) for data-parallel training. MPI's handles
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE) are macros over library globals, which Swift
// does not import; these functions carry them. Every call is on MPI_COMM_WORLD and returns MPI's
// error code (MPI_SUCCESS is 0); the world communicator returns errors instead of aborting, so a
// failure can be reported with the rank that saw it.
#include <mpi.h>
#include <stdint.h>
#include <string.h>

// MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (the progress thread of the
// gradient sums calls it while the main thread computes, and the main thread only after it).
static inline int vae_mpi_initialize(void) {
    int provided = 0;
    int status = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (status == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return status;
}
// Whether the library gave at least MPI_THREAD_SERIALIZED.
static inline int vae_mpi_threads_serialized(void) {
    int provided = 0;
    MPI_Query_thread(&provided);
    return provided >= MPI_THREAD_SERIALIZED;
}
static inline int vae_mpi_is_initialized(void) { int flag = 0; MPI_Initialized(&flag); return flag; }
static inline int vae_mpi_is_finalized(void) { int flag = 0; MPI_Finalized(&flag); return flag; }
static inline int vae_mpi_finalize(void) { return MPI_Finalize(); }
static inline int vae_mpi_rank(void) { int rank = -1; MPI_Comm_rank(MPI_COMM_WORLD, &rank); return rank; }
static inline int vae_mpi_size(void) { int size = 0; MPI_Comm_size(MPI_COMM_WORLD, &size); return size; }
static inline int vae_mpi_sum_floats(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

// Nonblocking sums (MPI_Iallreduce): a request per call, completed by vae_mpi_test_all or
// vae_mpi_wait_all. Open MPI moves a nonblocking collective on only inside MPI calls, so the
// caller tests between pieces of work.
static inline MPI_Request vae_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline int vae_mpi_start_sum_floats(float *values, int count, MPI_Request *request) {
    return MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, request);
}

// bfloat16 sums: MPI has no bfloat16 type, so the values travel as a 2-byte type and the sum is a
// user operation: each pair is widened to float, added, and rounded to nearest even (NaN kept).
static inline uint16_t vae_bfloat16_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);
    return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}
static inline float vae_bfloat16_value(uint16_t bits) {
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, 4);
    return value;
}
static void vae_mpi_bfloat16_sum(void *input, void *inout, int *length, MPI_Datatype *type) {
    (void)type;
    const uint16_t *a = (const uint16_t *)input;
    uint16_t *b = (uint16_t *)inout;
    for (int i = 0; i < *length; i++) b[i] = vae_bfloat16_bits(vae_bfloat16_value(a[i]) + vae_bfloat16_value(b[i]));
}
static inline int vae_mpi_start_sum_bfloat16(uint16_t *values, int count, MPI_Request *request) {
    static MPI_Datatype type = MPI_DATATYPE_NULL;
    static MPI_Op operation = MPI_OP_NULL;
    if (operation == MPI_OP_NULL) {
        int status = MPI_Type_contiguous(1, MPI_UINT16_T, &type);
        if (status == MPI_SUCCESS) status = MPI_Type_commit(&type);
        if (status == MPI_SUCCESS) status = MPI_Op_create(vae_mpi_bfloat16_sum, 1, &operation);
        if (status != MPI_SUCCESS) return status;
    }
    return MPI_Iallreduce(MPI_IN_PLACE, values, count, type, operation, MPI_COMM_WORLD, request);
}
static inline int vae_mpi_test_all(int count, MPI_Request *requests, int *done) {
    return MPI_Testall(count, requests, done, MPI_STATUSES_IGNORE);
}
static inline int vae_mpi_wait_all(int count, MPI_Request *requests) {
    return MPI_Waitall(count, requests, MPI_STATUSES_IGNORE);
}
static inline int vae_mpi_sum_doubles(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static inline int vae_mpi_broadcast_bytes(void *bytes, int count, int root) {
    return MPI_Bcast(bytes, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
// The number of processes of the job on this process's machine (MPI_COMM_TYPE_SHARED), or -1.
static inline int vae_mpi_local_size(void) {
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) != MPI_SUCCESS) return -1;
    int size = -1;
    MPI_Comm_size(local, &size);
    MPI_Comm_free(&local);
    return size;
}
static inline int vae_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline int vae_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static inline double vae_mpi_time(void) { return MPI_Wtime(); }
