import Datasets
import Foundation
import VAE

extension LoadedModel {
    /// The transform that makes a person's picture this model's input (see `ImageTransform`). A
    /// model of a named digit-like dataset (`dataset`, default the run's own) with square grey
    /// images gets the MNIST framing: grey, polarity, the ink box scaled from the dataset's
    /// 28-pixel frame, centred by mass. A model of an image folder gets the folder's transform at
    /// the model's size; any other model a centre crop and resize to its size and channels.
    public func pictureTransform(dataset: DatasetName? = nil) -> ImageTransform {
        let shape = model.imageShape
        if let named = dataset ?? DatasetName(rawValue: configuration.dataset), configuration.imageFolder == nil, shape.channels == 1,
           shape.height == shape.width {
            let box = max(1, min(shape.width, Int((Double(named.inkBox) * Double(shape.width) / 28).rounded())))
            return ImageTransform(height: shape.height, width: shape.width, colour: .grey, digitBox: box)
        }
        var transform = configuration.imageFolder?.transform ?? ImageTransform(centreCrop: true)
        (transform.height, transform.width, transform.colour) = (shape.height, shape.width, ColourMode(channels: shape.channels))
        return transform
    }

    /// Converts a PNG or JPEG file's bytes (`data`, read from `path`, which names it in errors) to
    /// this model's input through `pictureTransform(dataset:)`, decoding at most `maximumPixels`.
    /// The run's threshold binarisation is applied when it had one.
    /// - Throws: `ImageFileError` when the bytes are not a readable PNG or JPEG picture.
    public func importPicture(_ data: Data, path: String, dataset: DatasetName? = nil,
                              maximumPixels: Int = ImageFile.maximumPixels) throws(ImageFileError) -> TransformedImage {
        let image = try ImageFile.decode(data, path: path, maximumPixels: maximumPixels)
        var converted = pictureTransform(dataset: dataset).apply(image)
        guard configuration.binarization == .threshold else { return converted }
        Binarization.threshold(&converted.values)
        converted.description += "; thresholded at 0.5 (the run's binarisation)"
        return converted
    }
}
