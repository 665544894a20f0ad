import Foundation
import NN
import TensorCore

/// The coordinate decoder of the affine kind: for every pixel of every image, the transformed
/// coordinate (u', v') joined with the image's content vector c goes through an MLP
/// 2 + C -> H (ReLU) -> H (ReLU) -> 1 (sigmoid) that gives the pixel's intensity.
///
/// Shapes: z [B, C + 6] (content first, then the 6 transform parameters) -> images [B, h · w].
/// The computation is the engine's fused `CoordinateRendering`, whose plain reference checks it.
public final class CoordinateDecoder: Module {
    /// (u, v, content) -> H.
    public let first: Linear
    /// H -> H.
    public let second: Linear
    /// H -> 1, the pixel's logit.
    public let output: Linear
    /// The content part of z read by every pixel.
    public let contentSize: Int

    /// A decoder of 2 + contentSize -> hiddenSize -> hiddenSize -> 1, initialised by `initializer`.
    public init(contentSize: Int, hiddenSize: Int, initializer: Initializer, using generator: inout RandomGenerator) {
        first = Linear(inputSize: 2 + contentSize, outputSize: hiddenSize, initializer: initializer, using: &generator)
        second = Linear(inputSize: hiddenSize, outputSize: hiddenSize, initializer: initializer, using: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: 1, initializer: initializer, using: &generator)
        self.contentSize = contentSize
    }

    /// H.
    public var hiddenSize: Int { second.outputSize }

    /// The images decoded from z on `grid`, with the learned transform (`transform` non-nil) or
    /// with A = I (nil: the normalised rendering): the engine's fused renderer.
    public func callAsFunction(_ z: Tensor, grid: PixelGrid, transform: AffineForm?) -> Tensor {
        CoordinateRendering.render(z, contentSize: contentSize, layers: layers, grid: grid, transform: transform)
    }

    /// The same images through the renderer's plain reference (tests only).
    public func referenceImages(_ z: Tensor, grid: PixelGrid, transform: AffineForm?) -> Tensor {
        CoordinateRendering.reference(z, contentSize: contentSize, layers: layers, grid: grid, transform: transform)
    }

    /// W1, b1, W2, b2, W3, b3.
    var layers: (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor) {
        (first.weight, first.bias!, second.weight, second.bias!, output.weight, output.bias!)
    }
}

