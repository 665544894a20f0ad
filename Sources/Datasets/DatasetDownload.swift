import Foundation
import Persistence
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads a dataset's four gzipped IDX files from a mirror and keeps each only when its
/// SHA-256 is the published one. Files are written atomically into the destination folder, so
/// an interrupted or corrupted download never leaves a file that looks complete.
public struct DatasetDownload: Sendable {
    /// The standard mirrors and the SHA-256 of each original file.
    public static func mirrors(for name: DatasetName) -> [URL] {
        switch name {
        case .mnist: [URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
                      URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/")!]
        case .fashionMNIST: [URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!]
        case .dsprites: []  // drawn by `vae data --make dsprites`, not downloaded
        }
    }

    /// The SHA-256 (lowercase hex) of each of the dataset's four original files, by file name.
    public static func checksums(for name: DatasetName) -> [String: String] {
        switch name {
        case .mnist: [  // the original files (the copies shipped in data/mnist were recompressed)
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ]
        case .fashionMNIST: [  // as in Debian's dataset-fashion-mnist package
            "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        ]
        case .dsprites: [:]
        }
    }

    /// The base URLs tried in order; each file name is appended to one.
    public let mirrors: [URL]
    /// The SHA-256 each file must have, by file name; these are the files downloaded.
    public let checksums: [String: String]
    /// Seconds without any data before a request is given up.
    public let timeout: TimeInterval
    /// Seconds a whole file may take, however steadily it trickles in.
    public let deadline: TimeInterval
    /// The largest file accepted, in bytes (the largest original is 26 MB).
    public let maximumBytes: Int

    /// A download of a known dataset from its standard mirrors (or `mirrors`), checked against its published checksums.
    public init(name: DatasetName, mirrors: [URL]? = nil, timeout: TimeInterval = 60, deadline: TimeInterval = 900, maximumBytes: Int = 1 << 28) {
        self.init(mirrors: mirrors ?? Self.mirrors(for: name), checksums: Self.checksums(for: name), timeout: timeout, deadline: deadline,
                  maximumBytes: maximumBytes)
    }

    /// A download of the files named in `checksums` from `mirrors`, each kept only when its SHA-256 matches.
    public init(mirrors: [URL], checksums: [String: String], timeout: TimeInterval = 60, deadline: TimeInterval = 900, maximumBytes: Int = 1 << 28) {
        self.mirrors = mirrors
        self.checksums = checksums
        self.timeout = timeout
        self.deadline = deadline
        self.maximumBytes = maximumBytes
    }

    /// Fetches every file not already present (with the right checksum) into `folder`.
    /// `report` receives one line per file. Tries each mirror in turn.
    /// A download that fails leaves nothing behind: temporary files are removed, and so is the
    /// folder when this call created it and no verified file landed in it.
    public func run(into folder: URL, report: (String) -> Void = { _ in }) throws(DownloadError) {
        let existed = FileManager.default.fileExists(atPath: folder.path)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: folder.path, reason: error.localizedDescription)
        }
        do {
            try fetchAll(into: folder, report: report)
        } catch {
            if !existed, (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: folder)
            }
            throw error
        }
    }

    private func fetchAll(into folder: URL, report: (String) -> Void) throws(DownloadError) {
        for (file, expected) in checksums.sorted(by: { $0.key < $1.key }) {
            let destination = folder.appendingPathComponent(file)
            if let present = try? SHA256.hex(ofFile: destination), present == expected {
                report("\(file): already present, SHA-256 verified")
                continue
            }
            var failures: [String] = []
            var done = false
            for mirror in mirrors where !done {
                let url = mirror.appendingPathComponent(file)
                let temporary = folder.appendingPathComponent(".\(file).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
                defer { unlink(temporary.path) }
                let bytes: Int
                do {
                    bytes = try fetch(url, to: temporary)
                } catch {
                    failures.append("\(url.absoluteString): \(error.reason)")
                    continue
                }
                let found = (try? SHA256.hex(ofFile: temporary)) ?? "unreadable"
                guard found == expected else {
                    failures.append("\(url.absoluteString): SHA-256 \(found), expected \(expected)")
                    continue
                }
                guard rename(temporary.path, destination.path) == 0 else {
                    throw .cannotWrite(path: destination.path, reason: describeErrno(errno))
                }
                report("\(file): \(bytes) bytes from \(mirror.absoluteString), SHA-256 verified")
                done = true
            }
            if !done { throw .failed(file: file, attempts: failures) }
        }
    }

    struct FetchFailure: Error { let reason: String }

    /// One HTTP GET, streamed into `file` (created), within `timeout` seconds of silence,
    /// `deadline` seconds in all and `maximumBytes`; returns the byte count.
    func fetch(_ url: URL, to file: URL) throws(FetchFailure) -> Int {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FetchFailure(reason: "cannot write \(file.path): \(describeErrno(errno))") }
        defer { close(descriptor) }
        let receiver = StreamingReceiver(descriptor: descriptor, limit: maximumBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = deadline
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let task = session.dataTask(with: request)
        task.resume()
        if receiver.finished.wait(timeout: .now() + deadline) == .timedOut {
            receiver.fail("the file did not arrive within \(Int(deadline)) s (it came too slowly)")
            task.cancel()
            _ = receiver.finished.wait(timeout: .now() + 10)
        }
        if let failure = receiver.failure { throw FetchFailure(reason: failure) }
        guard fsync(descriptor) == 0 else { throw FetchFailure(reason: "cannot write \(file.path): \(describeErrno(errno))") }
        return receiver.received
    }
}

/// Receives one response's body into a file descriptor, refusing more than `limit` bytes.
final class StreamingReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let descriptor: Int32
    let limit: Int
    let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private(set) var received = 0
    private var firstFailure: String?

    init(descriptor: Int32, limit: Int) {
        self.descriptor = descriptor
        self.limit = limit
    }

    var failure: String? { lock.withLock { firstFailure } }

    func fail(_ reason: String) { lock.withLock { if firstFailure == nil { firstFailure = reason } } }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            fail("HTTP status \(http.statusCode)")
            completionHandler(.cancel)
        } else if response.expectedContentLength > Int64(limit) {
            fail("the server announces \(response.expectedContentLength) bytes, more than the \(limit) bytes such a file may have")
            completionHandler(.cancel)
        } else {
            completionHandler(.allow)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        received += data.count
        guard received <= limit else {
            fail("the body is longer than the \(limit) bytes such a file may have")
            dataTask.cancel()
            return
        }
        let failed = data.withUnsafeBytes { bytes -> Int32 in
            var written = 0
            while written < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 { if errno == EINTR { continue }; return errno }
                written += count
            }
            return 0
        }
        if failed != 0 {
            fail("cannot write the download: \(describeErrno(failed))")
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error { fail(plainDescription(of: error)) }
        finished.signal()
    }
}

/// A dataset file could not be downloaded and verified.
public enum DownloadError: Error, LocalizedError, Equatable {
    case failed(file: String, attempts: [String])
    case cannotWrite(path: String, reason: String)

    /// The file, the mirrors tried and what went wrong with each.
    public var errorDescription: String? {
        switch self {
        case let .failed(file, attempts):
            "could not download \(file) with the expected SHA-256; tried: \(attempts.joined(separator: "; ")). Nothing was written for this file. Hint: without internet, copy the files into a folder and pass --data-dir."
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        }
    }
}
