import Foundation
import TensorCore

// The discretised logistic likelihood of 8-bit images and its mixture (Salimans, Karpathy, Chen
// & Kingma, "PixelCNN++", ICLR 2017), as NVAE and VDVAE use it.
//
// Shapes: parameters [batch, P · H · W] (planar: channel p of pixel i at p · H · W + i, with the
// P channels of `DiscretizedLogisticLayout`), targets [batch, C · H · W] of 8-bit levels in
// [0, 1] -> log p per image [batch]. Inside, a level v is moved to x = 2v − 1 in [−1, 1], where
// the 256 bins are 2/255 wide.
//
// One sub-pixel under a logistic of mean μ and log-scale s (s clamped below at −7), with
// t = e^(−s) and c = x − μ:
//   x = −1 (the lowest bin takes the whole left tail)   log σ(t (c + 1/255))
//   x = +1 (the highest bin takes the right tail)       log(1 − σ(t (c − 1/255)))
//   otherwise                                           log(σ(t (c + 1/255)) − σ(t (c − 1/255)))
// and where that difference falls below 1e-5, the density at the bin's centre times the bin's
// width, t c − s − 2 softplus(t c) − log 127.5 (PixelCNN++'s guard against log 0).
//
// The mixture of K components: per pixel, log p(x) = log Σ_k π_k Π_c p_k(x_c | x_<c), with
// π = softmax(logits) and, in component k, channel c's mean moved by the channels before it:
// μ'_c = μ_c + Σ_{c' < c} tanh(a_{k,c,c'}) x_c' (for RGB: G on R; B on R and G).

/// Where a discretised logistic likelihood's parameters lie among the decoder's output channels.
public struct DiscretizedLogisticLayout: Equatable, Sendable, CustomStringConvertible {
    /// C, the image's channels.
    public let channels: Int
    /// K, the logistic components per pixel (1 for the plain discretised logistic).
    public let components: Int
    /// Whether the components are mixed (mixture logits and channel coefficients present).
    public let isMixture: Bool

    /// The per-channel discretised logistic: a mean and a log-scale per sub-pixel (P = 2C).
    public static func single(channels: Int) -> DiscretizedLogisticLayout {
        DiscretizedLogisticLayout(channels: channels, components: 1, isMixture: false)
    }

    /// The mixture of K components: K logits, then K · C means, K · C log-scales and K · C(C−1)/2
    /// channel coefficients (P = K (1 + 2C + C(C−1)/2): 10K for RGB, 3K for grey).
    public static func mixture(channels: Int, components: Int) -> DiscretizedLogisticLayout {
        DiscretizedLogisticLayout(channels: channels, components: components, isMixture: true)
    }

    init(channels: Int, components: Int, isMixture: Bool) {
        precondition(channels >= 1 && components >= 1, "a discretised logistic needs channels and components, got \(channels) and \(components)")
        (self.channels, self.components, self.isMixture) = (channels, components, isMixture)
    }

    /// Coefficients per component: one for each pair c' < c.
    public var coefficientsPerComponent: Int { isMixture ? channels * (channels - 1) / 2 : 0 }
    /// P, the parameter channels per pixel.
    public var parameterChannels: Int { (isMixture ? components : 0) + components * (2 * channels + coefficientsPerComponent) }
    /// Component k's mixture logit.
    public func logitChannel(_ k: Int) -> Int { k }
    /// Component k's mean of image channel c.
    public func meanChannel(_ k: Int, _ c: Int) -> Int { (isMixture ? components : 0) + k * channels + c }
    /// Component k's log-scale of image channel c.
    public func logScaleChannel(_ k: Int, _ c: Int) -> Int { meanChannel(0, 0) + components * channels + k * channels + c }
    /// Component k's coefficient of channel `earlier` in channel c (earlier < c).
    public func coefficientChannel(_ k: Int, _ c: Int, _ earlier: Int) -> Int {
        precondition(earlier < c, "a coefficient couples an earlier channel to a later one")
        return meanChannel(0, 0) + 2 * components * channels + k * coefficientsPerComponent + c * (c - 1) / 2 + earlier
    }

    /// "mixture of 10, 3 channels" or "single, 1 channel".
    public var description: String {
        (isMixture ? "mixture of \(components)" : "single") + ", \(channels) channel\(channels == 1 ? "" : "s")"
    }

    /// The lower bound of the log-scales (PixelCNN++'s −7).
    public static let minimumLogScale: Float = -7
}

/// log p(targets) per image under the discretised logistic (mixture) whose parameters are
/// `parameters`; differentiable in the parameters (targets are data). See the file's header for
/// the formulas. Shapes: parameters [batch, P · H · W], targets [batch, C · H · W] -> [batch].
///
/// The forward pass keeps d log p / d parameter (the per-component terms already weighted by
/// the component's posterior responsibility), so the backward pass is one scaling per image.
public func discretizedLogisticLogLikelihood(parameters: Tensor, targets: Tensor, layout: DiscretizedLogisticLayout) -> Tensor {
    precondition(parameters.rank == 2 && targets.rank == 2 && parameters.shape[0] == targets.shape[0],
                 "parameters \(parameters.shape) and targets \(targets.shape) must be [batch, values]")
    let batch = targets.shape[0], pixels = targets.shape[1] / layout.channels
    precondition(pixels * layout.channels == targets.shape[1] && parameters.shape[1] == layout.parameterChannels * pixels,
                 "targets [\(batch), \(targets.shape[1])] of \(layout.channels) channels need parameters [\(batch), \(layout.parameterChannels * pixels)], got \(parameters.shape)")
    let keepsDerivative = GradientMode.isEnabled && parameters.requiresGradient
    let derivative: TensorStorage? = keepsDerivative ? TensorStorage(uninitializedCount: parameters.count) : nil
    let perImage = parameters.shape[1]
    let y = Tensor.result(shape: [batch], inputs: [parameters]) { g in
        parameters.accumulateGradient { gradient, accumulate in
            for row in 0..<batch {
                let seed = FloatVector(repeating: g[row]), offset = row &* perImage
                forEachVector(perImage) { i, n in
                    storeVector(seed * loadVector(derivative!.pointer + offset, i, n), gradient + offset, i, n, accumulate: accumulate)
                }
            }
        }
    }
    var scratch = DiscretizedLogisticScratch(layout: layout)
    for row in 0..<batch {
        y.pointer[row] = discretizedLogisticRow(parameters: parameters.pointer + row &* perImage, targets: targets.pointer + row &* targets.shape[1],
                                                derivative: derivative.map { $0.pointer + row &* perImage }, pixels: pixels,
                                                layout: layout, scratch: &scratch)
    }
    return y
}

/// Per-call working space of the kernel: one vector per component for 16 pixels at a time.
struct DiscretizedLogisticScratch {
    var componentLogs: [FloatVector]
    var levels: [FloatVector]
    var tanhs: [FloatVector]
    init(layout: DiscretizedLogisticLayout) {
        componentLogs = Array(repeating: FloatVector(), count: layout.components)
        levels = Array(repeating: FloatVector(), count: layout.channels)
        tanhs = Array(repeating: FloatVector(), count: layout.channels)
    }
}

/// One sub-pixel's log-probability under a logistic, with its derivatives in the mean and in the
/// (clamped) log-scale, for 16 lanes. `x` in [−1, 1].
@inline(__always)
func logisticBinLogProbability(x: FloatVector, mean: FloatVector, logScale rawLogScale: FloatVector)
    -> (value: FloatVector, dMean: FloatVector, dLogScale: FloatVector) {
    var logScale = rawLogScale
    let clamped = rawLogScale .< DiscretizedLogisticLayout.minimumLogScale
    logScale.replace(with: DiscretizedLogisticLayout.minimumLogScale, where: clamped)
    let t = VectorMath.exp(-logScale)
    let centred = x - mean
    let halfBin: Float = 1 / 255
    let plus = t * (centred + halfBin), minus = t * (centred - halfBin)
    // σ(p) − σ(m), taken from the side where both are small, so it keeps its digits.
    let sigmoidPlus = VectorMath.sigmoid(plus), sigmoidMinus = VectorMath.sigmoid(minus)
    let sigmoidNegativePlus = VectorMath.sigmoid(-plus), sigmoidNegativeMinus = VectorMath.sigmoid(-minus)
    var difference = sigmoidPlus - sigmoidMinus
    difference.replace(with: sigmoidNegativeMinus - sigmoidNegativePlus, where: minus .> 0)
    // The middle bins.
    let safeDifference = VectorMath.positivePart(difference - 1e-12) + 1e-12
    var value = VectorMath.log(safeDifference)
    var dPlus = sigmoidPlus * sigmoidNegativePlus / safeDifference
    var dMinus = -(sigmoidMinus * sigmoidNegativeMinus) / safeDifference
    // Where the bin's mass is under 1e-5: the density at the centre times the bin's width.
    let thin = difference .<= 1e-5
    if any(thin) {
        let middle = t * centred
        let density = middle - logScale - 2 * VectorMath.softplus(middle) - Float(Foundation.log(127.5))
        value.replace(with: density, where: thin)
        // d/d(middle) = 1 − 2σ(middle), counted on the `plus` slot with `minus` zero: the
        // derivatives below treat (plus, minus) alike.
        dPlus.replace(with: 1 - 2 * VectorMath.sigmoid(middle), where: thin)
        dMinus.replace(with: 0, where: thin)
    }
    // The edge bins.
    let lowest = x .< -0.999, highest = x .> 0.999
    if any(lowest) {
        value.replace(with: plus - VectorMath.softplus(plus), where: lowest)
        dPlus.replace(with: sigmoidNegativePlus, where: lowest)
        dMinus.replace(with: 0, where: lowest)
    }
    if any(highest) {
        value.replace(with: -VectorMath.softplus(minus), where: highest)
        dPlus.replace(with: 0, where: highest)
        dMinus.replace(with: -sigmoidMinus, where: highest)
    }
    // plus, minus and middle are t (c ± δ) and t c: each moves by −t per unit of mean and by
    // minus itself per unit of log-scale. For the thin bins the density also has −s.
    let dMean = -t * (dPlus + dMinus)
    var argumentPlus = plus
    argumentPlus.replace(with: t * centred, where: thin .& .!lowest .& .!highest)
    var dLogScale = -(argumentPlus * dPlus + minus * dMinus)
    dLogScale.replace(with: dLogScale - 1, where: thin .& .!lowest .& .!highest)
    dLogScale.replace(with: 0, where: clamped)
    return (value, dMean, dLogScale)
}

/// One image: Σ over pixels of log p(pixel); writes d log p / d parameter when `derivative` is given.
func discretizedLogisticRow(parameters: UnsafePointer<Float>, targets: UnsafePointer<Float>, derivative: UnsafeMutablePointer<Float>?,
                            pixels: Int, layout: DiscretizedLogisticLayout, scratch: inout DiscretizedLogisticScratch) -> Float {
    let (channels, components) = (layout.channels, layout.components)
    var total = FloatVector()
    forEachVector(pixels) { i, n in
        for c in 0..<channels { scratch.levels[c] = 2 * loadVector(targets + c &* pixels, i, n) - 1 }
        for k in 0..<components {
            var componentLog = layout.isMixture ? loadVector(parameters + layout.logitChannel(k) &* pixels, i, n) : FloatVector()
            for c in 0..<channels {
                var mean = loadVector(parameters + layout.meanChannel(k, c) &* pixels, i, n)
                let coupled = layout.isMixture ? c : 0
                for earlier in 0..<coupled {
                    scratch.tanhs[earlier] = VectorMath.tanh(loadVector(parameters + layout.coefficientChannel(k, c, earlier) &* pixels, i, n))
                    mean += scratch.tanhs[earlier] * scratch.levels[earlier]
                }
                let term = logisticBinLogProbability(x: scratch.levels[c], mean: mean,
                                                     logScale: loadVector(parameters + layout.logScaleChannel(k, c) &* pixels, i, n))
                componentLog += term.value
                if let derivative {
                    storeVector(term.dMean, derivative, layout.meanChannel(k, c) &* pixels &+ i, n)
                    storeVector(term.dLogScale, derivative, layout.logScaleChannel(k, c) &* pixels &+ i, n)
                    for earlier in 0..<coupled {
                        let local = term.dMean * scratch.levels[earlier] * (1 - scratch.tanhs[earlier] * scratch.tanhs[earlier])
                        storeVector(local, derivative, layout.coefficientChannel(k, c, earlier) &* pixels &+ i, n)
                    }
                }
            }
            scratch.componentLogs[k] = componentLog
        }
        var pixelLog: FloatVector
        if layout.isMixture {
            // log Σ_k e^{a_k} − log Σ_k e^{logit_k}; responsibilities w_k = softmax(a)_k.
            var maximum = scratch.componentLogs[0], logitMaximum = loadVector(parameters + layout.logitChannel(0) &* pixels, i, n)
            for k in 1..<max(components, 1) {
                maximum = pointwiseMaximum(maximum, scratch.componentLogs[k])
                logitMaximum = pointwiseMaximum(logitMaximum, loadVector(parameters + layout.logitChannel(k) &* pixels, i, n))
            }
            var sum = FloatVector(), logitSum = FloatVector()
            for k in 0..<components {
                sum += VectorMath.exp(scratch.componentLogs[k] - maximum)
                logitSum += VectorMath.exp(loadVector(parameters + layout.logitChannel(k) &* pixels, i, n) - logitMaximum)
            }
            let logSum = maximum + VectorMath.log(sum), logitLogSum = logitMaximum + VectorMath.log(logitSum)
            pixelLog = logSum - logitLogSum
            if let derivative {
                for k in 0..<components {
                    let responsibility = VectorMath.exp(scratch.componentLogs[k] - logSum)
                    let weight = VectorMath.exp(loadVector(parameters + layout.logitChannel(k) &* pixels, i, n) - logitLogSum)
                    storeVector(responsibility - weight, derivative, layout.logitChannel(k) &* pixels &+ i, n)
                    // Component k's own channels (means, log-scales, coefficients) lie together.
                    func weigh(_ slot: Int) {
                        let at = derivative + slot &* pixels
                        storeVector(loadVector(at, i, n) * responsibility, at, i, n)
                    }
                    for c in 0..<channels {
                        weigh(layout.meanChannel(k, c))
                        weigh(layout.logScaleChannel(k, c))
                        for earlier in 0..<c { weigh(layout.coefficientChannel(k, c, earlier)) }
                    }
                }
            }
        } else {
            pixelLog = scratch.componentLogs[0]
        }
        if n < 16 { for lane in n..<16 { pixelLog[lane] = 0 } }
        total += pixelLog
    }
    return total.sum()
}

@inline(__always)
func pointwiseMaximum(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
    var result = a
    result.replace(with: b, where: b .> a)
    return result
}

/// The mean image of the discretised logistic (mixture), in [0, 1]: per pixel Σ_k π_k m_k with
/// m_k the component's channel means moved by its coefficients applied to the earlier channels'
/// means (the mean of the continuous mixture), mapped from [−1, 1] to [0, 1] and clipped.
/// Shapes: parameters [batch, P · H · W] -> [batch, C · H · W] (not differentiable).
public func discretizedLogisticMean(parameters: Tensor, layout: DiscretizedLogisticLayout) -> Tensor {
    let batch = parameters.shape[0], perImage = parameters.shape[1], pixels = perImage / layout.parameterChannels
    precondition(pixels * layout.parameterChannels == perImage, "parameters \(parameters.shape) do not hold \(layout.parameterChannels) channels per pixel")
    let (channels, components) = (layout.channels, layout.components)
    var result = [Float](repeating: 0, count: batch * channels * pixels)
    for row in 0..<batch {
        let p = parameters.pointer + row * perImage
        for pixel in 0..<pixels {
            func value(_ channel: Int) -> Double { Double(p[channel * pixels + pixel]) }
            var weights = (0..<components).map { layout.isMixture ? value(layout.logitChannel($0)) : 0 }
            let maximum = weights.max()!
            weights = weights.map { Foundation.exp($0 - maximum) }
            let normaliser = weights.reduce(0, +)
            var means = [Double](repeating: 0, count: channels)
            for k in 0..<components {
                var componentMeans = [Double](repeating: 0, count: channels)
                for c in 0..<channels {
                    var mean = value(layout.meanChannel(k, c))
                    if layout.isMixture {
                        for earlier in 0..<c { mean += Foundation.tanh(value(layout.coefficientChannel(k, c, earlier))) * componentMeans[earlier] }
                    }
                    componentMeans[c] = mean
                    means[c] += weights[k] / normaliser * mean
                }
            }
            for c in 0..<channels { result[row * channels * pixels + c * pixels + pixel] = Float(min(max((means[c] + 1) / 2, 0), 1)) }
        }
    }
    return Tensor(shape: [batch, channels * pixels], scalars: result)
}

/// The same log-likelihood written plainly in Double, term by term as PixelCNN++ writes it (the
/// reference the fast kernel is tested against). Shapes as `discretizedLogisticLogLikelihood`,
/// flattened row-major.
package func discretizedLogisticLogLikelihoodReference(parameters: [Double], targets: [Double], batch: Int,
                                                      layout: DiscretizedLogisticLayout) -> [Double] {
    let perImageTargets = targets.count / batch, pixels = perImageTargets / layout.channels
    let perImage = layout.parameterChannels * pixels
    func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    func softplus(_ x: Double) -> Double { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }
    return (0..<batch).map { row in
        let p = Array(parameters[(row * perImage)..<((row + 1) * perImage)])
        var total = 0.0
        for pixel in 0..<pixels {
            let x = (0..<layout.channels).map { 2 * targets[row * perImageTargets + $0 * pixels + pixel] - 1 }
            func value(_ channel: Int) -> Double { p[channel * pixels + pixel] }
            var componentLogs: [Double] = []
            for k in 0..<layout.components {
                var log = layout.isMixture ? value(layout.logitChannel(k)) : 0
                for c in 0..<layout.channels {
                    var mean = value(layout.meanChannel(k, c))
                    if layout.isMixture { for earlier in 0..<c { mean += Foundation.tanh(value(layout.coefficientChannel(k, c, earlier))) * x[earlier] } }
                    let logScale = max(value(layout.logScaleChannel(k, c)), Double(DiscretizedLogisticLayout.minimumLogScale))
                    let t = Foundation.exp(-logScale), centred = x[c] - mean
                    let plus = t * (centred + 1.0 / 255), minus = t * (centred - 1.0 / 255)
                    let term: Double
                    if x[c] < -0.999 {
                        term = plus - softplus(plus)
                    } else if x[c] > 0.999 {
                        term = -softplus(minus)
                    } else if sigmoid(plus) - sigmoid(minus) > 1e-5 {
                        term = Foundation.log(max(sigmoid(plus) - sigmoid(minus), 1e-12))
                    } else {
                        let middle = t * centred
                        term = middle - logScale - 2 * softplus(middle) - Foundation.log(127.5)
                    }
                    log += term
                }
                componentLogs.append(log)
            }
            if layout.isMixture {
                let logits = (0..<layout.components).map { value(layout.logitChannel($0)) }
                total += logSumExp(componentLogs) - logSumExp(logits)
            } else {
                total += componentLogs[0]
            }
        }
        return total
    }
}

/// log Σ e^{a_i}, stably.
func logSumExp(_ values: [Double]) -> Double {
    let maximum = values.max()!
    return maximum + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - maximum) })
}
