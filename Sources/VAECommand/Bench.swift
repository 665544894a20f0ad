import ArgumentParser
import Benchmarks
import Datasets
import Foundation
import TensorCore
import VAE

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed: the engine's kernels, or training epochs.",
        discussion: "Build with `swift build -c release` first: debug builds are hundreds of times slower.",
        subcommands: [Kernels.self, Train.self, Affine.self], defaultSubcommand: Kernels.self)
}

extension Bench {
    /// The thread counts of a comma-separated --blas-threads list, each at least 1.
    static func threadCounts(_ list: String) throws -> [Int] {
        let threads = try parseIntegers(list, option: "blas-threads")
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--blas-threads must list positive counts, got '\(list)'") }
        return threads
    }

    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Matrix multiply against direct sgemm, and the elementwise kernels.")

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
            print(ElementwiseBenchmark.table(ElementwiseBenchmark(rounds: rounds).run()))
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seconds per training epoch on MNIST, images per second and the share of time in sgemm.",
            discussion: "Trains the preset for --epochs epochs (no evaluation, no files written); the first epoch is a warm-up and is not counted when there are more.")

        @Option(help: "The preset to time.") var preset = "pytorch-example"
        @Option(parsing: .unconditional, help: "Epochs to run (the first is a warm-up).") var epochs = 4
        @Option(help: "OpenBLAS threads; a comma-separated list measures each in turn (e.g. 1,2).") var blasThreads = "1,2"
        @Option(help: "A folder holding the MNIST IDX files.") var dataDir: String?
        @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 1

        func run() throws {
            guard var configuration = Preset.named(preset)?.configuration else {
                throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
            }
            let threads = try Bench.threadCounts(blasThreads)
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            configuration.epochs = epochs
            configuration.seed = seed
            let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
            let data: LoadedDataset
            do { data = try catalog.loadSplits(dataset: configuration.dataset, folder: nil) } catch { throw CommandFailure(error.localizedDescription) }
            let (train, test) = (data.train, data.test)
            print("training benchmark: preset \(preset) (\(configuration.model.architectureName), batch \(configuration.batchSize)), \(train.count) images per epoch")
            print(BLAS.tuneForProcessor())
            var lines: [String] = []
            for count in threads {
                BLAS.setThreadCount(count)
                print("\n\(count) BLAS thread\(count == 1 ? "" : "s"):")
                let result = try TrainingBenchmark(configuration: configuration).run(train: train, test: test) { epoch, seconds, gemm, optimizer, loss in
                    print(String(format: "  epoch %d: %.3f s (sgemm %.3f s, %.0f%%; optimizer %.3f s), %.0f images/s, train loss %.2f%@",
                                 epoch, seconds, gemm, 100 * gemm / seconds, optimizer, Double(train.count) / seconds, loss,
                                 epoch == 1 && epochs > 1 ? " (warm-up)" : ""))
                }
                lines.append(String(format: "| %d | %.3f | %.3f | %.0f | %.0f%% |", count, result.bestSeconds, result.medianSeconds,
                                    Double(result.images) / result.bestSeconds, 100 * result.gemmShare))
            }
            print("\n| BLAS threads | best s/epoch | median s/epoch | images/s (best) | time in sgemm |")
            print("|---|---|---|---|---|")
            lines.forEach { print($0) }
        }
    }
}

extension Bench {
    struct Affine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seconds per design-B training epoch (measured on some batches, scaled to the epoch).",
            discussion: "The PyTorch reference on this 2-core machine took about 118 s per epoch for affine-small and 1,050 s for affine.")

        @Option(help: "affine or affine-small.") var preset = "affine-small"
        @Option(parsing: .unconditional, help: "Batches to time after one warm-up batch.") var batches = 10
        @Option(help: "OpenBLAS threads; a comma-separated list measures each in turn.") var blasThreads = "1,2"
        @Option(help: "A folder holding the MNIST IDX files.") var dataDir: String?

        func run() throws {
            guard let preset = Preset.named(preset), case let .affine(model) = preset.configuration.model else {
                throw ValidationError("--preset must be a design-B preset (affine, affine-small); got '\(self.preset)'")
            }
            let threads = try Bench.threadCounts(blasThreads)
            guard batches >= 1 else { throw ValidationError("--batches must be at least 1, got \(batches)") }
            let train: ImageDataset
            do { train = try DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }).load(.mnist, split: .train) } catch {
                throw CommandFailure(error.localizedDescription)
            }
            print("\(preset.name): \(model.architectureName), batch \(preset.configuration.batchSize); \(batches) batches timed after a warm-up")
            for count in threads {
                BLAS.setThreadCount(count)
                let result = AffineBenchmark(configuration: preset.configuration, batches: batches).run(train: train)
                print(String(format: "  %d thread%@: %.3f s per batch (median) -> %.1f s per epoch of %d batches; sgemm %.0f%% of the time; H x H layers %.0f GFLOP/s",
                             count, count == 1 ? " " : "s", result.medianBatchSeconds, result.epochSeconds, result.batchesPerEpoch,
                             100 * result.gemmShare, result.hiddenLayerFLOPs(hidden: model.decoderHiddenSize, pixels: model.inputSize) / 1e9))
            }
        }
    }
}
