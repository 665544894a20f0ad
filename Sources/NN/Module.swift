import TensorCore

/// A neural-network component whose parameters are found by reflection.
///
/// Stored properties of type `Tensor` are parameters, properties of type `Module` (or arrays of
/// them) are children; keys join property names with dots (`encoder.fc1.weight`,
/// `layers.0.bias`). The keys drive checkpoints, optimizers and error messages, so a subclass
/// needs no registration code. Optional properties count when they hold a value.
open class Module {
    /// A module with no parameters of its own; subclasses declare theirs as stored properties.
    public init() {}

    /// Every parameter with its dotted key, in declaration order. A subclass may override this
    /// to publish other keys (for example a reference implementation's names).
    open func namedParameters() -> [(key: String, tensor: Tensor)] {
        var result: [(key: String, tensor: Tensor)] = []
        collect(prefix: "", into: &result)
        return result
    }

    /// The parameters in declaration order.
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    /// Every buffer (state kept and saved but not trained, `Buffer` properties) with its dotted
    /// key, in declaration order.
    public func namedBuffers() -> [(key: String, tensor: Tensor)] {
        var result: [(key: String, tensor: Tensor)] = []
        collectBuffers(prefix: "", into: &result)
        return result
    }

    /// What a checkpoint holds: the parameters, then the buffers.
    public func namedState() -> [(key: String, tensor: Tensor)] { namedParameters() + namedBuffers() }

    /// The total number of scalars in all parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    private func collectBuffers(prefix: String, into result: inout [(key: String, tensor: Tensor)]) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var mirrors: [Mirror] = []
        while let current = mirror {
            mirrors.insert(current, at: 0)
            mirror = current.superclassMirror
        }
        for child in mirrors.flatMap(\.children) {
            guard let label = child.label else { continue }
            switch child.value {
            case let buffer as Buffer: result.append((prefix + label, buffer.value))
            case let module as Module: module.collectBuffers(prefix: prefix + label + ".", into: &result)
            case let modules as [Module]:
                for (index, module) in modules.enumerated() { module.collectBuffers(prefix: prefix + label + ".\(index).", into: &result) }
            default: continue
            }
        }
    }

    private func collect(prefix: String, into result: inout [(key: String, tensor: Tensor)]) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror {
            mirrors.insert(current, at: 0)  // superclass properties first
            mirror = current.superclassMirror
        }
        for child in mirrors.flatMap(\.children) {
            guard let label = child.label else { continue }
            switch child.value {
            case let tensor as Tensor:
                result.append((prefix + label, tensor))
            case let module as Module:
                module.collect(prefix: prefix + label + ".", into: &result)
            case let modules as [Module]:
                for (index, module) in modules.enumerated() {
                    module.collect(prefix: prefix + label + ".\(index).", into: &result)
                }
            default:
                continue
            }
        }
    }
}

/// A tensor a module keeps and saves with its parameters but does not train: batch
/// normalisation's running averages. Checkpoints hold it under its dotted key; optimizers never
/// see it.
public final class Buffer {
    /// The values, without gradient; updated in place.
    public let value: Tensor

    /// A buffer of `shape` filled with `initial`.
    public init(shape: [Int], initial: Float) { value = Tensor(shape: shape, repeating: initial) }
}
