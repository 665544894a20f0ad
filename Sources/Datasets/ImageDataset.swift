import Foundation

/// Labelled grey images with pixels scaled to [0, 1].
/// Shapes: `pixels` holds `count` images of `rows x columns`, row-major, one after another.
public struct ImageDataset: Sendable {
    public let pixels: [Float]
    public let labels: [Int]
    public let rows: Int
    public let columns: Int

    public var count: Int { labels.count }
    public var pixelsPerImage: Int { rows * columns }

    public init(pixels: [Float], labels: [Int], rows: Int, columns: Int) {
        precondition(pixels.count == labels.count * rows * columns, "\(pixels.count) pixels for \(labels.count) images of \(rows)x\(columns)")
        self.pixels = pixels
        self.labels = labels
        self.rows = rows
        self.columns = columns
    }

    /// Reads an IDX image file and its label file (gzipped or raw), checking that they agree.
    public static func read(images: URL, labels: URL) throws(IDXError) -> ImageDataset {
        let imageFile = try IDXFile.read(images, expectedMagic: IDXFile.imageMagic)
        let labelFile = try IDXFile.read(labels, expectedMagic: IDXFile.labelMagic)
        let (imageCount, labelCount) = (imageFile.dimensions[0], labelFile.dimensions[0])
        guard imageCount == labelCount else {
            throw .countMismatch(images: images.path, imageCount: imageCount, labels: labels.path, labelCount: labelCount)
        }
        if let index = labelFile.bytes.firstIndex(where: { $0 > 9 }) {
            throw .labelOutOfRange(file: labels.path, index: index, label: Int(labelFile.bytes[index]))
        }
        // Divide (not multiply by 1/255), as PyTorch's ToTensor does, for identical inputs.
        return ImageDataset(pixels: imageFile.bytes.map { Float($0) / 255 }, labels: labelFile.bytes.map(Int.init),
                            rows: imageFile.dimensions[1], columns: imageFile.dimensions[2])
    }
}
