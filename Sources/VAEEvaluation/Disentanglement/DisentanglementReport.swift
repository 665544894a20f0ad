import Datasets
import Foundation
import TensorCore
import VAE

/// How the disentanglement metrics draw their points: disentanglement_lib's default settings
/// (its `unsupervised_study_v1` metric configurations), each metric drawing from its own
/// generator started at `seed`.
public struct DisentanglementSettings: Sendable, Equatable {
    /// Each metric's generator seed (disentanglement_lib's `evaluation.random_seed`, 0).
    public var seed: UInt64 = 0
    /// Training points of MIG, SAP, DCI and the unsupervised scores; votes or points of the
    /// FactorVAE and BetaVAE classifiers (10,000).
    public var trainPoints = 10_000
    /// Test points of SAP, DCI and the two classifier scores (5,000).
    public var testPoints = 5_000
    /// Images per BetaVAE point and per FactorVAE vote (64).
    public var batchSize = 64
    /// Images of the FactorVAE score's global variances (10,000).
    public var varianceImages = 10_000
    /// Histogram bins of MIG and the unsupervised mutual information (20).
    public var bins = 20

    /// disentanglement_lib's defaults.
    public init() {}
}

/// Every disentanglement metric of one representation: the BetaVAE score, the FactorVAE score,
/// MIG, SAP, DCI and the unsupervised scores, drawn as `DisentanglementSettings` says.
public struct DisentanglementReport: Sendable {
    /// The settings the points were drawn with.
    public let settings: DisentanglementSettings
    /// The factors scored, by name.
    public let factorNames: [String]
    /// BetaVAE score: the logistic regression's train and evaluation accuracies.
    public let betaVAE: (train: Double, evaluation: Double)
    /// The FactorVAE score.
    public let factorVAE: FactorVAEScoreResult
    /// MIG.
    public let mig: MutualInformationGapResult
    /// SAP with its score matrix [dimensions][factors].
    public let sap: (score: Double, matrix: [[Double]])
    /// DCI.
    public let dci: DCIScores
    /// The unsupervised scores.
    public let unsupervised: UnsupervisedScores
    /// Seconds each metric took, by name.
    public let seconds: [String: Double]

    /// Every metric of `codes`.
    public init(codes: FactorCodes, settings: DisentanglementSettings = DisentanglementSettings()) {
        self.settings = settings
        factorNames = codes.factors.map(\.name)
        var seconds: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () -> T) -> T {
            let started = Date()
            defer { seconds[name] = Date().timeIntervalSince(started) }
            return body()
        }
        betaVAE = timed("beta_vae") {
            var generator = RandomGenerator(seed: settings.seed)
            let train = BetaVAEScore.draw(settings.trainPoints, batchSize: settings.batchSize, over: codes, using: &generator)
            let evaluation = BetaVAEScore.draw(settings.testPoints, batchSize: settings.batchSize, over: codes, using: &generator)
            return BetaVAEScore.score(train: train, evaluation: evaluation, codes: codes)
        }
        factorVAE = timed("factor_vae") {
            var generator = RandomGenerator(seed: settings.seed)
            let variance = codes.drawImages(settings.varianceImages, using: &generator)
            let train = FactorVAEScore.draw(settings.trainPoints, batchSize: settings.batchSize, over: codes, using: &generator)
            let evaluation = FactorVAEScore.draw(settings.testPoints, batchSize: settings.batchSize, over: codes, using: &generator)
            return FactorVAEScore.score(varianceImages: variance, train: train, evaluation: evaluation, codes: codes)
        }
        mig = timed("mig") {
            var generator = RandomGenerator(seed: settings.seed)
            let images = codes.drawImages(settings.trainPoints, using: &generator)
            return MutualInformationGap.score(codes: codes.codeColumns(images), factors: codes.factorColumns(images), bins: settings.bins)
        }
        sap = timed("sap") {
            var generator = RandomGenerator(seed: settings.seed)
            let train = codes.drawImages(settings.trainPoints, using: &generator), test = codes.drawImages(settings.testPoints, using: &generator)
            return SeparatedAttributePredictability.score(trainCodes: codes.codeColumns(train), trainFactors: codes.factorColumns(train),
                                                          testCodes: codes.codeColumns(test), testFactors: codes.factorColumns(test))
        }
        dci = timed("dci") {
            var generator = RandomGenerator(seed: settings.seed)
            let train = codes.drawImages(settings.trainPoints, using: &generator), test = codes.drawImages(settings.testPoints, using: &generator)
            return DCIScores(trainCodes: codes.codeColumns(train), trainFactors: codes.factorColumns(train),
                             testCodes: codes.codeColumns(test), testFactors: codes.factorColumns(test))
        }
        unsupervised = timed("unsupervised") {
            var generator = RandomGenerator(seed: settings.seed)
            return UnsupervisedScores(codes: codes.codeColumns(codes.drawImages(settings.trainPoints, using: &generator)), bins: settings.bins)
        }
        self.seconds = seconds
    }

    /// The figures by disentanglement_lib's names, for JSON.
    public var jsonObject: [String: Any] {
        [
            "factors": factorNames,
            "beta_vae_score": betaVAE.evaluation, "beta_vae_train_accuracy": betaVAE.train,
            "factor_vae_score": factorVAE.evaluation, "factor_vae_train_accuracy": factorVAE.train, "factor_vae_active_dimensions": factorVAE.activeDimensions,
            "mig": mig.score, "mig_per_factor": mig.gaps, "mutual_information_matrix": mig.information, "factor_entropy": mig.entropies,
            "sap": sap.score, "sap_matrix": sap.matrix,
            "dci_disentanglement": dci.disentanglement, "dci_completeness": dci.completeness,
            "dci_informativeness_train": dci.informativenessTrain, "dci_informativeness_test": dci.informativenessTest,
            "dci_importance": dci.importance, "dci_regressor": "gradient-boosted trees (100 stages of depth 3, learning rate 0.1: scikit-learn's GradientBoostingClassifier defaults)",
            "gaussian_total_correlation": unsupervised.gaussianTotalCorrelation,
            "gaussian_wasserstein_correlation": unsupervised.gaussianWassersteinCorrelation,
            "gaussian_wasserstein_correlation_norm": unsupervised.gaussianWassersteinCorrelationNormalized,
            "mutual_info_score": unsupervised.mutualInformation,
            "settings": ["seed": settings.seed, "train_points": settings.trainPoints, "test_points": settings.testPoints,
                         "batch_size": settings.batchSize, "variance_images": settings.varianceImages, "bins": settings.bins] as [String: Any],
            "seconds": seconds,
        ]
    }

    /// The figures as lines of text.
    public var lines: [String] {
        [
            "disentanglement over the factors \(factorNames.joined(separator: ", ")) (disentanglement_lib's default settings, seed \(settings.seed)):",
            String(format: "  BetaVAE score        %.4f  (train accuracy %.4f; logistic regression on mean |z1 - z2| of %d pairs)", betaVAE.evaluation, betaVAE.train, settings.batchSize),
            String(format: "  FactorVAE score      %.4f  (train accuracy %.4f; majority vote, %d of the dimensions kept)", factorVAE.evaluation, factorVAE.train, factorVAE.activeDimensions),
            String(format: "  MIG                  %.4f  (per factor: %@)", mig.score, zip(factorNames, mig.gaps).map { String(format: "%@ %.3f", $0, $1) }.joined(separator: ", ")),
            String(format: "  SAP                  %.4f", sap.score),
            String(format: "  DCI disentanglement  %.4f, completeness %.4f, informativeness %.4f (train %.4f); gradient-boosted trees", dci.disentanglement, dci.completeness, dci.informativenessTest, dci.informativenessTrain),
            String(format: "  unsupervised: Gaussian total correlation %.4f nats, Wasserstein correlation %.4f (normalised %.4f), mean pairwise mutual information %.4f nats",
                   unsupervised.gaussianTotalCorrelation, unsupervised.gaussianWassersteinCorrelation, unsupervised.gaussianWassersteinCorrelationNormalized, unsupervised.mutualInformation),
        ]
    }
}

extension FactorImages {
    /// The posterior means [indices.count, size] of the images at `indices` under `model`,
    /// `chunk` images expanded at a time (never the whole grid); `progress` gets the images done.
    public func encodedMeans(_ indices: [Int], model: any VariationalModel, chunk: Int = 4096, batchSize: Int = 512,
                             progress: (Int) -> Void = { _ in }) -> (means: [Float], size: Int) {
        let pixelsPerImage = side * side
        var means: [Float] = []
        var size = 0
        var pixels = [Float](repeating: 0, count: min(chunk, max(indices.count, 1)) * pixelsPerImage)
        for start in stride(from: 0, to: indices.count, by: chunk) {
            let rows = min(chunk, indices.count - start)
            pixels.withUnsafeMutableBufferPointer { target in
                for row in 0..<rows { copyImage(indices[start + row], into: target.baseAddress! + row * pixelsPerImage) }
            }
            let encoded = model.encode(images: Array(pixels[0..<(rows * pixelsPerImage)]), batchSize: batchSize)
            if means.isEmpty {
                size = encoded.size
                means.reserveCapacity(indices.count * size)
            }
            means += encoded.means
            progress(start + rows)
        }
        return (means, size)
    }
}

extension FactorCodes {
    /// The posterior means of every image of `images` under `model` (see
    /// `FactorImages.encodedMeans`).
    public static func encode(_ images: FactorImages, model: any VariationalModel, progress: (Int) -> Void = { _ in }) -> FactorCodes {
        let (means, size) = images.encodedMeans(Array(0..<images.count), model: model, progress: progress)
        return FactorCodes(grid: images.factors, codes: means, size: size)
    }
}
