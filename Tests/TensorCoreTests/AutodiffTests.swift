import Testing
import TensorCore

@Suite struct AutodiffTests {
    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        (x * x).sum().backward()
        #expect(x.gradient == [2, 4, 6])
        (x * x).sum().backward()
        #expect(x.gradient == [4, 8, 12])
        x.zeroGradient()
        (x * 3).sum().backward()
        #expect(x.gradient == [3, 3, 3])
    }

    @Test func aTensorUsedTwiceReceivesBothContributions() {
        let x = Tensor(shape: [2], scalars: [3, -1], requiresGradient: true)
        let y = x.exp()
        (y * x + x.squared()).sum().backward()  // d/dx (x e^x + x²) = e^x (1 + x) + 2x
        let expected = [3, -1].map { Float(Foundation.exp(Double($0)) * (1 + Double($0)) + 2 * Double($0)) }
        for (g, e) in zip(x.gradient!, expected) { #expect(abs(g - e) < 1e-4 * max(1, abs(e))) }
    }

    @Test func backwardNamesEachLeafOnceAfterItsLastContribution() {
        let w = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4], requiresGradient: true)
        let v = Tensor(shape: [2, 2], scalars: [0.5, -1, 2, 1], requiresGradient: true)
        let b = Tensor(shape: [2], scalars: [0.1, 0.2], requiresGradient: true)
        let unused = Tensor(shape: [1], scalars: [7], requiresGradient: true)
        let x = Tensor(shape: [1, 2], scalars: [1, -2])
        // w is used twice, far apart: early (first layer) and late (the last product).
        func output() -> Tensor {
            let hidden = (Tensor.matmul(x, w) + b).tanh()
            return Tensor.matmul(Tensor.matmul(hidden, v), w).squared().sum()
        }
        var named: [(Tensor, [Float])] = []
        output().backward { leaves in named += leaves.map { ($0, $0.gradient!) } }
        // Each leaf once, with the gradient it ends with: nothing was added after it was named.
        #expect(named.count == 3)
        #expect(Set(named.map { ObjectIdentifier($0.0) }) == [ObjectIdentifier(w), ObjectIdentifier(v), ObjectIdentifier(b)])
        for (leaf, gradient) in named { #expect(leaf.gradient! == gradient) }
        #expect(!named.contains { $0.0 === unused })
        // The same gradients as a plain backward pass.
        let plain = [w, v, b].map { $0.gradient! }
        for tensor in [w, v, b] { tensor.zeroGradient() }
        output().backward()
        #expect([w, v, b].map { $0.gradient! } == plain)
    }

    @Test func noGradientModeRecordsNothing() {
        let w = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4], requiresGradient: true)
        let y = withoutGradients { Tensor.matmul(w, w).relu().sum() }
        #expect(!y.requiresGradient && !y.isRecorded)
        #expect(y.item == 7 + 10 + 15 + 22)
        let recorded = Tensor.matmul(w, w).sum()
        #expect(recorded.requiresGradient && recorded.isRecorded)
    }

    @Test func constantsReceiveNoGradient() {
        let x = Tensor(shape: [2], scalars: [1, 2])
        let w = Tensor(shape: [2], scalars: [3, 4], requiresGradient: true)
        (x * w).sum().backward()
        #expect(x.gradient == nil)
        #expect(w.gradient == [1, 2])
    }

    @Test func steadyStateStepsAllocateNoNewBuffers() {
        var generator = RandomGenerator(seed: 1)
        let w1 = Tensor.randomNormal([32, 16], using: &generator, requiresGradient: true)
        let b1 = Tensor.zeros([32], requiresGradient: true)
        let w2 = Tensor.randomNormal([4, 32], using: &generator, requiresGradient: true)
        let pack = ParameterPack([w1, b1, w2])
        let x = Tensor.randomNormal([8, 16], using: &generator)
        func step() {
            pack.zeroGradients()
            let loss = Tensor.linear(Tensor.linear(x, weight: w1, bias: b1).relu(), weight: w2, bias: nil).squared().mean()
            loss.backward()
        }
        step(); step()
        // The pool is shared with tests running in parallel, which may allocate during a
        // window; a step that allocates shows in every window, so one clean window of five
        // steps out of five tries is the criterion.
        let cleanWindow = (0..<5).contains { _ in
            let before = BufferPool.shared.allocationCount
            for _ in 0..<5 { step() }
            return BufferPool.shared.allocationCount == before
        }
        #expect(cleanWindow, "training steps allocated new buffers in every window")
    }

    @Test func packedParametersKeepTheirValuesAndShareOneGradientBuffer() {
        let a = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        let b = Tensor(shape: [1, 3], scalars: [3, 4, 5], requiresGradient: true)
        let pack = ParameterPack([a, b])
        #expect(pack.count == 5 && pack.offsets == [0, 2])
        #expect(a.scalars == [1, 2] && b.scalars == [3, 4, 5])
        (a.sum() + (b * 2).sum()).backward()
        #expect(Array(UnsafeBufferPointer(start: pack.gradients, count: 5)) == [1, 1, 2, 2, 2])
        pack.zeroGradients()
        #expect(a.gradient == [0, 0])
    }
}

import Foundation
