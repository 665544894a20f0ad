import ArgumentParser
import Benchmarks
import TensorCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine: matrix multiply against direct sgemm, and the elementwise kernels.",
        discussion: "Build with `swift build -c release` first: debug builds are hundreds of times slower.")

    @Option(help: "OpenBLAS threads (2 helps only when the other core is idle).")
    var blasThreads = 1

    @Option(help: "Timing rounds per measurement; the fastest round is reported.")
    var rounds = 7

    func validate() throws {
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        print("OpenBLAS \(BLAS.coreName) kernel, \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s"); best of \(rounds) rounds")
        print("\nMatrix multiply at the MLP VAE's shapes (784-400-20, batch 128):")
        let rows = MatrixMultiplyBenchmark(rounds: rounds).run()
        print(MatrixMultiplyBenchmark.table(rows))
        let lowest = rows.map(\.share).min() ?? 1
        print(String(format: "lowest engine share: %.0f%% of direct sgemm", 100 * lowest))
        print("\nElementwise kernels over 128x784 floats:")
        print(ElementwiseBenchmark(rounds: rounds).run().pipe(ElementwiseBenchmark.table))
    }
}

extension Array {
    func pipe<T>(_ transform: ([Element]) -> T) -> T { transform(self) }
}
