/// All trainable parameters in one contiguous allocation, with their gradients in a second.
///
/// Packing rebinds each tensor's values and gradient to views into the two flat buffers, so
/// an optimizer updates every parameter in one vectorised pass and zeroing gradients is one
/// memset (the llm.c layout). The tensors keep their shapes and stay usable as before.
public final class ParameterPack {
    public let tensors: [Tensor]
    /// Total number of scalars.
    public let count: Int
    /// Tensor i occupies offsets[i] ..< offsets[i] + tensors[i].count of both flat buffers.
    public let offsets: [Int]
    private let valueStorage: TensorStorage
    private let gradientStorage: TensorStorage

    public var values: UnsafeMutablePointer<Float> { valueStorage.pointer }
    public var gradients: UnsafeMutablePointer<Float> { gradientStorage.pointer }

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

    /// Sets every gradient to zero (one memset, split across `ParallelLoop.shared`).
    public func zeroGradients() {
        let gradients = gradients
        ParallelLoop.shared.run(count: count, grain: 1 << 16) { start, end in
            (gradients + start).update(repeating: 0, count: end - start)
        }
    }
}
