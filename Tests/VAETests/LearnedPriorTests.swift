import Datasets
import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels
import _TestSupport

/// Learned priors: the mixture's density and gradient against Double, the VampPrior's
/// components through the encoder, their Monte-Carlo KL, their files.
@Suite struct LearnedPriorTests {
    init() { StandardModelKinds.register() }

    /// log (1/K) Σ_k N(z | μ_k, σ_k²) and its gradient in z, the means and the log-variances.
    @Test func theMixturesDensityAndGradientMatchADoubleReference() {
        let report = GradientCheck.run(inputs: [([4, 3], -2...2), ([5, 3], -1...1), ([5, 3], -1...0.5)], engine: { t in
            MixtureOfGaussians(means: t[1], logVariances: t[2]).logProbability(t[0])
        }) { v in
            (0..<4).map { row in
                let terms = (0..<5).map { k in
                    (0..<3).reduce(0.0) { sum, d in
                        let z = v[0][row * 3 + d], mu = v[1][k * 3 + d], logVariance = v[2][k * 3 + d]
                        return sum - 0.5 * (Foundation.log(2 * Double.pi) + logVariance + (z - mu) * (z - mu) / Foundation.exp(logVariance))
                    }
                }
                let top = terms.max()!
                return top + Foundation.log(terms.reduce(0) { $0 + Foundation.exp($1 - top) }) - Foundation.log(5)
            }
        }
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    @Test func aOneComponentMixtureIsItsGaussian() {
        let means = Tensor(shape: [1, 2], scalars: [0.5, -1]), logVariances = Tensor(shape: [1, 2], scalars: [0.3, -0.7])
        let z = Tensor(shape: [3, 2], scalars: [0, 0, 1, 2, -3, 0.5])
        let mixture = MixtureOfGaussians(means: means, logVariances: logVariances).logProbability(z).scalars
        let gaussian = DiagonalGaussian(mean: means.repeatingRows(3), logVariance: logVariances.repeatingRows(3)).logProbability(z).scalars
        #expect(zip(mixture, gaussian).allSatisfy { abs($0 - $1) < 1e-5 }, "\(mixture) against \(gaussian)")
    }

    static func model(_ prior: PriorSettings) throws -> MLPVAE {
        var configuration = MLPConfiguration(inputSize: 64, hiddenSizes: [8], latentSize: 3)
        configuration.prior = prior
        var generator = RandomGenerator(seed: 2)
        return try MLPVAE(configuration, using: &generator)
    }

    /// The VampPrior is the encoder's posterior at the clamped pseudo-inputs, started at
    /// N(0.05, 0.01²) as the paper's code starts them; the KL has no closed form.
    @Test func theVampPriorIsThePosteriorAtItsPseudoInputs() throws {
        let model = try Self.model(PriorSettings(kind: .vamp, components: 7))
        let raw = try #require(model.learnedPrior?.pseudoInputs)
        #expect(raw.shape == [7, 64] && abs(raw.scalars.reduce(0, +) / 448 - 0.05) < 0.005)
        // Moved outside [0, 1], the pseudo-images stay inside.
        raw.pointer[0] = -0.4
        raw.pointer[1] = 1.7
        let images = try #require(model.learnedPrior?.pseudoImages).scalars
        #expect(images[0] == 0 && images[1] == 1 && images.allSatisfy { (0...1).contains($0) })
        let prior = try #require(model.prior as? MixtureOfGaussians)
        let posterior = model.encoder(try #require(model.learnedPrior?.pseudoImages))
        #expect(prior.means.scalars == posterior.mean.scalars && prior.logVariances.scalars == posterior.logVariance.scalars)
        let images3 = SyntheticDigits.make(count: 4, seed: 1)
        #expect(model.klEstimators(on: images3).map(\.estimator) == [.monteCarlo])
        #expect(try Self.model(.normal).klEstimators(on: images3).map(\.estimator) == [.closedForm])
    }

    @Test func aLearnedPriorTrainsAndItsFileRebuildsIt() throws {
        for kind in [PriorSettings.Kind.mog, .vamp] {
            var configuration = TrainerTests.configuration(epochs: 3)
            var architecture = try #require(configuration.model.architecture(as: MLPConfiguration.self))
            architecture.prior = PriorSettings(kind: kind, components: 5)
            configuration.model = .mlp(architecture)
            let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
            let before = try #require(try trainer.trainEpoch()).loss
            while !trainer.isFinished { _ = try trainer.trainEpoch() }
            #expect(trainer.evaluateTest(epoch: 3).loss < before, "\(kind)")
            let file = try SafeTensorsFile.decode(TrainingCheckpoint.modelFile(trainer.model).encoded(), file: "p.safetensors")
            let specification = try #require(try TrainingCheckpoint.modelSpecification(in: file, fileName: "p.safetensors"))
            #expect(specification.architecture(as: MLPConfiguration.self)?.prior == PriorSettings(kind: kind, components: 5))
            var generator = RandomGenerator(seed: 8)
            let rebuilt = try specification.makeModel(using: &generator)
            try rebuilt.load(file, fileName: "p.safetensors")
            let z = Tensor(shape: [2, 4], scalars: [0.1, 0.2, -0.3, 0.4, 1, -1, 0.5, 0])
            #expect(withoutGradients { rebuilt.prior.logProbability(z).scalars == trainer.model.prior.logProbability(z).scalars })
        }
        // A file of a fixed prior has no "prior" field: files of earlier versions read the same.
        let normal = try JSONEncoder().encode(MLPConfiguration(inputSize: 16, hiddenSizes: [8], latentSize: 3))
        #expect(!String(decoding: normal, as: UTF8.self).contains("prior"))
    }

    @Test func badPriorSettingsAreNamed() {
        var configuration = MLPConfiguration(inputSize: 16, hiddenSizes: [8], latentSize: 3)
        configuration.prior = PriorSettings(kind: .mog, components: 0)
        #expect(configuration.problems.contains { $0.setting == .prior && $0.message.contains("1...10000 components") })
        configuration.prior = PriorSettings(kind: .vamp)
        configuration.conditionClasses = 10
        #expect(configuration.problems.contains { $0.setting == .prior && $0.message.contains("unconditional") })
    }
}
