import CDNNL
import COpenBLAS
import Foundation
import TensorCore

/// The engine's matrix multiply against the libraries called directly on the same operands, at
/// the shapes of the MLP VAE (784-400-20, batch 128) and of the IWAE evaluation: OpenBLAS's
/// `cblas_sgemm`, oneDNN's matmul on fp32 operands, and oneDNN's matmul on bf16 operands
/// converted beforehand (fp32 accumulation and result), each through the C API with its
/// primitive made once. The engine runs in fp32 (sgemm) and in bf16 (its conversion of both
/// factors included, as each op does); its share is against the best direct call of its own
/// precision. All are timed in the same run, in alternating rounds, so that load on the shared
/// machine hits each alike.
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
        public let openBLAS: Double
        public let oneDNNSingle: Double
        public let oneDNNHalf: Double
        public let engineSingle: Double
        public let engineHalf: Double
        /// The engine in fp32 against the faster direct fp32 call.
        public var singleShare: Double { engineSingle / max(openBLAS, oneDNNSingle) }
        /// The engine in bf16 (conversions included) against the direct bf16 call.
        public var halfShare: Double { engineHalf / oneDNNHalf }
    }

    /// Forward layers (x·Wᵀ), input gradients (dY·W), weight gradients (dYᵀ·X), and the IWAE
    /// evaluation's decoder layers (5000 samples of one image).
    public static let vaeShapes: [Shape] = [
        Shape(name: "encoder fc1 forward", m: 128, n: 400, k: 784, transposeA: false, transposeB: true),
        Shape(name: "latent heads forward", m: 128, n: 20, k: 400, transposeA: false, transposeB: true),
        Shape(name: "decoder fc3 forward", m: 128, n: 400, k: 20, transposeA: false, transposeB: true),
        Shape(name: "decoder fc4 forward", m: 128, n: 784, k: 400, transposeA: false, transposeB: true),
        Shape(name: "fc4 input gradient", m: 128, n: 400, k: 784, transposeA: false, transposeB: false),
        Shape(name: "fc4 weight gradient", m: 784, n: 400, k: 128, transposeA: true, transposeB: false),
        Shape(name: "fc1 weight gradient", m: 400, n: 784, k: 128, transposeA: true, transposeB: false),
        Shape(name: "latent heads input gradient", m: 128, n: 400, k: 20, transposeA: false, transposeB: false),
        Shape(name: "IWAE decoder fc4, k = 5000", m: 5000, n: 784, k: 400, transposeA: false, transposeB: true),
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
        let aHalf = BFloat16Buffer(converting: a.pointer, count: a.count), bHalf = BFloat16Buffer(converting: b.pointer, count: b.count)
        let single = DirectMatmul(shape, type: dnnl_f32, a: UnsafeMutableRawPointer(a.pointer), b: UnsafeMutableRawPointer(b.pointer), c: c.pointer)
        let half = DirectMatmul(shape, type: dnnl_bf16, a: UnsafeMutableRawPointer(mutating: aHalf.pointer),
                                b: UnsafeMutableRawPointer(mutating: bHalf.pointer), c: c.pointer)
        let candidates: [() -> Void] = [
            {  // OpenBLAS
                cblas_sgemm(CblasRowMajor, shape.transposeA ? CblasTrans : CblasNoTrans, shape.transposeB ? CblasTrans : CblasNoTrans,
                            Int32(shape.m), Int32(shape.n), Int32(shape.k), 1,
                            a.pointer, Int32(shape.transposeA ? shape.m : shape.k),
                            b.pointer, Int32(shape.transposeB ? shape.k : shape.n), 0, c.pointer, Int32(shape.n))
            },
            { single.run() },
            { half.run() },
            { _ = withoutGradients { Tensor.matmul(a, b, transposeA: shape.transposeA, transposeB: shape.transposeB) } },
            { _ = withoutGradients { withPrecision(.bf16) { Tensor.matmul(a, b, transposeA: shape.transposeA, transposeB: shape.transposeB) } } },
        ]
        for candidate in candidates { for _ in 0..<3 { candidate() } }
        var best = [Double](repeating: .infinity, count: candidates.count)
        for _ in 0..<rounds {
            for (index, candidate) in candidates.enumerated() {
                let once = max(Stopwatch.seconds(candidate), 1e-7)
                let repeats = max(1, Int(minimumSecondsPerRound / once))
                best[index] = min(best[index], Stopwatch.bestSecondsPerCall(rounds: 1, repeats: repeats, candidate))
            }
        }
        let gflops = best.map { shape.flops / $0 / 1e9 }
        return Row(shape: shape, openBLAS: gflops[0], oneDNNSingle: gflops[1], oneDNNHalf: gflops[2], engineSingle: gflops[3], engineHalf: gflops[4])
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["| shape | operands | OpenBLAS fp32 | oneDNN fp32 | oneDNN bf16 | engine fp32 (share of best fp32) | engine bf16 (share of oneDNN bf16) |",
                     "|---|---|---|---|---|---|---|"]
        for row in rows {
            lines.append(String(format: "| %@ | %@ | %.1f | %.1f | %.1f | %.1f (%.0f%%) | %.1f (%.0f%%) |", row.shape.name, row.shape.notation,
                                row.openBLAS, row.oneDNNSingle, row.oneDNNHalf, row.engineSingle, 100 * row.singleShare,
                                row.engineHalf, 100 * row.halfShare))
        }
        return lines.joined(separator: "\n")
    }
}

/// oneDNN's matmul of one shape and operand type called through its C API: primitive and
/// memory objects made once, transposes as strides, on the given buffers.
final class DirectMatmul {
    private var engine: dnnl_engine_t?
    private var stream: dnnl_stream_t?
    private var primitive: dnnl_primitive_t?
    private var memories: [dnnl_memory_t?] = []
    private var arguments: [dnnl_exec_arg_t] = []

    init(_ shape: MatrixMultiplyBenchmark.Shape, type: dnnl_data_type_t, a: UnsafeMutableRawPointer, b: UnsafeMutableRawPointer,
         c: UnsafeMutablePointer<Float>) {
        dnnl_engine_create(&engine, dnnl_cpu, 0)
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        func describe(rows: Int, columns: Int, transposed: Bool, _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
            var descriptor = dnnl_memory_desc_t()
            let strides = transposed ? [dnnl_dim_t(1), dnnl_dim_t(rows)] : [dnnl_dim_t(columns), dnnl_dim_t(1)]
            dnnl_memory_desc_init_by_strides(&descriptor, 2, [dnnl_dim_t(rows), dnnl_dim_t(columns)], type, strides)
            return descriptor
        }
        var aDescriptor = describe(rows: shape.m, columns: shape.k, transposed: shape.transposeA, type)
        var bDescriptor = describe(rows: shape.k, columns: shape.n, transposed: shape.transposeB, type)
        var cDescriptor = describe(rows: shape.m, columns: shape.n, transposed: false, dnnl_f32)
        var operation = dnnl_matmul_desc_t()
        precondition(dnnl_matmul_desc_init(&operation, &aDescriptor, &bDescriptor, nil, &cDescriptor) == dnnl_success)
        var descriptor: dnnl_primitive_desc_t?
        precondition(dnnl_primitive_desc_create(&descriptor, &operation, nil, engine, nil) == dnnl_success)
        dnnl_primitive_create(&primitive, descriptor)
        dnnl_primitive_desc_destroy(descriptor)
        for (argument, memoryDescriptor, buffer) in [(CDNNL_ARG_SRC, aDescriptor, a), (CDNNL_ARG_WEIGHTS, bDescriptor, b),
                                                     (CDNNL_ARG_DST, cDescriptor, UnsafeMutableRawPointer(c))] {
            var memory: dnnl_memory_t?
            var memoryDescriptor = memoryDescriptor
            dnnl_memory_create(&memory, &memoryDescriptor, engine, buffer)
            memories.append(memory)
            arguments.append(dnnl_exec_arg_t(arg: argument, memory: memory))
        }
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        for memory in memories { dnnl_memory_destroy(memory) }
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    func run() {
        dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments)
        dnnl_stream_wait(stream)
    }
}
