// Gathering rows by index: an embedding lookup, and the codebook lookup of vector quantisation.
// Shapes: table [K, D], indices (N of them, each in 0..<K) -> [N, D].

extension Tensor {
    /// Rows `indices` of this [K, D] table, in order: [N, D] for N indices (an embedding
    /// lookup, `torch.nn.functional.embedding`). The gradient of table row k is the sum of the
    /// output gradients of the rows that read it (a scatter-add).
    public func gatheringRows(_ indices: [Int32]) -> Tensor {
        precondition(rank == 2, "gatheringRows needs a [K, D] table, got shape \(shape)")
        let (tableRows, width) = (shape[0], shape[1])
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < tableRows }, "every index must be in 0..<\(tableRows)")
        let x = self
        let y = Tensor.result(shape: [indices.count, width], inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                if !accumulate { dx.update(repeating: 0, count: x.count) }
                for (row, index) in indices.enumerated() {
                    let source = g + row &* width, target = dx + Int(index) &* width
                    forEachVector(width) { i, n in storeVector(loadVector(source, i, n), target, i, n, accumulate: true) }
                }
            }
        }
        for (row, index) in indices.enumerated() {
            (y.pointer + row &* width).update(from: pointer + Int(index) &* width, count: width)
        }
        return y
    }
}
