import Foundation

/// Dense linear algebra on small symmetric matrices in Double, row-major [n · n]: the
/// eigendecomposition (cyclic Jacobi), the Cholesky factor, and what the statistics built on
/// them need (principal components, Fréchet distances, Gaussian mixtures). Exact to rounding for
/// the dimensions of latent spaces and feature vectors (up to a few hundred); deterministic.
package enum SymmetricMatrix {
    /// The eigenvalues and eigenvectors of the symmetric `matrix` [n · n]: A = V diag(λ) Vᵀ, with
    /// eigenvector k in column k of `vectors` (vectors[i · n + k]). Unsorted. Cyclic Jacobi
    /// rotations until the off-diagonal mass is below 1e-30 of the whole (Golub & Van Loan §8.5).
    package static func eigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(n > 0 && matrix.count == n * n, "a symmetric matrix needs \(n) x \(n) values")
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
            if off <= 1e-30 * max(scale, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let (akp, akq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let (apk, aqk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }

    /// The symmetric square root S^{1/2} = V diag(√max(λ, 0)) Vᵀ of a positive semi-definite
    /// `matrix` [n · n]; eigenvalues below zero (rounding) count as zero.
    package static func squareRoot(_ matrix: [Double], size n: Int) -> [Double] {
        let (values, vectors) = eigen(matrix, size: n)
        let roots = values.map { max($0, 0).squareRoot() }
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var sum = 0.0
                for k in 0..<n { sum += vectors[i * n + k] * roots[k] * vectors[j * n + k] }
                result[i * n + j] = sum
                result[j * n + i] = sum
            }
        }
        return result
    }

    /// The lower-triangular L with L Lᵀ = `matrix` [n · n] (zeros above the diagonal), or nil when
    /// the matrix is not positive definite.
    package static func cholesky(_ matrix: [Double], size n: Int) -> [Double]? {
        precondition(n > 0 && matrix.count == n * n, "a symmetric matrix needs \(n) x \(n) values")
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = matrix[j * n + j]
            for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
            guard diagonal > 0, diagonal.isFinite else { return nil }
            let root = diagonal.squareRoot()
            l[j * n + j] = root
            for i in (j + 1)..<n {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = sum / root
            }
        }
        return l
    }

    /// The product A B of two [n · n] matrices.
    package static func product(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
        precondition(a.count == n * n && b.count == n * n, "products of \(n) x \(n) matrices")
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { result[i * n + j] += aik * b[k * n + j] }
            }
        }
        return result
    }

    /// The mean row [d] and the covariance [d · d] (divided by count − 1) of `rows` [count · d]
    /// (Float values, Double sums).
    package static func meanAndCovariance(of rows: [Float], dimension d: Int) -> (mean: [Double], covariance: [Double]) {
        precondition(d > 0 && rows.count % d == 0 && !rows.isEmpty, "need [count, \(d)] rows")
        let count = rows.count / d
        var mean = [Double](repeating: 0, count: d)
        for row in 0..<count { for j in 0..<d { mean[j] += Double(rows[row * d + j]) } }
        mean = mean.map { $0 / Double(count) }
        var covariance = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for row in 0..<count {
            for j in 0..<d { centred[j] = Double(rows[row * d + j]) - mean[j] }
            for i in 0..<d {
                let a = centred[i]
                if a == 0 { continue }
                for j in i..<d { covariance[i * d + j] += a * centred[j] }
            }
        }
        let divisor = Double(max(count - 1, 1))
        for i in 0..<d {
            for j in i..<d {
                covariance[i * d + j] /= divisor
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        return (mean, covariance)
    }
}
