import TensorCore

/// How a hierarchical model decodes a top-group code: what its lower groups take.
public enum LowerGroups {
    /// Each lower group at its prior's mean given the groups above (the latent tools' default).
    case priorMeans
    /// Each lower group drawn from its prior given the groups above at temperature T:
    /// zᵢ = μ_p + T σ_p ε, ε from the source, top first.
    case drawn(temperature: Float, noise: NoiseSource)

    /// A lower group's z given its prior p(zᵢ | z_above): the prior's mean, or μ_p + T σ_p ε
    /// with ε [rows, dimension] from the source.
    public func z(from prior: DiagonalGaussian) -> Tensor {
        switch self {
        case .priorMeans: return prior.mean
        case let .drawn(temperature, source):
            return prior.mean + prior.standardDeviation * (source.normal(rows: prior.rows, columns: prior.dimension) * temperature)
        }
    }
}

/// A model with latent groups below the top that can decode a top-group code with those groups
/// drawn rather than at their prior means (`vae sample --lower-groups drawn`). The latent tools
/// and the explorer act on the top group through `decode(_:condition:)`, which takes the prior
/// means.
public protocol LowerGroupDecoding: VariationalModel {
    /// p(x | z_top, z_below) for top-group codes z [rows, latentSize], the lower groups chosen
    /// as `lowerGroups` says. Differentiable in z and the parameters.
    func decode(_ z: Tensor, lowerGroups: LowerGroups) -> any ImageDistribution
    /// p(x | z_top, ..., z_bottom) with every group given: `groups` top first, [rows, size_i]
    /// each (as `latentGroups` lists them). Differentiable.
    func decode(groups: [Tensor]) -> any ImageDistribution
}

extension LowerGroupDecoding {
    /// Top-group codes [count · latentSize] decoded, the lower groups chosen as `lowerGroups`
    /// says, to mean images [count · C · H · W], in batches of `batchSize` (no gradients).
    public func decode(latents: [Float], lowerGroups: LowerGroups, batchSize: Int = 1000) -> [Float] {
        decodeInBatches(latents: latents, batchSize: batchSize) { z, _ in decode(z, lowerGroups: lowerGroups) }
    }
}

extension LowerGroupDecoding {
    /// Every group's code for images [count · C · H · W]: each group at its posterior's mean
    /// given the groups above at theirs (a forward pass with z = μ), top first, one array of
    /// [count · size_i] per group (no gradients).
    public func encodeGroups(images: [Float]) -> [[Float]] {
        let count = images.count / inputSize
        precondition(count * inputSize == images.count, "\(images.count) values are not whole images of \(inputSize)")
        return withoutGradients {
            forward(Tensor(shape: [count, inputSize], scalars: images), condition: nil, sampling: .mean, samples: 1).groups.map(\.z.scalars)
        }
    }

    /// Mean images [count · C · H · W] decoded from codes of every group, top first, each
    /// [count · size_i] (no gradients).
    public func decode(groupLatents: [[Float]]) -> [Float] {
        let sizes = latentGroups.map(\.size)
        precondition(groupLatents.count == sizes.count, "codes for \(groupLatents.count) groups; the model has \(sizes.count)")
        let count = groupLatents[0].count / sizes[0]
        let tensors = zip(groupLatents, sizes).map { latents, size in
            precondition(latents.count == count * size, "\(latents.count) values are not \(count) codes of \(size)")
            return Tensor(shape: [count, size], scalars: latents)
        }
        return withoutGradients { decode(groups: tensors).mean.scalars }
    }
}
