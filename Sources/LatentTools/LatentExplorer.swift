import Datasets
import TensorCore
import VAE
import Visualization

/// A trained model of any kind and the shape of its images: what every latent-space picture
/// starts from. Images are C x H x W values in [0, 1] (planar, see `ImageShape`); several images
/// lie one after another in one array.
public struct LatentExplorer {
    public let model: any VariationalModel

    public init(model: any VariationalModel) { self.model = model }

    public var shape: ImageShape { model.imageShape }
    public var latentSize: Int { model.latentSize }
    public var valuesPerImage: Int { shape.count }

    /// The images split into one array per image.
    public func split(_ images: [Float]) -> [[Float]] {
        precondition(images.count % valuesPerImage == 0, "\(images.count) values are not whole \(shape) images")
        return stride(from: 0, to: images.count, by: valuesPerImage).map { Array(images[$0..<($0 + valuesPerImage)]) }
    }

    /// A grid of `columns` images per row (blank cells where `cells` holds nil), grey or colour
    /// as the model's images are.
    public func grid(_ cells: [[Float]?], columns: Int, scale: Int) -> Picture {
        ImageGrid.make(cells: cells, shape: shape, columns: columns, scale: scale)
    }
}
