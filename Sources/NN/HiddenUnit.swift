import TensorCore

/// What a hidden layer of an MLP trunk computes from its linear layer.
/// - `dense`: activation(x Wᵀ + b), a layer of `width` outputs.
/// - `gated`: the gated linear unit of Dauphin et al. (2017), as the VampPrior paper's
///   `GatedDense` (Tomczak & Welling 2018) uses it: activation(h) ⊙ σ(g), where [h, g] = x Wᵀ + b
///   is one linear layer of 2 · `width` outputs (rows 0..<width of W give h, the rest the gate g),
///   so both halves come from one matrix product.
public enum HiddenUnit: String, Codable, CaseIterable, Sendable {
    case dense
    case gated

    /// The units in words for a model's summary: "tanh", "gated units", "gated units with tanh".
    public func summary(activation: Activation) -> String {
        self == .dense ? activation.rawValue : "gated units" + (activation == .identity ? "" : " with \(activation.rawValue)")
    }

    /// The linear layer's outputs for a hidden layer of `width` units.
    public func linearOutputs(width: Int) -> Int { self == .dense ? width : 2 * width }

    /// The hidden layer's output [batch, width] from its linear layer (of `linearOutputs(width:)`
    /// outputs) applied to x [batch, in]; differentiable.
    public func callAsFunction(_ layer: Linear, _ x: Tensor, activation: Activation) -> Tensor {
        switch self {
        case .dense:
            return layer(x, then: activation)
        case .gated:
            let both = layer(x), width = layer.outputSize / 2
            return activation(both.sliced(lastAxis: 0..<width)) * both.sliced(lastAxis: width..<(2 * width)).sigmoid()
        }
    }
}
