import COpenBLAS
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The OpenBLAS library behind matrix multiply.
package enum BLAS {
    /// Sets OpenBLAS's thread count (after `tuneForProcessor()`), the elementwise kernels'
    /// (`ParallelLoop.shared`, at most 2) and oneDNN's (OpenMP, adopted by every thread that calls it) for the
    /// convolutions. One thread is the default, also for a program that never calls this (see
    /// `threadsChosen`): two help only when the other core is idle (see the platform notes). The
    /// two never run at once: each call returns before the next starts.
    package static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "BLAS thread count must be at least 1, got \(count)")
        threadsChosen.store(true, ordering: .sequentiallyConsistent)
        library.withLock { tuned in
            _ = tuneLocked()
            tuned = true
            if openblas_get_num_threads() != Int32(count) { openblas_set_num_threads(Int32(count)) }
        }
        ParallelLoop.shared.threadCount = count
        OneDNN.setThreadCount(count)
    }

    /// Held around every multiply and every change to the library's set-up: OpenBLAS must not be
    /// re-initialised, or its thread count changed, while a multiply runs on another thread (it
    /// deadlocks), and two threaded multiplies at once share its worker threads unsafely. One
    /// caller (the usual case) never waits; several callers take turns.
    private static let library = Mutex<Bool>(false)  // true once tuned

    /// The number of threads OpenBLAS uses now.
    package static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Makes OpenBLAS fit this processor and this program, once, before the first multiply.
    /// Both changes are skipped when the user set the environment variable in question.
    ///
    /// - Kernel: OpenBLAS 0.3.21 does not know AMD's Zen 5 and falls back to its Haswell (AVX2)
    ///   kernels; on a processor with AVX-512 (F, BW, VL, DQ, CD) whose detected kernel is
    ///   Haswell or Zen, this selects the SkylakeX (AVX-512) kernels, as `OPENBLAS_CORETYPE`
    ///   would (measured 1.7x faster sgemm at the VAE's shapes on a Zen 5 EPYC).
    /// - Thread timeout: OpenBLAS's worker threads spin for about 2^28 cycles after each call,
    ///   which takes the second core from our elementwise helper; this sets
    ///   `OPENBLAS_THREAD_TIMEOUT` to its minimum (2^4 cycles), so the workers sleep at once.
    ///
    /// Both are applied by re-initialising the library through its exported entry points
    /// (`gotoblas_dynamic_quit`/`gotoblas_dynamic_init`, `openblas_read_env`,
    /// `blas_thread_shutdown_`), looked up at run time; with a build that lacks them nothing
    /// changes. Returns a line saying what was done.
    @discardableResult
    package static func tuneForProcessor() -> String {
        library.withLock { tuned in
            tuned = true
            return tuneLocked()
        }
    }

    /// `tuneForProcessor` for a caller holding `library`.
    private static func tuneLocked() -> String {
        tuning.withLock { state in
            if let done = state { return done }
            var notes: [String] = []
            let environment = ProcessInfo.processInfo.environment
            let handle = dlopen(nil, RTLD_NOW)
            func symbol(_ name: String) -> (@convention(c) () -> Void)? {
                dlsym(handle, name).map { unsafeBitCast($0, to: (@convention(c) () -> Void).self) }
            }
            let detected = coreName
            if environment["OPENBLAS_CORETYPE"] == nil, ["Haswell", "Zen"].contains(detected), processorHasAVX512(),
               let quit = symbol("gotoblas_dynamic_quit"), let initialise = symbol("gotoblas_dynamic_init") {
                setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
                quit()
                initialise()
                notes.append("kernel \(detected) -> \(coreName) (AVX-512)")
            }
            if environment["OPENBLAS_THREAD_TIMEOUT"] == nil, let readEnvironment = symbol("openblas_read_env"),
               let shutdown = symbol("blas_thread_shutdown_") {
                setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
                readEnvironment()
                shutdown()
                notes.append("worker threads sleep right after each call")
            }
            if !threadsChosen.load(ordering: .sequentiallyConsistent), !environmentSetsThreads(["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"]) {
                openblas_set_num_threads(1)
            }
            let line = notes.isEmpty ? "OpenBLAS \(coreName) kernel" : "OpenBLAS tuned: " + notes.joined(separator: "; ")
            state = line
            return line
        }
    }

    private static let tuning = Mutex<String?>(nil)

    /// Whether the program chose thread counts (`setThreadCount`). Until it does, the engine
    /// starts with one thread wherever it starts: OpenBLAS at its first multiply, oneDNN's
    /// OpenMP at its first primitive, the elementwise loops always. That is `vae`'s default
    /// (`--blas-threads 1`): a second thread helps only when the other core is idle, and idle
    /// workers of OpenBLAS or libgomp that spin on a busy core slow a step many times over. An
    /// environment variable that sets a count (`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS`) is
    /// left to rule.
    static let threadsChosen = Atomic<Bool>(false)

    /// Whether any of the environment variables `names` is set.
    static func environmentSetsThreads(_ names: [String]) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        return names.contains { environment[$0] != nil }
    }

    /// Whether /proc/cpuinfo lists the AVX-512 subsets the SkylakeX kernels use.
    static func processorHasAVX512() -> Bool {
        // procfs reports a size of 0, so read to the end rather than by size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/cpuinfo") else { return false }
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        guard let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains)
    }

    /// The OpenBLAS kernel in use (for example "Cooperlake").
    package static var coreName: String { String(cString: openblas_get_corename()) }

    /// Time accounting for benchmarks: while `isTiming` is on, every `gemm` adds its wall time
    /// to `timedSeconds` and counts itself in `timedCalls`. Not thread-safe: for the benchmark's
    /// single calling thread only.
    nonisolated(unsafe) package static var isTiming = false
    nonisolated(unsafe) package static var timedSeconds = 0.0
    nonisolated(unsafe) package static var timedCalls = 0

    /// Monotonic seconds.
    package static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// C = alpha * op(A) * op(B) + beta * C, row-major, through `cblas_sgemm`.
    /// op(A) is [m, k], op(B) is [k, n], C is [m, n]; A is stored [m, k] or, transposed, [k, m].
    @inline(__always)
    package static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float, c: UnsafeMutablePointer<Float>
    ) {
        let started = isTiming ? now() : 0
        defer {
            if isTiming {
                timedSeconds += now() - started
                timedCalls += 1
            }
        }
        library.withLock { tuned in
            if !tuned {
                _ = tuneLocked()
                tuned = true
            }
            cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
        }
    }
}
