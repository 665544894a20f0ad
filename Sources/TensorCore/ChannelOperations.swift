// Per-channel operations on image batches, in either image layout: the mean of each channel
// over its pixels (global average pooling) and the scaling of each image's channels by
// factors (squeeze-and-excitation's gate). Both walk (image, channel block, pixel, lane) with
// channel = block · inner + lane, as the normalisation kernels do.

extension Tensor {
    /// Each image's channel means over the pixels (global average pooling): images [N, C, H, W]
    /// (or channel-blocked) -> [N, C]. Differentiable: every pixel of channel c gets dy_{n,c} / (H W).
    public func channelMeans() -> Tensor {
        let walk = ChannelWalk(self)
        let x = self
        let y = Tensor.result(shape: [walk.batch, walk.channels], inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                let share = 1 / Float(walk.pixels)
                walk.forEach { offset, row in dx[offset] = (accumulate ? dx[offset] : 0) + g[row] * share }
            }
        }
        let output = y.pointer
        output.update(repeating: 0, count: walk.batch * walk.channels)
        var sums = [Double](repeating: 0, count: walk.batch * walk.channels)
        walk.forEach { offset, row in sums[row] += Double(pointer[offset]) }
        for row in 0..<sums.count { output[row] = Float(sums[row] / Double(walk.pixels)) }
        return y
    }

    /// Each image's channels scaled by `factors` [N, C]: y_{n,c,h,w} = x_{n,c,h,w} s_{n,c}, same
    /// shape and layout as the images. Differentiable in both: dx = s dy, ds_{n,c} = Σ_{h,w} x dy.
    public func scalingChannels(by factors: Tensor) -> Tensor {
        let walk = ChannelWalk(self)
        precondition(factors.shape == [walk.batch, walk.channels], "the factors must be [\(walk.batch), \(walk.channels)], got \(factors.shape)")
        let x = self
        let y = Tensor.result(shape: shape, inputs: [x, factors]) { g in
            let (values, scale) = (x.pointer, factors.pointer)
            x.accumulateGradient { dx, accumulate in
                walk.forEach { offset, row in dx[offset] = (accumulate ? dx[offset] : 0) + g[offset] * scale[row] }
            }
            if factors.requiresGradient {
                var sums = [Double](repeating: 0, count: walk.batch * walk.channels)
                walk.forEach { offset, row in sums[row] += Double(g[offset] * values[offset]) }
                factors.accumulateGradient { ds, accumulate in
                    for row in 0..<sums.count { ds[row] = (accumulate ? ds[row] : 0) + Float(sums[row]) }
                }
            }
        }
        let (input, scale, output) = (pointer, factors.pointer, y.pointer)
        walk.forEach { offset, row in output[offset] = input[offset] * scale[row] }
        return y
    }
}

/// An image batch walked in storage order, with each value's (image, channel) row.
struct ChannelWalk {
    let batch: Int, blocks: Int, pixels: Int, inner: Int
    var channels: Int { blocks * inner }

    init(_ x: Tensor) {
        guard let layout = x.imageLayout else { preconditionFailure("expected images [N, C, H, W] or [N, C/b, H, W, b], got shape \(x.shape)") }
        (batch, blocks, pixels) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        inner = layout == .planar ? 1 : x.shape[4]
    }

    /// Calls `body(offset, image, channel)` for every value, in storage order.
    @inline(__always) func forEach(_ body: (_ offset: Int, _ image: Int, _ channel: Int) -> Void) {
        var offset = 0
        for image in 0..<batch {
            for block in 0..<blocks {
                for _ in 0..<pixels {
                    for lane in 0..<inner {
                        body(offset, image, block * inner + lane)
                        offset += 1
                    }
                }
            }
        }
    }

    /// Calls `body(offset, row)` for every value, row = image · C + channel.
    @inline(__always) func forEach(_ body: (_ offset: Int, _ row: Int) -> Void) {
        let channels = channels
        forEach { offset, image, channel in body(offset, image * channels + channel) }
    }
}
