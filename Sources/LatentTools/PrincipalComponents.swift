import Foundation
import TensorCore

/// Principal component analysis of row vectors: the eigenvectors of their covariance matrix,
/// largest variance first. Computed in Double with the cyclic Jacobi method (exact to rounding
/// for the small dimensions of latent spaces).
///
/// Each component's sign is fixed so that its largest-magnitude entry is positive, so the same
/// data always gives the same picture.
public struct PrincipalComponents: Sendable {
    /// The data's dimension.
    public let dimension: Int
    /// The mean row, [dimension].
    public let mean: [Double]
    /// The unit components, largest variance first: components[k] is [dimension].
    public let components: [[Double]]
    /// The variance of the data along each component (the covariance's eigenvalues), descending.
    public let variances: [Double]

    /// Fits the components of `rows` ([count, dimension], row-major).
    public init(rows: [Float], dimension: Int) {
        precondition(dimension > 0 && rows.count % dimension == 0 && !rows.isEmpty, "PCA needs [count, \(dimension)] rows")
        let (mean, covariance) = SymmetricMatrix.meanAndCovariance(of: rows, dimension: dimension)
        let (values, vectors) = SymmetricMatrix.eigen(covariance, size: dimension)
        let order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        self.dimension = dimension
        self.mean = mean
        variances = order.map { max(values[$0], 0) }
        components = order.map { k in
            var vector = (0..<dimension).map { vectors[$0 * dimension + k] }
            let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) }!
            if vector[largest] < 0 { vector = vector.map { -$0 } }
            return vector
        }
    }

    /// The share of the total variance along each component.
    public var explainedVarianceRatios: [Double] {
        let total = variances.reduce(0, +)
        return variances.map { total > 0 ? $0 / total : 0 }
    }

    /// The coordinates of `rows` along the first `count` components: result[k][n] is row n's
    /// coordinate along component k.
    public func project(_ rows: [Float], components count: Int) -> [[Double]] {
        precondition(count <= components.count, "only \(components.count) components")
        let n = rows.count / dimension
        return (0..<count).map { k in
            (0..<n).map { row in
                (0..<dimension).reduce(0.0) { $0 + (Double(rows[row * dimension + $1]) - mean[$1]) * components[k][$1] }
            }
        }
    }
}
