import Datasets
import TensorCore
import VAE
import Visualization

/// A trained model of any kind and the shape of its images: what every latent-space picture
/// starts from. Images are C x H x W values in [0, 1] (planar, see `ImageShape`); several images
/// lie one after another in one array.
///
/// A conditional model encodes and decodes with a label: `label` is the class every picture
/// decodes with (and encodes with, where the images' own labels are not given). A label given to
/// an unconditional model, or beyond a conditional model's classes, is a thrown `ConditionError`;
/// drawing from a conditional model before a label is set is a programmer error (a precondition),
/// except for the pictures that take their labels from elsewhere (`classSampleGrid`, and
/// reconstructions given the images' labels).
public struct LatentExplorer {
    /// The model explored.
    public let model: any VariationalModel
    /// The class a conditional model's pictures are drawn for (set with `setLabel(_:)`).
    public private(set) var label: Int?

    /// An explorer of `model`, drawing for class `label` when the model is conditional.
    /// - Throws: `ConditionError` when `label` does not fit the model (see `setLabel(_:)`).
    public init(model: any VariationalModel, label: Int? = nil) throws(ConditionError) {
        self.model = model
        try setLabel(label)
    }

    /// Sets the class the pictures are drawn for (nil: none).
    /// - Throws: `ConditionError` for a label given to an unconditional model, or one outside a
    ///   conditional model's 0..<K.
    public mutating func setLabel(_ label: Int?) throws(ConditionError) {
        if let label {
            switch model.condition {
            case .none: throw ConditionError(message: "the model is unconditional: it takes no label (got \(label))")
            case let .classes(classes) where !(0..<classes).contains(label):
                throw ConditionError(message: "the label must lie in 0...\(classes - 1) (the model's classes), got \(label)")
            case .classes: break
            }
        }
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

    /// The shape of the model's images.
    public var shape: ImageShape { model.imageShape }
    /// The latent dimension.
    public var latentSize: Int { model.latentSize }
    /// Values per decoded image.
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
