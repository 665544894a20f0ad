import Foundation
import NN
import TensorCore
import Testing
import VAE
import VAEModels
import _TestSupport

@Suite struct CoordinateDecoderTests {
    @Test func theTransformWithZeroParametersIsTheIdentity() {
        for form in AffineForm.allCases {
            let moved = form.apply([0, 0, 0, 0, 0, 0], u: 0.3, v: -0.7)
            #expect(moved.u == 0.3 && moved.v == -0.7)
        }
        var generator = RandomGenerator(seed: 1)
        let decoder = CoordinateDecoder(contentSize: 3, hiddenSize: 8, initializer: .pytorchDefault, using: &generator)
        var z = Tensor.randomNormal([2, 9], using: &generator).scalars
        for b in 0..<2 { for k in 3..<9 { z[b * 9 + k] = 0 } }
        let grid = PixelGrid(width: 5, height: 4)
        // The fused decoder with p = 0 against the per-pixel form on the untransformed coordinates
        // (the naive form with the transform off never reads p).
        let learned = decoder(Tensor(shape: [2, 9], scalars: z), grid: grid, transform: .column)
        let untransformed = decoder.referenceImages(Tensor(shape: [2, 9], scalars: z), grid: grid, transform: nil)
        #expect(zip(learned.scalars, untransformed.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func aKnownParameterMovesAKnownCoordinateWhereTheMatrixSays() {
        // p1 = 1: A = [[1.1, 0, 0], ...] scales u by 1.1; p3 = 2 translates u by 0.2 in the column
        // form and does nothing in the design's row form; p2 = 1 shears.
        #expect(AffineForm.column.apply([1, 0, 0, 0, 0, 0], u: 0.5, v: 0.2) == (Float(1.1) * 0.5, 0.2))
        let translated = AffineForm.column.apply([0, 0, 2, 0, 0, -1], u: 0.5, v: 0.2)
        #expect(abs(translated.u - 0.7) < 1e-6 && abs(translated.v - 0.1) < 1e-6)
        #expect(AffineForm.row.apply([0, 0, 2, 0, 0, -1], u: 0.5, v: 0.2) == (0.5, 0.2))
        let sheared = AffineForm.column.apply([0, 1, 0, 0, 0, 0], u: 0.5, v: 0.2)
        #expect(abs(sheared.u - (0.5 + 0.1 * 0.2)) < 1e-7 && sheared.v == 0.2)
        let rowSheared = AffineForm.row.apply([0, 1, 0, 0, 0, 0], u: 0.5, v: 0.2)
        #expect(rowSheared.u == 0.5 && abs(rowSheared.v - (0.2 + 0.1 * 0.5)) < 1e-7)
        // Pixel centres: a 4-wide grid has u = -0.75, -0.25, 0.25, 0.75.
        let grid = PixelGrid(width: 4, height: 2)
        #expect((0..<4).map { grid.u(column: $0) } == [-0.75, -0.25, 0.25, 0.75] && grid.v(row: 0) == -0.5)
    }

    @Test(arguments: [AffineForm?.some(.column), .some(.row), nil])
    func theSharedFirstLayerComputationEqualsTheNaiveOne(transform: AffineForm?) {
        // 19 hidden units: not a multiple of the vector width, so the tails are exercised.
        var generator = RandomGenerator(seed: 2)
        let decoder = CoordinateDecoder(contentSize: 4, hiddenSize: 19, initializer: .pytorchDefault, using: &generator)
        let grid = PixelGrid(width: 5, height: 3)
        let zValues = Tensor.randomNormal([3, 10], using: &generator).scalars
        let weights = Tensor.randomNormal([3, 15], using: &generator)
        func gradients(_ body: (Tensor) -> Tensor) -> (values: [Float], grads: [[Float]]) {
            let z = Tensor(shape: [3, 10], scalars: zValues, requiresGradient: true)
            decoder.parameters.forEach { $0.zeroGradient() }
            let images = body(z)
            (images * weights).sum().backward()
            return (images.scalars, [z.gradient!] + decoder.parameters.map { $0.gradient! })
        }
        let fused = gradients { decoder($0, grid: grid, transform: transform) }
        // Memory handed out between the forward and the backward pass (as another thread's work
        // would take it) must not be memory the backward pass still reads.
        let reused = gradients { z in
            let images = decoder(z, grid: grid, transform: transform)
            let scribbles = (0..<4).map { _ in TensorStorage(uninitializedCount: 2 * 3 * 15) }
            for scribble in scribbles { scribble.pointer.update(repeating: 1e6, count: 2 * 3 * 15) }
            return withExtendedLifetime(scribbles) { images }
        }
        #expect(reused.grads == fused.grads)
        let naive = gradients { decoder.referenceImages($0, grid: grid, transform: transform) }
        #expect(zip(fused.values, naive.values).allSatisfy { abs($0.0 - $0.1) < 1e-5 })
        for (index, (a, b)) in zip(fused.grads, naive.grads).enumerated() {
            let error = zip(a, b).map { abs($0.0 - $0.1) / max(1, abs($0.1)) }.max()!
            #expect(error < 1e-4, "gradient \(index): \(error)")
        }
    }

    /// In bf16 only the H x H product's factors are rounded (2⁻⁹ relative each): images move by
    /// rounding-sized amounts and gradients keep their direction, and both do move (the bf16
    /// path is taken).
    @Test func theHiddenProductRunsInTheRunsPrecision() {
        var generator = RandomGenerator(seed: 4)
        let decoder = CoordinateDecoder(contentSize: 4, hiddenSize: 32, initializer: .pytorchDefault, using: &generator)
        let grid = PixelGrid(width: 6, height: 5)
        let zValues = Tensor.randomNormal([3, 10], using: &generator).scalars
        let weights = Tensor.randomNormal([3, 30], using: &generator)
        func run(_ precision: Precision) -> (images: [Float], grads: [[Float]]) {
            let z = Tensor(shape: [3, 10], scalars: zValues, requiresGradient: true)
            decoder.parameters.forEach { $0.zeroGradient() }
            let images = withPrecision(precision) { decoder(z, grid: grid, transform: .column) }
            (images * weights).sum().backward()
            return (images.scalars, [z.gradient!] + decoder.parameters.map { $0.gradient! })
        }
        let (single, half) = (run(.fp32), run(.bf16))
        let imageDifference = zip(single.images, half.images).map { abs($0 - $1) }.max()!
        #expect(imageDifference > 0 && imageDifference < 5e-3, "images differ by \(imageDifference)")
        // Rounding moves each gradient a little (ReLU masks flip where h2 is near zero, and the
        // weight gradients cancel over rows): its direction stays, which a wrong operand or
        // transpose would not keep.
        for (index, (a, b)) in zip(single.grads, half.grads).enumerated() {
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let norms = (a.reduce(0.0) { $0 + Double($1 * $1) } * b.reduce(0.0) { $0 + Double($1 * $1) }).squareRoot()
            #expect(dot / max(norms, 1e-30) > 0.99, "gradient \(index): cosine \(dot / max(norms, 1e-30))")
        }
        #expect(zip(single.grads, half.grads).contains { $0 != $1 })
    }

    @Test(arguments: [AffineForm.column, .row])
    func gradientsThroughTheCoordinateDecoderAndTheTransformMatchFiniteDifferences(form: AffineForm) {
        let (content, hidden, grid) = (2, 3, PixelGrid(width: 3, height: 2))
        let report = GradientCheck.run(
            inputs: [([2, content + 6], -1.5...1.5), ([hidden, 2 + content], -1...1), ([hidden], -0.5...0.5),
                     ([hidden, hidden], -1...1), ([hidden], -0.5...0.5), ([1, hidden], -1...1), ([1], -0.5...0.5)],
            engine: { t in CoordinateRendering.render(t[0], contentSize: content, layers: (t[1], t[2], t[3], t[4], t[5], t[6]), grid: grid, transform: form) }
        ) { v in
            let (z, w1, b1, w2, b2, w3, b3) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6])
            var out: [Double] = []
            for b in 0..<2 {
                let p = (0..<6).map { z[b * (content + 6) + content + $0] }
                for i in 0..<grid.height {
                    for j in 0..<grid.width {
                        let (u, v) = (Double(grid.u(column: j)), Double(grid.v(row: i)))
                        let (uu, vv): (Double, Double) = form == .column
                            ? ((1 + 0.1 * p[0]) * u + 0.1 * p[1] * v + 0.1 * p[2], 0.1 * p[3] * u + (1 + 0.1 * p[4]) * v + 0.1 * p[5])
                            : ((1 + 0.1 * p[0]) * u + 0.1 * p[3] * v, 0.1 * p[1] * u + (1 + 0.1 * p[4]) * v)
                        let input = [uu, vv] + (0..<content).map { z[b * (content + 6) + $0] }
                        let h1 = (0..<hidden).map { h in max(0, b1[h] + (0..<input.count).reduce(0.0) { $0 + w1[h * input.count + $1] * input[$1] }) }
                        let h2 = (0..<hidden).map { h in max(0, b2[h] + (0..<hidden).reduce(0.0) { $0 + w2[h * hidden + $1] * h1[$1] }) }
                        let logit = b3[0] + (0..<hidden).reduce(0.0) { $0 + w3[$1] * h2[$1] }
                        out.append(1 / (1 + exp(-logit)))
                    }
                }
            }
            return out
        }
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }
}
