import TensorCore

/// Batch normalisation of image batches (Ioffe & Szegedy 2015), PyTorch's `BatchNorm2d`:
/// y = γ_c (x − μ_c) / √(σ²_c + ε) + β_c per channel, [N, C, H, W] (or channel-blocked) -> the
/// same shape and layout.
///
/// In a pass that records gradients (training), μ_c and σ²_c are the batch's (over N, H, W,
/// σ² biased), and the running averages move towards them: m ← (1 − momentum) m + momentum μ,
/// v ← (1 − momentum) v + momentum σ² M / (M − 1) (unbiased, M values per channel). Otherwise
/// (evaluation, under `withoutGradients`) the running averages are used. Keys: `weight` γ,
/// `bias` β, and the buffers `runningMean`, `runningVariance`.
public final class BatchNorm2D: Module {
    /// γ, [C], starting at 1.
    public let weight: Tensor
    /// β, [C], starting at 0.
    public let bias: Tensor
    /// The running mean, [C], starting at 0.
    public let runningMean: Buffer
    /// The running (unbiased) variance, [C], starting at 1.
    public let runningVariance: Buffer
    /// The running averages' step towards each batch's statistics.
    public let momentum: Float
    /// ε.
    public let epsilon: Float

    /// A layer for `channels` channels.
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(channels > 0, "BatchNorm2D needs at least one channel")
        precondition((0...1).contains(momentum) && epsilon >= 0, "momentum must lie in [0, 1] and epsilon must not be negative")
        weight = Tensor(shape: [channels], repeating: 1, requiresGradient: true)
        bias = Tensor.zeros([channels], requiresGradient: true)
        runningMean = Buffer(shape: [channels], initial: 0)
        runningVariance = Buffer(shape: [channels], initial: 1)
        (self.momentum, self.epsilon) = (momentum, epsilon)
    }

    /// The channels C.
    public var channels: Int { weight.count }

    /// The batch normalised (batch statistics while gradients are recorded, running averages
    /// otherwise); differentiable in x, γ and β.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard GradientMode.isEnabled else {
            return x.normalized(mean: runningMean.value.scalars, variance: runningVariance.value.scalars, scale: weight, shift: bias, epsilon: epsilon)
        }
        let (output, statistics) = x.normalized(over: .channels, scale: weight, shift: bias, epsilon: epsilon)
        let correction = statistics.valuesPerSet > 1 ? Float(statistics.valuesPerSet) / Float(statistics.valuesPerSet - 1) : 1
        let (mean, variance) = (runningMean.value.pointer, runningVariance.value.pointer)
        for channel in 0..<channels {
            mean[channel] = (1 - momentum) * mean[channel] + momentum * statistics.mean[channel]
            variance[channel] = (1 - momentum) * variance[channel] + momentum * statistics.variance[channel] * correction
        }
        return output
    }
}

/// Group normalisation (Wu & He 2018), PyTorch's `GroupNorm`: each image's channels split into
/// G groups of C / G; each group is normalised by its own mean and biased variance over its
/// channels and pixels, then y = γ_c x̂ + β_c. The same in training and evaluation. Keys:
/// `weight` γ, `bias` β.
public final class GroupNorm: Module {
    /// γ, [C], starting at 1.
    public let weight: Tensor
    /// β, [C], starting at 0.
    public let bias: Tensor
    /// G.
    public let groups: Int
    /// ε.
    public let epsilon: Float

    /// A layer of `groups` groups over `channels` channels (`groups` must divide `channels`).
    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        precondition(groups > 0 && channels > 0 && channels % groups == 0, "GroupNorm needs groups that divide the channels, got \(groups) and \(channels)")
        weight = Tensor(shape: [channels], repeating: 1, requiresGradient: true)
        bias = Tensor.zeros([channels], requiresGradient: true)
        (self.groups, self.epsilon) = (groups, epsilon)
    }

    /// The images normalised per group; differentiable in x, γ and β.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.normalized(over: .groups(groups), scale: weight, shift: bias, epsilon: epsilon).output
    }
}
