import Datasets
import Foundation
import NN
import TensorCore
import VAE

/// A VQ-VAE (van den Oord et al. 2017) under the model contract: one latent group, the grid of
/// chosen code vectors z_q [N, h · w · D] (position-major: position p's vector is columns
/// p · D ..< (p + 1) · D), whose posterior is `QuantizedCodes` and whose prior, while the model
/// trains, is uniform over the codes (`UniformCodes`: the KL is the constant h · w · log K). The
/// commitment loss (and the codebook loss, when the codebook learns by it) are the model's own
/// terms, summed over each image's grid. Images enter and leave as [N, C · H · W] rows (planar).
///
/// `encode` gives the codes as a Gaussian's mean with σ = 0 (log σ² = −∞ is not a number a
/// Gaussian's tools can use; the tools that move through a continuous latent space refuse a
/// `DiscreteLatentModel`). Keys: `encoder.i` (Conv2d), `projection` (the 1x1 Conv2d),
/// `quantizer.codebook` and its buffers, `decoder.i` (ConvTranspose2d), `output`.
public final class VectorQuantizedVAE: Module, VariationalModel, DiscreteLatentModel {
    /// The encoder's convolutions.
    public let encoder: [Conv2D]
    /// The 1x1 convolution to the code dimension.
    public let projection: Conv2D
    /// The codebook and its learning.
    public let quantizer: VectorQuantizer
    /// The decoder's hidden transposed convolutions.
    public let decoder: [ConvTranspose2D]
    /// The transposed convolution to the likelihood's parameter channels.
    public let output: ConvTranspose2D
    /// The decoder's output to p(x | z).
    public let likelihood: LikelihoodHead
    /// The architecture.
    public let configuration: VectorQuantizedConfiguration
    let grid: ImageShape

    /// A model of `configuration` with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: VectorQuantizedConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        var channels = configuration.imageShape.channels
        encoder = configuration.encoderConvolutions.map { layer in
            defer { channels = layer.channels }
            return Conv2D(inputChannels: channels, outputChannels: layer.channels, kernel: SpatialPair(layer.kernel), stride: SpatialPair(layer.stride),
                          padding: SpatialPair(layer.padding), initializer: initializer, using: &generator)
        }
        projection = Conv2D(inputChannels: channels, outputChannels: configuration.codeDimension, kernel: SpatialPair(1), initializer: initializer,
                            using: &generator)
        quantizer = VectorQuantizer(codes: configuration.codebookSize, dimension: configuration.codeDimension, update: configuration.codebookUpdate,
                                    decay: configuration.decay, deadCodeThreshold: configuration.deadCodeThreshold, using: &generator)
        guard case let .success(stages) = configuration.decoderStages, let grid = configuration.codeGrid else {
            preconditionFailure("invalid decoder: \(configuration.problems)")
        }
        channels = configuration.codeDimension
        let layers = stages.enumerated().map { index, stage in
            let outputChannels = index == stages.count - 1 ? configuration.outputChannels : stage.layer.channels
            defer { channels = outputChannels }
            return ConvTranspose2D(inputChannels: channels, outputChannels: outputChannels, kernel: SpatialPair(stage.layer.kernel),
                                   stride: SpatialPair(stage.layer.stride), padding: SpatialPair(stage.layer.padding),
                                   outputPadding: stage.outputPadding, initializer: initializer, using: &generator)
        }
        decoder = Array(layers.dropLast())
        output = layers.last!
        likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        self.configuration = configuration
        self.grid = grid
    }

    public var latentSize: Int { configuration.latentSize }
    public var latentGroups: [LatentGroup] { [LatentGroup(name: "codes", size: latentSize)] }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }
    public var prior: any LatentDistribution { UniformCodes(positions: codePositions, codebookSize: codebookSize, dimension: latentSize) }
    public var codeGrid: ImageShape { grid }
    public var codebookSize: Int { configuration.codebookSize }

    /// z_e, the encoder's grid as rows [N · h · w, D].
    public func encoderRows(_ x: Tensor) -> Tensor {
        let shape = imageShape
        var h = x.reshaped(to: [x.shape[0], shape.channels, shape.height, shape.width])
        for layer in encoder { h = layer(h, then: configuration.activation) }
        return projection(h).channelRows()
    }

    /// The quantised codes of images x: their values (straight-through to the encoder) and
    /// indices; in a pass that records gradients the codebook's averages move (see `VectorQuantizer`).
    public func quantize(_ x: Tensor) -> QuantizedCodes {
        let rows = encoderRows(x)
        let quantized = quantizer(rows)
        let values = quantized.quantized.reshaped(to: [x.shape[0], latentSize])
        return QuantizedCodes(values: values, indices: quantized.indices, positions: codePositions, codebookSize: codebookSize, encoderRows: rows)
    }

    /// The codes as a Gaussian's mean with σ = 0 (see the type's note).
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        precondition(condition == nil, "a VQ-VAE is unconditional")
        let values = quantize(x).values
        return DiagonalGaussian(mean: values, spread: Tensor.zeros(values.shape), head: .standardDeviation)
    }

    /// p(x | z_q) for grids of code vectors z [N, h · w · D].
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        precondition(condition == nil, "a VQ-VAE is unconditional")
        precondition(z.rank == 2 && z.shape[1] == latentSize, "z must be [N, \(latentSize)] (a grid of \(codeGrid.height)x\(codeGrid.width) codes of \(codeGrid.channels)), got \(z.shape)")
        let rows = z.reshaped(to: [z.shape[0] * codePositions, grid.channels])
        var h = Tensor.images(fromChannelRows: rows, batch: z.shape[0], height: grid.height, width: grid.width)
        for layer in decoder { h = layer(h, then: configuration.activation) }
        return likelihood(output(h).planarImages().reshaped(to: [z.shape[0], likelihood.outputSize]))
    }

    /// One group: the quantised codes (the same for every sample: q is one-hot), the uniform
    /// prior over codes, and p(x | z_q). The noise is not drawn: nothing is random.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        precondition(condition == nil, "a VQ-VAE is unconditional")
        precondition(samples >= 1, "a forward pass takes at least one sample per image")
        let codes = samples == 1 ? quantize(x) : quantize(x).repeatingRows(samples)
        let group = LatentGroupOutput(group: latentGroups[0], posterior: codes, prior: prior, z: codes.values, noise: nil)
        return ModelOutput(groups: [group], likelihood: decode(codes.values, condition: nil), samplesPerImage: samples)
    }

    /// β Σ ‖z_e − sg[e]‖² (and Σ ‖sg[z_e] − e‖² when the codebook learns by its loss), summed over
    /// the batch's grids.
    public func extraLossTerms(_ output: ModelOutput, labels: [Int]) -> [ExtraLossTerm] {
        guard let codes = output.groups[0].posterior as? QuantizedCodes, let rows = codes.encoderRows else { return [] }
        let commitment = quantizer.commitmentLoss(rows, codes: codes.values.reshaped(to: rows.shape))
        var terms = [ExtraLossTerm(name: "commitment", weighted: commitment * configuration.commitment, value: Double(commitment.item), isSumOverImages: true)]
        if configuration.codebookUpdate == .loss {
            let codebook = quantizer.codebookLoss(rows, indices: codes.indices)
            terms.append(ExtraLossTerm(name: "codebook", weighted: codebook, value: Double(codebook.item), isSumOverImages: true))
        }
        return terms
    }

    public func codes(_ x: Tensor) -> [Int32] { withoutGradients { quantizer.nearest(encoderRows(x)).indices } }

    public func decode(codes: [Int32], count: Int) -> any ImageDistribution {
        precondition(codes.count == count * codePositions, "\(codes.count) codes for \(count) grids of \(codePositions)")
        let values = quantizer.codebook.gatheringRows(codes).reshaped(to: [count, latentSize])
        return decode(values, condition: nil)
    }

    /// On `images` (codes at the nearest codebook vectors, without moving the averages): the
    /// reconstruction's mean squared error per value, the perplexity of the codes' use, the codes
    /// used and unused, and the codes restarted in training so far.
    public func codeFigures(on images: ImageDataset) -> [(name: String, value: Double)] {
        precondition(images.shape == imageShape, "images of \(images.shape) for a model of \(imageShape)")
        var counts = [Int](repeating: 0, count: codebookSize)
        var squaredError = 0.0
        let batch = 500, width = imageShape.count
        withoutGradients {
            for start in stride(from: 0, to: images.count, by: batch) {
                let rows = min(batch, images.count - start)
                var pixels = [Float](repeating: 0, count: rows * width)
                pixels.withUnsafeMutableBufferPointer { buffer in for row in 0..<rows { images.copyImage(start + row, into: buffer.baseAddress! + row * width) } }
                let x = Tensor(shape: [rows, width], scalars: pixels)
                let indices = codes(x)
                for index in indices { counts[Int(index)] += 1 }
                let mean = decode(codes: indices, count: rows).mean
                for (value, target) in zip(mean.scalars, pixels) { squaredError += Double((value - target) * (value - target)) }
            }
        }
        let used = counts.filter { $0 > 0 }.count
        return [(name: "reconstruction MSE", value: squaredError / Double(max(images.count * width, 1))),
                (name: "perplexity", value: VectorQuantizer.perplexity(counts: counts)),
                (name: "codes used", value: Double(used)),
                (name: "dead codes", value: Double(codebookSize - used)),
                (name: "codes restarted", value: Double(quantizer.restarts.value.pointer[0]))]
    }
}
