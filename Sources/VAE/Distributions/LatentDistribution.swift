import TensorCore

/// A distribution over latent vectors z of `dimension` values: a posterior q(z | x) with
/// parameters per row of a batch, or a prior p(z) shared by every row (or conditioned per row
/// on the groups above it). Shapes: z [batch, dimension].
///
/// The vocabulary follows Pyro's and TensorFlow Probability's distributions as values:
/// `logProbability`, a reparameterised `sample(noise:)` where one is defined
/// (`ReparameterizedDistribution`), and KL divergences in closed form where one exists
/// (`KLDivergence.closedForm`), estimated by Monte Carlo otherwise.
public protocol LatentDistribution {
    /// The dimension of z.
    var dimension: Int { get }
    /// log p(z) per row, [batch], in nats (differentiable in z and in the parameters).
    func logProbability(_ z: Tensor) -> Tensor
}

/// A distribution with parameters per row from which z is drawn as a differentiable function
/// of standard normal noise (the reparameterisation trick: Kingma & Welling 2014).
public protocol ReparameterizedDistribution: LatentDistribution {
    /// The rows (one distribution per row of the batch).
    var rows: Int { get }
    /// z = g(ε) for noise ε ~ N(0, I) of shape [rows, dimension], differentiable in the parameters.
    func sample(noise: Tensor) -> Tensor
    /// The mean (or the mode), [rows, dimension]: the code drawn in pictures and tables.
    var mean: Tensor { get }
    /// The same distribution with every row repeated k times ([rows · k, dimension]; row r · k + i
    /// is row r's i-th copy), for k importance samples per image.
    func repeatingRows(_ k: Int) -> Self
    /// log q(z) for z = g(ε) drawn from `noise`, [rows]: where the density is simpler in ε (a
    /// Gaussian's is −½ Σ (ε² + log σ² + log 2π)), this form is exact and cheap; by default it
    /// is `logProbability(sample(noise:))`.
    func logProbability(ofSampleFrom noise: Tensor) -> Tensor
}

extension ReparameterizedDistribution {
    public func logProbability(ofSampleFrom noise: Tensor) -> Tensor { logProbability(sample(noise: noise)) }
}
