import Foundation

/// A Foundation error in words a user can act on (Foundation's own text for file errors is
/// "The operation could not be completed" with a domain and a number).
public func plainDescription(of error: any Error) -> String {
    if let error = error as? FileWriteError { return error.reason }
    if let error = error as? FileReadError { return error.reason }
    let nsError = error as NSError
    if nsError.domain == NSCocoaErrorDomain {
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return describeErrno(Int32(underlying.code))
        }
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteFileExists: return "a file of that name is in the way"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "the file system is read-only"
        case .fileReadCorruptFile: return "its content is not what was expected"
        default: return "file error \(nsError.code) (\(nsError.localizedDescription))"
        }
    }
    if nsError.domain == NSURLErrorDomain {
        switch nsError.code {
        case NSURLErrorTimedOut: return "the server did not answer in time"
        case NSURLErrorCannotConnectToHost: return "the connection was refused"
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed: return "the host name is not known (is there a network?)"
        case NSURLErrorNotConnectedToInternet, NSURLErrorNetworkConnectionLost: return "no network connection"
        case NSURLErrorCancelled: return "the request was cancelled"
        case NSURLErrorBadServerResponse: return "the server's answer was not valid HTTP"
        default: return "network error \(nsError.code) (\(nsError.localizedDescription))"
        }
    }
    return error.localizedDescription
}

/// A JSON decoding error as "field.path: what was expected" (Foundation's text names neither plainly).
public enum JSONDecoding {
    /// `data`: the bytes that failed to decode, to find the field when the decoder names none
    /// (Foundation reports a negative number in an unsigned field as "not valid JSON").
    public static func describe(_ error: any Error, data: Data? = nil) -> String {
        guard let error = error as? DecodingError else { return "it is not valid JSON (\(error.localizedDescription))" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case let .typeMismatch(type, context):
            return "\(path(context)): expected \(expectation(type)) (\(context.debugDescription))"
        case let .valueNotFound(type, context):
            return "\(path(context)): expected \(expectation(type)), found null"
        case let .keyNotFound(key, context):
            let place = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "the field '\(key.stringValue)'\(place) is missing"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                guard let data, let tree = try? JSONSerialization.jsonObject(with: data) else { return "it is not valid JSON" }
                if let (path, number) = unfitNumber(in: tree, path: []) {
                    return "\(path.isEmpty ? "the top level" : path.joined(separator: ".")): expected a non-negative integer, got \(number)"
                }
                return "a value does not fit its field (\(context.debugDescription))"
            }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func expectation(_ type: Any.Type) -> String {
        switch type {
        case is UInt64.Type, is UInt32.Type, is UInt.Type: "a non-negative integer"
        case is Int.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }

    /// The first integer in `tree` that no unsigned 64-bit field can hold (negative, or beyond
    /// 2^64), with its path.
    static func unfitNumber(in tree: Any, path: [String]) -> ([String], String)? {
        if let object = tree as? [String: Any] {
            for key in object.keys.sorted() {
                if let found = unfitNumber(in: object[key]!, path: path + [key]) { return found }
            }
        } else if let array = tree as? [Any] {
            for (index, element) in array.enumerated() {
                if let found = unfitNumber(in: element, path: path.dropLast() + ["\(path.last ?? "")[\(index)]"]) { return found }
            }
        } else if let number = tree as? NSNumber {
            let value = number.doubleValue
            if value == value.rounded() && (value < 0 || value >= 18_446_744_073_709_551_616) { return (path, number.stringValue) }
        }
        return nil
    }
}
