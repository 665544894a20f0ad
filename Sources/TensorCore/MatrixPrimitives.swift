import CDNNL

// oneDNN's matmul behind the bf16 matrix path, and the fp32 -> bf16 conversions it needs.
// Shapes (row-major, as `BLAS.gemm`): C [m, n] (+)= op(A) [m, k] · op(B) [k, n] (+ bias [n]),
// A stored [m, k] or, transposed, [k, m]; B stored [k, n] or, transposed, [n, k]. Transposes are
// strides of the memory descriptors, never copies. Operands are bf16 (or f32), C and the bias
// f32; accumulation is fp32 inside oneDNN's kernels.

/// A bfloat16 copy of fp32 values: the upper 16 bits of each fp32, rounded to nearest (ties to
/// even), in pooled memory (half as many floats as values, so the buffer pool serves it).
package struct BFloat16Buffer {
    /// Pooled memory holding the bfloat16 values two per float.
    package let storage: TensorStorage
    /// How many bfloat16 values it holds.
    package let count: Int

    /// The values of `source` rounded to bf16 by oneDNN's reorder (its `vcvtneps2bf16` kernel
    /// where the processor has AVX512-BF16): about 0.07 ns per value, five times a Swift loop.
    /// That instruction treats fp32 subnormals (|x| < 1.18e-38) as zeros of their sign, as
    /// training's flush-to-zero mode does; otherwise the rounding is `ReferenceMath.bfloat16Bits`.
    /// Below a million values the conversion runs on one thread (see `OneDNN.withThreads`).
    package init(converting source: UnsafePointer<Float>, count: Int) {
        self.count = count
        storage = TensorStorage(uninitializedCount: (count + 1) / 2)
        OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
        OneDNN.adoptThreads()
        let destination = UnsafeMutableRawPointer(storage.pointer)
        OneDNN.withThreads(count < 1 << 20 ? 1 : OneDNN.threadCount) {
            BFloat16Conversion.shared(count: count).run(from: source, to: destination)
        }
    }

    /// The first bfloat16 value (16-bit words), for oneDNN.
    package var pointer: UnsafeRawPointer { UnsafeRawPointer(storage.pointer) }

    /// The values as bf16 bit patterns (for tests and references).
    package var bitPatterns: [UInt16] {
        Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt16.self), count: count))
    }
}

/// The f32 -> bf16 reorder of one length, made once and kept.
final class BFloat16Conversion {
    struct Key: Hashable {
        var count: Int
        var threads: Int
    }

    private let call: PrimitiveCall

    static func shared(count: Int) -> BFloat16Conversion {
        let context = OneDNN.context
        return context.cached(\.conversions, Key(count: count, threads: OneDNN.threadCount)) { BFloat16Conversion(count: count, context: context) }
    }

    private init(count: Int, context: OneDNN.Context) {
        var source = OneDNN.descriptor([count], dnnl_a)
        var destination = dnnl_memory_desc_t()
        OneDNN.check(dnnl_memory_desc_init_by_tag(&destination, 1, [dnnl_dim_t(count)], dnnl_bf16, dnnl_a), "describing \(count) bf16 values")
        var descriptor: dnnl_primitive_desc_t?
        let attributes = OneDNN.makeAttributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        OneDNN.check(dnnl_reorder_primitive_desc_create(&descriptor, &source, context.engine, &destination, context.engine, attributes),
                     "describing the bf16 conversion of \(count) values")
        call = PrimitiveCall(descriptor: descriptor!, arguments: [(CDNNL_ARG_FROM, source), (CDNNL_ARG_TO, destination)],
                             context: context, what: "bf16 conversion", account: .matrix)
        dnnl_primitive_desc_destroy(descriptor)
    }

    func run(from source: UnsafePointer<Float>, to destination: UnsafeMutableRawPointer) {
        call.run([UnsafeMutableRawPointer(mutating: source), destination], context: OneDNN.context)
    }
}

/// oneDNN's matmul for one shape, operand type, bias and accumulation, made once and kept.
final class MatrixPrimitive {
    struct Key: Hashable {
        var m: Int, n: Int, k: Int
        var transposeA: Bool, transposeB: Bool
        /// The operands' type (the result is f32 either way).
        var operands: Precision
        var hasBias: Bool
        /// C += product (a sum post-op) instead of C = product.
        var accumulate: Bool
        /// C = max(product + bias, 0) (an eltwise post-op).
        var relu: Bool = false
        var threads: Int
    }

    private let call: PrimitiveCall
    let key: Key
    let implementation: String

    static func shared(_ key: Key) -> MatrixPrimitive {
        let context = OneDNN.context
        return context.cached(\.matrices, key) { MatrixPrimitive(key: key, context: context) }
    }

    private init(key: Key, context: OneDNN.Context) {
        self.key = key
        let type = key.operands == .bf16 ? dnnl_bf16 : dnnl_f32
        func strided(rows: Int, columns: Int, transposed: Bool, _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
            var descriptor = dnnl_memory_desc_t()
            let strides = transposed ? [dnnl_dim_t(1), dnnl_dim_t(rows)] : [dnnl_dim_t(columns), dnnl_dim_t(1)]
            OneDNN.check(dnnl_memory_desc_init_by_strides(&descriptor, 2, [dnnl_dim_t(rows), dnnl_dim_t(columns)], type, strides),
                         "describing a [\(rows), \(columns)] matrix")
            return descriptor
        }
        var a = strided(rows: key.m, columns: key.k, transposed: key.transposeA, type)
        var b = strided(rows: key.k, columns: key.n, transposed: key.transposeB, type)
        var c = strided(rows: key.m, columns: key.n, transposed: false, dnnl_f32)
        var bias = OneDNN.descriptor([1, key.n], dnnl_ab)
        let shapeText = "matmul [\(key.m), \(key.k)]\(key.transposeA ? "ᵀ" : "") · [\(key.k), \(key.n)]\(key.transposeB ? "ᵀ" : "") (\(key.operands.rawValue))"
        var operation = dnnl_matmul_desc_t()
        OneDNN.check(withUnsafePointer(to: &bias) { biasPointer in
            dnnl_matmul_desc_init(&operation, &a, &b, key.hasBias ? biasPointer : nil, &c)
        }, "describing the \(shapeText)")
        let attributes = OneDNN.makeAttributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        precondition(!(key.accumulate && key.relu), "a rectified product is a fresh one")
        if key.accumulate || key.relu {
            var postOps: dnnl_post_ops_t?
            OneDNN.check(dnnl_post_ops_create(&postOps), "creating post-ops")
            if key.accumulate { OneDNN.check(dnnl_post_ops_append_sum(postOps, 1), "appending a sum post-op") }
            if key.relu { OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "appending a ReLU post-op") }
            OneDNN.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "setting post-ops")
            dnnl_post_ops_destroy(postOps)
        }
        var descriptor: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&descriptor, &operation, attributes, context.engine, nil), "creating the \(shapeText) descriptor")
        implementation = OneDNN.implementationName(descriptor!)
        var arguments: [(Int32, dnnl_memory_desc_t)] = [(CDNNL_ARG_SRC, a), (CDNNL_ARG_WEIGHTS, b), (CDNNL_ARG_DST, c)]
        if key.hasBias { arguments.append((CDNNL_ARG_BIAS, bias)) }
        call = PrimitiveCall(descriptor: descriptor!, arguments: arguments, context: context, what: shapeText, account: .matrix)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// C (+)= op(A) · op(B) (+ bias); A and B hold `key.operands` values.
    func run(a: UnsafeRawPointer, b: UnsafeRawPointer, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) {
        precondition((bias != nil) == key.hasBias, "this matmul was made \(key.hasBias ? "with" : "without") a bias")
        var buffers = [UnsafeMutableRawPointer(mutating: a), UnsafeMutableRawPointer(mutating: b), UnsafeMutableRawPointer(c)]
        if let bias { buffers.append(UnsafeMutableRawPointer(mutating: bias)) }
        call.run(buffers, context: OneDNN.context)
    }
}

extension OneDNN {
    /// C (+)= op(A) · op(B) (+ bias) through oneDNN's matmul, with operands of `precision`
    /// (`a` and `b` point at bf16 values for `.bf16`, at Floats for `.fp32`); see the shapes above.
    /// A product of under 16 MFLOP runs on one thread (see `withThreads`; at two threads the
    /// MLP's 80-MFLOP layers gain 1.3-1.4x, its 1-2 MFLOP ones lose 4x).
    /// With `relu`, C = max(op(A) · op(B) + bias, 0) in the same pass (oneDNN's eltwise post-op).
    package static func matmul(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, operands precision: Precision,
                              a: UnsafeRawPointer, b: UnsafeRawPointer, bias: UnsafePointer<Float>? = nil,
                              accumulate: Bool, relu: Bool = false, c: UnsafeMutablePointer<Float>) {
        lock.lock(); defer { lock.unlock() }
        adoptThreads()
        let threads = 2 * Double(m) * Double(n) * Double(k) < 16e6 ? 1 : threadCount
        withThreads(threads) {
            let key = MatrixPrimitive.Key(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, operands: precision,
                                          hasBias: bias != nil, accumulate: accumulate, relu: relu, threads: threadCount)
            MatrixPrimitive.shared(key).run(a: a, b: b, bias: bias, c: c)
        }
    }

    /// The implementation oneDNN picks for a matmul of this shape (e.g. "brg:avx512_core_bf16").
    package static func matmulImplementation(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, operands precision: Precision) -> String {
        lock.lock(); defer { lock.unlock() }
        adoptThreads()
        let key = MatrixPrimitive.Key(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, operands: precision,
                                      hasBias: false, accumulate: false, threads: threadCount)
        return MatrixPrimitive.shared(key).implementation
    }
}
