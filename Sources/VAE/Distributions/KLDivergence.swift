import TensorCore

/// How a KL divergence KL(q || p) was obtained.
public enum KLEstimator: String, Codable, Sendable {
    /// The closed form (diagonal Gaussian to N(0, I) or to another diagonal Gaussian).
    case closedForm = "closed form"
    /// The single-sample Monte-Carlo estimate log q(z) − log p(z) at the z drawn from q.
    case monteCarlo = "Monte Carlo"
}

/// KL divergences between latent distributions: in closed form where one exists, estimated by
/// Monte Carlo otherwise. Shapes: per row, [rows].
public enum KLDivergence {
    /// KL(q || p) per row in closed form, or nil when the pair has none here.
    /// Pairs: a diagonal Gaussian to N(0, I) (one fused kernel), and to another diagonal
    /// Gaussian with parameters per row; quantised codes to the uniform prior over codes
    /// (positions · log K).
    public static func closedForm(_ q: any LatentDistribution, _ p: any LatentDistribution) -> Tensor? {
        if let codes = q as? QuantizedCodes, let uniform = p as? UniformCodes {
            return Tensor(shape: [codes.rows], repeating: Float(uniform.klDivergence))
        }
        guard let gaussian = q as? DiagonalGaussian else { return nil }
        if p is StandardNormal { return gaussian.klDivergence(reduction: .none) }
        if let prior = p as? DiagonalGaussian { return gaussian.klDivergence(to: prior) }
        return nil
    }

    /// KL(q || p) per dimension in closed form, [rows, dimension], or nil when the pair has no
    /// closed form or does not factorise over dimensions.
    public static func closedFormPerDimension(_ q: any LatentDistribution, _ p: any LatentDistribution) -> Tensor? {
        guard let gaussian = q as? DiagonalGaussian else { return nil }
        if p is StandardNormal { return gaussian.klDivergencePerDimension }
        if let prior = p as? DiagonalGaussian { return gaussian.klDivergencePerDimension(to: prior) }
        return nil
    }

    /// log q(z) − log p(z) per row for z drawn from q with `noise`: an unbiased one-sample
    /// estimate of KL(q || p), and the term the importance-weighted bound subtracts. For a
    /// diagonal Gaussian q and p = N(0, I) the 2π terms cancel and it is
    /// ½ Σ_d (z_d² − ε_d² − log σ_d²), with ε a constant.
    public static func logRatio(posterior q: any ReparameterizedDistribution, prior p: any LatentDistribution, z: Tensor, noise: Tensor) -> Tensor {
        if let gaussian = q as? DiagonalGaussian, p is StandardNormal {
            let noiseTerm = Tensor(shape: [gaussian.rows], scalars: withoutGradients { noise.squared().sum(alongAxis: 1).scalars })
            return -(z.squared().sum(alongAxis: 1) * -0.5 + noiseTerm * 0.5 + gaussian.logVariance.sum(alongAxis: 1) * 0.5)
        }
        return q.logProbability(ofSampleFrom: noise) - p.logProbability(z)
    }

    /// KL(q || p) per row: the closed form when there is one (and `preferClosedForm`), else the
    /// Monte-Carlo estimate at the drawn z; with the estimator used. Without noise (z at the
    /// mean) the Monte-Carlo estimate is taken at the mean.
    public static func estimate(posterior q: any ReparameterizedDistribution, prior p: any LatentDistribution, z: Tensor, noise: Tensor?,
                                preferClosedForm: Bool = true) -> (value: Tensor, estimator: KLEstimator) {
        if preferClosedForm, let value = closedForm(q, p) { return (value, .closedForm) }
        if let noise { return (logRatio(posterior: q, prior: p, z: z, noise: noise), .monteCarlo) }
        return (q.logProbability(z) - p.logProbability(z), .monteCarlo)
    }
}
