// Elementwise kernels over contiguous buffers.
// Shapes: x, y, outputGradient, inputGradient all hold `count` floats.

/// A differentiable function applied elementwise.
public enum UnaryFunction: Sendable, Equatable {
    case exp, log, square, sqrt, sigmoid, tanh, relu, softplus, negate
    /// SiLU (swish, Ramachandran et al. 2017; Elfwing et al. 2018): x σ(x).
    case silu
    /// ELU: x for x > 0, alpha (e^x - 1) otherwise.
    case elu(alpha: Float)
    /// Leaky ReLU (Maas et al. 2013): x for x > 0, slope · x otherwise.
    case leakyRelu(slope: Float)
}

/// Forward and backward kernels of the `UnaryFunction`s over contiguous buffers.
package enum ElementwiseKernels {
    /// y = f(x).
    public static func apply(_ function: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch function {
        case .exp: map(x, y, count) { VectorMath.exp($0) }
        case .log: map(x, y, count) { VectorMath.log($0) }
        case .square: map(x, y, count) { $0 * $0 }
        case .sqrt: map(x, y, count) { VectorMath.squareRoot($0) }
        case .sigmoid: map(x, y, count) { VectorMath.sigmoid($0) }
        case .tanh: map(x, y, count) { VectorMath.tanh($0) }
        case .relu: map(x, y, count) { VectorMath.positivePart($0) }
        case .softplus: map(x, y, count) { VectorMath.softplus($0) }
        case .negate: map(x, y, count) { -$0 }
        case .silu: map(x, y, count) { $0 * VectorMath.sigmoid($0) }
        case .elu(let alpha):
            map(x, y, count) { v in
                var out = v
                out.replace(with: alpha * VectorMath.expm1(v), where: v .<= 0)
                return out
            }
        case .leakyRelu(let slope):
            map(x, y, count) { v in
                var out = v
                out.replace(with: slope * v, where: v .<= 0)
                return out
            }
        }
    }

    /// inputGradient (+)= f'(x) * outputGradient, using the saved output y = f(x) where cheaper.
    public static func applyDerivative(
        _ function: UnaryFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
        outputGradient g: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        count: Int, accumulate: Bool
    ) {
        @inline(__always) func run(_ body: (_ x: FloatVector, _ y: FloatVector, _ g: FloatVector) -> FloatVector) {
            forEachVector(count) { offset, lanes in
                let value = body(loadVector(x, offset, lanes), loadVector(y, offset, lanes), loadVector(g, offset, lanes))
                storeVector(value, inputGradient, offset, lanes, accumulate: accumulate)
            }
        }
        switch function {
        case .exp: run { _, y, g in g * y }
        case .log: run { x, _, g in g / x }
        case .square: run { x, _, g in 2 * x * g }
        case .sqrt: run { _, y, g in 0.5 * g / y }
        case .sigmoid: run { _, y, g in g * y * (1 - y) }
        case .tanh: run { _, y, g in g * (1 - y * y) }
        case .relu:
            run { x, _, g in
                var out = g
                out.replace(with: 0, where: x .<= 0)
                return out
            }
        case .softplus: run { x, _, g in g * VectorMath.sigmoid(x) }
        case .negate: run { _, _, g in -g }
        case .silu:
            // d/dx x σ(x) = σ(x) + x σ(x) (1 − σ(x)) = σ + y (1 − σ).
            run { x, y, g in
                let s = VectorMath.sigmoid(x)
                return g * (s + y * (1 - s))
            }
        case .elu(let alpha):
            run { x, y, g in
                var out = g
                out.replace(with: g * (y + alpha), where: x .<= 0)
                return out
            }
        case .leakyRelu(let slope):
            run { x, _, g in
                var out = g
                out.replace(with: slope * g, where: x .<= 0)
                return out
            }
        }
    }

    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (FloatVector) -> FloatVector) {
        forEachVector(count) { offset, lanes in storeVector(f(loadVector(x, offset, lanes)), y, offset, lanes) }
    }

    /// The plain scalar version of `apply`, the oracle for tests and benchmarks.
    public static func applyReference(_ function: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            switch function {
            case .exp: y[i] = ReferenceMath.exp(v)
            case .log: y[i] = ReferenceMath.log(v)
            case .square: y[i] = v * v
            case .sqrt: y[i] = v.squareRoot()
            case .sigmoid: y[i] = ReferenceMath.sigmoid(v)
            case .tanh: y[i] = ReferenceMath.tanh(v)
            case .relu: y[i] = ReferenceMath.relu(v)
            case .softplus: y[i] = ReferenceMath.softplus(v)
            case .negate: y[i] = -v
            case .silu: y[i] = ReferenceMath.silu(v)
            case .elu(let alpha): y[i] = ReferenceMath.elu(v, alpha: alpha)
            case .leakyRelu(let slope): y[i] = v > 0 ? v : slope * v
            }
        }
    }
}
