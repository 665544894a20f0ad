import Foundation
import TensorCore
import Testing
import _TestSupport
import VAE
import VAEModels

/// β-TCVAE's KL decomposition (Chen et al. 2018) against a plain Double reference, its
/// gradients, and the objective in training.
@Suite(.serialized) struct TotalCorrelationTests {
    init() { StandardModelKinds.register() }

    /// log N(x; μ, e^v) in Double.
    static func logNormal(_ x: Double, _ mean: Double, _ logVariance: Double) -> Double {
        -0.5 * (log(2 * Double.pi) + logVariance + (x - mean) * (x - mean) * exp(-logVariance))
    }

    static func logSumExp(_ values: [Double]) -> Double {
        let top = values.max()!
        return top + log(values.reduce(0) { $0 + exp($1 - top) })
    }

    /// MI, TC and DWKL per row, written from the paper's definitions in Double, with the
    /// importance weights w (row-major [rows, rows]).
    static func reference(z: [Double], mean: [Double], logVariance: [Double], rows: Int, dimension: Int, logWeights: [Double]) -> [[Double]] {
        (0..<rows).map { i in
            let density = { (d: Int, j: Int) in logNormal(z[i * dimension + d], mean[j * dimension + d], logVariance[j * dimension + d]) }
            let logPosterior = (0..<dimension).reduce(0) { $0 + density($1, i) }
            let logPrior = (0..<dimension).reduce(0) { $0 + logNormal(z[i * dimension + $1], 0, 0) }
            let logAggregate = logSumExp((0..<rows).map { j in logWeights[i * rows + j] + (0..<dimension).reduce(0) { $0 + density($1, j) } })
            let marginals = (0..<dimension).reduce(0) { sum, d in sum + logSumExp((0..<rows).map { j in logWeights[i * rows + j] + density(d, j) }) }
            return [logPosterior - logAggregate, logAggregate - marginals, marginals - logPrior]
        }
    }

    @Test func pairwiseLogDensitiesAndTheirGradientsMatchFiniteDifferences() {
        let (rows, dimension) = (4, 3)
        let report = GradientCheck.run(inputs: [([rows, dimension], -2...2), ([rows, dimension], -1...1), ([rows, dimension], -1.5...1)]) { inputs in
            pairwiseGaussianLogDensity(z: inputs[0], mean: inputs[1], logVariance: inputs[2])
        } reference: { inputs in
            var out: [Double] = []
            for i in 0..<rows {
                for d in 0..<dimension {
                    for j in 0..<rows { out.append(Self.logNormal(inputs[0][i * dimension + d], inputs[1][j * dimension + d], inputs[2][j * dimension + d])) }
                }
            }
            return out
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }

    @Test(arguments: TotalCorrelationEstimator.allCases)
    func theThreeTermsMatchTheReferenceAndSumToTheSampledKL(estimator: TotalCorrelationEstimator) {
        let (rows, dimension, datasetSize) = (6, 3, 1000)
        var generator = RandomGenerator(seed: 11)
        let z = Tensor.randomUniform([rows, dimension], low: -2, high: 2, using: &generator)
        let mean = Tensor.randomUniform([rows, dimension], low: -1, high: 1, using: &generator)
        let logVariance = Tensor.randomUniform([rows, dimension], low: -1.5, high: 0.5, using: &generator)
        let terms = TotalCorrelationTerms(z: z, mean: mean, logVariance: logVariance, datasetSize: datasetSize, estimator: estimator)
        let weights = TotalCorrelationTerms.logImportanceWeights(rows: rows, datasetSize: datasetSize, estimator: estimator).map(Double.init)
        // Each row's weights sum to one: q(z) is a proper mixture of the batch's posteriors.
        for i in 0..<rows {
            let total = weights[(i * rows)..<((i + 1) * rows)].reduce(0) { $0 + exp($1) } * (estimator == .minibatchWeighted ? Double(datasetSize) : 1)
            #expect(abs(total - 1) < 1e-5, "row \(i) of \(estimator): \(total)")
        }
        let expected = Self.reference(z: z.scalars.map(Double.init), mean: mean.scalars.map(Double.init), logVariance: logVariance.scalars.map(Double.init),
                                      rows: rows, dimension: dimension, logWeights: weights)
        for i in 0..<rows {
            let found = [terms.mutualInformation.scalars[i], terms.totalCorrelation.scalars[i], terms.dimensionWiseKL.scalars[i]].map(Double.init)
            for k in 0..<3 { #expect(abs(found[k] - expected[i][k]) < 1e-4, "row \(i), term \(k): \(found[k]) against \(expected[i][k])") }
            // MI + TC + DWKL = log q(z|x) − log p(z).
            let sampledKL = (0..<dimension).reduce(0.0) { sum, d in
                let index = i * dimension + d
                return sum + Self.logNormal(Double(z.scalars[index]), Double(mean.scalars[index]), Double(logVariance.scalars[index])) - Self.logNormal(Double(z.scalars[index]), 0, 0)
            }
            #expect(abs(found.reduce(0, +) - sampledKL) < 1e-4)
        }
    }

    @Test func stratifiedWeightsPutOneOverNOnTheDiagonalAndTheStratumWeightAfterIt() {
        let weights = TotalCorrelationTerms.logImportanceWeights(rows: 4, datasetSize: 100, estimator: .minibatchStratified).map { exp(Double($0)) }
        for i in 0..<4 {
            #expect(abs(weights[i * 4 + i] - 0.01) < 1e-7)
            #expect(abs(weights[i * 4 + (i + 1) % 4] - 97.0 / 300) < 1e-7)
            #expect(abs(weights[i * 4 + (i + 2) % 4] - 1.0 / 3) < 1e-7)
        }
        // An epoch's last batch may hold one image: its code alone, at 1/N, for either estimator.
        for estimator in TotalCorrelationEstimator.allCases {
            #expect(TotalCorrelationTerms.logImportanceWeights(rows: 1, datasetSize: 100, estimator: estimator) == [Float(-log(100.0))])
            let one = TotalCorrelationTerms(z: Tensor(shape: [1, 2], scalars: [0.5, -1]), mean: Tensor(shape: [1, 2], scalars: [0.2, -0.8]),
                                            logVariance: Tensor(shape: [1, 2], scalars: [-0.5, 0.1]), datasetSize: 100, estimator: estimator)
            #expect(one.mutualInformation.scalars[0].isFinite && one.totalCorrelation.scalars[0].isFinite)
        }
    }

    @Test func betaTCVAETrainsNamesItsTermsAndItsRecordReadsBack() throws {
        var configuration = ObjectiveTests.configuration(ObjectiveSettings(kind: .betaTCVAE, beta: 6), epochs: 2)
        configuration.batchSize = 16
        let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        #expect(trainer.objective.summary == "beta-TCVAE, beta 6.0, minibatch-stratified q(z)")
        let summaries = try TrainerTests.trainAll(trainer)
        let names = Set(summaries[0].extraTerms.keys)
        #expect(names == ["mutual_information", "total_correlation", "dimension_wise_kl"], "\(names)")
        #expect(summaries.allSatisfy { $0.loss.isFinite })
        // A record of it reads back.
        let decoded = try JSONDecoder().decode(ObjectiveSettings.self, from: JSONEncoder().encode(configuration.objective))
        #expect(decoded == configuration.objective)
    }

    @Test func betaTCVAEIsRefusedForModelsWhoseKLItCannotSplit() throws {
        var configuration = ObjectiveTests.configuration(ObjectiveSettings(kind: .betaTCVAE, beta: 6))
        var mixture = MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)
        mixture.prior = PriorSettings(kind: .mog, components: 3)
        configuration.model = .mlp(mixture)
        #expect { try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test) } throws: {
            "\($0)".contains("beta-TCVAE needs a diagonal-Gaussian posterior and the N(0, I) prior")
        }
        let elbo = ObjectiveSettings(alpha: 2)
        #expect(elbo.problems.map(\.message).contains { $0.contains("alpha, gamma and the q(z) estimator apply to beta-TCVAE") })
        #expect(ObjectiveSettings(kind: .betaTCVAE, freeBits: 0.5).problems.count == 1)
        #expect(ObjectiveSettings(kind: .betaTCVAE, gamma: -1).problems.map(\.message).contains { $0.contains("must be a number >= 0, got -1.0") })
    }
}
