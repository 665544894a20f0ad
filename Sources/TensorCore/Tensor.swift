/// An n-dimensional array of Float32 with reverse-mode automatic differentiation.
///
/// Shapes are row-major: the last axis is contiguous. A tensor made by an operation while
/// gradient recording is on, from at least one input that requires a gradient, keeps its
/// inputs and a backward function; `backward()` on a scalar result then walks that graph in
/// reverse topological order and accumulates `d result / d tensor` into each tensor's gradient.
/// Gradients accumulate across calls until `zeroGradient()` (or an optimizer's) clears them.
public final class Tensor {
    /// The sizes of the dimensions, outermost first (row-major); `[]` is a scalar.
    public let shape: [Int]
    /// The number of elements, the product of `shape`.
    public let count: Int
    /// The values. Parameters packed by `ParameterPack` are views into one flat buffer.
    package internal(set) var storage: TensorStorage
    /// Whether gradients flow to (and accumulate in) this tensor.
    public let requiresGradient: Bool

    /// The gradient buffer, created on first accumulation.
    var gradientStorage: TensorStorage?
    /// Whether `gradientStorage` holds a value (false: treat as zero, next write overwrites).
    var gradientIsSet = false

    /// The tensors this one was computed from (empty for leaves and unrecorded results).
    var inputs: [Tensor]
    /// Reads this tensor's gradient and accumulates into the inputs' gradients.
    var backwardFunction: ((_ outputGradient: UnsafePointer<Float>) -> Void)?

    /// A tensor over existing storage.
    package init(shape: [Int], storage: TensorStorage, requiresGradient: Bool = false) {
        let count = shape.reduce(1, *)
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(storage.count == count, "storage holds \(storage.count) values, shape \(shape) needs \(count)")
        self.shape = shape
        self.count = count
        self.storage = storage
        self.requiresGradient = requiresGradient
        self.inputs = []
        self.backwardFunction = nil
    }

    /// A tensor holding `scalars` in row-major order.
    public convenience init(shape: [Int], scalars: [Float], requiresGradient: Bool = false) {
        let count = shape.reduce(1, *)
        precondition(scalars.count == count, "\(scalars.count) scalars given for shape \(shape) (\(count) values)")
        let storage = TensorStorage(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
        self.init(shape: shape, storage: storage, requiresGradient: requiresGradient)
    }

    /// A tensor of `shape` with every element equal to `value`.
    public convenience init(shape: [Int], repeating value: Float, requiresGradient: Bool = false) {
        let count = shape.reduce(1, *)
        let storage = TensorStorage(uninitializedCount: count)
        storage.pointer.initialize(repeating: value, count: count)
        self.init(shape: shape, storage: storage, requiresGradient: requiresGradient)
    }

    /// A scalar (shape `[]`).
    public convenience init(_ value: Float, requiresGradient: Bool = false) {
        self.init(shape: [], repeating: value, requiresGradient: requiresGradient)
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], requiresGradient: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 0, requiresGradient: requiresGradient)
    }

    /// The result of an operation: a fresh uninitialised buffer of `shape`. When recording is on
    /// and an input requires a gradient, the result keeps `inputs` and `backward`.
    ///
    /// This is the extension point for new differentiable operations: fill the returned tensor's
    /// storage, and in `backward` read the output gradient (same count as `shape`) and
    /// accumulate into the inputs with `accumulateGradient`.
    public static func result(
        shape: [Int], inputs: [Tensor],
        backward: @escaping (_ outputGradient: UnsafePointer<Float>) -> Void
    ) -> Tensor {
        let count = shape.reduce(1, *)
        let records = GradientMode.isEnabled && inputs.contains { $0.requiresGradient }
        let output = Tensor(shape: shape, storage: TensorStorage(uninitializedCount: count), requiresGradient: records)
        if records {
            output.inputs = inputs
            output.backwardFunction = backward
        }
        return output
    }

    /// Whether this result records a backward function (it will propagate gradients).
    public var isRecorded: Bool { backwardFunction != nil }

    // MARK: - Reading values

    /// The first of the tensor's `shape.reduce(1, *)` contiguous row-major values. Writing through it
    /// bypasses autodiff: do it only to tensors no recorded operation has read yet.
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// The values as an array, row-major.
    public var scalars: [Float] { Array(storage.buffer) }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return storage.pointer[0]
    }

    /// Rank (number of axes).
    public var rank: Int { shape.count }

    /// The accumulated gradient as an array, or nil when none has been accumulated.
    public var gradient: [Float]? {
        if isPackedParameter && !gradientIsSet { return Array(repeating: 0, count: count) }  // cleared, not yet settled
        guard gradientIsSet, let gradientStorage else { return nil }
        return Array(gradientStorage.buffer)
    }

    /// A copy of the values with no gradient history.
    public func detached() -> Tensor {
        let storage = TensorStorage(uninitializedCount: count)
        storage.pointer.update(from: pointer, count: count)
        return Tensor(shape: shape, storage: storage)
    }

    // MARK: - Gradients

    /// Clears the accumulated gradient (the next accumulation overwrites).
    public func zeroGradient() {
        gradientIsSet = false
    }

    /// True for parameters whose gradient is a view into a `ParameterPack` (a cleared one reads as zeros).
    var isPackedParameter = false

    /// Calls `body` with this tensor's gradient buffer and whether it already holds a value
    /// (`accumulate == true`: add to it; false: overwrite it). Does nothing for tensors that
    /// do not require a gradient.
    public func accumulateGradient(_ body: (_ gradient: UnsafeMutablePointer<Float>, _ accumulate: Bool) -> Void) {
        guard requiresGradient else { return }
        if gradientStorage == nil { gradientStorage = TensorStorage(uninitializedCount: count) }
        body(gradientStorage!.pointer, gradientIsSet)
        gradientIsSet = true
    }

    /// The gradient pointer when one has been accumulated (for kernels and optimizers).
    package var gradientPointer: UnsafeMutablePointer<Float>? {
        gradientIsSet ? gradientStorage?.pointer : nil
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first values, for debugging.
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
