import TensorCore

/// Which taps of a kernel a causal convolution keeps, for a raster order (row by row, left to
/// right) over an image (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN
/// Decoders"; the gated PixelCNN's two stacks).
public enum CausalMask: Equatable, Sendable {
    /// A k x k kernel's rows above the centre and the centre row (all its columns): the vertical
    /// stack, whose output at row i sees rows ≤ i and reaches the horizontal stack only after
    /// a shift down by one row.
    case vertical
    /// A 1 x k kernel's columns left of the centre, and the centre itself unless `includesCentre`
    /// is false (the first layer, which must not see the value it predicts).
    case horizontal(includesCentre: Bool)

    /// The mask, 1 for kept taps and 0 for the others, [kernelHeight, kernelWidth] row-major.
    public func values(kernel: SpatialPair) -> [Float] {
        let (centreRow, centreColumn) = (kernel.height / 2, kernel.width / 2)
        return (0..<(kernel.height * kernel.width)).map { index in
            let (row, column) = (index / kernel.width, index % kernel.width)
            switch self {
            case .vertical: return row <= centreRow ? 1 : 0
            case let .horizontal(includesCentre): return column < centreColumn || (includesCentre && column == centreColumn) ? 1 : 0
            }
        }
    }
}

/// A 2-d convolution whose kernel is masked (`CausalMask`), stride 1 and "same" padding: the
/// weight [out, in, kH, kW] is multiplied by the mask on every call, so the convolution runs on
/// the engine's fast path and the masked taps get no gradient. Keys: `weight`, `bias` (the mask
/// is not saved: it follows from the kind).
public final class MaskedConv2D: Module {
    /// The filters, [out, in, kH, kW], before the mask.
    public let weight: Tensor
    /// The bias, [out].
    public let bias: Tensor
    /// The taps kept.
    public let mask: CausalMask
    /// The mask [out, in, kH, kW], held in a struct so that it is neither a parameter nor saved.
    let maskValues: Constant
    struct Constant { let tensor: Tensor }

    /// A masked convolution from `inputChannels` to `outputChannels` with a `kernel` of odd sides
    /// (1 x k for a horizontal mask), drawn as PyTorch's `Conv2d` draws its weights.
    public init(inputChannels: Int, outputChannels: Int, kernel: SpatialPair, mask: CausalMask, using generator: inout RandomGenerator) {
        precondition(kernel.height % 2 == 1 && kernel.width % 2 == 1, "a causal kernel has odd sides, got \(kernel)")
        if case .horizontal = mask { precondition(kernel.height == 1, "a horizontal mask takes a 1 x k kernel, got \(kernel)") }
        let (weight, bias) = Initializer.pytorchDefault.weightAndBias(
            weightShape: [outputChannels, inputChannels, kernel.height, kernel.width], biasCount: outputChannels,
            fanIn: inputChannels * kernel.height * kernel.width, fanOut: outputChannels * kernel.height * kernel.width, using: &generator)
        (self.weight, self.bias, self.mask) = (weight, bias, mask)
        let taps = mask.values(kernel: kernel)
        maskValues = Constant(tensor: Tensor(shape: weight.shape, scalars: (0..<(outputChannels * inputChannels)).flatMap { _ in taps }))
    }

    /// The kernel's height and width.
    public var kernel: SpatialPair { SpatialPair(weight.shape[2], weight.shape[3]) }

    /// [N, in, H, W] -> [N, out, H, W] (planar), with the masked weight.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let kernel = self.kernel
        return Tensor.convolution2D(x, weight: weight * maskValues.tensor, bias: bias, padding: SpatialPair(kernel.height / 2, kernel.width / 2)).planarImages()
    }
}
