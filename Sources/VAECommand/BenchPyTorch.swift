import ArgumentParser
import Benchmarks
import Foundation
import TensorCore
import VAE
import VAEModels

extension Bench {
    struct PyTorch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pytorch",
            abstract: "Our training step against PyTorch's on the same model and batch, alternating, with the ratios.",
            discussion: """
            For each thread count and preset, rounds alternate: --steps steps of our trainer in each of --precisions (synthetic \
            images of the preset's shape, the real forward, loss, backward and optimizer), then the same steps of the preset's \
            PyTorch script (reference/mlp_vae.py for pytorch-example, reference/keras_conv_vae.py for keras-conv, \
            reference/conv_vae.py in channels-last, PyTorch's faster layout for these convolutions, for conv-mnist and the 64x64 \
            dsprites-conv, reference/hierarchical_vae.py in channels-last for hierarchical-colour; `pip install torch`), whose start-up and first 20 steps are not timed (ours warm up for a whole round \
            first). Both sides take the plain ELBO's step (a preset's free bits and moving average of the weights left out). Medians of the rounds are compared; an epoch is 60,000 images in the preset's batches (or --batch-size's). For a convolutional \
            preset, the step's floor follows in each of --precisions (its FLOP over the cores' measured peak, as `vae bench conv` \
            reads it) with PyTorch's median over it: the ratio no implementation of the step could pass on these cores.
            """)

        @Option(help: "Presets to compare: pytorch-example, keras-conv, conv-mnist, dsprites-conv, hierarchical-colour.") var presets = "pytorch-example,keras-conv,conv-mnist,dsprites-conv"
        @Option(help: "Our precisions, comma-separated (fp32, bf16).") var precisions = "fp32,bf16"
        @Option(help: "PyTorch's precision: fp32, or bf16 (its CPU autocast).") var pytorchPrecision: Precision = .fp32
        @Option(help: "Thread counts (ours: OpenBLAS, oneDNN, elementwise; PyTorch: torch.set_num_threads), comma-separated.") var threads = "1,2"
        @Option(parsing: .unconditional, help: "Training steps per timed round.") var steps = 50
        @Option(parsing: .unconditional, help: "Timed rounds of each side.") var rounds = 5
        @Option(parsing: .unconditional, help: "Images a step on both sides (conv-mnist, dsprites-conv and hierarchical-colour; default: each preset's batch).")
        var batchSize: Int?
        @Option(help: "The Python interpreter.") var python = "python3"
        @Option(help: "The folder of the PyTorch scripts.") var referenceFolder = "reference"
        @Option(help: ArgumentHelp("More arguments for the PyTorch scripts, e.g. --pytorch-arguments=--tuned (mlp_vae.py: logits BCE, flushed denormals, fused Adam).",
                                   valueName: "arguments"))
        var pytorchArguments = ""

        func run() throws {
            let counts = try Bench.threadCounts(threads)
            guard steps >= 1, rounds >= 1 else { throw ValidationError("--steps and --rounds must be at least 1") }
            try Bench.checkBatchSize(batchSize)
            let chosenPrecisions = try precisions.split(separator: ",").map { text in
                guard let precision = Precision(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--precisions takes fp32 and bf16, comma-separated; got '\(text)'")
                }
                return precision
            }
            let comparisons = try presets.split(separator: ",").map { name in
                try PyTorchComparison(preset: name.trimmingCharacters(in: .whitespaces), referenceFolder: referenceFolder, python: python,
                                      steps: steps, rounds: rounds, pytorchPrecision: pytorchPrecision, batchSize: batchSize,
                                      extraArguments: pytorchArguments.split(separator: " ").map(String.init))
            }
            print(BLAS.tuneForProcessor() + "; oneDNN with OpenMP, \(OneDNN.waitPolicyDescription)")
            for count in counts {
                BLAS.setThreadCount(count)
                print("\n## \(count) thread\(count == 1 ? "" : "s") (\(rounds) rounds of \(steps) steps, alternating; medians)\n")
                let oursHeader = chosenPrecisions.map { "ours \($0.rawValue) s/step (s/epoch) | ratio" }.joined(separator: " | ")
                print("| preset | PyTorch \(pytorchPrecision.rawValue) s/step (s/epoch) | \(oursHeader) |")
                print("|---|---|" + String(repeating: "---|---|", count: chosenPrecisions.count))
                var details: [String] = []
                var medians: [(preset: String, stepFlops: Double, pytorch: Double)] = []
                for comparison in comparisons {
                    let outcome = try comparison.run(threads: count, precisions: chosenPrecisions)
                    let theirs = PyTorchComparison.median(outcome.pytorch)
                    let epochSteps = comparison.epochSteps
                    var cells = [comparison.preset, String(format: "%.4f (%.1f)", theirs, theirs * epochSteps)]
                    for precision in chosenPrecisions {
                        let ours = PyTorchComparison.median(outcome.ours[precision]!)
                        cells.append(String(format: "%.4f (%.1f)", ours, ours * epochSteps))
                        cells.append(String(format: "**%.2fx**", theirs / ours))
                    }
                    print("| " + cells.joined(separator: " | ") + " |")
                    if let flops = outcome.stepFlops { medians.append((comparison.preset, flops, theirs)) }
                    details.append("  \(comparison.preset): \(outcome.framework) rounds " + outcome.pytorch.map { String(format: "%.4f", $0) }.joined(separator: " ")
                                   + chosenPrecisions.map { "; ours \($0.rawValue) " + outcome.ours[$0]!.map { String(format: "%.4f", $0) }.joined(separator: " ") }.joined())
                }
                details.forEach { print($0) }
                printFloors(medians, threads: count, precisions: chosenPrecisions)
            }
        }

        /// For each convolutional preset, the floor of its step at `threads` threads (its FLOP
        /// over the cores' measured peak; see `vae bench conv`) and PyTorch's median over it:
        /// the ratio no implementation of the step could pass on these cores.
        func printFloors(_ medians: [(preset: String, stepFlops: Double, pytorch: Double)], threads: Int, precisions: [Precision]) {
            guard !medians.isEmpty else { return }
            let peaks = precisions.compactMap { precision in CorePeak.gigaflops(precision, threads: threads).map { (precision, $0) } }
            guard !peaks.isEmpty else { return }
            print("  the cores' peak at \(threads) thread\(threads == 1 ? "" : "s"): "
                  + peaks.map { String(format: "%@ %.0f GFLOP/s a thread", $0.0.rawValue, $0.1) }.joined(separator: ", "))
            for (preset, flops, theirs) in medians {
                let floors = peaks.map { (precision, peak) in
                    let floor = CorePeak.floorSeconds(flops: flops, gigaflops: peak, threads: threads)
                    return String(format: "%@ floor %.4f s/step (PyTorch's time over it: %.2fx)", precision.rawValue, floor, theirs / floor)
                }
                print(String(format: "  %@: %.2f GFLOP a step; ", preset, flops / 1e9) + floors.joined(separator: "; "))
            }
        }
    }
}

/// Alternating rounds of our trainer (in each precision) and the preset's PyTorch script.
struct PyTorchComparison {
    /// The PyTorch script of each preset that has one, and its extra arguments.
    /// `takesBatch`: whether the script's batch can be set (`--batch N`); the others' is fixed at
    /// the preset's.
    static let scripts: [String: (file: String, arguments: [String], takesBatch: Bool)] = [
        "pytorch-example": ("mlp_vae.py", [], false),
        "keras-conv": ("keras_conv_vae.py", ["--latent", "2"], false),
        "conv-mnist": ("conv_vae.py", ["--preset", "conv-mnist", "--channels-last"], true),
        "dsprites-conv": ("conv_vae.py", ["--preset", "dsprites-conv", "--channels-last"], true),
        "hierarchical-colour": ("hierarchical_vae.py", ["--channels-last"], true),
    ]

    let preset: String
    let configuration: TrainingConfiguration
    let script: String
    let scriptArguments: [String]
    let python: String
    let steps: Int
    let rounds: Int
    let pytorchPrecision: Precision

    /// `batchSize`: images a step on both sides instead of the preset's (for a script that takes
    /// `--batch`). Our side takes the step PyTorch's script takes: the plain ELBO without free
    /// bits and no moving average of the weights, whatever the preset trains with.
    init(preset: String, referenceFolder: String, python: String, steps: Int, rounds: Int, pytorchPrecision: Precision,
         batchSize: Int? = nil, extraArguments: [String] = []) throws {
        guard let entry = Self.scripts[preset], var configuration = Preset.named(preset)?.configuration else {
            throw ValidationError("PyTorch comparisons exist for \(Self.scripts.keys.sorted().joined(separator: ", ")); got '\(preset)'")
        }
        script = URL(fileURLWithPath: referenceFolder).appendingPathComponent(entry.file).path
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script) does not exist (run from the repository root, or give --reference-folder)")
        }
        if let batchSize {
            guard entry.takesBatch else {
                let batched = Self.scripts.filter(\.value.takesBatch).keys.sorted().joined(separator: ", ")
                throw ValidationError("--batch-size applies to \(batched); \(entry.file) runs \(preset) at its batch of \(configuration.batchSize)")
            }
            configuration.batchSize = batchSize
        }
        configuration.objective.freeBits = 0
        configuration.weightAverage = nil
        let batch = entry.takesBatch ? ["--batch", String(configuration.batchSize)] : []
        (self.preset, self.configuration, scriptArguments) = (preset, configuration, entry.arguments + batch + extraArguments)
        (self.python, self.steps, self.rounds, self.pytorchPrecision) = (python, steps, rounds, pytorchPrecision)
    }

    struct Outcome {
        var framework: String
        var pytorch: [Double]
        var ours: [Precision: [Double]]
        /// The FLOP of one step, for a convolutional preset (`ConvolutionLayerBenchmark`).
        var stepFlops: Double?
    }

    /// Seconds per step of each side, round by round, at `threads` threads (already set for ours).
    func run(threads: Int, precisions: [Precision]) throws -> Outcome {
        var trainers: [Precision: Trainer] = [:]
        for precision in precisions {
            var configuration = configuration
            configuration.precision = precision
            let trainer = try TrainingStepBenchmark(configuration: configuration, steps: steps).makeTrainer(rounds: rounds)
            _ = try TrainingStepBenchmark.stepSeconds(trainer)  // warm-up
            trainers[precision] = trainer
        }
        var outcome = Outcome(framework: "pytorch", pytorch: [], ours: [:])
        if let architecture = configuration.model.architecture(as: ConvolutionalModelConfiguration.self), let trainer = trainers.values.first {
            outcome.stepFlops = ConvolutionLayerBenchmark.trainingStepFlops(of: architecture, model: trainer.model, batch: configuration.batchSize)
        }
        for _ in 0..<rounds {
            for precision in precisions { outcome.ours[precision, default: []].append(try TrainingStepBenchmark.stepSeconds(trainers[precision]!)) }
            let (seconds, framework) = try pytorchStep(threads: threads)
            outcome.pytorch.append(seconds)
            outcome.framework = framework
        }
        return outcome
    }

    /// One run of the script's bench mode: its seconds per step and its framework's name.
    func pytorchStep(threads: Int) throws -> (Double, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "bench", "--threads", String(threads), "--steps", String(steps), "--repeats", "1", "--warmup", "20",
                             "--precision", pytorchPrecision.rawValue] + scriptArguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let seconds = object["step_seconds"] as? Double else {
            throw CommandFailure("\(script) failed (exit \(process.terminationStatus)); is PyTorch installed (pip install torch)?")
        }
        return (seconds, object["framework"] as? String ?? "pytorch")
    }

    /// Steps in an epoch of 60,000 images at the preset's batch size.
    var epochSteps: Double { Bench.epochSteps(batchSize: configuration.batchSize) }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
