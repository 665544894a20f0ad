import Datasets
import NN
import TensorCore
import VAE

/// A hierarchical convolutional VAE, a small NVAE (see `HierarchicalConvolutionalConfiguration`
/// for the towers).
///
/// The latent groups are listed top first, named "z_G" ... "z1" (z1 the finest, as in the
/// hierarchical MLP kind); group i is `latentChannels` x rᵢ x rᵢ, flattened planar (channel,
/// row, column) to a row of [batch, latentChannels · rᵢ²]. Every Gaussian softly clamps its raw
/// μ and log σ to (−5, 5) by 5 tanh(· / 5), as NVAE's `Normal` does; a posterior's raw values are
/// its prior's raw values plus the shifts, so a posterior with zero shifts is its prior. With `.noise`, the groups
/// draw their ε top first.
///
/// The latent tools act on the top group: `encode` gives q(z_top | x), and `decode` takes the
/// lower groups at their prior means given the groups above, or drawn from their priors at a
/// temperature (`decode(_:lowerGroups:)`).
///
/// Checkpoint keys: `stem`, `encoderCells.N.*`, `downsamples.N`, `constant` [1, C · r₁²],
/// `topPosterior`, `priors.N`, `posteriors.N`, `encoderCombiners.N`, `decoderCombiners.N`,
/// `decoderCells.N.*`, `upsamples.N`, `output` (each a convolution's `weight` and `bias`).
public final class HierarchicalConvolutionalVAE: Module, VariationalModel, LowerGroupDecoding {
    /// The 3x3 convolution from the image's channels to the towers' channels.
    public let stem: Conv2D
    /// The bottom-up tower's residual cells, in the order they run.
    public let encoderCells: [ResidualCell]
    /// The bottom-up tower's 3x3 stride-2 convolutions, one per halving.
    public let downsamples: [Conv2D]
    /// The top-down tower's learned input h₀, [1, C · r₁²] (C x r₁ x r₁ per image).
    public let constant: Tensor
    /// q(z_top | x)'s 3x3 convolution to μ and log σ.
    public let topPosterior: Conv2D
    /// p(zᵢ | z_above)'s 3x3 convolutions to μ_p and log σ_p, for every group below the top.
    public let priors: [Conv2D]
    /// q(zᵢ | x, z_above)'s 3x3 convolutions to Δμ and Δlog σ, for every group below the top.
    public let posteriors: [Conv2D]
    /// The 1x1 convolutions bringing h into the encoder's feature, for every group below the top.
    public let encoderCombiners: [Conv2D]
    /// The 1x1 convolutions of [h, zᵢ] to the new h, one per group.
    public let decoderCombiners: [Conv2D]
    /// The top-down tower's residual cells, in the order they run.
    public let decoderCells: [ResidualCell]
    /// The top-down tower's 3x3 convolutions after each nearest upsampling.
    public let upsamples: [Conv2D]
    /// The 3x3 convolution to the likelihood's parameter channels.
    public let output: Conv2D
    /// The output to p(x | z).
    public let likelihood: LikelihoodHead
    /// The architecture.
    public let configuration: HierarchicalConvolutionalConfiguration

    /// A model of `configuration` with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: HierarchicalConvolutionalConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let (c, l, cells) = (configuration.channels, configuration.latentChannels, configuration.cellsPerScale)
        func convolution(_ input: Int, _ output: Int, kernel: Int, stride: Int = 1, using generator: inout RandomGenerator) -> Conv2D {
            Conv2D(inputChannels: input, outputChannels: output, kernel: SpatialPair(kernel), stride: SpatialPair(stride), padding: SpatialPair(kernel / 2),
                   using: &generator)
        }
        let groups = configuration.groupLayouts.count, scales = configuration.scales
        stem = convolution(configuration.imageShape.channels, c, kernel: 3, using: &generator)
        let scaleCells = scales.reduce(0) { $0 + configuration.cells(atScale: $1) }
        let encoderCellCount = scaleCells + configuration.groupsPerResolution.reduce(0, +) - configuration.groupsPerResolution.count
        encoderCells = (0..<encoderCellCount).map { _ in ResidualCell(channels: c, using: &generator) }
        downsamples = (0..<(scales.count - 1)).map { _ in convolution(c, c, kernel: 3, stride: 2, using: &generator) }
        let top = configuration.latentResolutions[0]
        constant = Tensor(shape: [1, c * top * top], scalars: (0..<(c * top * top)).map { _ in generator.nextUniform() }, requiresGradient: true)
        topPosterior = convolution(c, 2 * l, kernel: 3, using: &generator)
        priors = (1..<max(groups, 1)).map { _ in convolution(c, 2 * l, kernel: 3, using: &generator) }
        posteriors = (1..<max(groups, 1)).map { _ in convolution(c, 2 * l, kernel: 3, using: &generator) }
        encoderCombiners = (1..<max(groups, 1)).map { _ in convolution(c, c, kernel: 1, using: &generator) }
        decoderCombiners = (0..<groups).map { _ in convolution(c + l, c, kernel: 1, using: &generator) }
        decoderCells = (0..<(cells * groups + scaleCells - configuration.cells(atScale: scales[0]))).map { _ in ResidualCell(channels: c, using: &generator) }
        upsamples = (0..<(scales.count - 1)).map { _ in convolution(c, c, kernel: 3, using: &generator) }
        likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        output = convolution(c, configuration.likelihood.parameterChannels(imageChannels: configuration.imageShape.channels), kernel: configuration.outputKernel,
                             using: &generator)
        self.configuration = configuration
    }

    public var latentSize: Int { configuration.latentSize }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }

    /// "z3", "z2", "z1" for three groups: top first.
    public var latentGroups: [LatentGroup] {
        let layouts = configuration.groupLayouts
        return layouts.enumerated().map { index, layout in
            LatentGroup(name: "z\(layouts.count - index)", size: configuration.latentChannels * layout.resolution * layout.resolution)
        }
    }

    // MARK: The towers

    /// The bottom-up tower: for each latent resolution (keyed by r), its groups' features in
    /// top-down order (the feature of the resolution's first group to decode first).
    func encoderFeatures(_ x: Tensor) -> [Int: [Tensor]] {
        let shape = configuration.imageShape
        var h = stem((x * 2 - 1).reshaped(to: [x.shape[0], shape.channels, shape.height, shape.width]))
        var cellIndex = 0, features: [Int: [Tensor]] = [:]
        let counts = configuration.groupsByResolution
        for (scaleIndex, scale) in configuration.scales.reversed().enumerated() {
            for _ in 0..<configuration.cells(atScale: scale) {
                h = encoderCells[cellIndex](h)
                cellIndex += 1
            }
            if let count = counts[scale] {
                var collected = [h]
                for _ in 1..<count {
                    h = encoderCells[cellIndex](h)
                    cellIndex += 1
                    collected.append(h)
                }
                features[scale] = collected.reversed()
            }
            if scaleIndex < configuration.scales.count - 1 { h = downsamples[scaleIndex](h) }
        }
        return features
    }

    /// A convolution's 2L-channel output [rows, 2L, r, r] split into its two halves as rows
    /// [rows, L · r²] each (the first L channels, then the rest).
    static func halves(_ parameters: Tensor) -> (first: Tensor, second: Tensor) {
        let planar = parameters.planarImages()
        let size = planar.imageBatchSize
        let rows = planar.reshaped(to: [size.batch, size.channels * size.height * size.width])
        let half = rows.shape[1] / 2
        return (rows.sliced(lastAxis: 0..<half), rows.sliced(lastAxis: half..<(2 * half)))
    }

    /// 5 tanh(x / 5), NVAE's `soft_clamp5`.
    static func softClamp(_ x: Tensor) -> Tensor { (x * 0.2).tanh() * 5 }

    /// N(μ, σ²) from raw μ and log σ, each softly clamped: μ = 5 tanh(μ / 5), log σ² =
    /// 2 · 5 tanh(log σ / 5) (NVAE's `Normal`).
    static func gaussian(mean: Tensor, logStandardDeviation: Tensor) -> DiagonalGaussian {
        DiagonalGaussian(mean: softClamp(mean), logVariance: softClamp(logStandardDeviation) * 2)
    }

    /// a + b with b brought to a's image layout.
    static func sum(_ a: Tensor, _ b: Tensor) -> Tensor { a + b.inImageLayout(a.imageLayout!) }

    /// The starting h, the learned constant for `rows` images, [rows, C, r₁, r₁].
    func startingState(rows: Int) -> Tensor {
        let top = configuration.latentResolutions[0]
        return constant.repeatingRows(rows).reshaped(to: [rows, configuration.channels, top, top])
    }

    /// h ← conv₁ₓ₁([h, z]) for group `index`, z rows [rows, L · r²].
    func combined(_ h: Tensor, _ z: Tensor, group index: Int) -> Tensor {
        let size = h.imageBatchSize
        let state = h.planarImages().reshaped(to: [size.batch, size.channels * size.height * size.width])
        let joined = Tensor.concatenated([state, z]).reshaped(to: [size.batch, size.channels + configuration.latentChannels, size.height, size.width])
        return decoderCombiners[index](joined)
    }

    /// One step of the top-down tower: what a group needs from h, given how to choose its z.
    /// `choose` takes (group index, prior, posterior or nil) and gives z and its ε.
    func topDown(rows: Int, features: [Int: [Tensor]]?,
                 choose: (Int, any LatentDistribution, DiagonalGaussian?) -> (z: Tensor, noise: Tensor?)) -> (outputs: [(prior: any LatentDistribution, posterior: DiagonalGaussian?, z: Tensor, noise: Tensor?)], parameters: Tensor) {
        let cells = configuration.cellsPerScale
        let layouts = configuration.groupLayouts
        let counts = configuration.groupsByResolution
        var h = startingState(rows: rows)
        var groupIndex = 0, cellIndex = 0
        var outputs: [(prior: any LatentDistribution, posterior: DiagonalGaussian?, z: Tensor, noise: Tensor?)] = []
        for (scaleIndex, scale) in configuration.scales.enumerated() {
            for indexAtResolution in 0..<(counts[scale] ?? 0) {
                precondition(layouts[groupIndex].resolution == scale, "group \(groupIndex) is at \(layouts[groupIndex].resolution), the tower at \(scale)")
                let feature = features?[scale]?[indexAtResolution]
                let prior: any LatentDistribution
                var posterior: DiagonalGaussian? = nil
                if groupIndex == 0 {
                    prior = StandardNormal(dimension: latentSize)
                    if let feature {
                        let (mean, logStandardDeviation) = Self.halves(topPosterior(feature.silu()))
                        posterior = Self.gaussian(mean: mean, logStandardDeviation: logStandardDeviation)
                    }
                } else {
                    let (priorMean, priorLogStandardDeviation) = Self.halves(priors[groupIndex - 1](h.silu()))
                    prior = Self.gaussian(mean: priorMean, logStandardDeviation: priorLogStandardDeviation)
                    if let feature {
                        let input = Self.sum(feature, encoderCombiners[groupIndex - 1](h)).silu()
                        let (meanShift, logStandardDeviationShift) = Self.halves(posteriors[groupIndex - 1](input))
                        posterior = Self.gaussian(mean: priorMean + meanShift, logStandardDeviation: priorLogStandardDeviation + logStandardDeviationShift)
                    }
                }
                let (z, noise) = choose(groupIndex, prior, posterior)
                outputs.append((prior, posterior, z, noise))
                h = combined(h, z, group: groupIndex)
                for _ in 0..<cells {
                    h = decoderCells[cellIndex](h)
                    cellIndex += 1
                }
                groupIndex += 1
            }
            if scaleIndex < configuration.scales.count - 1 {
                h = upsamples[scaleIndex](h.upsampled(by: 2, mode: .nearest))
                for _ in 0..<configuration.cells(atScale: configuration.scales[scaleIndex + 1]) {
                    h = decoderCells[cellIndex](h)
                    cellIndex += 1
                }
            }
        }
        let parameters = output(h.silu()).planarImages()
        return (outputs, parameters.reshaped(to: [rows, likelihood.outputSize]))
    }

    // MARK: The contract

    /// q(z_top | x) from the bottom-up tower's top feature.
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        precondition(condition == nil, "the hierarchical conv VAE is unconditional")
        let top = configuration.latentResolutions[0]
        let (mean, logStandardDeviation) = Self.halves(topPosterior(encoderFeatures(x)[top]![0].silu()))
        return Self.gaussian(mean: mean, logStandardDeviation: logStandardDeviation)
    }

    /// p(x | z_top) with every lower group at its prior mean given the groups above.
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        precondition(condition == nil, "the hierarchical conv VAE is unconditional")
        return decode(z, lowerGroups: .priorMeans)
    }

    /// p(x | z_top, z_below) with the lower groups chosen as `lowerGroups` says: at their prior
    /// means, or drawn from their priors at temperature T (zᵢ = μ_p + T σ_p ε).
    public func decode(_ z: Tensor, lowerGroups: LowerGroups) -> any ImageDistribution {
        precondition(z.rank == 2 && z.shape[1] == latentSize, "top-group codes must be [rows, \(latentSize)], got \(z.shape)")
        let rows = z.shape[0]
        let (_, parameters) = topDown(rows: rows, features: nil) { index, prior, _ in
            index == 0 ? (z, nil) : (lowerGroups.z(from: prior as! DiagonalGaussian), nil)
        }
        return likelihood(parameters)
    }

    /// p(x | every group), the groups top first.
    public func decode(groups: [Tensor]) -> any ImageDistribution {
        precondition(groups.count == latentGroups.count && zip(groups, latentGroups).allSatisfy { $0.shape == [groups[0].shape[0], $1.size] },
                     "one code [rows, size] per group, top first: sizes \(latentGroups.map(\.size)), got \(groups.map(\.shape))")
        let (_, parameters) = topDown(rows: groups[0].shape[0], features: nil) { index, _, _ in (groups[index], nil) }
        return likelihood(parameters)
    }

    /// The whole pass: the bottom-up tower once, then the top-down tower drawing each group from
    /// its posterior (residual to its prior) top first.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        precondition(condition == nil, "the hierarchical conv VAE is unconditional")
        precondition(samples >= 1, "a forward pass takes at least one sample per image")
        let input = samples == 1 ? x : x.repeatingRows(samples)
        let features = encoderFeatures(input)
        let (outputs, parameters) = topDown(rows: input.shape[0], features: features) { _, _, posterior in
            guard case let .noise(source) = sampling else { return (posterior!.mean, nil) }
            let noise = source.normal(rows: posterior!.rows, columns: posterior!.dimension)
            return (posterior!.sample(noise: noise), noise)
        }
        let groups = latentGroups
        return ModelOutput(groups: zip(groups, outputs).map { group, output in
            LatentGroupOutput(group: group, posterior: output.posterior!, prior: output.prior, z: output.z, noise: output.noise)
        }, likelihood: likelihood(parameters), samplesPerImage: samples)
    }
}
