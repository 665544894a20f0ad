import Foundation
import NN

/// Design B's architecture. Encoder: pixels -> encoderHiddenSizes (ReLU) -> mean and softplus σ,
/// contentSize + 6 wide (content first, then the 6 transform parameters). Decoder: the
/// coordinate MLP (2 + contentSize -> H -> H -> 1, see `CoordinateDecoder`). Classifier on the
/// content: contentSize -> classifierHiddenSize (ReLU) -> classes.
public struct AffineModelConfiguration: Codable, Equatable, Sendable {
    public var imageWidth: Int
    public var imageHeight: Int
    public var encoderHiddenSizes: [Int]
    public var contentSize: Int
    public var decoderHiddenSize: Int
    public var classifierHiddenSize: Int
    public var classes: Int
    public var transformForm: AffineForm

    public init(imageWidth: Int = 28, imageHeight: Int = 28, encoderHiddenSizes: [Int] = [512, 512], contentSize: Int = 10,
                decoderHiddenSize: Int = 512, classifierHiddenSize: Int = 512, classes: Int = 10, transformForm: AffineForm = .column) {
        (self.imageWidth, self.imageHeight, self.encoderHiddenSizes, self.contentSize) = (imageWidth, imageHeight, encoderHiddenSizes, contentSize)
        (self.decoderHiddenSize, self.classifierHiddenSize, self.classes, self.transformForm) = (decoderHiddenSize, classifierHiddenSize, classes, transformForm)
    }

    public var latentSize: Int { contentSize + 6 }
    public var inputSize: Int { imageWidth * imageHeight }
    public var grid: PixelGrid { PixelGrid(width: imageWidth, height: imageHeight) }
    /// E.g. "784-512-512-16, decoder 12-128-128-1".
    public var architectureName: String {
        ([inputSize] + encoderHiddenSizes + [latentSize]).map(String.init).joined(separator: "-")
            + ", decoder \(2 + contentSize)-\(decoderHiddenSize)-\(decoderHiddenSize)-1"
    }
}

/// Everything that determines a design-B training run. Loss per batch:
/// classifierWeight · CE(labels) (batch mean) + MSE(image) (mean over pixels and batch)
/// + klWeight · (KL per latent element, mean over batch and dimensions).
public struct AffineTrainingConfiguration: Codable, Equatable, Sendable {
    public var preset: String
    public var dataset: String
    public var model: AffineModelConfiguration
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    /// The share of the training split held out for validation (the design: 2%).
    public var validationFraction: Double
    public var classifierWeight: Float
    /// The weight on the per-element mean KL; nil means the design's effective 5 / (16 · batch).
    public var klWeight: Float?

    public init(preset: String, dataset: String = "mnist", model: AffineModelConfiguration, learningRate: Float = 1e-3,
                batchSize: Int, epochs: Int, seed: UInt64 = 1, validationFraction: Double = 0.02,
                classifierWeight: Float = 1e-3, klWeight: Float? = nil) {
        (self.preset, self.dataset, self.model, self.learningRate, self.batchSize) = (preset, dataset, model, learningRate, batchSize)
        (self.epochs, self.seed, self.validationFraction, self.classifierWeight, self.klWeight) = (epochs, seed, validationFraction, classifierWeight, klWeight)
    }

    /// The KL weight in use: `klWeight`, or 5 / (latent size · batch) as the design's code
    /// effectively applies it (its per-element KL divided by 16 · B, then averaged again).
    public var effectiveKLWeight: Float { klWeight ?? 5 / Float(model.latentSize * batchSize) }

    public var problems: [String] {
        var found: [String] = []
        if batchSize <= 0 { found.append("--batch-size must be positive, got \(batchSize)") }
        if epochs <= 0 { found.append("--epochs must be positive, got \(epochs)") }
        if !(learningRate > 0 && learningRate.isFinite) { found.append("--learning-rate must be a positive number, got \(learningRate)") }
        if model.decoderHiddenSize <= 0 { found.append("--decoder-hidden-size must be positive, got \(model.decoderHiddenSize)") }
        if model.contentSize <= 0 { found.append("content size must be positive, got \(model.contentSize)") }
        if !(0..<0.5).contains(validationFraction) { found.append("the validation share must be in [0, 0.5), got \(validationFraction)") }
        if let klWeight, !(klWeight >= 0 && klWeight.isFinite) { found.append("--kl-weight must be a number >= 0, got \(klWeight)") }
        if !(classifierWeight >= 0 && classifierWeight.isFinite) { found.append("the classifier weight must be >= 0, got \(classifierWeight)") }
        return found
    }
}

/// The presets of design B.
public struct AffinePreset: Sendable {
    public let name: String
    public let summary: String
    public let configuration: AffineTrainingConfiguration

    public static let all: [AffinePreset] = [
        AffinePreset(name: "affine",
                     summary: "design B: 784-512-512-16 encoder, coordinate decoder with an affine transform (H = 512), classifier head, Adam 1e-3, batch 1000, 50 epochs, 2% validation",
                     configuration: AffineTrainingConfiguration(preset: "affine", model: AffineModelConfiguration(), batchSize: 1000, epochs: 50)),
        AffinePreset(name: "affine-small",
                     summary: "design B sized for a CPU: decoder H = 128, batch 128, per-element KL weight 0.0064, 5 epochs",
                     configuration: AffineTrainingConfiguration(preset: "affine-small", model: AffineModelConfiguration(decoderHiddenSize: 128),
                                                                batchSize: 128, epochs: 5, klWeight: 0.0064)),
    ]

    public static func named(_ name: String) -> AffinePreset? { all.first { $0.name == name } }
}
