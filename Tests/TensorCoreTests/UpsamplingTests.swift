import Foundation
import Testing
import _TestSupport
import TensorCore

/// Nearest and bilinear upsampling: PyTorch's values on a hand example, the gradients against
/// central differences of a Double reference, and the blocked layout against the planar one.
@Suite struct UpsamplingTests {
    /// PyTorch's `F.interpolate` in Double, written from its definition: [N, C, H, W] planar.
    static func reference(_ x: [Double], batch: Int, channels: Int, height: Int, width: Int, factor: Int, mode: UpsamplingMode) -> [Double] {
        func sources(_ index: Int, _ size: Int) -> (Int, Int, Double) {
            if mode == .nearest { return (index / factor, index / factor, 0) }
            let position = max((Double(index) + 0.5) / Double(factor) - 0.5, 0)
            let low = min(Int(position.rounded(.down)), size - 1)
            return (low, min(low + 1, size - 1), position - Double(low))
        }
        var y: [Double] = []
        for plane in 0..<(batch * channels) {
            let base = plane * height * width
            for row in 0..<(height * factor) {
                let (top, bottom, down) = sources(row, height)
                for column in 0..<(width * factor) {
                    let (left, right, across) = sources(column, width)
                    func at(_ r: Int, _ c: Int) -> Double { x[base + r * width + c] }
                    let upper = (1 - across) * at(top, left) + across * at(top, right)
                    let lower = (1 - across) * at(bottom, left) + across * at(bottom, right)
                    y.append((1 - down) * upper + down * lower)
                }
            }
        }
        return y
    }

    /// torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), scale_factor=2,
    /// mode=...) (align_corners=False for bilinear).
    @Test func aTwoByTwoImageUpsamplesAsPyTorchDoes() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        #expect(x.upsampled(by: 2, mode: .nearest).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let bilinear: [Float] = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0]
        let y = x.upsampled(by: 2, mode: .bilinear)
        #expect(y.shape == [1, 1, 4, 4])
        #expect(zip(y.scalars, bilinear).allSatisfy { abs($0 - $1) < 1e-6 }, "\(y.scalars)")
        #expect(x.upsampled(by: 1, mode: .bilinear).scalars == x.scalars)
        // F.interpolate(torch.arange(15.).reshape(1, 1, 3, 5), scale_factor=3, mode='bilinear'):
        // the first three rows' first six values (the clamp at the border repeats a value).
        let ramp = Tensor(shape: [1, 1, 3, 5], scalars: (0..<15).map(Float.init)).upsampled(by: 3, mode: .bilinear)
        let pytorch: [Float] = [0, 0, 0.3333, 0.6667, 1, 1.3333, 0, 0, 0.3333, 0.6667, 1, 1.3333, 1.6667, 1.6667, 2, 2.3333, 2.6667, 3]
        let corner = (0..<3).flatMap { row in ramp.scalars[(row * 15)..<(row * 15 + 6)] }
        #expect(zip(corner, pytorch).allSatisfy { abs($0 - $1) < 1e-4 }, "\(corner)")
    }

    @Test(arguments: [(UpsamplingMode.nearest, 2), (.bilinear, 2), (.bilinear, 3), (.nearest, 3)])
    func theGradientMatchesFiniteDifferences(mode: UpsamplingMode, factor: Int) {
        let (batch, channels, height, width) = (2, 3, 4, 5)
        let report = GradientCheck.run(inputs: [([batch, channels, height, width], -1...1)], engine: { $0[0].upsampled(by: factor, mode: mode) }) {
            Self.reference($0[0], batch: batch, channels: channels, height: height, width: width, factor: factor, mode: mode)
        }
        #expect(report.forwardError < 1e-5, "\(mode) x\(factor): \(report)")
        #expect(report.gradientError < 2e-3, "\(mode) x\(factor): \(report)")
    }

    /// A channel-blocked batch upsamples to a blocked batch holding the planar result, and its
    /// gradient is the planar gradient, blocked.
    @Test(arguments: UpsamplingMode.allCases)
    func aBlockedBatchUpsamplesAsItsPlanarImages(mode: UpsamplingMode) {
        var generator = RandomGenerator(seed: 4)
        let planar = Tensor.randomUniform([2, 16, 3, 5], low: -1, high: 1, using: &generator, requiresGradient: true)
        let expected = planar.upsampled(by: 2, mode: mode)
        let weights = Tensor.randomUniform(expected.shape, low: -1, high: 1, using: &generator)
        (expected * weights).sum().backward()
        let planarGradient = planar.gradient!

        let copy = Tensor(shape: planar.shape, scalars: planar.scalars, requiresGradient: true)
        let blocked = copy.blockedImages(8)
        let upsampled = blocked.upsampled(by: 2, mode: mode)
        #expect(upsampled.shape == [2, 2, 6, 10, 8])
        let back = upsampled.planarImages()
        #expect(back.scalars == expected.scalars)
        (back * weights).sum().backward()
        #expect(zip(copy.gradient!, planarGradient).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
