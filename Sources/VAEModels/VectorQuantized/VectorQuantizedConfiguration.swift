import Datasets
import Foundation
import NN
import TensorCore
import VAE

/// The architecture of a VQ-VAE (van den Oord et al. 2017, "Neural Discrete Representation
/// Learning"), the kind "vq".
///
/// Encoder: image C x H x W -> convolutions (activation after each) -> a 1x1 convolution to
/// `codeDimension` channels: z_e, a grid h x w of D-vectors. Each vector is replaced by its
/// nearest of `codebookSize` codes (`VectorQuantizer`, straight-through gradient). Decoder: the
/// grid of codes -> transposed convolutions (activation after each) -> a transposed convolution
/// to the likelihood's parameter channels; the decoder's layers must start from the code grid
/// (each transposed layer's output padding is derived from the image size, as for the conv
/// kind). The loss is the paper's equation 3: −log p(x | z_q) + β ‖z_e − sg[e]‖² (+ the codebook
/// loss ‖sg[z_e] − e‖² when the codebook learns by its loss), summed over the grid.
public struct VectorQuantizedConfiguration: ModelArchitecture {
    /// The images' shape.
    public var imageShape: ImageShape
    /// The encoder's convolutions before the 1x1 projection to the code dimension.
    public var encoderConvolutions: [ConvolutionLayer]
    /// D, the values per code.
    public var codeDimension: Int
    /// K, the codes in the codebook.
    public var codebookSize: Int
    /// β, the commitment loss's weight.
    public var commitment: Float
    /// How the codebook learns.
    public var codebookUpdate: CodebookUpdate
    /// The moving averages' decay γ (the codebook under `.movingAverage`; the usage always).
    public var decay: Float
    /// A code used by fewer encoder outputs per batch than this (moving average) is restarted; 0 never.
    public var deadCodeThreshold: Float
    /// The decoder's transposed convolutions before the output one, first to last.
    public var decoderConvolutions: [ConvolutionLayer]
    /// The last transposed convolution; its `channels` are the image's.
    public var outputConvolution: ConvolutionLayer
    /// The activation after every convolution but the projection and the output.
    public var activation: Activation
    /// p(x | z).
    public var likelihood: Likelihood
    /// "pytorch" or "glorot" (see `Initializer`).
    public var initializer: String

    /// A VQ-VAE's architecture; see the properties.
    public init(imageShape: ImageShape = .mnist, encoderConvolutions: [ConvolutionLayer], codeDimension: Int, codebookSize: Int,
                commitment: Float = 0.25, codebookUpdate: CodebookUpdate = .movingAverage, decay: Float = 0.99, deadCodeThreshold: Float = 1,
                decoderConvolutions: [ConvolutionLayer], outputKernel: Int = 3, outputStride: Int = 1, outputPadding: Int = 1,
                activation: Activation = .relu, likelihood: Likelihood = .gaussian, initializer: Initializer = .pytorchDefault) {
        self.imageShape = imageShape
        self.encoderConvolutions = encoderConvolutions
        (self.codeDimension, self.codebookSize, self.commitment, self.codebookUpdate) = (codeDimension, codebookSize, commitment, codebookUpdate)
        (self.decay, self.deadCodeThreshold) = (decay, deadCodeThreshold)
        self.decoderConvolutions = decoderConvolutions
        self.outputConvolution = ConvolutionLayer(channels: imageShape.channels, kernel: outputKernel, stride: outputStride, padding: outputPadding)
        self.activation = activation
        self.likelihood = likelihood
        self.initializer = initializer.rawValue
    }

    public static let kind = "vq"
    public static let kindDescription = "VQ-VAE"
    public static var presets: [Preset] { VectorQuantizedPresets.all }

    /// The grid of codes h x w (channels: the code dimension), or nil when the encoder does not fit.
    public var codeGrid: ImageShape? {
        guard case let .success(grids) = ConvolutionLayer.grids(encoderConvolutions, from: imageShape), let last = grids.last else { return nil }
        return ImageShape(channels: codeDimension, height: last.height, width: last.width)
    }

    /// The code positions per image, h · w.
    public var positions: Int { codeGrid.map { $0.height * $0.width } ?? 0 }

    /// The latent's values per image: h · w · D (the grid of chosen code vectors).
    public var latentSize: Int { positions * codeDimension }

    /// The decoder's transposed layers with their input grids and output paddings.
    public var decoderStages: Result<[DecoderStage], ConfigurationProblem> {
        DecoderStage.stages(decoderConvolutions, output: outputConvolution, height: imageShape.height, width: imageShape.width)
    }

    /// The output transposed convolution's channels: the likelihood's parameter channels.
    public var outputChannels: Int { likelihood.parameterChannels(imageChannels: imageShape.channels) }

    /// E.g. "encoder 32:4:2:1,64:4:2:1 -> 7x7 codes of 16 from 128; decoder 64:4:2:1,32:4:2:1, out 1:3:1:1".
    public var architectureName: String {
        func list(_ layers: [ConvolutionLayer]) -> String { layers.map(\.description).joined(separator: ",") }
        let grid = codeGrid.map { "\($0.height)x\($0.width)" } ?? "?"
        return "encoder \(list(encoderConvolutions)) -> \(grid) codes of \(codeDimension) from \(codebookSize); decoder \(list(decoderConvolutions)), out \(outputConvolution)"
    }

    /// "VQ-VAE on 1x28x28 images: ...; relu, codebook by moving averages (decay 0.99), commitment 0.25, gaussian likelihood".
    public var summary: String {
        let codebook = codebookUpdate == .movingAverage ? "codebook by moving averages (decay \(decay))" : "codebook by its loss"
        return "VQ-VAE on \(imageShape) images: \(architectureName); \(activation.rawValue), \(codebook), commitment \(commitment), dead codes restarted under \(deadCodeThreshold) uses per batch, \(likelihood) likelihood"
    }

    public func fitted(to shape: ImageShape) -> VectorQuantizedConfiguration {
        var configuration = self
        configuration.imageShape = shape
        configuration.outputConvolution.channels = shape.channels
        return configuration
    }

    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> VectorQuantizedConfiguration {
        var configuration = self
        configuration.likelihood = likelihood
        return configuration
    }

    public var imageShapeDependentSettings: Set<Setting> { [.encoderConvolutions, .decoderConvolutions, .outputConvolution] }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try VectorQuantizedVAE(self, using: &generator)
    }

    /// Problems with the architecture, one each (empty when valid).
    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if !imageShape.isValid { found.append(ConfigurationProblem(.imageShape, "must be 1 or 3 channels of 1...4096 pixels each way, got \(imageShape)")) }
        if !(1...4096).contains(codeDimension) { found.append(ConfigurationProblem(.codeDimension, "must be 1...4096, got \(codeDimension)")) }
        if !(1...65536).contains(codebookSize) { found.append(ConfigurationProblem(.codebookSize, "must be 1...65536 codes, got \(codebookSize)")) }
        if !(commitment >= 0 && commitment <= 1000) { found.append(ConfigurationProblem(.commitment, "must be a number in [0, 1000], got \(commitment)")) }
        if !(decay >= 0 && decay < 1) { found.append(ConfigurationProblem(.codebookDecay, "must be in [0, 1), got \(decay)")) }
        if !(deadCodeThreshold >= 0 && deadCodeThreshold <= 1e6) {
            found.append(ConfigurationProblem(.deadCodeThreshold, "must be a number of uses per batch in [0, 1e6], got \(deadCodeThreshold)"))
        }
        found += ConvolutionLayer.problems(encoder: encoderConvolutions, decoder: decoderConvolutions, output: outputConvolution)
        if encoderConvolutions.isEmpty { found.append(ConfigurationProblem(.encoderConvolutions, "need at least one convolution")) }
        if outputConvolution.channels != imageShape.channels {
            found.append(ConfigurationProblem(.outputConvolution, "must give the image's \(imageShape.channels) channels, not \(outputConvolution.channels)"))
        }
        if let problem = StandardChecks.initializerProblem(initializer) { found.append(problem) }
        guard found.isEmpty else { return found }
        if case let .failure(problem) = ConvolutionLayer.grids(encoderConvolutions, from: imageShape) { found.append(problem) }
        if case let .failure(problem) = decoderStages { found.append(problem) }
        guard found.isEmpty, let grid = codeGrid, case let .success(stages) = decoderStages else { return found }
        if stages[0].inputHeight != grid.height || stages[0].inputWidth != grid.width {
            found.append(ConfigurationProblem(.decoderConvolutions, "must start from the encoder's \(grid.height)x\(grid.width) grid of codes, but they start from \(stages[0].inputHeight)x\(stages[0].inputWidth) to reach \(imageShape.height)x\(imageShape.width) pixels"))
        }
        return found
    }

    /// About how many weights, biases and codebook values the model has.
    public var approximateParameterCount: Double {
        var output = outputConvolution
        output.channels = outputChannels
        let last = encoderConvolutions.last?.channels ?? imageShape.channels
        return ConvolutionLayer.parameterCount(encoderConvolutions, from: imageShape.channels) + Double(last + 1) * Double(codeDimension)
            + Double(codebookSize) * Double(codeDimension) + ConvolutionLayer.parameterCount(decoderConvolutions + [output], from: codeDimension)
    }

}

extension Setting {
    /// A VQ-VAE's code dimension D.
    public static let codeDimension = Setting("the code dimension")
    /// A VQ-VAE's codebook size K.
    public static let codebookSize = Setting("the codebook size")
    /// A VQ-VAE's commitment weight β.
    public static let commitment = Setting("the commitment weight")
    /// A VQ-VAE's moving averages' decay.
    public static let codebookDecay = Setting("the codebook decay")
    /// A VQ-VAE's dead-code threshold.
    public static let deadCodeThreshold = Setting("the dead-code threshold")
}
