// Integer-factor upsampling of image batches, nearest and bilinear, in either image layout.
//
// A planar batch [N, C, H, W] and a channel-blocked one [N, C / b, H, W, b] are both read as
// [outer, H, W, inner] (inner = 1, or b): every output value mixes values of one (outer, inner)
// plane, so the kernels serve both layouts and the result keeps the input's.

/// How upsampling fills the new pixels.
public enum UpsamplingMode: String, Sendable, Codable, CaseIterable {
    /// Each output pixel copies the input pixel it falls in: y[i, j] = x[⌊i / f⌋, ⌊j / f⌋].
    case nearest
    /// Bilinear interpolation with PyTorch's `align_corners=False`: the output pixel i reads the
    /// input at s = (i + ½) / f − ½, clamped below at 0, between ⌊s⌋ and min(⌊s⌋ + 1, H − 1)
    /// with weights 1 − (s − ⌊s⌋) and s − ⌊s⌋ (per axis).
    case bilinear
}

extension Tensor {
    /// The images upsampled by `factor` along height and width (`mode`): [N, C, H, W] ->
    /// [N, C, f H, f W], or a channel-blocked batch to a blocked batch. Differentiable: the
    /// gradient of each input pixel sums the output gradients it contributed to, with their
    /// weights.
    public func upsampled(by factor: Int, mode: UpsamplingMode) -> Tensor {
        precondition(factor >= 1, "the upsampling factor must be at least 1, got \(factor)")
        guard let layout = imageLayout else { preconditionFailure("upsampling takes images [N, C, H, W] or [N, C/b, H, W, b], got shape \(shape)") }
        let geometry = UpsamplingKernels.Geometry(outer: shape[0] * shape[1], height: shape[2], width: shape[3],
                                                  inner: layout == .planar ? 1 : shape[4], factor: factor)
        var outputShape = shape
        outputShape[2] *= factor
        outputShape[3] *= factor
        let x = self
        let y = Tensor.result(shape: outputShape, inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                if !accumulate { dx.update(repeating: 0, count: x.count) }
                UpsamplingKernels.backward(mode, outputGradient: g, inputGradient: dx, geometry)
            }
        }
        UpsamplingKernels.forward(mode, pointer, y.pointer, geometry)
        return y
    }
}

/// The upsampling kernels over [outer, H, W, inner] buffers.
package enum UpsamplingKernels {
    /// The input's sizes read as [outer, H, W, inner], and the factor.
    public struct Geometry: Sendable {
        /// N · C (planar) or N · C / b (blocked).
        public var outer: Int
        /// The input's rows and columns.
        public var height: Int, width: Int
        /// 1 (planar) or b (blocked).
        public var inner: Int
        /// The factor f.
        public var factor: Int

        /// Sizes [outer, height, width, inner], upsampled by `factor`.
        public init(outer: Int, height: Int, width: Int, inner: Int, factor: Int) {
            (self.outer, self.height, self.width, self.inner, self.factor) = (outer, height, width, inner, factor)
        }
    }

    /// The two input indices and the second's weight that output index `index` reads along an
    /// axis of `size` inputs (`mode` nearest: the same index twice, weight 0).
    @inline(__always)
    static func sources(_ index: Int, size: Int, factor: Int, mode: UpsamplingMode) -> (Int, Int, Float) {
        switch mode {
        case .nearest:
            let source = index / factor
            return (source, source, 0)
        case .bilinear:
            let position = max((Float(index) + 0.5) / Float(factor) - 0.5, 0)
            let low = min(Int(position), size - 1)
            let high = min(low + 1, size - 1)
            return (low, high, position - Float(low))
        }
    }

    /// Calls `body(output, a, b, c, d, down, across)` for every output pixel of every plane, in
    /// storage order: `output` is the pixel's offset, a, b, c, d the offsets of the input pixels it
    /// reads (top left, top right, bottom left, bottom right), with weights
    /// (1 − down)(1 − across), (1 − down) across, down (1 − across) and down · across.
    @inline(__always)
    static func forEachOutputPixel(_ mode: UpsamplingMode, _ geometry: Geometry,
                                   _ body: (_ output: Int, _ a: Int, _ b: Int, _ c: Int, _ d: Int, _ down: Float, _ across: Float) -> Void) {
        let (height, width, inner, factor) = (geometry.height, geometry.width, geometry.inner, geometry.factor)
        let (outputHeight, outputWidth) = (height * factor, width * factor)
        for plane in 0..<geometry.outer {
            let (input, output) = (plane * height * width * inner, plane * outputHeight * outputWidth * inner)
            for row in 0..<outputHeight {
                let (top, bottom, down) = sources(row, size: height, factor: factor, mode: mode)
                for column in 0..<outputWidth {
                    let (left, right, across) = sources(column, size: width, factor: factor, mode: mode)
                    body(output + (row * outputWidth + column) * inner,
                         input + (top * width + left) * inner, input + (top * width + right) * inner,
                         input + (bottom * width + left) * inner, input + (bottom * width + right) * inner, down, across)
                }
            }
        }
    }

    /// y = upsample(x).
    public static func forward(_ mode: UpsamplingMode, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ geometry: Geometry) {
        forEachOutputPixel(mode, geometry) { output, a, b, c, d, down, across in
            for k in 0..<geometry.inner {
                let upper = x[a + k] + across * (x[b + k] - x[a + k])
                let lower = x[c + k] + across * (x[d + k] - x[c + k])
                y[output + k] = upper + down * (lower - upper)
            }
        }
    }

    /// dx += upsampleᵀ(dy): each output gradient goes back to the (up to four) inputs it read,
    /// with their weights. `dx` must be initialised (zeros, or a gradient to add to).
    public static func backward(_ mode: UpsamplingMode, outputGradient g: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                _ geometry: Geometry) {
        forEachOutputPixel(mode, geometry) { output, a, b, c, d, down, across in
            for k in 0..<geometry.inner {
                let value = g[output + k]
                let (upper, lower) = (value * (1 - down), value * down)
                dx[a + k] += upper * (1 - across)
                dx[b + k] += upper * across
                dx[c + k] += lower * (1 - across)
                dx[d + k] += lower * across
            }
        }
    }
}
