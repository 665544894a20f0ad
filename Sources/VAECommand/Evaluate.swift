import ArgumentParser
import Datasets
import Foundation
import NN
import Persistence
import Runs
import SafeTensors
import TensorCore
import VAE
import VAEEvaluation
import VAEModels

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "The honest figures of a model on the test set: ELBO terms, the importance-weighted bound, KL per dimension, active units.",
        discussion: """
        All figures are per test image, in nats, for the likelihood and binarisation printed first (and, for a \
        likelihood over discrete values, bits per dimension: nats / (values ln 2)); figures are comparable only between \
        models evaluated the same way.
          ELBO           log p(x) >= E_q[log p(x|z)] - sum_i KL(q(z_i|.) || p(z_i|.)), one sampled z per image, each \
        group's KL in closed form where there is one (the figure metrics.csv records as test_loss, negated); also with \
        z at the posterior means. A model of several latent groups also gets the KL of each group.
          IWAE bound     log p(x) >= E[log (1/k) sum_i p(x, z_i) / q(z_i | x)] with k = --samples (default 5000, as \
        in Burda et al.; 0 skips it), z over every group. Computed with a stable log-sum-exp in passes of large matrix \
        products; progress goes to standard error.
          KL per dimension and active units of the top group (dimensions with Cov_x(E_q[z_d]) > 0.01).
        A run folder brings its configuration; a model file written by this tool carries its architecture; for a file \
        made elsewhere (PyTorch names fc1, fc21, fc22, fc3, fc4) the layer sizes are read off the tensor shapes and the \
        rest (activation, variance head, likelihood, binarisation) comes from --preset.
        """)

    @Argument(help: ArgumentHelp("A run folder written by `vae train`, or a .safetensors model file.", valueName: "run")) var path: String
    @Option(help: "Preset giving the settings a foreign model file cannot carry (default pytorch-example).") var preset: String?
    @Flag(help: "Print the figures as one JSON object.") var json = false
    @Option(parsing: .unconditional, help: "Importance samples k per image for the IWAE bound (0: skip it; default 5000, or 0 with --disentanglement).") var samples: Int?
    @Flag(help: "Also score the disentanglement of the posterior means over every image of the run's dataset (dsprites): the BetaVAE and FactorVAE scores, MIG, SAP, DCI and the unsupervised scores, with disentanglement_lib's default settings (seed 0).")
    var disentanglement = false
    @Option(parsing: .unconditional, help: "Evaluate only the first N test images.") var count: Int?
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(help: "Seed for the sampled z (default: the one the run's last evaluation used, so the ELBO matches metrics.csv).")
    var seed: UInt64?
    @Option(parsing: .unconditional, help: "Images per evaluation batch (ELBO).") var batchSize = 1000
    @Option(parsing: .unconditional, help: "OpenBLAS threads.") var blasThreads = 1
    @Option(help: "Matrix-multiply operands for the figures: fp32, or bf16 (faster; fp32 accumulation). Not the run's training precision: the default is exact fp32.")
    var precision: Precision = .fp32

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if let samples, !(0...100_000).contains(samples) { throw ValidationError("--samples must be 0...100000, got \(samples)") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
        if let preset, Preset.named(preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
    }

    /// A VQ-VAE's figures: what applies to a model of discrete codes. Its posterior is one-hot, so
    /// the importance-weighted bound has nothing to weight; its reconstruction error, its codebook's
    /// use and (once `vae train-prior` has fitted one) its prior's test bits per code are reported.
    func evaluateCodes(_ model: any DiscreteLatentModel, loaded: LoadedModel, test: ImageDataset) throws {
        if disentanglement { throw CommandFailure("--disentanglement scores continuous codes; \(path) is a VQ-VAE") }
        let figures = withoutGradients { model.codeFigures(on: test) }.filter { $0.name != "codes restarted" }
        var prior: (network: GatedPixelCNN, settings: CodePriorSettings)? = nil
        if let folder = loaded.run, FileManager.default.fileExists(atPath: folder.url.appendingPathComponent(CodePriorTraining.modelFile).path) {
            prior = try codePrior(of: model, loaded: loaded, run: path)
        }
        var bitsPerCode: Double? = nil
        if let prior {
            let grids = CodeGrids(model: model, images: test)
            if prior.settings.network.classes != nil && grids.labels.isEmpty { throw CommandFailure("the code prior is conditional; the test images have no labels") }
            bitsPerCode = CodePriorTraining.bitsPerCode(prior.network, grids)
        }
        let note = "the importance-weighted bound does not apply to a VQ-VAE: its posterior is one-hot on the nearest codes, so every sample is the same and there is nothing to weight; what applies is the reconstruction error, the codebook's use and the prior's bits per code"
        if json {
            var object: [String: Any] = ["model": loaded.modelFile.path, "test_images": test.count, "kind": model.specification.kind, "iwae_bound": NSNull(), "note": note]
            for figure in figures { object[figure.name.replacingOccurrences(of: " ", with: "_").lowercased()] = figure.value }
            object["prior_bits_per_code"] = bitsPerCode ?? NSNull()
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("model \(loaded.modelFile.path): \(model.specification.summary)")
        print("test images \(test.count), codes at the nearest codebook vectors")
        for figure in figures {
            print(figure.name == "reconstruction MSE" ? String(format: "  reconstruction MSE  %.6f per value", figure.value)
                  : String(format: "  %@  %@", figure.name.padding(toLength: 18, withPad: " ", startingAt: 0), figure.value == figure.value.rounded() ? String(Int(figure.value)) : String(format: "%.2f", figure.value)))
        }
        if let bitsPerCode {
            print(String(format: "  prior               %.4f bits per code (the PixelCNN's test negative log-likelihood, %d codes a grid)", bitsPerCode, model.codePositions))
        } else {
            print("  prior               none yet: fit one with `vae train-prior \(path)` for its bits per code and for `vae sample`")
        }
        print("note: \(note)")
    }

    /// The file in a run folder holding its last evaluation (the JSON of --json).
    static let evaluationFile = "evaluation.json"

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let samples = self.samples ?? (disentanglement ? 0 : 5000)
        let loaded: LoadedModel
        var test: ImageDataset
        let dataFolder: String
        do {
            loaded = try LoadedModel.load(path: path, preset: Preset.named(preset ?? "pytorch-example")!.configuration)
            (test, dataFolder) = try loaded.imagesAndFolder(.test, catalog: DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }))
        } catch { throw CommandFailure(error.localizedDescription) }
        if let count, count < test.count {
            test = test.prefix(count)
        }
        let (model, configuration, modelURL) = (loaded.model, loaded.configuration, loaded.modelFile)
        if let discrete = model as? any DiscreteLatentModel { return try evaluateCodes(discrete, loaded: loaded, test: test) }
        if disentanglement && configuration.dataset != DatasetName.dsprites.rawValue {
            throw CommandFailure("--disentanglement needs a dataset with known generative factors (dsprites); the model in \(modelURL.path) was trained on \(configuration.datasetDescription), whose images have no factors to score against")
        }
        let classes = model.condition.classCount
        if classes > 0 && (!test.isLabelled || test.classCount != classes) {
            throw CommandFailure("the model in \(modelURL.path) is conditioned on \(classes) classes, but the test images in \(dataFolder) have \(test.isLabelled ? "\(test.classCount) classes" : "no labels")")
        }
        // The bounds are of log p(x | y) for a conditional model: the label is given, not modelled.
        let boundOf = classes > 0 ? "log p(x | y), the label y given (a conditional model on \(classes) classes)" : "log p(x)"
        var noise: RandomGenerator
        if let seed {
            noise = RandomGenerator(seed: seed)
        } else if let epoch = loaded.epoch {
            noise = Trainer.evaluationGenerator(seed: configuration.seed, epoch: epoch)
        } else {
            noise = RandomGenerator(seed: configuration.seed)
        }
        let started = Date()
        let result = withPrecision(precision) {
            model.evaluate(images: test.pixels, targets: test.pixels, labels: test.labels, batchSize: batchSize, using: &noise)
        }
        let groups = withPrecision(precision) { model.latentGroupStatistics(images: test.pixels, labels: test.labels, batchSize: batchSize) }
        let elboSeconds = Date().timeIntervalSince(started)
        guard result.loss.isFinite, result.lossMean.isFinite else {
            throw CommandFailure("the model in \(modelURL.path) gives a non-finite loss (\(result.loss)) on the test images in \(dataFolder): its weights overflow on them; no figures were reported")
        }
        let constant = result.omittedConstant ?? 0
        // Bits per dimension are a code length only for a distribution over discrete values: not
        // for a density, nor for a Bernoulli whose targets are grey levels.
        let binaryTargets = test.pixels.allSatisfy { $0 == 0 || $0 == 1 }
        let isDiscrete = (result.isDiscrete ?? false) && (configuration.model.likelihood != .bernoulli || binaryTargets)
        let bitsPerNat = 1 / (Double(model.inputSize) * log(2.0))
        func bits(_ nats: Double) -> String { isDiscrete ? String(format: "(%.4f)", -nats * bitsPerNat) : "        " }
        let elbo = -result.loss + constant, elboMean = -result.lossMean + constant

        let setting = "\(configuration.model.summary); \(configuration.datasetDescription) test set (\(test.count) images), binarisation \(Self.binarizationText(configuration.binarization, likelihood: configuration.model.likelihood)), \(precision.rawValue) matrix multiplies"
        if !json {
            // What is known at once is printed at once; the bound follows with its progress.
            print("\(modelURL.path): \(classes > 0 ? "conditional model, bounds on log p(x | y); " : "")\(setting)")
            print("data: \(dataFolder)")
            let noBits = configuration.model.likelihood == .bernoulli ? " (grey-level targets: no bits per dimension)" : " (a density: no bits per dimension)"
            print("per test image, in nats\(isDiscrete ? " (bits per dimension in brackets)" : noBits); \(boundOf) is at least each bound:")
            print(String(format: "  ELBO, one sampled z      %10.3f  %@  = -reconstruction %.3f - KL %.3f", elbo, bits(elbo), result.reconstruction - constant, result.kl))
            if let groups = result.groupKL, groups.count > 1 {
                print("  KL per latent group: " + zip(model.latentGroups, groups).map { String(format: "%@ %.3f (%d dimensions)", $0.name, $1, $0.size) }.joined(separator: ", "))
            }
            print(String(format: "  z = mu in place of z     %10.3f            (reconstruction at the mean; not a bound)", elboMean))
            for statistics in groups {
                let name = groups.count > 1 ? "of group \(statistics.group.name) " : ""
                if let kl = statistics.klPerDimension {
                    print("KL per latent dimension \(name)(nats), largest first:")
                    let order = kl.indices.sorted { kl[$0] > kl[$1] }
                    let shown = order.map { String(format: "z%d %.3f", $0, kl[$0]) }
                    for start in stride(from: 0, to: shown.count, by: 8) { print("  " + shown[start..<min(start + 8, shown.count)].joined(separator: "  ")) }
                } else {
                    print("KL per latent dimension \(name): none (the posterior and prior have no per-dimension closed form)")
                }
                print("active units \(name)(Cov_x E_q[z_d] > 0.01): \(statistics.activeUnits()) of \(statistics.group.size)")
            }
            print(String(format: "ELBO figures in %.2f s", elboSeconds))
            fflush(nil)
        }

        var iwae: ImportanceWeightedResult?
        var iwaeSeconds = 0.0
        if samples > 0 {
            // A stop signal ends the bound after the image group in progress; it is reported over
            // the images done.
            stopOnSignals()
            if !json {
                print("IWAE bound, k = \(samples): progress and the time left on standard error; Ctrl-C reports the images done so far")
                fflush(nil)
            }
            var generator = RandomGenerator(seed: (seed ?? configuration.seed) ^ 0x1A7E_5000)
            let progress = ProgressLine(total: test.count, label: "IWAE bound, k = \(samples)")
            let iwaeStarted = Date()
            iwae = withPrecision(precision) {
                model.importanceWeightedBound(images: test.pixels, labels: test.labels, samples: samples, using: &generator,
                                              progress: { done in progress.update(done) },
                                              shouldStop: { interruptRequested.load(ordering: .relaxed) })
            }
            iwaeSeconds = Date().timeIntervalSince(iwaeStarted)
            progress.finish()
            if let bound = iwae, !(bound.logLikelihood.isFinite && bound.elbo.isFinite) {
                throw CommandFailure("the IWAE bound of the model in \(modelURL.path) on the test images in \(dataFolder) is not a finite number (\(bound.logLikelihood)); no figures were reported")
            }
        }
        let interrupted = iwae.map { $0.images < test.count } ?? false
        var report: DisentanglementReport?
        if disentanglement && !interrupted {
            report = try Self.disentanglementReport(model: model, catalog: DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }), quiet: json)
        }

        do {
            var object: [String: Any] = [
                "model": modelURL.path, "data_folder": dataFolder, "architecture": configuration.model.architectureName,
                "likelihood": configuration.model.likelihood.description, "binarization": configuration.binarization.rawValue,
                "dataset": configuration.datasetDescription, "model_kind": configuration.model.kind, "images": result.images,
                "elbo": elbo, "elbo_z_mean": elboMean, "discrete_likelihood": isDiscrete,
                "kl_per_group": Dictionary(uniqueKeysWithValues: zip(model.latentGroups.map(\.name), result.groupKL ?? [result.kl])),
                "reconstruction": result.reconstruction + (-constant), "kl": result.kl,
                "test_loss": result.loss, "test_loss_mean": result.lossMean,
                "recon": result.reconstruction, "recon_mean": result.reconstructionMean,
                "kl_per_dimension": groups[0].klPerDimension.map { $0 as Any } ?? NSNull(), "active_units": groups[0].activeUnits(), "latent_size": groups[0].group.size,
                "posterior_mean_variance": groups[0].meanVariances,
                "groups": groups.map { ["name": $0.group.name, "size": $0.group.size, "kl_per_dimension": $0.klPerDimension.map { $0 as Any } ?? NSNull(),
                                        "active_units": $0.activeUnits(), "posterior_mean_variance": $0.meanVariances] as [String: Any] },
                "seconds": elboSeconds + iwaeSeconds, "precision": precision.rawValue,
                "conditional": classes > 0, "bound_of": classes > 0 ? "log p(x | y)" : "log p(x)",
            ]
            if classes > 0 { object["condition_classes"] = classes }
            if let report { object["disentanglement"] = report.jsonObject }
            if isDiscrete { object["elbo_bits_per_dim"] = -elbo * bitsPerNat }
            if let iwae {
                object["iwae"] = iwae.logLikelihood
                object["iwae_samples"] = iwae.samples
                object["iwae_images"] = iwae.images
                object["iwae_interrupted"] = interrupted
                if isDiscrete { object["iwae_bits_per_dim"] = -iwae.logLikelihood * bitsPerNat }
                object["elbo_k_sample_average"] = iwae.elbo
                object["iwae_seconds"] = iwaeSeconds
            }
            // A run's evaluation of its whole test set is kept beside it, for `vae compare`.
            if let run = loaded.run, count == nil, !interrupted {
                let file = run.url.appendingPathComponent(Self.evaluationFile)
                do { try writeAtomically(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), to: file) } catch {
                    throw CommandFailure("\(file.path): \(plainDescription(of: error))")
                }
                if !json { print("wrote \(file.path)") }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                if interrupted { throw ExitCode(130) }
                return
            }
        }
        if let iwae {
            if interrupted {
                print("interrupted: the bound below is over the first \(iwae.images) of the \(test.count) images only (the ELBO above is over all of them)")
            }
            print(String(format: "  ELBO, %d-sample average %10.3f  %@", iwae.samples, iwae.elbo, bits(iwae.elbo)))
            print(String(format: "  IWAE bound, k = %-8d %10.3f  %@%@", iwae.samples, iwae.logLikelihood, bits(iwae.logLikelihood),
                         interrupted ? "  over \(iwae.images) images" : ""))
        }
        print(String(format: "%.2f s (ELBO %.2f s%@)", elboSeconds + iwaeSeconds, elboSeconds, iwae == nil ? "" : String(format: ", IWAE %.1f s", iwaeSeconds)))
        if let report {
            for line in report.lines { print(line) }
            print(String(format: "disentanglement metrics in %.1f s (%@)", report.seconds.values.reduce(0, +),
                         report.seconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f s", $0.key, $0.value) }.joined(separator: ", ")))
        }
        if interrupted { throw ExitCode(130) }
    }

    /// Encodes every image of dSprites (progress on standard error) and scores the posterior means.
    static func disentanglementReport(model: any VariationalModel, catalog: DatasetCatalog, quiet: Bool) throws -> DisentanglementReport {
        let images: FactorImages
        do { images = try catalog.loadFactorImages() } catch { throw CommandFailure(error.localizedDescription) }
        let progress = ProgressLine(total: images.count, label: "encoding \(images.count) dSprites images")
        let codes = FactorCodes.encode(images, model: model) { progress.update($0) }
        progress.finish()
        if !quiet { print("scoring disentanglement (BetaVAE, FactorVAE, MIG, SAP, DCI, unsupervised)..."); fflush(nil) }
        return DisentanglementReport(codes: codes)
    }

    static func binarizationText(_ binarization: Binarization, likelihood: Likelihood) -> String {
        switch binarization {
        case .none: likelihood == .bernoulli ? "none (grey levels as Bernoulli targets)" : "none"
        case .threshold: "threshold at 0.5"
        case .dynamic: "dynamic in training; one fixed draw of the test set"
        case .fixedSample: "one fixed draw"
        }
    }
}

/// Progress on standard error: a line rewritten in place on a terminal, otherwise a line per
/// tenth of the work.
final class ProgressLine {
    let total: Int
    let label: String
    let started = Date()
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastTenth = 0

    init(total: Int, label: String) { (self.total, self.label) = (total, label) }

    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(started)
        let remaining = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let line = String(format: "%@: %d/%d images, %.0f s, about %.0f s left", label, done, total, elapsed, remaining)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r" + line + "   ").utf8))
        } else if done * 10 / max(total, 1) > lastTenth {
            lastTenth = done * 10 / max(total, 1)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

