import TensorCore

/// Linear layers with an activation after each but the last.
/// Shapes: x [batch, sizes.first] -> [batch, sizes.last]. Keys: `layers.0.weight`, ...
public final class MultilayerPerceptron: Module {
    /// The linear layers, first to last.
    public let layers: [Linear]
    /// The activation after every layer but the last.
    public let activation: Activation

    /// `sizes` = [input, hidden..., output].
    public init(sizes: [Int], activation: Activation, initializer: Initializer = .pytorchDefault,
                using generator: inout RandomGenerator) {
        precondition(sizes.count >= 2, "an MLP needs at least an input and an output size, got \(sizes)")
        layers = zip(sizes, sizes.dropFirst()).map {
            Linear(inputSize: $0, outputSize: $1, initializer: initializer, using: &generator)
        }
        self.activation = activation
    }

    /// [batch, sizes.first] -> [batch, sizes.last]; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = index < layers.count - 1 ? layer(h, then: activation) : layer(h)
        }
        return h
    }
}
