import Foundation

/// N images of C x H x W values in [0, 1] (see `ImageShape` for the layout), with optional
/// integer labels 0 ..< classNames.count.
/// Shapes: `pixels` holds `count` images of `shape.count` values, one after another.
public struct ImageDataset: Sendable {
    /// The images' values in [0, 1], image after image, each `shape.count` values laid out as `ImageShape` says.
    public let pixels: [Float]
    /// The shape every image shares.
    public let shape: ImageShape
    /// The number of images.
    public let count: Int
    /// One label per image, or empty for an unlabelled dataset.
    public let labels: [Int]
    /// The class names by label (empty for an unlabelled dataset).
    public let classNames: [String]

    /// Values per image, C · H · W.
    public var valuesPerImage: Int { shape.count }
    /// Whether every image has a label.
    public var isLabelled: Bool { !labels.isEmpty }
    /// The number of classes (0 for an unlabelled dataset).
    public var classCount: Int { classNames.count }

    /// `labels` empty (unlabelled) or one per image, each in 0 ..< classNames.count.
    public init(pixels: [Float], shape: ImageShape, labels: [Int], classNames: [String]) {
        precondition(shape.count > 0 && pixels.count % shape.count == 0, "\(pixels.count) values are not whole \(shape) images")
        let count = pixels.count / shape.count
        precondition(labels.isEmpty || labels.count == count, "\(labels.count) labels for \(count) images")
        precondition(labels.allSatisfy { (0..<classNames.count).contains($0) }, "labels must lie in 0..<\(classNames.count)")
        (self.pixels, self.shape, self.count, self.labels, self.classNames) = (pixels, shape, count, labels, classNames)
    }

    /// Labelled grey images of height x width, the classes named by their numbers.
    public init(pixels: [Float], labels: [Int], height: Int, width: Int) {
        self.init(pixels: pixels, shape: .grey(height: height, width: width), labels: labels,
                  classNames: (0..<((labels.max() ?? -1) + 1)).map(String.init))
    }

    /// The values of image `index`.
    public func image(_ index: Int) -> ArraySlice<Float> { pixels[(index * shape.count)..<((index + 1) * shape.count)] }

    /// The mean image, [C · H · W]: each value's mean over the images (summed in Double), zeros
    /// for an empty set.
    public var meanImage: [Float] {
        let size = shape.count
        var sums = [Double](repeating: 0, count: size)
        pixels.withUnsafeBufferPointer { values in
            for image in 0..<count {
                let start = image * size
                for index in 0..<size { sums[index] += Double(values[start + index]) }
            }
        }
        return sums.map { count == 0 ? 0 : Float($0 / Double(count)) }
    }

    /// The images at `indices`, in that order, with their labels.
    public func subset(_ indices: some Collection<Int>) -> ImageDataset {
        var values = [Float]()
        values.reserveCapacity(indices.count * shape.count)
        for index in indices { values += image(index) }
        return ImageDataset(pixels: values, shape: shape, labels: isLabelled ? indices.map { labels[$0] } : [], classNames: classNames)
    }

    /// The first `count` images.
    public func prefix(_ count: Int) -> ImageDataset { subset(0..<min(count, self.count)) }

    /// The same images with other values (a transform of the pixels), same shape and labels.
    public func replacingPixels(_ values: [Float]) -> ImageDataset {
        ImageDataset(pixels: values, shape: shape, labels: labels, classNames: classNames)
    }

    /// Reads an IDX image file and its label file (gzipped or raw), checking that they agree.
    /// Labels may be 0...255; the classes are `classNames` when given (every label must name
    /// one), otherwise 0 ... the largest label.
    public static func read(images: URL, labels: URL, classNames: [String]? = nil) throws(IDXError) -> ImageDataset {
        let imageFile = try IDXFile.read(images, expectedMagic: IDXFile.imageMagic)
        let labelFile = try IDXFile.read(labels, expectedMagic: IDXFile.labelMagic)
        let (imageCount, labelCount) = (imageFile.dimensions[0], labelFile.dimensions[0])
        guard imageCount == labelCount else {
            throw .countMismatch(images: images.path, imageCount: imageCount, labels: labels.path, labelCount: labelCount)
        }
        let names = classNames ?? (0...Int(labelFile.bytes.max() ?? 0)).map(String.init)
        if let index = labelFile.bytes.firstIndex(where: { Int($0) >= names.count }) {
            throw .labelOutOfRange(file: labels.path, index: index, label: Int(labelFile.bytes[index]), classes: names.count)
        }
        // Divide (not multiply by 1/255), as PyTorch's ToTensor does, for identical inputs.
        return ImageDataset(pixels: imageFile.bytes.map { Float($0) / 255 },
                            shape: .grey(height: imageFile.dimensions[1], width: imageFile.dimensions[2]),
                            labels: labelFile.bytes.map(Int.init), classNames: names)
    }
}
