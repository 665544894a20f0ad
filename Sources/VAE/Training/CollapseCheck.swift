import Datasets
import Foundation

/// Signs of posterior collapse after an epoch: the KL per latent dimension below
/// `klPerDimensionFloor` (for a model of several groups, the top group's: a spatial hierarchy's
/// lower groups hold thousands of dimensions of which most carry little by design), or fewer
/// than a quarter of the top group's dimensions active
/// (Cov_x E_q[z_d] > 0.01, Burda et al.'s criterion). A collapsed model's decoder ignores z, so its
/// samples and codes carry little; warm-up (`--warmup-epochs`) and free bits (`--free-bits`) are
/// the usual remedies.
public enum CollapseCheck {
    /// The KL per latent dimension (nats, averaged over every group's dimensions) below which
    /// the posterior counts as collapsing.
    public static let klPerDimensionFloor = 0.1
    /// The test images encoded to count the active units.
    public static let imagesEncoded = 2000

    /// The warning for `model` after `epoch` with a test KL of `testKL` nats per image (every
    /// group; `groupKL` per group, top first, for a model of several groups), counting the active
    /// units on the first `imagesEncoded` of `test`; nil when neither sign shows.
    /// A model of discrete codes (a VQ-VAE) has a constant KL and is never warned about.
    public static func warning(model: any VariationalModel, test: ImageDataset, testKL: Double, groupKL: [Double]? = nil, epoch: Int) -> String? {
        if model is any DiscreteLatentModel { return nil }
        let groups = model.latentGroups
        let topOnly = groups.count > 1 && groupKL?.count == groups.count
        let dimensions = topOnly ? groups[0].size : groups.reduce(0) { $0 + $1.size }
        let perDimension = (topOnly ? groupKL![0] : testKL) / Double(max(dimensions, 1))
        let sample = test.prefix(imagesEncoded)
        let codes = model.encode(images: sample.pixels, labels: model.usesLabels ? sample.labels : [])
        let active = codes.activeUnits()
        var signs: [String] = []
        if perDimension < klPerDimensionFloor {
            signs.append(String(format: "%@test KL %.3f nats per latent dimension (under %.1f)", topOnly ? "top-group " : "", perDimension, klPerDimensionFloor))
        }
        if 4 * active < model.latentSize {
            signs.append("\(active) of \(model.latentSize) \(model.latentGroups.count > 1 ? "top-group " : "")dimensions active (under a quarter; Cov_x E_q[z_d] > 0.01 on \(sample.count) test images)")
        }
        guard !signs.isEmpty else { return nil }
        return "warning: epoch \(epoch): the posterior is collapsing: \(signs.joined(separator: "; ")). Warm-up (--warmup-epochs N) or free bits (--free-bits L) usually keep it open."
    }
}

/// Says a collapse once per episode: the first epoch its signs show (``CollapseCheck``), nothing
/// while they last, and one line the epoch they clear. A schedule of thousands of epochs whose top
/// group stays mostly closed by design (`iwae-paper-2layer` keeps a few of its 50
/// top units) is warned once, not every epoch; `metrics.csv` and the TensorBoard events record the
/// KL of every epoch.
public struct CollapseWatch: Sendable {
    /// The epoch the current episode's signs first showed; nil while none show.
    public private(set) var collapsedSince: Int?

    /// A watch that has seen no collapse yet.
    public init() {}

    /// The line to print after `epoch`, given that epoch's ``CollapseCheck/warning(model:test:testKL:groupKL:epoch:)``:
    /// the warning when an episode starts, a notice when one ends, nil otherwise.
    public mutating func observe(_ warning: String?, epoch: Int) -> String? {
        switch (warning, collapsedSince) {
        case (let warning?, nil):
            collapsedSince = epoch
            return warning + " (said once while it lasts)"
        case (nil, let since?):
            collapsedSince = nil
            return "epoch \(epoch): the signs of collapse seen since epoch \(since) have cleared"
        default:
            return nil
        }
    }
}
