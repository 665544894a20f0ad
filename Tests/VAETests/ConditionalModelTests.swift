import Foundation
import Testing
import _TestSupport
import Datasets
import NN
import TensorCore
import VAE
import VAEEvaluation
import VAEModels

/// Conditional VAEs: the label's one-hot joins the encoder's features and z.
@Suite struct ConditionalModelTests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    /// A 6-pixel MLP VAE on 3 classes: encoder [6 + 3] -> 5 -> 2 (+ 2), decoder [2 + 3] -> 5 -> 6.
    static func tinyModel(seed: UInt64 = 3) -> MLPVAE {
        var configuration = MLPConfiguration(inputSize: 6, hiddenSizes: [5], latentSize: 2)
        configuration.conditionClasses = 3
        var generator = RandomGenerator(seed: seed)
        return try! MLPVAE(configuration, using: &generator)
    }

    @Test func theConditionsGradientThroughBothNetworksMatchesFiniteDifferences() {
        let model = Self.tinyModel()
        let noise: [Float] = [0.3, -1.2, 0.8, 0.1]
        func values(_ layer: Linear) -> (w: [Double], b: [Double]) { (layer.weight.scalars.map(Double.init), layer.bias!.scalars.map(Double.init)) }
        let (e1, mean, spread, d1, d2) = (values(model.encoder.hidden[0]), values(model.encoder.mean), values(model.encoder.spread),
                                          values(model.decoder.hidden[0]), values(model.decoder.output))
        func dense(_ x: [Double], _ layer: (w: [Double], b: [Double]), relu: Bool) -> [Double] {
            let outputs = layer.b.count, inputs = x.count
            return (0..<outputs).map { o in
                let v = (0..<inputs).reduce(layer.b[o]) { $0 + layer.w[o * inputs + $1] * x[$1] }
                return relu ? max(0, v) : v
            }
        }
        // The logits of two images, z = mu + exp(logvar / 2) eps; the condition is a free input
        // (a one-hot is one point of it), so its gradient flows through the encoder and the decoder.
        let report = GradientCheck.run(inputs: [([2, 6], 0...1), ([2, 3], 0...1)], constants: [0], engine: { t in
            model.forward(t[0], condition: t[1], noise: Tensor(shape: [2, 2], scalars: noise)).likelihood.mean
        }) { v in
            (0..<2).flatMap { row -> [Double] in
                let x = Array(v[0][(row * 6)..<(row * 6 + 6)]), c = Array(v[1][(row * 3)..<(row * 3 + 3)])
                let h = dense(x + c, e1, relu: true)
                let mu = dense(h, mean, relu: false), logVariance = dense(h, spread, relu: false)
                let z = (0..<2).map { mu[$0] + Foundation.exp(logVariance[$0] / 2) * Double(noise[row * 2 + $0]) }
                return dense(dense(z + c, d1, relu: true), d2, relu: false).map { 1 / (1 + Foundation.exp(-$0)) }
            }
        }
        #expect(report.forwardError < 1e-4, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    @Test func decodingOneCodeWithTwoLabelsGivesDifferentImages() {
        let model = Self.tinyModel()
        let z: [Float] = [0.5, -0.25]
        let asFirst = model.decode(latents: z, labels: [0]), asSecond = model.decode(latents: z, labels: [2])
        #expect(asFirst != asSecond)
        #expect(zip(asFirst, asSecond).map { abs($0 - $1) }.max()! > 1e-4)
        // The encoder reads the label too.
        let x: [Float] = [0.1, 0.9, 0.4, 0, 1, 0.6]
        #expect(model.encode(images: x, labels: [0]).means != model.encode(images: x, labels: [1]).means)
    }

    @Test func theConditionalIWAEBoundAtOneSampleIsTheConditionalELBO() {
        let model = Self.tinyModel()
        var generator = RandomGenerator(seed: 5)
        var pixels = [Float](repeating: 0, count: 40 * 6)
        pixels.withUnsafeMutableBufferPointer { generator.fillUniform($0) }
        let labels = (0..<40).map { $0 % 3 }
        var first = RandomGenerator(seed: 9), second = RandomGenerator(seed: 9)
        let bound = model.importanceWeightedBound(images: pixels, labels: labels, samples: 1, using: &first)
        // With k = 1 the bound is log w = log p(x | z, y) + log p(z) - log q(z | x, y): the one-sample
        // ELBO with a sampled KL, whose mean over many draws is the closed-form ELBO; here the same
        // draws give the same number, term by term.
        #expect(abs(bound.logLikelihood - bound.elbo) < 1e-9)
        let repeated = model.importanceWeightedBound(images: pixels, labels: labels, samples: 1, using: &second)
        #expect(repeated == bound)
        // Against the closed-form conditional ELBO over many draws of the one-sample bound.
        var draws = RandomGenerator(seed: 11)
        let manyImages = Array((0..<200).map { _ in pixels }.joined()), manyLabels = Array((0..<200).map { _ in labels }.joined())
        let average = model.importanceWeightedBound(images: manyImages, labels: manyLabels, samples: 1, using: &draws).logLikelihood
        var evaluation = RandomGenerator(seed: 12)
        let elbo = -model.evaluate(images: manyImages, targets: manyImages, labels: manyLabels, batchSize: 1000, using: &evaluation).loss
        #expect(abs(average - elbo) < 0.05, "IWAE k = 1 \(average) vs ELBO \(elbo)")
    }

    @Test func aConvolutionalModelTakesTheConditionInBothNetworks() {
        var configuration = ConvolutionalModelConfiguration.kerasExample(latentSize: 4)
        configuration.conditionClasses = 10
        var generator = RandomGenerator(seed: 1)
        let model = try! ConvolutionalVAE(configuration, using: &generator)
        #expect(model.condition == .classes(10))
        #expect(model.encoder.dense[0].inputSize == configuration.flattenedSize! + 10)
        #expect(model.decoder.dense[0].inputSize == 4 + 10)
        let z: [Float] = [0.5, -1, 0.25, 2]
        let (three, eight) = (model.decode(latents: z, labels: [3]), model.decode(latents: z, labels: [8]))
        #expect(zip(three, eight).map { abs($0 - $1) }.max()! > 1e-4, "the decoder ignores the label")
    }

    @Test func theConditionIsRecordedAndReadBack() throws {
        var configuration = MLPConfiguration.conditionalDigits
        let data = try JSONEncoder().encode(ModelSpecification.mlp(configuration))
        #expect(try JSONDecoder().decode(ModelSpecification.self, from: data) == .mlp(configuration))
        configuration.conditionClasses = nil
        let plain = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        #expect(!plain.contains("conditionClasses"), "an unconditional model's record is unchanged")
        #expect(ModelSpecification.mlp(MLPConfiguration.conditionalDigits).problems.isEmpty)
        var bad = MLPConfiguration.conditionalDigits
        bad.conditionClasses = 1
        #expect(ModelSpecification.mlp(bad).problems.contains { $0.setting == .condition && $0.message.contains("must be 2...1000 classes") })
        #expect(throws: ConfigurationProblem.self) {
            try ModelSpecification.affine(AffineModelConfiguration()).conditioned(on: 10)
        }
    }
}
