import Foundation
import TensorCore

/// Precision and recall of distributions by k-nearest-neighbour balls (Kynkäänniemi et al. 2019,
/// "Improved Precision and Recall Metric for Assessing Generative Models").
///
/// Each feature vector φ of a set Φ gets a ball of radius r_k(φ), its distance to its k-th
/// nearest neighbour in Φ (itself excluded). A vector lies in the set's manifold when it lies in
/// any of the set's balls:
/// - precision = the share of generated vectors inside the real set's manifold (are the samples
///   realistic?);
/// - recall = the share of real vectors inside the generated set's manifold (do the samples
///   cover the data?).
public struct PrecisionRecall: Sendable, Codable, Equatable {
    /// The share of generated vectors inside the real manifold, in [0, 1].
    public let precision: Double
    /// The share of real vectors inside the generated manifold, in [0, 1].
    public let recall: Double
    /// k, the neighbour that sets each ball's radius.
    public let neighbours: Int

    /// Precision and recall of `generated` against `real` ([count · dimension] each).
    public init(real: [Float], generated: [Float], dimension d: Int, neighbours k: Int) {
        precondition(k >= 1 && real.count / d > k && generated.count / d > k, "precision and recall need more than k = \(k) vectors per set")
        let realRadii = Self.neighbourRadii(real, dimension: d, k: k)
        let generatedRadii = Self.neighbourRadii(generated, dimension: d, k: k)
        precision = Self.shareInside(generated, manifold: real, radii: realRadii, dimension: d)
        recall = Self.shareInside(real, manifold: generated, radii: generatedRadii, dimension: d)
        neighbours = k
    }

    /// r_k² of each row: the squared distance to its k-th nearest other row.
    static func neighbourRadii(_ rows: [Float], dimension d: Int, k: Int) -> [Float] {
        let count = rows.count / d
        var radii = [Float](repeating: 0, count: count)
        FeatureDistances.forEachBlock(rows, rows, dimension: d, squared: true) { first, blockRows, distances in
            var smallest = [Float](repeating: .infinity, count: k)
            for i in 0..<blockRows {
                for index in 0..<k { smallest[index] = .infinity }
                for j in 0..<count where j != first + i {
                    let value = distances[i * count + j]
                    if value >= smallest[k - 1] { continue }
                    var position = k - 1
                    while position > 0 && smallest[position - 1] > value {
                        smallest[position] = smallest[position - 1]
                        position -= 1
                    }
                    smallest[position] = value
                }
                radii[first + i] = smallest[k - 1]
            }
        }
        return radii
    }

    /// The share of `points` within radii[j] (squared) of some row j of `manifold`.
    static func shareInside(_ points: [Float], manifold: [Float], radii: [Float], dimension d: Int) -> Double {
        let count = manifold.count / d
        var inside = 0
        FeatureDistances.forEachBlock(points, manifold, dimension: d, squared: true) { _, rows, distances in
            for i in 0..<rows {
                for j in 0..<count where distances[i * count + j] <= radii[j] {
                    inside += 1
                    break
                }
            }
        }
        return Double(inside) / Double(points.count / d)
    }
}
