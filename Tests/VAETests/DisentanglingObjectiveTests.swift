import Foundation
import TensorCore
import Testing
import _TestSupport
import VAE
import VAEModels

/// DIP-VAE's covariance penalty and AnnealedVAE's capacity, against Double references, and both
/// objectives in training.
@Suite(.serialized) struct DisentanglingObjectiveTests {
    init() { StandardModelKinds.register() }

    /// DIP-VAE's regulariser written from disentanglement_lib's definition in Double.
    static func dipReference(mean: [Double], logVariance: [Double], rows: Int, dimension: Int, variant: DIPVariant, od: Double, d: Double) -> Double {
        let means = (0..<dimension).map { a in (0..<rows).reduce(0) { $0 + mean[$1 * dimension + a] } / Double(rows) }
        var total = 0.0
        for a in 0..<dimension {
            for b in 0..<dimension {
                // E[μ μᵀ] − E[μ] E[μ]ᵀ, as disentanglement_lib's compute_covariance_z_mean.
                var entry = (0..<rows).reduce(0) { $0 + mean[$1 * dimension + a] * mean[$1 * dimension + b] } / Double(rows) - means[a] * means[b]
                if variant == .ii && a == b { entry += (0..<rows).reduce(0) { $0 + exp(logVariance[$1 * dimension + a]) } / Double(rows) }
                total += a == b ? d * (entry - 1) * (entry - 1) : od * entry * entry
            }
        }
        return total
    }

    @Test(arguments: DIPVariant.allCases)
    func theDIPPenaltyAndItsGradientMatchTheReference(variant: DIPVariant) {
        let (rows, dimension) = (6, 3)
        let report = GradientCheck.run(inputs: [([rows, dimension], -1.5...1.5), ([rows, dimension], -1...0.5)], constants: variant == .i ? [1] : []) { inputs in
            dipRegulariser(mean: inputs[0], logVariance: inputs[1], variant: variant, lambdaOffDiagonal: 2, lambdaDiagonal: 5)
        } reference: { inputs in
            [Self.dipReference(mean: inputs[0], logVariance: inputs[1], rows: rows, dimension: dimension, variant: variant, od: 2, d: 5)]
        }
        #expect(report.forwardError < 1e-4 && report.gradientError < 2e-3, "\(variant): \(report)")
    }

    @Test func codesWithTheIdentityCovarianceCostNothing() {
        // Four codes ±1 on two axes: mean 0, covariance I.
        let mean = Tensor(shape: [4, 2], scalars: [1, 1, -1, -1, 1, -1, -1, 1])
        let logVariance = Tensor(shape: [4, 2], scalars: [Float](repeating: -30, count: 8))
        #expect(abs(dipRegulariser(mean: mean, logVariance: logVariance, variant: .i, lambdaOffDiagonal: 10, lambdaDiagonal: 100).item) < 1e-6)
        // DIP-VAE-II adds E[σ²] (here about 0) to the diagonal.
        #expect(abs(dipRegulariser(mean: mean, logVariance: logVariance, variant: .ii, lambdaOffDiagonal: 10, lambdaDiagonal: 100).item) < 1e-6)
        // Correlated codes pay λ_od for each off-diagonal entry: C_12 = C_21 = 1, diagonal 1.
        let correlated = Tensor(shape: [2, 2], scalars: [1, 1, -1, -1])
        #expect(abs(dipRegulariser(mean: correlated, logVariance: correlated, variant: .i, lambdaOffDiagonal: 3, lambdaDiagonal: 7).item - 6) < 1e-5)
    }

    @Test func theCapacityRisesLinearlyAndThenHolds() {
        let settings = ObjectiveSettings(kind: .annealedVAE, beta: 1000, capacity: 25, capacityEpochs: 8.68)
        #expect(settings.capacity(afterEpochs: 0) == 0)
        #expect(abs(settings.capacity(afterEpochs: 4.34) - 12.5) < 1e-4)
        #expect(settings.capacity(afterEpochs: 20) == 25)
        #expect(settings.problems.isEmpty)
        #expect(ObjectiveSettings(kind: .annealedVAE, warmupEpochs: 2).problems.map(\.message).contains { $0.contains("takes no warm-up") })
        #expect(ObjectiveSettings(capacity: 5).problems.map(\.message).contains { $0.contains("the capacity applies to AnnealedVAE") })
        #expect(ObjectiveSettings(kind: .dipVAE, lambdaOffDiagonal: -1).problems.map(\.message).contains { $0.contains("must be a number >= 0, got -1.0") })
    }

    @Test func dipVAEAndAnnealedVAETrainAndNameTheirTerms() throws {
        for (settings, name) in [(ObjectiveSettings(kind: .dipVAE, dipVariant: .ii, lambdaOffDiagonal: 5, lambdaDiagonalFactor: 1), "dip_regulariser"),
                                 (ObjectiveSettings(kind: .annealedVAE, beta: 100, capacity: 5, capacityEpochs: 2), "capacity")] {
            let configuration = ObjectiveTests.configuration(settings, epochs: 2)
            let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
            let summaries = try TrainerTests.trainAll(trainer)
            #expect(summaries[0].extraTerms.keys.contains(name), "\(settings.summary): \(summaries[0].extraTerms)")
            #expect(summaries.allSatisfy { $0.loss.isFinite })
            let decoded = try JSONDecoder().decode(ObjectiveSettings.self, from: JSONEncoder().encode(settings))
            #expect(decoded == settings)
        }
    }

    @Test func theAnnealedLossPullsTheKLToTheCapacity() throws {
        // With a large γ and a capacity of 6 nats reached at once, the KL settles near 6.
        var configuration = ObjectiveTests.configuration(ObjectiveSettings(kind: .annealedVAE, beta: 200, capacity: 6, capacityEpochs: 0.01), epochs: 6)
        configuration.learningRate = 3e-3
        let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let summaries = try TrainerTests.trainAll(trainer)
        #expect(abs(summaries.last!.kl - 6) < 1, "KL \(summaries.map(\.kl))")
    }
}
