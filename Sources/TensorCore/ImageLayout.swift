// How a batch of images sits in a tensor: planar or channel-blocked.
//
// Planar: [N, C, H, W], row-major (PyTorch's NCHW). Channel-blocked by b: [N, C / b, H, W, b],
// row-major, i.e. oneDNN's nChw8c / nChw16c: the b channels of one pixel side by side, which is
// what its fast convolution kernels read and write. The convolution ops accept both and return
// the layout their primitive writes, so consecutive convolutions (and the elementwise ops between
// them, which do not care) pass blocked tensors along without reordering. `planarImages()`
// converts back; `Flatten` does so before a dense layer.

/// The arrangement of a batch of images in a tensor's storage.
public enum ImageLayout: Hashable, Sendable {
    /// [N, C, H, W].
    case planar
    /// [N, C / b, H, W, b] with block b (8 or 16).
    case blocked(Int)
}

/// A batch of images' logical sizes, whatever their layout.
public struct ImageBatchSize: Hashable, Sendable {
    /// Images in the batch (N).
    public var batch: Int
    /// Channels per image (C).
    public var channels: Int
    /// Rows per image (H).
    public var height: Int
    /// Columns per image (W).
    public var width: Int

    /// The sizes N, C, H, W.
    public init(batch: Int, channels: Int, height: Int, width: Int) {
        (self.batch, self.channels, self.height, self.width) = (batch, channels, height, width)
    }

    /// The shape of a tensor holding these images in `layout`.
    public func shape(_ layout: ImageLayout) -> [Int] {
        switch layout {
        case .planar: [batch, channels, height, width]
        case let .blocked(block): [batch, channels / block, height, width, block]
        }
    }
}

extension Tensor {
    /// The layout of a batch of images: rank 4 is planar, rank 5 with a last axis of 8 or 16
    /// channel-blocked; nil for any other shape.
    public var imageLayout: ImageLayout? {
        if rank == 4 { return .planar }
        if rank == 5, shape[4] == 8 || shape[4] == 16 { return .blocked(shape[4]) }
        return nil
    }

    /// The images' sizes (N, C, H, W) of a planar or blocked tensor.
    public var imageBatchSize: ImageBatchSize {
        switch imageLayout {
        case .planar: return ImageBatchSize(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3])
        case let .blocked(block): return ImageBatchSize(batch: shape[0], channels: shape[1] * block, height: shape[2], width: shape[3])
        case nil: preconditionFailure("expected images [N, C, H, W] or [N, C/b, H, W, b], got shape \(shape)")
        }
    }

    /// The images in `layout` (planar, or blocked by 8 or 16), reordered only when they are not
    /// already; differentiable. For adding two image batches whose layouts may differ.
    public func inImageLayout(_ layout: ImageLayout) -> Tensor {
        guard imageLayout != layout else { return self }
        switch layout {
        case .planar: return planarImages()
        case let .blocked(block): return planarImages().blockedImages(block)
        }
    }

    /// The same images planar, [N, C, H, W] (itself when already planar). The gradient flows
    /// back through the inverse permutation.
    public func planarImages() -> Tensor {
        guard case let .blocked(block) = imageLayout else {
            precondition(imageLayout == .planar, "expected images [N, C, H, W] or [N, C/b, H, W, b], got shape \(shape)")
            return self
        }
        let size = imageBatchSize
        let x = self
        let y = Tensor.result(shape: size.shape(.planar), inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                ImageLayoutKernels.block(UnsafePointer(g), into: dx, size: size, block: block, accumulate: accumulate)
            }
        }
        ImageLayoutKernels.unblock(UnsafePointer(pointer), into: y.pointer, size: size, block: block)
        return y
    }

    /// The same images channel-blocked by `block` (which must divide C); the inverse of
    /// `planarImages()`.
    public func blockedImages(_ block: Int) -> Tensor {
        precondition(imageLayout == .planar, "blockedImages takes planar images [N, C, H, W], got shape \(shape)")
        let size = imageBatchSize
        precondition((block == 8 || block == 16) && size.channels % block == 0, "cannot block \(size.channels) channels by \(block)")
        let x = self
        let y = Tensor.result(shape: size.shape(.blocked(block)), inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                ImageLayoutKernels.unblock(UnsafePointer(g), into: dx, size: size, block: block, accumulate: accumulate)
            }
        }
        ImageLayoutKernels.block(UnsafePointer(pointer), into: y.pointer, size: size, block: block)
        return y
    }
}

extension Tensor {
    /// Each pixel's channels as one row: images [N, C, H, W] (planar or blocked) -> [N · H · W, C],
    /// row (n · H + h) · W + w holding pixel (h, w) of image n (PyTorch's
    /// `x.permute(0, 2, 3, 1).reshape(-1, C)`). Differentiable; `images(fromChannelRows:)` is its
    /// inverse. A vector quantiser reads an encoder's grid this way.
    public func channelRows() -> Tensor {
        let x = planarImages()
        let size = x.imageBatchSize
        let y = Tensor.result(shape: [size.batch * size.height * size.width, size.channels], inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                ImageLayoutKernels.unblock(UnsafePointer(g), into: dx, size: size, block: size.channels, accumulate: accumulate)
            }
        }
        ImageLayoutKernels.block(UnsafePointer(x.pointer), into: y.pointer, size: size, block: size.channels)
        return y
    }

    /// Rows of channels [N · H · W, C] back to planar images [N, C, H, W] (the inverse of
    /// `channelRows()`), for `batch` images of `height` x `width`. Differentiable.
    public static func images(fromChannelRows rows: Tensor, batch: Int, height: Int, width: Int) -> Tensor {
        precondition(rows.rank == 2 && rows.shape[0] == batch * height * width,
                     "rows of channels must be [\(batch) · \(height) · \(width), C], got \(rows.shape)")
        let size = ImageBatchSize(batch: batch, channels: rows.shape[1], height: height, width: width)
        let y = Tensor.result(shape: size.shape(.planar), inputs: [rows]) { g in
            rows.accumulateGradient { dx, accumulate in
                ImageLayoutKernels.block(UnsafePointer(g), into: dx, size: size, block: size.channels, accumulate: accumulate)
            }
        }
        ImageLayoutKernels.unblock(UnsafePointer(rows.pointer), into: y.pointer, size: size, block: size.channels)
        return y
    }
}

/// Plain loops between the planar and blocked layouts.
enum ImageLayoutKernels {
    /// blocked [N, C/b, H, W, b] -> planar [N, C, H, W] (b = C: rows of channels, [N, H, W, C]).
    static func unblock(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, size: ImageBatchSize, block: Int,
                        accumulate: Bool = false) {
        let plane = size.height &* size.width, groups = size.channels / block
        for n in 0..<size.batch {
            for group in 0..<groups {
                let from = source + (n &* groups &+ group) &* plane &* block
                for lane in 0..<block {
                    let to = target + (n &* size.channels &+ group &* block &+ lane) &* plane
                    if accumulate {
                        for p in 0..<plane { to[p] += from[p &* block &+ lane] }
                    } else {
                        for p in 0..<plane { to[p] = from[p &* block &+ lane] }
                    }
                }
            }
        }
    }

    /// planar [N, C, H, W] -> blocked [N, C/b, H, W, b].
    static func block(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, size: ImageBatchSize, block: Int,
                      accumulate: Bool = false) {
        let plane = size.height &* size.width, groups = size.channels / block
        for n in 0..<size.batch {
            for group in 0..<groups {
                let to = target + (n &* groups &+ group) &* plane &* block
                for lane in 0..<block {
                    let from = source + (n &* size.channels &+ group &* block &+ lane) &* plane
                    if accumulate {
                        for p in 0..<plane { to[p &* block &+ lane] += from[p] }
                    } else {
                        for p in 0..<plane { to[p &* block &+ lane] = from[p] }
                    }
                }
            }
        }
    }

    /// y[n, c, ...] += bias[c] for every pixel, in either layout; with `relu`, y ← max(y + bias[c], 0)
    /// in the same pass.
    static func addChannelBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, size: ImageBatchSize, layout: ImageLayout,
                               relu: Bool = false) {
        if relu { return addChannelBias(bias, to: y, size: size, layout: layout) { VectorMath.positivePart($0) } }
        addChannelBias(bias, to: y, size: size, layout: layout) { $0 }
    }

    /// y ← max(y, 0) over `count` values, in place (any layout): the elementwise ReLU kernel,
    /// split across `ParallelLoop`.
    static func rectify(_ y: UnsafeMutablePointer<Float>, count: Int) {
        ParallelLoop.shared.run(count: count) { start, end in ElementwiseKernels.apply(.relu, y + start, y + start, count: end &- start) }
    }

    /// y[n, c, pixel] ← finish(y[n, c, pixel] + bias[c]), in place, one pass, the images split
    /// across `ParallelLoop`.
    @inline(__always)
    private static func addChannelBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, size: ImageBatchSize, layout: ImageLayout,
                                       finish: (FloatVector) -> FloatVector) {
        let plane = size.height &* size.width, image = size.channels &* plane
        switch layout {
        case .planar:
            ParallelLoop.shared.run(count: size.batch, grain: max(1, (1 << 14) / max(image, 1))) { start, end in
                for n in start..<end {
                    for c in 0..<size.channels {
                        let row = y + (n &* size.channels &+ c) &* plane, value = FloatVector(repeating: bias[c])
                        forEachVector(plane) { i, lanes in storeVector(finish(loadVector(row, i, lanes) + value), row, i, lanes) }
                    }
                }
            }
        case let .blocked(block):
            // A block's values repeat every `block` floats, so one 16-lane vector holds the bias of
            // 16 / block pixels (block 8) or of one (block 16).
            let groups = size.channels / block, floats = plane &* block
            ParallelLoop.shared.run(count: size.batch, grain: max(1, (1 << 14) / max(image, 1))) { start, end in
                for n in start..<end {
                    for group in 0..<groups {
                        var pattern = FloatVector(repeating: 0)
                        for lane in 0..<16 { pattern[lane] = bias[group &* block &+ lane % block] }
                        let base = y + (n &* groups &+ group) &* floats
                        forEachVector(floats) { i, lanes in storeVector(finish(loadVector(base, i, lanes) + pattern), base, i, lanes) }
                    }
                }
            }
        }
    }

    /// dbias[c] (+)= Σ_{n, pixel} g[n, c, pixel], in either layout.
    static func sumChannels(_ g: UnsafePointer<Float>, into bias: UnsafeMutablePointer<Float>, size: ImageBatchSize, layout: ImageLayout,
                            accumulate: Bool) {
        let plane = size.height &* size.width
        var sums = [Double](repeating: 0, count: size.channels)
        switch layout {
        case .planar:
            for n in 0..<size.batch {
                for c in 0..<size.channels { sums[c] += Double(vectorSum(g + (n &* size.channels &+ c) &* plane, plane)) }
            }
        case let .blocked(block):
            let groups = size.channels / block, floats = plane &* block
            for group in 0..<groups {
                var total = FloatVector(repeating: 0)
                for n in 0..<size.batch {
                    let base = g + (n &* groups &+ group) &* floats
                    var partial = FloatVector(repeating: 0)
                    forEachVector(floats) { i, lanes in partial += loadVector(base, i, lanes) }
                    total += partial
                }
                for lane in 0..<16 { sums[group &* block &+ lane % block] += Double(total[lane]) }
            }
        }
        for c in 0..<size.channels { bias[c] = accumulate ? bias[c] + Float(sums[c]) : Float(sums[c]) }
    }
}
