import Foundation
import Testing

/// Every subcommand's `--help` against the text recorded in `Tests/CommandTests/Help/` (as
/// swift-argument-parser's own examples test theirs): a changed option, default or wording shows
/// up as a failing test and a reviewable diff. After a deliberate change, record the new texts
/// with `VAE_RECORD_HELP=1 swift test -c release --filter HelpSnapshotTests`.
@Suite struct HelpSnapshotTests {
    static let commands: [[String]] = [
        [], ["train"], ["train-prior"], ["eval"], ["score"], ["reconstruct"], ["sample"], ["encode"], ["scatter"], ["manifold"], ["interpolate"], ["traverse"], ["explore"],
        ["curves"], ["compare"], ["sweep"], ["normalize"], ["classify"], ["presets"], ["data"], ["bench"], ["bench", "kernels"], ["bench", "train"],
        ["bench", "affine"], ["bench", "conv"], ["bench", "pytorch"], ["bench", "allreduce"], ["demo"],
    ]
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Help")

    @Test(arguments: commands)
    func helpMatchesItsSnapshot(command: [String]) throws {
        let result = try Tool.run(command + ["--help"])
        #expect(result.status == 0, "\(result.output)")
        let file = Self.folder.appendingPathComponent((["vae"] + command).joined(separator: "-") + ".txt")
        if ProcessInfo.processInfo.environment["VAE_RECORD_HELP"] == "1" {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            try result.output.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOf: file, encoding: .utf8)
        #expect(result.output == recorded, "`vae \(command.joined(separator: " ")) --help` differs from \(file.path); if the change is meant, record it (see HelpSnapshotTests)")
    }

    @Test func everySubcommandIsSnapshotted() throws {
        let listed = try Tool.run(["--help"]).output
        let section = listed.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let names = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), line.dropFirst(2).first?.isLowercase == true else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
        #expect(!names.isEmpty)
        for name in names { #expect(Self.commands.contains([name]), "`vae \(name)` has no help snapshot") }
    }
}
