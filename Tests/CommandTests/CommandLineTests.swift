import Foundation
import Testing

/// The `vae` executable itself, run as a person would: bad input gets a clear message naming
/// what and where, a non-zero exit, and no output file.
@Suite struct CommandLineTests {
    /// The `vae` binary built beside this test bundle.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vae")

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theExecutableIsBuiltBesideTheTests() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "\(Self.executable.path)")
    }

    @Test func badInputIsNamedWithANonZeroExitAndNoOutputFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("samples.png").path

        let missing = try Self.run(["sample", "/nonexistent/run", "--out", out])
        #expect(missing.status == 1 && missing.output.contains("/nonexistent/run does not exist"))

        let text = folder.appendingPathComponent("model.safetensors")
        try Data("not a model".utf8).write(to: text)
        let notAModel = try Self.run(["reconstruct", text.path, "--out", out])
        #expect(notAModel.status == 1 && notAModel.output.contains(text.path))

        let badRange = try Self.run(["manifold", "/nonexistent/run", "--range=3,-3", "--out", out])
        #expect(badRange.status == 64 && badRange.output.contains("--range"))

        let badPreset = try Self.run(["train", "--preset", "no-such-preset"])
        #expect(badPreset.status == 64 && badPreset.output.contains("no-such-preset"))

        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }
}
