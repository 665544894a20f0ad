import Foundation
import Testing
import NN
import TensorCore

/// The vector quantiser: the nearest code, the straight-through gradient, the two losses'
/// gradients, the moving-average step by hand, restarts of dead codes, and the perplexity.
@Suite struct VectorQuantizerTests {
    /// A quantiser of `codebook` ([K, D] values) with the other settings as given.
    static func quantizer(_ codebook: [[Float]], update: CodebookUpdate = .movingAverage, decay: Float = 0.9, threshold: Float = 0) -> VectorQuantizer {
        var generator = RandomGenerator(seed: 1)
        let quantizer = VectorQuantizer(codes: codebook.count, dimension: codebook[0].count, update: update, decay: decay, deadCodeThreshold: threshold,
                                        using: &generator)
        let flat = codebook.flatMap { $0 }
        quantizer.codebook.pointer.update(from: flat, count: flat.count)
        quantizer.sums.value.pointer.update(from: flat, count: flat.count)
        return quantizer
    }

    @Test func eachRowTakesItsNearestCodeByBruteForce() {
        var generator = RandomGenerator(seed: 4)
        let codebook = (0..<9).map { _ in (0..<5).map { _ in generator.nextUniform() * 2 - 1 } }
        let quantizer = Self.quantizer(codebook)
        let rows = Tensor.randomUniform([40, 5], low: -1, high: 1, using: &generator)
        let (indices, distances) = quantizer.nearest(rows)
        for row in 0..<40 {
            let values = Array(rows.scalars[(row * 5)..<(row * 5 + 5)])
            let squared = codebook.map { code in zip(code, values).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
            let best = squared.indices.min { squared[$0] < squared[$1] }!
            #expect(Int(indices[row]) == best)
            #expect(abs(distances[row] - squared[best]) < 1e-5)
        }
    }

    /// The output holds the codes' values, and its gradient reaches the rows unchanged.
    @Test func theOutputIsTheCodesWithTheStraightThroughGradient() {
        let quantizer = Self.quantizer([[0, 0], [1, 1], [-1, 2]])
        let rows = Tensor(shape: [3, 2], scalars: [0.9, 1.2, -0.1, 0.2, -0.8, 1.5], requiresGradient: true)
        let output = withoutGradients { quantizer(rows) }
        #expect(output.indices == [1, 0, 2])
        #expect(output.quantized.scalars == [1, 1, 0, 0, -1, 2])
        let recorded = quantizer(rows).quantized  // a training pass: the averages move, the output does not
        let weights: [Float] = [1, -2, 3, 0.5, -1, 4]
        recorded.backward(seed: weights)
        #expect(rows.gradient == weights)
    }

    /// d/dz Σ ‖z − sg[e]‖² = 2 (z − e); d/de_k Σ ‖sg[z] − e_k‖² = 2 Σ_{rows of k} (e_k − z), zero for unused codes.
    @Test func theCommitmentAndCodebookLossesHaveTheirGradients() {
        let quantizer = Self.quantizer([[0, 0], [1, 1], [5, 5]], update: .loss)
        let rows = Tensor(shape: [3, 2], scalars: [0.5, 1.5, 0.25, -0.5, 1, 0.5], requiresGradient: true)
        let indices = quantizer.nearest(rows).indices
        #expect(indices == [1, 0, 1])
        let codes = Tensor(shape: [3, 2], scalars: [1, 1, 0, 0, 1, 1])
        let commitment = quantizer.commitmentLoss(rows, codes: codes)
        #expect(abs(commitment.item - (0.25 + 0.25 + 0.0625 + 0.25 + 0 + 0.25)) < 1e-6)
        commitment.backward()
        #expect(rows.gradient! == [-1, 1, 0.5, -1, 0, -1])
        let codebook = quantizer.codebookLoss(rows, indices: indices)
        codebook.backward()
        // Code 1 serves rows 0 and 2: 2 ((1 − 0.5) + (1 − 1), (1 − 1.5) + (1 − 0.5)); code 0 serves row 1.
        #expect(quantizer.codebook.gradient! == [-0.5, 1, 1, 0, 0, 0])
    }

    /// One training pass by hand: N ← γN + (1 − γ)n, S ← γS + (1 − γ)s, e_k = S_k / N̂_k with
    /// N̂_k = (N_k + ε) / (Σ N + K ε) · Σ N.
    @Test func oneMovingAverageStepMatchesTheHandComputedUpdate() {
        let quantizer = Self.quantizer([[0], [1]], decay: 0.9)
        let rows = Tensor(shape: [3, 1], scalars: [0.2, 0.8, 1.4], requiresGradient: true)
        _ = quantizer(rows)
        // Usage starts at 1; code 0 takes 0.2, code 1 takes 0.8 and 1.4.
        let usage: [Double] = [0.9 + 0.1 * 1, 0.9 + 0.1 * 2]
        let sums: [Double] = [0.9 * 0 + 0.1 * 0.2, 0.9 * 1 + 0.1 * 2.2]
        let total = usage.reduce(0, +), epsilon = 1e-5
        let expected = (0..<2).map { k in sums[k] / ((usage[k] + epsilon) / (total + 2 * epsilon) * total) }
        #expect(zip(quantizer.usage.value.scalars, usage).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        #expect(zip(quantizer.sums.value.scalars, sums).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        #expect(zip(quantizer.codebook.scalars, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(quantizer.codebook.scalars) vs \(expected)")
    }

    @Test func aPassWithoutGradientsChangesNothing() {
        let quantizer = Self.quantizer([[0], [1]], threshold: 1)
        let before = quantizer.namedBuffers().map(\.tensor.scalars) + [quantizer.codebook.scalars]
        _ = withoutGradients { quantizer(Tensor(shape: [2, 1], scalars: [0.1, 0.2])) }
        #expect(quantizer.namedBuffers().map(\.tensor.scalars) + [quantizer.codebook.scalars] == before)
    }

    /// Under the loss rule the codebook moves only by its own loss (the usage is still averaged).
    @Test func theLossRuleLeavesTheCodebookToTheOptimizer() {
        let quantizer = Self.quantizer([[0], [1]], update: .loss)
        _ = quantizer(Tensor(shape: [2, 1], scalars: [0.3, 0.4], requiresGradient: true))
        #expect(quantizer.codebook.scalars == [0, 1])
        #expect(quantizer.usage.value.scalars == [0.9 + 0.2, 0.9])
    }

    /// A code no row takes falls under the threshold and restarts at one of the batch's rows with
    /// usage 1; the draw depends only on the pass count, so two quantisers in the same state
    /// restart alike.
    @Test func deadCodesRestartAtTheBatchsRowsReproducibly() {
        let rows: [Float] = [0.1, 0.2, 0.15, 0.3, 0.25, 0.05]
        let quantizers = [Self.quantizer([[0], [10], [20]], decay: 0.99, threshold: 1), Self.quantizer([[0], [10], [20]], decay: 0.99, threshold: 1)]
        let outputs = quantizers.map { $0(Tensor(shape: [6, 1], scalars: rows, requiresGradient: true)) }
        #expect(outputs.map(\.restarted) == [2, 2])
        let restartedCodes = Array(quantizers[0].codebook.scalars[1...])
        #expect(restartedCodes.allSatisfy { rows.contains($0) } && Set(restartedCodes).count == 2, "\(restartedCodes)")
        #expect(quantizers[0].codebook.scalars == quantizers[1].codebook.scalars)
        #expect(Array(quantizers[0].usage.value.scalars[1...]) == [1, 1])
        #expect(quantizers[0].restarts.value.scalars == [2] && quantizers[0].steps.value.scalars == [1])
        #expect(outputs[0].quantized.scalars == Array(repeating: 0, count: 6), "the pass's output uses the codebook it read")
    }

    @Test func thePerplexityIsTheExponentiatedEntropyOfTheCodesUse() {
        #expect(abs(VectorQuantizer.perplexity(counts: [5, 5, 5, 5]) - 4) < 1e-12)
        #expect(VectorQuantizer.perplexity(counts: [0, 9, 0]) == 1)
        let p = [0.5, 0.25, 0.25]
        #expect(abs(VectorQuantizer.perplexity(counts: [2, 1, 1]) - exp(-p.reduce(0) { $0 + $1 * log($1) })) < 1e-12)
    }
}
