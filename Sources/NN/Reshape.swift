import TensorCore

/// Images to rows: [N, C, H, W] (or channel-blocked) -> [N, C · H · W] in PyTorch's order (C, then
/// H, then W), so a following `Linear` has the weights `torch.nn.Flatten` would give it. Other
/// tensors [N, ...] -> [N, product of the rest].
public final class Flatten: Module {
    /// A flattening layer (it has no parameters).
    public override init() {}

    /// [N, ...] -> [N, product of the rest], planar for image batches; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1, "Flatten needs a batch axis, got a scalar")
        let rows = x.imageLayout != nil ? x.planarImages() : x
        return rows.reshaped(to: [x.shape[0], x.count / max(x.shape[0], 1)])
    }
}

/// Rows to a per-item shape: [N, product of `shape`] -> [N] + `shape` (e.g. a dense layer's
/// output to [N, C, H, W] images). The values are shared, not copied.
public final class Reshape: Module {
    /// The per-item shape produced.
    public let shape: [Int]

    /// A layer reshaping rows to `shape` per item.
    public init(_ shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "Reshape needs positive sizes, got \(shape)")
        self.shape = shape
    }

    /// [N, product of `shape`] -> [N] + `shape`, sharing the values; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.reshaped(to: [x.shape[0]] + shape)
    }
}

/// Images upsampled by an integer factor, nearest or bilinear (PyTorch's `nn.Upsample` with
/// `align_corners=False`): [N, C, H, W] -> [N, C, f H, f W], a channel-blocked batch staying
/// blocked. It has no parameters.
public final class Upsample: Module {
    /// The factor f along height and width.
    public let factor: Int
    /// How the new pixels are filled.
    public let mode: UpsamplingMode

    /// A layer upsampling by `factor` (at least 1) with `mode`.
    public init(factor: Int, mode: UpsamplingMode) {
        precondition(factor >= 1, "Upsample needs a factor of at least 1, got \(factor)")
        (self.factor, self.mode) = (factor, mode)
    }

    /// The images upsampled; differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.upsampled(by: factor, mode: mode) }
}
