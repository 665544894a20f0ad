import TensorCore

/// A 2-d convolution with PyTorch's layout and names (`torch.nn.Conv2d`): `weight`
/// [out, in, kH, kW], `bias` [out].
/// Shapes: images [N, in, H, W] (or channel-blocked, see `ImageLayout`) -> [N, out, H', W'] with
/// H' = ⌊(H + 2 padding − kH) / stride⌋ + 1, in the layout oneDNN writes (`Flatten` makes it planar).
public final class Conv2D: Module {
    /// The filters, [out, in, kH, kW] (PyTorch's layout).
    public let weight: Tensor
    /// The bias, [out], or nil.
    public let bias: Tensor?
    /// The step between applications of the filter.
    public let stride: SpatialPair
    /// Zeros added on each side of the input.
    public let padding: SpatialPair

    /// A convolution from `inputChannels` to `outputChannels` with a `kernel`-sized filter,
    /// initialised by `initializer` (PyTorch's `Conv2d` rule by default: uniform ±1/√(in · kH · kW)) from `generator`.
    public init(inputChannels: Int, outputChannels: Int, kernel: SpatialPair, stride: SpatialPair = SpatialPair(1),
                padding: SpatialPair = SpatialPair(0), bias: Bool = true, initializer: Initializer = .pytorchDefault,
                using generator: inout RandomGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernel.height > 0 && kernel.width > 0,
                     "Conv2D needs positive channels and kernel, got \(inputChannels) -> \(outputChannels), kernel \(kernel)")
        let pixels = kernel.height * kernel.width
        let (weight, bias0) = initializer.weightAndBias(
            weightShape: [outputChannels, inputChannels, kernel.height, kernel.width], biasCount: outputChannels,
            fanIn: inputChannels * pixels, fanOut: outputChannels * pixels, using: &generator)
        self.weight = weight
        self.bias = bias ? bias0 : nil
        self.stride = stride
        self.padding = padding
    }

    /// Channels in.
    public var inputChannels: Int { weight.shape[1] }
    /// Channels out.
    public var outputChannels: Int { weight.shape[0] }
    /// The filter's height and width.
    public var kernel: SpatialPair { SpatialPair(weight.shape[2], weight.shape[3]) }

    /// [N, in, H, W] -> [N, out, H', W'] through oneDNN; differentiable in x, weight and bias.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.convolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// activation(conv(x)). A ReLU rectifies the convolution's output in place
    /// (`Tensor.convolution2D(relu:)`: no op, pass or buffer of its own forward); other
    /// activations follow as their own op.
    public func callAsFunction(_ x: Tensor, then activation: Activation) -> Tensor {
        activation == .relu ? Tensor.convolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding, relu: true) : activation(self(x))
    }
}

/// A 2-d transposed convolution with PyTorch's layout and names (`torch.nn.ConvTranspose2d`):
/// `weight` [in, out, kH, kW], `bias` [out].
/// Shapes: images [N, in, H, W] -> [N, out, H', W'] with
/// H' = (H − 1) stride − 2 padding + kH + output padding.
public final class ConvTranspose2D: Module {
    /// The filters, [in, out, kH, kW] (PyTorch's layout for a transposed convolution).
    public let weight: Tensor
    /// The bias, [out], or nil.
    public let bias: Tensor?
    /// The upsampling step.
    public let stride: SpatialPair
    /// Rows and columns removed from each side of the full output.
    public let padding: SpatialPair
    /// Rows and columns added on the bottom and right of the output (to reach an exact size).
    public let outputPadding: SpatialPair

    /// A transposed convolution from `inputChannels` to `outputChannels`, initialised as PyTorch's
    /// `ConvTranspose2d` is by default (fan-in from the output channels) from `generator`.
    public init(inputChannels: Int, outputChannels: Int, kernel: SpatialPair, stride: SpatialPair = SpatialPair(1),
                padding: SpatialPair = SpatialPair(0), outputPadding: SpatialPair = SpatialPair(0), bias: Bool = true,
                initializer: Initializer = .pytorchDefault, using generator: inout RandomGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernel.height > 0 && kernel.width > 0,
                     "ConvTranspose2D needs positive channels and kernel, got \(inputChannels) -> \(outputChannels), kernel \(kernel)")
        let pixels = kernel.height * kernel.width
        // PyTorch counts a transposed convolution's fan-in from the weight's dimension 1 (out).
        let (weight, bias0) = initializer.weightAndBias(
            weightShape: [inputChannels, outputChannels, kernel.height, kernel.width], biasCount: outputChannels,
            fanIn: outputChannels * pixels, fanOut: inputChannels * pixels, using: &generator)
        self.weight = weight
        self.bias = bias ? bias0 : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// Channels in.
    public var inputChannels: Int { weight.shape[0] }
    /// Channels out.
    public var outputChannels: Int { weight.shape[1] }
    /// The filter's height and width.
    public var kernel: SpatialPair { SpatialPair(weight.shape[2], weight.shape[3]) }

    /// [N, in, H, W] -> [N, out, H', W'] through oneDNN; differentiable in x, weight and bias.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.transposedConvolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }

    /// activation(convT(x)). A ReLU is applied in the pass that adds the bias
    /// (`Tensor.transposedConvolution2D(relu:)`); other activations follow as their own op.
    public func callAsFunction(_ x: Tensor, then activation: Activation) -> Tensor {
        activation == .relu
            ? Tensor.transposedConvolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, relu: true)
            : activation(self(x))
    }
}
