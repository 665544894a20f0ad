// The normalisation kernels vectorised (the maths is in Normalization.swift; the plain loops
// there are their reference).
//
// A batch is cut into runs, one per (image, channel block): pixels · inner contiguous values
// (inner = 1 planar, b blocked). Within a run, the value at offset o has channel
// block · inner + o mod inner, so lane l of every 16-float vector holds channel
// block · inner + l mod inner (inner divides 16): each lane has one channel and one
// statistics set for the whole run. Per run, the kernels gather their per-lane constants
// once, stream the run in 16-float vectors with Float accumulators, and fold the lanes into
// per-channel and per-set sums in Double.

/// The vectorised normalisation kernels (see the file's description).
enum VectorNormalizationKernels {
    typealias Walk = NormalizationKernels.Walk

    /// Calls `body(start, length, image, block)` for every run, in storage order.
    @inline(__always) static func forEachRun(_ walk: Walk, _ body: (_ start: Int, _ length: Int, _ image: Int, _ block: Int) -> Void) {
        let images = walk.images
        let length = images.pixels &* images.inner
        var start = 0
        for image in 0..<images.batch {
            for block in 0..<images.blocks {
                body(start, length, image, block)
                start &+= length
            }
        }
    }

    /// Lane `lane`'s channel in a run of channel block `block`.
    @inline(__always) static func channel(_ walk: Walk, block: Int, lane: Int) -> Int {
        let inner = walk.images.inner
        return block &* inner &+ lane % inner
    }

    /// The statistics set of `channel` in `image`.
    @inline(__always) static func set(_ walk: Walk, image: Int, channel: Int) -> Int {
        walk.groups == 0 ? channel : image &* walk.groups &+ channel / (walk.channels / walk.groups)
    }

    /// A vector of one value per lane: `value(channel, set)` for each lane of the run.
    @inline(__always) static func gather(_ walk: Walk, image: Int, block: Int, _ value: (_ channel: Int, _ set: Int) -> Float) -> FloatVector {
        var vector = FloatVector(repeating: 0)
        for lane in 0..<16 {
            let channel = channel(walk, block: block, lane: lane)
            vector[lane] = value(channel, set(walk, image: image, channel: channel))
        }
        return vector
    }

    /// Ones in the first `lanes` lanes, zeros after.
    @inline(__always) static func mask(_ lanes: Int) -> FloatVector {
        var vector = FloatVector(repeating: 0)
        for lane in 0..<lanes { vector[lane] = 1 }
        return vector
    }

    /// μ_s and the biased σ²_s (two passes: the mean, then the squared deviations).
    static func statistics(_ x: UnsafePointer<Float>, _ walk: Walk, mean: inout [Float], variance: inout [Float]) {
        var sums = [Double](repeating: 0, count: walk.sets)
        forEachRun(walk) { start, length, image, block in
            var total = FloatVector(repeating: 0)
            forEachVector(length) { offset, lanes in total += loadVector(x + start, offset, lanes) }
            for lane in 0..<16 { sums[set(walk, image: image, channel: channel(walk, block: block, lane: lane))] += Double(total[lane]) }
        }
        let means = sums.map { $0 / Double(walk.valuesPerSet) }
        var squares = [Double](repeating: 0, count: walk.sets)
        forEachRun(walk) { start, length, image, block in
            let centre = gather(walk, image: image, block: block) { _, set in Float(means[set]) }
            var total = FloatVector(repeating: 0)
            forEachVector(length) { offset, lanes in
                let deviation = (loadVector(x + start, offset, lanes) - centre) * (lanes == 16 ? FloatVector(repeating: 1) : mask(lanes))
                total += deviation * deviation
            }
            for lane in 0..<16 { squares[set(walk, image: image, channel: channel(walk, block: block, lane: lane))] += Double(total[lane]) }
        }
        for set in 0..<walk.sets {
            mean[set] = Float(means[set])
            variance[set] = Float(squares[set] / Double(walk.valuesPerSet))
        }
    }

    /// y = x a + b per lane, a = γ_c r_s, b = β_c − μ_s a.
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ walk: Walk, mean: [Float], inverseDeviation: [Float],
                        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        forEachRun(walk) { start, length, image, block in
            let a = gather(walk, image: image, block: block) { channel, set in scale[channel] * inverseDeviation[set] }
            let b = gather(walk, image: image, block: block) { channel, set in shift[channel] - mean[set] * scale[channel] * inverseDeviation[set] }
            forEachVector(length) { offset, lanes in storeVector(loadVector(x + start, offset, lanes) * a + b, y + start, offset, lanes) }
        }
    }

    /// Per run and lane: Σ dy and Σ dy (x − μ_s), folded into dβ_c += Σ dy and dγ_c +=
    /// r_s Σ dy (x − μ_s), and, per set, Σ γ_c dy and Σ γ_c dy x̂ (returned, for dx).
    static func gradientSums(x: Tensor, g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk, mean: [Float],
                             inverseDeviation: [Float]) -> (gradient: [Double], gradientTimesNormalized: [Double]) {
        let values = x.pointer, gamma = scale.pointer
        var scaleSums = [Double](repeating: 0, count: walk.channels), shiftSums = scaleSums
        var setGradient = [Double](repeating: 0, count: walk.sets), setGradientTimesNormalized = setGradient
        forEachRun(walk) { start, length, image, block in
            let centre = gather(walk, image: image, block: block) { _, set in mean[set] }
            var gradientTotal = FloatVector(repeating: 0), productTotal = FloatVector(repeating: 0)
            forEachVector(length) { offset, lanes in
                let gradient = loadVector(g + start, offset, lanes)
                gradientTotal += gradient
                productTotal += gradient * (loadVector(values + start, offset, lanes) - centre)
            }
            for lane in 0..<16 {
                let channel = channel(walk, block: block, lane: lane), set = set(walk, image: image, channel: channel)
                let (gradient, product) = (Double(gradientTotal[lane]), Double(productTotal[lane]) * Double(inverseDeviation[set]))
                shiftSums[channel] += gradient
                scaleSums[channel] += product
                setGradient[set] += Double(gamma[channel]) * gradient
                setGradientTimesNormalized[set] += Double(gamma[channel]) * product
            }
        }
        for (tensor, sums) in [(scale, scaleSums), (shift, shiftSums)] where tensor.requiresGradient {
            tensor.accumulateGradient { gradient, accumulate in
                for channel in 0..<walk.channels { gradient[channel] = (accumulate ? gradient[channel] : 0) + Float(sums[channel]) }
            }
        }
        return (setGradient, setGradientTimesNormalized)
    }

    /// The gradients of x, γ and β with the batch's statistics: dx = g a + x b + c per lane with
    /// a = r γ_c, b = −r² m̄, c = −r ḡ + r² μ m̄, where ḡ = mean_s(γ dy) and m̄ = mean_s(γ dy x̂).
    static func backward(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk, mean: [Float],
                         inverseDeviation: [Float]) {
        guard x.requiresGradient || scale.requiresGradient || shift.requiresGradient else { return }
        let (setGradient, setGradientTimesNormalized) = gradientSums(x: x, g: g, scale: scale, shift: shift, walk, mean: mean,
                                                                     inverseDeviation: inverseDeviation)
        guard x.requiresGradient else { return }
        let count = Double(walk.valuesPerSet)
        let meanGradient = setGradient.map { Float($0 / count) }, meanGradientTimesNormalized = setGradientTimesNormalized.map { Float($0 / count) }
        let values = x.pointer, gamma = scale.pointer
        x.accumulateGradient { dx, accumulate in
            forEachRun(walk) { start, length, image, block in
                let a = gather(walk, image: image, block: block) { channel, set in inverseDeviation[set] * gamma[channel] }
                let b = gather(walk, image: image, block: block) { _, set in -inverseDeviation[set] * inverseDeviation[set] * meanGradientTimesNormalized[set] }
                let c = gather(walk, image: image, block: block) { _, set in
                    let r = inverseDeviation[set]
                    return -r * meanGradient[set] + r * r * mean[set] * meanGradientTimesNormalized[set]
                }
                forEachVector(length) { offset, lanes in
                    let value = loadVector(g + start, offset, lanes) * a + loadVector(values + start, offset, lanes) * b + c
                    storeVector(value, dx + start, offset, lanes, accumulate: accumulate)
                }
            }
        }
    }

    /// The gradients with fixed statistics: dx = γ_c r_c dy, and γ's and β's as with the batch's.
    static func backwardWithFixedStatistics(x: Tensor, outputGradient g: UnsafePointer<Float>, scale: Tensor, shift: Tensor, _ walk: Walk,
                                            mean: [Float], inverseDeviation: [Float]) {
        if scale.requiresGradient || shift.requiresGradient {
            _ = gradientSums(x: x, g: g, scale: scale, shift: shift, walk, mean: mean, inverseDeviation: inverseDeviation)
        }
        guard x.requiresGradient else { return }
        let gamma = scale.pointer
        x.accumulateGradient { dx, accumulate in
            forEachRun(walk) { start, length, image, block in
                let a = gather(walk, image: image, block: block) { channel, set in gamma[channel] * inverseDeviation[set] }
                forEachVector(length) { offset, lanes in storeVector(loadVector(g + start, offset, lanes) * a, dx + start, offset, lanes, accumulate: accumulate) }
            }
        }
    }
}
