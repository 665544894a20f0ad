import Testing
import Optimizers
import TensorCore

/// Three steps of each optimizer on p = [1, -0.5] with gradients [0.5, -2], [-1, 0.25],
/// [0.3, 0.3], against values worked out by hand from PyTorch's update rules (in Double).
@Suite struct OptimizerStepTests {
    static let gradients: [[Float]] = [[0.5, -2], [-1, 0.25], [0.3, 0.3]]

    func run(_ make: ([Tensor]) -> Optimizer) -> [[Float]] {
        let p = Tensor(shape: [2], scalars: [1, -0.5], requiresGradient: true)
        let optimizer = make([p])
        return Self.gradients.map { g in
            optimizer.zeroGradients()
            (p * Tensor(shape: [2], scalars: g)).sum().backward()  // dL/dp = g
            optimizer.step()
            return p.scalars
        }
    }

    func expectClose(_ actual: [[Float]], _ expected: [[Double]]) {
        for (a, e) in zip(actual.joined(), expected.joined()) {
            #expect(abs(Double(a) - e) < 2e-6, "\(actual) vs \(expected)")
        }
    }

    @Test func adamStepsMatchHandComputedUpdates() {
        expectClose(run { Adam(parameters: $0, learningRate: 0.1) },
                    [[0.900000002, -0.4000000005], [0.9366103542405654, -0.34274654332895554], [0.9473774736526891, -0.30838637667165547]])
    }

    @Test func sgdWithMomentumAndWeightDecayMatchesHandComputedUpdates() {
        expectClose(run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) },
                    [[0.949, -0.2995], [1.002151, -0.14375049999999998], [1.018984749, -0.03343219949999997]])
    }

    @Test func rmspropWithPyTorchDefaultsMatchesHandComputedUpdates() {
        expectClose(run { RMSprop(parameters: $0) },
                    [[0.900000019999996, -0.40000000499999977], [0.9895323081911337, -0.41246499575210144], [0.9634702217570591, -0.4273312886171222]])
    }

    @Test func rmspropWithKerasDefaultsMatchesHandComputedUpdates() {
        expectClose(run { RMSprop.keras(parameters: $0) },
                    [[0.9968377243398303, -0.4968377228398315], [0.9996948663806469, -0.4972508189639582], [0.998826122146693, -0.49776635813759107]])
    }

    @Test func restoredStateContinuesExactlyWhereItStopped() throws {
        let p = Tensor(shape: [2], scalars: [1, -0.5], requiresGradient: true)
        let q = Tensor(shape: [2], scalars: [1, -0.5], requiresGradient: true)
        let a = Adam(parameters: [p], learningRate: 0.1), b = Adam(parameters: [q], learningRate: 0.1)
        func step(_ optimizer: Optimizer, _ t: Tensor, _ g: [Float]) {
            optimizer.zeroGradients()
            (t * Tensor(shape: [2], scalars: g)).sum().backward()
            optimizer.step()
        }
        step(a, p, Self.gradients[0]); step(b, q, Self.gradients[0])
        let r = q.detachedParameter()
        let c = Adam(parameters: [r], learningRate: 0.1)
        try c.restore(b.state)
        #expect(c.state == b.state)
        // The restored optimizer's next steps are the uninterrupted one's, bit for bit.
        for g in Self.gradients.dropFirst() {
            step(a, p, g)
            step(c, r, g)
            #expect(r.scalars == p.scalars)
        }
        #expect(c.state == a.state)
        #expect(throws: OptimizerStateError.self) { try Adam(parameters: [Tensor.zeros([3], requiresGradient: true)]).restore(b.state) }
    }

    @Test func adamUpdateIsOnePassOverOnePackedBuffer() {
        let a = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        let b = Tensor(shape: [2, 2], scalars: [4, 5, 6, 7], requiresGradient: true)
        let optimizer = Adam(parameters: [a, b])
        #expect(optimizer.parameters.count == 7)
        #expect(Array(UnsafeBufferPointer(start: optimizer.parameters.values, count: 7)) == [1, 2, 3, 4, 5, 6, 7])
    }
}

extension Tensor {
    /// A fresh parameter with this tensor's values.
    func detachedParameter() -> Tensor { Tensor(shape: shape, scalars: scalars, requiresGradient: true) }
}

/// AdamW's decoupled decay and the gradient norm clipping, by hand.
@Suite struct DecayAndClippingTests {
    @Test func adamWithDecoupledWeightDecayMatchesHandComputedAdamWUpdates() {
        // p <- p (1 - lr wd), then Adam's step, lr 0.1, wd 0.1: by hand, and what PyTorch's AdamW gives (reference/schedules.py).
        OptimizerStepTests().expectClose(OptimizerStepTests().run { Adam(parameters: $0, learningRate: 0.1, weightDecay: 0.1) },
                                         [[0.890000002, -0.3950000005], [0.9177103542205653, -0.33379654332395553], [0.9193003700904834, -0.2960984112334159]])
    }

    func pack(gradients: [[Float]]) -> ParameterPack {
        let tensors = gradients.map { Tensor(shape: [$0.count], scalars: [Float](repeating: 1, count: $0.count), requiresGradient: true) }
        let pack = ParameterPack(tensors)
        var offset = 0
        for g in gradients {
            for (i, value) in g.enumerated() { pack.gradients[offset + i] = value }
            offset += g.count
        }
        return pack
    }

    @Test func clippingScalesEveryGradientToTheMaximumNormAsPyTorchDoes() {
        // Norm of (3, 4, 0, 12) over two tensors: 13; clipped to 6.5 by 6.5 / (13 + 1e-6), as PyTorch's
        // clip_grad_norm_ gives it (reference/schedules.py).
        let large = pack(gradients: [[3, 4], [0, 12]])
        #expect(large.clipGradientNorm(to: 6.5) == 13)
        let factor = 6.5 / (13 + 1e-6)
        for (i, g) in [3.0, 4, 0, 12].enumerated() { #expect(abs(Double(large.gradients[i]) - g * factor) < 1e-6) }
        #expect(abs(large.gradientNorm() - 6.5) < 1e-5)
        // Below the maximum nothing changes.
        let small = pack(gradients: [[0.3, 0.4]])
        #expect(small.clipGradientNorm(to: 1) == 0.5 && small.gradients[0] == 0.3 && small.gradients[1] == 0.4)
    }

    @Test func theGradientNormCoversEveryValuePastTheVectorLanes() {
        // 37 values (two 16-lane blocks and a tail of 5), each 2: norm 2 sqrt(37).
        let pack = pack(gradients: [[Float](repeating: 2, count: 20), [Float](repeating: 2, count: 17)])
        #expect(abs(Double(pack.gradientNorm()) - 2 * 37.0.squareRoot()) < 1e-5)
    }
}
