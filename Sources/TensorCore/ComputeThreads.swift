/// The number of threads the engine computes with: OpenBLAS's matrix products, oneDNN's
/// convolutions (OpenMP) and the elementwise kernels.
///
/// One thread is the default, also for a program that never sets it. Two help only when the
/// machine's other cores are idle: a busy core makes every threaded call wait for its slowest
/// thread. For the same reason a program that shares its cores should start with
/// `OMP_WAIT_POLICY=PASSIVE` in its environment (the `vae` command sets it for itself), so that
/// OpenMP's idle workers sleep rather than spin; OpenMP reads that variable once, when the
/// process loads it, so it cannot be changed from inside a running program.
///
/// ```swift
/// ComputeThreads.set(2)   // before training, once
/// ```
public enum ComputeThreads {
    /// Sets the thread count of every engine library at once. `count` must be at least 1.
    public static func set(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        BLAS.setThreadCount(count)
    }

    /// The thread count matrix products run with now.
    public static var count: Int { BLAS.threadCount }
}
