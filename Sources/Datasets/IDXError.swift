import Foundation

/// Why an IDX file was rejected. Each case names the file, what was expected and what was
/// found, and gives a hint.
public enum IDXError: Error, LocalizedError, Equatable {
    case missingFile(file: String)
    case unreadable(file: String, reason: String)
    case badMagic(file: String, expected: UInt32, found: UInt32)
    case lengthMismatch(file: String, expectedBytes: Int, foundBytes: Int)
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case labelOutOfRange(file: String, index: Int, label: Int, classes: Int)

    /// The file, the field and what was expected.
    public var errorDescription: String? {
        switch self {
        case let .missingFile(file):
            "\(file) does not exist. Hint: give the folder that holds the dataset's files."
        case let .unreadable(file, reason):
            "cannot read \(file): \(reason). Hint: the gzip stream may be damaged; fetch the file again."
        case let .badMagic(file, expected, found):
            "\(file) is not an IDX \(expected == IDXFile.imageMagic ? "image" : "label") file: magic number \(hex(found)), expected \(hex(expected)). Hint: check that images and labels are not swapped and the file is an MNIST-format IDX file."
        case let .lengthMismatch(file, expected, found) where found < 0 || expected > IDXFile.maximumBytes:
            "\(file): the header's dimensions need \(expected == Int.max ? "more bytes than can be counted" : "\(expected) bytes"), more than the \(IDXFile.maximumBytes) bytes an IDX file may have here; it was not inflated. Hint: the header is damaged."
        case let .lengthMismatch(file, expected, found):
            "\(file): the header's dimensions need \(expected) bytes, the file has \(found == expected + 1 ? "more" : "\(found)") (after decompression). Hint: the file is truncated or is not what its header says."
        case let .countMismatch(images, imageCount, labels, labelCount):
            "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels. Hint: the two files come from different splits or datasets."
        case let .labelOutOfRange(file, index, label, classes):
            "\(file): label \(label) at index \(index) is outside the dataset's \(classes) classes (0...\(classes - 1))"
        }
    }

    private func hex(_ value: UInt32) -> String { String(format: "0x%08X", value) }
}
