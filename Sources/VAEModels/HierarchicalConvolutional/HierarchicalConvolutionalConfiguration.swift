import Datasets
import NN
import TensorCore
import VAE

/// The architecture of a hierarchical convolutional VAE (the kind "hierarchical"), a small NVAE
/// (Vahdat & Kautz, "NVAE: A Deep Hierarchical Variational Autoencoder", 2020, §3 and its code's
/// `AutoEncoder`) for square images.
///
/// Latent groups sit at spatial resolutions r₁ < r₂ < ... (top first, e.g. 4, 8, 16 for 32x32
/// images), `groupsPerResolution[i]` groups at rᵢ, each group `latentChannels` x rᵢ x rᵢ.
/// - Bottom-up (inference) tower: x ↦ 2x − 1, a 3x3 stem convolution to `channels` channels,
///   then from the image size down to r₁: residual cells (`ResidualCell`) at each scale
///   (`cellsPerScale` at the latent resolutions and between them, `outerCells` at the scales
///   finer than the finest latent resolution); at a latent resolution with G groups it keeps G
///   features (one more cell between them), and a 3x3 stride-2 convolution halves the scale.
/// - Top-down (generative) tower: a learned constant h [channels, r₁, r₁]; for each group, top
///   first: its prior p(zᵢ | z_above) = N(μ_p, σ_p²) from a 3x3 convolution of SiLU(h) (the top
///   group's is N(0, I)); its posterior q(zᵢ | x, z_above) = N(μ_p + Δμ, σ_p² · e^Δ) with (Δμ, Δ)
///   from a 3x3 convolution of SiLU(f + conv₁ₓ₁(h)), f the encoder's feature paired with the group
///   (NVAE's residual posterior, §3.2); then h ← conv₁ₓ₁([h, zᵢ]) and `cellsPerScale` cells. Between
///   resolutions, and from r_last to the image size, each doubling is nearest upsampling, a 3x3
///   convolution and the scale's cells (as in the bottom-up tower).
/// - Output: an `outputKernel` x `outputKernel` convolution of SiLU(h) to the likelihood's
///   parameter channels (by default the discretised logistic mixture of 10 components).
///
/// The scales finer than the finest latent group hold most of the pixels: a cell at 32x32 costs
/// four at 16x16, and a 3x3 convolution to the mixture's 100 channels there as much as all the
/// cells. `outerCells` 0 and a 1x1 output (the `hierarchical-colour` preset) keep the work at
/// the latent resolutions.
public struct HierarchicalConvolutionalConfiguration: ModelArchitecture {
    /// The images' shape (square, of a size that each latent resolution divides).
    public var imageShape: ImageShape
    /// The hidden channels of both towers.
    public var channels: Int
    /// The latent groups' resolutions, top (coarsest) first.
    public var latentResolutions: [Int]
    /// How many groups sit at each resolution.
    public var groupsPerResolution: [Int]
    /// The channels of every latent group.
    public var latentChannels: Int
    /// Residual cells per scale and per group in both towers, at and between the latent resolutions.
    public var cellsPerScale: Int
    /// Residual cells per scale at the scales finer than the finest latent resolution, in both towers.
    public var outerCells: Int
    /// The output convolution's kernel (odd: 1 or 3 ...).
    public var outputKernel: Int
    /// p(x | z).
    public var likelihood: Likelihood

    /// An architecture; see the properties. `problems` checks it.
    public init(imageShape: ImageShape = ImageShape(channels: 3, height: 32, width: 32), channels: Int = 32, latentResolutions: [Int] = [4, 8, 16],
                groupsPerResolution: [Int] = [1, 1, 1], latentChannels: Int = 8, cellsPerScale: Int = 1, outerCells: Int = 1, outputKernel: Int = 3,
                likelihood: Likelihood = .logisticMixture(components: Likelihood.defaultComponents)) {
        (self.imageShape, self.channels, self.latentResolutions, self.groupsPerResolution) = (imageShape, channels, latentResolutions, groupsPerResolution)
        (self.latentChannels, self.cellsPerScale, self.outerCells, self.outputKernel) = (latentChannels, cellsPerScale, outerCells, outputKernel)
        self.likelihood = likelihood
    }

    /// The `hierarchical-colour` preset's architecture: 32x32 colour images, 32 channels, one
    /// group of 8 channels at each of 4x4, 8x8 and 16x16, one cell per scale there and none at
    /// 32x32, a 1x1 output convolution to the logistic mixture.
    public static let colour = HierarchicalConvolutionalConfiguration(outerCells: 0, outputKernel: 1)

    /// The residual cells per scale at `scale`: `outerCells` above the finest latent resolution,
    /// `cellsPerScale` otherwise.
    public func cells(atScale scale: Int) -> Int { scale > (latentResolutions.last ?? 0) ? outerCells : cellsPerScale }

    public static let kind = "hierarchical"
    public static let kindDescription = "hierarchical convolutional VAE"
    public static var presets: [Preset] { HierarchicalConvolutionalPresets.all }

    /// One latent group as built: its resolution and its place at that resolution.
    public struct GroupLayout: Equatable, Sendable {
        /// r: the group is `latentChannels` x r x r.
        public var resolution: Int
        /// Its index among the groups at r, in top-down order.
        public var indexAtResolution: Int
    }

    /// Every group, top first.
    public var groupLayouts: [GroupLayout] {
        zip(latentResolutions, groupsPerResolution).flatMap { resolution, count in
            (0..<max(count, 0)).map { GroupLayout(resolution: resolution, indexAtResolution: $0) }
        }
    }

    /// The groups at each latent resolution, by resolution.
    public var groupsByResolution: [Int: Int] { Dictionary(zip(latentResolutions, groupsPerResolution), uniquingKeysWith: +) }

    /// The top group's dimension, latentChannels · r₁².
    public var latentSize: Int { latentChannels * (latentResolutions.first ?? 0) * (latentResolutions.first ?? 0) }

    /// The scales of the towers, coarsest first: r₁, 2r₁, ..., the image size.
    public var scales: [Int] {
        guard let top = latentResolutions.first, top > 0, imageShape.height >= top else { return [] }
        return Array(sequence(first: top) { $0 * 2 <= imageShape.height ? $0 * 2 : nil })
    }

    /// "c32 z8@4x4,8x8,16x16 cells 1" with a group count after a resolution holding several ("8x8*2").
    public var architectureName: String {
        let groups = zip(latentResolutions, groupsPerResolution).map { "\($0)x\($0)" + ($1 == 1 ? "" : "*\($1)") }.joined(separator: ",")
        return "c\(channels) z\(latentChannels)@\(groups) cells \(cellsPerScale)" + (outerCells == cellsPerScale ? "" : " outer \(outerCells)")
            + (outputKernel == 3 ? "" : " out \(outputKernel)x\(outputKernel)")
    }

    /// "hierarchical conv VAE c32 z8@4x4,8x8,16x16 cells 1 on 3x32x32 images, 3 latent groups (...), ... likelihood".
    public var summary: String {
        let count = groupLayouts.count
        return "hierarchical conv VAE \(architectureName) on \(imageShape) images, \(count) latent group\(count == 1 ? "" : "s") of \(latentChannels) channels, residual cells (BN, SiLU, weight-normalised 3x3 convolutions, squeeze-and-excitation), residual posteriors, \(likelihood) likelihood"
    }

    public func fitted(to shape: ImageShape) -> HierarchicalConvolutionalConfiguration {
        var configuration = self
        configuration.imageShape = shape
        return configuration
    }

    /// Any likelihood: the output convolution is sized by `LikelihoodHead`.
    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> HierarchicalConvolutionalConfiguration {
        var configuration = self
        configuration.likelihood = likelihood
        return configuration
    }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try HierarchicalConvolutionalVAE(self, using: &generator)
    }

    /// The image shape and the resolutions that must divide it: checked once the model is fitted
    /// to its data (a preset's 32x32 is not the shape of every folder).
    public var imageShapeDependentSettings: Set<Setting> { [.imageShape, .latentResolutions] }

    enum CodingKeys: String, CodingKey {
        case imageShape, channels, latentResolutions, groupsPerResolution, latentChannels, cellsPerScale, outerCells, outputKernel, likelihood
    }

    /// Reads an architecture; `outerCells` may be absent (as many as `cellsPerScale`), and
    /// `outputKernel` (3).
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageShape = try c.decode(ImageShape.self, forKey: .imageShape)
        channels = try c.decode(Int.self, forKey: .channels)
        latentResolutions = try c.decode([Int].self, forKey: .latentResolutions)
        groupsPerResolution = try c.decode([Int].self, forKey: .groupsPerResolution)
        latentChannels = try c.decode(Int.self, forKey: .latentChannels)
        cellsPerScale = try c.decode(Int.self, forKey: .cellsPerScale)
        outerCells = try c.decodeIfPresent(Int.self, forKey: .outerCells) ?? cellsPerScale
        outputKernel = try c.decodeIfPresent(Int.self, forKey: .outputKernel) ?? 3
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
    }

    /// Whether n is 2ᵏ for some k ≥ 0.
    static func isPowerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }

    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if !imageShape.isValid { found.append(ConfigurationProblem(.imageShape, "must be 1 or 3 channels of 1...4096 pixels each way, got \(imageShape)")) }
        if imageShape.height != imageShape.width {
            found.append(ConfigurationProblem(.imageShape, "must be square for the hierarchical kind (its latent groups are r x r grids), got \(imageShape)"))
        }
        if !(1...1024).contains(channels) { found.append(ConfigurationProblem(.hierarchyChannels, "must be 1...1024, got \(channels)")) }
        if !(1...256).contains(latentChannels) { found.append(ConfigurationProblem(.latentChannels, "must be 1...256, got \(latentChannels)")) }
        if !(0...8).contains(cellsPerScale) { found.append(ConfigurationProblem(.cellsPerScale, "must be 0...8, got \(cellsPerScale)")) }
        if !(0...8).contains(outerCells) { found.append(ConfigurationProblem(.outerCells, "must be 0...8, got \(outerCells)")) }
        if !(1...7).contains(outputKernel) || outputKernel % 2 == 0 {
            found.append(ConfigurationProblem(.outputKernel, "must be an odd size of 1...7 (the output keeps the image size), got \(outputKernel)"))
        }
        if !(1...6).contains(latentResolutions.count) {
            found.append(ConfigurationProblem(.latentResolutions, "must list 1...6 resolutions, top (coarsest) first, got \(latentResolutions.count)"))
        }
        if groupsPerResolution.count != latentResolutions.count {
            found.append(ConfigurationProblem(.groupsPerResolution, "must give one group count per latent resolution: \(latentResolutions.count) resolutions, \(groupsPerResolution.count) counts"))
        }
        for count in groupsPerResolution where !(1...16).contains(count) {
            found.append(ConfigurationProblem(.groupsPerResolution, "must each be 1...16 groups, got \(count) in \(groupsPerResolution.map(String.init).joined(separator: ","))"))
            break
        }
        let size = imageShape.height
        for resolution in latentResolutions {
            if resolution <= 0 || resolution > size || size % resolution != 0 || !Self.isPowerOfTwo(size / resolution) {
                found.append(ConfigurationProblem(.latentResolutions, "must each divide the image size \(size) by a power of two (for \(size): \(Self.divisors(of: size))), got \(resolution)"))
                break
            }
        }
        if zip(latentResolutions, latentResolutions.dropFirst()).contains(where: { $0 >= $1 }) {
            found.append(ConfigurationProblem(.latentResolutions, "must rise from the top group down, e.g. 4,8,16; got \(latentResolutions.map(String.init).joined(separator: ","))"))
        }
        return found
    }

    /// The resolutions r that divide `size` by a power of two, smallest first, as text.
    static func divisors(of size: Int) -> String {
        Array(sequence(first: size) { $0 % 2 == 0 && $0 > 1 ? $0 / 2 : nil }).reversed().map(String.init).joined(separator: ", ")
    }

    /// The weights and biases of both towers, the heads and the cells, counted as built.
    public var approximateParameterCount: Double {
        let c = Double(channels), l = Double(latentChannels), image = Double(imageShape.channels)
        let output = Double(likelihood.parameterChannels(imageChannels: imageShape.channels))
        func convolution(_ input: Double, _ output: Double, _ kernel: Double) -> Double { input * output * kernel * kernel + output }
        let hidden = max(c / 16, 4).rounded(.down)
        let cell = 2 * (convolution(c, c, 3) + c) + 2 * 2 * c + (c * hidden + hidden + hidden * c + c)  // two convs (+ g), two BNs, SE
        let groups = Double(groupLayouts.count), scaleCount = Double(scales.count)
        let scaleCells = Double(scales.reduce(0) { $0 + cells(atScale: $1) })
        let encoderCells = scaleCells + Double(groupsPerResolution.reduce(0, +) - groupsPerResolution.count)
        let decoderCells = Double(cellsPerScale) * groups + scaleCells - Double(scales.first.map { cells(atScale: $0) } ?? 0)
        let stem = convolution(image, c, 3), downsamples = (scaleCount - 1) * convolution(c, c, 3), upsamples = (scaleCount - 1) * convolution(c, c, 3)
        let constant = c * Double(latentResolutions.first ?? 0) * Double(latentResolutions.first ?? 0)
        let heads = groups * convolution(c, 2 * l, 3) + (groups - 1) * (convolution(c, 2 * l, 3) + convolution(c, c, 1)) + groups * convolution(c + l, c, 1)
        return stem + downsamples + upsamples + constant + heads + (encoderCells + decoderCells) * cell + convolution(c, output, Double(outputKernel))
    }
}

extension Setting {
    /// A hierarchical conv model's hidden channels.
    public static let hierarchyChannels = Setting("the hierarchy's channels")
    /// Its latent groups' channels.
    public static let latentChannels = Setting("the latent channels")
    /// Its residual cells per scale.
    public static let cellsPerScale = Setting("the cells per scale")
    /// Its residual cells per scale above the finest latent resolution.
    public static let outerCells = Setting("the outer cells")
    /// Its output convolution's kernel.
    public static let outputKernel = Setting("the output kernel")
    /// Its latent resolutions.
    public static let latentResolutions = Setting("the latent resolutions")
    /// Its groups per resolution.
    public static let groupsPerResolution = Setting("the groups per resolution")
}
