import Datasets
import Foundation
import NN
import TensorCore
import Testing
import VAE
import VAEModels

/// `--output-bias data-mean`: the decoder's last bias starts at logit(clip(x̄, 0.001, 0.999)) of
/// the mean training image (Burda et al.'s start), or at the discretised logistics' locations
/// for it, for each kind that has such a bias; what cannot start so is refused by name.
@Suite struct OutputBiasStartTests {
    init() { StandardModelKinds.register() }

    /// logit(clip(m, 0.001, 0.999)), in Double.
    static func startingLogits(_ means: [Double]) -> [Double] {
        means.map { value in
            let clipped = min(max(value, 0.001), 0.999)
            return log(clipped / (1 - clipped))
        }
    }

    /// The mean of every value over the images, in Double.
    static func meanImage(_ images: ImageDataset) -> [Double] {
        (0..<images.valuesPerImage).map { index in
            (0..<images.count).reduce(0.0) { $0 + Double(images.pixels[$1 * images.valuesPerImage + index]) } / Double(images.count)
        }
    }

    static func dataMeanConfiguration(_ model: ModelSpecification) -> TrainingConfiguration {
        var configuration = TrainerTests.configuration(epochs: 1)
        configuration.model = model
        configuration.outputBias = .dataMean
        return configuration
    }

    @Test func theMLPDecoderStartsAtTheLogitsOfTheMeanTrainingImage() throws {
        // A pixel at 0 in every image and one at 1 in every image: the clip keeps them finite.
        var pixels = TrainerTests.train.pixels
        for image in 0..<TrainerTests.train.count {
            pixels[image * 64] = 0
            pixels[image * 64 + 63] = 1
        }
        let train = TrainerTests.train.replacingPixels(pixels)
        let trainer = try Trainer(configuration: Self.dataMeanConfiguration(.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4))),
                                  train: train, test: TrainerTests.test)
        let model = try #require(trainer.model as? MLPVAE)
        let expected = Self.startingLogits(Self.meanImage(train))
        let bias = try #require(model.decoder.output.bias).scalars.map(Double.init)
        #expect(zip(bias, expected).map { abs($0 - $1) }.max()! < 1e-4, "\(bias.prefix(4)) vs \(expected.prefix(4))")
        #expect(abs(bias[0] - log(0.001 / 0.999)) < 1e-4 && abs(bias[63] - log(0.999 / 0.001)) < 1e-3)
        // With its last weights at zero the untrained decoder gives the (clipped) mean image.
        model.decoder.output.weight.pointer.update(repeating: 0, count: model.decoder.output.weight.count)
        let decoded = model.decode(latents: [0.3, -1, 2, 0.5], labels: []).map(Double.init)
        let clippedMean = Self.meanImage(train).map { min(max($0, 0.001), 0.999) }
        #expect(zip(decoded, clippedMean).map { abs($0 - $1) }.max()! < 1e-5)
        // The drawn start is the seed's draw, untouched.
        var drawn = Self.dataMeanConfiguration(.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)))
        drawn.outputBias = .drawn
        let plain = try #require(try Trainer(configuration: drawn, train: train, test: TrainerTests.test).model as? MLPVAE)
        var generator = RandomGenerator(seed: drawn.seed)
        let seedDraw = try MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4), using: &generator)
        #expect(plain.decoder.output.bias!.scalars == seedDraw.decoder.output.bias!.scalars)
    }

    /// The mean comes from the images trained on: a validation share's images are left out.
    @Test func theMeanLeavesTheValidationImagesOut() throws {
        var configuration = Self.dataMeanConfiguration(.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)))
        configuration.validationShare = 0.3
        let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let model = try #require(trainer.model as? MLPVAE)
        let expected = Self.startingLogits(Self.meanImage(trainer.train))
        let bias = try #require(model.decoder.output.bias).scalars.map(Double.init)
        #expect(trainer.train.count == 210)
        #expect(zip(bias, expected).map { abs($0 - $1) }.max()! < 1e-4)
        let everyImage = Self.startingLogits(Self.meanImage(TrainerTests.train))
        #expect(zip(bias, everyImage).map { abs($0 - $1) }.max()! > 1e-3, "the held-out images changed nothing")
    }

    @Test(arguments: [HierarchicalMLPConfiguration.Wiring.chain, .skip])
    func theHierarchicalDecoderStartsAtTheMeanToo(wiring: HierarchicalMLPConfiguration.Wiring) throws {
        var architecture = HierarchicalMLPConfiguration(imageShape: .grey(height: 8, width: 8),
                                                        layers: [.init(hiddenSizes: [16, 8], latentSize: 6), .init(hiddenSizes: [8], latentSize: 3)])
        architecture.wiring = wiring
        let trainer = try Trainer(configuration: Self.dataMeanConfiguration(ModelSpecification(architecture)),
                                  train: TrainerTests.train, test: TrainerTests.test)
        let model = try #require(trainer.model as? HierarchicalMLPVAE)
        let bias = try #require(model.decoder.output.bias).scalars.map(Double.init)
        let expected = Self.startingLogits(Self.meanImage(TrainerTests.train))
        #expect(zip(bias, expected).map { abs($0 - $1) }.max()! < 1e-4)
    }

    /// A convolution's bias is one per channel: each starts at the logit of its channel's mean.
    @Test func aConvolutionStartsEachChannelAtItsMean() throws {
        let shape = ImageShape(channels: 3, height: 8, width: 8)
        var generator = RandomGenerator(seed: 2)
        let pixels = (0..<(20 * shape.count)).map { index -> Float in
            let channel = (index % shape.count) / 64
            return generator.nextUniform() * [0.2, 0.6, 1][channel]
        }
        let images = ImageDataset(pixels: pixels, shape: shape, labels: [], classNames: [])
        let architecture = ConvolutionalModelConfiguration(
            imageShape: shape, encoderConvolutions: [ConvolutionLayer(channels: 4, kernel: 3, stride: 2, padding: 1)], encoderDenseSizes: [],
            latentSize: 2, decoderChannels: 4, decoderConvolutions: [ConvolutionLayer(channels: 4, kernel: 3, stride: 2, padding: 1)])
        let trainer = try Trainer(configuration: Self.dataMeanConfiguration(.convolutional(architecture)), train: images, test: images)
        let model = try #require(trainer.model as? ConvolutionalVAE)
        let mean = Self.meanImage(images)
        let channelMeans = (0..<3).map { channel in mean[(channel * 64)..<((channel + 1) * 64)].reduce(0, +) / 64 }
        let bias = try #require(model.decoder.output.bias).scalars.map(Double.init)
        let expected = Self.startingLogits(channelMeans)
        #expect(bias.count == 3 && zip(bias, expected).map { abs($0 - $1) }.max()! < 1e-4, "\(bias) vs \(expected)")
    }

    /// The discretised logistics start each component's location at the mean level 2m − 1 and
    /// a mixture's channel coefficients at 0; the log-scales and mixture logits keep their draw.
    @Test func theDiscretisedLogisticsStartTheirLocationsAtTheMeanLevel() throws {
        // A mixture of 2 over RGB, one bias per channel: P = 2 (1 + 6 + 3) = 20 channels, the
        // logits at 0-1, the locations at 2-7 (component k, channel c at 2 + 3k + c), the
        // log-scales at 8-13, the coefficients at 14-19.
        let drawn = (0..<20).map { Float(100 + $0) }
        let mixture = try #require(Likelihood.logisticMixture(components: 2).startingOutputBias(drawn, forMeans: [0.25, 0.5, 1], channels: 3))
        #expect(mixture == [100, 101, -0.5, 0, 1, -0.5, 0, 1] + (108...113).map(Float.init) + [Float](repeating: 0, count: 6))
        // The single logistic over grey, one bias per value of a 2-pixel image: the locations
        // (channel 0, both pixels), then the log-scales (channel 1).
        let single = try #require(Likelihood.discretizedLogistic.startingOutputBias([10, 11, 12, 13], forMeans: [0.2, 0.9], channels: 1))
        #expect(zip(single, [-0.6, 0.8, 12, 13] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(single)")
        #expect(Likelihood.logisticMixture(components: 2).outputBiasStartProblem == nil && Likelihood.discretizedLogistic.outputBiasStartProblem == nil)

        // Through the trainer: an MLP with the single logistic on 8-bit levels.
        let levels = TrainerTests.train.replacingPixels(TrainerTests.train.pixels.map { ($0 * 255).rounded() / 255 })
        var logistic = MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)
        logistic.likelihood = .discretizedLogistic
        let trainer = try Trainer(configuration: Self.dataMeanConfiguration(.mlp(logistic)), train: levels, test: levels)
        let bias = try #require((trainer.model as? MLPVAE)?.decoder.output.bias).scalars
        let locations = Self.meanImage(levels).map { 2 * $0 - 1 }
        #expect(bias.count == 128 && zip(bias.prefix(64), locations).map { abs(Double($0) - $1) }.max()! < 1e-5)
    }

    @Test func whatCannotStartAtTheDataIsRefusedByName() throws {
        var withWeights = Self.dataMeanConfiguration(.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)))
        withWeights.initialWeights = InitialWeights(path: "/tmp/start.safetensors", sha256: "00")
        #expect(withWeights.problems.contains { $0.setting == .outputBias && $0.problem.contains("both set the starting weights") })
        // The affine kind's coordinate decoder has no such bias.
        let affine = AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [16], contentSize: 2, decoderHiddenSize: 16)
        #expect(throws: TrainerSetupError.self) {
            try Trainer(configuration: Self.dataMeanConfiguration(.affine(affine)), train: TrainerTests.train, test: TrainerTests.test)
        }
        do {
            _ = try Trainer(configuration: Self.dataMeanConfiguration(.affine(affine)), train: TrainerTests.train, test: TrainerTests.test)
        } catch {
            guard case let .invalidConfiguration(problem) = error else { Issue.record("\(error)"); return }
            #expect(problem.setting == .outputBias && problem.problem.contains("has none"), "\(problem)")
        }
    }

    @Test func theStartIsRecordedAndOlderRecordsReadAsDrawn() throws {
        let configuration = Self.dataMeanConfiguration(.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)))
        let data = try JSONEncoder().encode(configuration)
        #expect(String(decoding: data, as: UTF8.self).contains("\"outputBias\":\"data-mean\""))
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: data) == configuration)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object.removeValue(forKey: "outputBias")
        let older = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(older.outputBias == .drawn)
        #expect(Preset.named("iwae-paper")?.configuration.outputBias == .dataMean)
        #expect(Preset.named("iwae-paper-2layer")?.configuration.outputBias == .dataMean)
        #expect(Preset.named("vamp")?.configuration.outputBias == .drawn)
    }
}
