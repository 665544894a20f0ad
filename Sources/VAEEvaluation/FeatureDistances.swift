import Foundation
import TensorCore

/// Pairwise comparisons of two sets of feature vectors by matrix products, a block of rows at
/// a time: ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b and the inner products a·b themselves.
enum FeatureDistances {
    /// Rows per block: a block of 1,024 rows against 10,000 is 40 MB.
    static let blockRows = 1024

    /// Calls `body(firstRow, rows, values)` for each block of `a`'s rows, with `values` the
    /// [rows, countB] inner products a_i · b_j (`squared`: false) or squared distances (true).
    static func forEachBlock(_ a: [Float], _ b: [Float], dimension d: Int, squared: Bool,
                             _ body: (_ firstRow: Int, _ rows: Int, _ values: [Float]) -> Void) {
        precondition(d > 0 && a.count % d == 0 && b.count % d == 0, "feature rows of \(d) values")
        let countA = a.count / d, countB = b.count / d
        let right = Tensor(shape: [countB, d], scalars: b)
        let normsB = squared ? rowNorms(b, dimension: d) : []
        withoutGradients {
            for start in stride(from: 0, to: countA, by: blockRows) {
                let rows = min(blockRows, countA - start)
                let block = Array(a[(start * d)..<((start + rows) * d)])
                var values = Tensor.matmul(Tensor(shape: [rows, d], scalars: block), right, transposeB: true).scalars
                if squared {
                    let normsA = rowNorms(block, dimension: d)
                    for i in 0..<rows {
                        for j in 0..<countB { values[i * countB + j] = max(normsA[i] + normsB[j] - 2 * values[i * countB + j], 0) }
                    }
                }
                body(start, rows, values)
            }
        }
    }

    /// ‖row‖² of each row.
    static func rowNorms(_ rows: [Float], dimension d: Int) -> [Float] {
        (0..<(rows.count / d)).map { row in
            var sum: Float = 0
            for j in 0..<d { sum += rows[row * d + j] * rows[row * d + j] }
            return sum
        }
    }
}
