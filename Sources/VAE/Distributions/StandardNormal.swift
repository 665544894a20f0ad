import Foundation
import TensorCore

/// The standard normal N(0, I) over `dimension` values: the fixed prior of a VAE's top latent
/// group (Kingma & Welling 2014), the same for every row.
public struct StandardNormal: LatentDistribution, Equatable, Sendable {
    /// The dimension of z.
    public let dimension: Int

    /// N(0, I) over `dimension` values.
    public init(dimension: Int) {
        precondition(dimension > 0, "a distribution needs at least one dimension, got \(dimension)")
        self.dimension = dimension
    }

    /// log p(z) per row, [batch]: −½ Σ_d (z_d² + log 2π).
    public func logProbability(_ z: Tensor) -> Tensor {
        precondition(z.rank == 2 && z.shape[1] == dimension, "z must be [batch, \(dimension)], got \(z.shape)")
        return z.squared().sum(alongAxis: 1) * -0.5 - Float(Double(dimension) / 2 * Foundation.log(2 * Double.pi))
    }

    /// z = ε: the noise is the sample.
    public func sample(noise: Tensor) -> Tensor { noise }

    /// The mean, 0, for `rows` rows.
    public func mean(rows: Int) -> Tensor { Tensor.zeros([rows, dimension]) }

    /// `count` draws at temperature T: z = T ε, ε ~ N(0, I) (T = 1 is the prior itself, T < 1
    /// nearer its mode). Shape [count, dimension].
    public func draw(count: Int, temperature: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        return Tensor.randomNormal([count, dimension], standardDeviation: temperature, using: &generator)
    }
}
