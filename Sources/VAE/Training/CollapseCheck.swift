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
