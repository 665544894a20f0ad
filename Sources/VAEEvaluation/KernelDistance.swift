import Foundation
import TensorCore

/// The kernel distance of Bińkowski et al. 2018 ("Demystifying MMD GANs"), known as KID: the
/// unbiased estimate of MMD² between two feature distributions under the cubic polynomial kernel
/// k(x, y) = (x·y / d + 1)³, averaged over random subsets of both sets.
///
/// For subsets X and Y of m vectors each:
///
///     MMD²ᵤ = Σ_{i≠j} k(xᵢ, xⱼ) / (m(m − 1)) + Σ_{i≠j} k(yᵢ, yⱼ) / (m(m − 1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / m²
///
/// Unlike the Fréchet distance it is unbiased, so it can fall below zero when the sets match.
public struct KernelDistance: Sendable, Codable, Equatable {
    /// The mean of MMD² over the subsets.
    public let mean: Double
    /// The standard deviation of MMD² over the subsets (population, as torch-fidelity reports it).
    public let standardDeviation: Double
    /// The number of subsets.
    public let subsets: Int
    /// The vectors drawn from each set per subset (without replacement).
    public let subsetSize: Int

    /// KID between `real` and `generated` ([count · dimension] each): `subsets` draws of
    /// `subsetSize` rows from each set, from `generator`.
    public init(real: [Float], generated: [Float], dimension d: Int, subsets: Int, subsetSize m: Int, using generator: inout RandomGenerator) {
        let countReal = real.count / d, countGenerated = generated.count / d
        precondition(subsets >= 1 && m >= 2 && m <= countReal && m <= countGenerated, "KID needs subsets of 2...\(min(countReal, countGenerated)) vectors")
        var values: [Double] = []
        for _ in 0..<subsets {
            let x = Self.rows(real, dimension: d, picked: Array(generator.permutation(countReal).prefix(m)))
            let y = Self.rows(generated, dimension: d, picked: Array(generator.permutation(countGenerated).prefix(m)))
            values.append(Self.unbiasedMMD2(x, y, dimension: d))
        }
        let average = values.reduce(0, +) / Double(subsets)
        mean = average
        standardDeviation = (values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(subsets)).squareRoot()
        self.subsets = subsets
        subsetSize = m
    }

    /// The unbiased MMD² of two sets of m vectors each (the formula above).
    public static func unbiasedMMD2(_ x: [Float], _ y: [Float], dimension d: Int) -> Double {
        let m = x.count / d
        precondition(m >= 2 && y.count == x.count, "MMD² needs two sets of equally many vectors, at least two")
        func kernelSum(_ a: [Float], _ b: [Float], skipDiagonal: Bool) -> Double {
            var total = 0.0
            FeatureDistances.forEachBlock(a, b, dimension: d, squared: false) { first, rows, products in
                let columns = b.count / d
                for i in 0..<rows {
                    for j in 0..<columns where !(skipDiagonal && first + i == j) {
                        let base = Double(products[i * columns + j]) / Double(d) + 1
                        total += base * base * base
                    }
                }
            }
            return total
        }
        let pairs = Double(m) * Double(m - 1)
        return kernelSum(x, x, skipDiagonal: true) / pairs + kernelSum(y, y, skipDiagonal: true) / pairs
            - 2 * kernelSum(x, y, skipDiagonal: false) / (Double(m) * Double(m))
    }

    static func rows(_ values: [Float], dimension d: Int, picked: [Int]) -> [Float] {
        var result = [Float]()
        result.reserveCapacity(picked.count * d)
        for row in picked { result += values[(row * d)..<((row + 1) * d)] }
        return result
    }
}
