import Foundation
import TensorCore

/// Multinomial logistic regression with an L2 penalty on the weights, as scikit-learn's default
/// `LogisticRegression()` defines it for three classes or more:
///
///     min_{W, b} Σ_i −log softmax(W x_i + b)_{y_i} + ‖W‖² / (2C),  C = 1, b unpenalised,
///
/// solved to convergence by Newton's method with a backtracking line search (scikit-learn stops
/// L-BFGS after 100 iterations; its optimum is this one). A point is predicted its most probable
/// class, the first on a tie.
public struct LogisticRegression: Sendable {
    /// The classes, in increasing order.
    public let classes: [Int]
    /// Weights [classes][features + 1], the intercept last.
    public let weights: [[Double]]

    /// Fits to `points` ([points][features]) and their `labels` (at least two classes).
    public init(points: [[Double]], labels: [Int], C: Double = 1) {
        precondition(points.count == labels.count && !points.isEmpty)
        let classes = Array(Set(labels)).sorted()
        self.classes = classes
        let k = classes.count, d = points[0].count + 1, parameters = k * d
        let targets = labels.map { classes.firstIndex(of: $0)! }
        let inputs = points.map { $0 + [1] }
        var theta = [Double](repeating: 0, count: parameters)

        func probabilities(_ x: [Double], _ theta: [Double]) -> [Double] {
            let scores = (0..<k).map { c in (0..<d).reduce(0.0) { $0 + theta[c * d + $1] * x[$1] } }
            let top = scores.max()!
            let exponentials = scores.map { exp($0 - top) }
            let total = exponentials.reduce(0, +)
            return exponentials.map { $0 / total }
        }
        func objective(_ theta: [Double]) -> Double {
            var total = 0.0
            for c in 0..<k { for j in 0..<(d - 1) { total += theta[c * d + j] * theta[c * d + j] / (2 * C) } }
            for (x, y) in zip(inputs, targets) { total -= log(max(probabilities(x, theta)[y], .leastNormalMagnitude)) }
            return total
        }
        var current = objective(theta)
        for _ in 0..<100 {
            var gradient = [Double](repeating: 0, count: parameters)
            var hessian = [Double](repeating: 0, count: parameters * parameters)
            for c in 0..<k {
                for j in 0..<(d - 1) {
                    gradient[c * d + j] = theta[c * d + j] / C
                    hessian[(c * d + j) * parameters + c * d + j] = 1 / C
                }
                // The softmax is unchanged by a common shift of the intercepts: a tiny ridge keeps the system definite.
                hessian[(c * d + d - 1) * parameters + c * d + d - 1] = 1e-10
            }
            for (x, y) in zip(inputs, targets) {
                let p = probabilities(x, theta)
                for c in 0..<k {
                    let residual = p[c] - (c == y ? 1 : 0)
                    for j in 0..<d { gradient[c * d + j] += residual * x[j] }
                    for e in 0..<k {
                        let weight = (c == e ? p[c] : 0) - p[c] * p[e]
                        if weight == 0 { continue }
                        for j in 0..<d {
                            let row = (c * d + j) * parameters + e * d
                            let scaled = weight * x[j]
                            for l in 0..<d { hessian[row + l] += scaled * x[l] }
                        }
                    }
                }
            }
            guard let factor = SymmetricMatrix.cholesky(hessian, size: parameters) else { break }
            let step = Self.solve(lower: factor, gradient, size: parameters)
            var scale = 1.0
            var next = objective(zip(theta, step).map { $0 - $1 })
            while next > current && scale > 1e-10 {
                scale *= 0.5
                next = objective(zip(theta, step).map { $0 - scale * $1 })
            }
            guard next <= current else { break }
            theta = zip(theta, step).map { $0 - scale * $1 }
            let decrease = current - next
            current = next
            if decrease <= 1e-13 * max(1, abs(current)) { break }
        }
        weights = (0..<k).map { Array(theta[($0 * d)..<($0 * d + d)]) }
    }

    /// The predicted class of `point`.
    public func predict(_ point: [Double]) -> Int {
        var best = 0, bestScore = -Double.infinity
        for (position, weight) in weights.enumerated() {
            var score = weight[point.count]
            for j in point.indices { score += weight[j] * point[j] }
            if score > bestScore { (best, bestScore) = (position, score) }
        }
        return classes[best]
    }

    /// The share of `points` predicted their `labels`.
    public func accuracy(points: [[Double]], labels: [Int]) -> Double {
        Double(zip(points, labels).filter { predict($0.0) == $0.1 }.count) / Double(points.count)
    }

    /// x with L Lᵀ x = b, L lower-triangular [n · n].
    static func solve(lower: [Double], _ b: [Double], size n: Int) -> [Double] {
        var y = b
        for i in 0..<n {
            for j in 0..<i { y[i] -= lower[i * n + j] * y[j] }
            y[i] /= lower[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in (i + 1)..<n { y[i] -= lower[j * n + i] * y[j] }
            y[i] /= lower[i * n + i]
        }
        return y
    }
}
