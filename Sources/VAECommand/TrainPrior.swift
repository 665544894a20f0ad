import ArgumentParser
import Datasets
import Foundation
import NN
import Runs
import SafeTensors
import TensorCore
import VAE

struct TrainPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-prior",
        abstract: "Fit a VQ-VAE run's code prior: a gated PixelCNN over its training set's code grids, for `vae sample`.",
        discussion: """
        The run's model encodes every training and test image to its grid of code indices (the nearest codebook \
        vectors); a gated PixelCNN (van den Oord et al. 2016) then learns p(c) = prod_i p(c_i | c_<i), or \
        p(c | y) with --conditional, by Adam. After each epoch it reports the test set's negative log-likelihood in \
        bits per code and writes prior.safetensors, prior-metrics.csv and prior-checkpoint.safetensors into the run \
        folder. --resume continues from the last finished epoch (--epochs may be raised); Ctrl-C stops after the \
        epoch in progress.

        Example: vae train-prior runs/vq-mnist --conditional --epochs 20
        """)

    @OptionGroup var model: ModelArguments
    @Option(parsing: .unconditional, help: "Passes over the training set's codes (default 15).") var epochs: Int?
    @Option(parsing: .unconditional, help: "Grids per step (default 128).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Adam's step size (default 0.001).") var learningRate: Float?
    @Option(parsing: .unconditional, help: "Gated layers (default 8: with kernel 3 each position sees every earlier one of an 8x8 grid).") var layers: Int?
    @Option(parsing: .unconditional, help: "Channels of both stacks (default 64).") var channels: Int?
    @Option(parsing: .unconditional, help: "The kernel's side k, odd (default 3): k x k masked in the vertical stack, 1 x k in the horizontal one.") var kernel: Int?
    @Option(parsing: .unconditional, help: "Seed of the prior's weights and shuffles (default 1).") var seed: UInt64?
    @Flag(help: "Condition the prior on the images' classes (then `vae sample --label` draws a class).") var conditional = false
    @Flag(help: "Continue the prior in the run folder from its last finished epoch.") var resume = false

    func validate() throws {
        if let epochs, !(1...100_000).contains(epochs) { throw ValidationError("--epochs must be 1...100000, got \(epochs)") }
        if let batchSize, !(1...65536).contains(batchSize) { throw ValidationError("--batch-size must be 1...65536, got \(batchSize)") }
        if let learningRate, !(learningRate > 0 && learningRate <= 1) { throw ValidationError("--learning-rate must be in (0, 1], got \(learningRate)") }
        if let layers, !(1...100).contains(layers) { throw ValidationError("--layers must be 1...100, got \(layers)") }
        if let channels, !(1...1024).contains(channels) { throw ValidationError("--channels must be 1...1024, got \(channels)") }
        if let kernel, !(1...15).contains(kernel) || kernel % 2 == 0 { throw ValidationError("--kernel must be odd, 1...15, got \(kernel)") }
    }

    func run() throws {
        let (loaded, _) = try model.load()
        guard let discrete = loaded.model as? any DiscreteLatentModel else {
            throw CommandFailure("\(model.run) is a \(loaded.model.specification.kindDescription), whose prior is part of the model; `vae train-prior` fits the code prior of a VQ-VAE (a vq preset)")
        }
        guard let folder = loaded.run else {
            throw CommandFailure("\(model.run) is a model file; `vae train-prior` writes the prior into a run folder: give the run folder")
        }
        let train = try model.images(.train, of: loaded), test = try model.images(.test, of: loaded)
        if conditional && (!train.isLabelled || !test.isLabelled) {
            throw CommandFailure("--conditional needs labelled images; the run's dataset has none")
        }
        let grid = discrete.codeGrid
        let checkpointURL = folder.url.appendingPathComponent(CodePriorTraining.checkpointFile)
        var settings: CodePriorSettings
        var checkpoint: SafeTensorsFile? = nil
        if resume {
            do { checkpoint = try SafeTensorsFile.read(from: checkpointURL) } catch {
                throw CommandFailure("--resume continues a prior from \(checkpointURL.path), which cannot be read (\(error.localizedDescription)); start one without --resume")
            }
            do { settings = try CodePriorTraining.settings(in: checkpoint!, fileName: checkpointURL.path) } catch { throw CommandFailure(error.localizedDescription) }
            let given = [("--batch-size", batchSize.map { "\($0)" }, "\(settings.batchSize)"), ("--learning-rate", learningRate.map { "\($0)" }, "\(settings.learningRate)"),
                         ("--layers", layers.map { "\($0)" }, "\(settings.network.layers)"), ("--channels", channels.map { "\($0)" }, "\(settings.network.channels)"),
                         ("--kernel", kernel.map { "\($0)" }, "\(settings.network.kernel)"), ("--seed", seed.map { "\($0)" }, "\(settings.seed)")]
            if let clash = given.first(where: { $0.1 != nil && $0.1 != $0.2 }) {
                throw CommandFailure("--resume continues the prior as it was trained: \(clash.0) \(clash.1!) contradicts its \(clash.2); leave it out")
            }
            if conditional && settings.network.classes == nil {
                throw CommandFailure("--resume continues the prior as it was trained, unconditional; leave out --conditional")
            }
            if let epochs { settings.epochs = epochs }
        } else {
            if FileManager.default.fileExists(atPath: checkpointURL.path) {
                throw CommandFailure("\(folder.url.path) already holds a code prior (\(CodePriorTraining.checkpointFile)); continue it with --resume, or remove \(CodePriorTraining.modelFile), \(CodePriorTraining.metricsFile) and \(CodePriorTraining.checkpointFile) to start again")
            }
            let network = GatedPixelCNNConfiguration(codes: discrete.codebookSize, height: grid.height, width: grid.width,
                                                     classes: conditional ? train.classCount : nil, channels: channels ?? 64, layers: layers ?? 8,
                                                     kernel: kernel ?? 3)
            settings = CodePriorSettings(network: network, epochs: epochs ?? 15, batchSize: batchSize ?? 128, learningRate: learningRate ?? 1e-3, seed: seed ?? 1)
        }
        if let problem = settings.problems.first { throw CommandFailure("invalid prior settings: \(problem)") }
        if settings.network.classes != nil && (!train.isLabelled || !test.isLabelled) {
            throw CommandFailure("a conditional prior (--conditional) needs labelled images; the run's dataset has none")
        }
        if let classes = settings.network.classes, train.classCount > classes || test.classCount > classes {
            throw CommandFailure("the prior is conditioned on \(classes) classes; the images have \(max(train.classCount, test.classCount))")
        }
        let started = Date()
        let training = CodePriorTraining(settings: settings, train: CodeGrids(model: discrete, images: train), test: CodeGrids(model: discrete, images: test))
        if let checkpoint {
            do { try training.restore(from: checkpoint, fileName: checkpointURL.path) } catch { throw CommandFailure(error.localizedDescription) }
        }
        print(String(format: "codes of %d training and %d test images (%dx%d grids of %d codes) in %.1f s", train.count, test.count, grid.height, grid.width,
                     discrete.codebookSize, Date().timeIntervalSince(started)))
        print("prior: gated PixelCNN, \(settings.network.layers) layers of \(settings.network.channels) channels, kernel \(settings.network.kernel)\(settings.network.classes.map { ", conditioned on \($0) classes" } ?? ""), \(training.network.parameterCount) parameters; adam lr \(settings.learningRate), batch \(settings.batchSize), \(settings.epochs) epochs, seed \(settings.seed)")
        if training.isFinished { print("the prior has its \(settings.epochs) epochs already; raise --epochs to train further") }
        fflush(nil)
        stopOnSignals()
        while !training.isFinished {
            let figures = training.trainEpoch()
            do { try training.write(to: folder.url) } catch { throw CommandFailure("cannot write the prior into \(folder.url.path): \(error.localizedDescription)") }
            print(String(format: "epoch %3d  train %.4f  test %.4f bits per code  %.1f s", figures.epoch, figures.trainBitsPerCode, figures.testBitsPerCode, figures.seconds))
            fflush(nil)
            if interruptRequested.load(ordering: .relaxed) && !training.isFinished {
                print("stopped after epoch \(figures.epoch); continue with: vae train-prior \(model.run) --resume")
                throw ExitCode(130)
            }
        }
        print("done: \(folder.url.appendingPathComponent(CodePriorTraining.modelFile).path)")
    }
}
