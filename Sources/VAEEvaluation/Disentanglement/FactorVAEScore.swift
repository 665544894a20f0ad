import Foundation
import TensorCore

/// The FactorVAE score (Kim & Mnih 2018, "Disentangling by Factorising"), as
/// disentanglement_lib computes it: each code dimension's variance over `varianceImages` random
/// images; dimensions whose standard deviation is under 0.05 are set aside. A vote draws a
/// factor k, a batch of `batchSize` images that share k's class (the first image's), and names
/// the kept dimension of least variance relative to its global one; a majority-vote classifier
/// maps each dimension to the factor it was named for most often on `train` votes, and the
/// score is its accuracy on `evaluation` votes.
public enum FactorVAEScore {
    /// The images of one vote: factor `factor` fixed over `images`.
    public struct Draw: Sendable {
        /// The factor held fixed.
        public let factor: Int
        /// The batch's images.
        public let images: [Int]

        /// A vote's draw.
        public init(factor: Int, images: [Int]) { (self.factor, self.images) = (factor, images) }
    }

    /// The standard deviation under which a dimension is set aside.
    public static let activeThreshold = 0.05

    /// `count` votes' draws over `codes`' grid, in disentanglement_lib's order of draws.
    public static func draw(_ count: Int, batchSize: Int = 64, over codes: FactorCodes, using generator: inout RandomGenerator) -> [Draw] {
        (0..<count).map { _ in
            let factor = Int.random(in: 0..<codes.factors.count, using: &generator)
            var batch = (0..<batchSize).map { _ in codes.drawClasses(using: &generator) }
            for row in batch.indices { batch[row][factor] = batch[0][factor] }
            return Draw(factor: factor, images: batch.map(codes.index(ofFactorClasses:)))
        }
    }

    /// Each dimension's variance over `images` (divided by count − 1).
    public static func variances(of images: [Int], codes: FactorCodes) -> [Double] {
        codes.codeColumns(images).map { column in
            let mean = column.reduce(0, +) / Double(column.count)
            return column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)
        }
    }

    /// The score with its parts, from the global variances' images and the votes.
    public static func score(varianceImages: [Int], train: [Draw], evaluation: [Draw], codes: FactorCodes) -> FactorVAEScoreResult {
        let global = variances(of: varianceImages, codes: codes)
        let active = global.indices.filter { global[$0].squareRoot() >= activeThreshold }
        guard !active.isEmpty else { return FactorVAEScoreResult(train: 0, evaluation: 0, activeDimensions: 0, classifier: []) }
        func votes(_ draws: [Draw]) -> [[Int]] {
            var table = [[Int]](repeating: [Int](repeating: 0, count: codes.factors.count), count: codes.size)
            for draw in draws {
                let local = variances(of: draw.images, codes: codes)
                // The first of the least ratios, as np.argmin over the kept dimensions.
                var best = active[0]
                for dimension in active where local[dimension] / global[dimension] < local[best] / global[best] { best = dimension }
                table[active.firstIndex(of: best)!][draw.factor] += 1
            }
            return table
        }
        // np.argmax(votes, axis=0) over [factors][active dimensions] votes: for each column (the
        // kept dimension's position), the factor with most votes, the first on a tie.
        let trainVotes = votes(train), evaluationVotes = votes(evaluation)
        let classifier = trainVotes.map { row in row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }
        func accuracy(_ table: [[Int]]) -> Double {
            let total = table.joined().reduce(0, +)
            return Double(zip(table, classifier).map { $0[$1] }.reduce(0, +)) / Double(max(total, 1))
        }
        return FactorVAEScoreResult(train: accuracy(trainVotes), evaluation: accuracy(evaluationVotes), activeDimensions: active.count,
                                    classifier: Array(classifier.prefix(active.count)))
    }
}

/// The FactorVAE score with its parts.
public struct FactorVAEScoreResult: Sendable {
    /// The majority-vote classifier's accuracy on its own votes.
    public let train: Double
    /// Its accuracy on fresh votes: the score.
    public let evaluation: Double
    /// The dimensions kept (standard deviation at least 0.05).
    public let activeDimensions: Int
    /// The factor each kept dimension votes for.
    public let classifier: [Int]
}
