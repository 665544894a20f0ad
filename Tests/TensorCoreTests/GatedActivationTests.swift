import Foundation
import Testing
import TensorCore
import _TestSupport

/// The gated activation tanh(a) ⊙ σ(b) over the two halves of the channels: values and
/// gradients against a Double reference, for images and for rows.
@Suite struct GatedActivationTests {
    static func reference(_ x: [Double], rows: Int) -> [Double] {
        let half = x.count / rows / 2
        return (0..<rows).flatMap { row in
            (0..<half).map { i in Foundation.tanh(x[row * 2 * half + i]) / (1 + Foundation.exp(-x[row * 2 * half + half + i])) }
        }
    }

    @Test(arguments: [[2, 6, 3, 5], [3, 38]])
    func gatedTanhMatchesCentralDifferencesOfTheReference(shape: [Int]) {
        let report = GradientCheck.run(inputs: [(shape, -3...3)], engine: { t in t[0].gatedTanh() }, reference: { v in
            Self.reference(v[0], rows: shape[0])
        })
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    @Test func gatedTanhHalvesTheChannels() {
        let x = Tensor(shape: [1, 4, 1, 1], scalars: [0.5, -1, 0, 2])
        let y = x.gatedTanh()
        #expect(y.shape == [1, 2, 1, 1])
        #expect(abs(Double(y.scalars[0]) - Foundation.tanh(0.5) * 0.5) < 1e-6)
        #expect(abs(Double(y.scalars[1]) - Foundation.tanh(-1) / (1 + Foundation.exp(-2))) < 1e-6)
    }
}
