import VAE
import Visualization

extension LatentExplorer {
    /// The dimensions ordered from the most informative to the least: by the KL of
    /// q(z_d | x) from the prior averaged over a dataset (see `LatentCodes.klPerDimension`),
    /// largest first, ties by index. A dimension with KL near 0 carries nothing about x.
    public static func informativeOrder(klPerDimension kl: [Double]) -> [Int] {
        kl.indices.sorted { kl[$0] > kl[$1] || (kl[$0] == kl[$1] && $0 < $1) }
    }

    /// One row per dimension in `dimensions` (in that order): `base` (usually an image's μ) with
    /// that dimension set to each of `values`, the others held, decoded. Grid of
    /// dimensions.count rows and values.count columns.
    public func traversalGrid(base: [Float], dimensions: [Int], values: [Double], scale: Int) -> Picture {
        precondition(base.count == latentSize && dimensions.allSatisfy { (0..<latentSize).contains($0) }, "traversal dimensions must lie in 0..<\(latentSize)")
        var latents: [Float] = []
        for dimension in dimensions {
            for value in values {
                var z = base
                z[dimension] = Float(value)
                latents += z
            }
        }
        return grid(split(decode(latents)), columns: values.count, scale: scale)
    }
}
