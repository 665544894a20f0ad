import VAE
import Visualization

extension LatentExplorer {
    /// The latent vectors of a manifold picture: `base` with dimension `horizontal` set to each of
    /// `xValues` (left to right) and `vertical` to each of `yValues`, the largest at the top row,
    /// so the picture is oriented like a scatter plot of the same two dimensions.
    /// Shape [yValues.count · xValues.count, latentSize], row by row.
    public func manifoldLatents(horizontal: Int, vertical: Int, xValues: [Double], yValues: [Double], base: [Float]) -> [Float] {
        precondition(base.count == latentSize && horizontal != vertical
                     && (0..<latentSize).contains(horizontal) && (0..<latentSize).contains(vertical),
                     "manifold dimensions must be two different ones of 0..<\(latentSize)")
        var latents: [Float] = []
        latents.reserveCapacity(xValues.count * yValues.count * latentSize)
        for y in yValues.reversed() {
            for x in xValues {
                var z = base
                z[horizontal] = Float(x)
                z[vertical] = Float(y)
                latents += z
            }
        }
        return latents
    }

    /// The decoded manifold as one picture with `xValues.count` columns.
    public func manifoldGrid(horizontal: Int, vertical: Int, xValues: [Double], yValues: [Double], base: [Float], scale: Int) -> Picture {
        let latents = manifoldLatents(horizontal: horizontal, vertical: vertical, xValues: xValues, yValues: yValues, base: base)
        return grid(split(decode(latents)), columns: xValues.count, scale: scale)
    }
}
