import Datasets
import TensorCore
import VAE
import Visualization

/// A trained model of any kind and the shape of its images: what every latent-space picture
/// starts from. Images are C x H x W values in [0, 1] (planar, see `ImageShape`); several images
/// lie one after another in one array.
///
/// A conditional model encodes and decodes with a label: `label` is the class every picture
/// decodes with (and encodes with, where the images' own labels are not given); it must be set
/// for a conditional model and nil for an unconditional one (`labels(count:)` checks).
public struct LatentExplorer {
    public let model: any VariationalModel
    /// The class a conditional model's pictures are drawn for.
    public var label: Int?

    public init(model: any VariationalModel, label: Int? = nil) {
        self.model = model
        self.label = label
    }

    /// `count` copies of `label` for a conditional model, none for an unconditional one.
    public func labels(count: Int) -> [Int] {
        switch model.condition {
        case .none:
            precondition(label == nil, "an unconditional model takes no label")
            return []
        case let .classes(classes):
            guard let label else { preconditionFailure("a conditional model needs a label") }
            precondition((0..<classes).contains(label), "the label must lie in 0..<\(classes)")
            return Array(repeating: label, count: count)
        }
    }

    /// Decodes latent vectors ([count, latentSize]) with `label`.
    func decode(_ latents: [Float]) -> [Float] {
        model.decode(latents: latents, labels: labels(count: latents.count / latentSize))
    }

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
