import Datasets
import Foundation
import NN
import TensorCore
import Testing
import _TestSupport
import VAE
import VAEModels

/// Distributions as values: log-densities against closed forms, KL divergences in closed form
/// against their Monte-Carlo estimates, and the likelihood setting, its heads and its checks.
@Suite struct DistributionTests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    static func gaussian(rows: Int, dimension: Int, seed: UInt64, requiresGradient: Bool = false) -> DiagonalGaussian {
        var generator = RandomGenerator(seed: seed)
        return DiagonalGaussian(mean: Tensor.randomNormal([rows, dimension], using: &generator, requiresGradient: requiresGradient),
                                logVariance: Tensor.randomUniform([rows, dimension], low: -1.5, high: 0.8, using: &generator, requiresGradient: requiresGradient))
    }

    @Test func theDiagonalGaussiansLogDensityIsTheClosedForm() {
        let q = Self.gaussian(rows: 3, dimension: 5, seed: 1)
        var generator = RandomGenerator(seed: 2)
        let z = Tensor.randomNormal([3, 5], using: &generator)
        let (mu, logVariance, values) = (q.mean.scalars, q.logVariance.scalars, z.scalars)
        for (row, logDensity) in q.logProbability(z).scalars.enumerated() {
            let expected = (0..<5).reduce(0.0) { total, d in
                let i = row * 5 + d, variance = exp(Double(logVariance[i])), r = Double(values[i] - mu[i])
                return total - 0.5 * (r * r / variance + log(2 * Double.pi * variance))
            }
            #expect(abs(Double(logDensity) - expected) < 1e-4 * max(1, abs(expected)))
        }
        // In the noise the same density is −½ Σ (ε² + log σ² + log 2π).
        let noise = Tensor.randomNormal([3, 5], using: &generator)
        for (a, b) in zip(q.logProbability(ofSampleFrom: noise).scalars, q.logProbability(q.sample(noise: noise)).scalars) {
            #expect(abs(a - b) < 1e-4 * max(1, abs(b)))
        }
        // N(0, I) is the Gaussian of zero mean and log-variance.
        let standard = DiagonalGaussian(mean: Tensor.zeros([3, 5]), logVariance: Tensor.zeros([3, 5]))
        for (a, b) in zip(StandardNormal(dimension: 5).logProbability(z).scalars, standard.logProbability(z).scalars) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func theClosedFormKLsMatchTheirMonteCarloEstimates() {
        // KL(q || p) for one row, estimated as the mean of log q(z) − log p(z) over 200,000 draws.
        let q = Self.gaussian(rows: 1, dimension: 4, seed: 3), p = Self.gaussian(rows: 1, dimension: 4, seed: 4)
        let draws = 200_000
        var generator = RandomGenerator(seed: 5)
        let noise = Tensor.randomNormal([draws, 4], using: &generator)
        let repeated = q.repeatingRows(draws), priorRepeated = p.repeatingRows(draws)
        let z = repeated.sample(noise: noise)
        for prior in [priorRepeated as any LatentDistribution, StandardNormal(dimension: 4)] {
            let closed = KLDivergence.closedForm(q, prior is StandardNormal ? prior : p)!.item
            let estimate = KLDivergence.logRatio(posterior: repeated, prior: prior, z: z, noise: noise).mean().item
            #expect(abs(closed - estimate) < 0.02 * max(1, closed), "closed form \(closed), Monte Carlo \(estimate)")
        }
        // The per-dimension terms add up to the KL.
        let perDimension = KLDivergence.closedFormPerDimension(q, p)!.sum().item
        #expect(abs(perDimension - KLDivergence.closedForm(q, p)!.item) < 1e-5)
    }

    @Test func theGaussianToGaussianKLMatchesFiniteDifferences() {
        let report = GradientCheck.run(inputs: [([2, 3], -1...1), ([2, 3], -1...0.5), ([2, 3], -1...1), ([2, 3], -1...0.5)], engine: { t in
            DiagonalGaussian(mean: t[0], logVariance: t[1]).klDivergence(to: DiagonalGaussian(mean: t[2], logVariance: t[3]))
        }) { v in
            (0..<2).map { row in
                (0..<3).reduce(0.0) { total, d in
                    let i = row * 3 + d
                    return total + 0.5 * (v[3][i] - v[1][i] + (exp(v[1][i]) + (v[0][i] - v[2][i]) * (v[0][i] - v[2][i])) / exp(v[3][i]) - 1)
                }
            }
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }

    /// The clamped head: log σ² = min(max(u, −6), 2); inside the range its density and KL are the
    /// log-variance head's, outside they hold still and pass no gradient to u.
    @Test func aClampedLogVarianceHeadKeepsLogVarianceBetweenMinusSixAndTwo() {
        let mean = Tensor(shape: [1, 4], scalars: [0.3, -1, 0.5, 2])
        let spread = Tensor(shape: [1, 4], scalars: [-9, -2, 1.5, 7], requiresGradient: true)
        let clamped = DiagonalGaussian(mean: mean, spread: spread, head: .clampedLogVariance)
        #expect(withoutGradients { clamped.logVariance.scalars } == [-6, -2, 1.5, 2])
        let plain = DiagonalGaussian(mean: mean, logVariance: Tensor(shape: [1, 4], scalars: [-6, -2, 1.5, 2]))
        let z = Tensor(shape: [1, 4], scalars: [0, 0.2, -1, 1])
        withoutGradients {
            #expect(abs(clamped.logProbability(z).item - plain.logProbability(z).item) < 1e-4)
            #expect(abs(clamped.klDivergence(reduction: .sum).item - plain.klDivergence(reduction: .sum).item) < 1e-4)
            #expect(zip(clamped.standardDeviation.scalars, plain.standardDeviation.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        clamped.klDivergence(reduction: .sum).backward()
        let gradient = spread.gradient!
        #expect(gradient[0] == 0 && gradient[3] == 0 && gradient[1] != 0 && gradient[2] != 0, "\(gradient)")
        // Inside the range: ½ (e^v − 1), the log-variance head's.
        #expect(abs(gradient[1] - 0.5 * (Float(exp(-2.0)) - 1)) < 1e-5)
    }

    @Test func aPairWithoutAClosedFormIsEstimatedByMonteCarloAndSaysSo() {
        /// N(0, I) scaled by 2: a prior this toolkit has no closed form for.
        struct WidePrior: LatentDistribution {
            let dimension = 3
            func logProbability(_ z: Tensor) -> Tensor { StandardNormal(dimension: 3).logProbability(z * 0.5) - Float(3 * log(2.0)) }
        }
        let q = Self.gaussian(rows: 4, dimension: 3, seed: 6)
        #expect(KLDivergence.closedForm(q, WidePrior()) == nil)
        var generator = RandomGenerator(seed: 7)
        let noise = Tensor.randomNormal([4, 3], using: &generator)
        let z = q.sample(noise: noise)
        let (value, estimator) = KLDivergence.estimate(posterior: q, prior: WidePrior(), z: z, noise: noise)
        #expect(estimator == .monteCarlo)
        let expected = q.logProbability(z).scalars.enumerated().map { $1 - WidePrior().logProbability(z).scalars[$0] }
        for (a, b) in zip(value.scalars, expected) { #expect(abs(a - b) < 1e-4) }
        #expect(KLDivergence.estimate(posterior: q, prior: StandardNormal(dimension: 3), z: z, noise: noise).estimator == .closedForm)
    }

    @Test func theFixedVarianceGaussianIsTheGaussianOfVarianceOneHalf() {
        var generator = RandomGenerator(seed: 13)
        let mean = Tensor.randomUniform([3, 10], using: &generator), x = Tensor.randomUniform([3, 10], using: &generator)
        let fixed = FixedVarianceGaussian(mean: mean).logProbability(x).scalars
        let learned = LearnedVarianceGaussian(mean: mean, logVariance: Tensor(shape: [1], scalars: [Float(log(0.5))])).logProbability(x).scalars
        for row in 0..<3 {
            // log N(x; m, ½) = −(x − m)² − ½ log π per value.
            let expected = (0..<10).reduce(0.0) { total, j in
                let d = Double(x.scalars[row * 10 + j] - mean.scalars[row * 10 + j])
                return total - d * d - 0.5 * log(Double.pi)
            }
            #expect(abs(Double(fixed[row]) - expected) < 1e-4 && abs(Double(learned[row]) - expected) < 1e-4)
        }
        #expect(abs(FixedVarianceGaussian(mean: mean).omittedConstant - (-5 * log(Double.pi))) < 1e-12)
    }

    @Test func likelihoodsReadAndWriteTheirNamesAndOptions() throws {
        let all: [Likelihood] = [.bernoulli, .gaussian, .learnedGaussian(.perValue), .learnedGaussian(.perChannel), .discretizedLogistic,
                                 .logisticMixture(components: 7)]
        for likelihood in all {
            let data = try JSONEncoder().encode([likelihood])
            #expect(try JSONDecoder().decode([Likelihood].self, from: data) == [likelihood])
        }
        #expect(String(decoding: try JSONEncoder().encode([Likelihood.bernoulli]), as: UTF8.self) == "[\"bernoulli\"]")
        #expect(try JSONDecoder().decode([Likelihood].self, from: Data("[\"logistic-mixture\"]".utf8)) == [.logisticMixture(components: 10)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Likelihood].self, from: Data("[\"poisson\"]".utf8)) }
        #expect(Likelihood.logisticMixture(components: 0).problems.first?.setting == .mixtureComponents)
        #expect(Likelihood.logisticMixture(components: 10).parameterChannels(imageChannels: 3) == 100)
        #expect(Likelihood.logisticMixture(components: 10).parameterChannels(imageChannels: 1) == 30)
        #expect(Likelihood.discretizedLogistic.parameterChannels(imageChannels: 3) == 6)
    }

    @Test func aDiscreteLikelihoodRefusesValuesThatAreNotEightBitLevelsNamingTheFirst() {
        let good = ImageDataset(pixels: [0, 1, 128.0 / 255, 3.0 / 255], shape: .grey(height: 1, width: 2), labels: [], classNames: [])
        #expect(Likelihood.discretizedLogistic.dataProblem(good, split: "training") == nil)
        let bad = ImageDataset(pixels: [0, 1, 0.5, 3.0 / 255], shape: .grey(height: 1, width: 2), labels: [], classNames: [])
        let problem = Likelihood.logisticMixture(components: 10).dataProblem(bad, split: "training")
        #expect(problem?.setting == .likelihood)
        #expect(problem?.message.contains("training image 1 has 0.5 at value 0") == true, "\(String(describing: problem))")
        #expect(Likelihood.gaussian.dataProblem(bad, split: "training") == nil)
    }

    @Test(arguments: [Likelihood.bernoulli, .gaussian, .learnedGaussian(.perValue), .learnedGaussian(.perChannel), .discretizedLogistic,
                      .logisticMixture(components: 4)])
    func everyLikelihoodFitsTheMLPAndTheConvolutionalDecoders(likelihood: Likelihood) throws {
        var generator = RandomGenerator(seed: 8)
        let shape = ImageShape(channels: 3, height: 8, width: 8)
        let x = Tensor(shape: [2, shape.count], scalars: LogLikelihoodLevels.levels(2 * shape.count, seed: 9))
        let mlp = try MLPVAE(MLPConfiguration(imageShape: shape, hiddenSizes: [16], latentSize: 3, likelihood: likelihood), using: &generator)
        var convolutional = ConvolutionalModelConfiguration.colour.fitted(to: shape)
        convolutional.likelihood = likelihood
        let conv = try ConvolutionalVAE(convolutional, using: &generator)
        for model in [mlp, conv] as [any VariationalModel] {
            let output = model.forward(x, noise: Tensor.randomNormal([2, model.latentSize], using: &generator))
            let logProbability = output.likelihood.logProbability(x)
            #expect(logProbability.shape == [2] && logProbability.scalars.allSatisfy(\.isFinite))
            // The reconstruction term is −log p up to the constant the likelihood names.
            let term = Double(output.likelihood.negativeLogLikelihood(x).item)
            let total = -logProbability.scalars.reduce(0.0) { $0 + Double($1) } + 2 * output.likelihood.omittedConstant
            #expect(abs(term - total) < 1e-4 * max(1, abs(total)), "\(likelihood): \(term) against \(total)")
            #expect(output.likelihood.mean.shape == [2, shape.count])
            #expect(output.likelihood.mean.scalars.allSatisfy { (0...1).contains($0) })
            #expect(output.likelihood.isDiscrete == (likelihood == .bernoulli || likelihood.modelsEightBitLevels))
            (output.likelihood.negativeLogLikelihood(x) + output.posterior.klDivergence(reduction: .sum)).backward()
            #expect(model.parameters.allSatisfy { $0.gradient != nil }, "\(likelihood): every parameter gets a gradient")
        }
        // The learned variance is the model's own parameter, under the likelihood's key.
        let keys = mlp.namedParameters().map(\.key)
        if case .learnedGaussian = likelihood { #expect(keys.contains("likelihood.logVariance")) } else { #expect(!keys.contains { $0.hasPrefix("likelihood") }) }
    }
}

/// 8-bit levels for tests of the VAE module (see the NN tests' own).
enum LogLikelihoodLevels {
    static func levels(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in min((generator.nextUniform() * 256).rounded(.down), 255) / 255 }
    }
}
