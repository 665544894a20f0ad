import Foundation
import TensorCore

/// The disentanglement, completeness and informativeness of a representation (Eastwood &
/// Williams 2018, "A Framework for the Quantitative Evaluation of Disentangled
/// Representations"), as disentanglement_lib computes them: a classifier per factor learns its
/// class from the codes (`GradientBoostedTrees`, scikit-learn's `GradientBoostingClassifier()`
/// defaults, as disentanglement_lib uses); R[j][k] is dimension j's share of the importance for
/// factor k. Disentanglement is Σ_j ρ_j (1 − H_K(R_j·)), ρ_j = Σ_k R_jk / Σ R, H_K the entropy
/// in base K (factors) of row j normalised; completeness the same over columns in base D
/// (dimensions); informativeness the classifiers' mean test accuracy.
public struct DCIScores: Sendable {
    /// Σ_j ρ_j (1 − H_K(R_j·)).
    public let disentanglement: Double
    /// Σ_k ρ_k (1 − H_D(R_·k)).
    public let completeness: Double
    /// The classifiers' mean accuracy on their training points.
    public let informativenessTrain: Double
    /// Their mean accuracy on the test points.
    public let informativenessTest: Double
    /// R, [dimensions][factors].
    public let importance: [[Double]]

    /// Fits one classifier per factor on the training codes and scores it on the test codes
    /// (codes [dimensions][points], factors [factors][points]).
    public init(trainCodes: [[Double]], trainFactors: [[Int]], testCodes: [[Double]], testFactors: [[Int]]) {
        let trainRows = Self.rows(trainCodes), testRows = Self.rows(testCodes)
        var importance = [[Double]](repeating: [Double](repeating: 0, count: trainFactors.count), count: trainCodes.count)
        var (trainAccuracy, testAccuracy) = (0.0, 0.0)
        for (factor, (trainClasses, testClasses)) in zip(trainFactors, testFactors).enumerated() {
            let model = GradientBoostedTrees(points: trainRows, labels: trainClasses)
            for (dimension, value) in model.featureImportances.enumerated() { importance[dimension][factor] = abs(value) }
            trainAccuracy += model.accuracy(points: trainRows, labels: trainClasses)
            testAccuracy += model.accuracy(points: testRows, labels: testClasses)
        }
        self.init(importance: importance, informativenessTrain: trainAccuracy / Double(trainFactors.count),
                  informativenessTest: testAccuracy / Double(trainFactors.count))
    }

    /// The scores of an importance matrix R ([dimensions][factors]) and accuracies.
    public init(importance: [[Double]], informativenessTrain: Double, informativenessTest: Double) {
        self.importance = importance
        (self.informativenessTrain, self.informativenessTest) = (informativenessTrain, informativenessTest)
        let columns = importance[0].indices.map { k in importance.map { $0[k] } }
        disentanglement = Self.weightedOneMinusEntropy(importance)
        completeness = Self.weightedOneMinusEntropy(columns)
    }

    /// Σ_r ρ_r (1 − H_base(row r normalised)), base = the rows' length, ρ_r = row r's share of
    /// the total (equal shares when the matrix is zero); 1e-11 is added to every entry before
    /// normalising, as scipy.stats.entropy is called.
    static func weightedOneMinusEntropy(_ rows: [[Double]]) -> Double {
        let base = Double(rows[0].count)
        let total = rows.joined().reduce(0, +)
        var score = 0.0
        for row in rows {
            let shifted = row.map { $0 + 1e-11 }
            let sum = shifted.reduce(0, +)
            let entropy = shifted.reduce(0.0) { entropySoFar, value in
                let p = value / sum
                return entropySoFar - (p > 0 ? p * log(p) : 0)
            } / log(base)
            let weight = total == 0 ? 1 / Double(rows.count) : row.reduce(0, +) / total
            score += weight * (1 - entropy)
        }
        return score
    }

    /// Points as rows [points][dimensions] from columns.
    static func rows(_ columns: [[Double]]) -> [[Float]] {
        columns[0].indices.map { p in columns.map { Float($0[p]) } }
    }
}
