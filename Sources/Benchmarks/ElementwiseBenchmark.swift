import Foundation
import TensorCore

/// ns per element of the vectorised kernels against their plain scalar references, over a
/// 128x784 buffer (one batch of decoder outputs).
public struct ElementwiseBenchmark {
    public struct Row: Sendable {
        public let name: String
        public let fastNanoseconds: Double
        public let referenceNanoseconds: Double
    }

    public let count: Int
    public let rounds: Int

    public init(count: Int = 128 * 784, rounds: Int = 7) {
        self.count = count
        self.rounds = rounds
    }

    public static let functions: [(String, UnaryFunction)] = [
        ("exp", .exp), ("log", .log), ("sigmoid", .sigmoid), ("tanh", .tanh), ("softplus", .softplus),
        ("relu", .relu), ("elu", .elu(alpha: 1)), ("sqrt", .sqrt),
    ]

    public func run() -> [Row] {
        var generator = RandomGenerator(seed: 2)
        let input = TensorStorage(uninitializedCount: count), output = TensorStorage(uninitializedCount: count)
        generator.fillUniform(input.buffer, low: -8, high: 8)
        let positive = TensorStorage(uninitializedCount: count)
        generator.fillUniform(positive.buffer, low: 1e-3, high: 8)
        return Self.functions.map { name, function in
            let x = (function == .log || function == .sqrt) ? positive.pointer : input.pointer
            let fast = Stopwatch.bestSecondsPerCall(rounds: rounds, repeats: 20) {
                ElementwiseKernels.apply(function, x, output.pointer, count: count)
            }
            let reference = Stopwatch.bestSecondsPerCall(rounds: rounds, repeats: 5) {
                ElementwiseKernels.applyReference(function, x, output.pointer, count: count)
            }
            return Row(name: name, fastNanoseconds: fast / Double(count) * 1e9, referenceNanoseconds: reference / Double(count) * 1e9)
        }
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["kernel   | vectorised ns/element | scalar reference ns/element | speed-up"]
        lines.append(String(repeating: "-", count: lines[0].count))
        for row in rows {
            lines.append([
                row.name.padding(toLength: 8, withPad: " ", startingAt: 0),
                String(format: "%21.3f", row.fastNanoseconds),
                String(format: "%27.3f", row.referenceNanoseconds),
                String(format: "%7.1fx", row.referenceNanoseconds / row.fastNanoseconds),
            ].joined(separator: " | "))
        }
        return lines.joined(separator: "\n")
    }
}
