import Datasets
import Foundation
import VAE

/// A person's picture as a model's input, with a sentence saying how it was converted.
public struct ImportedPicture: Sendable {
    /// The model's input: C x H x W values in [0, 1], planar.
    public var pixels: [Float]
    /// What was done, e.g. "640x480 PNG RGB -> grey; inverted; ink scaled to 15x20, centred by mass in 28x28".
    public var conversion: String
}

extension LoadedModel {
    /// Converts a PNG or JPEG file's bytes (`data`, read from `path`, which names it in errors) to
    /// this model's input. A model of a named digit-like dataset (`dataset`, default the run's own)
    /// with square grey images gets the MNIST framing (`ImageImport`: grey, polarity, the ink box
    /// scaled from the dataset's 28-pixel frame, centred by mass); a model of an image folder gets
    /// the folder's transforms at the model's size (centre crop and resize otherwise). The run's
    /// threshold binarisation is applied when it had one.
    /// - Throws: `ImageFileError` when the bytes are not a readable PNG or JPEG picture.
    public func importPicture(_ data: Data, path: String, dataset: DatasetName? = nil) throws(ImageFileError) -> ImportedPicture {
        let shape = model.imageShape
        let picture = try ImageFile.decode(data, path: path)
        var converted: ImportedPicture
        if let named = dataset ?? DatasetName(rawValue: configuration.dataset), configuration.imageFolder == nil, shape.channels == 1,
           shape.height == shape.width {
            let box = max(1, min(shape.width, Int((Double(named.inkBox) * Double(shape.width) / 28).rounded())))
            let imported = ImageImport.convert(PNGPicture(grey: picture), side: shape.width, box: box)
            converted = ImportedPicture(pixels: imported.pixels, conversion: imported.conversion)
        } else {
            var options = configuration.imageFolder ?? ImageFolderOptions(path: path, centreCrop: true)
            (options.height, options.width, options.colour) = (shape.height, shape.width, shape.channels == 3 ? .colour : .grey)
            let (values, _) = ImageFolder.transform(picture, options: options)
            converted = ImportedPicture(pixels: values, conversion: "\(picture.width)x\(picture.height) \(picture.sourceFormat) -> \(options.transformSummary)")
        }
        guard configuration.binarization == .threshold else { return converted }
        Binarization.threshold(&converted.pixels)
        converted.conversion += "; thresholded at 0.5 (the run's binarisation)"
        return converted
    }
}
