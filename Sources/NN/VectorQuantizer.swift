import Foundation
import TensorCore

/// How a vector quantiser's codebook learns.
public enum CodebookUpdate: String, Codable, CaseIterable, Sendable {
    /// Exponential moving averages of the vectors assigned to each code (van den Oord et al.
    /// 2017, appendix A.1): the codebook is written by the averages, not by the optimizer.
    case movingAverage = "ema"
    /// The codebook loss ‖sg[z_e] − e‖², minimised by the optimizer with the rest of the model.
    case loss
}

/// Vector quantisation (van den Oord et al. 2017, "Neural Discrete Representation Learning"):
/// each row z_e of [M, D] is replaced by its nearest code e_k of a codebook [K, D],
/// k = argmin_j ‖z_e − e_j‖², with the straight-through gradient: the output
/// z_e + sg[e_k − z_e] has the value e_k and passes its gradient to z_e unchanged.
///
/// The encoder is pulled towards its codes by the commitment loss β ‖z_e − sg[e_k]‖² (β = 0.25
/// by default). The codebook learns either by the codebook loss ‖sg[z_e] − e_k‖² (`.loss`) or by
/// exponential moving averages (`.movingAverage`, decay γ = 0.99): in a pass that records
/// gradients (training), with n_k the batch's count of rows assigned to code k and s_k their sum,
///
///     N_k ← γ N_k + (1 − γ) n_k,   S_k ← γ S_k + (1 − γ) s_k,
///     N̂_k = (N_k + ε) / (Σ_j N_j + K ε) · Σ_j N_j   (Laplace smoothing, ε = 1e-5),   e_k = S_k / N̂_k
///
/// (Sonnet's `VectorQuantizerEMA`). Under either rule the usage N_k is averaged, and a code
/// whose usage falls below `deadCodeThreshold` rows per batch is restarted at one of the batch's
/// encoder outputs, drawn without replacement (Dhariwal et al. 2020, Jukebox); the draw is seeded
/// by the count of training passes (`steps`), so a resumed run draws what an uninterrupted one
/// would. A restarted code starts with usage 1 and sum e_k. The count of restarts is kept in `restarts`.
/// Nothing changes in a pass without gradients (evaluation).
///
/// The usage starts at 1 for every code, so after the first training batch every code it did
/// not use is restarted: the codebook starts from encoder outputs. Keys: `codebook` [K, D] (a
/// parameter: its gradient stays unset under `.movingAverage`), and the buffers `usage` [K],
/// `sums` [K, D], `restarts` [1], `steps` [1].
public final class VectorQuantizer: Module {
    /// The codes e_k, [K, D].
    public let codebook: Tensor
    /// The moving average N_k of the rows per batch assigned to each code, [K].
    public let usage: Buffer
    /// The moving average S_k of the sum of the rows assigned to each code, [K, D] (read under `.movingAverage`).
    public let sums: Buffer
    /// The codes restarted so far, [1].
    public let restarts: Buffer
    /// The training passes so far, [1] (the restarts' draws are seeded by it).
    public let steps: Buffer
    /// How the codebook learns.
    public let update: CodebookUpdate
    /// The moving averages' decay γ.
    public let decay: Float
    /// Laplace smoothing's ε.
    public let epsilon: Float
    /// A code used by fewer rows per batch than this (as a moving average) is restarted; 0 never restarts.
    public let deadCodeThreshold: Float

    /// A codebook of `codes` vectors of `dimension` values, drawn uniformly in ±1/K (the
    /// reference implementations' start; the restarts replace the unused ones after one batch).
    public init(codes: Int, dimension: Int, update: CodebookUpdate = .movingAverage, decay: Float = 0.99, epsilon: Float = 1e-5,
                deadCodeThreshold: Float = 1, using generator: inout RandomGenerator) {
        precondition(codes > 0 && dimension > 0, "a codebook needs at least one code of at least one dimension")
        precondition((0..<1).contains(decay) && epsilon > 0 && deadCodeThreshold >= 0, "need 0 <= decay < 1, epsilon > 0, threshold >= 0")
        let bound = 1 / Float(codes)
        codebook = Tensor.randomUniform([codes, dimension], low: -bound, high: bound, using: &generator, requiresGradient: true)
        usage = Buffer(shape: [codes], initial: 1)
        sums = Buffer(shape: [codes, dimension], initial: 0)
        sums.value.pointer.update(from: codebook.pointer, count: codebook.count)
        restarts = Buffer(shape: [1], initial: 0)
        steps = Buffer(shape: [1], initial: 0)
        (self.update, self.decay, self.epsilon, self.deadCodeThreshold) = (update, decay, epsilon, deadCodeThreshold)
    }

    /// K, the codes.
    public var codes: Int { codebook.shape[0] }
    /// D, the values per code.
    public var dimension: Int { codebook.shape[1] }

    /// One quantisation of M rows.
    public struct Output {
        /// z_e + sg[e_k − z_e], [M, D]: the codes' values, with the straight-through gradient to z_e.
        public let quantized: Tensor
        /// k per row, [M].
        public let indices: [Int32]
        /// The codes restarted by this pass.
        public let restarted: Int
    }

    /// Quantises rows z_e [M, D]; in a pass that records gradients, also moves the averages and
    /// restarts dead codes (after the codes are read, so the output uses the codebook as it was).
    public func callAsFunction(_ rows: Tensor) -> Output {
        precondition(rows.rank == 2 && rows.shape[1] == dimension, "the quantiser takes rows [M, \(dimension)], got \(rows.shape)")
        let indices = nearest(rows).indices
        let chosen = withoutGradients { codebook.gatheringRows(indices) }
        let quantized = Self.straightThrough(rows, values: chosen)
        var restarted = 0
        if GradientMode.isEnabled { restarted = learn(rows: rows, indices: indices) }
        return Output(quantized: quantized, indices: indices, restarted: restarted)
    }

    /// z_e + sg[v − z_e] exactly: the values v, with the gradient passed to z_e unchanged.
    static func straightThrough(_ rows: Tensor, values: Tensor) -> Tensor {
        precondition(rows.shape == values.shape, "values \(values.shape) for rows \(rows.shape)")
        let output = Tensor.result(shape: rows.shape, inputs: [rows]) { g in
            rows.accumulateGradient { gradient, accumulate in
                if accumulate {
                    for i in 0..<rows.count { gradient[i] += g[i] }
                } else {
                    gradient.update(from: g, count: rows.count)
                }
            }
        }
        output.pointer.update(from: values.pointer, count: values.count)
        return output
    }

    /// The commitment loss Σ_rows ‖z_e − sg[e_k]‖² for rows z_e [M, D] and the codes' values
    /// [M, D] they were quantised to (the pass's own, before its averages moved the codebook), a
    /// scalar differentiable in z_e (not yet multiplied by β).
    public func commitmentLoss(_ rows: Tensor, codes: Tensor) -> Tensor {
        (rows - codes.detached()).squared().sum()
    }

    /// The codebook loss Σ_rows ‖sg[z_e] − e_k‖², a scalar differentiable in the codebook.
    public func codebookLoss(_ rows: Tensor, indices: [Int32]) -> Tensor {
        (codebook.gatheringRows(indices) - rows.detached()).squared().sum()
    }

    /// The nearest code of each row and its squared distance, from one matrix product:
    /// ‖z − e_j‖² = ‖z‖² − 2 z · e_j + ‖e_j‖² (ties go to the lower index).
    public func nearest(_ rows: Tensor) -> (indices: [Int32], distances: [Float]) {
        let (count, width, codes) = (rows.shape[0], dimension, self.codes)
        let products = withoutGradients { Tensor.matmul(rows, codebook, transposeB: true) }
        let codeNorms = (0..<codes).map { k in
            var total: Float = 0
            for d in 0..<width { total += codebook.pointer[k &* width &+ d] * codebook.pointer[k &* width &+ d] }
            return total
        }
        var indices = [Int32](repeating: 0, count: count)
        var distances = [Float](repeating: 0, count: count)
        let (x, p) = (rows.pointer, products.pointer)
        for row in 0..<count {
            var best = 0, bestValue = Float.infinity
            let scores = p + row &* codes
            for k in 0..<codes {
                let value = codeNorms[k] - 2 * scores[k]
                if value < bestValue { (best, bestValue) = (k, value) }
            }
            var rowNorm: Float = 0
            for d in 0..<width { rowNorm += x[row &* width &+ d] * x[row &* width &+ d] }
            indices[row] = Int32(best)
            distances[row] = max(0, rowNorm + bestValue)
        }
        return (indices, distances)
    }

    /// The moving averages and restarts of one training batch; returns the codes restarted.
    func learn(rows: Tensor, indices: [Int32]) -> Int {
        let (codes, width) = (self.codes, dimension)
        var counts = [Float](repeating: 0, count: codes)
        for index in indices { counts[Int(index)] += 1 }
        steps.value.pointer[0] += 1
        let (usage, sums, codebook, x) = (self.usage.value.pointer, self.sums.value.pointer, self.codebook.pointer, rows.pointer)
        for k in 0..<codes { usage[k] = decay * usage[k] + (1 - decay) * counts[k] }
        if update == .movingAverage {
            var batchSums = [Float](repeating: 0, count: codes * width)
            for (row, index) in indices.enumerated() {
                for d in 0..<width { batchSums[Int(index) &* width &+ d] += x[row &* width &+ d] }
            }
            for i in 0..<(codes * width) { sums[i] = decay * sums[i] + (1 - decay) * batchSums[i] }
            let total = (0..<codes).reduce(Float(0)) { $0 + usage[$1] }
            for k in 0..<codes {
                let smoothed = (usage[k] + epsilon) / (total + Float(codes) * epsilon) * total
                for d in 0..<width { codebook[k &* width &+ d] = sums[k &* width &+ d] / smoothed }
            }
        }
        guard deadCodeThreshold > 0 else { return 0 }
        let dead = (0..<codes).filter { usage[$0] < deadCodeThreshold }
        guard !dead.isEmpty else { return 0 }
        // Rows drawn without replacement by a generator seeded with the pass's number, so that a
        // resumed run restarts the same codes at the same rows.
        var generator = RandomGenerator(seed: 0x5EED_C0DE ^ UInt64(steps.value.pointer[0]))
        var candidates = Array(0..<indices.count)
        let drawn = min(dead.count, candidates.count)
        for i in 0..<drawn { candidates.swapAt(i, i + Int(generator.next() % UInt64(candidates.count - i))) }
        candidates = Array(candidates.prefix(drawn))
        for (k, row) in zip(dead, candidates) {
            for d in 0..<width {
                codebook[k &* width &+ d] = x[row &* width &+ d]
                sums[k &* width &+ d] = x[row &* width &+ d]
            }
            usage[k] = 1
        }
        let restarted = min(dead.count, candidates.count)
        restarts.value.pointer[0] += Float(restarted)
        return restarted
    }

    /// The perplexity exp(−Σ_k p_k log p_k) of a code distribution with counts n_k (p_k = n_k / Σ n):
    /// K when every code is used equally, 1 when one code takes every row.
    public static func perplexity(counts: [Int]) -> Double {
        let total = Double(counts.reduce(0, +))
        guard total > 0 else { return 0 }
        let entropy = counts.reduce(0.0) { sum, count in count == 0 ? sum : sum - Double(count) / total * log(Double(count) / total) }
        return exp(entropy)
    }

    /// How many rows chose each code, [K].
    public func counts(_ indices: [Int32]) -> [Int] {
        var counts = [Int](repeating: 0, count: codes)
        for index in indices { counts[Int(index)] += 1 }
        return counts
    }
}
