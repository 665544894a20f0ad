import TensorCore

/// Checks an engine operation against an independent reference written in Double.
///
/// For random inputs x and fixed random weights w, the scalar L(x) = Σ w · f(x) is
/// differentiated twice: by the engine (`f` in Float32, `backward(seed: w)`) and by central
/// differences of the Double reference, with step h = 1e-6 · max(1, |x|). The forward values
/// are compared as well. Errors are |a - b| / max(1, |b|).
public struct GradientCheck {
    public struct Report: CustomStringConvertible {
        public var forwardError: Double = 0
        public var gradientError: Double = 0
        public var description: String { "forward error \(forwardError), gradient error \(gradientError)" }
    }

    /// Inputs: one (shape, range) per argument; every argument requires a gradient unless
    /// listed in `constants`.
    public static func run(
        inputs: [(shape: [Int], range: ClosedRange<Float>)],
        constants: Set<Int> = [],
        seed: UInt64 = 7,
        engine: ([Tensor]) -> Tensor,
        reference: ([[Double]]) -> [Double]
    ) -> Report {
        var generator = RandomGenerator(seed: seed)
        let tensors = inputs.enumerated().map { index, input in
            Tensor.randomUniform(input.shape, low: input.range.lowerBound, high: input.range.upperBound,
                                 using: &generator, requiresGradient: !constants.contains(index))
        }
        let output = engine(tensors)
        let weights = (0..<output.count).map { _ in Double(generator.nextUniform() * 2 - 1) }
        output.backward(seed: weights.map(Float.init))

        var report = Report()
        let values = tensors.map { $0.scalars.map(Double.init) }
        let expected = reference(values)
        precondition(expected.count == output.count, "reference returned \(expected.count) values, engine \(output.count)")
        for (a, b) in zip(output.scalars, expected) {
            report.forwardError = max(report.forwardError, relativeError(Double(a), b))
        }
        func loss(_ arguments: [[Double]]) -> Double {
            zip(reference(arguments), weights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        for (index, tensor) in tensors.enumerated() where !constants.contains(index) {
            let analytic = tensor.gradient ?? Array(repeating: 0, count: tensor.count)
            for element in 0..<tensor.count {
                var plus = values, minus = values
                let h = 1e-6 * max(1, abs(values[index][element]))
                plus[index][element] += h
                minus[index][element] -= h
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                report.gradientError = max(report.gradientError, relativeError(Double(analytic[element]), numeric))
            }
        }
        return report
    }

    public static func relativeError(_ a: Double, _ b: Double) -> Double {
        if a == b { return 0 }
        return abs(a - b) / max(1, abs(b))
    }
}

/// Distance in units in the last place of the Float nearest to `exact`.
public func ulpDistance(_ value: Float, _ exact: Double) -> Double {
    if value.isNaN || exact.isNaN { return value.isNaN && exact.isNaN ? 0 : .infinity }
    let rounded = Float(exact)
    if rounded.isInfinite || value.isInfinite { return value == rounded ? 0 : .infinity }
    let ulp = Double(max(rounded.magnitude.ulp, Float.leastNormalMagnitude.ulp))
    return abs(Double(value) - exact) / ulp
}
