import Foundation

/// The mutual information gap (Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of
/// Disentanglement in VAEs"), as disentanglement_lib computes it: each code dimension's mean
/// codes cut into `bins` equal-width histogram bins; I(v_k; z_j) between factor k's classes and
/// dimension j's bins; per factor, the gap between its two most informative dimensions over its
/// entropy H(v_k); MIG the mean of the gaps over the factors. 1 when every factor is read off one
/// dimension that tells nothing of the others, 0 when no dimension stands out.
public enum MutualInformationGap {
    /// MIG and its parts for codes `codes` ([dimensions][points]) of points whose factor
    /// classes are `factors` ([factors][points]).
    public static func score(codes: [[Double]], factors: [[Int]], bins: Int = 20) -> MutualInformationGapResult {
        precondition(codes.count >= 2, "the gap needs two code dimensions")
        let discretized = codes.map { Discretization.histogramBins($0, bins: bins) }
        let information = discretized.map { code in factors.map { Discretization.mutualInformation($0, code) } }
        let entropies = factors.map(Discretization.entropy)
        let gaps = factors.indices.map { factor -> Double in
            let sorted = information.map { $0[factor] }.sorted(by: >)
            return (sorted[0] - sorted[1]) / entropies[factor]
        }
        return MutualInformationGapResult(score: gaps.reduce(0, +) / Double(gaps.count), gaps: gaps, information: information, entropies: entropies)
    }
}

/// MIG with the figures it is made of.
public struct MutualInformationGapResult: Sendable {
    /// The mean normalised gap over the factors.
    public let score: Double
    /// Each factor's normalised gap.
    public let gaps: [Double]
    /// I(v_k; z_j) in nats, [dimensions][factors].
    public let information: [[Double]]
    /// Each factor's entropy H(v_k) in nats.
    public let entropies: [Double]
}
