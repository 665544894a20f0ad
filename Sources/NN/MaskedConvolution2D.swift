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

extension CausalMask {
    /// The block of a `kernel` that holds the kept taps: rows 0...k/2 of a k x k kernel
    /// (vertical), columns 0...k/2 of a 1 x k kernel (horizontal; with the centre column masked
    /// when `includesCentre` is false).
    public func keptKernel(of kernel: SpatialPair) -> SpatialPair {
        switch self {
        case .vertical: SpatialPair(kernel.height / 2 + 1, kernel.width)
        case .horizontal: SpatialPair(1, kernel.width / 2 + 1)
        }
    }
}

/// A causal 2-d convolution (`CausalMask`) at stride 1 whose outputs keep the input's size. The
/// mask is folded into the weights: only the block of the kernel that holds the kept taps is a
/// weight, [out, in, k/2 + 1, k] (vertical) or [out, in, 1, k/2 + 1] (horizontal), and it runs
/// on the engine's fast path padded unevenly (k/2 rows above and none below; k/2 columns left
/// and, for the vertical block, k/2 right), so no masked tap is computed or multiplied. Only a
/// first layer's horizontal kernel, which leaves out its centre, multiplies its last column by
/// zero. The same as a k x k convolution with "same" padding whose weight is masked, as in the
/// gated PixelCNN. Keys: `weight`, `bias`.
public final class MaskedConv2D: Module {
    /// The kept block of the filters, [out, in, kH', kW'] (see above).
    public let weight: Tensor
    /// The bias, [out].
    public let bias: Tensor
    /// The taps kept.
    public let mask: CausalMask
    /// The full kernel's height and width, k x k or 1 x k.
    public let kernel: SpatialPair
    /// The mask of a horizontal block without its centre ([out, in, 1, k/2 + 1], last column 0),
    /// held in a struct so that it is neither a parameter nor saved; nil for the other masks.
    let centreMask: Constant?
    struct Constant { let tensor: Tensor }

    /// A masked convolution from `inputChannels` to `outputChannels` with a `kernel` of odd sides
    /// (1 x k for a horizontal mask), drawn as PyTorch's `Conv2d` draws a full kernel's weights.
    public init(inputChannels: Int, outputChannels: Int, kernel: SpatialPair, mask: CausalMask, using generator: inout RandomGenerator) {
        precondition(kernel.height % 2 == 1 && kernel.width % 2 == 1, "a causal kernel has odd sides, got \(kernel)")
        if case .horizontal = mask { precondition(kernel.height == 1, "a horizontal mask takes a 1 x k kernel, got \(kernel)") }
        let kept = mask.keptKernel(of: kernel)
        let (weight, bias) = Initializer.pytorchDefault.weightAndBias(
            weightShape: [outputChannels, inputChannels, kept.height, kept.width], biasCount: outputChannels,
            fanIn: inputChannels * kernel.height * kernel.width, fanOut: outputChannels * kernel.height * kernel.width, using: &generator)
        (self.weight, self.bias, self.mask, self.kernel) = (weight, bias, mask, kernel)
        if mask == .horizontal(includesCentre: false) {
            let columns = (0..<kept.width).map { $0 < kept.width - 1 ? Float(1) : 0 }
            centreMask = Constant(tensor: Tensor(shape: weight.shape, scalars: (0..<(outputChannels * inputChannels)).flatMap { _ in columns }))
        } else {
            centreMask = nil
        }
    }

    /// The padding above and left of the image, and below and right, that keeps its size.
    public var padding: (before: SpatialPair, after: SpatialPair) {
        let (rows, columns) = (kernel.height / 2, kernel.width / 2)
        switch mask {
        case .vertical: return (SpatialPair(rows, columns), SpatialPair(0, columns))
        case .horizontal: return (SpatialPair(0, columns), SpatialPair(0, 0))
        }
    }

    /// [N, in, H, W] -> [N, out, H, W] (planar).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let padding = self.padding
        return Tensor.convolution2D(x, weight: centreMask.map { weight * $0.tensor } ?? weight, bias: bias,
                                    paddingBefore: padding.before, paddingAfter: padding.after).planarImages()
    }
}
