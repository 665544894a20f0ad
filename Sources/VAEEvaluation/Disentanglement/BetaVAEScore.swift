import Foundation
import TensorCore

/// The BetaVAE score (Higgins et al. 2017, "β-VAE: Learning Basic Visual Concepts with a
/// Constrained Variational Framework"), as disentanglement_lib computes it: a point is made by
/// drawing a factor k uniformly, two batches of `batchSize` factor draws that agree on k, and
/// the mean over the batch of |z¹ − z²| (mean codes); a logistic regression
/// (`LogisticRegression`, scikit-learn's defaults) learns k from `trainPoints` such points and
/// is scored on `evaluationPoints` fresh ones. The score is the evaluation accuracy; chance is
/// 1 / factors.
public enum BetaVAEScore {
    /// The images of one point's two batches: factor `factor` fixed between `first[i]` and `second[i]`.
    public struct Draw: Sendable {
        /// The factor held equal.
        public let factor: Int
        /// The first batch's images.
        public let first: [Int]
        /// The second batch's images.
        public let second: [Int]

        /// A point's draw.
        public init(factor: Int, first: [Int], second: [Int]) { (self.factor, self.first, self.second) = (factor, first, second) }
    }

    /// `count` points' draws over `codes`' grid, in disentanglement_lib's order of draws.
    public static func draw(_ count: Int, batchSize: Int = 64, over codes: FactorCodes, using generator: inout RandomGenerator) -> [Draw] {
        (0..<count).map { _ in
            let factor = Int.random(in: 0..<codes.factors.count, using: &generator)
            let first = (0..<batchSize).map { _ in codes.drawClasses(using: &generator) }
            var second = (0..<batchSize).map { _ in codes.drawClasses(using: &generator) }
            for row in second.indices { second[row][factor] = first[row][factor] }
            return Draw(factor: factor, first: first.map(codes.index(ofFactorClasses:)), second: second.map(codes.index(ofFactorClasses:)))
        }
    }

    /// The point of one draw: mean_i |z(first_i) − z(second_i)|.
    public static func feature(_ draw: Draw, codes: FactorCodes) -> [Double] {
        var sums = [Double](repeating: 0, count: codes.size)
        for (a, b) in zip(draw.first, draw.second) {
            for j in 0..<codes.size { sums[j] += abs(Double(codes.codes[a * codes.size + j]) - Double(codes.codes[b * codes.size + j])) }
        }
        return sums.map { $0 / Double(draw.first.count) }
    }

    /// The train and evaluation accuracies.
    public static func score(train: [Draw], evaluation: [Draw], codes: FactorCodes) -> (train: Double, evaluation: Double) {
        let trainPoints = train.map { feature($0, codes: codes) }, evaluationPoints = evaluation.map { feature($0, codes: codes) }
        let model = LogisticRegression(points: trainPoints, labels: train.map(\.factor))
        return (model.accuracy(points: trainPoints, labels: train.map(\.factor)),
                model.accuracy(points: evaluationPoints, labels: evaluation.map(\.factor)))
    }
}
