import Foundation
import Testing

/// `vae explore` as a person starts it: it prints its address, answers, refuses bad options and a
/// port already taken with a message, and stops cleanly on Ctrl-C (SIGINT).
@Suite struct ExploreCommandTests {
    /// Reads the server's output until its address appears (or `seconds` pass).
    static func address(of output: Pipe, seconds: Double = 60) -> (url: String?, text: String) {
        var text = ""
        let deadline = Date().addingTimeInterval(seconds)
        let handle = output.fileHandleForReading
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: #"http://127\.0\.0\.1:\d+/"#, options: .regularExpression) { return (String(text[range]), text) }
        }
        return (nil, text)
    }

    @Test func theServerAnswersRefusesATakenPortAndStopsOnCtrlC() throws {
        let scratch = try ScratchFolder("explore")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 1)).status == 0)
        let dataDir = ["--data-dir", data.path]

        let server = try Tool.start(["explore", run, "--port", "0"] + dataDir)
        defer { if server.process.isRunning { server.process.terminate() } }
        let (found, text) = Self.address(of: server.output)
        let url = try #require(found, "no address printed: \(text)")
        let answer = try Data(contentsOf: URL(string: url + "api/model")!)
        #expect(String(decoding: answer, as: UTF8.self).contains("\"latentSize\":2"))

        // A second server on the same port: a message and a non-zero exit, not a crash.
        let port = String(url.split(separator: ":").last!.dropLast())
        let second = try Tool.run(["explore", run, "--port", port] + dataDir)
        #expect(second.status != 0 && second.output.contains("cannot serve on 127.0.0.1:\(port): the address is already in use"), "\(second.output)")
        #expect(!second.output.contains("Fatal error"), "\(second.output)")

        kill(server.process.processIdentifier, SIGINT)
        server.process.waitUntilExit()
        let rest = String(decoding: server.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(server.process.terminationStatus == 0, "\(rest)")
        #expect(rest.contains("stopped"), "\(rest)")
    }

    @Test(arguments: [
        (["--port", "70000"], "--port must be 0...65535"), (["--port", "-1"], "--port must be 0...65535"),
        (["--test-images", "0"], "--test-images must be at least 1"), (["--host", ""], "--host must be"),
    ])
    func badOptionsAreRefusedBeforeAnythingStarts(options: [String], expected: String) throws {
        let result = try Tool.run(["explore", "no-such-run"] + options)
        #expect(result.status != 0 && result.output.contains(expected), "\(result.output)")
    }

    @Test func aRunThatDoesNotExistIsNamed() throws {
        let result = try Tool.run(["explore", "no-such-run", "--port", "0"])
        #expect(result.status != 0 && result.output.contains("no-such-run"), "\(result.output)")
    }
}
