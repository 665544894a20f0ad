import Datasets
import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEEvaluation
import VAEModels
import _TestSupport

/// The hierarchical MLP kind (the IWAE paper's two stochastic layers): its importance weight
/// against a Double reference with finite differences, its top-group tools, its files, and a
/// trainer that lowers its loss.
@Suite struct HierarchicalModelTests {
    init() { StandardModelKinds.register() }

    /// 6 pixels → 4 tanh → z₁ (3) → 3 tanh → z₂ (2), and the mirror.
    static let tinyConfiguration = HierarchicalMLPConfiguration(
        imageShape: .grey(height: 2, width: 3),
        layers: [.init(hiddenSizes: [4], latentSize: 3), .init(hiddenSizes: [3], latentSize: 2)])

    static func tinyModel(seed: UInt64 = 4) -> HierarchicalMLPVAE {
        var generator = RandomGenerator(seed: seed)
        return try! HierarchicalMLPVAE(tinyConfiguration, using: &generator)
    }

    @Test func theGroupsAreTopFirstAndDrawnBottomUp() {
        let model = Self.tinyModel()
        #expect(model.latentGroups.map(\.name) == ["z2", "z1"] && model.latentSize == 2)
        let x = Tensor(shape: [5, 6], repeating: 0.5)
        let output = withoutGradients { model.forward(x, condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 1))), samples: 3) }
        #expect(output.groups.map { $0.z.shape } == [[15, 2], [15, 3]])
        #expect(output.groups[0].prior is StandardNormal && output.groups[1].prior is DiagonalGaussian)
        // z₂'s posterior reads z₁: the draw of z₁ is what q(z₂ | z₁) was given.
        let again = withoutGradients { model.inference[1](output.groups[1].z) }
        #expect(again.mean.scalars == (output.groups[0].posterior as! DiagonalGaussian).mean.scalars)
    }

    /// log p(x | z₁) + log p(z₁ | z₂) − log q(z₁ | x) + log p(z₂) − log q(z₂ | z₁), per image, and
    /// its gradient through both stochastic layers, against the same network written in Double.
    @Test func theImportanceWeightAndItsGradientMatchADoubleReference() {
        let model = Self.tinyModel()
        let tanh = { (x: [Double], layer: Linear) in DoubleNetwork.affine(x, layer).map(Foundation.tanh) }
        let report = DoubleNetwork.checkLogImportanceWeights(of: model) { x, target, noise2, noise1 in
            let q1 = DoubleNetwork.gaussian(model.inference[0], x, hidden: tanh)
            let z1 = DoubleNetwork.draw(q1, noise1)
            let q2 = DoubleNetwork.gaussian(model.inference[1], z1, hidden: tanh)
            let z2 = DoubleNetwork.draw(q2, noise2)
            let p1 = DoubleNetwork.gaussian(model.generative[0], z2, hidden: tanh)
            var h = z1
            for layer in model.decoder.hidden { h = tanh(h, layer) }
            return DoubleNetwork.bernoulli(target, logits: DoubleNetwork.affine(h, model.decoder.output)) + DoubleNetwork.logDensity(z1, p1)
                - DoubleNetwork.logDensity(z1, q1) + DoubleNetwork.logDensity(z2, DoubleNetwork.standardNormal(2)) - DoubleNetwork.logDensity(z2, q2)
        }
        #expect(report.forwardError < 1e-4, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    /// The tools' top group: `encode` passes z₁'s posterior mean up; `decode` passes z₁'s prior
    /// mean down.
    @Test func encodeAndDecodeUseTheMeansOfTheLowerGroups() {
        let model = Self.tinyModel()
        let x = Tensor(shape: [3, 6], scalars: (0..<18).map { Float($0 % 5) / 4 })
        withoutGradients {
            #expect(model.encode(x, condition: nil).mean.scalars == model.inference[1](model.inference[0](x).mean).mean.scalars)
            let z = Tensor(shape: [3, 2], scalars: [0.1, -0.4, 1, 0.3, -2, 0.5])
            let expected = Bernoulli(logits: model.decoder.logits(model.generative[0](z).mean)).mean.scalars
            #expect(model.decode(z, condition: nil).mean.scalars == expected)
        }
    }

    @Test func theModelFileRebuildsTheSameModel() throws {
        let model = Self.tinyModel()
        let file = try SafeTensorsFile.decode(TrainingCheckpoint.modelFile(model).encoded(), file: "h.safetensors")
        let specification = try #require(try TrainingCheckpoint.modelSpecification(in: file, fileName: "h.safetensors"))
        #expect(specification == model.specification && specification.kind == "hierarchical-mlp")
        var generator = RandomGenerator(seed: 99)
        let rebuilt = try specification.makeModel(using: &generator)
        try rebuilt.load(file, fileName: "h.safetensors")
        let x = Tensor(shape: [2, 6], repeating: 0.25)
        #expect(withoutGradients { rebuilt.encode(x, condition: nil).mean.scalars == model.encode(x, condition: nil).mean.scalars })
        #expect(Set(model.namedParameters().map(\.key)).isSuperset(of: ["inference.0.hidden.0.weight", "inference.1.mean.bias", "generative.0.spread.weight", "decoder.output.weight"]))
    }

    /// The VampPrior paper's wiring at a tiny size: 6 pixels; q(z₂ | x): x → 3 gated → z₂ (2);
    /// q(z₁ | x, z₂): branches of 4 gated units from x and z₂, joined, → 3 gated → z₁ (3);
    /// p(z₁ | z₂): z₂ → 3 gated → z₁; p(x | z₁, z₂): branches of 4 from z₁ and z₂ → 3 → 6 logits.
    static var tinySkipConfiguration: HierarchicalMLPConfiguration {
        var configuration = HierarchicalMLPConfiguration(imageShape: .grey(height: 2, width: 3),
                                                         layers: [.init(hiddenSizes: [4, 3], latentSize: 3), .init(hiddenSizes: [3], latentSize: 2)],
                                                         activation: .identity, varianceHead: .clampedLogVariance, initializer: .heNormal)
        configuration.hiddenUnit = .gated
        configuration.wiring = .skip
        return configuration
    }

    /// log p(x | z₁, z₂) + log p(z₁ | z₂) − log q(z₁ | x, z₂) + log p(z₂) − log q(z₂ | x) with
    /// gated units and clamped heads, and its gradient, against the same network in Double.
    @Test func theSkipWiredImportanceWeightAndItsGradientMatchADoubleReference() throws {
        var generator = RandomGenerator(seed: 8)
        let model = try HierarchicalMLPVAE(Self.tinySkipConfiguration, using: &generator)
        let (inferenceBranches, decoderBranches) = (try #require(model.inferenceBranches), try #require(model.decoderBranches))
        let gated = DoubleNetwork.gated
        func gaussian(_ encoder: GaussianEncoder, _ input: [Double]) -> DoubleNetwork.Gaussian {
            DoubleNetwork.gaussian(encoder, input, hidden: gated, clampLogVariance: true)
        }
        let report = DoubleNetwork.checkLogImportanceWeights(of: model) { x, target, noise2, noise1 in
            let q2 = gaussian(model.inference[1], x)
            let z2 = DoubleNetwork.draw(q2, noise2)
            let q1 = gaussian(model.inference[0], gated(x, inferenceBranches.first) + gated(z2, inferenceBranches.second))
            let z1 = DoubleNetwork.draw(q1, noise1)
            let p1 = gaussian(model.generative[0], z2)
            var h = gated(z1, decoderBranches.first) + gated(z2, decoderBranches.second)
            for layer in model.decoder.hidden { h = gated(h, layer) }
            return DoubleNetwork.bernoulli(target, logits: DoubleNetwork.affine(h, model.decoder.output)) + DoubleNetwork.logDensity(z1, p1)
                - DoubleNetwork.logDensity(z1, q1) + DoubleNetwork.logDensity(z2, DoubleNetwork.standardNormal(2)) - DoubleNetwork.logDensity(z2, q2)
        }
        #expect(report.forwardError < 1e-4, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    /// With skips, `encode` is q(z₂ | x) itself and `decode` gives p(x | z₁, z₂) at z₁'s prior
    /// mean; samples draw z₂ first, and z₁'s posterior reads it.
    @Test func theSkipWiredModelDrawsTopDownAndDecodesFromBothGroups() throws {
        var generator = RandomGenerator(seed: 8)
        let model = try HierarchicalMLPVAE(Self.tinySkipConfiguration, using: &generator)
        let x = Tensor(shape: [3, 6], scalars: (0..<18).map { Float($0 % 5) / 4 })
        let (inferenceBranches, decoderBranches) = (try #require(model.inferenceBranches), try #require(model.decoderBranches))
        let z = Tensor(shape: [3, 2], scalars: [0.1, -0.4, 1, 0.3, -2, 0.5])
        let (encoded, direct) = withoutGradients { (model.encode(x, condition: nil).mean.scalars, model.inference[1](x).mean.scalars) }
        #expect(encoded == direct)
        let decoded = withoutGradients { model.decode(z, condition: nil).mean.scalars }
        let expected = withoutGradients { Bernoulli(logits: model.decoder.logits(decoderBranches(model.generative[0](z).mean, z))).mean.scalars }
        #expect(decoded == expected)
        let output = withoutGradients { model.forward(x, condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 1))), samples: 2) }
        #expect(output.groups.map { $0.z.shape } == [[6, 2], [6, 3]])
        let again = withoutGradients { model.inference[0](inferenceBranches(x, output.groups[0].z, repeatingFirst: 2)).mean.scalars }
        #expect(again == (output.groups[1].posterior as! DiagonalGaussian).mean.scalars)
        // k samples of an image are k single samples of its copies: the x-branch, run once per
        // image and repeated, gives each copy its own image's features.
        let noise = NoiseSource(generator: RandomGenerator(seed: 3)), sameNoise = NoiseSource(generator: RandomGenerator(seed: 3))
        let (weights, copies) = withoutGradients {
            (model.forward(x, condition: nil, sampling: .noise(noise), samples: 2).logImportanceWeights(x).scalars,
             model.forward(x.repeatingRows(2), condition: nil, sampling: .noise(sameNoise), samples: 1).logImportanceWeights(x.repeatingRows(2)).scalars)
        }
        #expect(zip(weights, copies).allSatisfy { abs($0 - $1) < 1e-3 }, "\(weights) against \(copies)")
    }

    /// The VampPrior on the top group: the mixture of q(z_top | u_k) at the pseudo-images.
    @Test func aVampPriorOnTheTopGroupIsItsPosteriorAtThePseudoInputs() throws {
        var configuration = Self.tinySkipConfiguration
        configuration.prior = PriorSettings(kind: .vamp, components: 5)
        var generator = RandomGenerator(seed: 8)
        let model = try HierarchicalMLPVAE(configuration, using: &generator)
        let images = try #require(model.learnedPrior?.pseudoImages)
        let mixture = try #require(model.prior as? MixtureOfGaussians)
        withoutGradients {
            #expect(mixture.means.scalars == model.inference[1](images).mean.scalars && mixture.components == 5)
        }
        let output = withoutGradients { model.forward(Tensor(shape: [2, 6], repeating: 1), condition: nil,
                                                      sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 1))), samples: 1) }
        #expect(output.groups[0].prior is MixtureOfGaussians)
        #expect(Set(model.namedParameters().map(\.key)).isSuperset(of: ["learnedPrior.pseudoInputs", "inferenceBranches.first.weight", "decoderBranches.second.bias"]))
    }

    /// The count `vae presets` prints is the model's own.
    @Test(arguments: ["iwae-paper-2layer", "vamp-hvae", "vamp", "iwae-paper"])
    func theApproximateParameterCountIsTheModelsOwn(preset: String) throws {
        let specification = try #require(Preset.named(preset)).configuration.model
        var generator = RandomGenerator(seed: 1)
        let model = try specification.makeModel(using: &generator)
        #expect(Double(model.parameterCount) == specification.approximateParameterCount, "\(preset)")
    }

    /// Files written before the settings existed read as dense, chain-wired, N(0, I); the new
    /// settings round-trip.
    @Test func architecturesReadOlderFilesAndRoundTripTheNewSettings() throws {
        let older = #"{"imageShape":{"channels":1,"height":28,"width":28},"layers":[{"hiddenSizes":[100,100],"latentSize":100},{"hiddenSizes":[50,50],"latentSize":50}],"activation":"tanh","varianceHead":"log-variance","likelihood":"bernoulli","initializer":"glorot"}"#
        let read = try JSONDecoder().decode(HierarchicalMLPConfiguration.self, from: Data(older.utf8))
        #expect(read == HierarchicalMLPConfiguration.iwaePaperTwoLayer)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let written = String(decoding: try encoder.encode(read), as: UTF8.self)
        #expect(!written.contains("wiring") && !written.contains("hiddenUnit") && !written.contains("prior"), "\(written)")
        let hvae = HierarchicalMLPConfiguration.vampPriorHVAE
        #expect(try JSONDecoder().decode(HierarchicalMLPConfiguration.self, from: JSONEncoder().encode(hvae)) == hvae)
        #expect(hvae.summary.contains("wired with skips") && hvae.summary.contains("gated units") && hvae.summary.contains("vamp (500 pseudo-inputs) prior"))
    }

    @Test func anInvalidArchitectureIsRefusedByName() {
        let empty = HierarchicalMLPConfiguration(layers: [])
        #expect(empty.problems.contains { $0.setting == .stochasticLayers })
        let zero = HierarchicalMLPConfiguration(layers: [.init(hiddenSizes: [0], latentSize: 3)])
        #expect(zero.problems.first?.message.contains("layer 1: the hidden sizes") == true)
        var generator = RandomGenerator(seed: 1)
        #expect(throws: ConfigurationProblem.self) { try HierarchicalMLPVAE(zero, using: &generator) }
        #expect(throws: ConfigurationProblem.self) { try ModelSpecification(HierarchicalMLPConfiguration.iwaePaperTwoLayer).conditioned(on: 10) }
        var threeLevels = Self.tinySkipConfiguration
        threeLevels.layers.append(.init(hiddenSizes: [3], latentSize: 2))
        #expect(threeLevels.problems.contains { $0.message.contains("skip wiring is the two-level HVAE: it needs 2 layers, got 3") })
        var noJoint = Self.tinySkipConfiguration
        noJoint.layers[0].hiddenSizes = [4]
        #expect(noJoint.problems.contains { $0.message.contains("layer 1 needs a branch width and at least one joint layer") })
        var badPrior = Self.tinySkipConfiguration
        badPrior.prior = PriorSettings(kind: .mog, components: 0)
        #expect(badPrior.problems.contains { $0.setting == .prior })
    }

    /// The trainer takes the kind unchanged: a few epochs on the synthetic digits lower the
    /// loss, report a KL per group, and the IWAE bound lies above the ELBO.
    @Test func theTrainerLowersItsLossAndTheBoundHoldsOverBothGroups() throws {
        var configuration = TrainerTests.configuration(epochs: 4)
        configuration.model = ModelSpecification(HierarchicalMLPConfiguration(
            imageShape: .grey(height: 8, width: 8), layers: [.init(hiddenSizes: [32], latentSize: 8), .init(hiddenSizes: [16], latentSize: 4)]))
        let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let summaries = try TrainerTests.trainAll(trainer)
        #expect(summaries.last!.loss < summaries.first!.loss, "\(summaries.map(\.loss))")
        let evaluation = trainer.evaluateTest(epoch: 4)
        #expect(evaluation.groupKL?.count == 2 && evaluation.groupKL?.allSatisfy { $0 > 0 } == true, "\(evaluation)")
        var generator = RandomGenerator(seed: 3)
        let bound = trainer.model.importanceWeightedBound(images: TrainerTests.test.pixels, samples: 50, using: &generator)
        #expect(bound.logLikelihood > bound.elbo, "\(bound)")
    }
}

/// The tiny two-group models written again in Double: the reference of the importance-weight checks.
enum DoubleNetwork {
    typealias Gaussian = (mean: [Double], logVariance: [Double])

    /// x Wᵀ + b.
    static func affine(_ x: [Double], _ layer: Linear) -> [Double] {
        let (w, b) = (layer.weight.scalars.map(Double.init), layer.bias!.scalars.map(Double.init))
        return (0..<b.count).map { (o: Int) -> Double in
            var sum = b[o]
            for i in x.indices { sum += w[o * x.count + i] * x[i] }
            return sum
        }
    }

    /// h ⊙ σ(g) with [h, g] = x Wᵀ + b.
    static func gated(_ x: [Double], _ layer: Linear) -> [Double] {
        let both = affine(x, layer), width = both.count / 2
        return (0..<width).map { both[$0] / (1 + Foundation.exp(-both[width + $0])) }
    }

    /// An encoder's Gaussian: its trunk through `hidden`, its heads, log σ² clamped to [−6, 2] when asked.
    static func gaussian(_ encoder: GaussianEncoder, _ input: [Double], hidden: ([Double], Linear) -> [Double], clampLogVariance: Bool = false) -> Gaussian {
        var h = input
        for layer in encoder.hidden { h = hidden(h, layer) }
        let spread = affine(h, encoder.spread)
        return (affine(h, encoder.mean), clampLogVariance ? spread.map { min(max($0, -6), 2) } : spread)
    }

    static func standardNormal(_ dimension: Int) -> Gaussian { ([Double](repeating: 0, count: dimension), [Double](repeating: 0, count: dimension)) }

    /// μ + σ ε.
    static func draw(_ q: Gaussian, _ noise: [Double]) -> [Double] {
        noise.indices.map { q.mean[$0] + Foundation.exp(q.logVariance[$0] / 2) * noise[$0] }
    }

    static func logDensity(_ z: [Double], _ g: Gaussian) -> Double {
        var sum = 0.0
        for i in z.indices { sum -= 0.5 * (Foundation.log(2 * Double.pi) + g.logVariance[i] + pow(z[i] - g.mean[i], 2) / Foundation.exp(g.logVariance[i])) }
        return sum
    }

    /// log Bernoulli(target | logits).
    static func bernoulli(_ target: [Double], logits: [Double]) -> Double {
        zip(target, logits).reduce(0.0) { $0 + $1.0 * $1.1 - Foundation.log(1 + Foundation.exp($1.1)) }
    }

    /// The model's log importance weights of two 6-pixel images with one sample each, and their
    /// gradient in the image, against `reference(x, target, ε of the top group, ε of the bottom
    /// group)`. The image enters the encoder (differentiated) and is the likelihood's target (held
    /// constant: the fused likelihood sends no gradient to targets).
    static func checkLogImportanceWeights(of model: HierarchicalMLPVAE,
                                          reference: @escaping ([Double], [Double], [Double], [Double]) -> Double) -> GradientCheck.Report {
        var noiseTop: [Double] = [], noiseBottom: [Double] = []
        let (top, bottom) = (model.latentGroups[0].size, model.latentGroups[1].size)
        return GradientCheck.run(inputs: [([2, 6], 0...1), ([2, 6], 0...1)], constants: [1], engine: { t in
            let output = model.forward(t[0], condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 9))), samples: 1)
            noiseTop = output.groups[0].noise!.scalars.map(Double.init)
            noiseBottom = output.groups[1].noise!.scalars.map(Double.init)
            return output.logImportanceWeights(t[1])
        }) { v in
            (0..<2).map { row in
                reference(Array(v[0][(row * 6)..<(row * 6 + 6)]), Array(v[1][(row * 6)..<(row * 6 + 6)]),
                          Array(noiseTop[(row * top)..<((row + 1) * top)]), Array(noiseBottom[(row * bottom)..<((row + 1) * bottom)]))
            }
        }
    }
}
