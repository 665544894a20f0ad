import Foundation
import TensorCore

/// A gated PixelCNN's architecture (van den Oord et al. 2016, "Conditional Image Generation with
/// PixelCNN Decoders"): a distribution over grids of categorical values (a VQ-VAE's code indices),
/// one position at a time in raster order, optionally conditioned on a class.
public struct GatedPixelCNNConfiguration: Codable, Equatable, Sendable {
    /// K, the values each position takes (0..<K).
    public var codes: Int
    /// The grid's rows.
    public var height: Int
    /// The grid's columns.
    public var width: Int
    /// The classes it is conditioned on (nil: unconditional).
    public var classes: Int?
    /// The channels of both stacks (and of the input embedding).
    public var channels: Int
    /// The gated layers.
    public var layers: Int
    /// The kernel's side k: k x k (masked to its upper half) in the vertical stack, 1 x k (masked
    /// to its left half) in the horizontal one.
    public var kernel: Int
    /// The hidden channels of the 1x1 output layers.
    public var outputChannels: Int

    /// A PixelCNN over `height` x `width` grids of `codes` values; see the properties.
    public init(codes: Int, height: Int, width: Int, classes: Int? = nil, channels: Int = 64, layers: Int = 8, kernel: Int = 3, outputChannels: Int = 256) {
        (self.codes, self.height, self.width, self.classes) = (codes, height, width, classes)
        (self.channels, self.layers, self.kernel, self.outputChannels) = (channels, layers, kernel, outputChannels)
    }

    /// What is wrong with the architecture, one line each (empty when valid).
    public var problems: [String] {
        var found: [String] = []
        if !(1...65536).contains(codes) { found.append("codes must be 1...65536, got \(codes)") }
        if !(1...1024).contains(height) || !(1...1024).contains(width) { found.append("the grid must be 1...1024 each way, got \(height)x\(width)") }
        if let classes, !(1...100_000).contains(classes) { found.append("classes must be 1...100000, got \(classes)") }
        if !(1...1024).contains(channels) { found.append("channels must be 1...1024, got \(channels)") }
        if !(1...100).contains(layers) { found.append("layers must be 1...100, got \(layers)") }
        if !(1...15).contains(kernel) || kernel % 2 == 0 { found.append("the kernel must be odd, 1...15, got \(kernel)") }
        if !(1...4096).contains(outputChannels) { found.append("the output channels must be 1...4096, got \(outputChannels)") }
        return found
    }
}

/// One gated layer of both stacks. With each convolution computing the filter f and the gate g
/// as the two halves of its 2C output channels (`Tensor.gatedTanh`),
///
///     v' = tanh(V_f ∗ v + c_f) ⊙ σ(V_g ∗ v + c_g)                        (vertical, k x k upper half)
///     u  = tanh(H_f ∗ h + U_f shift(v') + c_f) ⊙ σ(H_g ∗ h + U_g shift(v') + c_g)   (horizontal, 1 x k left half)
///     h' = R u (+ h after the first layer)
///
/// where shift moves the vertical stack down one row (so the horizontal stack at row i sees rows
/// above i only), U and R are 1x1 convolutions, and c = C y is the class's bias (zero without a
/// class). The first layer's horizontal kernel leaves out its centre.
public final class GatedPixelCNNLayer: Module {
    /// The vertical stack's convolution to its filter and gate, C -> 2C.
    public let vertical: MaskedConv2D
    /// The horizontal stack's convolution to its filter and gate, C -> 2C.
    public let horizontal: MaskedConv2D
    /// The vertical stack's (shifted) contribution to the horizontal filter and gate, 1x1, C -> 2C.
    public let verticalToHorizontal: Conv2D
    /// The horizontal stack's 1x1 output, C -> C.
    public let residual: Conv2D
    /// The class's biases to the filter and gate (nil without classes): a 1x1 convolution of the
    /// one-hot planes, classes -> 2C.
    public let condition: Conv2D?
    let isFirst: Bool

    init(channels: Int, kernel: Int, classes: Int?, isFirst: Bool, using generator: inout RandomGenerator) {
        vertical = MaskedConv2D(inputChannels: channels, outputChannels: 2 * channels, kernel: SpatialPair(kernel), mask: .vertical, using: &generator)
        horizontal = MaskedConv2D(inputChannels: channels, outputChannels: 2 * channels, kernel: SpatialPair(1, kernel),
                                  mask: .horizontal(includesCentre: !isFirst), using: &generator)
        verticalToHorizontal = Conv2D(inputChannels: channels, outputChannels: 2 * channels, kernel: SpatialPair(1), using: &generator)
        residual = Conv2D(inputChannels: channels, outputChannels: channels, kernel: SpatialPair(1), using: &generator)
        condition = classes.map { Conv2D(inputChannels: $0, outputChannels: 2 * channels, kernel: SpatialPair(1), bias: false, using: &generator) }
        self.isFirst = isFirst
    }

    /// (v, h) -> (v', h'), images [N, C, H, W]; `classPlanes` the one-hot class [N, classes, H, W] or nil.
    func callAsFunction(vertical v: Tensor, horizontal h: Tensor, classPlanes: Tensor?) -> (vertical: Tensor, horizontal: Tensor) {
        var bias: Tensor? = nil
        if let classPlanes, let condition { bias = condition(classPlanes).planarImages() }
        func add(_ x: Tensor, _ bias: Tensor?) -> Tensor { bias.map { x + $0 } ?? x }
        let verticalOutput = add(vertical(v), bias).gatedTanh()
        let above = verticalOutput.shiftedDown()
        let gated = add(horizontal(h) + verticalToHorizontal(above).planarImages(), bias).gatedTanh()
        let output = residual(gated).planarImages()
        return (verticalOutput, isFirst ? output : output + h)
    }
}

/// A gated PixelCNN over grids of K categorical values (van den Oord et al. 2016), the learned
/// prior of a VQ-VAE (van den Oord et al. 2017): p(c) = Π_i p(c_i | c_<i, y) in raster order.
/// The values enter through an embedding [K, C]; gated layers (`GatedPixelCNNLayer`) follow, then
/// ReLU, a 1x1 convolution to `outputChannels`, ReLU and a 1x1 convolution to K logits per
/// position. No output depends on its own position or a later one. Keys: `embedding`,
/// `layers.i.*`, `outputHidden`, `output`.
public final class GatedPixelCNN: Module {
    /// The input embedding, [K, C].
    public let embedding: Tensor
    /// The gated layers.
    public let layers: [GatedPixelCNNLayer]
    /// The hidden 1x1 output convolution.
    public let outputHidden: Conv2D
    /// The 1x1 convolution to the K logits.
    public let output: Conv2D
    /// The architecture.
    public let configuration: GatedPixelCNNConfiguration

    /// A network of `configuration` with weights drawn from `generator`.
    public init(_ configuration: GatedPixelCNNConfiguration, using generator: inout RandomGenerator) {
        precondition(configuration.problems.isEmpty, "invalid PixelCNN: \(configuration.problems)")
        let channels = configuration.channels
        embedding = Tensor.randomNormal([configuration.codes, channels], using: &generator, requiresGradient: true)
        layers = (0..<configuration.layers).map { index in
            GatedPixelCNNLayer(channels: channels, kernel: configuration.kernel, classes: configuration.classes, isFirst: index == 0, using: &generator)
        }
        outputHidden = Conv2D(inputChannels: channels, outputChannels: configuration.outputChannels, kernel: SpatialPair(1), using: &generator)
        output = Conv2D(inputChannels: configuration.outputChannels, outputChannels: configuration.codes, kernel: SpatialPair(1), using: &generator)
        self.configuration = configuration
    }

    /// Positions per grid, H · W.
    public var positions: Int { configuration.height * configuration.width }

    /// The logits of every position's value given the values before it, [count · H · W, K] (row
    /// (n · H + i) · W + j for grid n's position (i, j)), for `count` grids of values `codes`
    /// [count · H · W] and their classes (one per grid; nil for an unconditional network).
    public func logits(codes: [Int32], count: Int, labels: [Int]?) -> Tensor {
        let (height, width) = (configuration.height, configuration.width)
        precondition(codes.count == count * positions, "\(codes.count) values for \(count) grids of \(positions)")
        precondition((labels != nil) == (configuration.classes != nil), "a class per grid exactly when the network is conditional")
        var classPlanes: Tensor? = nil
        if let labels, let classes = configuration.classes {
            precondition(labels.count == count && labels.allSatisfy { (0..<classes).contains($0) }, "one class in 0..<\(classes) per grid")
            var planes = [Float](repeating: 0, count: count * classes * positions)
            for (n, label) in labels.enumerated() {
                let start = (n * classes + label) * positions
                for p in 0..<positions { planes[start + p] = 1 }
            }
            classPlanes = Tensor(shape: [count, classes, height, width], scalars: planes)
        }
        let embedded = Tensor.images(fromChannelRows: embedding.gatheringRows(codes), batch: count, height: height, width: width)
        var (v, h) = (embedded, embedded)
        for layer in layers { (v, h) = layer(vertical: v, horizontal: h, classPlanes: classPlanes) }
        return output(outputHidden(h.relu()).relu()).channelRows()
    }

    /// −log p(codes | y) summed over the grids and positions, in nats (a scalar, differentiable).
    public func negativeLogLikelihood(codes: [Int32], count: Int, labels: [Int]?) -> Tensor {
        softmaxCrossEntropy(logits: logits(codes: codes, count: count, labels: labels), labels: codes.map { Int($0) }, reduction: .sum)
    }

    /// `count` grids drawn one position at a time in raster order, each value from
    /// softmax(logits / temperature) (T = 1 is the network's distribution; lower is nearer its
    /// mode), conditioned on `labels` (one per grid) when the network is conditional. [count · H · W].
    public func sample(count: Int, labels: [Int]?, temperature: Float = 1, using generator: inout RandomGenerator) -> [Int32] {
        precondition(count > 0 && temperature > 0, "need count > 0 and temperature > 0")
        let (positions, codes) = (self.positions, configuration.codes)
        var grid = [Int32](repeating: 0, count: count * positions)
        withoutGradients {
            for position in 0..<positions {
                let values = logits(codes: grid, count: count, labels: labels)
                for n in 0..<count {
                    let row = values.pointer + (n * positions + position) * codes
                    var largest = -Float.infinity
                    for k in 0..<codes { largest = max(largest, row[k] / temperature) }
                    var weights = [Double](repeating: 0, count: codes)
                    var total = 0.0
                    for k in 0..<codes {
                        weights[k] = Foundation.exp(Double(row[k] / temperature - largest))
                        total += weights[k]
                    }
                    var threshold = Double(generator.nextUniform()) * total
                    var chosen = codes - 1
                    for k in 0..<codes {
                        threshold -= weights[k]
                        if threshold < 0 { chosen = k; break }
                    }
                    grid[n * positions + position] = Int32(chosen)
                }
            }
        }
        return grid
    }
}
