import ArgumentParser
import Benchmarks
import Datasets
import Foundation
import MessagePassing
import NN
import Runs
import TensorCore
import VAE
import VAEModels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed: the engine's kernels, or training epochs.",
        discussion: "Build with `swift build -c release` first: debug builds are hundreds of times slower.",
        subcommands: [Kernels.self, Train.self, Affine.self, Convolution.self, PyTorch.self, Allreduce.self], defaultSubcommand: Kernels.self)
}

extension Bench {
    /// Steps in an epoch of 60,000 images (MNIST's training set) at `batchSize`, the last partial.
    static func epochSteps(batchSize: Int) -> Double { Double((60_000 + batchSize - 1) / batchSize) }

    /// The thread counts of a comma-separated --blas-threads list, each at least 1.
    static func threadCounts(_ list: String) throws -> [Int] {
        let threads = try parseIntegers(list, option: "blas-threads")
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--blas-threads must list positive counts, got '\(list)'") }
        return threads
    }

    /// The batch sizes a benchmark accepts, in images a step.
    static let batchSizes = 1...4096

    /// Checks a --batch-size given to a benchmark against `batchSizes`.
    static func checkBatchSize(_ batchSize: Int?) throws {
        if let batchSize, !batchSizes.contains(batchSize) { throw ValidationError("--batch-size must lie in \(batchSizes), got \(batchSize)") }
    }

    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Matrix multiply (fp32 and bf16) against OpenBLAS and oneDNN called directly, and the elementwise kernels.")

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
            print("OpenBLAS \(BLAS.coreName) kernel, \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s"); oneDNN \(OneDNN.threadCount) OpenMP thread\(OneDNN.threadCount == 1 ? "" : "s"), \(OneDNN.waitPolicyDescription); best of \(rounds) rounds")
            print("\nMatrix multiply at the MLP VAE's shapes (784-400-20, batch 128), GFLOP/s:")
            let rows = MatrixMultiplyBenchmark(rounds: rounds).run()
            print(MatrixMultiplyBenchmark.table(rows))
            print(String(format: "lowest engine share: %.0f%% of the best direct fp32 call, %.0f%% of the direct bf16 call",
                         100 * (rows.map(\.singleShare).min() ?? 1), 100 * (rows.map(\.halfShare).min() ?? 1)))
            let shape = MatrixMultiplyBenchmark.vaeShapes[0]
            print("oneDNN's kernels: fp32 \(OneDNN.matmulImplementation(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k, operands: .fp32)), bf16 \(OneDNN.matmulImplementation(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k, operands: .bf16))")
            print("\nElementwise kernels over 128x784 floats:")
            print(ElementwiseBenchmark.table(ElementwiseBenchmark(rounds: rounds).run()))
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seconds per training epoch on MNIST, images per second and the share of time in matrix multiplies.",
            discussion: "Trains the preset for --epochs epochs (no evaluation, no files written); the first epoch is a warm-up and is not counted when there are more.")

        @Option(help: "The preset to time.") var preset = "pytorch-example"
        @Option(parsing: .unconditional, help: "Epochs to run (the first is a warm-up).") var epochs = 4
        @Option(help: "OpenBLAS threads; a comma-separated list measures each in turn (e.g. 1,2).") var blasThreads = "1,2"
        @Option(help: "A folder holding the MNIST IDX files.") var dataDir: String?
        @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Matrix-multiply operands: fp32 or bf16.") var precision: Precision = .fp32

        func run() throws {
            guard var configuration = Preset.named(preset)?.configuration else {
                throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
            }
            let threads = try Bench.threadCounts(blasThreads)
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            configuration.epochs = epochs
            configuration.seed = seed
            configuration.precision = precision
            let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
            let data: LoadedDataset
            do { data = try catalog.loadSplits(dataset: configuration.dataset, folder: nil) } catch { throw CommandFailure(error.localizedDescription) }
            let (train, test) = (data.train, data.test)
            print("training benchmark: preset \(preset) (\(configuration.model.architectureName), batch \(configuration.batchSize), \(precision.rawValue)), \(train.count) images per epoch")
            print(BLAS.tuneForProcessor())
            var lines: [String] = []
            for count in threads {
                BLAS.setThreadCount(count)
                print("\n\(count) BLAS thread\(count == 1 ? "" : "s"):")
                let result = try TrainingBenchmark(configuration: configuration).run(train: train, test: test) { epoch, seconds, gemm, optimizer, loss in
                    print(String(format: "  epoch %d: %.3f s (matrix multiplies %.3f s, %.0f%%; optimizer %.3f s), %.0f images/s, train loss %.2f%@",
                                 epoch, seconds, gemm, 100 * gemm / seconds, optimizer, Double(train.count) / seconds, loss,
                                 epoch == 1 && epochs > 1 ? " (warm-up)" : ""))
                }
                lines.append(String(format: "| %d | %.3f | %.3f | %.0f | %.0f%% |", count, result.bestSeconds, result.medianSeconds,
                                    Double(result.images) / result.bestSeconds, 100 * result.gemmShare))
            }
            print("\n| BLAS threads | best s/epoch | median s/epoch | images/s (best) | time in matrix multiplies |")
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
        @Option(help: "Matrix-multiply operands: fp32 or bf16.") var precision: Precision = .fp32

        func run() throws {
            guard let preset = Preset.named(preset), let model = preset.configuration.model.architecture(as: AffineModelConfiguration.self) else {
                throw ValidationError("--preset must be an affine preset (affine, affine-small); got '\(self.preset)'")
            }
            let threads = try Bench.threadCounts(blasThreads)
            guard batches >= 1 else { throw ValidationError("--batches must be at least 1, got \(batches)") }
            let train: ImageDataset
            do { train = try DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }).load(.mnist, split: .train) } catch {
                throw CommandFailure(error.localizedDescription)
            }
            print("\(preset.name): \(model.architectureName), batch \(preset.configuration.batchSize), \(precision.rawValue); \(batches) batches timed after a warm-up")
            for count in threads {
                BLAS.setThreadCount(count)
                var configuration = preset.configuration
                configuration.precision = precision
                let result = try AffineBenchmark(configuration: configuration, batches: batches).run(train: train)
                print(String(format: "  %d thread%@: %.3f s per batch (median) -> %.1f s per epoch of %d batches; matrix multiplies %.0f%% of the time; H x H layers %.0f GFLOP/s",
                             count, count == 1 ? " " : "s", result.medianBatchSeconds, result.epochSeconds, result.batchesPerEpoch,
                             100 * result.gemmShare, result.hiddenLayerFLOPs(hidden: model.decoderHiddenSize, pixels: model.inputSize) / 1e9))
            }
        }
    }
}

extension Bench {
    struct Convolution: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conv",
            abstract: "Convolutional presets: seconds per epoch and images/s, each layer against oneDNN called directly, and keras-conv against PyTorch.",
            discussion: """
            Epochs are measured on --steps training steps of synthetic images (the real trainer: forward, ELBO, backward, Adam) \
            and scaled to 60,000 images. With --pytorch, keras-conv is timed against reference/keras_conv_vae.py (PyTorch, \
            `pip install torch`) at each thread count, alternating ours and PyTorch's for --rounds rounds, and the medians are compared. \
            Each step is read against its floor: the FLOP of its convolutions (taps on the padding left out) and dense layers over the \
            cores' peak, measured by a loop of 512-bit fused multiply-adds (bf16 dot products for --precision bf16) on registers.
            """)

        @Option(help: "Comma-separated conv presets.") var presets = "keras-conv,keras-conv-16,conv-mnist,conv-colour,dsprites-conv"
        @Option(parsing: .unconditional, help: "Images a step for every preset (default: each preset's batch).") var batchSize: Int?
        @Option(help: "Thread counts (OpenBLAS, elementwise, oneDNN's OpenMP), comma-separated.") var threads = "1,2"
        @Option(parsing: .unconditional, help: "Training steps per timed round.") var steps = 20
        @Option(parsing: .unconditional, help: "Timed rounds (after one warm-up); medians are reported.") var rounds = 3
        @Flag(help: "Skip the per-layer table.") var noLayers = false
        @Flag(help: "Compare keras-conv with PyTorch.") var pytorch = false
        @Flag(help: "List each convolution shape's primitives and reorders.") var verbose = false
        @Option(help: "Operands of the training steps' convolutions and matrix multiplies: fp32 or bf16 (the per-layer table is fp32).")
        var precision: Precision = .fp32
        @Option(help: "The Python interpreter for --pytorch.") var python = "python3"
        @Option(help: "The PyTorch side of the comparison (its folder holds the other reference scripts).") var pytorchScript = "reference/keras_conv_vae.py"
        @Option(help: "VQ-VAE presets whose training step and code prior's step are timed, with the quantiser's and the masked convolutions' shares (comma-separated; 'none' for none).")
        var vectorQuantized = "vq-mnist"

        func run() throws {
            let counts = try Bench.threadCounts(threads)
            var quantized: [(String, TrainingConfiguration, VectorQuantizedConfiguration)] = []
            for name in vectorQuantized.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where name != "none" {
                guard let preset = Preset.named(name), let model = preset.configuration.model.architecture(as: VectorQuantizedConfiguration.self) else {
                    let names = Preset.all.filter { $0.configuration.model.kind == VectorQuantizedConfiguration.kind }.map(\.name)
                    throw ValidationError("--vector-quantized takes VQ-VAE presets (\(names.joined(separator: ", "))) or 'none'; got '\(name)'")
                }
                quantized.append((name, preset.configuration, model))
            }
            guard steps >= 1, rounds >= 1 else { throw ValidationError("--steps and --rounds must be at least 1") }
            try Bench.checkBatchSize(batchSize)
            var chosen: [(String, TrainingConfiguration, ConvolutionalModelConfiguration)] = []
            for name in presets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let preset = Preset.named(name), let model = preset.configuration.model.architecture(as: ConvolutionalModelConfiguration.self) else {
                    let names = Preset.all.filter { $0.configuration.model.kind == ConvolutionalModelConfiguration.kind }.map(\.name)
                    throw ValidationError("--presets takes convolutional presets (\(names.joined(separator: ", "))); got '\(name)'")
                }
                var configuration = preset.configuration
                if let batchSize { configuration.batchSize = batchSize }
                chosen.append((name, configuration, model))
            }
            if pytorch && !FileManager.default.fileExists(atPath: pytorchScript) {
                throw ValidationError("--pytorch-script \(pytorchScript) does not exist (run from the repository root, or give its path)")
            }
            print(BLAS.tuneForProcessor() + "; oneDNN with OpenMP, \(OneDNN.waitPolicyDescription)")
            for count in counts {
                BLAS.setThreadCount(count)
                print("\n## \(count) thread\(count == 1 ? "" : "s")")
                if !noLayers {
                    for (name, configuration, model) in chosen {
                        print("\n\(name), batch \(configuration.batchSize): each layer, best of \(max(rounds, 3) * 2) rounds")
                        let benchmark = ConvolutionLayerBenchmark(rounds: max(rounds, 3) * 2)
                        let rows = ConvolutionLayerBenchmark.layers(of: model, batch: configuration.batchSize).flatMap { benchmark.run($0) }
                        print(ConvolutionLayerBenchmark.table(rows))
                        print(String(format: "lowest share: %.0f%% of the direct primitive", 100 * (rows.map(\.share).min() ?? 1)))
                    }
                }
                let peak = CorePeak.gigaflops(precision, threads: count)
                if let peak {
                    print(String(format: "\nthe cores' peak, %d thread%@ at once: %.0f GFLOP/s a thread (%@ on registers, 16 chains)", count, count == 1 ? "" : "s",
                                 peak, precision == .fp32 ? "fp32 vfmadd231ps" : "bf16 vdpbf16ps"))
                }
                print("\n\(precision.rawValue) training steps:")
                print("| preset | s/step (median) | s/epoch (60,000 images) | images/s | in oneDNN convolutions (reorders) | in matrix multiplies | GFLOP a step | floor s/step (at the peak) | step / floor |")
                print("|---|---|---|---|---|---|---|---|---|")
                for (name, preset, model) in chosen {
                    var configuration = preset
                    configuration.precision = precision
                    let benchmark = TrainingStepBenchmark(configuration: configuration, steps: steps)
                    let trainer = try benchmark.makeTrainer(rounds: rounds)
                    _ = try TrainingStepBenchmark.stepSeconds(trainer)  // warm-up
                    var profiles: [TrainingStepBenchmark.Profile] = []
                    for _ in 0..<rounds { profiles.append(try TrainingStepBenchmark.profile(trainer)) }
                    let median = profiles.sorted { $0.step < $1.step }[profiles.count / 2]
                    let step = median.step
                    let epochSteps = Bench.epochSteps(batchSize: configuration.batchSize)
                    let flops = ConvolutionLayerBenchmark.trainingStepFlops(of: model, model: trainer.model, batch: configuration.batchSize)
                    let floor = peak.map { CorePeak.floorSeconds(flops: flops, gigaflops: $0, threads: count) }
                    print(String(format: "| %@ | %.4f | %.1f | %.0f | %.0f%% (%.0f%%) | %.0f%% | %.2f | %@ | %@ |", name, step, step * epochSteps,
                                 Double(configuration.batchSize) / step, 100 * median.oneDNN, 100 * median.reorders, 100 * (median.sgemm + median.matrix),
                                 flops / 1e9, floor.map { String(format: "%.4f", $0) } ?? "n/a", floor.map { String(format: "%.2f", step / $0) } ?? "n/a"))
                }
                if !quantized.isEmpty { try timeCodeModels(quantized) }
                if verbose { OneDNN.convolutionReport.forEach { print("  " + $0) } }
                if pytorch { try comparePyTorch(threads: count) }
            }
        }

        /// Each VQ-VAE preset's step with its quantiser's share, and its class-conditional code
        /// prior's step (the default `vae train-prior` network and batch) with its masked
        /// convolutions' share (`CodeModelBenchmark`), in the configured precision.
        func timeCodeModels(_ presets: [(String, TrainingConfiguration, VectorQuantizedConfiguration)]) throws {
            print("\nVQ-VAE steps and their code priors' steps (the part timed alone on the step's shapes):")
            print("| preset | step | s/step (median) | s/epoch (60,000 images) | part | its share |")
            print("|---|---|---|---|---|---|")
            for (name, preset, model) in presets {
                var configuration = preset
                configuration.precision = precision
                let epochSteps = Bench.epochSteps(batchSize: configuration.batchSize)
                let vq = try CodeModelBenchmark.vectorQuantizedStep(configuration, steps: steps, rounds: rounds)
                print(String(format: "| %@ | VQ-VAE | %.4f | %.1f | the quantiser | %.1f%% |", name, vq.step, vq.step * epochSteps, 100 * vq.fraction))
                let grid = model.codeGrid!
                let network = GatedPixelCNNConfiguration(codes: model.codebookSize, height: grid.height, width: grid.width, classes: 10)
                let batch = CodePriorSettings(network: network).batchSize
                let prior = withPrecision(precision) { CodeModelBenchmark.priorStep(network, batch: batch, steps: steps, rounds: rounds) }
                print(String(format: "| %@ | code prior (%d layers of %d channels, batch %d) | %.4f | %.1f | the masked convolutions | %.1f%% |", name, network.layers,
                             network.channels, batch, prior.step, prior.step * Bench.epochSteps(batchSize: batch), 100 * prior.fraction))
            }
        }

        /// keras-conv, ours (fp32) and PyTorch's, alternating.
        func comparePyTorch(threads count: Int) throws {
            let comparison = try PyTorchComparison(preset: "keras-conv", referenceFolder: URL(fileURLWithPath: pytorchScript).deletingLastPathComponent().path,
                                                   python: python, steps: steps, rounds: rounds, pytorchPrecision: .fp32)
            let outcome = try comparison.run(threads: count, precisions: [.fp32])
            let (ours, theirs) = (PyTorchComparison.median(outcome.ours[.fp32]!), PyTorchComparison.median(outcome.pytorch))
            print(String(format: "\nkeras-conv against %@ at %d thread%@ (%d rounds of %d steps, alternating): ours %.4f s/step (%.1f s/epoch), PyTorch %.4f s/step (%.1f s/epoch): ours %.2fx faster",
                         outcome.framework, count, count == 1 ? "" : "s", rounds, steps, ours, ours * comparison.epochSteps, theirs, theirs * comparison.epochSteps, theirs / ours))
            print("  rounds, ours: " + outcome.ours[.fp32]!.map { String(format: "%.4f", $0) }.joined(separator: " ") + "; PyTorch: "
                  + outcome.pytorch.map { String(format: "%.4f", $0) }.joined(separator: " "))
        }
    }
}

extension Bench {
    struct Allreduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seconds per MPI_Allreduce of a gradient buffer, under mpirun (the time data-parallel training adds per step).",
            discussion: """
            Every rank sums --count floats (default 652824: the 784-400-20 model's gradients) --repeats times after a warm-up; \
            rank 0 prints the median and best time and the algorithm bandwidth (bytes / time).

            Example: mpirun --allow-run-as-root -np 2 vae bench allreduce
            """)

        @Option(parsing: .unconditional, help: "Floats summed per call.") var count = 652_824
        @Option(parsing: .unconditional, help: "Timed calls.") var repeats = 200

        func run() throws {
            guard count >= 1, repeats >= 1 else { throw ValidationError("--count and --repeats must be at least 1") }
            guard MPIProcessGroup.isLaunchedByMPI else { throw CommandFailure("run it under mpirun, e.g. mpirun -np 2 vae bench allreduce") }
            let group = MPIProcessGroup()
            defer { group.finish() }
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 1, count: count)
            for _ in 0..<10 { group.sum(buffer, count: count) }
            var times: [Double] = []
            for _ in 0..<repeats {
                buffer.update(repeating: 1, count: count)
                let started = MPIProcessGroup.time
                group.sum(buffer, count: count)
                times.append(MPIProcessGroup.time - started)
            }
            guard buffer[0] == Float(group.size) else { throw CommandFailure("the sum is \(buffer[0]), expected \(group.size)") }
            guard group.rank == 0 else { return }
            times.sort()
            let median = times[times.count / 2], best = times[0], bytes = Double(count * 4)
            print(String(format: "allreduce of %d floats (%.2f MB) over %d ranks: median %.3f ms, best %.3f ms, %.2f GB/s (median)",
                         count, bytes / 1e6, group.size, median * 1e3, best * 1e3, bytes / median / 1e9))
        }
    }
}
