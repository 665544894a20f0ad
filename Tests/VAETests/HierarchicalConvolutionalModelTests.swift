import Datasets
import Foundation
import NN
import Optimizers
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

/// The hierarchical conv kind (a small NVAE): its groups and their shapes, its residual
/// posteriors, its loss gradient against finite differences, decoding with the lower groups at
/// their prior means or drawn, its file, its parameter count, its refusals, and KL balancing.
@Suite struct HierarchicalConvolutionalModelTests {
    init() { StandardModelKinds.register() }

    /// 1x8x8 images, 4 channels, groups of 2 channels: one at 2x2, two at 4x4; one cell per scale.
    static let tinyConfiguration = HierarchicalConvolutionalConfiguration(
        imageShape: .grey(height: 8, width: 8), channels: 4, latentResolutions: [2, 4], groupsPerResolution: [1, 2], latentChannels: 2,
        cellsPerScale: 1, likelihood: .bernoulli)

    static func tinyModel(seed: UInt64 = 3) -> HierarchicalConvolutionalVAE {
        var generator = RandomGenerator(seed: seed)
        return try! HierarchicalConvolutionalVAE(tinyConfiguration, using: &generator)
    }

    static func images(_ count: Int, seed: UInt64 = 5) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor(shape: [count, 64], scalars: (0..<(count * 64)).map { _ in Float(Int(generator.nextUniform() * 256) % 256) / 255 })
    }

    @Test func theGroupsSitAtTheirResolutionsTopFirst() {
        let model = Self.tinyModel()
        #expect(model.latentGroups.map(\.name) == ["z3", "z2", "z1"])
        #expect(model.latentGroups.map(\.size) == [8, 32, 32] && model.latentSize == 8)
        let output = withoutGradients {
            model.forward(Self.images(3), condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 1))), samples: 2)
        }
        #expect(output.groups.map { $0.z.shape } == [[6, 8], [6, 32], [6, 32]])
        #expect(output.groups[0].prior is StandardNormal && output.groups[1].prior is DiagonalGaussian && output.groups[2].prior is DiagonalGaussian)
        #expect(output.likelihood.mean.shape == [6, 64])
        // Scales 2, 4 and 8: an encoder cell at each and one between the two 4x4 groups; a decoder
        // cell after each of the 3 groups and each of the 2 upsamplings.
        #expect(model.encoderCells.count == 4 && model.decoderCells.count == 5 && model.downsamples.count == 2 && model.upsamples.count == 2)
    }

    /// NVAE's residual posterior: with the shift convolutions at zero, q(zᵢ | x, z_above) is
    /// p(zᵢ | z_above), so the closed-form KL of every lower group is 0.
    @Test func aPosteriorWithZeroShiftsIsItsPrior() {
        let model = Self.tinyModel()
        for convolution in model.posteriors {
            convolution.weight.pointer.update(repeating: 0, count: convolution.weight.count)
            convolution.bias!.pointer.update(repeating: 0, count: convolution.bias!.count)
        }
        let output = withoutGradients {
            model.forward(Self.images(2), condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 1))), samples: 1)
        }
        for group in output.groups.dropFirst() {
            let (kl, estimator) = group.klDivergence()
            #expect(estimator == .closedForm && kl.scalars.allSatisfy { abs($0) < 1e-5 }, "\(group.group.name): \(kl.scalars)")
        }
        #expect(output.groups[0].klDivergence().value.scalars.allSatisfy { $0 > 0 })
    }

    /// The negative ELBO's gradient (one fixed draw, batch statistics) against central
    /// differences of the same loss, for parameters of every part of both towers.
    @Test func theLossGradientMatchesFiniteDifferences() {
        let model = Self.tinyModel()
        let x = Self.images(4)
        let objective = EvidenceLowerBound()
        func loss() -> Tensor { objective.terms(model, Batch(images: x, noise: NoiseSource(generator: RandomGenerator(seed: 9))), epochs: 0).loss }
        let value = loss()
        value.backward()
        let probes: [(String, Tensor, Int)] = [
            ("stem", model.stem.weight, 3), ("encoder cell", model.encoderCells[1].convolutions[0].direction, 5),
            ("encoder cell magnitude", model.encoderCells[0].convolutions[1].magnitude, 1), ("downsample", model.downsamples[0].weight, 7),
            ("constant", model.constant, 2), ("top posterior", model.topPosterior.bias!, 1), ("prior", model.priors[0].weight, 4),
            ("posterior", model.posteriors[1].weight, 6), ("encoder combiner", model.encoderCombiners[0].weight, 2),
            ("decoder combiner", model.decoderCombiners[2].weight, 5), ("decoder cell norm", model.decoderCells[2].normalizations[0].weight, 1),
            ("excitation", model.decoderCells[0].excitation.expand.weight, 3), ("upsample", model.upsamples[1].weight, 8), ("output", model.output.weight, 1),
        ]
        for (name, tensor, index) in probes {
            let analytic = Double(tensor.gradient![index])
            let original = tensor.pointer[index]
            let step: Float = 1e-2
            tensor.pointer[index] = original + step
            let plus = Double(loss().item)
            tensor.pointer[index] = original - step
            let minus = Double(loss().item)
            tensor.pointer[index] = original
            let numeric = (plus - minus) / Double(2 * step)
            #expect(abs(analytic - numeric) <= 0.02 * max(1, abs(numeric)), "\(name): analytic \(analytic), numeric \(numeric)")
        }
    }

    @Test func decodingTakesTheLowerGroupsAtTheirPriorMeansOrDrawsThem() {
        let model = Self.tinyModel()
        let z = Tensor(shape: [2, 8], scalars: (0..<16).map { Float($0 % 5) / 2 - 1 })
        withoutGradients {
            let means = model.decode(z, condition: nil).mean.scalars
            #expect(means == model.decode(z, lowerGroups: .priorMeans).mean.scalars)
            let cold = model.decode(z, lowerGroups: .drawn(temperature: 1e-6, noise: NoiseSource(generator: RandomGenerator(seed: 2)))).mean.scalars
            #expect(zip(cold, means).allSatisfy { abs($0 - $1) < 1e-4 })
            let drawn = model.decode(z, lowerGroups: .drawn(temperature: 1, noise: NoiseSource(generator: RandomGenerator(seed: 2)))).mean.scalars
            let again = model.decode(z, lowerGroups: .drawn(temperature: 1, noise: NoiseSource(generator: RandomGenerator(seed: 2)))).mean.scalars
            #expect(drawn == again && zip(drawn, means).contains { abs($0 - $1) > 1e-3 })
        }
        // encode is the top group's posterior of the whole pass at z = μ.
        let x = Self.images(2)
        let (encoded, passed) = withoutGradients {
            (model.encode(x, condition: nil).mean.scalars, (model.forward(x, condition: nil, sampling: .mean, samples: 1).groups[0].posterior as! DiagonalGaussian).mean.scalars)
        }
        #expect(encoded == passed)
    }

    /// Reconstructions go through every group at its posterior mean (not the top alone), as
    /// the loss does.
    @Test func reconstructionsGoThroughEveryGroup() {
        let model = Self.tinyModel()
        let x = Self.images(3)
        var none: RandomGenerator? = nil
        let reconstructed = model.reconstruct(images: x.scalars, using: &none)
        let (whole, top) = withoutGradients {
            (model.forward(x, condition: nil, sampling: .mean, samples: 1).likelihood.mean.scalars,
             model.decode(model.encode(x, condition: nil).mean, condition: nil).mean.scalars)
        }
        #expect(reconstructed == whole && reconstructed != top)
    }

    /// Decoding from every group's code is the whole pass at those codes: the codes of a pass
    /// at z = μ decode to its reconstructions.
    @Test func decodingEveryGroupGivesTheWholePassAtItsCodes() {
        let model = Self.tinyModel()
        let x = Self.images(3)
        var none: RandomGenerator? = nil
        let codes = model.encodeGroups(images: x.scalars)
        #expect(codes.map(\.count) == [24, 96, 96])
        #expect(model.decode(groupLatents: codes) == model.reconstruct(images: x.scalars, using: &none))
        let mlp = HierarchicalModelTests.tinyModel()
        let digits = Tensor(shape: [3, 6], scalars: (0..<18).map { Float($0 % 5) / 4 })
        let pass = withoutGradients { mlp.forward(digits, condition: nil, sampling: .mean, samples: 1) }
        #expect(withoutGradients { mlp.decode(groups: pass.groups.map(\.z)).mean.scalars } == pass.likelihood.mean.scalars)
    }

    /// The file holds the weights and the batch normalisations' running statistics: the rebuilt
    /// model evaluates as the original after training passes moved them.
    @Test func theModelFileRebuildsTheSameModel() throws {
        let model = Self.tinyModel()
        for _ in 0..<3 { _ = model.forward(Self.images(4), condition: nil, sampling: .mean, samples: 1) }
        let file = try SafeTensorsFile.decode(TrainingCheckpoint.modelFile(model).encoded(), file: "h.safetensors")
        let specification = try #require(try TrainingCheckpoint.modelSpecification(in: file, fileName: "h.safetensors"))
        #expect(specification == model.specification && specification.kind == "hierarchical")
        var generator = RandomGenerator(seed: 99)
        let rebuilt = try specification.makeModel(using: &generator)
        try rebuilt.load(file, fileName: "h.safetensors")
        let x = Self.images(2, seed: 8)
        let (a, b) = withoutGradients {
            (model.forward(x, condition: nil, sampling: .mean, samples: 1).logImportanceWeights(x).scalars,
             rebuilt.forward(x, condition: nil, sampling: .mean, samples: 1).logImportanceWeights(x).scalars)
        }
        #expect(a == b)
        #expect(Set(model.namedState().map(\.key)).isSuperset(of: ["encoderCells.0.normalizations.0.runningMean", "constant", "priors.1.weight", "decoderCombiners.2.bias"]))
    }

    @Test(arguments: [tinyConfiguration, .colour, HierarchicalConvolutionalConfiguration(),
                      HierarchicalConvolutionalConfiguration(latentResolutions: [8], groupsPerResolution: [3], cellsPerScale: 2, outerCells: 1, outputKernel: 5)])
    func theApproximateParameterCountIsTheModelsOwn(configuration: HierarchicalConvolutionalConfiguration) throws {
        var generator = RandomGenerator(seed: 1)
        let model = try HierarchicalConvolutionalVAE(configuration, using: &generator)
        #expect(Double(model.parameterCount) == configuration.approximateParameterCount, "\(configuration.architectureName)")
    }

    @Test func anInvalidHierarchyIsRefusedByName() {
        func problems(_ change: (inout HierarchicalConvolutionalConfiguration) -> Void) -> [ConfigurationProblem] {
            var configuration = HierarchicalConvolutionalConfiguration.colour
            change(&configuration)
            return configuration.problems
        }
        let notDividing = problems { $0.latentResolutions = [3, 6, 12] }
        #expect(notDividing.first?.setting == .latentResolutions && notDividing.first?.problem.contains("divide the image size 32") == true, "\(notDividing)")
        #expect(notDividing.first?.problem.contains("1, 2, 4, 8, 16, 32") == true, "\(notDividing)")
        let zero = problems { $0.groupsPerResolution = [1, 0, 1] }
        #expect(zero.first?.setting == .groupsPerResolution && zero.first?.problem.contains("got 0") == true, "\(zero)")
        #expect(problems { $0.groupsPerResolution = [1, 1] }.first?.problem.contains("one group count per latent resolution") == true)
        #expect(problems { $0.latentResolutions = [16, 8, 4] }.first?.problem.contains("must rise") == true)
        #expect(problems { $0.imageShape = ImageShape(channels: 3, height: 32, width: 16) }.contains { $0.problem.contains("square") })
        #expect(problems { $0.latentResolutions = [] }.first?.setting == .latentResolutions)
        #expect(problems { $0.channels = 0 }.first?.setting == .hierarchyChannels)
        #expect(problems { $0.outputKernel = 2 }.first?.setting == .outputKernel)
        #expect(problems { $0.outerCells = -1 }.first?.setting == .outerCells)
        var generator = RandomGenerator(seed: 1)
        var broken = HierarchicalConvolutionalConfiguration.colour
        broken.groupsPerResolution = [0, 1, 1]
        #expect(throws: ConfigurationProblem.self) { try HierarchicalConvolutionalVAE(broken, using: &generator) }
        #expect(HierarchicalConvolutionalConfiguration.colour.problems.isEmpty)
    }

    /// NVAE's `kl_balancer` by hand: KL̄ = (1, 3), dimensions (8, 32), one group each: α = (1, 4),
    /// γ ∝ (1.01 / 1 · 4.02, 3.01 / 4 · 4.02) = (4.0602, 3.02505), over their mean 3.542625.
    @Test func klBalancingWeighsEachGroupByItsKLPerUnitOfAlpha() {
        let coefficients = EvidenceLowerBound.balancingCoefficients(meanKL: [1, 3], sizes: [8, 32])
        #expect(abs(coefficients[0] - 4.0602 / 3.542625) < 1e-12 && abs(coefficients[1] - 3.02505 / 3.542625) < 1e-12)
        // Two groups of one size share their α: α = 32 / 2 = 16 for each, against 8 for the top.
        let shared = EvidenceLowerBound.balancingCoefficients(meanKL: [1, 1, 1], sizes: [8, 32, 32])
        #expect(abs(shared[1] - shared[2]) < 1e-15 && abs(shared[0] / shared[1] - 2) < 1e-12)
    }

    /// The balanced KL enters during the warm-up only, as Σ γᵢ KLᵢ with the batch's γ.
    @Test func theBalancedELBOWeighsTheGroupsDuringTheWarmUpOnly() {
        let model = Self.tinyModel()
        let x = Self.images(4)
        let settings = ObjectiveSettings(warmupEpochs: 2, klBalancing: true)
        func terms(_ objective: EvidenceLowerBound, epochs: Double) -> ObjectiveTerms {
            withoutGradients { objective.terms(model, Batch(images: x, noise: NoiseSource(generator: RandomGenerator(seed: 9))), epochs: epochs) }
        }
        let balanced = terms(EvidenceLowerBound(settings: settings), epochs: 1)
        let kl = balanced.figures.kl.map(\.value)
        let gamma = EvidenceLowerBound.balancingCoefficients(meanKL: kl.map { $0 / 4 }, sizes: [8, 32, 32])
        let expected = balanced.figures.reconstruction + 0.5 * zip(gamma, kl).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(balanced.figures.loss - expected) < 1e-3 * abs(expected), "\(balanced.figures.loss) against \(expected)")
        #expect(zip(gamma, [1.0, 1, 1]).contains { abs($0 - $1) > 1e-3 })
        let after = terms(EvidenceLowerBound(settings: settings), epochs: 3)
        #expect(abs(after.figures.loss - (after.figures.reconstruction + after.figures.totalKL)) < 1e-3 * after.figures.loss)
        #expect(!settings.isSumOverImages && settings.summary.contains("KL balancing"))
        #expect(ObjectiveSettings(klBalancing: true).problems.first?.setting == .klBalancing)
        #expect(ObjectiveSettings(kind: .iwae, samples: 5, klBalancing: true).problems.contains { $0.setting == .objective })
    }

    /// A hierarchy's collapse warning judges the top group's KL per dimension, not the mean over
    /// every group's dimensions (2,688 here, most of them the 16x16 group's).
    @Test func theCollapseWarningOfAHierarchyJudgesItsTopGroup() {
        let model = Self.tinyModel()
        let test = ImageDataset(pixels: Self.images(4).scalars, shape: model.imageShape, labels: [], classNames: [])
        let healthy = CollapseCheck.warning(model: model, test: test, testKL: 5, groupKL: [4, 0.5, 0.5], epoch: 1) ?? ""
        #expect(!healthy.contains("nats per latent dimension"), "\(healthy)")
        let everyDimension = CollapseCheck.warning(model: model, test: test, testKL: 5, epoch: 1) ?? ""
        #expect(everyDimension.contains("test KL 0.069 nats per latent dimension"), "\(everyDimension)")
        let collapsed = CollapseCheck.warning(model: model, test: test, testKL: 5, groupKL: [0.4, 2.3, 2.3], epoch: 1) ?? ""
        #expect(collapsed.contains("top-group test KL 0.050 nats per latent dimension"), "\(collapsed)")
    }

    @Test func objectiveRecordsWithoutKLBalancingReadAsOff() throws {
        let older = #"{"kind":"elbo","samples":1,"beta":1,"warmupEpochs":3,"freeBits":0}"#
        let read = try JSONDecoder().decode(ObjectiveSettings.self, from: Data(older.utf8))
        #expect(read == ObjectiveSettings(warmupEpochs: 3))
        #expect(!String(decoding: try JSONEncoder().encode(read), as: UTF8.self).contains("klBalancing"))
        let on = ObjectiveSettings(warmupEpochs: 3, klBalancing: true)
        #expect(try JSONDecoder().decode(ObjectiveSettings.self, from: JSONEncoder().encode(on)) == on)
    }
}

/// Training itself, step for step, against PyTorch (`reference/hierarchical_vae.py`): the
/// hierarchical-colour architecture (no cells at 32x32, a 1x1 output) with 16 channels and a
/// 5-component mixture, seed 1, Adam
/// 1e-3, 20 batches of 8 smooth 32x32 colour images of 8-bit levels, and each group's noise
/// from `RandomGenerator(seed: 7)`, top first. With `VAE_WRITE_HIERARCHICAL_STEPS=FOLDER` the test
/// writes `model.safetensors`, `images.bin` and `noise.bin` there;
/// `python3 reference/hierarchical_vae.py steps FOLDER` printed the per-image losses below
/// (PyTorch in float64).
@Suite struct HierarchicalConvolutionalTrainingTests {
    static let pytorchLosses: [Float] = [19600.9051, 19568.6037, 19531.5165, 19503.843, 19482.6306, 19445.3169, 19410.8059, 19344.1081, 19303.3689,
                                         19217.5892, 19132.8332, 19078.0487, 18997.9061, 18951.1828, 18982.1888, 18893.5998, 18833.6922, 18779.5184,
                                         18740.1412, 18745.1617]

    static var configuration: HierarchicalConvolutionalConfiguration {
        var configuration = HierarchicalConvolutionalConfiguration.colour
        (configuration.channels, configuration.likelihood) = (16, .logisticMixture(components: 5))
        return configuration
    }

    /// Image i of batch b: each channel a plane wave of its own phase and frequency, at 8-bit levels.
    static func images(batch: Int, rows: Int) -> Tensor {
        var generator = RandomGenerator(seed: 100 + UInt64(batch))
        var values: [Float] = []
        for _ in 0..<rows {
            for _ in 0..<3 {
                let (phase, u, v) = (generator.nextUniform() * 6.28, generator.nextUniform() * 0.6, generator.nextUniform() * 0.6)
                for y in 0..<32 {
                    for x in 0..<32 {
                        values.append((255 * (0.5 + 0.45 * Foundation.sin(phase + u * Float(x) + v * Float(y)))).rounded() / 255)
                    }
                }
            }
        }
        return Tensor(shape: [rows, 3072], scalars: values)
    }

    @Test func trainingStepsMatchPyTorchsGivenTheSameWeightsBatchesAndNoise() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try HierarchicalConvolutionalVAE(Self.configuration, using: &generator)
        let batches = (0..<20).map { Self.images(batch: $0, rows: 8) }
        if let folder = ProcessInfo.processInfo.environment["VAE_WRITE_HIERARCHICAL_STEPS"] {
            let url = URL(fileURLWithPath: folder)
            try model.save(to: url.appendingPathComponent("model.safetensors"))
            var noiseGenerator = RandomGenerator(seed: 7)
            let noise = (0..<20).flatMap { _ in model.latentGroups.flatMap { Tensor.randomNormal([8, $0.size], using: &noiseGenerator).scalars } }
            try noise.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url.appendingPathComponent("noise.bin"))
            try batches.flatMap(\.scalars).withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url.appendingPathComponent("images.bin"))
        }
        let optimizer = Adam(parameters: model.parameters, learningRate: 1e-3)
        let noise = NoiseSource(generator: RandomGenerator(seed: 7))
        var losses: [Float] = []
        for x in batches {
            optimizer.zeroGradients()
            let output = model.forward(x, condition: nil, sampling: .noise(noise), samples: 1)
            let loss = output.groups.reduce(output.likelihood.negativeLogLikelihood(x)) { $0 + $1.klDivergence().value.sum() }
            loss.backward()
            optimizer.step()
            losses.append(loss.item / 8)
        }
        #expect(losses.count == Self.pytorchLosses.count)
        for (ours, theirs) in zip(losses, Self.pytorchLosses) {
            #expect(abs(ours - theirs) < 1e-4 * abs(theirs), "ours \(ours), PyTorch \(theirs)")
        }
    }
}
