import Datasets
import Foundation
import TensorCore
import Testing
import VAE
import VAEEvaluation
import VAEModels

@Suite(.serialized) struct AffineModelTests {
    @Test func slantIsTheCentredMomentRatio() {
        // A line x = 5 + y / 2 (on even rows): slant exactly 0.5; a vertical line: 0; mirrored: -0.5.
        var image = [Float](repeating: 0, count: 20 * 20), upright = image, mirrored = image
        for y in stride(from: 0, to: 20, by: 2) {
            image[y * 20 + 5 + y / 2] = 1
            upright[y * 20 + 7] = 1
            mirrored[y * 20 + 15 - y / 2] = 1
        }
        #expect(abs(Slant.of(image[...], width: 20, height: 20) - 0.5) < 1e-12)
        #expect(Slant.of(upright[...], width: 20, height: 20) == 0)
        #expect(abs(Slant.of(mirrored[...], width: 20, height: 20) + 0.5) < 1e-12)
        #expect(Slant.meanMagnitude([0.5, 0, -0.5]) == 1.0 / 3)
        // Class 0 slants 0.1 and 0.3 (sd 0.1414), class 1 both 0.2 (sd 0).
        #expect(abs(Slant.withinClassDeviation([0.1, 0.3, 0.2, 0.2], labels: [0, 0, 1, 1]) - 0.02.squareRoot() / 2) < 1e-12)
    }

    static func configuration(klWeight: Float, epochs: Int = 12) -> TrainingConfiguration {
        var configuration = TrainingConfiguration.affine(
            name: "test", model: AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [32], contentSize: 4,
                                                          decoderHiddenSize: 16, classifierHiddenSize: 16, classes: 4, classifierWeight: 0.1),
            batchSize: 32, epochs: epochs, klWeight: klWeight, learningRate: 3e-3, seed: 3)
        configuration.validationShare = 0.1
        return configuration
    }

    static func trainer(klWeight: Float) throws -> Trainer {
        let data = SyntheticDigits.make(count: 400, seed: 12)
        return try Trainer(configuration: configuration(klWeight: klWeight), train: data, test: SyntheticDigits.make(count: 40, seed: 14))
    }

    @Test func trainingLearnsToReconstructAndToClassify() throws {
        BLAS.setThreadCount(1)
        let trainer = try Self.trainer(klWeight: 0.001)
        let validation = try #require(trainer.validation)
        #expect(trainer.train.count == 360 && validation.count == 40)
        let model = try #require(trainer.model as? AffineVAE)
        let before = model.evaluate(validation)
        var summaries: [EpochSummary] = []
        while !trainer.isFinished { summaries.append(try #require(try trainer.trainEpoch())) }
        let after = model.evaluate(validation)
        #expect(summaries.last!.reconstruction < summaries.first!.reconstruction)
        // The classifier is the model's own loss term, reported beside the ELBO's two.
        let crossEntropy = try #require(summaries.last!.extraTerms["classifier cross-entropy"])
        let firstCrossEntropy = try #require(summaries.first!.extraTerms["classifier cross-entropy"])
        #expect(crossEntropy < firstCrossEntropy)
        #expect(after.reconstructionMSE < 0.5 * before.reconstructionMSE, "MSE \(before.reconstructionMSE) -> \(after.reconstructionMSE)")
        #expect(after.accuracy > 0.9, "accuracy \(after.accuracy)")
        #expect(!after.isCollapsed)
        #expect(model.figures(on: validation).map(\.name) == ["reconstruction MSE", "accuracy"])
        // Rendering at three times the size and averaging down stays close to the 8x8 rendering.
        let report = try #require(NormalizationReport.measure(model, on: SyntheticDigits.make(count: 20, seed: 13), resolutionImages: 20))
        #expect(report.resolutionDifference < 0.05, "\(report.resolutionDifference)")
    }

    @Test func aKLWeightTakenLiterallyCollapsesTheLatents() throws {
        // The design's note: 5 x mean KL (not 5 / (16 B)) pushes every dimension to the prior.
        BLAS.setThreadCount(1)
        let collapsed = try Self.trainer(klWeight: 50)
        while !collapsed.isFinished { _ = try collapsed.trainEpoch() }
        let evaluation = try #require(collapsed.model as? AffineVAE).evaluate(try #require(collapsed.validation))
        #expect(evaluation.klPerDimension.reduce(0, +) < 0.1, "\(evaluation.klPerDimension)")
        #expect(evaluation.accuracy < 0.6)
    }

    @Test func theDesignsKLWeightIsFiveOverLatentElements() throws {
        let preset = Preset.named("affine")!.configuration
        let model = try #require(preset.model.architecture(as: AffineModelConfiguration.self))
        #expect(preset.batchSize == 1000 && preset.epochs == 50 && model.decoderHiddenSize == 512 && preset.validationShare == 0.02)
        #expect(preset.klWeightPerElement == 5 / Float(16 * 1000))
        #expect(abs(Preset.named("affine-small")!.configuration.klWeightPerElement - 0.0064) < 1e-9)
        // Design B's loss is the ELBO averaged over values and the batch, plus the classifier term.
        #expect(preset.reconstructionReduction == .mean && preset.batchReduction == .mean && model.classifierWeight == 1e-3)
        var negative = Self.configuration(klWeight: 1)
        negative.objective.beta = -1
        #expect(negative.problems.contains { $0.setting == .beta })
    }
}
