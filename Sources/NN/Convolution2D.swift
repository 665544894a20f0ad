import TensorCore

/// A 2-d convolution with PyTorch's layout and names (`torch.nn.Conv2d`): `weight`
/// [out, in, kH, kW], `bias` [out].
/// Shapes: images [N, in, H, W] (or channel-blocked, see `ImageLayout`) -> [N, out, H', W'] with
/// H' = ⌊(H + 2 padding − kH) / stride⌋ + 1, in the layout oneDNN writes (`Flatten` makes it planar).
public final class Conv2D: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: SpatialPair
    public let padding: SpatialPair

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

    public var inputChannels: Int { weight.shape[1] }
    public var outputChannels: Int { weight.shape[0] }
    public var kernel: SpatialPair { SpatialPair(weight.shape[2], weight.shape[3]) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.convolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// A 2-d transposed convolution with PyTorch's layout and names (`torch.nn.ConvTranspose2d`):
/// `weight` [in, out, kH, kW], `bias` [out].
/// Shapes: images [N, in, H, W] -> [N, out, H', W'] with
/// H' = (H − 1) stride − 2 padding + kH + output padding.
public final class ConvTranspose2D: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: SpatialPair
    public let padding: SpatialPair
    public let outputPadding: SpatialPair

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

    public var inputChannels: Int { weight.shape[0] }
    public var outputChannels: Int { weight.shape[1] }
    public var kernel: SpatialPair { SpatialPair(weight.shape[2], weight.shape[3]) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.transposedConvolution2D(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}
