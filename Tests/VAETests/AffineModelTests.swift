import Datasets
import Foundation
import TensorCore
import Testing
import VAE

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

    static func configuration(klWeight: Float? = nil, epochs: Int = 12) -> AffineTrainingConfiguration {
        AffineTrainingConfiguration(
            preset: "test", model: AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [32], contentSize: 4,
                                                            decoderHiddenSize: 16, classifierHiddenSize: 16, classes: 4),
            learningRate: 3e-3, batchSize: 32, epochs: epochs, seed: 3, validationFraction: 0.1, classifierWeight: 0.1, klWeight: klWeight)
    }

    @Test func trainingLearnsToReconstructAndToClassify() throws {
        BLAS.setThreadCount(1)
        let data = SyntheticDigits.make(count: 400, seed: 12)
        let trainer = AffineTrainer(configuration: Self.configuration(klWeight: 0.001), train: data)
        #expect(trainer.train.count == 360 && trainer.validation.count == 40)
        let before = trainer.model.evaluate(trainer.validation)
        var summaries: [AffineEpochSummary] = []
        while !trainer.isFinished { summaries.append(try #require(try trainer.trainEpoch())) }
        let after = trainer.model.evaluate(trainer.validation)
        #expect(summaries.last!.loss < summaries.first!.loss)
        #expect(after.reconstructionMSE < 0.5 * before.reconstructionMSE, "MSE \(before.reconstructionMSE) -> \(after.reconstructionMSE)")
        #expect(after.accuracy > 0.9, "accuracy \(after.accuracy)")
        #expect(!after.isCollapsed)
        // Rendering at three times the size and averaging down stays close to the 8x8 rendering.
        let report = trainer.model.normalizationReport(SyntheticDigits.make(count: 20, seed: 13), resolutionImages: 20)
        #expect(report.resolutionDifference < 0.05, "\(report.resolutionDifference)")
    }

    @Test func aKLWeightTakenLiterallyCollapsesTheLatents() throws {
        // The design's note: 5 x mean KL (not 5 / (16 B)) pushes every dimension to the prior.
        BLAS.setThreadCount(1)
        let data = SyntheticDigits.make(count: 400, seed: 12)
        let collapsed = AffineTrainer(configuration: Self.configuration(klWeight: 50), train: data)
        while !collapsed.isFinished { _ = try collapsed.trainEpoch() }
        let evaluation = collapsed.model.evaluate(collapsed.validation)
        #expect(evaluation.klPerDimension.reduce(0, +) < 0.1, "\(evaluation.klPerDimension)")
        #expect(evaluation.accuracy < 0.6)
    }

    @Test func theDesignsKLWeightIsFiveOverLatentElements() {
        let preset = AffinePreset.named("affine")!.configuration
        #expect(preset.batchSize == 1000 && preset.epochs == 50 && preset.model.decoderHiddenSize == 512 && preset.validationFraction == 0.02)
        #expect(preset.effectiveKLWeight == 5 / Float(16 * 1000))
        #expect(AffinePreset.named("affine-small")!.configuration.effectiveKLWeight == 0.0064)
        #expect(Self.configuration(klWeight: -1).problems.contains { $0.contains("--kl-weight") })
    }
}
