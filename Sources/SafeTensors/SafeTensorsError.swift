import Foundation

/// Why a safetensors file was rejected. Every case names the file, and the tensor where one
/// is involved.
public enum SafeTensorsError: Error, LocalizedError, Equatable {
    case unreadable(file: String, reason: String)
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    case malformedHeader(file: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case offsetsOutOfBounds(file: String, tensor: String, begin: Int, end: Int, dataBytes: Int)
    case sizeMismatch(file: String, tensor: String, shape: [Int], bytes: Int)
    case missingTensor(file: String, tensor: String, available: [String])
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case writeFailed(file: String, reason: String)
    case nonFiniteValue(file: String, tensor: String, index: Int, value: Float)

    /// The file, the tensor or field, and what was expected.
    public var errorDescription: String? {
        switch self {
        case let .unreadable(file, reason):
            "cannot read \(file): \(reason)"
        case let .truncated(file, expected, found):
            "\(file) is truncated: the header needs at least \(expected) bytes, the file has \(found). Hint: the file was probably cut short while copying or writing; save it again."
        case let .malformedHeader(file, reason):
            "\(file) is not a valid safetensors file: \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            "\(file): tensor '\(tensor)' has dtype \(dtype), expected F32. Hint: convert it, e.g. in PyTorch with tensor.float() before save_file."
        case let .offsetsOutOfBounds(file, tensor, begin, end, dataBytes):
            "\(file): tensor '\(tensor)' has data_offsets [\(begin), \(end)] outside the \(dataBytes)-byte data section"
        case let .sizeMismatch(file, tensor, shape, bytes):
            "\(file): tensor '\(tensor)' has shape \(shape) (\(Self.byteCount(shape).map { "\($0) bytes" } ?? "more bytes than a file can hold") of F32) but \(bytes) bytes of data"
        case let .missingTensor(file, tensor, available):
            "\(file) has no tensor '\(tensor)' (it has: \(available.sorted().joined(separator: ", "))). Hint: the checkpoint was made for a different architecture."
        case let .shapeMismatch(file, tensor, expected, found):
            "\(file): tensor '\(tensor)' has shape \(found), the model expects \(expected). Hint: check the layer sizes and latent size the model was created with."
        case let .writeFailed(file, reason):
            "cannot write \(file): \(reason)"
        case let .nonFiniteValue(file, tensor, index, value):
            "\(file): the model holds non-finite weights (tensor '\(tensor)' has \(value) at index \(index)); it cannot draw pictures or give figures. Hint: the training diverged or the file was damaged; use an earlier checkpoint or train again with a lower learning rate."
        }
    }

    /// The file the error is about.
    public var file: String {
        switch self {
        case let .unreadable(file, _), let .truncated(file, _, _), let .malformedHeader(file, _), let .unsupportedDType(file, _, _),
             let .offsetsOutOfBounds(file, _, _, _, _), let .sizeMismatch(file, _, _, _), let .missingTensor(file, _, _),
             let .shapeMismatch(file, _, _, _), let .writeFailed(file, _), let .nonFiniteValue(file, _, _, _):
            file
        }
    }

    /// The message without the file's name, for a caller that names the file itself.
    public var reason: String {
        let text = errorDescription ?? ""
        for prefix in [file + ": ", file + " "] where text.hasPrefix(prefix) { return String(text.dropFirst(prefix.count)) }
        return text
    }

    /// 4 bytes per element of `shape`, or nil when that overflows.
    public static func byteCount(_ shape: [Int]) -> Int? {
        var product = 4
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (value, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = value
        }
        return product
    }
}
