import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file could not be read. `reason` says why in words a user can act on ("no such file",
/// "it is a folder, not a file", "permission denied", "it is larger than ... bytes").
public struct FileReadError: Error, LocalizedError, Equatable {
    /// The file's path.
    public let path: String
    /// Why, in words a user can act on.
    public let reason: String

    /// An error about the file at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "cannot read PATH: REASON".
    public var errorDescription: String? { "cannot read \(path): \(reason)" }
}

/// The whole of the regular file at `url`, refusing folders, devices and files larger than
/// `maximumBytes` (read with plain `read(2)`, so no error comes back as a Foundation code).
public func readFile(_ url: URL, maximumBytes: Int = 1 << 34) throws(FileReadError) -> Data {
    let path = url.path
    // O_NONBLOCK: opening a FIFO with no writer (or a device) must not wait; it is refused below.
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else { throw FileReadError(path: path, reason: describeErrno(errno)) }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw FileReadError(path: path, reason: describeErrno(errno)) }
    let kind = status.st_mode & S_IFMT
    if kind == S_IFDIR { throw FileReadError(path: path, reason: "it is a folder, not a file") }
    guard kind == S_IFREG else { throw FileReadError(path: path, reason: "it is \(fileKindName(kind)), not a regular file") }
    let size = Int(status.st_size)
    guard size <= maximumBytes else {
        throw FileReadError(path: path, reason: "it is \(size) bytes, more than the \(maximumBytes) bytes such a file may have")
    }
    var data = Data(count: size)
    var done = 0
    var failure: Int32 = 0
    data.withUnsafeMutableBytes { raw in
        while done < size {
            let count = read(descriptor, raw.baseAddress! + done, size - done)
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            if count == 0 { break }  // the file shrank while being read
            done += count
        }
    }
    if failure != 0 { throw FileReadError(path: path, reason: describeErrno(failure)) }
    if done < size { data.removeSubrange(done...) }
    return data
}

/// `errno` in words, with the common cases phrased for a person.
public func describeErrno(_ code: Int32) -> String {
    switch code {
    case ENOENT: "no such file or folder"
    case EACCES, EPERM: "permission denied"
    case EISDIR: "it is a folder, not a file"
    case ENOTDIR: "a part of the path is a file, not a folder"
    case ENOSPC: "no space left on the device"
    case EROFS: "the file system is read-only"
    case EEXIST: "it already exists"
    default: String(cString: strerror(code))
    }
}

/// "a FIFO", "a socket", "a device" for a `stat` file type.
public func fileKindName(_ kind: mode_t) -> String {
    switch kind {
    case S_IFIFO: "a FIFO (named pipe)"
    case S_IFSOCK: "a socket"
    case S_IFCHR, S_IFBLK: "a device"
    case S_IFDIR: "a folder"
    case S_IFLNK: "a symbolic link"
    default: "not a regular file"
    }
}
