/// All trainable parameters in one contiguous allocation, with their gradients in a second.
///
/// Packing rebinds each tensor's values and gradient to views into the two flat buffers, so
/// an optimizer updates every parameter in one vectorised pass (the llm.c layout); clearing the
/// gradients costs no pass at all (see `zeroGradients`). The tensors keep their shapes and stay usable as before.
public final class ParameterPack {
    /// The parameters, in the order given; their values and gradients are views into the pack.
    public let tensors: [Tensor]
    /// Total number of scalars.
    public let count: Int
    /// Tensor i occupies offsets[i] ..< offsets[i] + tensors[i].count of both flat buffers.
    public let offsets: [Int]
    private let valueStorage: TensorStorage
    private let gradientStorage: TensorStorage

    /// All the parameters' values, one contiguous buffer in `tensors`' order.
    package var values: UnsafeMutablePointer<Float> { valueStorage.pointer }
    /// All the parameters' gradients, laid out as `values`. Parameters marked unset by
    /// `zeroGradients()` hold stale values until `settleGradients()`.
    package var gradients: UnsafeMutablePointer<Float> { gradientStorage.pointer }

    /// Moves `tensors`' values into one contiguous buffer (and their gradients into another) and makes
    /// each tensor a view into it. Each tensor must appear once.
    public init(_ tensors: [Tensor]) {
        precondition(tensors.allSatisfy(\.requiresGradient), "every packed parameter must require a gradient")
        precondition(Set(tensors.map(ObjectIdentifier.init)).count == tensors.count, "a parameter appears twice in the pack")
        var offsets: [Int] = []
        var total = 0
        for tensor in tensors {
            offsets.append(total)
            total += tensor.count
        }
        self.tensors = tensors
        self.offsets = offsets
        self.count = total
        valueStorage = TensorStorage(uninitializedCount: total)
        gradientStorage = TensorStorage(zerosCount: total)
        for (tensor, offset) in zip(tensors, offsets) {
            (valueStorage.pointer + offset).update(from: tensor.pointer, count: tensor.count)
            tensor.storage = TensorStorage(viewOf: valueStorage.pointer + offset, count: tensor.count, owner: valueStorage)
            tensor.gradientStorage = TensorStorage(viewOf: gradientStorage.pointer + offset, count: tensor.count, owner: gradientStorage)
            tensor.gradientIsSet = true
            tensor.isPackedParameter = true
        }
    }

    /// Clears every gradient without touching memory: each parameter is marked unset, so the
    /// backward pass's first contribution overwrites its slice (a product with beta = 0) rather
    /// than adding to zeros. `settleGradients()` zeroes what no contribution reached.
    public func zeroGradients() {
        for tensor in tensors { tensor.gradientIsSet = false }
    }

    /// Makes the flat gradient buffer hold every parameter's gradient: a parameter that received
    /// no contribution since `zeroGradients()` has its slice set to zero. Optimizers call this
    /// before reading `gradients`.
    public func settleGradients() { settleGradients(of: tensors.indices) }

    /// The L2 norm of every gradient together, √(Σ g²) (settled first; summed in Double, 16
    /// lanes at a time, so the same gradients give the same norm).
    public func gradientNorm() -> Float {
        settleGradients()
        let g = gradients
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 4096, count)
            var lanes = SIMD16<Float>()
            var j = i
            while j &+ 16 <= end {
                let value = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD16<Float>.self)
                lanes = lanes.addingProduct(value, value)
                j &+= 16
            }
            var partial = Double(lanes.sum())
            while j < end { partial += Double(g[j] * g[j]); j &+= 1 }
            total += partial
            i = end
        }
        return Float(total.squareRoot())
    }

    /// Clips the gradients by their joint norm, as PyTorch's `clip_grad_norm_`: when
    /// n = `gradientNorm()` exceeds `maximum`, every gradient is multiplied by maximum / (n + 10⁻⁶).
    /// Returns n, the norm before clipping.
    @discardableResult
    public func clipGradientNorm(to maximum: Float) -> Float {
        precondition(maximum > 0, "a clipping norm is positive")
        let norm = gradientNorm()
        guard norm > maximum else { return norm }
        let factor = maximum / (norm + 1e-6)
        let g = gradients
        for i in 0..<count { g[i] *= factor }
        return norm
    }

    /// `settleGradients()` for the tensors at `indices` only (a contiguous slice of `gradients`).
    public func settleGradients(of indices: Range<Int>) {
        for index in indices where !tensors[index].gradientIsSet {
            (gradients + offsets[index]).update(repeating: 0, count: tensors[index].count)
            tensors[index].gradientIsSet = true
        }
    }
}
