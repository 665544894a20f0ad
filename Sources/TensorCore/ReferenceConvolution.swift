/// Direct-loop convolutions on planar arrays, the oracle beside the oneDNN ops (tests, the
/// benchmark's check). Generic so that gradient checks can run them in Double.
///
/// Shapes as in `Tensor.convolution2D` and `Tensor.transposedConvolution2D`: x [N, C, H, W];
/// convolution weight [O, C, kH, kW]; transposed weight [C, O, kH, kW]; bias [O].
package enum ReferenceConvolution {
    /// y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, s·i − p + u, s·j − p + v].
    package static func forward<T: BinaryFloatingPoint>(
        _ x: [T], size: ImageBatchSize, weight: [T], outputChannels: Int, kernel: SpatialPair, bias: [T]?,
        stride: SpatialPair, padding: SpatialPair
    ) -> [T] {
        forward(x, size: size, weight: weight, outputChannels: outputChannels, kernel: kernel, bias: bias, stride: stride,
                paddingBefore: padding, paddingAfter: padding)
    }

    /// The same with `paddingBefore` rows and columns above and left of the image and
    /// `paddingAfter` below and right: H' = ⌊(H + before + after − kH) / s⌋ + 1.
    package static func forward<T: BinaryFloatingPoint>(
        _ x: [T], size: ImageBatchSize, weight: [T], outputChannels: Int, kernel: SpatialPair, bias: [T]?,
        stride: SpatialPair, paddingBefore padding: SpatialPair, paddingAfter: SpatialPair
    ) -> [T] {
        let outputHeight = (size.height + padding.height + paddingAfter.height - kernel.height) / stride.height + 1
        let outputWidth = (size.width + padding.width + paddingAfter.width - kernel.width) / stride.width + 1
        precondition(outputHeight >= 1 && outputWidth >= 1, "the kernel does not fit the padded image")
        let channels = size.channels
        var y = [T](repeating: 0, count: size.batch * outputChannels * outputHeight * outputWidth)
        for n in 0..<size.batch {
            for o in 0..<outputChannels {
                for i in 0..<outputHeight {
                    for j in 0..<outputWidth {
                        var total: T = bias?[o] ?? 0
                        for c in 0..<channels {
                            for u in 0..<kernel.height {
                                let row = stride.height * i - padding.height + u
                                guard row >= 0 && row < size.height else { continue }
                                for v in 0..<kernel.width {
                                    let column = stride.width * j - padding.width + v
                                    guard column >= 0 && column < size.width else { continue }
                                    total += weight[((o * channels + c) * kernel.height + u) * kernel.width + v]
                                        * x[((n * channels + c) * size.height + row) * size.width + column]
                                }
                            }
                        }
                        y[((n * outputChannels + o) * outputHeight + i) * outputWidth + j] = total
                    }
                }
            }
        }
        return y
    }

    /// y[n, o, s·i − p + u, s·j − p + v] += w[c, o, u, v] · x[n, c, i, j], plus b[o], on an output
    /// of (H − 1) s − 2p + kH + output padding rows (and likewise columns).
    package static func transposed<T: BinaryFloatingPoint>(
        _ x: [T], size: ImageBatchSize, weight: [T], outputChannels: Int, kernel: SpatialPair, bias: [T]?,
        stride: SpatialPair, padding: SpatialPair, outputPadding: SpatialPair
    ) -> [T] {
        let outputHeight = transposedConvolutionOutputLength(input: size.height, kernel: kernel.height, stride: stride.height,
                                                             padding: padding.height, outputPadding: outputPadding.height)!
        let outputWidth = transposedConvolutionOutputLength(input: size.width, kernel: kernel.width, stride: stride.width,
                                                            padding: padding.width, outputPadding: outputPadding.width)!
        let channels = size.channels, plane = outputHeight * outputWidth
        var y = [T](repeating: 0, count: size.batch * outputChannels * plane)
        for n in 0..<size.batch {
            for o in 0..<outputChannels {
                let value: T = bias?[o] ?? 0
                for p in 0..<plane { y[(n * outputChannels + o) * plane + p] = value }
            }
            for c in 0..<channels {
                for i in 0..<size.height {
                    for j in 0..<size.width {
                        let input = x[((n * channels + c) * size.height + i) * size.width + j]
                        for o in 0..<outputChannels {
                            for u in 0..<kernel.height {
                                let row = stride.height * i - padding.height + u
                                guard row >= 0 && row < outputHeight else { continue }
                                for v in 0..<kernel.width {
                                    let column = stride.width * j - padding.width + v
                                    guard column >= 0 && column < outputWidth else { continue }
                                    y[((n * outputChannels + o) * outputHeight + row) * outputWidth + column]
                                        += weight[((c * outputChannels + o) * kernel.height + u) * kernel.width + v] * input
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}
