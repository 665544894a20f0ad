import Foundation
import TensorCore
import Testing

@Suite struct SymmetricMatrixTests {
    /// A random symmetric positive-definite n x n matrix B Bᵀ + n I.
    static func matrix(_ n: Int, seed: UInt64) -> [Double] {
        var generator = RandomGenerator(seed: seed)
        let b = (0..<(n * n)).map { _ in Double(generator.nextUniform()) - 0.5 }
        var a = SymmetricMatrix.product(b, (0..<(n * n)).map { b[($0 % n) * n + $0 / n] }, size: n)
        for i in 0..<n { a[i * n + i] += Double(n) }
        return a
    }

    @Test func theEigenvectorsRebuildTheMatrix() {
        let n = 12, a = Self.matrix(n, seed: 1)
        let (values, vectors) = SymmetricMatrix.eigen(a, size: n)
        for i in 0..<n {
            for j in 0..<n {
                let rebuilt = (0..<n).reduce(0.0) { $0 + vectors[i * n + $1] * values[$1] * vectors[j * n + $1] }
                #expect(abs(rebuilt - a[i * n + j]) < 1e-10)
            }
        }
    }

    @Test func theSquareRootSquaresToTheMatrix() {
        let n = 9, a = Self.matrix(n, seed: 2)
        let root = SymmetricMatrix.squareRoot(a, size: n), squared = SymmetricMatrix.product(root, root, size: n)
        #expect(zip(squared, a).allSatisfy { abs($0 - $1) < 1e-10 })
    }

    @Test func theCholeskyFactorMultipliesBackAndRefusesAnIndefiniteMatrix() throws {
        let n = 7, a = Self.matrix(n, seed: 3)
        let l = try #require(SymmetricMatrix.cholesky(a, size: n))
        for i in 0..<n {
            for j in 0..<n {
                #expect(abs((0..<n).reduce(0.0) { $0 + l[i * n + $1] * l[j * n + $1] } - a[i * n + j]) < 1e-10)
                if j > i { #expect(l[i * n + j] == 0) }
            }
        }
        #expect(SymmetricMatrix.cholesky([1, 2, 2, 1], size: 2) == nil)
    }

    @Test func theCovarianceDividesByCountMinusOne() {
        let (mean, covariance) = SymmetricMatrix.meanAndCovariance(of: [1, 2, 3, 6, 5, 10], dimension: 2)
        #expect(mean == [3, 6])
        #expect(covariance == [4, 8, 8, 16])
    }
}
