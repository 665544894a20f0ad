import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scratch folder removed when the test ends.
final class ScratchFolder {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The folder `data` inside, holding the tiny MNIST-format dataset (`TinyDataset`).
    func tinyDataset() throws -> URL {
        let data = url.appendingPathComponent("data")
        try TinyDataset.write(to: data)
        return data
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A small dataset in the MNIST IDX format (raw, not gzipped), so that a whole training run
/// of the `vae` binary takes a fraction of a second: `train` and `test` images of `side` x
/// `side` pixels, strokes drawn from a fixed pattern, labels 0...9.
enum TinyDataset {
    static func write(to folder: URL, train: Int = 48, test: Int = 16, side: Int = 6) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func images(_ count: Int, offset: Int) -> [UInt8] {
            var bytes: [UInt8] = [0, 0, 8, 3] + word(count) + word(side) + word(side)
            for index in 0..<count {
                for pixel in 0..<(side * side) {
                    let (x, y) = (pixel % side, pixel / side)
                    bytes.append((x + y + index + offset) % 4 == 0 || (x * y + index) % 7 == 0 ? 255 : 0)
                }
            }
            return bytes
        }
        func labels(_ count: Int) -> [UInt8] { [0, 0, 8, 1] + word(count) + (0..<count).map { UInt8($0 % 10) } }
        try Data(images(train, offset: 0)).write(to: folder.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(labels(train)).write(to: folder.appendingPathComponent("train-labels-idx1-ubyte"))
        try Data(images(test, offset: 1)).write(to: folder.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(labels(test)).write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    static func word(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * (3 - $0))) & 0xFF) } }
}

/// The `vae` binary built beside this test bundle, run as a person would.
enum Tool {
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vae")

    /// Runs `vae` (or `program`, such as `mpirun`, found on the PATH) to its end.
    static func run(_ arguments: [String], in folder: URL? = nil, program: String? = nil) throws -> (status: Int32, output: String) {
        let process = try start(arguments, in: folder, program: program)
        let data = process.output.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return (process.process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `vae` (or `program`, found on the PATH) without waiting (standard output and error
    /// into one pipe).
    static func start(_ arguments: [String], in folder: URL? = nil, program: String? = nil) throws -> (process: Process, output: Pipe) {
        let process = Process()
        process.executableURL = program == nil ? executable : URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (program.map { [$0] } ?? []) + arguments
        if let folder { process.currentDirectoryURL = folder }
        var environment = ProcessInfo.processInfo.environment
        environment["VAE_DATA_DIR"] = nil
        environment["COLUMNS"] = "100"  // help text wraps the same way in every terminal
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, pipe)
    }

    /// `vae train` arguments for a small, fast MLP run on the tiny dataset in `data`.
    static func trainArguments(data: URL, out: String, epochs: Int = 3, seed: Int = 5) -> [String] {
        ["train", "--preset", "pytorch-example", "--data-dir", data.path, "--out", out, "--epochs", String(epochs), "--seed", String(seed),
         "--batch-size", "16", "--hidden-sizes", "8", "--latent-size", "2"]
    }
}

extension Data {
    /// The metrics.csv columns that do not time anything (epoch and the losses).
    static func lossColumns(ofMetrics url: URL) -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(8).joined(separator: ",") }
    }
}
