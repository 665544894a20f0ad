import Foundation
import Testing
import _TestSupport
import TensorCore

/// Every differentiable operation: the engine's analytic gradient (Float) against central
/// differences of an independent Double reference.
@Suite struct OperationGradientTests {
    static let tolerance = 2e-3

    func expectPasses(_ report: GradientCheck.Report, _ name: String) {
        #expect(report.forwardError < 1e-4, "\(name): \(report)")
        #expect(report.gradientError < Self.tolerance, "\(name): \(report)")
    }

    @Test(arguments: [
        (UnaryFunction.exp, -3 as Float, 3 as Float), (.log, 0.2, 4), (.square, -2, 2), (.sqrt, 0.2, 4),
        (.sigmoid, -6, 6), (.tanh, -3, 3), (.relu, -2, 2), (.softplus, -6, 6), (.negate, -2, 2),
        (.elu(alpha: 1), -3, 3), (.elu(alpha: 0.7), -3, 3), (.silu, -6, 6), (.leakyRelu(slope: 0.2), -3, 3),
    ])
    func unaryGradientMatchesFiniteDifferences(function: UnaryFunction, low: Float, high: Float) {
        let reference: (Double) -> Double
        switch function {
        case .exp: reference = { Foundation.exp($0) }
        case .log: reference = { Foundation.log($0) }
        case .square: reference = { $0 * $0 }
        case .sqrt: reference = { $0.squareRoot() }
        case .sigmoid: reference = { 1 / (1 + Foundation.exp(-$0)) }
        case .tanh: reference = { Foundation.tanh($0) }
        case .relu: reference = { max($0, 0) }
        case .softplus: reference = { Foundation.log1p(Foundation.exp($0)) }
        case .negate: reference = { -$0 }
        case .elu(let alpha): reference = { $0 > 0 ? $0 : Double(alpha) * Foundation.expm1($0) }
        case .silu: reference = { $0 / (1 + Foundation.exp(-$0)) }
        case .leakyRelu(let slope): reference = { $0 > 0 ? $0 : Double(slope) * $0 }
        }
        let report = GradientCheck.run(inputs: [([7, 5], low...high)], engine: { $0[0].applying(function) }) { $0[0].map(reference) }
        expectPasses(report, "\(function)")
    }

    /// Broadcast b against a [4, 6] according to `shape`, in Double.
    func broadcastReference(_ a: [Double], _ b: [Double], bShape: [Int], _ op: (Double, Double) -> Double) -> [Double] {
        (0..<24).map { index in
            let (r, c) = (index / 6, index % 6)
            let bValue: Double
            switch bShape {
            case [4, 6]: bValue = b[index]
            case [6], [1, 6]: bValue = b[c]
            case [4, 1]: bValue = b[r]
            default: bValue = b[0]
            }
            return op(a[index], bValue)
        }
    }

    @Test(arguments: [[4, 6], [6], [1, 6], [4, 1], [], [1]])
    func binaryGradientsReduceOverBroadcastAxes(bShape: [Int]) {
        let cases: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double)] = [
            ("add", { $0 + $1 }, { $0 + $1 }), ("subtract", { $0 - $1 }, { $0 - $1 }),
            ("multiply", { $0 * $1 }, { $0 * $1 }), ("divide", { $0 / $1 }, { $0 / $1 }),
        ]
        for (name, engine, op) in cases {
            let forward = GradientCheck.run(inputs: [([4, 6], -2...2), (bShape, 0.5...2)], engine: { engine($0[0], $0[1]) }) {
                broadcastReference($0[0], $0[1], bShape: bShape, op)
            }
            expectPasses(forward, "\(name) with b \(bShape)")
            // The broadcast operand on the left.
            let swapped = GradientCheck.run(inputs: [(bShape, 0.5...2), ([4, 6], 0.5...2)], engine: { engine($0[0], $0[1]) }) {
                broadcastReference($0[1], $0[0], bShape: bShape) { a, b in op(b, a) }
            }
            expectPasses(swapped, "\(name) with a \(bShape)")
        }
    }

    @Test func sumAndMeanGradientsMatchFiniteDifferences() {
        let shape = [3, 4, 5]
        func reduce(_ x: [Double], axis: Int, mean: Bool) -> [Double] {
            var out: [Double] = []
            let n = shape[axis]
            for i in 0..<3 { for j in 0..<4 { for k in 0..<5 {
                let index = [i, j, k]
                guard index[axis] == 0 else { continue }
                var total = 0.0
                for t in 0..<n {
                    var at = index; at[axis] = t
                    total += x[at[0] * 20 + at[1] * 5 + at[2]]
                }
                out.append(mean ? total / Double(n) : total)
            } } }
            return out
        }
        for axis in 0..<3 {
            for mean in [false, true] {
                let report = GradientCheck.run(inputs: [(shape, -1...1)], engine: {
                    mean ? $0[0].mean(alongAxis: axis) : $0[0].sum(alongAxis: axis)
                }) { reduce($0[0], axis: axis, mean: mean) }
                expectPasses(report, "\(mean ? "mean" : "sum") along \(axis)")
            }
        }
        expectPasses(GradientCheck.run(inputs: [(shape, -1...1)], engine: { $0[0].sum() }) { [$0[0].reduce(0, +)] }, "sum")
        expectPasses(GradientCheck.run(inputs: [(shape, -1...1)], engine: { $0[0].mean() }) { [$0[0].reduce(0, +) / 60] }, "mean")
        let negativeAxis = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).sum(alongAxis: -1)
        #expect(negativeAxis.shape == [2] && negativeAxis.scalars == [6, 15])
    }

    @Test func reshapeConcatenateAndSliceGradientsMatchFiniteDifferences() {
        let reshape = GradientCheck.run(inputs: [([4, 6], -1...1)], engine: { $0[0].reshaped(to: [3, -1]).squared() }) { $0[0].map { $0 * $0 } }
        expectPasses(reshape, "reshape")
        let concatenate = GradientCheck.run(inputs: [([3, 2], -1...1), ([3, 5], -1...1)], engine: { Tensor.concatenated($0) }) { v in
            var out: [Double] = []
            for r in 0..<3 {
                out += v[0][(r * 2)..<(r * 2 + 2)]
                out += v[1][(r * 5)..<(r * 5 + 5)]
            }
            return out
        }
        expectPasses(concatenate, "concatenate")
        let slice = GradientCheck.run(inputs: [([3, 7], -1...1)], engine: { $0[0].sliced(lastAxis: 2..<5) }) { v in
            var out: [Double] = []
            for r in 0..<3 { out += v[0][(r * 7 + 2)..<(r * 7 + 5)] }
            return out
        }
        expectPasses(slice, "slice")
        let repeated = GradientCheck.run(inputs: [([3, 5], -1...1)], engine: { $0[0].repeatingRows(4).squared() }) { v in
            var out: [Double] = []
            for r in 0..<3 { for _ in 0..<4 { out += v[0][(r * 5)..<(r * 5 + 5)].map { $0 * $0 } } }
            return out
        }
        expectPasses(repeated, "repeating rows")
    }

    /// op(A) op(B) in Double; A and B stored row-major with the given shapes.
    static func referenceMatmul(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int], transposeA: Bool, transposeB: Bool) -> [Double] {
        let (m, k) = transposeA ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
        let n = transposeB ? bShape[0] : bShape[1]
        func opA(_ i: Int, _ p: Int) -> Double { transposeA ? a[p * aShape[1] + i] : a[i * aShape[1] + p] }
        func opB(_ p: Int, _ j: Int) -> Double { transposeB ? b[j * bShape[1] + p] : b[p * bShape[1] + j] }
        return (0..<(m * n)).map { index in (0..<k).reduce(0) { $0 + opA(index / n, $1) * opB($1, index % n) } }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulGradientsMatchFiniteDifferencesForEveryTransposeFlag(transposeA: Bool, transposeB: Bool) {
        let aShape = transposeA ? [5, 3] : [3, 5]
        let bShape = transposeB ? [4, 5] : [5, 4]
        let report = GradientCheck.run(inputs: [(aShape, -1...1), (bShape, -1...1)], engine: {
            Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB)
        }) { Self.referenceMatmul($0[0], aShape, $0[1], bShape, transposeA: transposeA, transposeB: transposeB) }
        expectPasses(report, "matmul transposeA \(transposeA) transposeB \(transposeB)")
    }

    @Test func linearGradientsMatchFiniteDifferences() {
        let report = GradientCheck.run(inputs: [([6, 5], -1...1), ([3, 5], -1...1), ([3], -1...1)], engine: {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2])
        }) { v in
            let product = Self.referenceMatmul(v[0], [6, 5], v[1], [3, 5], transposeA: false, transposeB: true)
            return product.enumerated().map { $0.element + v[2][$0.offset % 3] }
        }
        expectPasses(report, "linear")
    }

    @Test func linearWithFusedReLUGradientsMatchFiniteDifferences() {
        // 19 outputs: one full 16-lane vector and a tail, in the pass that masks dy and sums db.
        let report = GradientCheck.run(inputs: [([6, 5], -1...1), ([19, 5], -1...1), ([19], -1...1)], engine: {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2], relu: true)
        }) { v in
            let product = Self.referenceMatmul(v[0], [6, 5], v[1], [19, 5], transposeA: false, transposeB: true)
            return product.enumerated().map { max(0, $0.element + v[2][$0.offset % 19]) }
        }
        expectPasses(report, "linear with ReLU")
    }

    @Test func fusedReLULayerGivesTheUnfusedLayersValuesAndGradients() {
        var generator = RandomGenerator(seed: 9)
        let x = Tensor.randomNormal([7, 33], using: &generator, requiresGradient: true)
        let weight = Tensor.randomNormal([21, 33], using: &generator, requiresGradient: true)
        let bias = Tensor.randomNormal([21], using: &generator, requiresGradient: true)
        let seed = Tensor.randomNormal([7, 21], using: &generator)
        func run(fused: Bool) -> [[Float]] {
            for t in [x, weight, bias] { t.zeroGradient() }
            let y = fused ? Tensor.linear(x, weight: weight, bias: bias, relu: true) : Tensor.linear(x, weight: weight, bias: bias).relu()
            // Used twice, so the bias gradient's second contribution accumulates.
            ((y * seed).sum() + y.sum()).backward()
            return [y.scalars, x.gradient!, weight.gradient!, bias.gradient!]
        }
        let (fused, unfused) = (run(fused: true), run(fused: false))
        for (name, (a, b)) in zip(["y", "dx", "dW", "db"], zip(fused, unfused)) {
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(name) differs")
        }
        #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "the test needs both sides of the kink")
    }

    @Test func composedTwoLayerNetworkGradientMatchesFiniteDifferences() {
        // softplus(x W1ᵀ + b1) W2ᵀ + b2, then tanh, squared and summed per row.
        let report = GradientCheck.run(inputs: [([5, 4], -1...1), ([6, 4], -1...1), ([6], -1...1), ([3, 6], -1...1), ([3], -1...1)], engine: { t in
            let hidden = Tensor.linear(t[0], weight: t[1], bias: t[2]).softplus()
            return Tensor.linear(hidden, weight: t[3], bias: t[4]).tanh().squared().sum(alongAxis: 1)
        }) { v in
            let h1 = Self.referenceMatmul(v[0], [5, 4], v[1], [6, 4], transposeA: false, transposeB: true)
                .enumerated().map { Foundation.log1p(Foundation.exp($0.element + v[2][$0.offset % 6])) }
            let h2 = Self.referenceMatmul(h1, [5, 6], v[3], [3, 6], transposeA: false, transposeB: true)
                .enumerated().map { Foundation.pow(Foundation.tanh($0.element + v[4][$0.offset % 3]), 2) }
            return (0..<5).map { r in h2[(r * 3)..<(r * 3 + 3)].reduce(0, +) }
        }
        expectPasses(report, "two-layer network")
    }
}
