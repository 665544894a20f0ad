import ArgumentParser
import Datasets
import Foundation
import LatentTools
import NN
import Persistence
import Runs
import TensorCore
import VAE
import VAEEvaluation

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How good are a model's samples: Fréchet distance, KID, precision and recall against the test set, in a classifier's feature space.",
        discussion: """
        Draws --count samples (the decoder's mean image for latent vectors from --sampler), passes them and the \
        test set through a feature network (the 128 penultimate features of a classifier made by `vae classify`; \
        shipped for MNIST and Fashion-MNIST), and reports:
          - the Fréchet distance between Gaussian fits of the two feature sets (FID's formula);
          - KID: the unbiased MMD² with the cubic polynomial kernel, mean and standard deviation over subsets;
          - precision and recall of distributions (Kynkäänniemi et al. 2019, k nearest neighbours);
          - for a conditional model (labels drawn in turn), the share of each class's samples the network labels as asked.
        The figures go to the console and to score-SAMPLER.json in the run folder. The same seed gives the same \
        figures, bit for bit.

        These figures compare models under one feature network; they are not comparable with the Inception-FID \
        figures of papers.

        Examples: vae score runs/conv-mnist
                  vae score runs/conv-mnist --sampler gmm --count 10000
                  vae score runs/pictures --features runs/classifier-pictures.safetensors
        """)

    @OptionGroup var model: ModelArguments
    @OptionGroup(title: "Sampler") var samplers: SamplerOptions
    @Option(parsing: .unconditional, help: "How many samples.") var count = 10_000
    @Option(parsing: .unconditional, help: "Temperature T of the draws (1: the sampler's density).") var temperature: Float = 1
    @Option(help: "A hierarchical model's groups below the top: means (each at its prior's mean given the groups above) or drawn (from its prior at the temperature: ancestral samples).")
    var lowerGroups: LowerGroupChoice = .means
    @Option(parsing: .unconditional, help: "Seed for the draws and KID's subsets.") var seed: UInt64 = 1
    @Option(help: "A feature network written by `vae classify` (default: the one shipped for the run's dataset, MNIST or Fashion-MNIST).")
    var features: String?
    @Option(parsing: .unconditional, help: "KID's subsets.") var subsets = 100
    @Option(parsing: .unconditional, help: "KID's vectors per subset from each set (capped at the smaller set).") var subsetSize = 1000
    @Option(parsing: .unconditional, help: "Precision and recall's neighbour k.") var neighbours = 3
    @Option(help: "The JSON file to write (default: score-SAMPLER.json in the run folder).") var out: String?

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be 1...1000000, got \(count)") }
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be a number > 0, got \(temperature)") }
        guard (1...10_000).contains(subsets) else { throw ValidationError("--subsets must be 1...10000, got \(subsets)") }
        guard subsetSize >= 2 else { throw ValidationError("--subset-size must be at least 2, got \(subsetSize)") }
        guard (1...100).contains(neighbours) else { throw ValidationError("--neighbours must be 1...100, got \(neighbours)") }
    }

    /// The figures as the JSON file holds them.
    struct Report: Codable {
        var run: String
        var modelFile: String
        var sampler: String
        var samples: Int
        var temperature: Float
        /// A hierarchical model's lower groups: "means" or "drawn" (nil for a model of one group).
        var lowerGroups: String?
        var seed: UInt64
        var featureNetwork: String
        var featureNetworkTestAccuracy: Double?
        var realImages: String
        var quality: SampleQuality
        var classAgreement: [String: Double]?
        var seconds: [String: Double]
    }

    func run() throws {
        let (loaded, _) = try model.load()
        let url = try outputFile(out, default: loaded.defaultOutput("score-\(samplers.sampler.rawValue).json"), extensions: ["json"])
        let (network, networkPath, accuracy) = try featureNetwork(for: loaded)
        var settings = SampleQuality.Settings()
        (settings.subsets, settings.subsetSize, settings.neighbours) = (subsets, subsetSize, neighbours)
        let real: (images: ImageDataset, folder: String)
        do { real = try loaded.imagesAndFolder(.test, dataset: model.dataset?.rawValue, catalog: model.catalog, binarised: false) } catch {
            throw CommandFailure(error.localizedDescription)
        }
        if let problem = settings.problem(generated: count, real: real.images.count, dimension: network.featureSize) {
            throw CommandFailure("--count \(count) against \(real.images.count) test images: \(problem)")
        }
        let discrete = loaded.model as? any DiscreteLatentModel
        let prior = try discrete.map { try codePrior(of: $0, loaded: loaded, run: model.run) }
        if discrete != nil && (samplers.sampler != .prior || lowerGroups != .means) {
            throw CommandFailure("a VQ-VAE's samples come from its PixelCNN prior; --sampler and --lower-groups do not apply to \(model.run)")
        }
        let sampler = discrete == nil ? try samplers.sampler(for: loaded, arguments: model) { print($0) } : nil
        print("feature network: \(networkPath) (\(network.featureSize) features\(accuracy.map { String(format: ", test accuracy %.2f%%", 100 * $0) } ?? ""))")

        var clock = Date()
        func lap() -> Double { defer { clock = Date() }; return Date().timeIntervalSince(clock) }
        var generator = RandomGenerator(seed: seed)
        let classes = prior.map { $0.settings.network.classes ?? 0 } ?? loaded.model.condition.classCount
        let labels = classes > 0 ? (0..<count).map { $0 % classes } : []
        let images: [Float]
        if let discrete, let prior {
            let codes = prior.network.sample(count: count, labels: classes > 0 ? labels : nil, temperature: temperature, using: &generator)
            images = withoutGradients { discrete.decode(codes: codes, count: count).mean.scalars }
        } else {
            let latents = sampler!.latents(count: count, temperature: temperature, using: &generator)
            images = try lowerGroups.decode(latents, model: loaded.model, labels: labels, temperature: temperature, seed: seed, run: model.run)
        }
        let sampling = lap()
        let generated = network.featuresAndPredictions(images: images)
        let realFeatures = network.featuresAndPredictions(images: real.images.pixels).features
        let featuring = lap()
        let quality = SampleQuality(real: realFeatures, generated: generated.features, dimension: network.featureSize, settings: settings, using: &generator)
        let measuring = lap()

        print("\(count) samples from \(discrete != nil ? "the PixelCNN code prior" : samplers.sampler.summary)\(temperature == 1 ? "" : " at T = \(temperature)")\(lowerGroups.phrase(for: loaded.model)) (seed \(seed)) against \(real.images.count) test images (\(real.folder))")
        print(String(format: "Fréchet distance  %.4f", quality.frechetDistance))
        print(String(format: "KID               %.6f ± %.6f (%d subsets of %d)", quality.kernelDistance.mean, quality.kernelDistance.standardDeviation,
                     quality.kernelDistance.subsets, quality.kernelDistance.subsetSize))
        print(String(format: "precision         %.4f (k = %d)", quality.precisionRecall.precision, neighbours))
        print(String(format: "recall            %.4f", quality.precisionRecall.recall))
        var agreement: [String: Double]? = nil
        if classes > 0 {
            guard network.classCount == classes else {
                throw CommandFailure("\(networkPath) knows \(network.classCount) classes; the model is conditioned on \(classes): class agreement needs the same classes")
            }
            var shares: [String: Double] = [:]
            var line = "class agreement  "
            for label in 0..<classes {
                let drawn = labels.indices.filter { labels[$0] == label }
                let share = Double(drawn.filter { generated.labels[$0] == label }.count) / Double(max(drawn.count, 1))
                shares[model.className(label, for: loaded)] = share
                line += String(format: " %@ %.1f%%", model.className(label, for: loaded), 100 * share)
            }
            shares["mean"] = Double(labels.indices.filter { generated.labels[$0] == labels[$0] }.count) / Double(count)
            print(line + String(format: "; mean %.1f%%", 100 * shares["mean"]!))
            agreement = shares
        }
        print(String(format: "seconds: sampling %.2f, features %.2f, measures %.2f", sampling, featuring, measuring))
        let report = Report(run: model.run, modelFile: loaded.modelFile.path, sampler: samplers.sampler.rawValue, samples: count, temperature: temperature,
                            lowerGroups: loaded.model is any LowerGroupDecoding ? lowerGroups.rawValue : nil, seed: seed, featureNetwork: networkPath, featureNetworkTestAccuracy: accuracy, realImages: real.folder, quality: quality,
                            classAgreement: agreement, seconds: ["sampling": sampling, "features": featuring, "measures": measuring])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try writeAtomically(try encoder.encode(report), to: url) } catch { throw CommandFailure("\(url.path): \(plainDescription(of: error))") }
        print("wrote \(url.path)")
    }

    /// `--features`, or the network shipped for the run's dataset; checked against the model's images.
    func featureNetwork(for loaded: LoadedModel) throws -> (ImageClassifier, String, Double?) {
        let dataset = model.dataset?.rawValue ?? loaded.configuration.dataset
        let url: URL
        if let features {
            url = URL(fileURLWithPath: features)
        } else if loaded.configuration.imageFolder == nil || model.dataset != nil, FeatureNetwork.datasets.contains(dataset) {
            guard let shipped = FeatureNetwork.shipped(forDataset: dataset) else {
                throw CommandFailure("the feature network shipped for \(dataset) is missing: it is looked for in \(FeatureNetwork.folders.map(\.path).joined(separator: " and ")); copy the VAEToolkit_VAEEvaluation.resources folder beside the vae executable, or pass --features FILE")
            }
            url = shipped
        } else {
            throw CommandFailure("no feature network is shipped for \(loaded.configuration.imageFolder.map { "the image folder \($0.path)" } ?? "the dataset \(dataset)") (only for \(FeatureNetwork.datasets.joined(separator: " and "))): train one on its labelled images with `vae classify --images FOLDER` and pass it with --features FILE")
        }
        let loadedNetwork: (classifier: ImageClassifier, testAccuracy: Double?)
        do { loadedNetwork = try ImageClassifier.load(from: url) } catch { throw CommandFailure(error.description) }
        guard loadedNetwork.classifier.imageShape == loaded.model.imageShape else {
            throw CommandFailure("\(url.path) takes \(loadedNetwork.classifier.imageShape) images; the model draws \(loaded.model.imageShape): a feature network must be trained on images of the model's shape")
        }
        return (loadedNetwork.classifier, url.path, loadedNetwork.testAccuracy)
    }
}
