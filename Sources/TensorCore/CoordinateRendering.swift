import Foundation

// The coordinate renderer: an MLP evaluated at every pixel's (transformed) coordinate, as the
// decoder of a VAE that learns an affine transform (spatial-VAE, Bepler et al. 2019) uses it.
//
// Shapes: z [B, C + 6] (content c first, then the transform's 6 parameters p), layers
// W1 [H, 2 + C], b1 [H], W2 [H, H], b2 [H], W3 [1, H], b3 [1] -> images [B, h · w] in (0, 1):
// pixel (i, j) of image b is σ(W3 relu(W2 relu(W1 [u', v', c_b] + b1) + b2) + b3), with (u', v')
// the pixel centre's coordinate (`PixelGrid`) moved by the transform (`AffineForm`).

/// How the six transform parameters p act on a pixel's homogeneous coordinate [u, v, 1], with
/// A = I + 0.1 [[p1 p2 p3], [p4 p5 p6], [0 0 0]].
public enum AffineForm: String, Codable, CaseIterable, Sendable {
    /// A · [u v 1]ᵀ: u' = (1 + 0.1 p1) u + 0.1 p2 v + 0.1 p3, v' = 0.1 p4 u + (1 + 0.1 p5) v + 0.1 p6
    /// (p3 and p6 translate).
    case column
    /// [u v 1] · A, the design's code: u' = (1 + 0.1 p1) u + 0.1 p4 v, v' = 0.1 p2 u + (1 + 0.1 p5) v;
    /// the third component, the only one p3 and p6 reach, is dropped, so there is no translation.
    case row

    /// The transformed coordinate of (u, v) under parameters p (6 values).
    public func apply(_ p: [Float], u: Float, v: Float) -> (u: Float, v: Float) {
        precondition(p.count == 6, "an affine transform has 6 parameters, got \(p.count)")
        switch self {
        case .column: return ((1 + 0.1 * p[0]) * u + 0.1 * p[1] * v + 0.1 * p[2], 0.1 * p[3] * u + (1 + 0.1 * p[4]) * v + 0.1 * p[5])
        case .row: return ((1 + 0.1 * p[0]) * u + 0.1 * p[3] * v, 0.1 * p[1] * u + (1 + 0.1 * p[4]) * v)
        }
    }
}

/// The pixel centres of a width x height image in [-1, 1]²: u = -1 + (2 j + 1) / width for column
/// j (left to right), v = -1 + (2 i + 1) / height for row i (top to bottom). Centres (not edges)
/// make a 3w x 3h rendering average down to the w x h one.
public struct PixelGrid: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int

    /// The grid of `width` x `height` pixel centres.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "a pixel grid needs a positive size")
        (self.width, self.height) = (width, height)
    }

    /// Pixels, width · height.
    public var count: Int { width * height }
    /// The horizontal coordinate of `column`'s centre, in (−1, 1).
    public func u(column: Int) -> Float { -1 + Float(2 * column + 1) / Float(width) }
    /// The vertical coordinate of `row`'s centre, in (−1, 1).
    public func v(row: Int) -> Float { -1 + Float(2 * row + 1) / Float(height) }
}

/// The fused renderer and its plain reference.
///
/// The first layer splits as W1 [u', v', c] + b1 = (W_c c + b1) + u' w_u + v' w_v: the content
/// part is one [B, H] product per image, not per pixel, and the per-pixel part is a rank-2
/// update fused with the ReLU. The H x H layer is one matrix product over all B · h · w pixel
/// rows, and the output layer is fused with its ReLU and dot product; the backward pass is two
/// more large products plus fused passes.
package enum CoordinateRendering {
    /// The fused computation (see the type's description). `layers` are W1 [H, 2 + C], b1 [H],
    /// W2 [H, H], b2 [H], W3 [1, H], b3 [1].
    public static func render(_ z: Tensor, contentSize: Int,
                              layers: (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor),
                              grid: PixelGrid, transform: AffineForm?) -> Tensor {
        let batch = z.shape[0], latent = z.shape[1], hidden = layers.w2.shape[0]
        precondition(z.rank == 2 && latent == contentSize + 6, "z must be [batch, \(contentSize) + 6], got \(z.shape)")
        precondition(layers.w1.shape == [hidden, 2 + contentSize] && layers.b1.shape == [hidden] && layers.w2.shape == [hidden, hidden]
                     && layers.b2.shape == [hidden] && layers.w3.shape == [1, hidden] && layers.b3.shape == [1], "decoder layer sizes do not fit")
        let pixels = grid.count, rows = batch * pixels
        let w1 = layers.w1.pointer, b1 = layers.b1.pointer, b2 = layers.b2.pointer
        let w3 = layers.w3.pointer, b3 = layers.b3.pointer[0]
        let stride1 = 2 + contentSize

        // Transformed coordinates [rows] and the content part C = W_c c + b1 [batch, hidden].
        let coordinates = TensorStorage(uninitializedCount: 2 * rows)
        let us = coordinates.pointer, vs = coordinates.pointer + rows
        let contentPart = TensorStorage(uninitializedCount: batch * hidden)
        for b in 0..<batch {
            let row = z.pointer + b * latent
            let p = transform == nil ? [Float](repeating: 0, count: 6) : (0..<6).map { row[contentSize + $0] }
            let form = transform ?? .column
            for i in 0..<grid.height {
                for j in 0..<grid.width {
                    let (u, v) = form.apply(p, u: grid.u(column: j), v: grid.v(row: i))
                    us[b * pixels + i * grid.width + j] = u
                    vs[b * pixels + i * grid.width + j] = v
                }
            }
            for h in 0..<hidden {
                var total = b1[h]
                for k in 0..<contentSize { total += w1[h * stride1 + 2 + k] * row[k] }
                contentPart.pointer[b * hidden + h] = total
            }
        }
        // Column copies of w_u and w_v for vector loads.
        let wu = TensorStorage(uninitializedCount: hidden), wv = TensorStorage(uninitializedCount: hidden)
        for h in 0..<hidden { (wu.pointer[h], wv.pointer[h]) = (w1[h * stride1], w1[h * stride1 + 1]) }

        // h1 = relu(C_b + u' w_u + v' w_v)   [rows, hidden]
        let h1 = TensorStorage(uninitializedCount: rows * hidden)
        ParallelLoop.shared.run(count: rows, grain: 1024) { start, end in
            for r in start..<end {
                let c = contentPart.pointer + (r / pixels) * hidden, out = h1.pointer + r * hidden
                let u = FloatVector(repeating: us[r]), v = FloatVector(repeating: vs[r])
                forEachVector(hidden) { i, n in
                    let value = loadVector(c, i, n) + u * loadVector(wu.pointer, i, n) + v * loadVector(wv.pointer, i, n)
                    storeVector(value.replacing(with: 0, where: value .< 0), out, i, n)
                }
            }
        }
        // h2 = relu(h1 W2ᵀ + b2); logit = h2 · w3 + b3; image = sigmoid(logit).
        // The products run in the current precision; h1 and W2 are converted once (bf16) for the
        // forward product and kept for the backward ones.
        let precision = Precision.current
        let h1Operand = MatrixOperand(h1.pointer, count: rows * hidden, owner: h1, precision: precision)
        let w2Operand = MatrixOperand(layers.w2, precision: precision)
        let h2 = TensorStorage(uninitializedCount: rows * hidden)
        MatrixMultiply.multiply(precision, transposeA: false, transposeB: true, m: rows, n: hidden, k: hidden, a: h1Operand, b: w2Operand,
                                accumulate: false, c: h2.pointer)
        let images = TensorStorage(uninitializedCount: rows)
        ParallelLoop.shared.run(count: rows, grain: 1024) { start, end in
            for r in start..<end {
                let row = h2.pointer + r * hidden
                var dot = FloatVector(repeating: 0)
                forEachVector(hidden) { i, n in
                    var value = loadVector(row, i, n) + loadVector(b2, i, n)
                    value.replace(with: 0, where: value .< 0)
                    storeVector(value, row, i, n)
                    dot += value * loadVector(w3, i, n)
                }
                images.pointer[r] = 1 / (1 + Foundation.exp(-(dot.sum() + b3)))
            }
        }

        let parameters: [Tensor] = [z, layers.w1, layers.b1, layers.w2, layers.b2, layers.w3, layers.b3]
        let result = Tensor.result(shape: [batch, pixels], inputs: parameters) { g in
            // The transformed coordinates, read through their storage so that the closure keeps
            // it alive (a bare pointer let it go back to the buffer pool after the forward pass).
            let us = coordinates.pointer, vs = coordinates.pointer + rows
            // dℓ = g σ (1 − σ)   [rows]
            let dLogit = TensorStorage(uninitializedCount: rows)
            for r in 0..<rows { let s = images.pointer[r]; dLogit.pointer[r] = g[r] * s * (1 - s) }
            layers.w3.accumulateGradient { dw, accumulate in  // dw3 = dℓᵀ h2, summed row by row (a fixed order)
                Self.weightedRowSum(h2.pointer, weights: dLogit.pointer, rows: rows, width: hidden, into: dw, accumulate: accumulate)
            }
            layers.b3.accumulateGradient { db, accumulate in
                var total: Float = 0
                for r in 0..<rows { total += dLogit.pointer[r] }
                db[0] = (accumulate ? db[0] : 0) + total
            }
            // dh2 = dℓ w3 ⊙ [h2 > 0]   [rows, hidden]
            let dh2 = TensorStorage(uninitializedCount: rows * hidden)
            ParallelLoop.shared.run(count: rows, grain: 1024) { start, end in
                for r in start..<end {
                    let d = FloatVector(repeating: dLogit.pointer[r]), row = h2.pointer + r * hidden, out = dh2.pointer + r * hidden
                    forEachVector(hidden) { i, n in
                        let value = d * loadVector(w3, i, n)
                        storeVector(value.replacing(with: 0, where: loadVector(row, i, n) .<= 0), out, i, n)
                    }
                }
            }
            let dh2Operand = MatrixOperand(dh2.pointer, count: rows * hidden, owner: dh2, precision: precision)
            layers.w2.accumulateGradient { dw, accumulate in  // dW2 = dh2ᵀ h1
                MatrixMultiply.multiply(precision, transposeA: true, transposeB: false, m: hidden, n: hidden, k: rows, a: dh2Operand, b: h1Operand,
                                        accumulate: accumulate, c: dw)
            }
            layers.b2.accumulateGradient { db, accumulate in  // db2 = 1ᵀ dh2
                Self.weightedRowSum(dh2.pointer, weights: nil, rows: rows, width: hidden, into: db, accumulate: accumulate)
            }
            // dh1 = dh2 W2 ⊙ [h1 > 0], written over dh2's rows through a second buffer.
            let dh1 = TensorStorage(uninitializedCount: rows * hidden)
            MatrixMultiply.multiply(precision, transposeA: false, transposeB: false, m: rows, n: hidden, k: hidden, a: dh2Operand, b: w2Operand,
                                    accumulate: false, c: dh1.pointer)
            // Per image: dC_b = Σ_p dh1 (masked), and per pixel du' = dh1 · w_u, dv' = dh1 · w_v;
            // over all rows dw_u = Σ u' dh1, dw_v = Σ v' dh1 (two partial sums, one per thread).
            let dContent = TensorStorage(uninitializedCount: batch * hidden)
            let dCoordinates = TensorStorage(uninitializedCount: 2 * rows)
            let partials = TensorStorage(uninitializedCount: 4 * hidden)
            partials.pointer.update(repeating: 0, count: 4 * hidden)
            ParallelLoop.shared.run(count: batch, grain: 16) { start, end in
                let part = partials.pointer + (start == 0 ? 0 : 2 * hidden)
                for b in start..<end {
                    let dc = dContent.pointer + b * hidden
                    dc.update(repeating: 0, count: hidden)
                    for p in 0..<pixels {
                        let r = b * pixels + p
                        let row = dh1.pointer + r * hidden, mask = h1.pointer + r * hidden
                        let u = FloatVector(repeating: us[r]), v = FloatVector(repeating: vs[r])
                        var du = FloatVector(repeating: 0), dv = FloatVector(repeating: 0)
                        forEachVector(hidden) { i, n in
                            var value = loadVector(row, i, n)
                            value.replace(with: 0, where: loadVector(mask, i, n) .<= 0)
                            storeVector(value, dc, i, n, accumulate: true)
                            storeVector(u * value, part, i, n, accumulate: true)
                            storeVector(v * value, part + hidden, i, n, accumulate: true)
                            du += value * loadVector(wu.pointer, i, n)
                            dv += value * loadVector(wv.pointer, i, n)
                        }
                        dCoordinates.pointer[r] = du.sum()
                        dCoordinates.pointer[rows + r] = dv.sum()
                    }
                }
            }
            layers.w1.accumulateGradient { dw, accumulate in
                for h in 0..<hidden {
                    let du = partials.pointer[h] + partials.pointer[2 * hidden + h]
                    let dv = partials.pointer[hidden + h] + partials.pointer[3 * hidden + h]
                    dw[h * stride1] = (accumulate ? dw[h * stride1] : 0) + du
                    dw[h * stride1 + 1] = (accumulate ? dw[h * stride1 + 1] : 0) + dv
                    for k in 0..<contentSize {
                        var total: Float = 0
                        for b in 0..<batch { total += dContent.pointer[b * hidden + h] * z.pointer[b * latent + k] }
                        dw[h * stride1 + 2 + k] = (accumulate ? dw[h * stride1 + 2 + k] : 0) + total
                    }
                }
            }
            layers.b1.accumulateGradient { db, accumulate in
                for h in 0..<hidden {
                    var total: Float = 0
                    for b in 0..<batch { total += dContent.pointer[b * hidden + h] }
                    db[h] = (accumulate ? db[h] : 0) + total
                }
            }
            z.accumulateGradient { dz, accumulate in
                for b in 0..<batch {
                    let out = dz + b * latent
                    for k in 0..<contentSize {
                        var total: Float = 0
                        for h in 0..<hidden { total += dContent.pointer[b * hidden + h] * w1[h * stride1 + 2 + k] }
                        out[k] = (accumulate ? out[k] : 0) + total
                    }
                    var dp = [Float](repeating: 0, count: 6)
                    if let transform {
                        for i in 0..<grid.height {
                            for j in 0..<grid.width {
                                let r = b * pixels + i * grid.width + j
                                let (u, v) = (grid.u(column: j), grid.v(row: i))
                                let (du, dv) = (dCoordinates.pointer[r], dCoordinates.pointer[rows + r])
                                switch transform {
                                case .column:
                                    dp[0] += du * u; dp[1] += du * v; dp[2] += du
                                    dp[3] += dv * u; dp[4] += dv * v; dp[5] += dv
                                case .row:
                                    dp[0] += du * u; dp[3] += du * v
                                    dp[1] += dv * u; dp[4] += dv * v
                                }
                            }
                        }
                    }
                    for k in 0..<6 { out[contentSize + k] = (accumulate ? out[contentSize + k] : 0) + 0.1 * dp[k] }
                }
            }
        }
        result.pointer.update(from: images.pointer, count: rows)
        return result
    }

    /// out = Σ_r weights[r] · matrix[r, :] (weights nil: 1), row by row in a fixed order, so the
    /// result never depends on buffer addresses or thread counts (sgemm with one output row may).
    static func weightedRowSum(_ matrix: UnsafePointer<Float>, weights: UnsafePointer<Float>?, rows: Int, width: Int,
                               into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let total = TensorStorage(uninitializedCount: width)
        total.pointer.update(repeating: 0, count: width)
        for r in 0..<rows {
            let w = FloatVector(repeating: weights?[r] ?? 1), row = matrix + r * width
            forEachVector(width) { i, n in storeVector(w * loadVector(row, i, n), total.pointer, i, n, accumulate: true) }
        }
        for i in 0..<width { out[i] = (accumulate ? out[i] : 0) + total.pointer[i] }
    }


    /// The same renderer computed the plain way, for checking the fused one: every pixel's input
    /// row [u', v', c] (B · h · w rows of 2 + C) through the three layers with the engine's
    /// ordinary differentiable operations. Slow and memory-hungry; tests only.
    public static func reference(_ z: Tensor, contentSize: Int,
                                 layers: (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor),
                                 grid: PixelGrid, transform: AffineForm?) -> Tensor {
        let batch = z.shape[0], latent = z.shape[1], pixels = grid.count
        // Coordinates depend on p, so build them from differentiable pieces:
        // u' = a_u + Σ_k p_k su_k, v' likewise, with p = z[:, C..<C+6] repeated per pixel.
        let repeated = z.repeatingRows(pixels)                                // [B·P, latent]
        let content = repeated.sliced(lastAxis: 0..<contentSize)
        let p = repeated.sliced(lastAxis: contentSize..<latent)                 // [B·P, 6]
        var uBase = [Float](), vBase = [Float](), uSensitivity = [Float](), vSensitivity = [Float]()
        for _ in 0..<batch {
            for i in 0..<grid.height {
                for j in 0..<grid.width {
                    let (u, v) = (grid.u(column: j), grid.v(row: i))
                    uBase.append(u); vBase.append(v)
                    switch transform {
                    case nil: uSensitivity += [0, 0, 0, 0, 0, 0]; vSensitivity += [0, 0, 0, 0, 0, 0]
                    case .column: uSensitivity += [0.1 * u, 0.1 * v, 0.1, 0, 0, 0]; vSensitivity += [0, 0, 0, 0.1 * u, 0.1 * v, 0.1]
                    case .row: uSensitivity += [0.1 * u, 0, 0, 0.1 * v, 0, 0]; vSensitivity += [0, 0.1 * u, 0, 0, 0.1 * v, 0]
                    }
                }
            }
        }
        let rows = batch * pixels
        let u = (p * Tensor(shape: [rows, 6], scalars: uSensitivity)).sum(alongAxis: 1).reshaped(to: [rows, 1]) + Tensor(shape: [rows, 1], scalars: uBase)
        let v = (p * Tensor(shape: [rows, 6], scalars: vSensitivity)).sum(alongAxis: 1).reshaped(to: [rows, 1]) + Tensor(shape: [rows, 1], scalars: vBase)
        let input = Tensor.concatenated([u, v, content])
        let first = Tensor.linear(input, weight: layers.w1, bias: layers.b1).relu()
        let second = Tensor.linear(first, weight: layers.w2, bias: layers.b2).relu()
        let intensity = Tensor.linear(second, weight: layers.w3, bias: layers.b3).sigmoid()
        return intensity.reshaped(to: [batch, pixels])
    }
}
