import Datasets
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 file server on 127.0.0.1 (an ephemeral port) for download tests: it
/// answers GET /<name> with the bytes given for that name, and 404 otherwise.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let socketDescriptor: Int32
    private let files: [String: [UInt8]]
    private(set) var requests: [String] = []
    private let lock = NSLock()
    /// How the body is sent: at once, one byte every so many seconds, or without end.
    enum Pace { case atOnce, trickle(seconds: Double), endless }
    private let pace: Pace

    init(files: [String: [UInt8]], pace: Pace = .atOnce) throws {
        self.files = files
        self.pace = pace
        signal(SIGPIPE, SIG_IGN)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        socketDescriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, listen(descriptor, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in serve() }.start()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    func stop() {
        shutdown(socketDescriptor, Int32(SHUT_RDWR))
        close(socketDescriptor)
    }

    private func serve() {
        while true {
            let client = accept(socketDescriptor, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var received: [UInt8] = []
            while !received.containsCRLFCRLF {
                let count = read(client, &buffer, buffer.count)
                if count <= 0 { break }
                received += buffer[0..<count]
            }
            let requestLine = String(decoding: received, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
            let path = requestLine.split(separator: " ").dropFirst().first.map { String($0.dropFirst()) } ?? ""
            lock.withLock { requests.append(path) }
            let body = files[path]
            let header = body.map { "HTTP/1.0 200 OK\r\nContent-Length: \($0.count)\r\nConnection: close\r\n\r\n" }
                ?? "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            switch pace {
            case .atOnce: break
            case let .trickle(seconds):
                Thread { [self] in
                    var sent = Array(header.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) } > 0
                    for byte in body ?? [] where sent {
                        Thread.sleep(forTimeInterval: seconds)
                        sent = [byte].withUnsafeBytes { write(client, $0.baseAddress, 1) } == 1
                        _ = self
                    }
                    close(client)
                }.start()
                continue
            case .endless:
                Thread {
                    let chunk = [UInt8](repeating: 0x42, count: 1 << 16)
                    var sent = Array("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n".utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) } > 0
                    while sent { sent = chunk.withUnsafeBytes { write(client, $0.baseAddress, $0.count) } > 0 }
                    close(client)
                }.start()
                continue
            }
            let response = Array(header.utf8) + (body ?? [])
            var sent = 0
            while sent < response.count {
                let count = response[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                sent += count
            }
            close(client)
        }
    }
}

extension Array where Element == UInt8 {
    var containsCRLFCRLF: Bool {
        count >= 4 && (0...(count - 4)).contains { self[$0] == 13 && self[$0 + 1] == 10 && self[$0 + 2] == 13 && self[$0 + 3] == 10 }
    }
}

@Suite(.serialized) struct DatasetDownloadTests {
    var good: [UInt8] { Array("the right bytes".utf8) }
    var bad: [UInt8] { Array("tampered bytes".utf8) }

    @Test func aFileWithThePublishedChecksumIsKept() throws {
        let server = try LoopbackServer(files: ["a.gz": good])
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("download-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var lines: [String] = []
        try DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 10)
            .run(into: folder) { lines.append($0) }
        #expect(try Data(contentsOf: folder.appendingPathComponent("a.gz")) == Data(good))
        #expect(lines.count == 1 && lines[0].contains("SHA-256 verified"))
        // A second run finds the file and fetches nothing.
        try DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 10)
            .run(into: folder) { lines.append($0) }
        #expect(lines.last!.contains("already present"))
        #expect(server.requests == ["a.gz"])
    }

    @Test func aFileWithTheWrongChecksumIsRejectedAndNotWritten() throws {
        let server = try LoopbackServer(files: ["a.gz": bad])
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("download-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = SHA256.hex(good)
        do {
            try DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": expected], timeout: 10).run(into: folder)
            Issue.record("expected a checksum failure")
        } catch {
            let message = error.localizedDescription
            #expect(message.contains("a.gz"))
            #expect(message.contains(expected))
            #expect(message.contains(SHA256.hex(bad)))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.gz").path))
        #expect(!FileManager.default.fileExists(atPath: folder.path), "a failed download into a new folder leaves no folder behind")
    }

    @Test func aFailedDownloadKeepsAFolderThatWasThereBefore() throws {
        let server = try LoopbackServer(files: ["a.gz": bad])
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("download-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: DownloadError.self) {
            try DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 10).run(into: folder)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func aMissingFileFallsBackToTheNextMirror() throws {
        let empty = try LoopbackServer(files: [:])
        let full = try LoopbackServer(files: ["a.gz": good])
        defer { empty.stop(); full.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("download-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try DatasetDownload(mirrors: [empty.baseURL, full.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 10).run(into: folder)
        #expect(try Data(contentsOf: folder.appendingPathComponent("a.gz")) == Data(good))
        #expect(empty.requests == ["a.gz"])
    }

    @Test func aBodyLargerThanTheLimitIsRefusedAndNothingIsKept() throws {
        let server = try LoopbackServer(files: [:], pace: .endless)
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("endless-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let download = DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 5, deadline: 30,
                                       maximumBytes: 1 << 20)
        #expect { try download.run(into: folder) } throws: { error in
            "\(error.localizedDescription)".contains("longer than the 1048576 bytes")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path), "a failed download into a new folder leaves no folder behind")
    }

    @Test func aTrickleIsCutOffAtTheDeadline() throws {
        let server = try LoopbackServer(files: ["a.gz": good], pace: .trickle(seconds: 0.5))
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trickle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Each byte comes within the idle timeout, but the whole would take 7.5 s.
        let download = DatasetDownload(mirrors: [server.baseURL], checksums: ["a.gz": SHA256.hex(good)], timeout: 5, deadline: 2)
        let started = Date()
        #expect { try download.run(into: folder) } throws: { error in
            "\(error.localizedDescription)".contains("did not arrive within 2 s")
        }
        #expect(Date().timeIntervalSince(started) < 6)
        #expect(!FileManager.default.fileExists(atPath: folder.path), "an interrupted download leaves nothing behind")
    }
}
