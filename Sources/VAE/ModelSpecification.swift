import Datasets
import Foundation
import NN
import TensorCore

/// Which kind of VAE a run trains and its architecture: enough to rebuild the model before its
/// weights are loaded. Saved in config.json and in every model file, as
/// `{"kind": "mlp" | "affine" | "conv", "configuration": {...}}`.
public enum ModelSpecification: Codable, Equatable, Sendable {
    /// An MLP VAE (designs A, C, D, E, the PyTorch example, the IWAE paper's model).
    case mlp(ModelConfiguration)
    /// Design B: the coordinate decoder with a learned affine transform and a classifier head.
    case affine(AffineModelConfiguration)
    /// A convolutional VAE (the Keras example's and the toolkit's conv presets).
    case convolutional(ConvolutionalModelConfiguration)

    /// The kinds by name, for messages.
    public static let kinds = ["mlp", "affine", "conv"]

    /// "mlp", "affine" or "conv".
    public var kind: String {
        switch self {
        case .mlp: "mlp"
        case .affine: "affine"
        case .convolutional: "conv"
        }
    }

    /// A new model with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` when the architecture is invalid (see `problems`).
    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        switch self {
        case let .mlp(configuration): try VariationalAutoencoder(configuration, using: &generator)
        case let .affine(configuration): try AffineVAE(configuration, using: &generator)
        case let .convolutional(configuration): try ConvolutionalVAE(configuration, using: &generator)
        }
    }

    /// The dimension of z.
    public var latentSize: Int {
        switch self {
        case let .mlp(configuration): configuration.latentSize
        case let .affine(configuration): configuration.latentSize
        case let .convolutional(configuration): configuration.latentSize
        }
    }

    /// The images' shape.
    public var imageShape: ImageShape {
        switch self {
        case let .mlp(configuration): configuration.imageShape
        case let .affine(configuration): configuration.imageShape
        case let .convolutional(configuration): configuration.imageShape
        }
    }

    /// K when the model is conditioned on a K-class label, nil otherwise.
    public var conditionClasses: Int? {
        switch self {
        case let .mlp(configuration): configuration.conditionClasses
        case .affine: nil
        case let .convolutional(configuration): configuration.conditionClasses
        }
    }

    /// The same architecture conditioned on `classes` labels (nil: unconditional). Design B has
    /// no conditional form: asking for one is a user error.
    public func conditioned(on classes: Int?) throws(ConditionError) -> ModelSpecification {
        switch self {
        case var .mlp(configuration):
            configuration.conditionClasses = classes
            return .mlp(configuration)
        case var .convolutional(configuration):
            configuration.conditionClasses = classes
            return .convolutional(configuration)
        case .affine:
            if classes == nil { return self }
            throw ConditionError(message: "design B (the affine model) has no conditional form; --conditional works with the MLP and convolutional models")
        }
    }

    /// The likelihood the decoder gives.
    public var likelihood: Likelihood {
        switch self {
        case let .mlp(configuration): configuration.likelihood
        case .affine: .gaussian
        case let .convolutional(configuration): configuration.likelihood
        }
    }

    /// E.g. "784-400-20" or "784-512-512-16, decoder 12-128-128-1".
    public var architectureName: String {
        switch self {
        case let .mlp(configuration): configuration.architectureName
        case let .affine(configuration): configuration.architectureName
        case let .convolutional(configuration): configuration.architectureName
        }
    }

    /// The same architecture for images of another shape (MLP presets take any C x H x W;
    /// design B any grey H x W).
    public func fitted(to shape: ImageShape) -> ModelSpecification {
        switch self {
        case var .mlp(configuration):
            configuration.imageShape = shape
            return .mlp(configuration)
        case var .affine(configuration):
            (configuration.imageHeight, configuration.imageWidth) = (shape.height, shape.width)
            return .affine(configuration)
        case var .convolutional(configuration):
            configuration.imageShape = shape
            configuration.outputConvolution.channels = shape.channels
            return .convolutional(configuration)
        }
    }

    /// Problems with the architecture, one message each (empty when valid).
    public var problems: [String] {
        switch self {
        case let .mlp(model):
            var found: [String] = []
            if !model.imageShape.isValid { found.append("the image shape must be 1 or 3 channels of 1...4096 pixels each way, got \(model.imageShape)") }
            if model.hiddenSizes.isEmpty { found.append("the hidden sizes need at least one size") }
            if model.hiddenSizes.contains(where: { $0 <= 0 }) { found.append("the hidden sizes must all be positive, got \(model.hiddenSizes)") }
            if model.latentSize <= 0 { found.append("the latent size must be positive, got \(model.latentSize)") }
            if let problem = Self.conditionProblem(model.conditionClasses) { found.append(problem) }
            if let problem = Self.initializerProblem(model.initializer) { found.append(problem) }
            return found.isEmpty ? memoryProblems : found
        case let .affine(model):
            var found: [String] = []
            if model.decoderHiddenSize <= 0 { found.append("the decoder hidden size must be positive, got \(model.decoderHiddenSize)") }
            if model.contentSize <= 0 { found.append("the content size must be positive, got \(model.contentSize)") }
            if model.encoderHiddenSizes.isEmpty || model.encoderHiddenSizes.contains(where: { $0 <= 0 }) {
                found.append("the encoder hidden sizes must be one or more positive sizes, got \(model.encoderHiddenSizes)")
            }
            if model.classifierHiddenSize <= 0 { found.append("the classifier hidden size must be positive, got \(model.classifierHiddenSize)") }
            if !(2...256).contains(model.classes) { found.append("the class count must be 2...256, got \(model.classes)") }
            if !ImageShape.grey(height: model.imageHeight, width: model.imageWidth).isValid {
                found.append("the image size must be 1...4096 pixels each way, got \(model.imageHeight)x\(model.imageWidth)")
            }
            if !(model.classifierWeight >= 0 && model.classifierWeight.isFinite) { found.append("the classifier weight must be a number >= 0, got \(model.classifierWeight)") }
            return found.isEmpty ? memoryProblems : found
        case let .convolutional(model):
            let found = model.problems + [Self.conditionProblem(model.conditionClasses), Self.initializerProblem(model.initializer)].compactMap { $0 }
            return found.isEmpty ? memoryProblems : found
        }
    }

    /// Throws the architecture's problems (see `problems`), joined, when it has any.
    public func validate() throws(ConfigurationProblem) {
        let found = problems
        if !found.isEmpty { throw ConfigurationProblem(message: found.joined(separator: "; ")) }
    }

    static func initializerProblem(_ name: String) -> String? {
        guard Initializer(rawValue: name) == nil else { return nil }
        return "the initializer must be one of \(Initializer.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'"
    }

    static func conditionProblem(_ classes: Int?) -> String? {
        guard let classes, !(2...1000).contains(classes) else { return nil }
        return "the condition's class count must be 2...1000, got \(classes)"
    }

    /// About how many parameters the model has (counted in floating point, so that an absurd
    /// size cannot overflow): the weights and biases of its layers.
    public var approximateParameterCount: Double {
        func chain(_ sizes: [Int]) -> Double {
            zip(sizes, sizes.dropFirst()).reduce(0) { $0 + Double($1.0) * Double($1.1) + Double($1.1) }
        }
        switch self {
        case let .mlp(model):
            let hidden = model.hiddenSizes, input = model.imageShape.count, classes = model.conditionClasses ?? 0
            return chain([input + classes] + hidden) + 2 * chain([hidden.last ?? 1, model.latentSize])
                + chain([model.latentSize + classes] + hidden.reversed() + [input])
        case let .affine(model):
            let hidden = model.encoderHiddenSizes, h = model.decoderHiddenSize
            return chain([model.inputSize] + hidden) + 2 * chain([hidden.last ?? 1, model.latentSize])
                + chain([model.contentSize + 2, h, h, 1]) + chain([model.latentSize, model.classifierHiddenSize, model.classes])
        case let .convolutional(model):
            return model.approximateParameterCount
        }
    }

    /// Bytes per parameter while training: the value, its gradient, two optimizer moments, and
    /// the checkpoint being written.
    public static let trainingBytesPerParameter = 24.0

    /// A model too large for this machine's memory (half of it), with how much it would need.
    var memoryProblems: [String] {
        let parameters = approximateParameterCount
        let needed = parameters * Self.trainingBytesPerParameter
        let available = Double(ProcessInfo.processInfo.physicalMemory) / 2
        guard needed > available else { return [] }
        return [String(format: "the model would have about %.3g parameters and need about %.1f GB of memory to train (weights, gradients, optimizer state, checkpoint); this machine allows %.1f GB (half its memory). Choose smaller sizes.",
                       parameters, needed / 1e9, available / 1e9)]
    }

    enum CodingKeys: String, CodingKey { case kind, configuration }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case let .mlp(configuration): try container.encode(configuration, forKey: .configuration)
        case let .affine(configuration): try container.encode(configuration, forKey: .configuration)
        case let .convolutional(configuration): try container.encode(configuration, forKey: .configuration)
        }
    }

    /// Reads `{"kind", "configuration"}`, or a bare MLP configuration (files written before
    /// there were model kinds).
    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.kind) else {
            self = .mlp(try ModelConfiguration(from: decoder))
            return
        }
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "mlp": self = .mlp(try container.decode(ModelConfiguration.self, forKey: .configuration))
        case "affine": self = .affine(try container.decode(AffineModelConfiguration.self, forKey: .configuration))
        case "conv": self = .convolutional(try container.decode(ConvolutionalModelConfiguration.self, forKey: .configuration))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container,
                                                   debugDescription: "unknown model kind '\(kind)'; kinds: \(Self.kinds.joined(separator: ", "))")
        }
    }
}

/// A model asked for a condition it cannot take, or a label it does not fit.
public struct ConditionError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
