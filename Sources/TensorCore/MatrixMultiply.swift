import Foundation

// Matrix multiply and the fused linear layer: oneDNN's matmul in bf16; in fp32 oneDNN or OpenBLAS sgemm
// (`MatrixLibrary.fp32`).
// Shapes: matmul: op(a) [m, k] · op(b) [k, n] -> [m, n], where op transposes when asked.
//         linear: x [batch, in] · weight [out, in]^T + bias [out] -> [batch, out].
// Transposes are flags (strides), never copies; gradients accumulate with beta = 1 (a sum
// post-op in oneDNN).
//
// Precision (`Precision.current`, read when the forward pass runs and kept for its backward):
// in bf16 each factor is rounded to bf16 once per pass that makes it: the forward pass converts
// both factors (a weight once per step, since a layer uses it once) and keeps the copies for the
// backward pass; the backward pass converts the output gradient once and uses it for both input
// gradients. Products are accumulated and stored in fp32.

/// One factor of a product in the form the precision wants: the fp32 values themselves, or a
/// bf16 copy made once (so two products that read the same values convert them once). It
/// keeps whatever memory it points at alive (a backward pass may run long after the forward
/// pass that made it).
package struct MatrixOperand {
    let pointer: UnsafeRawPointer
    private let owner: AnyObject?

    /// A tensor's values as a factor.
    package init(_ tensor: Tensor, precision: Precision) {
        self.init(tensor.pointer, count: tensor.count, owner: tensor.storage, precision: precision)
    }

    /// `count` values at `values` (valid while `owner` lives, or for the current call when nil).
    package init(_ values: UnsafePointer<Float>, count: Int, owner: AnyObject? = nil, precision: Precision) {
        switch precision {
        case .fp32:
            pointer = UnsafeRawPointer(values)
            self.owner = owner
        case .bf16:
            let converted = BFloat16Buffer(converting: values, count: count)
            pointer = converted.pointer
            self.owner = converted.storage
        }
    }

    var floats: UnsafePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

/// Products of operands in either precision, for the ops below and for fused kernels that keep
/// their own buffers (the affine kind's coordinate decoder).
package enum MatrixMultiply {
    /// C (+)= op(A) · op(B) (+ bias, broadcast over rows) in `precision`; `accumulate` adds to C;
    /// `relu` makes C = max(op(A) · op(B) + bias, 0) (in oneDNN's epilogue, or one pass after
    /// sgemm). Both operands must have been made for `precision`.
    package static func multiply(_ precision: Precision, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                a: MatrixOperand, b: MatrixOperand, bias: UnsafePointer<Float>? = nil, accumulate: Bool,
                                relu: Bool = false, c: UnsafeMutablePointer<Float>) {
        precondition(!(relu && accumulate), "a rectified product is a fresh one")
        switch precision {
        case .fp32 where MatrixLibrary.fp32 == .oneDNN, .bf16:
            OneDNN.matmul(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, operands: precision, a: a.pointer, b: b.pointer,
                          bias: bias, accumulate: accumulate, relu: relu, c: c)
        case .fp32:
            // The bias is written into C first and sgemm adds the product (beta = 1): no extra pass.
            if let bias {
                precondition(!accumulate, "a bias is added to a fresh product only")
                for r in 0..<m { (c + r &* n).update(from: bias, count: n) }
            }
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.floats, b: b.floats,
                      beta: accumulate || bias != nil ? 1 : 0, c: c)
            if relu { ElementwiseKernels.apply(.relu, c, c, count: m * n) }
        }
    }
}

/// The library behind fp32 products (bf16 products are always oneDNN's).
///
/// The rule, from `vae bench kernels` on an AMD EPYC with AVX-512 (both thread counts, the MLP
/// VAE's nine shapes and the IWAE evaluation's): where oneDNN's fp32 matmul is one of its
/// AVX-512 kernels, it ran 5-20% faster than OpenBLAS's sgemm at every shape on one thread and
/// 1-11% faster on the large shapes on two; OpenBLAS won only the three small products (1-2
/// MFLOP) at two threads, which oneDNN runs on one thread anyway (`OneDNN.matmul`'s rule), and
/// there oneDNN on one thread beat OpenBLAS on two. Elsewhere OpenBLAS stays. A rule, not a
/// timing taken at run time: the two libraries round differently, and a choice that flipped
/// between runs would break "same seed, same numbers". `VAE_FP32_MATRIX=openblas` (or `onednn`)
/// in the environment overrides it, for comparisons.
package enum MatrixLibrary: String, Sendable {
    case openBLAS = "OpenBLAS"
    case oneDNN = "oneDNN"

    /// The library fp32 products use in this process.
    package static let fp32: MatrixLibrary = {
        switch ProcessInfo.processInfo.environment["VAE_FP32_MATRIX"]?.lowercased() {
        case "openblas": return .openBLAS
        case "onednn": return .oneDNN
        default:
            let kernel = OneDNN.matmulImplementation(transposeA: false, transposeB: true, m: 128, n: 400, k: 784, operands: .fp32)
            return kernel.contains("avx512") ? .oneDNN : .openBLAS
        }
    }()
}

extension Tensor {
    /// op(a) · op(b). The gradient of each side is again one product with transpose flags.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul inner dimensions differ: op(a) is [\(m), \(k)], op(b) is [\(k2), \(n)] (shapes \(a.shape), \(b.shape))")
        let precision = Precision.current
        let aFactor = MatrixOperand(a, precision: precision)
        let bFactor = MatrixOperand(b, precision: precision)
        let y = Tensor.result(shape: [m, n], inputs: [a, b]) { g in
            let gradient = MatrixOperand(g, count: m * n, precision: precision)
            // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC; transposing a
            // product swaps its factors, which picks the flags below.
            a.accumulateGradient { da, accumulate in
                if transposeA {  // dA = op(B) dC^T: [k, m]
                    MatrixMultiply.multiply(precision, transposeA: transposeB, transposeB: true, m: k, n: m, k: n, a: bFactor, b: gradient,
                                           accumulate: accumulate, c: da)
                } else {  // dA = dC op(B)^T: [m, k]
                    MatrixMultiply.multiply(precision, transposeA: false, transposeB: !transposeB, m: m, n: k, k: n, a: gradient, b: bFactor,
                                           accumulate: accumulate, c: da)
                }
            }
            b.accumulateGradient { db, accumulate in
                if transposeB {  // dB = dC^T op(A): [n, k]
                    MatrixMultiply.multiply(precision, transposeA: true, transposeB: transposeA, m: n, n: k, k: m, a: gradient, b: aFactor,
                                           accumulate: accumulate, c: db)
                } else {  // dB = op(A)^T dC: [k, n]
                    MatrixMultiply.multiply(precision, transposeA: !transposeA, transposeB: false, m: k, n: n, k: m, a: aFactor, b: gradient,
                                           accumulate: accumulate, c: db)
                }
            }
        }
        MatrixMultiply.multiply(precision, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: aFactor, b: bFactor,
                               accumulate: false, c: y.pointer)
        return y
    }

    /// x · weightᵀ + bias with PyTorch's layout (weight [out, in]), rectified when `relu`:
    /// max(x · weightᵀ + bias, 0). Neither costs an extra pass in oneDNN (the bias is an argument
    /// of the matmul, the ReLU a post-op); with OpenBLAS sgemm adds the product to the bias and
    /// one pass rectifies. The backward pass of the rectified layer masks the output gradient and
    /// sums the bias gradient in one pass (dy ⊙ [y > 0], y > 0 exactly where the pre-activation is).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, relu: Bool = false) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear needs x [batch, in] and weight [out, in], got \(x.shape) and \(weight.shape)")
        let batch = x.shape[0], inputs = x.shape[1], outputs = weight.shape[0]
        if let bias { precondition(bias.shape == [outputs], "bias shape \(bias.shape) does not match \(outputs) outputs") }
        let precision = Precision.current
        let xFactor = MatrixOperand(x, precision: precision)
        let weightFactor = MatrixOperand(weight, precision: precision)
        var output: TensorStorage? = nil  // y, for the ReLU's mask
        let y = Tensor.result(shape: [batch, outputs], inputs: bias.map { [x, weight, $0] } ?? [x, weight]) { g0 in
            var g = g0
            var masked: TensorStorage? = nil
            if relu {  // g ← dy ⊙ [y > 0], and db from the same pass
                let storage = TensorStorage(uninitializedCount: batch * outputs)
                masked = storage
                g = UnsafePointer(storage.pointer)
                let y = output!.pointer
                let biasGradient: (UnsafeMutablePointer<Float>, Bool)? = bias.flatMap { bias in
                    var target: (UnsafeMutablePointer<Float>, Bool)? = nil
                    bias.accumulateGradient { db, accumulate in target = (db, accumulate) }
                    return target
                }
                for r in 0..<batch {
                    let offset = r &* outputs
                    forEachVector(outputs) { i, n in
                        var value = loadVector(g0 + offset, i, n)
                        value.replace(with: 0, where: loadVector(y + offset, i, n) .<= 0)
                        storeVector(value, storage.pointer + offset, i, n)
                        if let (db, accumulate) = biasGradient { storeVector(value, db, i, n, accumulate: accumulate || r > 0) }
                    }
                }
            }
            let gradient = MatrixOperand(g, count: batch * outputs, precision: precision)
            x.accumulateGradient { dx, accumulate in  // dX = dY W: [batch, in]
                MatrixMultiply.multiply(precision, transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs, a: gradient, b: weightFactor,
                                       accumulate: accumulate, c: dx)
            }
            weight.accumulateGradient { dw, accumulate in  // dW = dYᵀ X: [out, in]
                MatrixMultiply.multiply(precision, transposeA: true, transposeB: false, m: outputs, n: inputs, k: batch, a: gradient, b: xFactor,
                                       accumulate: accumulate, c: dw)
            }
            if !relu {
                bias?.accumulateGradient { db, accumulate in  // db = Σ_rows dY
                    BroadcastKernels.reduce(g, to: .row, rows: batch, columns: outputs, into: db, accumulate: accumulate)
                }
            }
            withExtendedLifetime(masked) {}
        }
        MatrixMultiply.multiply(precision, transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs, a: xFactor, b: weightFactor,
                               bias: bias?.pointer, accumulate: false, relu: relu, c: y.pointer)
        if relu && y.isRecorded { output = y.storage }
        return y
    }
}
