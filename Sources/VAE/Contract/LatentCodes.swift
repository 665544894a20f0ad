import Foundation
import TensorCore

/// The encoder's output for a set of images: q(z | x_n) = N(μ_n, diag exp(logVariance_n)).
/// Shapes: `means` and `logVariances` hold `count` rows of `size` values, row-major.
public struct LatentCodes: Sendable {
    /// The number of images encoded.
    public let count: Int
    /// The latent dimension.
    public let size: Int
    /// μ, [count, size] row-major.
    public let means: [Float]
    /// log σ², [count, size] row-major.
    public let logVariances: [Float]

    /// Codes for `count` images; both arrays must hold count · size values.
    public init(count: Int, size: Int, means: [Float], logVariances: [Float]) {
        precondition(means.count == count * size && logVariances.count == count * size, "latent codes need [\(count), \(size)] means and log-variances")
        (self.count, self.size, self.means, self.logVariances) = (count, size, means, logVariances)
    }

    /// The mean of row `index`.
    public func mean(_ index: Int) -> [Float] { Array(means[(index * size)..<((index + 1) * size)]) }

    /// KL(q(z_d | x) || N(0, 1)) per dimension d, averaged over the images:
    /// KL_d = mean_n ½ (μ_nd² + σ_nd² − log σ_nd² − 1), in nats. Their sum is the ELBO's KL term.
    public var klPerDimension: [Double] {
        var totals = [Double](repeating: 0, count: size)
        for row in 0..<count {
            for d in 0..<size {
                let (mu, logVariance) = (Double(means[row * size + d]), Double(logVariances[row * size + d]))
                totals[d] += 0.5 * (mu * mu + exp(logVariance) - logVariance - 1)
            }
        }
        return totals.map { $0 / Double(max(count, 1)) }
    }

    /// Cov_x(E_q[z_d]) per dimension: the variance of the posterior means over the images.
    public var meanVariances: [Double] {
        var (sums, squares) = ([Double](repeating: 0, count: size), [Double](repeating: 0, count: size))
        for row in 0..<count {
            for d in 0..<size {
                let value = Double(means[row * size + d])
                sums[d] += value
                squares[d] += value * value
            }
        }
        let n = Double(max(count, 1))
        return (0..<size).map { max(squares[$0] / n - (sums[$0] / n) * (sums[$0] / n), 0) }
    }

    /// The active units: dimensions whose Cov_x(E_q[z_d]) exceeds `threshold` (Burda et al.
    /// use 0.01). An inactive dimension's posterior mean ignores x, so it carries nothing.
    public func activeUnits(threshold: Double = 0.01) -> Int {
        meanVariances.filter { $0 > threshold }.count
    }
}

extension VariationalModel {
    /// Encodes `images` ([count, inputSize], row-major) `batchSize` at a time.
    public func encode(images: [Float], labels: [Int] = [], batchSize: Int = 1000) -> LatentCodes {
        let width = inputSize, size = latentSize
        precondition(images.count % width == 0, "\(images.count) values are not whole images of \(width) values")
        precondition(batchSize > 0, "batch size must be positive")
        let count = images.count / width
        var means = [Float](), logVariances = [Float]()
        means.reserveCapacity(count * size)
        logVariances.reserveCapacity(count * size)
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                let x = Tensor(shape: [rows, width], scalars: Array(images[(start * width)..<((start + rows) * width)]))
                let posterior = encode(x, condition: condition(labels: labels, range: start..<(start + rows)))
                means += posterior.mean.scalars
                logVariances += posterior.logVariance.scalars
            }
        }
        return LatentCodes(count: count, size: size, means: means, logVariances: logVariances)
    }

    /// Decodes latent vectors ([count, latentSize], row-major) to mean images in [0, 1]
    /// ([count, inputSize]), `batchSize` at a time.
    public func decode(latents: [Float], labels: [Int] = [], batchSize: Int = 1000) -> [Float] {
        decodeInBatches(latents: latents, batchSize: batchSize) { z, rows in decode(z, condition: condition(labels: labels, range: rows)) }
    }

    /// Latent vectors ([count, latentSize], row-major) to mean images ([count, inputSize]),
    /// `batchSize` at a time, each batch's codes [rows, latentSize] (images `rows` of the whole)
    /// through `decodeBatch` (no gradients).
    public func decodeInBatches(latents: [Float], batchSize: Int, _ decodeBatch: (Tensor, Range<Int>) -> any ImageDistribution) -> [Float] {
        let size = latentSize
        precondition(latents.count % size == 0, "\(latents.count) values are not whole \(size)-d latent vectors")
        let count = latents.count / size
        var images = [Float]()
        images.reserveCapacity(count * inputSize)
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                let z = Tensor(shape: [rows, size], scalars: Array(latents[(start * size)..<((start + rows) * size)]))
                images += decodeBatch(z, start..<(start + rows)).mean.scalars
            }
        }
        return images
    }
}
