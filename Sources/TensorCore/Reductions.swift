// Sums and means, over all elements or along one axis.
// Shapes: along axis k, x viewed as [outer, n, inner] (n = shape[k]) -> [outer, inner], the
// shape of x without axis k. Over all elements: -> [] (a scalar).

extension Tensor {
    /// Σ of all elements, shape [].
    public func sum() -> Tensor { reduceAll(scale: 1) }

    /// Mean of all elements, shape [].
    public func mean() -> Tensor { reduceAll(scale: 1 / Float(max(count, 1))) }

    /// Σ along `axis` (negative counts from the end), removing that axis.
    public func sum(alongAxis axis: Int) -> Tensor { reduce(alongAxis: axis, mean: false) }

    /// Mean along `axis` (negative counts from the end), removing that axis.
    public func mean(alongAxis axis: Int) -> Tensor { reduce(alongAxis: axis, mean: true) }

    /// log Σ_j exp(x_ij) along the last axis of a [rows, columns] tensor, [rows]: computed as
    /// m_i + log Σ_j exp(x_ij − m_i) with the row maxima m held constant (their gradient cancels
    /// exactly), so no exponent overflows. The gradient is the softmax of each row.
    public func logSumExpRows() -> Tensor {
        precondition(rank == 2 && shape[1] >= 1, "logSumExpRows needs [rows, columns], got \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        let values = withoutGradients { scalars }
        let maxima = (0..<rows).map { r in values[(r * columns)..<((r + 1) * columns)].max()! }
        let shift = Tensor(shape: [rows, 1], scalars: maxima)
        return (self - shift).exp().sum(alongAxis: 1).log() + Tensor(shape: [rows], scalars: maxima)
    }

    private func reduceAll(scale: Float) -> Tensor {
        let x = self
        let y = Tensor.result(shape: [], inputs: [x]) { g in
            let value = FloatVector(repeating: g[0] * scale)
            x.accumulateGradient { dx, accumulate in
                forEachVector(x.count) { i, n in storeVector(value, dx, i, n, accumulate: accumulate) }
            }
        }
        y.pointer[0] = vectorSum(pointer, count) * scale
        return y
    }

    private func reduce(alongAxis requestedAxis: Int, mean: Bool) -> Tensor {
        let axis = requestedAxis < 0 ? requestedAxis + rank : requestedAxis
        precondition(axis >= 0 && axis < rank, "axis \(requestedAxis) is out of range for shape \(shape)")
        let n = shape[axis]
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let scale: Float = mean ? 1 / Float(max(n, 1)) : 1
        var outputShape = shape
        outputShape.remove(at: axis)
        let x = self
        let y = Tensor.result(shape: outputShape, inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                for o in 0..<outer {
                    for k in 0..<n {
                        let target = dx + (o &* n &+ k) &* inner
                        let source = g + o &* inner
                        if inner == 1 {
                            target[0] = (accumulate ? target[0] : 0) + source[0] * scale
                        } else {
                            let s = FloatVector(repeating: scale)
                            forEachVector(inner) { i, lanes in storeVector(loadVector(source, i, lanes) * s, target, i, lanes, accumulate: accumulate) }
                        }
                    }
                }
            }
        }
        for o in 0..<outer {
            let target = y.pointer + o &* inner
            if inner == 1 {
                target[0] = vectorSum(pointer + o &* n, n) * scale
                continue
            }
            target.update(repeating: 0, count: inner)
            for k in 0..<n {
                let source = pointer + (o &* n &+ k) &* inner
                forEachVector(inner) { i, lanes in storeVector(loadVector(source, i, lanes), target, i, lanes, accumulate: true) }
            }
            if mean {
                let s = FloatVector(repeating: scale)
                forEachVector(inner) { i, lanes in storeVector(loadVector(target, i, lanes) * s, target, i, lanes) }
            }
        }
        return y
    }
}
