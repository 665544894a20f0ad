import Foundation

/// How to move between two latent vectors a and b, for t from 0 to 1.
public enum InterpolationPath: String, CaseIterable, Sendable {
    /// (1 − t) a + t b.
    case linear
    /// Along the great circle (White, "Sampling Generative Networks", 2016):
    /// sin((1 − t) ω) / sin ω · a + sin(t ω) / sin ω · b, with ω the angle between a and b. It keeps
    /// the path where N(0, I) puts its mass (near the sphere of radius √d), where the straight
    /// line cuts through the less likely centre. Falls back to linear when a and b are parallel.
    case spherical

    /// `steps` points from a to b, both included.
    public func points(from a: [Float], to b: [Float], steps: Int) -> [[Float]] {
        precondition(a.count == b.count && !a.isEmpty, "interpolation needs two vectors of one size, got \(a.count) and \(b.count)")
        precondition(steps >= 2, "an interpolation needs at least 2 steps, got \(steps)")
        let (x, y) = (a.map(Double.init), b.map(Double.init))
        let normA = x.reduce(0) { $0 + $1 * $1 }.squareRoot(), normB = y.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cosine = normA > 0 && normB > 0 ? min(max(zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } / (normA * normB), -1), 1) : 1
        let omega = acos(cosine)
        return (0..<steps).map { step in
            let t = Double(step) / Double(steps - 1)
            let (wa, wb): (Double, Double)
            if self == .spherical && sin(omega) > 1e-6 {
                (wa, wb) = (sin((1 - t) * omega) / sin(omega), sin(t * omega) / sin(omega))
            } else {
                (wa, wb) = (1 - t, t)
            }
            return zip(x, y).map { Float(wa * $0.0 + wb * $0.1) }
        }
    }
}
