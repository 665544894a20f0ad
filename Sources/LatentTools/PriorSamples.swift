import TensorCore
import VAE
import Visualization

extension LatentExplorer {
    /// `count` latent vectors from the model's prior (`PriorSampler`): z = T ε, ε ~ N(0, I), for
    /// the prior N(0, I) at temperature T = 1, closer to its mode for T < 1. Shape [count, latentSize].
    public func priorLatents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float] {
        PriorSampler(model: model).latents(count: count, temperature: temperature, using: &generator)
    }

    /// A grid of images decoded from prior draws (see `priorLatents`), `columns` per row.
    public func priorSampleGrid(count: Int, temperature: Float, columns: Int, scale: Int, using generator: inout RandomGenerator) -> Picture {
        sampleGrid(from: PriorSampler(model: model), count: count, temperature: temperature, columns: columns, scale: scale, using: &generator)
    }

    /// A grid of images decoded from `sampler`'s draws, `columns` per row.
    public func sampleGrid(from sampler: any LatentSampler, count: Int, temperature: Float, columns: Int, scale: Int,
                           using generator: inout RandomGenerator) -> Picture {
        precondition(sampler.latentSize == latentSize, "a sampler of \(sampler.latentSize)-d codes for a \(latentSize)-d model")
        let images = decode(sampler.latents(count: count, temperature: temperature, using: &generator))
        return grid(split(images), columns: min(columns, count), scale: scale)
    }

    /// A conditional model's class grid: one row per class, one column per shared prior draw, so
    /// each column holds one style written as every class. Grid of K rows and `columns` columns.
    public func classSampleGrid(columns: Int, temperature: Float, scale: Int, using generator: inout RandomGenerator) -> Picture {
        classSampleGrid(from: PriorSampler(model: model), columns: columns, temperature: temperature, scale: scale, using: &generator)
    }

    /// The class grid (see above) with the shared draws from `sampler`.
    public func classSampleGrid(from sampler: any LatentSampler, columns: Int, temperature: Float, scale: Int,
                                using generator: inout RandomGenerator) -> Picture {
        guard case let .classes(classes) = model.condition else { preconditionFailure("a class grid needs a conditional model") }
        let shared = sampler.latents(count: columns, temperature: temperature, using: &generator)
        let latents = (0..<classes).flatMap { _ in shared }
        let labels = (0..<classes).flatMap { Array(repeating: $0, count: columns) }
        return grid(split(model.decode(latents: latents, labels: labels)), columns: columns, scale: scale)
    }
}
