import COpenBLAS
import Foundation
import TensorCore

/// The engine's matrix multiply against a direct `cblas_sgemm` call on the same operands, at
/// the shapes of the MLP VAE (784-400-20, batch 128). Both are timed in the same run, in
/// alternating rounds, so that load on the shared machine hits both alike.
public struct MatrixMultiplyBenchmark {
    public struct Shape: Sendable {
        public let name: String
        public let m: Int, n: Int, k: Int
        public let transposeA: Bool, transposeB: Bool

        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
        public var notation: String {
            "\(transposeA ? "\(k)x\(m)ᵀ" : "\(m)x\(k)")·\(transposeB ? "\(n)x\(k)ᵀ" : "\(k)x\(n)")"
        }
    }

    public struct Row: Sendable {
        public let shape: Shape
        public let engineGFLOPS: Double
        public let directGFLOPS: Double
        public var share: Double { engineGFLOPS / directGFLOPS }
    }

    /// Forward layers (x·Wᵀ), input gradients (dY·W) and weight gradients (dYᵀ·X).
    public static let vaeShapes: [Shape] = [
        Shape(name: "encoder fc1 forward", m: 128, n: 400, k: 784, transposeA: false, transposeB: true),
        Shape(name: "latent heads forward", m: 128, n: 20, k: 400, transposeA: false, transposeB: true),
        Shape(name: "decoder fc3 forward", m: 128, n: 400, k: 20, transposeA: false, transposeB: true),
        Shape(name: "decoder fc4 forward", m: 128, n: 784, k: 400, transposeA: false, transposeB: true),
        Shape(name: "fc4 input gradient", m: 128, n: 400, k: 784, transposeA: false, transposeB: false),
        Shape(name: "fc4 weight gradient", m: 784, n: 400, k: 128, transposeA: true, transposeB: false),
        Shape(name: "fc1 weight gradient", m: 400, n: 784, k: 128, transposeA: true, transposeB: false),
        Shape(name: "latent heads input gradient", m: 128, n: 400, k: 20, transposeA: false, transposeB: false),
    ]

    public let rounds: Int
    public let minimumSecondsPerRound: Double

    public init(rounds: Int = 7, minimumSecondsPerRound: Double = 0.05) {
        self.rounds = rounds
        self.minimumSecondsPerRound = minimumSecondsPerRound
    }

    public func run(shapes: [Shape] = vaeShapes) -> [Row] {
        shapes.map(measure)
    }

    func measure(_ shape: Shape) -> Row {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomUniform(shape.transposeA ? [shape.k, shape.m] : [shape.m, shape.k], low: -1, high: 1, using: &generator)
        let b = Tensor.randomUniform(shape.transposeB ? [shape.n, shape.k] : [shape.k, shape.n], low: -1, high: 1, using: &generator)
        let c = TensorStorage(uninitializedCount: shape.m * shape.n)
        let engine = {
            _ = withoutGradients { Tensor.matmul(a, b, transposeA: shape.transposeA, transposeB: shape.transposeB) }
        }
        let direct = {
            cblas_sgemm(CblasRowMajor, shape.transposeA ? CblasTrans : CblasNoTrans, shape.transposeB ? CblasTrans : CblasNoTrans,
                        Int32(shape.m), Int32(shape.n), Int32(shape.k), 1,
                        a.pointer, Int32(shape.transposeA ? shape.m : shape.k),
                        b.pointer, Int32(shape.transposeB ? shape.k : shape.n), 0, c.pointer, Int32(shape.n))
        }
        for _ in 0..<5 { engine(); direct() }
        let once = max(Stopwatch.seconds(direct), 1e-7)
        let repeats = max(1, Int(minimumSecondsPerRound / once))
        var engineBest = Double.infinity, directBest = Double.infinity
        for _ in 0..<rounds {
            engineBest = min(engineBest, Stopwatch.bestSecondsPerCall(rounds: 1, repeats: repeats, engine))
            directBest = min(directBest, Stopwatch.bestSecondsPerCall(rounds: 1, repeats: repeats, direct))
        }
        return Row(shape: shape, engineGFLOPS: shape.flops / engineBest / 1e9, directGFLOPS: shape.flops / directBest / 1e9)
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["shape                         | operands          | engine GFLOP/s | direct sgemm GFLOP/s | engine share"]
        lines.append(String(repeating: "-", count: lines[0].count))
        for row in rows {
            lines.append([
                row.shape.name.padding(toLength: 29, withPad: " ", startingAt: 0),
                row.shape.notation.padding(toLength: 17, withPad: " ", startingAt: 0),
                String(format: "%14.1f", row.engineGFLOPS),
                String(format: "%20.1f", row.directGFLOPS),
                String(format: "%5.0f%% of direct sgemm", 100 * row.share),
            ].joined(separator: " | "))
        }
        return lines.joined(separator: "\n")
    }
}
