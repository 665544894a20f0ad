import TensorCore

/// How a hierarchical model decodes a top-group code: what its lower groups take.
public enum LowerGroups {
    /// Each lower group at its prior's mean given the groups above (the latent tools' default).
    case priorMeans
    /// Each lower group drawn from its prior given the groups above at temperature T:
    /// zᵢ = μ_p + T σ_p ε, ε from the source, top first.
    case drawn(temperature: Float, noise: NoiseSource)
}

/// A model with latent groups below the top that can decode a top-group code with those groups
/// drawn rather than at their prior means (`vae sample --lower-groups drawn`). The latent tools
/// and the explorer act on the top group through `decode(_:condition:)`, which takes the prior
/// means.
public protocol LowerGroupDecoding: VariationalModel {
    /// p(x | z_top, z_below) for top-group codes z [rows, latentSize], the lower groups chosen
    /// as `lowerGroups` says. Differentiable in z and the parameters.
    func decode(_ z: Tensor, lowerGroups: LowerGroups) -> any ImageDistribution
}

extension LowerGroupDecoding {
    /// Top-group codes [count · latentSize] decoded, the lower groups chosen as `lowerGroups`
    /// says, to mean images [count · C · H · W], in batches of `batchSize` (no gradients).
    public func decode(latents: [Float], lowerGroups: LowerGroups, batchSize: Int = 1000) -> [Float] {
        let size = latentSize
        precondition(latents.count % size == 0, "\(latents.count) values are not whole \(size)-d latent vectors")
        let count = latents.count / size
        var images = [Float]()
        images.reserveCapacity(count * inputSize)
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                let z = Tensor(shape: [rows, size], scalars: Array(latents[(start * size)..<((start + rows) * size)]))
                images += decode(z, lowerGroups: lowerGroups).mean.scalars
            }
        }
        return images
    }
}
