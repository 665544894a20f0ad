import ArgumentParser
import Foundation
import Runs
import Synchronization

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one run per value of a setting (a grid for several), then compare them.",
        discussion: """
        Each --set NAME=V1,V2,... names a `vae train` option (without its dashes) and the values it takes; several \
        --set make a grid of every combination. The other options are `vae train`'s, shared by every run. Each run \
        trains into OUT/NAME-VALUE (NAME1-VALUE1_NAME2-VALUE2 for a grid), its console output in OUT/NAME-VALUE.log; \
        every combination is checked as `vae train` would check it before the first starts. --parallel N trains N \
        runs at once in separate processes, the machine's cores divided among them (default: one after another). \
        A run folder that exists already is resumed, so the same command continues an interrupted sweep. At the end, \
        OUT/comparison.png and the table of `vae compare`.

        Example: vae sweep --set beta=0.5,1,2,4 --preset conv-mnist --epochs 10 --out runs/beta
        """)

    @Option(name: .customLong("set"), help: ArgumentHelp("A `vae train` option and its values, NAME=V1,V2,...; repeat for a grid.", valueName: "name=values"))
    var settings: [String] = []
    @Option(help: "The folder of the runs and of the comparison.") var out: String
    @Option(help: "Runs trained at once, each in its own process (1: one after another).") var parallel = 1
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("`vae train` options every run shares, e.g. --preset conv-mnist --epochs 10.", valueName: "train options"))
    var trainOptions: [String] = []

    /// One run of the sweep: its name and the options that make it.
    struct Member: Equatable {
        let name: String
        let options: [String]
    }

    /// The settings as (option, values) pairs.
    func parsedSettings() throws -> [(name: String, values: [String])] {
        guard !settings.isEmpty else { throw ValidationError("give at least one --set NAME=V1,V2,... (for example --set beta=0.5,1,2,4)") }
        var parsed: [(name: String, values: [String])] = []
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !parts[0].hasPrefix("-") else {
                throw ValidationError("--set \(setting): expected NAME=V1,V2,... with NAME a `vae train` option without its dashes (e.g. beta=0.5,1,2)")
            }
            let values = parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard values.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
                throw ValidationError("--set \(setting): every value must be non-empty and free of '/', got '\(parts[1])'")
            }
            guard Set(values).count == values.count else { throw ValidationError("--set \(setting): a value is given twice") }
            guard !["out", "resume", "blas-threads"].contains(parts[0]) else {
                throw ValidationError("--set \(parts[0]): the sweep sets --\(parts[0]) itself; choose a training setting")
            }
            guard !parsed.contains(where: { $0.name == parts[0] }) else { throw ValidationError("--set \(parts[0]) is given twice; list all its values in one") }
            parsed.append((parts[0], values))
        }
        return parsed
    }

    /// Every combination of the settings' values, in the order given (the last setting varies fastest).
    func members() throws -> [Member] {
        var members = [Member(name: "", options: [])]
        for (name, values) in try parsedSettings() {
            members = members.flatMap { member in
                values.map { value in
                    Member(name: member.name.isEmpty ? "\(name)-\(value)" : "\(member.name)_\(name)-\(value)", options: member.options + ["--\(name)", value])
                }
            }
        }
        return members
    }

    /// The shared options with the names the sweep keeps for itself refused.
    func sharedOptions() throws -> [String] {
        for option in trainOptions where ["--out", "--resume", "--blas-threads"].contains(option.split(separator: "=").first.map(String.init) ?? option) {
            throw ValidationError("\(option): the sweep sets it for each run (the runs go into --out FOLDER/NAME-VALUE)")
        }
        let named = try parsedSettings().map { "--" + $0.name }
        if let option = trainOptions.first(where: { named.contains($0.split(separator: "=").first.map(String.init) ?? $0) }) {
            throw ValidationError("\(option) is both shared and swept by --set; give it once")
        }
        return trainOptions
    }

    var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        guard (1...max(cores, 1)).contains(parallel) else { throw ValidationError("--parallel must lie in 1...\(cores) (the machine's cores), got \(parallel)") }
        let shared = try sharedOptions()
        // Every run is checked as `vae train` checks it, before the first starts.
        for member in try members() {
            let arguments = shared + member.options + ["--out", URL(fileURLWithPath: out).appendingPathComponent(member.name).path]
            do { _ = try Train.parse(arguments) } catch {
                throw ValidationError("the run \(member.name) (vae train \(arguments.joined(separator: " "))): \(Train.message(for: error))")
            }
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: out)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw CommandFailure("\(folder.path): cannot create the sweep's folder: \(error.localizedDescription)")
        }
        let members = try members(), shared = try sharedOptions()
        let threads = max(1, cores / parallel)
        print("sweep of \(members.count) runs into \(folder.path), \(parallel) at a time, \(threads) thread\(threads == 1 ? "" : "s") each")
        stopOnSignals()
        var waiting = members[...]
        var running: [(member: Member, process: Process)] = []
        var failed: [String] = []
        var interrupted = false
        while !waiting.isEmpty || !running.isEmpty {
            while running.count < parallel, !interrupted, let member = waiting.popFirst() {
                let runFolder = folder.appendingPathComponent(member.name)
                let exists = FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("config.json").path)
                // A resumed run gets the same options: where its data is, and the settings its record must agree with.
                let arguments = ["train"] + (exists ? ["--resume", runFolder.path] : ["--out", runFolder.path]) + shared + member.options
                    + ["--blas-threads", String(threads)]
                let log = folder.appendingPathComponent(member.name + ".log")
                let process = try start(arguments, log: log, appending: exists)
                print("\(exists ? "resuming" : "training") \(member.name) (log \(log.path))")
                fflush(nil)
                running.append((member, process))
            }
            Thread.sleep(forTimeInterval: 0.2)
            if interruptRequested.load(ordering: .relaxed) { interrupted = true }
            let finished = running.filter { !$0.process.isRunning }
            running.removeAll { entry in finished.contains { $0.process === entry.process } }
            for entry in finished {
                let status = entry.process.terminationStatus
                print(status == 0 ? "finished \(entry.member.name)" : "\(entry.member.name) ended with status \(status): see \(folder.appendingPathComponent(entry.member.name + ".log").path)")
                fflush(nil)
                if status == 130 { interrupted = true } else if status != 0 { failed.append(entry.member.name) }
            }
        }
        let trained = members.map { RunFolder(folder.appendingPathComponent($0.name)) }
            .filter { FileManager.default.fileExists(atPath: $0.metrics.path) }
        if trained.count >= 2 {
            let comparison: RunComparison
            do { comparison = try RunComparison(folders: trained) } catch { throw CommandFailure(commandMessage(for: error)) }
            try Compare.report(comparison, to: folder.appendingPathComponent("comparison.png"))
        }
        if interrupted {
            print("interrupted: the runs keep their checkpoints; the same command continues the sweep")
            throw ExitCode(130)
        }
        if !failed.isEmpty { throw CommandFailure("\(failed.count) run\(failed.count == 1 ? "" : "s") failed: \(failed.joined(separator: ", ")) (see their logs in \(folder.path))") }
    }

    /// Starts this tool with `arguments`, its output into `log`.
    func start(_ arguments: [String], log: URL, appending: Bool) throws -> Process {
        if !appending || !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        guard let handle = try? FileHandle(forWritingTo: log) else { throw CommandFailure("\(log.path): cannot write the run's log") }
        _ = try? handle.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { throw CommandFailure("cannot start vae \(arguments.joined(separator: " ")): \(error.localizedDescription)") }
        return process
    }
}
