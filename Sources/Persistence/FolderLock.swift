import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a folder could not be locked.
public enum FolderLockError: Error, LocalizedError, Equatable {
    /// Another process holds the lock; `process` is its id as it wrote it (nil when unknown).
    case inUse(path: String, process: Int32?)
    case failed(path: String, reason: String)

    /// The folder and, for `.inUse`, the process that holds it.
    public var errorDescription: String? {
        switch self {
        case let .inUse(path, process):
            "\(path) is in use by \(process.map { "process \($0)" } ?? "another process") (it holds the lock on \(FolderLock.fileName)); wait for it to finish or stop it first"
        case let .failed(path, reason):
            "cannot lock \(path): \(reason)"
        }
    }
}

/// An exclusive advisory lock on a folder: `flock(2)` on the file `.lock` inside it, which
/// also records the holder's process id. The lock lasts as long as this value (or the
/// process: the kernel drops it when the process ends, however it ends, so a killed run never
/// leaves a folder locked). A second process asking for it gets `.inUse` at once.
public final class FolderLock {
    /// The lock file's name inside the folder.
    public static let fileName = ".lock"
    /// The locked folder.
    public let folder: URL
    private var descriptor: Int32

    /// Takes the lock of `folder` (creating its lock file), held until this object is released.
    /// - Throws: `FolderLockError.inUse` at once when another process holds it; `.failed` when the
    /// lock file cannot be created.
    public init(_ folder: URL) throws(FolderLockError) {
        self.folder = folder
        let path = folder.appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .failed(path: folder.path, reason: describeErrno(errno)) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var bytes = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &bytes, bytes.count, 0)
            close(descriptor)
            guard code == EWOULDBLOCK else { throw .failed(path: folder.path, reason: describeErrno(code)) }
            let text = count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : ""
            throw .inUse(path: folder.path, process: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let text = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    /// Whether another process holds the lock on `folder` now, and its process id if it wrote
    /// one (`.some(nil)`: held, id unknown); nil when nobody holds it. Takes nothing.
    public static func holder(of folder: URL) -> Int32?? {
        let descriptor = open(folder.appendingPathComponent(fileName).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        let text = count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : ""
        return .some(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Gives the lock up (also done when the value goes away). The lock belongs to the open
    /// file description, which a child forked meanwhile shares until it runs `exec` (or exits):
    /// closing our descriptor alone would leave the folder locked through the child's copy, so
    /// the lock is dropped explicitly first (`LOCK_UN` releases it for every copy).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
