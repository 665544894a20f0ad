import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file could not be written.
public struct FileWriteError: Error, LocalizedError, Equatable {
    public let path: String
    public let reason: String

    public var errorDescription: String? { "cannot write \(path): \(reason)" }
}

/// Writes `data` to `url` atomically: to a temporary file in the same folder, flushed, then
/// renamed over the destination. A reader sees the old file or the whole new one, never a
/// part, and an interrupted write leaves the old file in place.
public func writeAtomically(_ data: Data, to url: URL) throws(FileWriteError) {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
    let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else {
        throw FileWriteError(path: url.path, reason: String(cString: strerror(errno)) + " (is the folder there and writable?)")
    }
    var failure: String?
    data.withUnsafeBytes { bytes in
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                return
            }
            written += result
        }
        if fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
    }
    close(descriptor)
    if failure == nil, rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
    if let failure {
        unlink(temporary.path)
        throw FileWriteError(path: url.path, reason: failure)
    }
}
