import Testing
import NN
import Optimizers
import TensorCore

/// Whole networks trained end to end: convergence and reproducibility.
@Suite struct TrainingTests {
    let inputs = Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1])
    let targets = Tensor(shape: [4, 1], scalars: [0, 1, 1, 0])

    func trainXOR(seed: UInt64, steps: Int) -> (MultilayerPerceptron, Float) {
        var generator = RandomGenerator(seed: seed)
        let model = MultilayerPerceptron(sizes: [2, 8, 1], activation: .tanh, using: &generator)
        let optimizer = Adam(parameters: model.parameters, learningRate: 0.05)
        var loss: Float = .infinity
        for _ in 0..<steps {
            optimizer.zeroGradients()
            let value = binaryCrossEntropy(logits: model(inputs), targets: targets)
            value.backward()
            optimizer.step()
            loss = value.item
        }
        return (model, loss)
    }

    @Test func smallNetworkLearnsXOR() {
        let (model, loss) = trainXOR(seed: 1, steps: 500)
        #expect(loss < 0.02, "final BCE \(loss)")
        let predictions = model(inputs).sigmoid().scalars
        for (p, t) in zip(predictions, targets.scalars) { #expect(abs(p - t) < 0.05, "\(predictions)") }
    }

    @Test func regressionFitsSineToStatedTolerance() {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor(shape: [64, 1], scalars: (0..<64).map { Float($0) / 63 * 6 - 3 })
        let y = Tensor(shape: [64, 1], scalars: x.scalars.map { Foundation.sin($0) })
        let model = MultilayerPerceptron(sizes: [1, 32, 32, 1], activation: .tanh, using: &generator)
        let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
        for _ in 0..<2000 {
            optimizer.zeroGradients()
            meanSquaredError(predictions: model(x), targets: y).backward()
            optimizer.step()
        }
        let error = meanSquaredError(predictions: model(x), targets: y).item
        #expect(error < 1e-3, "MSE \(error)")
    }

    @Test func sameSeedGivesIdenticalWeightsAfterTraining() {
        let (a, _) = trainXOR(seed: 7, steps: 50)
        let (b, _) = trainXOR(seed: 7, steps: 50)
        let (c, _) = trainXOR(seed: 8, steps: 50)
        #expect(a.parameters.map(\.scalars) == b.parameters.map(\.scalars))
        #expect(a.parameters.map(\.scalars) != c.parameters.map(\.scalars))
    }
}

import Foundation
