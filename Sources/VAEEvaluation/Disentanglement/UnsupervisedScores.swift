import Foundation
import TensorCore

/// The scores of a representation that need no factors, as disentanglement_lib's
/// `unsupervised_metrics` computes them on the mean codes of random images: with Σ their
/// covariance (divided by count − 1),
/// - the Gaussian total correlation ½ (Σ_j log Σ_jj − log det Σ), the KL divergence from
///   N(0, Σ) to the product of its marginals;
/// - the Gaussian Wasserstein correlation 2 tr Σ − 2 tr (diag(Σ) Σ)^{1/2}, the squared
///   2-Wasserstein distance between the same two Gaussians, and the same over tr Σ;
/// - the mutual-information score: the mean, over ordered pairs of distinct dimensions, of
///   I(z_i; z_j) between their 20-bin histogram discretisations (nats).
public struct UnsupervisedScores: Sendable, Equatable {
    /// ½ (Σ log diag Σ − log det Σ), nats.
    public let gaussianTotalCorrelation: Double
    /// 2 tr Σ − 2 tr (diag(Σ) Σ)^{1/2}.
    public let gaussianWassersteinCorrelation: Double
    /// The same divided by tr Σ.
    public let gaussianWassersteinCorrelationNormalized: Double
    /// The mean pairwise discrete mutual information, nats.
    public let mutualInformation: Double

    /// The scores of `codes` ([dimensions][points]).
    public init(codes: [[Double]], bins: Int = 20) {
        let d = codes.count, n = codes[0].count
        precondition(d >= 2 && n >= 2)
        let means = codes.map { $0.reduce(0, +) / Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                var sum = 0.0
                for p in 0..<n { sum += (codes[i][p] - means[i]) * (codes[j][p] - means[j]) }
                covariance[i * d + j] = sum / Double(n - 1)
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        let diagonal = (0..<d).map { covariance[$0 * d + $0] }
        // log det Σ from the eigenvalues (slogdet's log |det|); −∞ total correlation is +∞.
        let eigenvalues = SymmetricMatrix.eigen(covariance, size: d).values
        let logDeterminant = eigenvalues.reduce(0) { $0 + log(abs($1)) }
        gaussianTotalCorrelation = 0.5 * (diagonal.reduce(0) { $0 + log($1) } - logDeterminant)
        // diag(Σ) Σ is similar to D^{1/2} Σ D^{1/2} (symmetric, positive semi-definite): the trace
        // of its square root is the sum of the square roots of that matrix's eigenvalues.
        var scaled = covariance
        for i in 0..<d { for j in 0..<d { scaled[i * d + j] *= (diagonal[i] * diagonal[j]).squareRoot() } }
        let rootTrace = SymmetricMatrix.eigen(scaled, size: d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        let trace = diagonal.reduce(0, +)
        gaussianWassersteinCorrelation = 2 * trace - 2 * rootTrace
        gaussianWassersteinCorrelationNormalized = gaussianWassersteinCorrelation / trace
        let discretized = codes.map { Discretization.histogramBins($0, bins: bins) }
        var total = 0.0
        for i in 0..<d { for j in 0..<d where i != j { total += Discretization.mutualInformation(discretized[i], discretized[j]) } }
        mutualInformation = total / Double(d * d - d)
    }
}
