import Datasets
import TensorCore

/// A model whose latent is a grid of discrete codes from a learned codebook (a VQ-VAE), as a
/// capability: the commands and the explorer ask for it where a code grid is what they work on
/// (the code indices of `vae encode`, the prior over codes of `vae sample`, the explorer's grid),
/// and refuse the tools that move through a continuous latent space.
///
/// Codes are indices 0..<K, one per position of an h x w grid, row-major ([N · h · w] for N
/// images, image-major).
public protocol DiscreteLatentModel: VariationalModel {
    /// The grid of code positions: h x w, with the code dimension as its channels.
    var codeGrid: ImageShape { get }
    /// K, the codebook's size.
    var codebookSize: Int { get }
    /// The nearest code of every position for images x [N, C · H · W]: [N · h · w].
    func codes(_ x: Tensor) -> [Int32]
    /// p(x | codes) for `count` grids of code indices [count · h · w] (each in 0..<K).
    func decode(codes: [Int32], count: Int) -> any ImageDistribution
    /// The model's figures over a set of images: reconstruction error, codebook use.
    func codeFigures(on images: ImageDataset) -> [(name: String, value: Double)]
}

extension DiscreteLatentModel {
    /// h · w, the code positions per image.
    public var codePositions: Int { codeGrid.height * codeGrid.width }
}
