import Datasets
import Foundation
import NN
import TensorCore
import Testing
import VAE
import VAEEvaluation
import VAEModels

@Suite struct ImportanceWeightingTests {
    /// A fixed small model and three of its images.
    static func model() -> MLPVAE {
        var generator = RandomGenerator(seed: 21)
        return try! MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 3), using: &generator)
    }
    static let images = Array(SyntheticDigits.make(count: 3, seed: 4).pixels)

    /// `times` copies of the images one after another.
    static func repeated(_ times: Int) -> [Float] { (0..<times).flatMap { _ in images } }

    @Test func logMeanExpStaysFiniteForVeryNegativeLogWeights() {
        let values = [-1e4, -1e4 - 1, -1e4 + 2]
        let expected = -1e4 + log((exp(0.0) + exp(-1.0) + exp(2.0)) / 3)
        #expect(abs(LogMeanExp.of(values) - expected) < 1e-9)
        #expect(abs(LogMeanExp.of([1e4, 1e4]) - 1e4) < 1e-9)
        #expect(LogMeanExp.of([-1e4]).isFinite && LogMeanExp.of([]) == -.infinity)
        // Order does not matter (the running maximum is rescaled).
        #expect(abs(LogMeanExp.of(values.reversed()) - expected) < 1e-9)
    }

    @Test func withOneSampleTheBoundIsTheELBOInExpectation() {
        // E[L_1] over 20,000 draws per image against the ELBO with a closed-form KL, also over 20,000 draws.
        let model = Self.model()
        let copies = Self.repeated(20_000)
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        let bound = model.importanceWeightedBound(images: copies, samples: 1, using: &a)
        let elbo = -model.evaluate(images: copies, targets: copies, batchSize: 5000, using: &b).loss
        #expect(abs(bound.logLikelihood - elbo) < 0.05, "E[L_1] \(bound.logLikelihood), ELBO \(elbo)")
        #expect(abs(bound.logLikelihood - bound.elbo) < 1e-9)
    }

    @Test func theBoundDoesNotDecreaseAsKGrows() {
        let model = Self.model()
        var bounds: [Double] = []
        for k in [1, 5, 50, 500] {
            var generator = RandomGenerator(seed: 3)
            bounds.append(model.importanceWeightedBound(images: Self.repeated(400), samples: k, using: &generator).logLikelihood)
        }
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0.0 < $0.1 }, "\(bounds)")
    }

    @Test func aStoppedBoundIsTheBoundOverTheImagesDone() {
        // One image per pass (maxRows = k): asked to stop before the third group, the bound is
        // the one over the first two images, with the same noise.
        let model = Self.model()
        var asked = 0
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let stopped = model.importanceWeightedBound(images: Self.images, samples: 40, maxRows: 40, using: &a, shouldStop: {
            asked += 1
            return asked >= 2
        })
        let firstTwo = model.importanceWeightedBound(images: Array(Self.images.prefix(2 * 64)), samples: 40, maxRows: 40, using: &b)
        #expect(stopped.images == 2 && firstTwo.images == 2)
        #expect(abs(stopped.logLikelihood - firstTwo.logLikelihood) < 1e-9 && abs(stopped.elbo - firstTwo.elbo) < 1e-9)
        var c = RandomGenerator(seed: 9)
        #expect(model.importanceWeightedBound(images: Self.images, samples: 40, maxRows: 40, using: &c).images == 3)
    }

    @Test func passesOfAnySizeGiveTheSameBound() {
        // Splitting one image's k samples across passes (maxRows < k) or packing several images
        // into a pass draws the same noise in the same order.
        let model = Self.model()
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let packed = model.importanceWeightedBound(images: Self.images, samples: 40, maxRows: 4096, using: &a)
        let split = model.importanceWeightedBound(images: Self.images, samples: 40, maxRows: 40, using: &b)
        #expect(abs(packed.logLikelihood - split.logLikelihood) < 1e-5)  // sgemm blocking differs with the row count
        // A cap that does not divide k: two equal passes of 20 rather than 30 and 10.
        var c = RandomGenerator(seed: 9)
        let uneven = model.importanceWeightedBound(images: Self.images, samples: 40, maxRows: 30, using: &c)
        #expect(abs(packed.logLikelihood - uneven.logLikelihood) < 1e-5 && uneven.images == packed.images)
    }

    @Test func theKSampleBoundConvergesToTheClosedFormLikelihoodOfALinearGaussianModel() {
        // p(z) = N(0, I_2), p(x | z) = N(W z + c, s² I_3): log p(x) = log N(x; c, W Wᵀ + s² I).
        let w: [[Double]] = [[1.0, 0.5], [-0.3, 0.8], [0.6, -1.2]], c = [0.2, -0.1, 0.4], s2 = 0.3
        let x = [1.1, -0.4, 0.9]
        var covariance = (0..<3).map { i in (0..<3).map { j in (0..<2).reduce(i == j ? s2 : 0) { $0 + w[i][$1] * w[j][$1] } } }
        let exact = Self.gaussianLogDensity(x.indices.map { x[$0] - c[$0] }, covariance: &covariance)
        // A proposal that is not the posterior: q = N((0.3, -0.2), diag(0.8, 1.5)).
        let model = LinearGaussianModel(weights: w, offsets: c, variance: s2, proposalMean: [0.3, -0.2], proposalVariance: [0.8, 1.5])
        var gaps: [Double] = []
        for k in [1, 10, 1000, 1_000_000] {
            var generator = RandomGenerator(seed: 17)
            let bound = model.importanceWeightedBound(images: x.map(Float.init), samples: k, using: &generator).logLikelihood
            gaps.append(exact - bound)
        }
        #expect(gaps[0] > 0.05, "with one sample the proposal's gap shows: \(gaps)")
        #expect(abs(gaps[3]) < 0.01, "k = 1,000,000 reaches log p(x) = \(exact): gaps \(gaps)")
        #expect(gaps[2] < gaps[0] && abs(gaps[2]) < 0.05)
    }

    /// log N(r; 0, Σ) for a 3x3 Σ, by Cholesky.
    static func gaussianLogDensity(_ r: [Double], covariance a: inout [[Double]]) -> Double {
        let n = r.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                let sum = (0..<j).reduce(a[i][j]) { $0 - l[i][$1] * l[j][$1] }
                l[i][j] = i == j ? sum.squareRoot() : sum / l[j][j]
            }
        }
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n { y[i] = ((0..<i).reduce(r[i]) { $0 - l[i][$1] * y[$1] }) / l[i][i] }
        let logDeterminant = 2 * (0..<n).reduce(0.0) { $0 + log(l[$1][$1]) }
        return -0.5 * (y.reduce(0) { $0 + $1 * $1 } + logDeterminant + Double(n) * log(2 * Double.pi))
    }

    @Test func theTrainingObjectiveAndTheEvaluationAgreeOnTheSameNoise() {
        let model = Self.model()
        var a = RandomGenerator(seed: 5)
        let evaluated = model.importanceWeightedBound(images: Self.images, samples: 7, using: &a)
        let x = Tensor(shape: [3, 64], scalars: Self.images)
        let batch = Batch(images: x, noise: NoiseSource(generator: RandomGenerator(seed: 5)))
        let trained = ImportanceWeightedBound(samples: 7).terms(model, batch, epochs: 0)
        #expect(abs(-Double(trained.loss.item) / 3 - evaluated.logLikelihood) < 1e-3)
        #expect(abs(trained.figures.reconstruction / 3 - evaluated.reconstruction) < 1e-3)
        #expect(abs(trained.figures.totalKL / 3 - evaluated.kl) < 1e-3)
    }

    @Test func activeUnitsCountDimensionsWhoseMeanVariesWithTheImage() {
        // Dimension 0 varies (variance 1), dimension 1 barely (variance 1e-4), dimension 2 not at all.
        let codes = LatentCodes(count: 4, size: 3, means: [1, 0.01, 5, -1, -0.01, 5, 1, 0.01, 5, -1, -0.01, 5],
                                logVariances: [Float](repeating: 0, count: 12))
        #expect(codes.meanVariances.map { ($0 * 1e6).rounded() / 1e6 } == [1, 0.0001, 0])
        #expect(codes.activeUnits() == 1)
        #expect(codes.activeUnits(threshold: 1e-5) == 2)
    }
}

/// The kind of `LinearGaussianModel`: a model kind defined outside the toolkit's own, as any
/// package may define one.
struct LinearGaussianArchitecture: ModelArchitecture {
    static let kind = "test-linear-gaussian"
    static let kindDescription = "linear Gaussian model"
    var imageShape: ImageShape { .grey(height: 1, width: 3) }
    var latentSize: Int { 2 }
    var likelihood: Likelihood { .learnedGaussian(.perChannel) }
    var architectureName: String { "3-2" }
    var problems: [ConfigurationProblem] { [] }
    var approximateParameterCount: Double { 17 }
    func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        LinearGaussianModel(weights: [[1, 0], [0, 1], [1, 1]], offsets: [0, 0, 0], variance: 1, proposalMean: [0, 0], proposalVariance: [1, 1])
    }
}

/// p(z) = N(0, I_2), p(x | z) = N(W z + c, s² I_3), with a fixed proposal q(z | x) = N(m, diag v)
/// whatever x: a model whose log p(x) has a closed form.
final class LinearGaussianModel: Module, VariationalModel {
    let weight: Tensor, offset: Tensor, logVariance: Tensor
    let proposalMean: [Float], proposalLogVariance: [Float]

    init(weights: [[Double]], offsets: [Double], variance: Double, proposalMean: [Double], proposalVariance: [Double]) {
        weight = Tensor(shape: [3, 2], scalars: weights.flatMap { $0.map(Float.init) })
        offset = Tensor(shape: [3], scalars: offsets.map(Float.init))
        logVariance = Tensor(shape: [1], scalars: [Float(log(variance))])
        self.proposalMean = proposalMean.map(Float.init)
        proposalLogVariance = proposalVariance.map { Float(log($0)) }
    }

    var latentSize: Int { 2 }
    var imageShape: ImageShape { .grey(height: 1, width: 3) }
    var condition: ModelCondition { .none }
    var specification: ModelSpecification { ModelSpecification(LinearGaussianArchitecture()) }

    func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        let rows = x.shape[0]
        return DiagonalGaussian(mean: Tensor(shape: [rows, 2], scalars: (0..<rows).flatMap { _ in proposalMean }),
                                logVariance: Tensor(shape: [rows, 2], scalars: (0..<rows).flatMap { _ in proposalLogVariance }))
    }

    func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        LearnedVarianceGaussian(mean: Tensor.linear(z, weight: weight, bias: offset), logVariance: logVariance)
    }
}
