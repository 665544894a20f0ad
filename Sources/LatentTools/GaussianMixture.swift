import Foundation
import SafeTensors
import TensorCore

/// A mixture of K Gaussians with full covariances, p(z) = Σ_k w_k N(z | μ_k, Σ_k), fitted by
/// expectation-maximisation (Dempster et al. 1977; Bishop, PRML §9.2) to a model's posterior
/// means: pythae's GMM sampler and Ghosh et al.'s ex-post density estimation.
///
/// The fit is seeded and deterministic: k-means++ picks the initial centres (Arthur & Vassilvitskii
/// 2007), ten Lloyd iterations refine them, then EM runs until the mean log-likelihood per point
/// improves by less than `tolerance`. Each covariance gets `regularization` added to its diagonal
/// (as scikit-learn's reg_covar), so a component on a flat cluster stays invertible. The fitted
/// parameters are rounded to Float, as the file stores them, so a mixture draws the same from
/// memory and from its file.
public struct GaussianMixture: LatentSampler, Sendable {
    /// The dimension d.
    public let latentSize: Int
    /// The mixing weights w_k, summing to 1.
    public let weights: [Double]
    /// μ_k, each [d].
    public let means: [[Double]]
    /// Σ_k, each [d · d] row-major.
    public let covariances: [[Double]]
    /// L_k with L_k L_kᵀ = Σ_k.
    let factors: [[Double]]
    /// The mean log-likelihood per point of the data it was fitted to (nats), nil when loaded
    /// from a file without it.
    public let logLikelihood: Double?
    /// The EM iterations the fit ran.
    public let iterations: Int

    /// The number of components K.
    public var components: Int { weights.count }

    /// A mixture with the given parameters; nil when a covariance is not positive definite or
    /// the weights are not positive.
    public init?(weights: [Double], means: [[Double]], covariances: [[Double]], logLikelihood: Double? = nil, iterations: Int = 0) {
        guard let d = means.first?.count, d > 0, !weights.isEmpty, weights.count == means.count, weights.count == covariances.count,
              means.allSatisfy({ $0.count == d }), covariances.allSatisfy({ $0.count == d * d }),
              weights.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        var factors: [[Double]] = []
        for covariance in covariances {
            guard let factor = SymmetricMatrix.cholesky(covariance, size: d) else { return nil }
            factors.append(factor)
        }
        let total = weights.reduce(0, +)
        self.weights = weights.map { $0 / total }
        self.means = means
        self.covariances = covariances
        self.factors = factors
        self.logLikelihood = logLikelihood
        self.iterations = iterations
        latentSize = d
    }

    /// Fits K = `components` Gaussians to `rows` [count · dimension] (see the type's summary).
    public static func fit(rows: [Float], dimension d: Int, components k: Int, seed: UInt64, maximumIterations: Int = 100,
                           tolerance: Double = 1e-3, regularization: Double = 1e-6) -> GaussianMixture {
        precondition(d > 0 && rows.count % d == 0, "rows of \(d) values")
        let n = rows.count / d
        precondition(k >= 1 && n >= k * (d + 1), "a \(k)-component mixture in \(d) dimensions needs at least \(k * (d + 1)) points")
        let x = rows.map(Double.init)
        var generator = RandomGenerator(seed: seed)
        var centres = initialCentres(x, count: n, dimension: d, components: k, using: &generator)
        var assignment = [Int](repeating: 0, count: n)
        for _ in 0..<10 {
            assignment = nearest(x, count: n, dimension: d, centres: centres)
            var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: k), counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[assignment[i]] += 1
                for j in 0..<d { sums[assignment[i]][j] += x[i * d + j] }
            }
            for c in 0..<k where counts[c] > 0 { centres[c] = sums[c].map { $0 / Double(counts[c]) } }
        }
        // Responsibilities [n · k], first from the hard assignment.
        var responsibilities = [Double](repeating: 0, count: n * k)
        for i in 0..<n { responsibilities[i * k + assignment[i]] = 1 }
        var mixture = maximisation(x, count: n, dimension: d, responsibilities: responsibilities, components: k, regularization: regularization)
        var previous = -Double.infinity, iterations = 0, current = -Double.infinity
        while iterations < maximumIterations {
            iterations += 1
            current = mixture.expectation(x, count: n, responsibilities: &responsibilities)
            if current - previous < tolerance { break }
            previous = current
            mixture = maximisation(x, count: n, dimension: d, responsibilities: responsibilities, components: k, regularization: regularization)
        }
        let rounded = { (values: [Double]) in values.map { Double(Float($0)) } }
        return GaussianMixture(weights: rounded(mixture.weights), means: mixture.means.map(rounded), covariances: mixture.covariances.map(rounded),
                               logLikelihood: current, iterations: iterations)!
    }

    /// k-means++: the first centre uniformly, each next one with probability ∝ its squared
    /// distance to the nearest centre so far.
    static func initialCentres(_ x: [Double], count n: Int, dimension d: Int, components k: Int, using generator: inout RandomGenerator) -> [[Double]] {
        func row(_ i: Int) -> [Double] { Array(x[(i * d)..<((i + 1) * d)]) }
        var centres = [row(Int(generator.next() % UInt64(n)))]
        var nearestDistance = [Double](repeating: .infinity, count: n)
        while centres.count < k {
            let centre = centres.last!
            var total = 0.0
            for i in 0..<n {
                var distance = 0.0
                for j in 0..<d { distance += (x[i * d + j] - centre[j]) * (x[i * d + j] - centre[j]) }
                nearestDistance[i] = min(nearestDistance[i], distance)
                total += nearestDistance[i]
            }
            var target = Double(generator.nextUniform()) * total, chosen = n - 1
            for i in 0..<n {
                target -= nearestDistance[i]
                if target < 0 { chosen = i; break }
            }
            centres.append(row(chosen))
        }
        return centres
    }

    /// The index of each row's nearest centre.
    static func nearest(_ x: [Double], count n: Int, dimension d: Int, centres: [[Double]]) -> [Int] {
        (0..<n).map { i in
            var best = 0, bestDistance = Double.infinity
            for (c, centre) in centres.enumerated() {
                var distance = 0.0
                for j in 0..<d { distance += (x[i * d + j] - centre[j]) * (x[i * d + j] - centre[j]) }
                if distance < bestDistance { (best, bestDistance) = (c, distance) }
            }
            return best
        }
    }

    /// The M step: weights, means and covariances from the responsibilities. A covariance that is
    /// not positive definite gets ten times more regularisation until it is.
    static func maximisation(_ x: [Double], count n: Int, dimension d: Int, responsibilities r: [Double], components k: Int,
                             regularization: Double) -> GaussianMixture {
        var weights: [Double] = [], means: [[Double]] = [], covariances: [[Double]] = []
        for c in 0..<k {
            var total = 10 * Double.ulpOfOne
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<n where r[i * k + c] > 0 {
                total += r[i * k + c]
                for j in 0..<d { mean[j] += r[i * k + c] * x[i * d + j] }
            }
            mean = mean.map { $0 / total }
            var covariance = [Double](repeating: 0, count: d * d), centred = [Double](repeating: 0, count: d)
            for i in 0..<n where r[i * k + c] > 0 {
                let weight = r[i * k + c]
                for j in 0..<d { centred[j] = x[i * d + j] - mean[j] }
                for a in 0..<d {
                    let scaled = weight * centred[a]
                    for b in a..<d { covariance[a * d + b] += scaled * centred[b] }
                }
            }
            for a in 0..<d {
                for b in a..<d {
                    covariance[a * d + b] /= total
                    covariance[b * d + a] = covariance[a * d + b]
                }
            }
            var added = regularization
            var regularized = covariance
            while true {
                for a in 0..<d { regularized[a * d + a] = covariance[a * d + a] + added }
                if SymmetricMatrix.cholesky(regularized, size: d) != nil { break }
                added *= 10
            }
            weights.append(total / Double(n))
            means.append(mean)
            covariances.append(regularized)
        }
        return GaussianMixture(weights: weights, means: means, covariances: covariances)!
    }

    /// log w_k + log N(x | μ_k, Σ_k) for one point `x` [d].
    func logJoint(_ x: UnsafeBufferPointer<Double>, component c: Int, scratch: inout [Double]) -> Double {
        let d = latentSize, factor = factors[c], mean = means[c]
        var quadratic = 0.0, logDeterminant = 0.0
        for i in 0..<d {
            var value = x[i] - mean[i]
            for j in 0..<i { value -= factor[i * d + j] * scratch[j] }
            value /= factor[i * d + i]
            scratch[i] = value
            quadratic += value * value
            logDeterminant += Foundation.log(factor[i * d + i])
        }
        return Foundation.log(weights[c]) - 0.5 * (quadratic + Double(d) * Foundation.log(2 * Double.pi)) - logDeterminant
    }

    /// The E step: each point's responsibilities; returns the mean log-likelihood per point.
    func expectation(_ x: [Double], count n: Int, responsibilities: inout [Double]) -> Double {
        let d = latentSize, k = components
        var scratch = [Double](repeating: 0, count: d), joint = [Double](repeating: 0, count: k)
        var total = 0.0
        x.withUnsafeBufferPointer { all in
            for i in 0..<n {
                let point = UnsafeBufferPointer(rebasing: all[(i * d)..<((i + 1) * d)])
                for c in 0..<k { joint[c] = logJoint(point, component: c, scratch: &scratch) }
                let largest = joint.max()!
                let logSum = largest + Foundation.log(joint.reduce(0) { $0 + Foundation.exp($1 - largest) })
                total += logSum
                for c in 0..<k { responsibilities[i * k + c] = Foundation.exp(joint[c] - logSum) }
            }
        }
        return total / Double(n)
    }

    /// The mean log-density per point of `rows` [count · d] under the mixture (nats).
    public func meanLogDensity(of rows: [Float]) -> Double {
        let n = rows.count / latentSize
        var responsibilities = [Double](repeating: 0, count: n * components)
        return expectation(rows.map(Double.init), count: n, responsibilities: &responsibilities)
    }

    /// Draws: a component k with probability w_k, then z = μ_k + T L_k ε with ε ~ N(0, I).
    public func latents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float] {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        let d = latentSize
        var result = [Float](repeating: 0, count: count * d)
        var noise = [Float](repeating: 0, count: d)
        for row in 0..<count {
            var target = Double(generator.nextUniform()), c = components - 1
            for (index, weight) in weights.enumerated() {
                target -= weight
                if target < 0 { c = index; break }
            }
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            let factor = factors[c]
            for i in 0..<d {
                var value = means[c][i]
                for j in 0...i { value += Double(temperature) * factor[i * d + j] * Double(noise[j]) }
                result[row * d + i] = Float(value)
            }
        }
        return result
    }

    // MARK: - File

    /// The mixture as safetensors: `weights` [K], `means` [K, d], `covariances` [K, d, d], with
    /// the kind, the fit's figures and `metadata` in the header.
    public func file(metadata: [String: String]) -> SafeTensorsFile {
        var header = metadata
        header["kind"] = "gmm-sampler"
        header["components"] = "\(components)"
        header["dimension"] = "\(latentSize)"
        header["iterations"] = "\(iterations)"
        if let logLikelihood { header["mean_log_likelihood"] = String(format: "%.6f", logLikelihood) }
        return SafeTensorsFile(tensors: [
            "weights": .init(shape: [components], values: weights.map(Float.init)),
            "means": .init(shape: [components, latentSize], values: means.flatMap { $0.map(Float.init) }),
            "covariances": .init(shape: [components, latentSize, latentSize], values: covariances.flatMap { $0.map(Float.init) }),
        ], metadata: header)
    }

    /// Reads a mixture written by `file(metadata:)`, checked: shapes, finite values, positive
    /// weights, positive-definite covariances.
    public static func read(_ file: SafeTensorsFile, path: String) throws(SamplerFileError) -> GaussianMixture {
        guard file.metadata["kind"] == "gmm-sampler" else {
            throw SamplerFileError(path: path, reason: "it is not a Gaussian-mixture sampler (metadata kind: \(file.metadata["kind"] ?? "none"))")
        }
        guard let weights = file.tensors["weights"], let means = file.tensors["means"], let covariances = file.tensors["covariances"] else {
            throw SamplerFileError(path: path, reason: "expected tensors weights, means and covariances; found \(file.tensors.keys.sorted().joined(separator: ", "))")
        }
        let k = weights.shape.first ?? 0, d = means.shape.count == 2 ? means.shape[1] : 0
        guard weights.shape == [k], k >= 1, d >= 1, means.shape == [k, d], covariances.shape == [k, d, d] else {
            throw SamplerFileError(path: path, reason: "shapes weights \(weights.shape), means \(means.shape), covariances \(covariances.shape) do not make a mixture: expected [K], [K, d], [K, d, d]")
        }
        for (name, entry) in [("weights", weights), ("means", means), ("covariances", covariances)] {
            if let index = entry.values.firstIndex(where: { !$0.isFinite }) {
                throw SamplerFileError(path: path, reason: "tensor \(name) holds a non-finite value at index \(index)")
            }
        }
        for c in 0..<k {
            for a in 0..<d {
                for b in (a + 1)..<d where covariances.values[c * d * d + a * d + b] != covariances.values[c * d * d + b * d + a] {
                    throw SamplerFileError(path: path, reason: "covariance \(c) is not symmetric: entries (\(a), \(b)) and (\(b), \(a)) differ")
                }
            }
        }
        let mixture = GaussianMixture(
            weights: weights.values.map(Double.init),
            means: (0..<k).map { c in (0..<d).map { Double(means.values[c * d + $0]) } },
            covariances: (0..<k).map { c in (0..<(d * d)).map { Double(covariances.values[c * d * d + $0]) } },
            logLikelihood: file.metadata["mean_log_likelihood"].flatMap(Double.init), iterations: file.metadata["iterations"].flatMap(Int.init) ?? 0)
        guard let mixture else {
            throw SamplerFileError(path: path, reason: "its weights must be positive and its covariances symmetric positive definite")
        }
        return mixture
    }
}
