// Batch and group normalisation of image batches, in either image layout.
//
// A planar batch [N, C, H, W] and a channel-blocked one [N, C / b, H, W, b] are both walked as
// (n, channel block, pixel, lane) with channel = block · inner + lane (inner = 1 planar, b
// blocked), so one kernel serves both layouts and the result keeps the input's.
//
// Each value x belongs to one statistics set s: its channel (batch normalisation, Ioffe &
// Szegedy 2015: the set is every image's pixels of that channel) or its image's group of C / G
// channels (group normalisation, Wu & He 2018). With μ_s and σ²_s the set's mean and biased
// variance, x̂ = (x − μ_s) / √(σ²_s + ε) and y = γ_c x̂ + β_c.
//
// Backward, with g' = γ_c dy and M values per set:
//   dx = (1 / √(σ²_s + ε)) · (g' − mean_s(g') − x̂ · mean_s(g' x̂)),
//   dγ_c = Σ dy x̂ and dβ_c = Σ dy over the channel's values.

/// Which values share statistics.
public enum NormalizationSets: Sendable, Equatable {
    /// One set per channel, over the batch and the pixels (batch normalisation).
    case channels
    /// G sets per image, each of C / G consecutive channels and their pixels (group
    /// normalisation; G = 1 is layer normalisation over C, H, W).
    case groups(Int)
}

/// The statistics a normalisation used: per set, the mean and the biased variance.
public struct NormalizationStatistics: Sendable, Equatable {
    /// μ_s.
    public var mean: [Float]
    /// σ²_s (biased: divided by M).
    public var variance: [Float]
    /// M, the values per set (batch normalisation's running variance takes the unbiased
    /// σ² M / (M − 1)).
    public var valuesPerSet: Int
}

extension Tensor {
    /// The images normalised over `sets` with the batch's own statistics, then scaled and
    /// shifted per channel: y = γ_c (x − μ_s) / √(σ²_s + ε) + β_c. `scale` γ and `shift` β are
    /// [C]. Differentiable in x, γ and β. Returns the statistics used (for running averages).
    public func normalized(over sets: NormalizationSets, scale: Tensor, shift: Tensor, epsilon: Float) -> (output: Tensor, statistics: NormalizationStatistics) {
        normalized(over: sets, scale: scale, shift: shift, epsilon: epsilon, kernels: VectorNormalizationKernels.self)
    }

    /// `normalized(over:scale:shift:epsilon:)` through the plain reference loops (one value at a
    /// time, sums in Double), forward and backward: what the vectorised kernels are tested against.
    public func referenceNormalized(over sets: NormalizationSets, scale: Tensor, shift: Tensor, epsilon: Float) -> (output: Tensor, statistics: NormalizationStatistics) {
        normalized(over: sets, scale: scale, shift: shift, epsilon: epsilon, kernels: NormalizationKernels.self)
    }

    func normalized(over sets: NormalizationSets, scale: Tensor, shift: Tensor, epsilon: Float,
                    kernels: any NormalizationKernelSet.Type) -> (output: Tensor, statistics: NormalizationStatistics) {
        let walk = NormalizationKernels.Walk(self, sets: sets)
        precondition(scale.shape == [walk.channels] && shift.shape == [walk.channels],
                     "scale and shift must be [\(walk.channels)], got \(scale.shape) and \(shift.shape)")
        precondition(epsilon >= 0, "epsilon must not be negative")
        var mean = [Float](repeating: 0, count: walk.sets), variance = mean
        kernels.statistics(pointer, walk, mean: &mean, variance: &variance)
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let x = self
        let y = Tensor.result(shape: shape, inputs: [x, scale, shift]) { g in
            kernels.backward(x: x, outputGradient: g, scale: scale, shift: shift, walk, mean: mean, inverseDeviation: inverseDeviation)
        }
        kernels.forward(pointer, y.pointer, walk, mean: mean, inverseDeviation: inverseDeviation, scale: scale.pointer, shift: shift.pointer)
        return (y, NormalizationStatistics(mean: mean, variance: variance, valuesPerSet: walk.valuesPerSet))
    }

    /// The images normalised per channel with given statistics (batch normalisation at
    /// evaluation, with the running averages): y = γ_c (x − μ_c) / √(σ²_c + ε) + β_c.
    /// Differentiable in x, γ and β.
    public func normalized(mean: [Float], variance: [Float], scale: Tensor, shift: Tensor, epsilon: Float) -> Tensor {
        normalized(mean: mean, variance: variance, scale: scale, shift: shift, epsilon: epsilon, kernels: VectorNormalizationKernels.self)
    }

    /// `normalized(mean:variance:scale:shift:epsilon:)` through the plain reference loops.
    public func referenceNormalized(mean: [Float], variance: [Float], scale: Tensor, shift: Tensor, epsilon: Float) -> Tensor {
        normalized(mean: mean, variance: variance, scale: scale, shift: shift, epsilon: epsilon, kernels: NormalizationKernels.self)
    }

    func normalized(mean: [Float], variance: [Float], scale: Tensor, shift: Tensor, epsilon: Float, kernels: any NormalizationKernelSet.Type) -> Tensor {
        let walk = NormalizationKernels.Walk(self, sets: .channels)
        precondition(mean.count == walk.channels && variance.count == walk.channels, "one mean and variance per channel")
        precondition(scale.shape == [walk.channels] && shift.shape == [walk.channels],
                     "scale and shift must be [\(walk.channels)], got \(scale.shape) and \(shift.shape)")
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let x = self
        let y = Tensor.result(shape: shape, inputs: [x, scale, shift]) { g in
            kernels.backwardWithFixedStatistics(x: x, outputGradient: g, scale: scale, shift: shift, walk, mean: mean, inverseDeviation: inverseDeviation)
        }
        kernels.forward(pointer, y.pointer, walk, mean: mean, inverseDeviation: inverseDeviation, scale: scale.pointer, shift: shift.pointer)
        return y
    }
}

/// The four kernels a normalisation runs, as the plain loops (`NormalizationKernels`) and the
/// vectorised ones (`VectorNormalizationKernels`) both provide them.
protocol NormalizationKernelSet {
    /// μ_s and the biased σ²_s.
    static func statistics(_ x: UnsafePointer<Float>, _ walk: NormalizationKernels.Walk, mean: inout [Float], variance: inout [Float])
    /// y = γ_c (x − μ_s) r_s + β_c.
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ walk: NormalizationKernels.Walk, mean: [Float],
                        inverseDeviation: [Float], scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)
    /// The gradients of x, γ and β with the batch's statistics.
    static func backward(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: NormalizationKernels.Walk,
                         mean: [Float], inverseDeviation: [Float])
    /// The gradients with fixed statistics.
    static func backwardWithFixedStatistics(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor,
                                            _ walk: NormalizationKernels.Walk, mean: [Float], inverseDeviation: [Float])
}

extension NormalizationKernels: NormalizationKernelSet {}
extension VectorNormalizationKernels: NormalizationKernelSet {}

/// The normalisation kernels as plain loops over one value at a time, sums in Double: the
/// reference the vectorised kernels (`VectorNormalizationKernels`) are tested against.
enum NormalizationKernels {
    /// How a batch is walked, and which set each channel of each image belongs to.
    struct Walk {
        let images: ChannelWalk
        let channels: Int
        let sets: Int
        /// Groups per image (0 for per-channel sets).
        let groups: Int
        let valuesPerSet: Int

        init(_ x: Tensor, sets: NormalizationSets) {
            images = ChannelWalk(x)
            channels = images.channels
            switch sets {
            case .channels:
                (groups, self.sets, valuesPerSet) = (0, channels, images.batch * images.pixels)
            case let .groups(count):
                precondition(count >= 1 && channels % count == 0, "\(channels) channels do not split into \(count) groups")
                (groups, self.sets, valuesPerSet) = (count, images.batch * count, channels / count * images.pixels)
            }
            precondition(valuesPerSet >= 1, "normalisation needs at least one value per set")
        }

        /// Calls `body(offset, set, channel)` for every value, in storage order.
        @inline(__always) func forEach(_ body: (_ offset: Int, _ set: Int, _ channel: Int) -> Void) {
            let (groups, perGroup) = (groups, groups == 0 ? 1 : channels / groups)
            images.forEach { offset, image, channel in
                body(offset, groups == 0 ? channel : image * groups + channel / perGroup, channel)
            }
        }
    }

    /// μ_s and the biased σ²_s, summed in Double (two passes: the mean, then the squared
    /// deviations).
    static func statistics(_ x: UnsafePointer<Float>, _ walk: Walk, mean: inout [Float], variance: inout [Float]) {
        var sums = [Double](repeating: 0, count: walk.sets)
        walk.forEach { offset, set, _ in sums[set] += Double(x[offset]) }
        let means = sums.map { $0 / Double(walk.valuesPerSet) }
        var squares = [Double](repeating: 0, count: walk.sets)
        walk.forEach { offset, set, _ in
            let deviation = Double(x[offset]) - means[set]
            squares[set] += deviation * deviation
        }
        for set in 0..<walk.sets {
            mean[set] = Float(means[set])
            variance[set] = Float(squares[set] / Double(walk.valuesPerSet))
        }
    }

    /// y = γ_c (x − μ_s) r_s + β_c, r = 1 / √(σ² + ε).
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ walk: Walk, mean: [Float], inverseDeviation: [Float],
                        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        walk.forEach { offset, set, channel in
            y[offset] = scale[channel] * (x[offset] - mean[set]) * inverseDeviation[set] + shift[channel]
        }
    }

    /// The gradients of x, γ and β with the batch's statistics (see the file's description).
    static func backward(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk, mean: [Float],
                         inverseDeviation: [Float]) {
        let values = x.pointer, gamma = scale.pointer
        @inline(__always) func normalizedValue(_ offset: Int, _ set: Int) -> Float { (values[offset] - mean[set]) * inverseDeviation[set] }
        accumulateAffineGradients(x: x, g: g, scale: scale, shift: shift, walk, normalized: normalizedValue)
        guard x.requiresGradient else { return }
        var sumGradient = [Double](repeating: 0, count: walk.sets), sumGradientTimesNormalized = sumGradient
        walk.forEach { offset, set, channel in
            let scaled = Double(g[offset] * gamma[channel])
            sumGradient[set] += scaled
            sumGradientTimesNormalized[set] += scaled * Double(normalizedValue(offset, set))
        }
        let count = Double(walk.valuesPerSet)
        let meanGradient = sumGradient.map { Float($0 / count) }
        let meanGradientTimesNormalized = sumGradientTimesNormalized.map { Float($0 / count) }
        x.accumulateGradient { dx, accumulate in
            walk.forEach { offset, set, channel in
                let value = inverseDeviation[set] * (g[offset] * gamma[channel] - meanGradient[set]
                                                     - normalizedValue(offset, set) * meanGradientTimesNormalized[set])
                dx[offset] = accumulate ? dx[offset] + value : value
            }
        }
    }

    /// The gradients with fixed statistics: dx = γ_c r_c dy, and γ's and β's as with the batch's.
    static func backwardWithFixedStatistics(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk,
                                            mean: [Float], inverseDeviation: [Float]) {
        let values = x.pointer, gamma = scale.pointer
        accumulateAffineGradients(x: x, g: g, scale: scale, shift: shift, walk) { offset, set in (values[offset] - mean[set]) * inverseDeviation[set] }
        x.accumulateGradient { dx, accumulate in
            walk.forEach { offset, set, channel in
                let value = gamma[channel] * inverseDeviation[set] * g[offset]
                dx[offset] = accumulate ? dx[offset] + value : value
            }
        }
    }

    /// dγ_c += Σ dy x̂ and dβ_c += Σ dy over channel c's values.
    static func accumulateAffineGradients(x: Tensor, g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk,
                                          normalized: (_ offset: Int, _ set: Int) -> Float) {
        guard scale.requiresGradient || shift.requiresGradient else { return }
        var scaleSums = [Double](repeating: 0, count: walk.channels), shiftSums = scaleSums
        walk.forEach { offset, set, channel in
            scaleSums[channel] += Double(g[offset] * normalized(offset, set))
            shiftSums[channel] += Double(g[offset])
        }
        for (tensor, sums) in [(scale, scaleSums), (shift, shiftSums)] {
            tensor.accumulateGradient { gradient, accumulate in
                for channel in 0..<walk.channels {
                    gradient[channel] = (accumulate ? gradient[channel] : 0) + Float(sums[channel])
                }
            }
        }
    }
}
