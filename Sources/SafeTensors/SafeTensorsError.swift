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
            "\(file): tensor '\(tensor)' has shape \(shape) (\(shape.reduce(1, *) * 4) bytes of F32) but \(bytes) bytes of data"
        case let .missingTensor(file, tensor, available):
            "\(file) has no tensor '\(tensor)' (it has: \(available.sorted().joined(separator: ", "))). Hint: the checkpoint was made for a different architecture."
        case let .shapeMismatch(file, tensor, expected, found):
            "\(file): tensor '\(tensor)' has shape \(found), the model expects \(expected). Hint: check the layer sizes and latent size the model was created with."
        case let .writeFailed(file, reason):
            "cannot write \(file): \(reason)"
        }
    }
}
