// The gated activation of WaveNet and the gated PixelCNN (van den Oord et al. 2016): one
// convolution computes the filter and the gate as the two halves of its channels, and
//
//     y = tanh(a) ⊙ σ(b),   [N, 2C, H, W] (a the first C channels, b the rest) -> [N, C, H, W],
//
// in one pass over memory instead of a split, two activations and a product.

extension Tensor {
    /// tanh(a) ⊙ σ(b) for a the first half and b the second half of each image's channels:
    /// [N, 2C, H, W] images (planar, or blocked and made planar) -> [N, C, H, W] planar, or
    /// [N, 2m] rows -> [N, m]. Differentiable: ∂y/∂a = σ(b)(1 − tanh²a), ∂y/∂b = tanh(a) σ(b)(1 − σ(b)).
    public func gatedTanh() -> Tensor {
        let x = rank >= 4 ? planarImages() : self
        precondition(x.rank == 4 || x.rank == 2, "the gated activation takes [N, 2C, H, W] images or [N, 2m] rows, got \(x.shape)")
        precondition(x.shape[1] % 2 == 0, "the gated activation needs an even number of channels, got \(x.shape[1])")
        let rows = x.shape[0], half = x.count / max(rows, 1) / 2
        var outputShape = x.shape
        outputShape[1] /= 2
        let y = Tensor.result(shape: outputShape, inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                for row in 0..<rows {
                    let a = x.pointer + row &* 2 &* half, b = a + half, gradient = g + row &* half
                    let da = dx + row &* 2 &* half, db = da + half
                    forEachVector(half) { offset, lanes in
                        let t = VectorMath.tanh(loadVector(a, offset, lanes)), s = VectorMath.sigmoid(loadVector(b, offset, lanes))
                        let upstream = loadVector(gradient, offset, lanes)
                        storeVector(upstream * s * (1 - t * t), da, offset, lanes, accumulate: accumulate)
                        storeVector(upstream * t * s * (1 - s), db, offset, lanes, accumulate: accumulate)
                    }
                }
            }
        }
        for row in 0..<rows {
            let a = x.pointer + row &* 2 &* half, b = a + half, output = y.pointer + row &* half
            forEachVector(half) { offset, lanes in
                storeVector(VectorMath.tanh(loadVector(a, offset, lanes)) * VectorMath.sigmoid(loadVector(b, offset, lanes)), output, offset, lanes)
            }
        }
        return y
    }
}
