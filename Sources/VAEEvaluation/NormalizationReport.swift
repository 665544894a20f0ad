import Datasets
import Foundation
import TensorCore
import VAE

/// What a model with a switchable transform (`AdjustableRendering`) does to grey images, on a
/// labelled set (usually the 10,000 test images), with z = μ: how much slant its normalised
/// rendering (transform off) removes, how well it reconstructs, and how well it renders at 3x.
public struct NormalizationReport: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// The mean slant of the input images (see `Slant`).
    public var inputSlant: Double
    /// The mean slant of the decoded images with the transform off (the de-skewed digits).
    public var normalizedSlant: Double
    /// The inputs' slant standard deviation within a class, averaged over classes.
    public var inputSlantWithinClassDeviation: Double
    /// The same for the de-skewed images (lower: the transform took the slant).
    public var normalizedSlantWithinClassDeviation: Double
    /// Mean squared error per pixel of the reconstruction, transform on.
    public var reconstructionMSE: Double
    /// The model's classifier accuracy (its figure "accuracy"), when it has one.
    public var accuracy: Double?
    /// KL per latent dimension, averaged over the images.
    public var klPerDimension: [Double]
    /// Mean |avg-pool₃(render at 3h x 3w) − render at h x w|, transform on, over `resolutionImages`.
    public var resolutionDifference: Double
    /// The images `resolutionDifference` was measured on.
    public var resolutionImages: Int

    /// Whether every latent dimension carries under 0.01 nats (posterior collapse).
    public var isCollapsed: Bool { klPerDimension.allSatisfy { $0 < 0.01 } }
}


extension NormalizationReport {
    /// The report of `model` on `dataset` (grey images of the model's size); the resolution
    /// check uses the first `resolutionImages` images. Nil when the model has no switchable
    /// transform.
    public static func measure(_ model: any VariationalModel, on dataset: ImageDataset, resolutionImages: Int = 1000) -> NormalizationReport? {
        guard let rendering = model.rendering, rendering.hasSwitchableTransform else { return nil }
        let (height, width) = rendering.trainingSize
        let codes = model.encode(images: dataset.pixels, batchSize: 500)
        let means = codes.means
        let reconstructed = rendering.render(latents: means, height: height, width: width, transformOn: true)
        let normalized = rendering.render(latents: means, height: height, width: width, transformOn: false)
        let inputSlants = Slant.ofEach(dataset.pixels, width: width, height: height)
        let normalizedSlants = Slant.ofEach(normalized, width: width, height: height)

        let checked = min(resolutionImages, dataset.count), latent = model.latentSize
        let someMeans = Array(means[0..<(checked * latent)])
        let fine = rendering.render(latents: someMeans, height: 3 * height, width: 3 * width, transformOn: true)
        var difference = 0.0
        let fineWidth = 3 * width, fineSize = 9 * width * height, size = width * height
        for image in 0..<checked {
            for y in 0..<height {
                for x in 0..<width {
                    var total: Float = 0
                    for dy in 0..<3 {
                        let start = image * fineSize + (3 * y + dy) * fineWidth + 3 * x
                        total += fine[start] + fine[start + 1] + fine[start + 2]
                    }
                    let coarse: Float = reconstructed[image * size + y * width + x]
                    difference += Double(abs(total / 9 - coarse))
                }
            }
        }
        var squares = 0.0
        for (a, b) in zip(reconstructed, dataset.pixels) { squares += Double(a - b) * Double(a - b) }
        return NormalizationReport(
            images: dataset.count, inputSlant: Slant.meanMagnitude(inputSlants), normalizedSlant: Slant.meanMagnitude(normalizedSlants),
            inputSlantWithinClassDeviation: Slant.withinClassDeviation(inputSlants, labels: dataset.labels),
            normalizedSlantWithinClassDeviation: Slant.withinClassDeviation(normalizedSlants, labels: dataset.labels),
            reconstructionMSE: squares / Double(max(reconstructed.count, 1)),
            accuracy: model.figures(on: dataset).first { $0.name == "accuracy" }?.value,
            klPerDimension: codes.klPerDimension,
            resolutionDifference: difference / Double(max(checked * width * height, 1)), resolutionImages: checked)
    }
}
