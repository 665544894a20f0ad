// Matrix multiply and the fused linear layer, on OpenBLAS sgemm.
// Shapes: matmul: op(a) [m, k] · op(b) [k, n] -> [m, n], where op transposes when asked.
//         linear: x [batch, in] · weight [out, in]^T + bias [out] -> [batch, out].
// Transposes are sgemm flags, never copies; gradients accumulate with beta = 1.

extension Tensor {
    /// op(a) · op(b). The gradient of each side is again one sgemm with transpose flags.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul inner dimensions differ: op(a) is [\(m), \(k)], op(b) is [\(k2), \(n)] (shapes \(a.shape), \(b.shape))")
        let y = Tensor.result(shape: [m, n], inputs: [a, b]) { g in
            // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC; transposing a
            // product swaps its factors, which picks the flags below.
            a.accumulateGradient { da, accumulate in
                if transposeA {  // dA = op(B) dC^T: [k, m]
                    BLAS.gemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n, a: b.pointer, b: g, beta: accumulate ? 1 : 0, c: da)
                } else {  // dA = dC op(B)^T: [m, k]
                    BLAS.gemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n, a: g, b: b.pointer, beta: accumulate ? 1 : 0, c: da)
                }
            }
            b.accumulateGradient { db, accumulate in
                if transposeB {  // dB = dC^T op(A): [n, k]
                    BLAS.gemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m, a: g, b: a.pointer, beta: accumulate ? 1 : 0, c: db)
                } else {  // dB = op(A)^T dC: [k, n]
                    BLAS.gemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m, a: a.pointer, b: g, beta: accumulate ? 1 : 0, c: db)
                }
            }
        }
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer, b: b.pointer, beta: 0, c: y.pointer)
        return y
    }

    /// x · weightᵀ + bias with PyTorch's layout (weight [out, in]). The bias is written into
    /// the output first and sgemm adds the product (beta = 1), so the bias costs no extra pass.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear needs x [batch, in] and weight [out, in], got \(x.shape) and \(weight.shape)")
        let batch = x.shape[0], inputs = x.shape[1], outputs = weight.shape[0]
        if let bias { precondition(bias.shape == [outputs], "bias shape \(bias.shape) does not match \(outputs) outputs") }
        let y = Tensor.result(shape: [batch, outputs], inputs: bias.map { [x, weight, $0] } ?? [x, weight]) { g in
            x.accumulateGradient { dx, accumulate in  // dX = dY W: [batch, in]
                BLAS.gemm(transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs, a: g, b: weight.pointer, beta: accumulate ? 1 : 0, c: dx)
            }
            weight.accumulateGradient { dw, accumulate in  // dW = dYᵀ X: [out, in]
                BLAS.gemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: batch, a: g, b: x.pointer, beta: accumulate ? 1 : 0, c: dw)
            }
            bias?.accumulateGradient { db, accumulate in  // db = Σ_rows dY
                BroadcastKernels.reduce(g, to: .row, rows: batch, columns: outputs, into: db, accumulate: accumulate)
            }
        }
        if let bias {
            for r in 0..<batch { (y.pointer + r &* outputs).update(from: bias.pointer, count: outputs) }
        }
        BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs, a: x.pointer, b: weight.pointer,
                  beta: bias == nil ? 0 : 1, c: y.pointer)
        return y
    }
}
