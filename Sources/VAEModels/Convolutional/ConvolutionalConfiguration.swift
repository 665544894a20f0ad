import Datasets
import Foundation
import NN
import TensorCore
import VAE

/// One convolution layer of a convolutional VAE: output channels, a square kernel, stride and
/// padding. Written `channels:kernel:stride:padding` on the command line, e.g. `32:3:2:1`.
public struct ConvolutionLayer: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Output channels.
    public var channels: Int
    /// The square kernel's side.
    public var kernel: Int
    /// The stride along both axes.
    public var stride: Int
    /// Zeros on each side.
    public var padding: Int

    /// A layer of `channels` outputs with a `kernel` x `kernel` filter.
    public init(channels: Int, kernel: Int, stride: Int, padding: Int) {
        (self.channels, self.kernel, self.stride, self.padding) = (channels, kernel, stride, padding)
    }

    /// `channels:kernel:stride:padding`, as the command line writes it.
    public var description: String { "\(channels):\(kernel):\(stride):\(padding)" }

    /// Parses `channels:kernel:stride:padding` (stride and padding may be left out: 1 and 0).
    public init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (2...4).contains(parts.count), parts.allSatisfy({ $0 != nil }) else { return nil }
        self.init(channels: parts[0]!, kernel: parts[1]!, stride: parts.count > 2 ? parts[2]! : 1, padding: parts.count > 3 ? parts[3]! : 0)
    }

    /// Parses a comma-separated list of layers; nil when any is malformed.
    public static func list(_ text: String) -> [ConvolutionLayer]? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        let layers = text.split(separator: ",", omittingEmptySubsequences: false).map { ConvolutionLayer($0) }
        return layers.allSatisfy { $0 != nil } ? layers.map { $0! } : nil
    }
}

extension ConvolutionLayer {
    /// The weights and biases of `layers` applied one after another from `channels` channels.
    public static func parameterCount(_ layers: [ConvolutionLayer], from channels: Int) -> Double {
        var total = 0.0, previous = channels
        for layer in layers {
            total += Double(previous) * Double(layer.channels) * Double(layer.kernel) * Double(layer.kernel) + Double(layer.channels)
            previous = layer.channels
        }
        return total
    }

    /// The problems of a conv encoder's and decoder's layers taken one at a time (sizes out of range).
    public static func problems(encoder: [ConvolutionLayer], decoder: [ConvolutionLayer], output: ConvolutionLayer) -> [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        for (setting, layers) in [(Setting.encoderConvolutions, encoder), (.decoderConvolutions, decoder), (.outputConvolution, [output])] {
            for layer in layers {
                if layer.channels <= 0 || layer.kernel <= 0 || layer.stride <= 0 || layer.padding < 0 {
                    found.append(ConfigurationProblem(setting, "need positive channels, kernel and stride and a padding >= 0, got \(layer)"))
                } else if layer.channels > 4096 || layer.kernel > 64 || layer.stride > 64 || layer.padding >= layer.kernel {
                    found.append(ConfigurationProblem(setting, "allow at most 4096 channels, a kernel and stride of at most 64 and a padding below the kernel, got \(layer)"))
                }
            }
        }
        return found
    }

    /// The grid after each of `layers` (channels, height, width) applied from `input`, or the
    /// problem with the first layer that does not fit (a problem of the encoder convolutions).
    public static func grids(_ layers: [ConvolutionLayer], from input: ImageShape) -> Result<[ImageShape], ConfigurationProblem> {
        var grids: [ImageShape] = []
        var (height, width) = (input.height, input.width)
        for (index, layer) in layers.enumerated() {
            guard let h = convolutionOutputLength(input: height, kernel: layer.kernel, stride: layer.stride, padding: layer.padding),
                  let w = convolutionOutputLength(input: width, kernel: layer.kernel, stride: layer.stride, padding: layer.padding) else {
                return .failure(ConfigurationProblem(.encoderConvolutions, "do not fit: convolution \(index + 1) (\(layer)) does not fit its \(height)x\(width) input"))
            }
            (height, width) = (h, w)
            grids.append(ImageShape(channels: layer.channels, height: h, width: w))
        }
        return .success(grids)
    }
}

/// One transposed layer of the decoder as built: its input grid and the output padding that
/// lands it exactly on the next grid.
public struct DecoderStage: Equatable, Sendable {
    /// The layer.
    public var layer: ConvolutionLayer
    /// The height of the grid it reads.
    public var inputHeight: Int
    /// The width of the grid it reads.
    public var inputWidth: Int
    /// The output padding that lands it on the next grid.
    public var outputPadding: SpatialPair
}

extension DecoderStage {
    /// Transposed layers (`hidden`, then `output`) with their input grids and output paddings,
    /// found by running them backwards from the image's `height` x `width`: a layer of kernel k,
    /// stride s and padding p reaching n pixels takes ⌊(n + 2p − k) / s⌋ + 1 and pads its output
    /// by (n + 2p − k) mod s. The problem names the first layer that cannot produce its grid.
    public static func stages(_ hidden: [ConvolutionLayer], output: ConvolutionLayer, height: Int, width: Int) -> Result<[DecoderStage], ConfigurationProblem> {
        let layers = hidden + [output]
        var stages: [DecoderStage] = []
        var (height, width) = (height, width)
        for (index, layer) in layers.enumerated().reversed() {
            let spanHeight = height + 2 * layer.padding - layer.kernel, spanWidth = width + 2 * layer.padding - layer.kernel
            let isOutput = index == layers.count - 1
            guard spanHeight >= 0, spanWidth >= 0, layer.stride > 0 else {
                return .failure(isOutput ? ConfigurationProblem(.outputConvolution, "(\(layer)) cannot produce \(height)x\(width) pixels")
                    : ConfigurationProblem(.decoderConvolutions, "do not fit: convolution \(index + 1) (\(layer)) cannot produce \(height)x\(width) pixels"))
            }
            let stage = DecoderStage(layer: layer, inputHeight: spanHeight / layer.stride + 1, inputWidth: spanWidth / layer.stride + 1,
                                     outputPadding: SpatialPair(spanHeight % layer.stride, spanWidth % layer.stride))
            stages.insert(stage, at: 0)
            (height, width) = (stage.inputHeight, stage.inputWidth)
        }
        return .success(stages)
    }
}

/// The architecture of a convolutional VAE.
///
/// Encoder: image C x H x W -> convolutions (activation after each) -> flatten (C, H, W order) ->
/// dense hidden layers (activation) -> linear heads μ and spread, `latentSize` each.
/// Decoder: z -> dense hidden layers (activation) -> a dense layer to `decoderChannels` x h x w
/// (activation) -> transposed convolutions (activation after each) -> a transposed convolution
/// to the likelihood's parameter channels (the image's C channels of logits for the Bernoulli
/// and the Gaussians; see `Likelihood.parameterChannels`). The kind "conv".
/// The decoder's starting grid h x w and each transposed layer's output padding are derived by
/// running its layers backwards from the image size, so any C x H x W works without code.
public struct ConvolutionalModelConfiguration: ConfigurableArchitecture {
    /// The images' shape.
    public var imageShape: ImageShape
    /// The encoder's convolutions, first to last.
    public var encoderConvolutions: [ConvolutionLayer]
    /// The encoder's dense layers after the flatten.
    public var encoderDenseSizes: [Int]
    /// The dimension of z.
    public var latentSize: Int
    /// The decoder's hidden dense layers before the projection to the grid.
    public var decoderDenseSizes: [Int]
    /// Channels of the grid the decoder's dense layer is reshaped to.
    public var decoderChannels: Int
    /// The decoder's transposed convolutions before the output one, first to last.
    public var decoderConvolutions: [ConvolutionLayer]
    /// The last transposed convolution; its `channels` are the image's (the layer built gives
    /// the likelihood's parameter channels for them).
    public var outputConvolution: ConvolutionLayer
    /// The activation after every layer but the heads and the output.
    public var activation: Activation
    /// How the encoder's spread head gives σ.
    public var varianceHead: VarianceHead
    /// p(x | z).
    public var likelihood: Likelihood
    /// "pytorch" or "glorot" (see `Initializer`).
    public var initializer: String
    /// K for a conditional VAE (the label's one-hot joins the flattened features before the
    /// encoder's dense layers, and z before the decoder's), nil for an unconditional one.
    public var conditionClasses: Int?

    /// A convolutional VAE's architecture; see the properties. `validate()` checks it against the image shape.
    public init(imageShape: ImageShape = .mnist, encoderConvolutions: [ConvolutionLayer], encoderDenseSizes: [Int], latentSize: Int,
                decoderDenseSizes: [Int] = [], decoderChannels: Int, decoderConvolutions: [ConvolutionLayer],
                outputKernel: Int = 3, outputStride: Int = 1, outputPadding: Int = 1, activation: Activation = .relu,
                varianceHead: VarianceHead = .logVariance, likelihood: Likelihood = .bernoulli, initializer: Initializer = .pytorchDefault) {
        self.imageShape = imageShape
        self.encoderConvolutions = encoderConvolutions
        self.encoderDenseSizes = encoderDenseSizes
        self.latentSize = latentSize
        self.decoderDenseSizes = decoderDenseSizes
        self.decoderChannels = decoderChannels
        self.decoderConvolutions = decoderConvolutions
        self.outputConvolution = ConvolutionLayer(channels: imageShape.channels, kernel: outputKernel, stride: outputStride, padding: outputPadding)
        self.activation = activation
        self.varianceHead = varianceHead
        self.likelihood = likelihood
        self.initializer = initializer.rawValue
    }

    /// C · H · W.
    public var inputSize: Int { imageShape.count }

    public static let kind = "conv"
    public static let kindDescription = "convolutional VAE"
    public static var presets: [Preset] { ConvolutionalPresets.all }

    /// "convolutional VAE on 1x28x28 images: encoder ...; relu, log-variance head, bernoulli likelihood".
    public var summary: String {
        "convolutional VAE on \(imageShape) images: \(architectureName); \(activation.rawValue), \(varianceHead.rawValue) head, \(likelihood) likelihood"
    }

    /// The output transposed convolution's channels: the likelihood's parameter channels.
    public var outputChannels: Int { likelihood.parameterChannels(imageChannels: imageShape.channels) }

    public func fitted(to shape: ImageShape) -> ConvolutionalModelConfiguration {
        var configuration = self
        configuration.imageShape = shape
        configuration.outputConvolution.channels = shape.channels
        return configuration
    }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try ConvolutionalVAE(self, using: &generator)
    }

    /// The grid after each encoder convolution (channels, height, width), or the problem with
    /// the first layer that does not fit.
    public var encoderGrids: Result<[ImageShape], ConfigurationProblem> { ConvolutionLayer.grids(encoderConvolutions, from: imageShape) }

    /// The values per image entering the encoder's dense layers.
    public var flattenedSize: Int? {
        guard case let .success(grids) = encoderGrids else { return nil }
        return grids.last.map { $0.count } ?? imageShape.count
    }

    /// The decoder's transposed layers (hidden ones, then the output) with their input grids and
    /// output paddings (see `DecoderStage.stages`).
    public var decoderStages: Result<[DecoderStage], ConfigurationProblem> {
        DecoderStage.stages(decoderConvolutions, output: outputConvolution, height: imageShape.height, width: imageShape.width)
    }

    /// The grid the decoder's dense layer is reshaped to: `decoderChannels` x h x w.
    public var decoderGrid: ImageShape? {
        guard case let .success(stages) = decoderStages, let first = stages.first else { return nil }
        return ImageShape(channels: decoderChannels, height: first.inputHeight, width: first.inputWidth)
    }

    /// E.g. "encoder 32:3:2:1,64:3:2:1 dense 16 latent 2; decoder -> 64x7x7, 64:3:2:1,32:3:2:1, out 1:3:1:1"
    /// (convolutions as channels:kernel:stride:padding; the decoder's are transposed).
    public var architectureName: String {
        func list(_ layers: [ConvolutionLayer]) -> String { layers.map(\.description).joined(separator: ",") }
        func sizes(_ values: [Int]) -> String { values.isEmpty ? "" : " dense " + values.map(String.init).joined(separator: "-") }
        let grid = decoderGrid.map { "\($0.channels)x\($0.height)x\($0.width)" } ?? "?"
        return "encoder \(list(encoderConvolutions))\(sizes(encoderDenseSizes)) latent \(latentSize); decoder\(sizes(decoderDenseSizes)) -> \(grid), \(list(decoderConvolutions)), out \(outputConvolution)"
    }

    /// Problems with the architecture, one each (empty when valid).
    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if !imageShape.isValid { found.append(ConfigurationProblem(.imageShape, "must be 1 or 3 channels of 1...4096 pixels each way, got \(imageShape)")) }
        if latentSize <= 0 { found.append(ConfigurationProblem(.latentSize, "must be positive, got \(latentSize)")) }
        found += ConvolutionLayer.problems(encoder: encoderConvolutions, decoder: decoderConvolutions, output: outputConvolution)
        if encoderConvolutions.isEmpty { found.append(ConfigurationProblem(.encoderConvolutions, "need at least one convolution")) }
        if (encoderDenseSizes + decoderDenseSizes).contains(where: { $0 <= 0 }) {
            found.append(ConfigurationProblem(.denseSizes, "must all be positive, got encoder \(encoderDenseSizes), decoder \(decoderDenseSizes)"))
        }
        if !(1...4096).contains(decoderChannels) { found.append(ConfigurationProblem(.decoderChannels, "must be 1...4096, got \(decoderChannels)")) }
        if latentSize > 1 << 20 || (encoderDenseSizes + decoderDenseSizes).contains(where: { $0 > 1 << 24 }) {
            found.append(ConfigurationProblem(.denseSizes, "must be at most 2^24, and the latent size at most 2^20"))
        }
        if outputConvolution.channels != imageShape.channels {
            found.append(ConfigurationProblem(.outputConvolution, "must give the image's \(imageShape.channels) channels, not \(outputConvolution.channels)"))
        }
        if let problem = StandardChecks.conditionProblem(conditionClasses) { found.append(problem) }
        if let problem = StandardChecks.initializerProblem(initializer) { found.append(problem) }
        guard found.isEmpty else { return found }
        if case let .failure(problem) = encoderGrids { found.append(problem) }
        if case let .failure(problem) = decoderStages { found.append(problem) }
        return found
    }

    /// About how many weights and biases the model has (in floating point, so absurd sizes cannot overflow).
    public var approximateParameterCount: Double {
        func dense(_ sizes: [Int]) -> Double { zip(sizes, sizes.dropFirst()).reduce(0) { $0 + Double($1.0) * Double($1.1) + Double($1.1) } }
        let flattened = Double(flattenedSize ?? 0), grid = Double(decoderGrid?.count ?? 0)
        let encoderDense = dense([Int(min(flattened, 1e15))] + encoderDenseSizes)
        let heads = 2 * (Double(encoderDenseSizes.last.map { $0 } ?? Int(min(flattened, 1e15))) * Double(latentSize) + Double(latentSize))
        let decoderDense = dense([latentSize] + decoderDenseSizes) + Double(decoderDenseSizes.last ?? latentSize) * grid + grid
        var output = outputConvolution
        output.channels = outputChannels
        return ConvolutionLayer.parameterCount(encoderConvolutions, from: imageShape.channels) + encoderDense + heads + decoderDense
            + ConvolutionLayer.parameterCount(decoderConvolutions + [output], from: decoderChannels)
    }
}

extension ConvolutionalModelConfiguration {
    /// keras-io's examples/generative/vae.py with PyTorch's layers and initialisation (symmetric
    /// padding 1 where Keras pads "same"): conv 32 and 64 (3x3, stride 2), dense 16, latent;
    /// dense 7x7x64, deconv 64 and 32 (3x3, stride 2), deconv 1 (3x3) to logits; ReLU.
    public static func kerasExample(latentSize: Int) -> ConvolutionalModelConfiguration {
        ConvolutionalModelConfiguration(
            encoderConvolutions: [ConvolutionLayer(channels: 32, kernel: 3, stride: 2, padding: 1), ConvolutionLayer(channels: 64, kernel: 3, stride: 2, padding: 1)],
            encoderDenseSizes: [16], latentSize: latentSize, decoderChannels: 64,
            decoderConvolutions: [ConvolutionLayer(channels: 64, kernel: 3, stride: 2, padding: 1), ConvolutionLayer(channels: 32, kernel: 3, stride: 2, padding: 1)])
    }

    /// The toolkit's conv VAE for 28x28 digits: the Keras example's channels with 4x4 kernels
    /// (stride 2, padding 1: 28 -> 14 -> 7 and back without output padding, and no checkerboard
    /// of 3x3 kernels at stride 2), and without its 16-wide bottleneck (dense 512, latent 32,
    /// and a dense 512 in the decoder). After 10 epochs it beats the 784-400-20 MLP by about 7
    /// nats of test loss (98.7 against 105.6).
    /// The `cvae-conv` preset: conv-mnist's layers with a 2-d latent space, conditioned on
    /// MNIST's 10 digits (the one-hot joins the flattened features and z). With a 2-d latent the
    /// label carries the digit and z the style (see `MLPConfiguration.conditionalDigits`); the
    /// keras-conv layers with a 2-d latent collapsed the posterior (KL 0.04 nats) once the label
    /// was given.
    public static var conditionalDigits: ConvolutionalModelConfiguration {
        var configuration = digits
        configuration.latentSize = 2
        configuration.conditionClasses = 10
        return configuration
    }

    /// The `conv-mnist` preset's architecture: two stride-2 convolutions (32, 64), dense 512, latent 32.
    public static let digits = ConvolutionalModelConfiguration(
        encoderConvolutions: [32, 64].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) },
        encoderDenseSizes: [512], latentSize: 32, decoderDenseSizes: [512], decoderChannels: 64,
        decoderConvolutions: [64, 32].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) })

    /// The conv VAE of the β-VAE and disentanglement studies (Higgins et al. 2017; Locatello et
    /// al. 2019, disentanglement_lib's `conv_encoder`/`deconv_decoder`) for 64x64 grey images:
    /// four 4x4 stride-2 convolutions (32, 32, 64, 64 channels: 64 -> 32 -> 16 -> 8 -> 4), dense
    /// 1024 -> 256, 10 latents; dense 10 -> 256 -> 1024 as a 64x4x4 grid, transposed 4x4 stride-2
    /// convolutions 64 -> 64 -> 32 -> 32 -> 1 to Bernoulli logits; ReLU.
    public static let disentanglement = ConvolutionalModelConfiguration(
        imageShape: .grey(height: 64, width: 64),
        encoderConvolutions: [32, 32, 64, 64].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) },
        encoderDenseSizes: [256], latentSize: 10, decoderDenseSizes: [256], decoderChannels: 64,
        decoderConvolutions: [64, 32, 32].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) },
        outputKernel: 4, outputStride: 2, outputPadding: 1)

    /// The toolkit's conv VAE for colour images of 32x32 (or 64x64): three 4x4 stride-2
    /// convolutions (32, 64, 128 channels), dense 256, latent 64, and the mirror image; ReLU,
    /// Glorot-uniform weights and zero biases (its seeds train closer together than from PyTorch's start).
    public static let colour = ConvolutionalModelConfiguration(
        imageShape: ImageShape(channels: 3, height: 32, width: 32),
        encoderConvolutions: [32, 64, 128].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) },
        encoderDenseSizes: [256], latentSize: 64, decoderDenseSizes: [256], decoderChannels: 128,
        decoderConvolutions: [64, 32].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) },
        outputKernel: 4, outputStride: 2, outputPadding: 1, initializer: .glorotUniform)
}

extension Setting {
    /// A convolutional VAE's encoder convolutions.
    public static let encoderConvolutions = Setting("the encoder convolutions")
    /// Its decoder's transposed convolutions.
    public static let decoderConvolutions = Setting("the decoder convolutions")
    /// Its output transposed convolution.
    public static let outputConvolution = Setting("the output convolution")
    /// Its dense layers' sizes.
    public static let denseSizes = Setting("the dense sizes")
    /// The channels of its decoder's starting grid.
    public static let decoderChannels = Setting("the decoder's starting channels")
}
