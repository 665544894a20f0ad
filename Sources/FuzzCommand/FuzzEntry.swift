import Foundation
import FuzzTargets

// Built two ways (see scripts/fuzz.sh):
// - with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer's entry point; the target is named by
//   $VAE_FUZZ_TARGET, and the executable's entry (SwiftPM names it FuzzCommand_main) hands
//   the command line to libFuzzer's driver (or, with $VAE_FUZZ_WRITE_SEEDS set to a folder,
//   writes the seeds there);
// - plainly: `vae-fuzz seeds DIR` writes each target's seed inputs into DIR/<target>/, and
//   `vae-fuzz replay TARGET FILE...` feeds saved inputs (a corpus, crash inputs) to a target.

/// Each target's seed inputs into `folder/<target>/seed-<name>`.
func writeSeeds(into folder: String) {
    for target in FuzzTarget.allCases {
        let subfolder = URL(fileURLWithPath: folder).appendingPathComponent(target.rawValue)
        try? FileManager.default.createDirectory(at: subfolder, withIntermediateDirectories: true)
        for (name, data) in target.seeds { try? data.write(to: subfolder.appendingPathComponent("seed-" + name)) }
    }
}

#if FUZZING
nonisolated(unsafe) let selectedTarget: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["VAE_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        fatalError("set VAE_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    selectedTarget.run(count == 0 ? Data() : Data(bytes: bytes!, count: count))
    return 0
}

public typealias Arguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<Arguments?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("FuzzCommand_main")
public func fuzzMain(_ argc: Int32, _ argv: Arguments?) -> Int32 {
    if let folder = ProcessInfo.processInfo.environment["VAE_FUZZ_WRITE_SEEDS"] {
        writeSeeds(into: folder)
        return 0
    }
    var count = argc, values = argv
    return runFuzzerDriver(&count, &values) { fuzzOneInput($0, $1) }
}
#else
@main
struct FuzzCommand {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let usage = "usage: vae-fuzz seeds DIR | vae-fuzz replay TARGET FILE... (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))"
        switch arguments.first {
        case "seeds" where arguments.count == 2:
            writeSeeds(into: arguments[1])
        case "replay" where arguments.count >= 2:
            guard let target = FuzzTarget(rawValue: arguments[1]) else {
                print(usage)
                exit(2)
            }
            var count = 0
            for path in arguments.dropFirst(2) {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                target.run(data)
                count += 1
            }
            print("\(target.rawValue): \(count) inputs replayed, none crashed")
        default:
            print(usage)
            exit(2)
        }
    }
}
#endif
