import TensorCore
import VAE
import Visualization

extension LatentExplorer {
    /// `count` latent vectors z = T ε, ε ~ N(0, I): draws from the prior N(0, I) at temperature
    /// T = 1, closer to its mode for T < 1. Shape [count, latentSize].
    public func priorLatents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float] {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        var z = [Float](repeating: 0, count: count * latentSize)
        z.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: temperature) }
        return z
    }

    /// A grid of images decoded from prior draws (see `priorLatents`), `columns` per row.
    public func priorSampleGrid(count: Int, temperature: Float, columns: Int, scale: Int, using generator: inout RandomGenerator) -> Picture {
        let images = decode(priorLatents(count: count, temperature: temperature, using: &generator))
        return grid(split(images), columns: min(columns, count), scale: scale)
    }

    /// A conditional model's class grid: one row per class, one column per shared prior draw, so
    /// each column holds one style written as every class. Grid of K rows and `columns` columns.
    public func classSampleGrid(columns: Int, temperature: Float, scale: Int, using generator: inout RandomGenerator) -> Picture {
        guard case let .classes(classes) = model.condition else { preconditionFailure("a class grid needs a conditional model") }
        let shared = priorLatents(count: columns, temperature: temperature, using: &generator)
        let latents = (0..<classes).flatMap { _ in shared }
        let labels = (0..<classes).flatMap { Array(repeating: $0, count: columns) }
        return grid(split(model.decode(latents: latents, labels: labels)), columns: columns, scale: scale)
    }
}
