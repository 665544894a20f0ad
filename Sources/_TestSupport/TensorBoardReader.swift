import Foundation

/// The event files as TensorBoard's own reader sees them (scripts/read-events.py).
public enum TensorBoardReader {
    /// The repository's root (three folders above this file).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A Python that imports tensorboard: $VAE_TENSORBOARD_PYTHON, the one the install script
    /// makes (.build/tensorboard-python), or python3 on the PATH.
    public static var python: String? {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["VAE_TENSORBOARD_PYTHON"],
                          root.appendingPathComponent(".build/tensorboard-python/bin/python3").path, "/usr/bin/python3", "python3"]
        for case let candidate? in candidates {
            if let result = try? run(candidate, ["-c", "import tensorboard"]), result.status == 0 { return candidate }
        }
        return nil
    }

    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// Why the reader gave nothing.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// What the reader finds in `folder` (see scripts/read-events.py).
    /// - Throws: `Failure` when TensorBoard is not installed (naming the fix) or the reader fails.
    public static func read(_ folder: URL) throws -> [String: Any] {
        guard let python else {
            throw Failure(description: "TensorBoard's reader is not installed: run `bash scripts/install-dependencies.sh --test` (or set VAE_TENSORBOARD_PYTHON)")
        }
        let result = try run(python, [root.appendingPathComponent("scripts/read-events.py").path, folder.path])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: result.output) as? [String: Any] else {
            throw Failure(description: "scripts/read-events.py failed on \(folder.path) (status \(result.status))")
        }
        return object
    }

    /// The scalars of `tag`: (step, value) pairs.
    public static func scalars(_ read: [String: Any], _ tag: String) -> [(step: Int, value: Double)] {
        ((read["scalars"] as? [String: Any])?[tag] as? [[Double]] ?? []).map { (Int($0[0]), $0[1]) }
    }
}

