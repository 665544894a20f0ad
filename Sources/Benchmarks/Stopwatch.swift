import Foundation
import TensorCore

/// Time inside matrix multiplies in either library (OpenBLAS's sgemm, oneDNN's matmul and its
/// bf16 conversions) while counting is on. For the benchmark's single calling thread.
enum MatrixTime {
    /// Turns counting on (or off) and sets the count to zero.
    static func count(_ on: Bool) {
        (BLAS.isTiming, OneDNN.isTiming) = (on, on)
        (BLAS.timedSeconds, OneDNN.matrixSeconds) = (0, 0)
    }

    static var seconds: Double { BLAS.timedSeconds + OneDNN.matrixSeconds }
}

/// Wall-clock timing for benchmarks.
enum Stopwatch {
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The fastest of `rounds` timings of `repeats` calls, per call. The minimum is the figure
    /// least disturbed by other work on a shared machine.
    static func bestSecondsPerCall(rounds: Int, repeats: Int, _ body: () -> Void) -> Double {
        (0..<rounds).map { _ in seconds { for _ in 0..<repeats { body() } } / Double(repeats) }.min()!
    }
}
