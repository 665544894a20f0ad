import Foundation

/// N images of C x H x W values in [0, 1] (see `ImageShape` for the layout), with optional
/// integer labels 0 ..< classNames.count. The values are held as floats, or, for a large binary
/// dataset (dSprites' 737,280 images of 64x64), packed one bit per value.
/// Shapes: `pixels` holds `count` images of `shape.count` values, one after another.
public struct ImageDataset: Sendable {
    /// How the values are held.
    public enum Storage: Sendable {
        /// Every value as a float in [0, 1], image after image.
        case values([Float])
        /// Binary values, 0 or 1, packed in words of 64: value v of image i is bit (v mod 64) of
        /// word i · shape.count / 64 + v / 64 (shape.count is a multiple of 64).
        case bits([UInt64])
    }

    /// The values, as floats or packed bits.
    public let storage: Storage
    /// The images' values in [0, 1], image after image, each `shape.count` values laid out as
    /// `ImageShape` says. A bit-packed dataset expands every image here (4 bytes a value): read
    /// its images one at a time with `copyImage(_:into:)` instead.
    public var pixels: [Float] {
        switch storage {
        case .values(let values): return values
        case .bits:
            var values = [Float](repeating: 0, count: count * shape.count)
            values.withUnsafeMutableBufferPointer { target in
                for index in 0..<count { copyImage(index, into: target.baseAddress! + index * shape.count) }
            }
            return values
        }
    }
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
        (self.storage, self.shape, self.count, self.labels, self.classNames) = (.values(pixels), shape, count, labels, classNames)
    }

    /// Binary images packed one bit per value (see `Storage.bits`); shape.count must be a
    /// multiple of 64.
    public init(bits: [UInt64], shape: ImageShape, labels: [Int], classNames: [String]) {
        precondition(shape.count > 0 && shape.count % 64 == 0, "packed images need whole words of 64 values, \(shape) has \(shape.count)")
        let wordsPerImage = shape.count / 64
        precondition(bits.count % wordsPerImage == 0, "\(bits.count) words are not whole \(shape) images")
        let count = bits.count / wordsPerImage
        precondition(labels.isEmpty || labels.count == count, "\(labels.count) labels for \(count) images")
        precondition(labels.allSatisfy { (0..<classNames.count).contains($0) }, "labels must lie in 0..<\(classNames.count)")
        (self.storage, self.shape, self.count, self.labels, self.classNames) = (.bits(bits), shape, count, labels, classNames)
    }

    /// Whether the values are packed bits.
    public var isPacked: Bool { if case .bits = storage { true } else { false } }

    /// Labelled grey images of height x width, the classes named by their numbers.
    public init(pixels: [Float], labels: [Int], height: Int, width: Int) {
        self.init(pixels: pixels, shape: .grey(height: height, width: width), labels: labels,
                  classNames: (0..<((labels.max() ?? -1) + 1)).map(String.init))
    }

    /// The values of image `index`.
    public func image(_ index: Int) -> ArraySlice<Float> {
        switch storage {
        case .values(let values): return values[(index * shape.count)..<((index + 1) * shape.count)]
        case .bits:
            var values = [Float](repeating: 0, count: shape.count)
            values.withUnsafeMutableBufferPointer { copyImage(index, into: $0.baseAddress!) }
            return values[...]
        }
    }

    /// Writes image `index`'s `shape.count` values into `target`.
    package func copyImage(_ index: Int, into target: UnsafeMutablePointer<Float>) {
        precondition((0..<count).contains(index), "image \(index) of \(count)")
        let size = shape.count
        switch storage {
        case .values(let values):
            values.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + index &* size, count: size) }
        case .bits(let words): Self.unpack(words, image: index, valuesPerImage: size, into: target)
        }
    }

    /// Writes image `image`'s `valuesPerImage` values (0 or 1) from packed `words` (bit b of word
    /// w is value 64 w + b) into `target`.
    package static func unpack(_ words: [UInt64], image: Int, valuesPerImage size: Int, into target: UnsafeMutablePointer<Float>) {
        words.withUnsafeBufferPointer { source in
            let first = image &* (size / 64)
            for word in 0..<(size / 64) {
                let bits = source[first + word], base = target + word &* 64
                for bit in 0..<64 { base[bit] = Float(bits >> UInt64(bit) & 1) }
            }
        }
    }

    /// The mean image, [C · H · W]: each value's mean over the images (summed in Double), zeros
    /// for an empty set.
    public var meanImage: [Float] {
        let size = shape.count
        var sums = [Double](repeating: 0, count: size)
        switch storage {
        case .values(let values):
            values.withUnsafeBufferPointer { values in
                for image in 0..<count {
                    let start = image * size
                    for index in 0..<size { sums[index] += Double(values[start + index]) }
                }
            }
        case .bits(let words):
            for (position, word) in words.enumerated() where word != 0 {
                let base = (position % (size / 64)) * 64
                for bit in 0..<64 where word >> UInt64(bit) & 1 == 1 { sums[base + bit] += 1 }
            }
        }
        return sums.map { count == 0 ? 0 : Float($0 / Double(count)) }
    }

    /// The images at `indices`, in that order, with their labels, held as this set holds them.
    public func subset(_ indices: some Collection<Int>) -> ImageDataset {
        let subsetLabels = isLabelled ? indices.map { labels[$0] } : []
        switch storage {
        case .values(let source):
            var values = [Float]()
            values.reserveCapacity(indices.count * shape.count)
            for index in indices { values += source[(index * shape.count)..<((index + 1) * shape.count)] }
            return ImageDataset(pixels: values, shape: shape, labels: subsetLabels, classNames: classNames)
        case .bits(let source):
            let words = shape.count / 64
            var bits = [UInt64]()
            bits.reserveCapacity(indices.count * words)
            for index in indices { bits += source[(index * words)..<((index + 1) * words)] }
            return ImageDataset(bits: bits, shape: shape, labels: subsetLabels, classNames: classNames)
        }
    }

    /// The same images packed one bit per value, or nil when a value is neither 0 nor 1 or an
    /// image is not whole words of 64 values.
    public func packed() -> ImageDataset? {
        if isPacked { return self }
        guard shape.count % 64 == 0 else { return nil }
        let values = pixels
        var bits = [UInt64](repeating: 0, count: values.count / 64)
        for (position, value) in values.enumerated() {
            if value == 1 { bits[position >> 6] |= 1 << UInt64(position & 63) } else if value != 0 { return nil }
        }
        return ImageDataset(bits: bits, shape: shape, labels: labels, classNames: classNames)
    }

    /// The same images held as float values (a bit-packed set expanded).
    public func expanded() -> ImageDataset {
        isPacked ? ImageDataset(pixels: pixels, shape: shape, labels: labels, classNames: classNames) : self
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
