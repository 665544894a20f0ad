import Datasets
import Foundation
import Synchronization
import TensorCore

/// The Codable architecture of one kind of model: enough to build the model before its weights
/// are loaded, and what the rest of the toolkit asks about it. A kind is its architecture type:
/// it registers once (`ModelKinds.register`), with its name in files, its presets and what it can
/// do, and the trainer, run folders, evaluation and pictures then serve it unchanged.
public protocol ModelArchitecture: Codable, Equatable, Sendable {
    /// The kind's name in files (`"kind"` in `config.json` and in model files), e.g. "mlp".
    static var kind: String { get }
    /// The kind in a few words, for messages ("MLP VAE").
    static var kindDescription: String { get }
    /// The kind's named starting points for `vae train --preset` (default none).
    static var presets: [Preset] { get }
    /// Whether the kind has a conditional form (`conditioned(on:)` with a class count).
    static var canBeConditioned: Bool { get }

    /// The images' shape.
    var imageShape: ImageShape { get }
    /// The top latent group's dimension.
    var latentSize: Int { get }
    /// The decoder's likelihood.
    var likelihood: Likelihood { get }
    /// K when the model is conditioned on a K-class label, nil otherwise.
    var conditionClasses: Int? { get }
    /// The layer sizes in a line, e.g. "784-400-20".
    var architectureName: String { get }
    /// The architecture in a sentence for the console, e.g. "MLP 784-400-20 on 1x28x28 images,
    /// relu, log-variance head, bernoulli likelihood".
    var summary: String { get }
    /// Problems with the architecture, one each (empty when valid).
    var problems: [ConfigurationProblem] { get }
    /// About how many parameters the model has (in floating point, so that absurd sizes cannot
    /// overflow).
    var approximateParameterCount: Double { get }
    /// The settings whose problems depend on the image shape, checked only once the model is
    /// fitted to its data (default none: every problem is checked as soon as the settings are
    /// read).
    var imageShapeDependentSettings: Set<Setting> { get }

    /// The same architecture for images of another shape (default: unchanged, so the run is
    /// refused when the shapes differ).
    func fitted(to shape: ImageShape) -> Self
    /// The same architecture conditioned on `classes` labels (nil: unconditional); throws when
    /// the kind has no conditional form (default: only nil is accepted).
    func conditioned(on classes: Int?) throws(ConfigurationProblem) -> Self
    /// The same architecture with another likelihood; throws when the kind's decoder cannot give
    /// it (default: only the current one is accepted).
    func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> Self
    /// A new model with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` when the architecture is invalid.
    func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel
}

extension ModelArchitecture {
    public static var presets: [Preset] { [] }
    public static var canBeConditioned: Bool { false }
    public var conditionClasses: Int? { nil }
    public var imageShapeDependentSettings: Set<Setting> { [] }
    public var summary: String { "\(Self.kindDescription) \(architectureName) on \(imageShape) images, \(likelihood) likelihood" }
    public func fitted(to shape: ImageShape) -> Self { self }

    public func conditioned(on classes: Int?) throws(ConfigurationProblem) -> Self {
        guard classes == nil else { throw ConfigurationProblem(.condition, "cannot be given: the \(Self.kindDescription) (\(Self.kind)) has no conditional form") }
        return self
    }

    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> Self {
        guard likelihood == self.likelihood else {
            throw ConfigurationProblem(.likelihood, "cannot be \(likelihood) for the \(Self.kindDescription) (\(Self.kind)), whose decoder gives \(self.likelihood)")
        }
        return self
    }

    /// The architecture as JSON, keys sorted.
    var sortedJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Whether `other` is the same kind with the same architecture.
    func isEqual(to other: any ModelArchitecture) -> Bool { (other as? Self) == self }
}

/// An architecture whose condition and likelihood are stored settings: it has a conditional form,
/// and its decoder gives any likelihood (its output layer is sized by `LikelihoodHead`).
public protocol ConfigurableArchitecture: ModelArchitecture {
    /// K when the model is conditioned on a K-class label, nil otherwise.
    var conditionClasses: Int? { get set }
    /// The decoder's likelihood.
    var likelihood: Likelihood { get set }
}

extension ConfigurableArchitecture {
    /// True: `conditionClasses` is a setting.
    public static var canBeConditioned: Bool { true }

    /// The same architecture with `conditionClasses` set.
    public func conditioned(on classes: Int?) throws(ConfigurationProblem) -> Self {
        var architecture = self
        architecture.conditionClasses = classes
        return architecture
    }

    /// The same architecture with `likelihood` set.
    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> Self {
        var architecture = self
        architecture.likelihood = likelihood
        return architecture
    }
}

/// Which kind of VAE a run trains and its architecture: enough to rebuild the model before its
/// weights are loaded. Saved in config.json and in every model file as
/// `{"kind": NAME, "configuration": {...}}`; reading it needs the kind to be registered.
public struct ModelSpecification: Codable, Equatable, Sendable {
    /// The architecture, of the kind's own type.
    public let architecture: any ModelArchitecture

    /// The specification of `architecture`.
    public init(_ architecture: some ModelArchitecture) { self.architecture = architecture }

    init(existential architecture: any ModelArchitecture) { self.architecture = architecture }

    /// The kind's name in files.
    public var kind: String { type(of: architecture).kind }
    /// The kind in a few words.
    public var kindDescription: String { type(of: architecture).kindDescription }
    /// The architecture alone as JSON (keys sorted).
    public var architectureJSON: String { architecture.sortedJSON }

    /// The architecture as `A`, when it is of that kind.
    public func architecture<A: ModelArchitecture>(as type: A.Type) -> A? { architecture as? A }

    /// The images' shape.
    public var imageShape: ImageShape { architecture.imageShape }
    /// The top latent group's dimension.
    public var latentSize: Int { architecture.latentSize }
    /// The likelihood the decoder gives.
    public var likelihood: Likelihood { architecture.likelihood }
    /// K when the model is conditioned on a K-class label, nil otherwise.
    public var conditionClasses: Int? { architecture.conditionClasses }
    /// The layer sizes in a line.
    public var architectureName: String { architecture.architectureName }
    /// The architecture in a sentence.
    public var summary: String { architecture.summary }
    /// About how many parameters the model has.
    public var approximateParameterCount: Double { architecture.approximateParameterCount }
    /// Problems with the architecture and its likelihood, one each (empty when valid).
    public var problems: [ConfigurationProblem] { architecture.likelihood.problems + architecture.problems }
    /// The problems that do not depend on the image shape (those that do are checked once the
    /// model is fitted to its data's shape).
    public var problemsForAnyImageShape: [ConfigurationProblem] {
        let dependent = architecture.imageShapeDependentSettings
        return problems.filter { !dependent.contains($0.setting) }
    }

    /// The same architecture for images of another shape.
    public func fitted(to shape: ImageShape) -> ModelSpecification { ModelSpecification(existential: architecture.fitted(to: shape)) }
    /// The same architecture conditioned on `classes` labels (nil: unconditional).
    public func conditioned(on classes: Int?) throws(ConfigurationProblem) -> ModelSpecification {
        ModelSpecification(existential: try architecture.conditioned(on: classes))
    }
    /// The same architecture with another likelihood.
    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> ModelSpecification {
        ModelSpecification(existential: try architecture.withLikelihood(likelihood))
    }

    /// Throws the architecture's first problem, when it has any.
    public func validate() throws(ConfigurationProblem) {
        if let problem = problems.first { throw problem }
    }

    /// A new model with weights drawn from `generator`, after checking the architecture and that
    /// training it fits in half this machine's memory (so an absurd size read from a file is
    /// refused before anything is allocated).
    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try validate()
        if let problem = memoryProblem(availableBytes: Self.availableBytes) { throw problem }
        return try architecture.makeModel(using: &generator)
    }

    /// Half this machine's memory: what a model may need to train.
    public static var availableBytes: Double { MemoryShare.availableBytes }

    /// Bytes per parameter while training: the value, its gradient, two optimizer moments, and
    /// the checkpoint being written.
    public static let trainingBytesPerParameter = 24.0

    /// The model is too large to train in `availableBytes` of memory (a problem naming what it
    /// would need), or nil.
    public func memoryProblem(availableBytes: Double) -> ConfigurationProblem? {
        let parameters = approximateParameterCount
        let needed = parameters * Self.trainingBytesPerParameter
        guard needed > availableBytes else { return nil }
        return ConfigurationProblem(.modelSize, String(format: "is about %.3g parameters, which need about %.1f GB of memory to train (weights, gradients, optimizer state, checkpoint); %.1f GB are allowed (half this machine's memory). Choose smaller sizes.",
                                                       parameters, needed / 1e9, availableBytes / 1e9))
    }

    public static func == (a: ModelSpecification, b: ModelSpecification) -> Bool { a.architecture.isEqual(to: b.architecture) }

    enum CodingKeys: String, CodingKey { case kind, configuration }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try architecture.encode(to: container.superEncoder(forKey: .configuration))
    }

    /// Reads `{"kind", "configuration"}`, or a bare configuration of the kind "mlp" (files written
    /// before there were model kinds). The kind must be registered.
    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "mlp"
        guard let type = ModelKinds.named(kind) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: ModelKinds.unregisteredMessage(kind))
        }
        architecture = try container.contains(.kind) ? type.init(from: container.superDecoder(forKey: .configuration)) : type.init(from: decoder)
    }
}

/// The registry of model kinds: each kind's architecture type by its name in files. A program
/// registers the kinds it reads before it reads files of them; the toolkit's own kinds
/// (`StandardModelKinds` in VAEModels) register themselves wherever the toolkit reads files or
/// presets.
public enum ModelKinds {
    private static let registry = Mutex<[String: any ModelArchitecture.Type]>([:])
    private static let order = Mutex<[String]>([])

    /// Registers `kind` under `kind.kind`. Registering the same type again does nothing; another
    /// type under a registered name is a programmer error.
    public static func register(_ kind: any ModelArchitecture.Type) {
        registry.withLock { kinds in
            if let existing = kinds[kind.kind] {
                precondition(existing == kind, "the model kind '\(kind.kind)' is registered already, by \(existing)")
                return
            }
            kinds[kind.kind] = kind
            order.withLock { $0.append(kind.kind) }
        }
    }

    /// The kind registered as `name`, or nil.
    public static func named(_ name: String) -> (any ModelArchitecture.Type)? { registry.withLock { $0[name] } }

    /// Every registered kind, in registration order.
    public static var all: [any ModelArchitecture.Type] {
        let names = order.withLock { $0 }
        return registry.withLock { kinds in names.compactMap { kinds[$0] } }
    }

    /// The registered kinds' names, in registration order.
    public static var names: [String] { order.withLock { $0 } }

    /// What reading a file of an unregistered kind says.
    public static func unregisteredMessage(_ kind: String) -> String {
        let registered = names.isEmpty ? "none yet; the toolkit's own kinds register with StandardModelKinds.register()" : names.joined(separator: ", ")
        return "the model kind '\(kind)' is not registered in this program (registered: \(registered)); it was written by a program that defines that kind: read it there, or register the kind (ModelKinds.register) before reading its files"
    }
}
