import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

@Suite struct ModelTests {
    @Test func anInvalidArchitectureIsAThrownErrorNotATrap() {
        var generator = RandomGenerator(seed: 1)
        #expect(throws: ConfigurationProblem.self) { try MLPVAE(MLPConfiguration(hiddenSizes: [], latentSize: 2), using: &generator) }
        var unknownInitializer = MLPConfiguration(hiddenSizes: [16], latentSize: 2)
        unknownInitializer.initializer = "xavier-ish"
        let error = #expect(throws: ConfigurationProblem.self) { try MLPVAE(unknownInitializer, using: &generator) }
        #expect(error?.message.contains("'xavier-ish'") == true, "\(String(describing: error))")
        var tooSmall = ConvolutionalModelConfiguration.digits
        tooSmall.imageShape = .grey(height: 2, width: 2)
        #expect(throws: ConfigurationProblem.self) { try ConvolutionalVAE(tooSmall, using: &generator) }
        #expect(throws: ConfigurationProblem.self) { try AffineVAE(AffineModelConfiguration(contentSize: 0), using: &generator) }
        #expect(throws: ConfigurationProblem.self) { try ModelSpecification.mlp(unknownInitializer).makeModel(using: &generator) }
    }

    @Test func oneHiddenLayerModelUsesPyTorchExampleNames() {
        var generator = RandomGenerator(seed: 1)
        let model = try! MLPVAE(MLPConfiguration(hiddenSizes: [400], latentSize: 20), using: &generator)
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.tensor.shape) })
        #expect(shapes == [
            "fc1.weight": [400, 784], "fc1.bias": [400], "fc21.weight": [20, 400], "fc21.bias": [20],
            "fc22.weight": [20, 400], "fc22.bias": [20], "fc3.weight": [400, 20], "fc3.bias": [400],
            "fc4.weight": [784, 400], "fc4.bias": [784],
        ])
        #expect(model.parameterCount == 652_824)  // the PyTorch example's count
    }

    @Test func deeperModelUsesStructuredNamesAndMirrorsTheEncoder() {
        var generator = RandomGenerator(seed: 1)
        let model = try! MLPVAE(MLPConfiguration(hiddenSizes: [500, 300], latentSize: 50, activation: .elu), using: &generator)
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["encoder.hidden.0.weight"] == [500, 784])
        #expect(shapes["encoder.hidden.1.weight"] == [300, 500])
        #expect(shapes["encoder.mean.weight"] == [50, 300])
        #expect(shapes["encoder.spread.weight"] == [50, 300])
        #expect(shapes["decoder.hidden.0.weight"] == [300, 50])
        #expect(shapes["decoder.hidden.1.weight"] == [500, 300])
        #expect(shapes["decoder.output.weight"] == [784, 500])
    }

    @Test(arguments: [[400], [64, 32]])
    func architectureIsReadOffTheTensorShapesOfAForeignFile(hidden: [Int]) throws {
        var generator = RandomGenerator(seed: 1)
        let model = try MLPVAE(MLPConfiguration(hiddenSizes: hidden, latentSize: 7), using: &generator)
        let file = model.stateDictionary()  // no metadata, as a file saved by PyTorch
        let inferred = try #require(MLPConfiguration.inferred(from: file, base: MLPConfiguration(hiddenSizes: [1], latentSize: 1)))
        #expect(inferred.hiddenSizes == hidden)
        #expect(inferred.latentSize == 7)
        #expect(inferred.inputSize == 784)
        #expect(MLPConfiguration.inferred(from: SafeTensorsFile(), base: inferred) == nil)
    }

    @Test func zeroWeightsGiveTheClosedFormLossOf784Log2() {
        // Zero weights and biases: μ = 0 and log σ² = 0 (KL = 0), every logit 0, so each pixel's
        // Bernoulli term is log 2 whatever its target: the loss is 784 log 2 per image.
        var generator = RandomGenerator(seed: 3)
        let model = try! MLPVAE(MLPConfiguration(hiddenSizes: [16], latentSize: 4), using: &generator)
        for parameter in model.parameters { parameter.pointer.update(repeating: 0, count: parameter.count) }
        var images = [Float](repeating: 0, count: 5 * 784)
        images.withUnsafeMutableBufferPointer { generator.fillUniform($0) }
        var noise = RandomGenerator(seed: 4)
        let result = model.evaluate(images: images, targets: images, batchSize: 2, using: &noise)
        #expect(abs(result.loss - 784 * log(2)) < 1e-3)
        #expect(abs(result.lossMean - 784 * log(2)) < 1e-3)
        #expect(abs(result.kl) < 1e-6)
        #expect(result.images == 5)
    }

    @Test func unconstrainedStandardDeviationHeadGivesTheSameKLForNegativeSigma() {
        let mean = Tensor(shape: [1, 3], scalars: [0.5, -1, 0.2])
        let positive = gaussianKLDivergence(mean: mean, standardDeviation: Tensor(shape: [1, 3], scalars: [0.5, 2, 1]), reduction: .sum).item
        let negative = gaussianKLDivergence(mean: mean, standardDeviation: Tensor(shape: [1, 3], scalars: [-0.5, -2, 1]), reduction: .sum).item
        // KL = ½ Σ (μ² + σ² - 1 - log σ²)
        let expected = 0.5 * ((0.25 + 0.25 - 1 - log(0.25)) + (1 + 4 - 1 - log(4)) + (0.04 + 1 - 1 - 0))
        #expect(abs(positive - Float(expected)) < 1e-5)
        #expect(positive == negative)
    }

    @Test func everyPresetIsValidAndNamedAfterADesign() {
        // Each kind's presets, the kinds in their registration order.
        #expect(Preset.all.map(\.name) == ["pytorch-example", "design-a", "design-c", "design-d", "design-e", "iwae-paper", "vamp", "cvae-mnist", "keras-conv",
                                          "keras-conv-16", "conv-mnist", "conv-colour", "dsprites-conv", "dsprites-beta-vae", "dsprites-btcvae", "dsprites-factorvae", "dsprites-dip-vae",
                                          "dsprites-annealed", "cvae-conv", "affine", "affine-small", "iwae-paper-2layer", "iwae-code-2layer", "vamp-hvae",
                                          "hierarchical-colour", "vq-mnist", "vq-colour"])
        for preset in Preset.all { #expect(preset.configuration.problems.isEmpty, "\(preset.name)") }
        #expect(Preset.named("design-c")?.configuration.binarization == .threshold)
        #expect(Preset.named("cvae-mnist")?.configuration.model.conditionClasses == 10)
        #expect(Preset.named("cvae-conv")?.configuration.model.conditionClasses == 10)
        #expect(Preset.named("design-e")?.configuration.optimizer == .rmspropKeras)
        // The conv presets' settings are those their five-seed studies chose (ObjectivesAndReliableTraining.md).
        let convolutional = Preset.named("conv-mnist")!.configuration
        #expect(convolutional.batchSize == 32 && convolutional.learningRate == 5e-4 && convolutional.objective.freeBits == 0.25 && convolutional.weightAverage == 0.995)
        let colour = Preset.named("conv-colour")!.configuration
        #expect(colour.batchSize == 4 && colour.learningRate == 5e-4 && colour.objective.freeBits == 0.25 && colour.weightAverage == 0.99 && colour.outputBias == .dataMean)
        #expect(colour.model.architecture(as: ConvolutionalModelConfiguration.self)?.initializer == Initializer.glorotUniform.rawValue)
        let iwae = Preset.named("iwae-paper")!.configuration
        guard let model = iwae.model.architecture(as: MLPConfiguration.self) else { Issue.record("iwae-paper is not an MLP preset"); return }
        #expect(model.architectureName == "784-200-200-50" && model.activation == .tanh)
        // The two-layer model as the IWAE authors' code builds it: twice the paper's text's widths.
        let code = Preset.named("iwae-code-2layer")?.configuration.model.architecture(as: HierarchicalMLPConfiguration.self)
        #expect(code?.layers.map(\.hiddenSizes) == [[200, 200], [100, 100]] && code?.layers.map(\.latentSize) == [100, 50])
        #expect(Preset.named("iwae-code-2layer")?.configuration.schedule == Preset.named("iwae-paper-2layer")?.configuration.schedule)
        #expect(iwae.binarization == .dynamic && iwae.batchSize == 20 && iwae.epochs == 3280 && iwae.optimizerEpsilon == 1e-4)
    }
}
