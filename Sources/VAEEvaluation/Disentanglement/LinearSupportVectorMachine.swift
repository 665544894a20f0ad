import Foundation

/// A linear support vector classifier of one feature, as scikit-learn's `LinearSVC(C:,
/// class_weight="balanced")` defines it (liblinear's L2-regularised squared-hinge loss, the
/// intercept a regularised weight on a constant feature 1): one-versus-rest over the classes,
/// each class c solving
///
///     min_{w, b} ½ (w² + b²) + Σ_i C_i max(0, 1 − y_i (w x_i + b))²,  y_i = ±1 (class c or not),
///
/// with C_i = C · n / (K · n_c) for the class's own points and C for the rest (liblinear weighs
/// only the positive side of each one-versus-rest problem), solved to convergence by generalised
/// Newton steps (the objective is strongly convex and piecewise quadratic). A point is predicted
/// the class of the largest w x + b; with two classes, one problem (first class C_0-weighted,
/// second C_1-weighted) decides by its sign.
public struct LinearSupportVectorMachine: Sendable {
    /// The classes, in increasing order.
    public let classes: [Int]
    /// Each problem's (w, b): one per class, or one for two classes (positive: the second class).
    public let weights: [(slope: Double, intercept: Double)]

    /// Fits to features `x` and labels `y` with penalty `C`.
    public init(x: [Double], y: [Int], C: Double = 0.01) {
        precondition(x.count == y.count && !x.isEmpty)
        let classes = Array(Set(y)).sorted()
        self.classes = classes
        let counts = classes.map { c in y.filter { $0 == c }.count }
        let balanced = counts.map { Double(x.count) / (Double(classes.count) * Double($0)) }
        if classes.count == 2 {
            let signs = y.map { $0 == classes[1] ? 1.0 : -1.0 }
            let costs = y.map { C * ($0 == classes[1] ? balanced[1] : balanced[0]) }
            weights = [Self.solve(x: x, signs: signs, costs: costs)]
        } else if classes.count == 1 {
            weights = []
        } else {
            weights = classes.enumerated().map { position, c in
                Self.solve(x: x, signs: y.map { $0 == c ? 1 : -1 }, costs: y.map { $0 == c ? C * balanced[position] : C })
            }
        }
    }

    /// The predicted class of `value`.
    public func predict(_ value: Double) -> Int {
        if classes.count == 1 { return classes[0] }
        if classes.count == 2 { return weights[0].slope * value + weights[0].intercept > 0 ? classes[1] : classes[0] }
        var best = 0, bestScore = -Double.infinity
        for (position, weight) in weights.enumerated() {
            let score = weight.slope * value + weight.intercept
            if score > bestScore { (best, bestScore) = (position, score) }
        }
        return classes[best]
    }

    /// The minimiser of ½ (w² + b²) + Σ costs_i max(0, 1 − signs_i (w x_i + b))².
    static func solve(x: [Double], signs: [Double], costs: [Double]) -> (slope: Double, intercept: Double) {
        func objective(_ w: Double, _ b: Double) -> Double {
            var total = 0.5 * (w * w + b * b)
            for i in x.indices {
                let slack = 1 - signs[i] * (w * x[i] + b)
                if slack > 0 { total += costs[i] * slack * slack }
            }
            return total
        }
        var (w, b) = (0.0, 0.0)
        var current = objective(w, b)
        for _ in 0..<100 {
            // Gradient and generalised Hessian over the points inside the margin.
            var (gw, gb, hww, hwb, hbb) = (w, b, 1.0, 0.0, 1.0)
            for i in x.indices {
                let slack = 1 - signs[i] * (w * x[i] + b)
                guard slack > 0 else { continue }
                let factor = 2 * costs[i]
                gw -= factor * slack * signs[i] * x[i]
                gb -= factor * slack * signs[i]
                hww += factor * x[i] * x[i]
                hwb += factor * x[i]
                hbb += factor
            }
            let determinant = hww * hbb - hwb * hwb
            let stepW = (hbb * gw - hwb * gb) / determinant, stepB = (hww * gb - hwb * gw) / determinant
            var scale = 1.0, next = objective(w - stepW, b - stepB)
            while next > current && scale > 1e-10 {
                scale *= 0.5
                next = objective(w - scale * stepW, b - scale * stepB)
            }
            let (newW, newB) = (w - scale * stepW, b - scale * stepB)
            let moved = abs(newW - w) + abs(newB - b)
            (w, b, current) = (newW, newB, next)
            if moved <= 1e-12 * (1 + abs(w) + abs(b)) { break }
        }
        return (w, b)
    }
}
