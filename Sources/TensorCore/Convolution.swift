// 2-d convolution and transposed convolution on oneDNN's primitives.
//
// Shapes (planar; either op also takes and may return channel-blocked images, see ImageLayout):
//   convolution2D:            x [N, C_in, H, W], weight [C_out, C_in, kH, kW] (PyTorch's Conv2d),
//                             bias [C_out] -> y [N, C_out, H', W'],  H' = ⌊(H + 2 p − kH) / s⌋ + 1,
//                             y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, s·i − p + u, s·j − p + v]
//                             (x is zero outside the image).
//   transposedConvolution2D:  x [N, C_in, H, W], weight [C_in, C_out, kH, kW] (PyTorch's
//                             ConvTranspose2d), bias [C_out] -> y [N, C_out, H', W'],
//                             H' = (H − 1) s − 2 p + kH + output padding,
//                             the adjoint of the convolution with the same weight read as
//                             [C_out_conv = C_in, C_in_conv = C_out, kH, kW]: each input pixel scatters
//                             w[c, o, u, v] · x[n, c, i, j] onto y[n, o, s·i − p + u, s·j − p + v].
// A transposed convolution's forward pass is a convolution's backward-data pass and its input
// gradient a convolution's forward pass, so both ops run on the three convolution primitives
// (oneDNN 2.6's deconvolution primitive is about half as fast in its forward pass).

/// A height and a width (strides, paddings, kernel sizes).
public struct SpatialPair: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Along the rows.
    public var height: Int
    /// Along the columns.
    public var width: Int

    /// A pair of a height and a width.
    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
    /// The same size along both axes.
    public init(_ both: Int) { self.init(both, both) }

    /// "3" for a square pair, "3x5" otherwise (the command line's spelling).
    public var description: String { height == width ? "\(height)" : "\(height)x\(width)" }
}

/// The output size of a convolution over `input` pixels along one axis: ⌊(n + 2p − k) / s⌋ + 1,
/// or nil when the kernel does not fit.
public func convolutionOutputLength(input: Int, kernel: Int, stride: Int, padding: Int) -> Int? {
    let span = input + 2 * padding - kernel
    return span >= 0 ? span / stride + 1 : nil
}

/// The output size of a transposed convolution along one axis: (n − 1) s − 2p + k + output padding,
/// or nil when that is below 1.
public func transposedConvolutionOutputLength(input: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int) -> Int? {
    let length = (input - 1) * stride - 2 * padding + kernel + outputPadding
    return length >= 1 ? length : nil
}

extension Tensor {
    /// A 2-d convolution (cross-correlation, as PyTorch's Conv2d). See the shapes above. With
    /// `relu`, max(y, 0) in place of y, rectified in place after the convolution (no buffer and
    /// no op of its own); its backward pass masks dy by [y > 0] before the convolution's.
    public static func convolution2D(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: SpatialPair = SpatialPair(1),
                                     padding: SpatialPair = SpatialPair(0), relu: Bool = false) -> Tensor {
        let (size, outputChannels, kernel) = checkedOperands(x, weight: weight, bias: bias)
        precondition(stride.height >= 1 && stride.width >= 1 && padding.height >= 0 && padding.width >= 0,
                     "stride must be positive and padding non-negative, got \(stride) and \(padding)")
        guard let height = convolutionOutputLength(input: size.height, kernel: kernel.height, stride: stride.height, padding: padding.height),
              let width = convolutionOutputLength(input: size.width, kernel: kernel.width, stride: stride.width, padding: padding.width)
        else { preconditionFailure("a \(kernel) kernel with padding \(padding) does not fit \(size.height)x\(size.width) images") }
        OneDNN.adoptThreads()
        let key = ConvolutionPrimitives.Key(
            transposed: false, batch: size.batch, sourceChannels: size.channels, destinationChannels: outputChannels,
            source: SpatialPair(size.height, size.width), destination: SpatialPair(height, width), kernel: kernel, stride: stride,
            paddingBefore: padding, paddingAfter: trailingPadding(source: SpatialPair(size.height, size.width), destination: SpatialPair(height, width),
                                                                  kernel: kernel, stride: stride, before: padding),
            hasBias: bias != nil, inputLayout: x.imageLayout!, threads: OneDNN.threadCount, precision: Precision.current)
        return ConvolutionPrimitives.shared(key).convolve(x, weight: weight, bias: bias, relu: relu)
    }

    /// A stride-1 2-d convolution padded unevenly: `before` zero rows and columns above and left
    /// of the image, `after` below and right, so H' = H + before + after − kH + 1 (likewise W').
    /// A causal convolution keeps only the taps above or left of its centre this way, with no
    /// masked taps to multiply (a 2x3 kernel padded (1, 1) before and (0, 1) after sees the row
    /// above and its own row).
    public static func convolution2D(_ x: Tensor, weight: Tensor, bias: Tensor?, paddingBefore before: SpatialPair, paddingAfter after: SpatialPair) -> Tensor {
        let (size, outputChannels, kernel) = checkedOperands(x, weight: weight, bias: bias)
        precondition(before.height >= 0 && before.width >= 0 && after.height >= 0 && after.width >= 0,
                     "padding must be non-negative, got \(before) before and \(after) after")
        let height = size.height + before.height + after.height - kernel.height + 1, width = size.width + before.width + after.width - kernel.width + 1
        precondition(height >= 1 && width >= 1, "a \(kernel) kernel padded \(before) before and \(after) after does not fit \(size.height)x\(size.width) images")
        OneDNN.adoptThreads()
        let key = ConvolutionPrimitives.Key(
            transposed: false, batch: size.batch, sourceChannels: size.channels, destinationChannels: outputChannels,
            source: SpatialPair(size.height, size.width), destination: SpatialPair(height, width), kernel: kernel, stride: SpatialPair(1),
            paddingBefore: before, paddingAfter: after,
            hasBias: bias != nil, inputLayout: x.imageLayout!, threads: OneDNN.threadCount, precision: Precision.current)
        return ConvolutionPrimitives.shared(key).convolve(x, weight: weight, bias: bias, relu: false)
    }

    /// A 2-d transposed convolution (PyTorch's ConvTranspose2d). See the shapes above.
    /// `outputPadding` (below the stride) adds rows and columns at the bottom and right. With
    /// `relu`, max(y, 0) in place of y, in the same pass that adds the bias; its backward pass
    /// masks dy by [y > 0] before the convolution's.
    public static func transposedConvolution2D(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: SpatialPair = SpatialPair(1),
                                               padding: SpatialPair = SpatialPair(0), outputPadding: SpatialPair = SpatialPair(0),
                                               relu: Bool = false) -> Tensor {
        let size = x.imageBatchSize
        precondition(weight.rank == 4 && weight.shape[0] == size.channels,
                     "transposed convolution weight must be [\(size.channels), out, kH, kW] for \(size.channels) input channels, got \(weight.shape)")
        let outputChannels = weight.shape[1], kernel = SpatialPair(weight.shape[2], weight.shape[3])
        if let bias { precondition(bias.shape == [outputChannels], "bias must be [\(outputChannels)], got \(bias.shape)") }
        precondition(stride.height >= 1 && stride.width >= 1 && padding.height >= 0 && padding.width >= 0,
                     "stride must be positive and padding non-negative, got \(stride) and \(padding)")
        precondition(outputPadding.height >= 0 && outputPadding.width >= 0 && outputPadding.height < stride.height && outputPadding.width < stride.width,
                     "output padding must lie in 0..<stride, got \(outputPadding) with stride \(stride)")
        guard let height = transposedConvolutionOutputLength(input: size.height, kernel: kernel.height, stride: stride.height,
                                                             padding: padding.height, outputPadding: outputPadding.height),
              let width = transposedConvolutionOutputLength(input: size.width, kernel: kernel.width, stride: stride.width,
                                                            padding: padding.width, outputPadding: outputPadding.width)
        else { preconditionFailure("a transposed \(kernel) kernel with padding \(padding) gives no pixels from \(size.height)x\(size.width) images") }
        // The equivalent convolution maps the output (its source) to the input (its destination).
        let source = SpatialPair(height, width), destination = SpatialPair(size.height, size.width)
        OneDNN.adoptThreads()
        let key = ConvolutionPrimitives.Key(
            transposed: true, batch: size.batch, sourceChannels: outputChannels, destinationChannels: size.channels,
            source: source, destination: destination, kernel: kernel, stride: stride, paddingBefore: padding,
            paddingAfter: trailingPadding(source: source, destination: destination, kernel: kernel, stride: stride, before: padding),
            hasBias: bias != nil, inputLayout: x.imageLayout!, threads: OneDNN.threadCount, precision: Precision.current)
        return ConvolutionPrimitives.shared(key).transposedConvolve(x, weight: weight, bias: bias, relu: relu)
    }

    /// The images' sizes, the output channels and the kernel of a convolution of `x` by `weight`
    /// [out, in, kH, kW] (and `bias` [out]), checked to fit one another.
    private static func checkedOperands(_ x: Tensor, weight: Tensor, bias: Tensor?) -> (size: ImageBatchSize, outputChannels: Int, kernel: SpatialPair) {
        let size = x.imageBatchSize
        precondition(weight.rank == 4 && weight.shape[1] == size.channels,
                     "convolution weight must be [out, \(size.channels), kH, kW] for \(size.channels) input channels, got \(weight.shape)")
        let outputChannels = weight.shape[0], kernel = SpatialPair(weight.shape[2], weight.shape[3])
        if let bias { precondition(bias.shape == [outputChannels], "bias must be [\(outputChannels)], got \(bias.shape)") }
        return (size, outputChannels, kernel)
    }

    /// The padding after the image that makes a convolution from `source` to `destination` exact:
    /// destination − 1 = (source + before + after − kernel) / stride.
    private static func trailingPadding(source: SpatialPair, destination: SpatialPair, kernel: SpatialPair, stride: SpatialPair,
                                        before: SpatialPair) -> SpatialPair {
        SpatialPair((destination.height - 1) * stride.height + kernel.height - source.height - before.height,
                    (destination.width - 1) * stride.width + kernel.width - source.width - before.width)
    }
}
