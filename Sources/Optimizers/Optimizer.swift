import Foundation
import TensorCore

/// Updates parameters from their gradients.
///
/// Every optimizer packs the parameters it is given into one `ParameterPack`, so its update is
/// one flat vectorised pass over all of them, and its state (moments) mirrors that buffer.
public protocol Optimizer: AnyObject {
    /// The packed parameters; `parameters.zeroGradients()` clears every gradient.
    var parameters: ParameterPack { get }
    /// η, the step size; may be changed between steps (a schedule).
    var learningRate: Float { get set }
    /// Applies one update from the accumulated gradients.
    func step()
    /// The optimizer's state as named flat arrays (for checkpoints) and its step count.
    var state: OptimizerState { get }
    /// Restores a state saved from an optimizer of the same kind over the same parameters.
    func restore(_ state: OptimizerState) throws(OptimizerStateError)
}

extension Optimizer {
    /// Clears every parameter's gradient before the next backward pass (a mark, not a pass over memory).
    public func zeroGradients() { parameters.zeroGradients() }
}

/// An optimizer's moments and step count, by name.
public struct OptimizerState: Equatable, Sendable {
    /// The number of updates applied.
    public var step: Int
    /// The optimizer's per-parameter buffers (flat, in the pack's order) by name, e.g. "first_moment".
    public var buffers: [String: [Float]]

    /// A state of `step` updates with `buffers`.
    public init(step: Int, buffers: [String: [Float]]) {
        self.step = step
        self.buffers = buffers
    }
}

/// A saved optimizer state does not fit the optimizer: a missing buffer, a wrong length, a negative step.
public struct OptimizerStateError: Error, LocalizedError, Equatable, CustomStringConvertible {
    /// What does not fit.
    public let message: String
    /// The message.
    public var description: String { message }
    /// The message.
    public var errorDescription: String? { message }
}

/// A flat buffer of optimizer state, zero-initialised, the size of the parameter pack.
final class StateBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    func restore(_ values: [Float]?, name: String) throws(OptimizerStateError) {
        guard let values, values.count == count else {
            throw OptimizerStateError(message: "optimizer state '\(name)' has \(values?.count ?? 0) values, the parameters need \(count)")
        }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
