import Datasets
import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import Optimizers
import VAE
import VAEModels

@Suite struct ConvolutionalVAETests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    /// The Keras example's model summary: encoder 69,076 parameters, decoder 65,089.
    @Test func kerasPresetHasTheKerasExamplesParametersAndDecoderGrid() {
        let configuration = ConvolutionalModelConfiguration.kerasExample(latentSize: 2)
        #expect(configuration.problems.isEmpty)
        #expect(configuration.flattenedSize == 3136)
        #expect(configuration.decoderGrid == ImageShape(channels: 64, height: 7, width: 7))
        guard case let .success(stages) = configuration.decoderStages else { Issue.record("no decoder"); return }
        #expect(stages.map(\.outputPadding) == [SpatialPair(1), SpatialPair(1), SpatialPair(0)])
        var generator = RandomGenerator(seed: 1)
        let model = try! ConvolutionalVAE(configuration, using: &generator)
        #expect(model.encoder.parameterCount == 69_076)
        #expect(model.decoder.parameterCount == 65_089)
        #expect(abs(ModelSpecification.convolutional(configuration).approximateParameterCount - 134_165) < 1)
    }

    /// reference/conv_vae.py's model: 764,245 parameters, a 64x4x4 grid each way.
    @Test func theDisentanglementPresetIsTheStudiesSixtyFourPixelModel() throws {
        let preset = try #require(Preset.named("dsprites-conv"))
        let configuration = try #require(preset.configuration.model.architecture(as: ConvolutionalModelConfiguration.self))
        #expect(configuration.problems.isEmpty && configuration.imageShape == .grey(height: 64, width: 64) && configuration.latentSize == 10)
        #expect(configuration.flattenedSize == 1024 && configuration.decoderGrid == ImageShape(channels: 64, height: 4, width: 4))
        var generator = RandomGenerator(seed: 1)
        let model = try ConvolutionalVAE(configuration, using: &generator)
        #expect(model.parameterCount == 764_245)
        #expect(preset.configuration.batchSize == 64 && preset.configuration.learningRate == 1e-4 && preset.configuration.optimizer == .adam)
        // The disentangling presets: the same model, data and optimizer, each its objective.
        let objectives: [(String, ObjectiveSettings.Kind)] = [("dsprites-beta-vae", .elbo), ("dsprites-btcvae", .betaTCVAE), ("dsprites-factorvae", .factorVAE),
                                                              ("dsprites-dip-vae", .dipVAE), ("dsprites-annealed", .annealedVAE)]
        for (name, kind) in objectives {
            let other = try #require(Preset.named(name)).configuration
            #expect(other.model == preset.configuration.model && other.dataset == "dsprites" && other.batchSize == 64 && other.learningRate == 1e-4
                    && other.epochs == 9 && other.objective.kind == kind, "\(name)")
        }
        #expect(Preset.named("dsprites-btcvae")!.configuration.objective.beta == 6 && Preset.named("dsprites-factorvae")!.configuration.objective.gamma == 35)
    }

    @Test func checkpointKeysAndShapesAreThoseOfTheTorchModules() {
        var generator = RandomGenerator(seed: 1)
        let model = try! ConvolutionalVAE(.kerasExample(latentSize: 16), using: &generator)
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["encoder.convolutions.0.weight"] == [32, 1, 3, 3])  // Conv2d: [out, in, kh, kw]
        #expect(shapes["encoder.convolutions.1.weight"] == [64, 32, 3, 3])
        #expect(shapes["encoder.dense.0.weight"] == [16, 3136])
        #expect(shapes["encoder.mean.weight"] == [16, 16] && shapes["encoder.spread.bias"] == [16])
        #expect(shapes["decoder.dense.0.weight"] == [3136, 16])
        #expect(shapes["decoder.convolutions.0.weight"] == [64, 64, 3, 3])  // ConvTranspose2d: [in, out, kh, kw]
        #expect(shapes["decoder.convolutions.1.weight"] == [64, 32, 3, 3])
        #expect(shapes["decoder.output.weight"] == [32, 1, 3, 3] && shapes["decoder.output.bias"] == [1])
        #expect(shapes.count == 18)
    }

    /// PyTorch's value for these weights: `reference/keras_conv_vae.py evaluate` on the model
    /// below (seed-1 keras-conv, saved with `save(to:)`) printed loss_z_mean 503.0292 for the
    /// first 100 MNIST test images (BCE on logits summed over pixels + KL, z = mu, per image).
    @Test func theLossEqualsPyTorchsOnTheSameWeights() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try ConvolutionalVAE(.kerasExample(latentSize: 2), using: &generator)
        let test = try DatasetCatalog(dataDirectory: Self.mnistFolder).load(.mnist, split: .test)
        let x = Tensor(shape: [100, 784], scalars: Array(test.pixels[0..<(100 * 784)]))
        let output = withoutGradients { model.forward(x, noise: nil) }
        let loss = withoutGradients {
            (output.likelihood.negativeLogLikelihood(x) + output.posterior.klDivergence(reduction: .sum)).item / 100
        }
        if let path = ProcessInfo.processInfo.environment["VAE_WRITE_CONV_MODEL"] { try model.save(to: URL(fileURLWithPath: path)) }
        #expect(abs(loss - Self.pytorchLoss) < 2e-3, "ours \(loss), PyTorch \(Self.pytorchLoss)")
    }

    static let pytorchLoss: Float = 503.0292
    static let mnistFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/mnist")

    /// Any C x H x W: colour, non-square, odd sizes; the decoder lands on the image exactly.
    @Test(arguments: [ImageShape(channels: 3, height: 32, width: 32), ImageShape(channels: 3, height: 24, width: 40),
                      ImageShape(channels: 1, height: 13, width: 9)])
    func decodersReproduceTheImageShape(_ shape: ImageShape) {
        let specification = ModelSpecification.convolutional(.colour).fitted(to: shape)
        let configuration = specification.architecture(as: ConvolutionalModelConfiguration.self)!
        #expect(configuration.problems.isEmpty, "\(configuration.problems)")
        var generator = RandomGenerator(seed: 2)
        let model = try! ConvolutionalVAE(configuration, using: &generator)
        let x = Tensor.randomUniform([3, shape.count], low: 0, high: 1, using: &generator)
        let output = model.forward(x, noise: Tensor.randomNormal([3, model.latentSize], using: &generator))
        #expect(output.likelihood.mean.shape == [3, shape.count])
        let loss = output.likelihood.negativeLogLikelihood(x) + output.posterior.klDivergence(reduction: .sum)
        loss.backward()
        #expect(model.parameters.allSatisfy { $0.gradient != nil }, "every parameter gets a gradient")
    }

    @Test func badArchitecturesAreRefusedWithTheLayerNamed() {
        var configuration = ConvolutionalModelConfiguration.kerasExample(latentSize: 2)
        configuration.encoderConvolutions.append(ConvolutionLayer(channels: 8, kernel: 9, stride: 1, padding: 0))
        #expect(configuration.problems == [ConfigurationProblem(.encoderConvolutions, "do not fit: convolution 3 (8:9:1:0) does not fit its 7x7 input")])
        configuration = .kerasExample(latentSize: 2)
        configuration.decoderConvolutions[0].stride = 0
        #expect(configuration.problems.first == ConfigurationProblem(.decoderConvolutions, "need positive channels, kernel and stride and a padding >= 0, got 64:3:0:1"))
        configuration = .kerasExample(latentSize: 2)
        configuration.outputConvolution = ConvolutionLayer(channels: 1, kernel: 40, stride: 1, padding: 0)
        #expect(configuration.problems.first?.setting == .outputConvolution, "\(configuration.problems)")
        #expect(ConvolutionLayer.list("32:3:2:1,64:3:2:1") == [ConvolutionLayer(channels: 32, kernel: 3, stride: 2, padding: 1),
                                                               ConvolutionLayer(channels: 64, kernel: 3, stride: 2, padding: 1)])
        #expect(ConvolutionLayer.list("32:3:x") == nil && ConvolutionLayer.list("32") == nil)
    }

    @Test func theSpecificationRoundTripsThroughJSON() throws {
        let specification = ModelSpecification.convolutional(.digits)
        let data = try JSONEncoder().encode(specification)
        #expect(try JSONDecoder().decode(ModelSpecification.self, from: data) == specification)
        #expect(String(decoding: data, as: UTF8.self).contains("\"kind\":\"conv\""))
    }
}

/// Training itself, step for step, against PyTorch: the seed-1 keras-conv-16 model, Adam 1e-3,
/// the first 20 batches of 128 training images in order, and noise from `RandomGenerator(seed: 7)`.
/// With `VAE_WRITE_CONV_STEPS=FOLDER` the test writes `model.safetensors` and `noise.bin` there;
/// `python3 reference/keras_conv_vae.py steps --model FOLDER/model.safetensors --noise
/// FOLDER/noise.bin --steps 20` printed the per-image losses below.
@Suite struct ConvolutionalTrainingTests {
    static let pytorchLosses: [Float] = [586.486, 552.66, 519.59, 480.438, 442.386, 413.542, 384.301, 359.355, 338.557, 415.346,
                                         422.797, 350.172, 333.798, 333.171, 335.925, 358.762, 341.215, 334.71, 326.189, 328.344]

    @Test func trainingStepsMatchPyTorchsGivenTheSameWeightsBatchesAndNoise() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try ConvolutionalVAE(.kerasExample(latentSize: 16), using: &generator)
        var noiseGenerator = RandomGenerator(seed: 7)
        let noise = (0..<20).map { _ in Tensor.randomNormal([128, 16], using: &noiseGenerator) }
        if let folder = ProcessInfo.processInfo.environment["VAE_WRITE_CONV_STEPS"] {
            try model.save(to: URL(fileURLWithPath: folder).appendingPathComponent("model.safetensors"))
            let values = noise.flatMap(\.scalars)
            try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: folder).appendingPathComponent("noise.bin"))
        }
        let optimizer = Adam(parameters: model.parameters, learningRate: 1e-3)
        let train = try DatasetCatalog(dataDirectory: ConvolutionalVAETests.mnistFolder).load(.mnist, split: .train)
        var losses: [Float] = []
        for step in 0..<20 {
            let x = Tensor(shape: [128, 784], scalars: Array(train.pixels[(step * 128 * 784)..<((step + 1) * 128 * 784)]))
            optimizer.zeroGradients()
            let output = model.forward(x, noise: noise[step])
            let loss = output.likelihood.negativeLogLikelihood(x) + output.posterior.klDivergence(reduction: .sum)
            loss.backward()
            optimizer.step()
            losses.append(loss.item / 128)
        }
        #expect(losses.count == Self.pytorchLosses.count)
        for (ours, theirs) in zip(losses, Self.pytorchLosses) {
            #expect(abs(ours - theirs) < 1e-4 * theirs, "ours \(ours), PyTorch \(theirs)")
        }
    }
}
