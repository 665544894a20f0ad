import TensorCore

/// Squeeze-and-excitation (Hu et al. 2018): each image's channels gated by a small network of
/// their means, y = x ⊙ σ(W₂ relu(W₁ mean_hw(x) + b₁) + b₂) per channel. Images [N, C, H, W]
/// (or channel-blocked) -> the same shape and layout. Keys `reduce.*` (C -> C / r) and
/// `expand.*` (C / r -> C).
public final class SqueezeExcitation: Module {
    /// W₁, b₁: the channel means to the bottleneck.
    public let reduce: Linear
    /// W₂, b₂: the bottleneck to one gate per channel.
    public let expand: Linear

    /// A gate for `channels` channels through a bottleneck of max(channels / reduction, 4)
    /// (NVAE's choice; the paper's reduction is 16).
    public init(channels: Int, reduction: Int = 16, using generator: inout RandomGenerator) {
        precondition(channels > 0 && reduction > 0, "SqueezeExcitation needs positive channels and reduction")
        let hidden = max(channels / reduction, 4)
        reduce = Linear(inputSize: channels, outputSize: hidden, using: &generator)
        expand = Linear(inputSize: hidden, outputSize: channels, using: &generator)
    }

    /// The images with their channels gated; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let gates = expand(reduce(x.channelMeans(), then: .relu)).sigmoid()
        return x.scalingChannels(by: gates)
    }
}

extension Tensor {
    /// Weight normalisation (Salimans & Kingma 2016): w = g_o v_o / ‖v_o‖ for every output o,
    /// where v_o is the direction's slice [o, ...] (a row of a dense layer's [out, in], a filter of
    /// a convolution's [out, in, kH, kW]) and `magnitude` g is [out]. Differentiable in both.
    public static func weightNormalized(direction: Tensor, magnitude: Tensor) -> Tensor {
        let outputs = direction.shape[0]
        precondition(magnitude.shape == [outputs], "the magnitude must be [\(outputs)], got \(magnitude.shape)")
        let rows = direction.reshaped(to: [outputs, direction.count / outputs])
        let norms = rows.squared().sum(alongAxis: 1).squareRoot().reshaped(to: [outputs, 1])
        return (rows * (magnitude.reshaped(to: [outputs, 1]) / norms)).reshaped(to: direction.shape)
    }
}

/// A 2-d convolution with weight normalisation (PyTorch's `weight_norm(Conv2d)`, NVAE's
/// convolutions): w = g v / ‖v‖ per output channel, then `Conv2D`'s convolution. Keys
/// `direction` v [out, in, kH, kW], `magnitude` g [out] and `bias` [out]. It starts with g = ‖v‖,
/// so its first weights are the initializer's draw.
public final class WeightNormalizedConv2D: Module {
    /// v.
    public let direction: Tensor
    /// g.
    public let magnitude: Tensor
    /// The bias, or nil.
    public let bias: Tensor?
    /// The filter's step.
    public let stride: SpatialPair
    /// Zeros added on each side.
    public let padding: SpatialPair

    /// A convolution from `inputChannels` to `outputChannels`, drawn as `Conv2D` draws its weights.
    public init(inputChannels: Int, outputChannels: Int, kernel: SpatialPair, stride: SpatialPair = SpatialPair(1),
                padding: SpatialPair = SpatialPair(0), bias: Bool = true, initializer: Initializer = .pytorchDefault,
                using generator: inout RandomGenerator) {
        let plain = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel, stride: stride, padding: padding,
                           bias: bias, initializer: initializer, using: &generator)
        direction = plain.weight
        let filter = direction.count / outputChannels
        let values = direction.scalars
        magnitude = Tensor(shape: [outputChannels], scalars: (0..<outputChannels).map { output in
            values[(output * filter)..<((output + 1) * filter)].reduce(0) { $0 + $1 * $1 }.squareRoot()
        }, requiresGradient: true)
        self.bias = plain.bias
        (self.stride, self.padding) = (stride, padding)
    }

    /// The weights in use, g v / ‖v‖, [out, in, kH, kW]; differentiable.
    public var weight: Tensor { Tensor.weightNormalized(direction: direction, magnitude: magnitude) }

    /// [N, in, H, W] -> [N, out, H', W']; differentiable in x, v, g and the bias.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.convolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// NVAE's residual cell of the bottom-up encoder (Vahdat & Kautz 2020): y = x + s · f(x) with
/// f = BN → SiLU → conv 3x3 → BN → SiLU → conv 3x3 → squeeze-and-excitation, at constant
/// channels and size, and s = 0.1 (NVAE scales each cell's residual so that a deep stack starts
/// near the identity). Keys `normalizations.0/1.*`, `convolutions.0/1.*` (weight-normalised),
/// `excitation.*`.
public final class ResidualCell: Module {
    /// The two batch normalisations.
    public let normalizations: [BatchNorm2D]
    /// The two 3x3 convolutions.
    public let convolutions: [WeightNormalizedConv2D]
    /// The gate.
    public let excitation: SqueezeExcitation
    /// s, the residual's scale.
    public let residualScale: Float

    /// A cell over `channels` channels.
    public init(channels: Int, residualScale: Float = 0.1, using generator: inout RandomGenerator) {
        normalizations = [BatchNorm2D(channels: channels), BatchNorm2D(channels: channels)]
        convolutions = (0..<2).map { _ in
            WeightNormalizedConv2D(inputChannels: channels, outputChannels: channels, kernel: SpatialPair(3), padding: SpatialPair(1), using: &generator)
        }
        excitation = SqueezeExcitation(channels: channels, using: &generator)
        self.residualScale = residualScale
    }

    /// x + s f(x), [N, C, H, W] (or channel-blocked) -> the same shape; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (normalization, convolution) in zip(normalizations, convolutions) { h = convolution(normalization(h).silu()) }
        let residual = excitation(h).inImageLayout(x.imageLayout!)
        return x + residualScale * residual
    }
}
