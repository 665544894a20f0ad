import Datasets
import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

/// The VQ-VAE kind: its one group of codes and their constant KL, its loss (the paper's
/// equation 3), decoding from code indices, training on small images, its file, and its refusals.
@Suite struct VectorQuantizedModelTests {
    init() { StandardModelKinds.register() }

    /// 8x8 grey images -> a 4x4 grid of 3-dimensional codes from 6; the mirror back.
    static let tinyConfiguration = VectorQuantizedConfiguration(
        imageShape: .grey(height: 8, width: 8), encoderConvolutions: [ConvolutionLayer(channels: 8, kernel: 4, stride: 2, padding: 1)],
        codeDimension: 3, codebookSize: 6, decoderConvolutions: [ConvolutionLayer(channels: 8, kernel: 4, stride: 2, padding: 1)])

    static func tinyModel(_ configuration: VectorQuantizedConfiguration = tinyConfiguration) -> VectorQuantizedVAE {
        var generator = RandomGenerator(seed: 3)
        return try! VectorQuantizedVAE(configuration, using: &generator)
    }

    @Test func theLatentIsAGridOfCodesWhoseKLIsTheUniformPriorsConstant() {
        let model = Self.tinyModel()
        #expect(model.codeGrid == ImageShape(channels: 3, height: 4, width: 4) && model.latentSize == 48 && model.codePositions == 16)
        let x = Tensor(shape: [2, 64], scalars: SyntheticDigits.make(count: 2, seed: 1).pixels)
        let output = withoutGradients { model.forward(x, condition: nil, sampling: .mean, samples: 1) }
        let codes = output.groups[0].posterior as! QuantizedCodes
        #expect(codes.indices == model.codes(x))
        // Every position's values are its code's row of the codebook.
        let codebook = model.quantizer.codebook.scalars
        for (position, index) in codes.indices.enumerated() {
            #expect(Array(codes.values.scalars[(position * 3)..<(position * 3 + 3)]) == Array(codebook[(Int(index) * 3)..<(Int(index) * 3 + 3)]))
        }
        let (kl, estimator) = output.groups[0].klDivergence()
        #expect(estimator == .closedForm && kl.scalars.allSatisfy { abs(Double($0) - 16 * log(6.0)) < 1e-4 })
        #expect(abs(Double(output.groups[0].logPriorMinusLogPosterior.scalars[0]) + 16 * log(6.0)) < 1e-4)
    }

    /// loss = Σ (x − x̂)² + KL + β Σ ‖z_e − sg[e]‖², with the commitment reported per image.
    @Test func theLossIsTheSquaredErrorPlusTheCommitmentTerm() {
        let model = Self.tinyModel()
        let x = Tensor(shape: [3, 64], scalars: SyntheticDigits.make(count: 3, seed: 2).pixels)
        let terms = withoutGradients { EvidenceLowerBound().terms(model, Batch(images: x, noise: NoiseSource(generator: RandomGenerator(seed: 1))), epochs: 0) }
        let rows = withoutGradients { model.encoderRows(x) }
        let values = withoutGradients { model.quantize(x).values }
        let commitment = zip(rows.scalars, values.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let mean = withoutGradients { model.decode(values, condition: nil).mean.scalars }
        let squaredError = zip(mean, x.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let expected = squaredError + 3 * 16 * log(6.0) + 0.25 * commitment
        #expect(abs(Double(terms.loss.item) - expected) < 1e-3 * expected, "\(terms.loss.item) vs \(expected)")
        #expect(abs(terms.figures.modelTerms["commitment"]! - commitment / 3) < 1e-4)
    }

    @Test func decodingIndicesDecodesTheirCodebookRows() {
        let model = Self.tinyModel()
        let indices: [Int32] = (0..<32).map { Int32($0 % 6) }
        let codebook = model.quantizer.codebook.scalars
        let values = Tensor(shape: [2, 48], scalars: indices.flatMap { Array(codebook[(Int($0) * 3)..<(Int($0) * 3 + 3)]) })
        let a = withoutGradients { model.decode(codes: indices, count: 2).mean.scalars }
        let b = withoutGradients { model.decode(values, condition: nil).mean.scalars }
        #expect(a == b)
    }

    /// Ten epochs on 8x8 bars: the squared error falls, every code figure is reported, and the
    /// codebook holds encoder outputs (restarted from them).
    @Test func trainingLowersTheReconstructionErrorAndReportsTheCodebooksUse() throws {
        var configuration = TrainingConfiguration(preset: "test-vq", model: ModelSpecification(Self.tinyConfiguration), learningRate: 1e-2, batchSize: 16,
                                                  epochs: 10)
        configuration.evaluationBatchSize = 50
        let trainer = try Trainer(configuration: configuration, train: SyntheticDigits.make(count: 160, seed: 11), test: SyntheticDigits.make(count: 50, seed: 12))
        let model = trainer.model as! VectorQuantizedVAE
        let before = model.codeFigures(on: trainer.test)
        var summaries: [EpochSummary] = []
        for _ in 0..<10 { summaries.append(try #require(try trainer.trainEpoch())) }
        let after = model.codeFigures(on: trainer.test)
        #expect(after.map(\.name) == ["reconstruction MSE", "perplexity", "codes used", "dead codes", "codes restarted"])
        #expect(after[0].value < 0.5 * before[0].value, "\(before) -> \(after)")
        #expect(after[2].value + after[3].value == 6 && after[4].value > 0)
        #expect(summaries.allSatisfy { $0.extraTerms["commitment"] != nil })
        #expect(summaries.last!.reconstruction < summaries.first!.reconstruction)
    }

    @Test func theModelFileRoundTripsWithTheCodebooksAverages() throws {
        let model = Self.tinyModel()
        _ = model.quantizer(Tensor(shape: [4, 3], scalars: (0..<12).map { Float($0) / 12 }, requiresGradient: true))
        let keys = model.namedState().map(\.key)
        #expect(keys.contains("quantizer.codebook") && keys.contains("quantizer.usage") && keys.contains("quantizer.restarts") && keys.contains("projection.weight"))
        let spec = try JSONDecoder().decode(ModelSpecification.self, from: JSONEncoder().encode(model.specification))
        #expect(spec == model.specification && spec.kind == "vq")
    }

    @Test func badArchitecturesAreRefusedNamingTheSetting() {
        var configuration = Self.tinyConfiguration
        configuration.codebookSize = 0
        #expect(ModelSpecification(configuration).problems.first?.setting == .codebookSize)
        configuration = Self.tinyConfiguration
        configuration.codeDimension = 0
        #expect(ModelSpecification(configuration).problems.first?.setting == .codeDimension)
        configuration = Self.tinyConfiguration
        configuration.decoderConvolutions = []
        configuration.outputConvolution = ConvolutionLayer(channels: 1, kernel: 3, stride: 1, padding: 1)
        let problem = ModelSpecification(configuration).problems.first
        #expect(problem?.setting == .decoderConvolutions && problem!.message.contains("4x4 grid of codes"), "\(String(describing: problem))")
    }

    /// The codebook's averages and restarts live in each process, so a process group is refused.
    @Test func severalProcessesAreRefused() {
        let group = LocalProcessGroup.make(size: 2)
        let configuration = TrainingConfiguration(preset: "test-vq", model: ModelSpecification(Self.tinyConfiguration), batchSize: 16, epochs: 1)
        #expect { try Trainer(configuration: configuration, train: SyntheticDigits.make(count: 32, seed: 1), test: SyntheticDigits.make(count: 8, seed: 2),
                              processGroup: group[0]) } throws: { error in "\(error)".contains("would drift apart; train it in one") }
    }

    @Test func theImportanceWeightedObjectiveIsRefused() {
        var configuration = TrainingConfiguration(preset: "test-vq", model: ModelSpecification(Self.tinyConfiguration), batchSize: 16, epochs: 1)
        configuration.objective = ObjectiveSettings(kind: .iwae, samples: 5)
        #expect(throws: TrainerSetupError.self) {
            try Trainer(configuration: configuration, train: SyntheticDigits.make(count: 32, seed: 1), test: SyntheticDigits.make(count: 8, seed: 2))
        }
    }
}
