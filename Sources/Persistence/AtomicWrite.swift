import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file could not be written.
public struct FileWriteError: Error, LocalizedError, Equatable {
    /// The file's path.
    public let path: String
    /// Why, in words a user can act on.
    public let reason: String

    /// "cannot write PATH: REASON".
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
        let code = errno
        throw FileWriteError(path: url.path, reason: describeErrno(code) + (code == ENOENT || code == EACCES ? " (is the folder there and writable?)" : ""))
    }
    var failure: String?
    data.withUnsafeBytes { bytes in
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                failure = describeErrno(errno)
                return
            }
            written += result
        }
        if fsync(descriptor) != 0 { failure = describeErrno(errno) }
    }
    close(descriptor)
    if failure == nil, rename(temporary.path, url.path) != 0 { failure = describeErrno(errno) }
    if let failure {
        unlink(temporary.path)
        throw FileWriteError(path: url.path, reason: failure)
    }
    // The rename itself reaches the disk with the folder's entry.
    let folderDescriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderDescriptor >= 0 {
        _ = fsync(folderDescriptor)
        close(folderDescriptor)
    }
}

/// Whether `name` is a temporary file `writeAtomically` makes (".<name>.<pid>.<n>.tmp").
public func isTemporaryFileName(_ name: String) -> Bool {
    name.hasPrefix(".") && name.hasSuffix(".tmp") && name.split(separator: ".").count >= 4
}

/// Removes the temporary files a killed writer left in `folder` (call it only while no other
/// process writes there, e.g. holding the folder's lock); returns their names.
@discardableResult
public func removeTemporaryFiles(in folder: URL) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
    return names.filter(isTemporaryFileName).sorted().filter { unlink(folder.appendingPathComponent($0).path) == 0 }
}
