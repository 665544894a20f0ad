import Foundation
import TensorCore
import VAE

/// What each latent group carries over a set of images, with every z at its posterior mean:
/// the KL to its prior per dimension (where the pair has a per-dimension closed form) and the
/// variance over the images of each dimension's posterior mean, whose count above 0.01 gives the
/// active units (Burda et al. 2016).
public struct LatentGroupStatistics: Sendable {
    /// The group.
    public let group: LatentGroup
    /// KL(q(z_d | ·) || p(z_d | ·)) per dimension d, averaged over the images, in nats; nil when
    /// the posterior and prior have no per-dimension closed form.
    public let klPerDimension: [Double]?
    /// Cov_x(E_q[z_d]) per dimension: the variance over the images of the posterior mean.
    public let meanVariances: [Double]

    /// The dimensions whose posterior mean varies with the image by more than `threshold`.
    public func activeUnits(threshold: Double = 0.01) -> Int { meanVariances.filter { $0 > threshold }.count }
}

extension VariationalModel {
    /// `LatentGroupStatistics` of every group, top first, over `images` ([count, C · H · W]),
    /// `batchSize` images at a time (`labels` condition a conditional model).
    public func latentGroupStatistics(images: [Float], labels: [Int] = [], batchSize: Int = 1000) -> [LatentGroupStatistics] {
        let width = inputSize, count = images.count / width
        precondition(images.count % width == 0 && batchSize > 0, "need [count, \(width)] images and a positive batch size")
        let groups = latentGroups
        var sums = groups.map { [Double](repeating: 0, count: $0.size) }, squares = sums, kl = sums
        var hasClosedForm = groups.map { _ in true }
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                let x = Tensor(shape: [rows, width], scalars: Array(images[(start * width)..<((start + rows) * width)]))
                let condition: Tensor? = self.condition == .none ? nil : conditionTensor(labels: Array(labels[start..<(start + rows)]))
                let output = forward(x, condition: condition, sampling: .mean, samples: 1)
                for (index, group) in output.groups.enumerated() {
                    let size = groups[index].size
                    for (offset, value) in group.posterior.mean.scalars.enumerated() {
                        sums[index][offset % size] += Double(value)
                        squares[index][offset % size] += Double(value) * Double(value)
                    }
                    if let perDimension = KLDivergence.closedFormPerDimension(group.posterior, group.prior) {
                        for (offset, value) in perDimension.scalars.enumerated() { kl[index][offset % size] += Double(value) }
                    } else {
                        hasClosedForm[index] = false
                    }
                }
            }
        }
        let n = Double(max(count, 1))
        return groups.indices.map { index in
            let variances = (0..<groups[index].size).map { d in max(squares[index][d] / n - (sums[index][d] / n) * (sums[index][d] / n), 0) }
            return LatentGroupStatistics(group: groups[index], klPerDimension: hasClosedForm[index] ? kl[index].map { $0 / n } : nil,
                                         meanVariances: variances)
        }
    }
}
