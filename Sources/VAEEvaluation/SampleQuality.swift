import Foundation
import TensorCore

/// How closely generated images match real ones, measured in the feature space of a classifier
/// (`ImageClassifier.features`): the Fréchet distance between Gaussian fits, KID, and precision
/// and recall of distributions.
///
/// These figures compare models under one feature network. They are not comparable with the
/// Inception-FID figures of papers, which use a network trained on ImageNet.
public struct SampleQuality: Sendable, Codable, Equatable {
    /// The Fréchet distance between the Gaussian fits of the real and the generated features.
    public let frechetDistance: Double
    /// KID: the unbiased MMD² under the cubic kernel, over random subsets.
    public let kernelDistance: KernelDistance
    /// Precision and recall by k-nearest-neighbour balls.
    public let precisionRecall: PrecisionRecall
    /// The number of real feature vectors.
    public let realCount: Int
    /// The number of generated feature vectors.
    public let generatedCount: Int
    /// The feature dimension.
    public let featureDimension: Int

    /// The settings of the measures, with the defaults of the papers' code.
    public struct Settings: Sendable, Codable, Equatable {
        /// KID's number of subsets (torch-fidelity: 100).
        public var subsets = 100
        /// KID's vectors per subset from each set (torch-fidelity: 1,000); capped at the smaller
        /// set's size.
        public var subsetSize = 1000
        /// The neighbour k that sets each precision-and-recall ball (Kynkäänniemi et al.: 3).
        public var neighbours = 3

        /// The defaults.
        public init() {}

        /// Why `generated` and `real` vectors of `dimension` values are too few for the measures,
        /// or nil when they suffice: the covariance of the Fréchet distance needs more vectors
        /// than dimensions, KID at least two per subset, precision and recall more than k.
        public func problem(generated: Int, real: Int, dimension: Int) -> String? {
            let least = min(generated, real)
            if least <= dimension {
                return "the Fréchet distance needs more vectors than the \(dimension) feature dimensions in each set, got \(generated) generated and \(real) real"
            }
            if least <= neighbours { return "precision and recall need more than k = \(neighbours) vectors in each set, got \(least)" }
            return nil
        }
    }

    /// All three measures of `generated` against `real` ([count · dimension] features each);
    /// KID's subsets come from `generator`.
    public init(real: [Float], generated: [Float], dimension d: Int, settings: Settings = Settings(), using generator: inout RandomGenerator) {
        let realCount = real.count / d, generatedCount = generated.count / d
        precondition(settings.problem(generated: generatedCount, real: realCount, dimension: d) == nil, settings.problem(generated: generatedCount, real: realCount, dimension: d) ?? "")
        frechetDistance = GaussianFit(features: real, dimension: d).frechetDistance(to: GaussianFit(features: generated, dimension: d))
        kernelDistance = KernelDistance(real: real, generated: generated, dimension: d, subsets: settings.subsets,
                                        subsetSize: min(settings.subsetSize, realCount, generatedCount), using: &generator)
        precisionRecall = PrecisionRecall(real: real, generated: generated, dimension: d, neighbours: settings.neighbours)
        (self.realCount, self.generatedCount, featureDimension) = (realCount, generatedCount, d)
    }
}
