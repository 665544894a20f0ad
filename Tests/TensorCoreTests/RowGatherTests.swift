import Testing
import TensorCore
import _TestSupport

@Suite struct RowGatherTests {
    /// Rows gathered by index, repeats included, equal the table's rows, and the gradient of a
    /// table row is the sum of its readers' gradients (central differences of the Double lookup).
    @Test func gatheredRowsAndTheirScatteredGradientMatchTheReference() {
        let indices: [Int32] = [2, 0, 2, 3, 2]
        let report = GradientCheck.run(inputs: [([4, 3], -1...1)], engine: { t in t[0].gatheringRows(indices) }, reference: { v in
            indices.flatMap { index in (0..<3).map { v[0][Int(index) * 3 + $0] } }
        })
        #expect(report.forwardError == 0, "\(report)")
        #expect(report.gradientError < 1e-3, "\(report)")
    }

    /// Rows of channels are each pixel's channels (PyTorch's permute(0, 2, 3, 1)), and the
    /// inverse restores the planar images; both differentiable.
    @Test func channelRowsPermuteThePlanarImagesAndBack() {
        let (batch, channels, height, width) = (2, 3, 2, 3)
        let report = GradientCheck.run(inputs: [([batch, channels, height, width], -1...1)], engine: { t in t[0].channelRows() }, reference: { v in
            var rows: [Double] = []
            for n in 0..<batch { for h in 0..<height { for w in 0..<width { for c in 0..<channels {
                rows.append(v[0][((n * channels + c) * height + h) * width + w])
            } } } }
            return rows
        })
        #expect(report.forwardError == 0 && report.gradientError < 1e-3, "\(report)")
        let back = GradientCheck.run(inputs: [([batch * height * width, channels], -1...1)], engine: { t in
            Tensor.images(fromChannelRows: t[0], batch: batch, height: height, width: width)
        }, reference: { v in
            var images = [Double](repeating: 0, count: batch * channels * height * width)
            for n in 0..<batch { for h in 0..<height { for w in 0..<width { for c in 0..<channels {
                images[((n * channels + c) * height + h) * width + w] = v[0][((n * height + h) * width + w) * channels + c]
            } } } }
            return images
        })
        #expect(back.forwardError == 0 && back.gradientError < 1e-3, "\(back)")
    }
}
