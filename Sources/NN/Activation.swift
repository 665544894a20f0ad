import TensorCore

/// An elementwise nonlinearity between layers.
public enum Activation: String, Sendable, CaseIterable, Codable {
    case relu, elu, softplus, tanh, sigmoid, identity
    /// SiLU (swish): x σ(x), the activation of NVAE's residual cells.
    case silu

    /// The activation applied elementwise; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .elu: x.elu()
        case .softplus: x.softplus()
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        case .identity: x
        case .silu: x.silu()
        }
    }
}
