import Foundation
import TensorCore

/// A distribution a sampler can draw latent vectors from (the prior of `vae sample`).
public protocol DrawableDistribution: LatentDistribution {
    /// `count` draws at temperature T (1: the distribution itself; below 1: nearer its modes),
    /// shape [count, dimension].
    func draw(count: Int, temperature: Float, using generator: inout RandomGenerator) -> Tensor
}

extension StandardNormal: DrawableDistribution {}

/// An equally weighted mixture of K diagonal Gaussians shared by every row,
/// p(z) = (1/K) Σ_k N(z | μ_k, diag σ_k²): the learned mixture prior, and the VampPrior (Tomczak
/// & Welling 2018), whose components are the posterior at K learned pseudo-inputs.
///
/// log p(z) = logsumexp_k log N(z | μ_k, σ_k²) − log K, with every component's density from two
/// matrix products: −½ [Σ_d z_d²/σ_kd² − 2 Σ_d z_d μ_kd/σ_kd² + Σ_d (μ_kd²/σ_kd² + log σ_kd²) + d log 2π].
/// It has no closed-form KL to a Gaussian posterior: the objectives estimate that KL by Monte
/// Carlo (`KLDivergence.estimate`).
public struct MixtureOfGaussians: DrawableDistribution {
    /// μ_k, [K, dimension].
    public let means: Tensor
    /// log σ_k², [K, dimension].
    public let logVariances: Tensor

    /// The mixture of the components' means and log-variances, [K, dimension] each.
    public init(means: Tensor, logVariances: Tensor) {
        precondition(means.rank == 2 && means.shape == logVariances.shape && means.shape[0] >= 1, "a mixture needs [K, d] means and log-variances")
        (self.means, self.logVariances) = (means, logVariances)
    }

    /// K.
    public var components: Int { means.shape[0] }
    /// The dimension of z.
    public var dimension: Int { means.shape[1] }

    /// log N(z_b | μ_k, σ_k²) for every row b and component k, [batch, K].
    public func componentLogDensities(_ z: Tensor) -> Tensor {
        precondition(z.rank == 2 && z.shape[1] == dimension, "z must be [batch, \(dimension)], got \(z.shape)")
        let precisions = (-logVariances).exp()
        let quadratic = Tensor.matmul(z.squared(), precisions, transposeB: true) - Tensor.matmul(z, means * precisions, transposeB: true) * 2
        let constant = (means.squared() * precisions + logVariances).sum(alongAxis: 1) + Float(Double(dimension) * Foundation.log(2 * Double.pi))
        return (quadratic + constant) * -0.5
    }

    /// log p(z) per row, [batch].
    public func logProbability(_ z: Tensor) -> Tensor {
        componentLogDensities(z).logSumExpRows() - Float(Foundation.log(Double(components)))
    }

    /// Draws: a component uniformly, then z = μ_k + T σ_k ε.
    public func draw(count: Int, temperature: Float, using generator: inout RandomGenerator) -> Tensor {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        let (mu, logVariance) = withoutGradients { (means.scalars, logVariances.scalars) }
        let d = dimension
        var result = [Float](repeating: 0, count: count * d)
        let noise = Tensor.randomNormal([count, d], using: &generator).scalars
        for row in 0..<count {
            let k = Int(generator.next() % UInt64(components))
            for j in 0..<d {
                result[row * d + j] = mu[k * d + j] + temperature * Foundation.exp(logVariance[k * d + j] / 2) * noise[row * d + j]
            }
        }
        return Tensor(shape: [count, d], scalars: result)
    }
}
