import Foundation
import TensorCore

/// A Gaussian N(μ, Σ) fitted to feature vectors: their mean and covariance (divided by n − 1),
/// in Double.
public struct GaussianFit: Sendable {
    /// The feature dimension d.
    public let dimension: Int
    /// μ, [d].
    public let mean: [Double]
    /// Σ, [d · d] row-major.
    public let covariance: [Double]
    /// The number of vectors fitted.
    public let count: Int

    /// The fit of `features` [count · dimension] (row-major); needs at least two rows.
    public init(features: [Float], dimension: Int) {
        precondition(dimension > 0 && features.count % dimension == 0 && features.count >= 2 * dimension, "a Gaussian fit needs at least two rows of \(dimension) values")
        (mean, covariance) = SymmetricMatrix.meanAndCovariance(of: features, dimension: dimension)
        self.dimension = dimension
        count = features.count / dimension
    }

    /// The fit with the given moments.
    public init(mean: [Double], covariance: [Double], count: Int) {
        precondition(!mean.isEmpty && covariance.count == mean.count * mean.count, "a Gaussian fit needs [d] means and [d · d] covariances")
        (self.mean, self.covariance, self.count, dimension) = (mean, covariance, count, mean.count)
    }

    /// The Fréchet (2-Wasserstein) distance between the two Gaussians, squared, as FID reports it
    /// (Heusel et al. 2017; Dowson & Landau 1982):
    ///
    ///     d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}
    ///
    /// The last trace equals tr (Σ₁ Σ₂)^{1/2}; computed from the eigenvalues of the symmetric
    /// Σ₁^{1/2} Σ₂ Σ₁^{1/2} (negative rounding clamped to zero), so it needs no complex square root.
    public func frechetDistance(to other: GaussianFit) -> Double {
        precondition(dimension == other.dimension, "Fréchet distance between fits of \(dimension) and \(other.dimension) dimensions")
        let n = dimension
        var meanTerm = 0.0
        for i in 0..<n { meanTerm += (mean[i] - other.mean[i]) * (mean[i] - other.mean[i]) }
        var traces = 0.0
        for i in 0..<n { traces += covariance[i * n + i] + other.covariance[i * n + i] }
        let root = SymmetricMatrix.squareRoot(covariance, size: n)
        var middle = SymmetricMatrix.product(SymmetricMatrix.product(root, other.covariance, size: n), root, size: n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let average = (middle[i * n + j] + middle[j * n + i]) / 2
                middle[i * n + j] = average
                middle[j * n + i] = average
            }
        }
        let crossTrace = SymmetricMatrix.eigen(middle, size: n).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return max(meanTerm + traces - 2 * crossTrace, 0)
    }
}
