// Shifting images down by one row: what keeps a PixelCNN's vertical stack causal when it feeds
// the horizontal one. Shapes: [N, C, H, W] (planar, or blocked and made planar) -> [N, C, H, W].

extension Tensor {
    /// The images moved down by one row, row 0 zero: y[n, c, i, j] = x[n, c, i − 1, j]. An output
    /// at row i then depends only on rows above i. Differentiable (the gradient moves up a row).
    public func shiftedDown() -> Tensor {
        let x = planarImages()
        let size = x.imageBatchSize
        let (rows, width) = (size.height, size.width)
        let planes = size.batch * size.channels, plane = rows * width
        let y = Tensor.result(shape: size.shape(.planar), inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                for p in 0..<planes {
                    let source = g + (p * plane + width), target = dx + p * plane
                    let moved = (rows - 1) * width
                    if accumulate {
                        for i in 0..<moved { target[i] += source[i] }
                    } else {
                        target.update(from: source, count: moved)
                        (target + moved).update(repeating: 0, count: width)
                    }
                }
            }
        }
        for p in 0..<planes {
            let source = x.pointer + p * plane, target = y.pointer + p * plane
            target.update(repeating: 0, count: width)
            (target + width).update(from: source, count: (rows - 1) * width)
        }
        return y
    }
}
