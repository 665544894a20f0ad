import Foundation
import Persistence
#if canImport(Glibc)
import Glibc
#endif

/// The files of an image folder, found before anything is decoded: which split and class each
/// belongs to, and its identity on disk for the cache.
///
/// Layout: `train/` and `test/` subfolders when both exist, otherwise the folder itself with a
/// seeded held-out share as the test split. Inside a split, one subfolder per class (labels are
/// the sorted subfolder names) or the files directly (unlabelled). Names starting with "." are
/// ignored. Symbolic links are followed. Entries that cannot be images (a FIFO, a socket, a
/// device, a broken link, a name that is not UTF-8) are listed with their problem, so that they
/// are refused, or skipped with a message, without ever being opened.
struct ImageFolderListing {
    /// One file of the folder.
    struct Entry: Sendable {
        /// Its path relative to the root, for messages and the dataset's hash.
        let relativePath: String
        /// Its full path.
        let path: String
        /// Its class index, or nil in an unlabelled folder.
        let label: Int?
        /// The file (after following links) as the cache knows it: device, inode, size,
        /// modification and change times in nanoseconds.
        let identity: String
        /// Why it cannot be read as an image, found while listing; nil for a regular file.
        let problem: String?
    }

    var train: [Entry]
    /// The test split's files, or nil when the test split is a held-out share of `train`.
    var test: [Entry]?
    var classNames: [String]

    /// Every entry, train then test.
    var all: [Entry] { train + (test ?? []) }

    /// Lists the folder at `root`.
    /// - Throws: `ImageFolderError` naming the folder at fault.
    static func list(_ root: URL) throws(ImageFolderError) -> ImageFolderListing {
        var status = stat()
        guard stat(root.path, &status) == 0 else {
            throw ImageFolderError("\(root.path) does not exist (expected a folder of PNG or JPEG files)")
        }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFDIR else { throw ImageFolderError("\(root.path) is \(kind == S_IFREG ? "a file" : fileKindName(kind)), not a folder of images") }
        let top = try children(root)
        let hasTrain = top.folders.contains("train"), hasTest = top.folders.contains("test")
        if hasTrain && hasTest {
            let train = try split(root.appendingPathComponent("train"), relativeTo: root, classNames: nil)
            let test = try split(root.appendingPathComponent("test"), relativeTo: root, classNames: train.classNames)
            return ImageFolderListing(train: train.entries, test: test.entries, classNames: train.classNames)
        }
        if hasTrain != hasTest {
            let (present, missing) = hasTrain ? ("train", "test") : ("test", "train")
            throw ImageFolderError("\(root.path) has \(present)/ but no \(missing)/: a folder split by hand needs both train/ and test/ (or neither, for a seeded held-out test share); \(root.appendingPathComponent(missing).path) is missing")
        }
        let whole = try split(root, relativeTo: root, classNames: nil)
        return ImageFolderListing(train: whole.entries, test: nil, classNames: whole.classNames)
    }

    /// The files of one split folder: class subfolders, or files directly. `classNames` given:
    /// the split must use those classes (the test split of a train/test layout).
    static func split(_ folder: URL, relativeTo root: URL, classNames known: [String]?) throws(ImageFolderError)
        -> (entries: [Entry], classNames: [String]) {
        let content = try children(folder)
        if !content.folders.isEmpty && !content.files.isEmpty {
            throw ImageFolderError("\(folder.path) mixes files (\(content.files[0].name) ...) with class subfolders (\(content.folders[0]) ...): put every image in a class subfolder, or use no subfolders at all")
        }
        if content.folders.isEmpty {
            if let known, !known.isEmpty { throw ImageFolderError("\(folder.path) has no class subfolders, but the train split has classes \(known.joined(separator: ", "))") }
            return (content.files.map { entry($0, in: folder, root: root, label: nil) }, [])
        }
        let names = content.folders
        if let known, let stranger = names.first(where: { !known.contains($0) }) {
            throw ImageFolderError("\(folder.appendingPathComponent(stranger).path): class '\(stranger)' is not among the train split's classes (\(known.joined(separator: ", ")))")
        }
        let classNames = known ?? names
        var entries: [Entry] = []
        for name in names {
            let classFolder = folder.appendingPathComponent(name)
            let inner = try children(classFolder)
            if let nested = inner.folders.first { throw ImageFolderError("\(classFolder.appendingPathComponent(nested).path): class folders hold image files, not further folders") }
            let label = classNames.firstIndex(of: name)!
            entries += inner.files.map { entry($0, in: classFolder, root: root, label: label) }
        }
        return (entries, classNames)
    }

    /// A name found in a folder, with what `stat` (following links) says of it.
    struct Child {
        let name: String
        let status: stat?
        let problem: String?
    }

    /// The folder's subfolders (by name) and other entries, sorted, hidden names left out.
    /// Names are read as bytes: a file name that is not UTF-8 is listed with a problem naming it
    /// (escaped); a folder name that is not UTF-8 is refused.
    static func children(_ folder: URL) throws(ImageFolderError) -> (folders: [String], files: [Child]) {
        guard let directory = opendir(folder.path) else { throw ImageFolderError("cannot list \(folder.path): \(describeErrno(errno))") }
        defer { closedir(directory) }
        var found: [(name: String, bytes: [UInt8]?)] = []
        while let item = readdir(directory) {
            let bytes = withUnsafeBytes(of: item.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if bytes.first == UInt8(ascii: ".") { continue }
            if let name = String(validating: bytes, as: UTF8.self) { found.append((name, nil)) } else { found.append((escaped(bytes), bytes)) }
        }
        var folders: [String] = [], files: [Child] = []
        for (name, rawBytes) in found.sorted(by: { $0.name < $1.name }) {
            if let rawBytes {
                var status = stat()
                let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + rawBytes + [0]
                let isFolder = path.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { stat($0.baseAddress!, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR }
                }
                if isFolder {
                    throw ImageFolderError("\(folder.path)/\(name): the folder's name is not UTF-8 text (bytes shown escaped); rename it (for example with convmv) so its class has a name")
                }
                files.append(Child(name: name, status: nil, problem: "its name is not UTF-8 text (bytes shown escaped); rename it, for example with convmv"))
                continue
            }
            var status = stat()
            let path = folder.appendingPathComponent(name).path
            if stat(path, &status) != 0 {
                let code = errno
                var link = stat()
                let broken = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
                files.append(Child(name: name, status: nil, problem: broken ? "it is a broken symbolic link" : describeErrno(code)))
                continue
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: folders.append(name)
            case S_IFREG: files.append(Child(name: name, status: status, problem: nil))
            case let kind: files.append(Child(name: name, status: status, problem: "it is \(fileKindName(kind)), not a regular file"))
            }
        }
        return (folders, files)
    }

    static func entry(_ child: Child, in folder: URL, root: URL, label: Int?) -> Entry {
        let path = folder.path + "/" + child.name
        let relative = String(path.dropFirst(root.path.count + 1))
        var problem = child.problem
        if problem == nil, !ImageFolder.imageExtensions.contains(URL(fileURLWithPath: child.name).pathExtension.lowercased()) {
            problem = "its name does not end in .png, .jpg or .jpeg (only PNG and JPEG files are read)"
        }
        let identity = child.status.map { s in
            "\(s.st_dev):\(s.st_ino):\(s.st_size):\(s.st_mtim.tv_sec).\(s.st_mtim.tv_nsec):\(s.st_ctim.tv_sec).\(s.st_ctim.tv_nsec)"
        } ?? "unreadable"
        return Entry(relativePath: relative, path: path, label: label, identity: identity, problem: problem)
    }

    /// A name's bytes with every byte outside printable ASCII written as \xHH.
    static func escaped(_ bytes: [UInt8]) -> String {
        bytes.map { (0x20..<0x7F).contains($0) && $0 != UInt8(ascii: "\\") ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
    }
}
