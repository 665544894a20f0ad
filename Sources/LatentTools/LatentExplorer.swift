import TensorCore
import VAE
import Visualization

/// A trained model and the geometry of its images: what every latent-space picture starts from.
/// Images are `imageHeight` x `imageWidth` intensities in [0, 1], row-major; several images lie
/// one after another in one array.
public struct LatentExplorer {
    public let model: VariationalAutoencoder
    public let imageWidth: Int
    public let imageHeight: Int

    public init(model: VariationalAutoencoder, imageWidth: Int, imageHeight: Int) {
        precondition(imageWidth * imageHeight == model.configuration.inputSize,
                     "\(imageWidth)x\(imageHeight) images do not fit a model of \(model.configuration.inputSize) inputs")
        (self.model, self.imageWidth, self.imageHeight) = (model, imageWidth, imageHeight)
    }

    public var latentSize: Int { model.configuration.latentSize }
    public var pixelsPerImage: Int { imageWidth * imageHeight }

    /// The images split into one array per image.
    public func split(_ images: [Float]) -> [[Float]] {
        precondition(images.count % pixelsPerImage == 0, "\(images.count) values are not whole images of \(pixelsPerImage) pixels")
        return stride(from: 0, to: images.count, by: pixelsPerImage).map { Array(images[$0..<($0 + pixelsPerImage)]) }
    }

    /// A grid of `columns` images per row (blank cells where `cells` holds nil).
    public func grid(_ cells: [[Float]?], columns: Int, scale: Int) -> GreyImage {
        ImageGrid.make(cells: cells, imageWidth: imageWidth, imageHeight: imageHeight, columns: columns, scale: scale)
    }
}
