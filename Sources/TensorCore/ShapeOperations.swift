// Reshape, and concatenation and slicing along the last axis.
// Shapes: concatenated([a: [..., n1], b: [..., n2]]) -> [..., n1 + n2];
// x[..., start..<end] -> [..., end - start].

extension Tensor {
    /// The same values in a new shape with the same element count. The values are shared (no
    /// copy); the gradient flows back unchanged. One dimension may be -1 (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[unknown] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) (\(count) values) to \(newShape)")
        let x = self
        let records = GradientMode.isEnabled && requiresGradient
        let y = Tensor(shape: resolved, storage: storage, requiresGradient: records)
        if records {
            y.inputs = [x]
            y.backwardFunction = { g in
                x.accumulateGradient { dx, accumulate in
                    forEachVector(x.count) { i, n in storeVector(loadVector(g, i, n), dx, i, n, accumulate: accumulate) }
                }
            }
        }
        return y
    }

    /// Each row repeated `times` times in place: [rows, width] -> [rows · times, width], with row
    /// r · times + i equal to row r (the k samples of one image side by side, as an importance-
    /// weighted bound needs). The gradient of a row is the sum of its copies' gradients.
    public func repeatingRows(_ times: Int) -> Tensor {
        precondition(rank == 2 && times >= 1, "repeatingRows needs a [rows, width] tensor and times >= 1, got \(shape) and \(times)")
        let (rows, width) = (shape[0], shape[1])
        let x = self
        let y = Tensor.result(shape: [rows * times, width], inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                for r in 0..<rows {
                    let target = dx + r &* width
                    forEachVector(width) { i, n in
                        var total = loadVector(g + (r &* times) &* width, i, n)
                        for copy in 1..<max(times, 1) { total += loadVector(g + (r &* times &+ copy) &* width, i, n) }
                        storeVector(total, target, i, n, accumulate: accumulate)
                    }
                }
            }
        }
        for r in 0..<rows {
            for copy in 0..<times { (y.pointer + (r &* times &+ copy) &* width).update(from: x.pointer + r &* width, count: width) }
        }
        return y
    }

    /// Joins tensors along the last axis; all other dimensions must agree.
    public static func concatenated(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenated needs at least one tensor")
        let leading = Array(parts[0].shape.dropLast())
        for part in parts {
            precondition(part.rank >= 1 && Array(part.shape.dropLast()) == leading,
                         "cannot concatenate shapes \(parts.map(\.shape)) along the last axis")
        }
        let widths = parts.map { $0.shape.last! }
        let total = widths.reduce(0, +)
        let rows = leading.reduce(1, *)
        let offsets = widths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let y = Tensor.result(shape: leading + [total], inputs: parts) { g in
            for (index, part) in parts.enumerated() {
                let width = widths[index], offset = offsets[index]
                part.accumulateGradient { dx, accumulate in
                    for r in 0..<rows {
                        let source = g + (r &* total &+ offset), target = dx + r &* width
                        forEachVector(width) { i, n in storeVector(loadVector(source, i, n), target, i, n, accumulate: accumulate) }
                    }
                }
            }
        }
        for (index, part) in parts.enumerated() {
            let width = widths[index], offset = offsets[index]
            for r in 0..<rows {
                (y.pointer + (r &* total &+ offset)).update(from: part.pointer + r &* width, count: width)
            }
        }
        return y
    }

    /// Columns `range` of the last axis.
    public func sliced(lastAxis range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "slicing needs rank >= 1, shape is \(shape)")
        let width = shape.last!
        precondition(range.lowerBound >= 0 && range.upperBound <= width,
                     "slice \(range) is out of bounds for last dimension \(width) of shape \(shape)")
        let rows = count / max(width, 1)
        let sliceWidth = range.count, start = range.lowerBound
        let x = self
        let y = Tensor.result(shape: Array(shape.dropLast()) + [sliceWidth], inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                if !accumulate { dx.update(repeating: 0, count: x.count) }
                for r in 0..<rows {
                    let source = g + r &* sliceWidth, target = dx + (r &* width &+ start)
                    forEachVector(sliceWidth) { i, n in storeVector(loadVector(source, i, n), target, i, n, accumulate: true) }
                }
            }
        }
        for r in 0..<rows {
            (y.pointer + r &* sliceWidth).update(from: pointer + (r &* width &+ start), count: sliceWidth)
        }
        return y
    }
}
