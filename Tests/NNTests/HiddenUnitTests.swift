import Foundation
import NN
import TensorCore
import Testing
import _TestSupport

/// Hidden units: the gated unit against a Double reference with finite differences, and the
/// He-normal initialiser's spread.
@Suite struct HiddenUnitTests {
    /// activation(h) ⊙ σ(g) with [h, g] = x Wᵀ + b (rows 0..<3 of W the value, 3..<6 the gate),
    /// and its gradient in x.
    @Test(arguments: [Activation.identity, .tanh])
    func aGatedUnitIsItsValueTimesTheSigmoidOfItsGate(activation: Activation) {
        var generator = RandomGenerator(seed: 5)
        let layer = Linear(inputSize: 4, outputSize: HiddenUnit.gated.linearOutputs(width: 3), using: &generator)
        let (weight, bias) = (layer.weight.scalars.map(Double.init), layer.bias!.scalars.map(Double.init))
        #expect(layer.weight.shape == [6, 4])
        let report = GradientCheck.run(inputs: [([5, 4], -2...2)], engine: { t in
            HiddenUnit.gated(layer, t[0], activation: activation)
        }) { v in
            (0..<5).flatMap { row in
                (0..<3).map { unit -> Double in
                    func affine(_ output: Int) -> Double { (0..<4).reduce(bias[output]) { $0 + weight[output * 4 + $1] * v[0][row * 4 + $1] } }
                    let value = activation == .tanh ? Foundation.tanh(affine(unit)) : affine(unit)
                    return value / (1 + Foundation.exp(-affine(unit + 3)))
                }
            }
        }
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    @Test func aDenseUnitIsTheLayerAndItsActivation() {
        var generator = RandomGenerator(seed: 6)
        let layer = Linear(inputSize: 4, outputSize: HiddenUnit.dense.linearOutputs(width: 3), using: &generator)
        let x = Tensor.randomNormal([2, 4], using: &generator)
        #expect(withoutGradients { HiddenUnit.dense(layer, x, activation: .tanh).scalars == layer(x).tanh().scalars })
    }

    /// He et al.: weights N(0, 2 / fan-in); biases PyTorch's uniform ±1/√fan-in.
    @Test func heNormalWeightsHaveVarianceTwoOverFanIn() {
        var generator = RandomGenerator(seed: 7)
        let (weight, bias) = Initializer.heNormal.weightAndBias(fanIn: 200, fanOut: 300, using: &generator)
        let values = weight.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        #expect(abs(mean) < 0.002 && abs(variance / (2.0 / 200) - 1) < 0.03, "mean \(mean), variance \(variance)")
        #expect(bias.shape == [300] && bias.scalars.allSatisfy { abs($0) <= 1 / Float(200).squareRoot() })
    }
}
