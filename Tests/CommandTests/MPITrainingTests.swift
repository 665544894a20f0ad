import Foundation
import SafeTensors
import Testing

/// `mpirun -np 2 vae train` trains the model one process trains: each rank takes a shard of every
/// batch, gradients are summed with MPI_Allreduce, rank 0 writes. Open MPI from Debian
/// (`openmpi-bin`, installed by scripts/install-dependencies.sh); root needs --allow-run-as-root.
@Suite(.serialized) struct MPITrainingTests {
    /// mpirun's options here: root is allowed (CI), two ranks on a small machine, no pinning.
    static let options = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]

    /// Runs `mpirun` with `arguments` to its end.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Tool.run(options + arguments, program: "mpirun")
    }

    /// Every parameter of a model file, by name.
    static func weights(_ path: String) throws -> [String: [Float]] {
        try SafeTensorsFile.read(from: URL(fileURLWithPath: path)).tensors.mapValues(\.values)
    }

    /// `vae train` arguments for one step of an MLP or a small convolutional VAE on the tiny data.
    static func oneStep(_ kind: String, data: URL, out: String) -> [String] {
        // One batch of all 48 images, plain SGD at rate 1: the weights move by exactly -gradient.
        let settings = ["--batch-size", "48", "--optimizer", "sgd", "--learning-rate", "1"]
        if kind == "mlp" { return Tool.trainArguments(data: data, out: out, epochs: 1) + settings }
        return ["train", "--preset", "conv-mnist", "--data-dir", data.path, "--out", out, "--epochs", "1", "--seed", "5",
                "--encoder-convolutions", "4:3:2:1", "--encoder-dense", "8", "--latent-size", "2", "--decoder-dense", "8",
                "--decoder-convolutions", "4:3:2:1"] + settings
    }

    @Test(arguments: ["mlp", "conv"])
    func oneStepOfTwoRanksMovesTheWeightsAsOneProcessDoes(kind: String) throws {
        let scratch = try ScratchFolder("mpi-step")
        let data = try scratch.tinyDataset()
        let one = try Tool.run(Self.oneStep(kind, data: data, out: scratch.path("one")))
        #expect(one.status == 0, "\(one.output)")
        let two = try Self.run(["-np", "2", Tool.executable.path] + Self.oneStep(kind, data: data, out: scratch.path("two")))
        #expect(two.status == 0, "\(two.output)")
        let single = try Self.weights(scratch.path("one/model.safetensors")), split = try Self.weights(scratch.path("two/model.safetensors"))
        #expect(single.keys == split.keys)
        var largest: Float = 0, difference: Float = 0
        for (name, values) in single {
            let other = try #require(split[name])
            for (a, b) in zip(values, other) { largest = max(largest, abs(a)); difference = max(difference, abs(a - b)) }
        }
        // The two gradients differ only by the order of float sums: within 1e-5 of the weights' scale.
        #expect(difference <= 1e-5 * max(1, largest), "largest difference \(difference), weights up to \(largest)")
        print("\(kind): one SGD step, 1 vs 2 ranks: largest weight (= gradient) difference \(difference), weights up to \(largest)")
    }

    @Test func anEpochOfTwoRanksEndsWhereOneProcessEnds() throws {
        let scratch = try ScratchFolder("mpi-epoch")
        let data = try scratch.tinyDataset()
        let one = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("one"), epochs: 2))
        #expect(one.status == 0, "\(one.output)")
        let two = try Self.run(["-np", "2", Tool.executable.path] + Tool.trainArguments(data: data, out: scratch.path("two"), epochs: 2))
        #expect(two.status == 0 && two.output.contains("done:"), "\(two.output)")
        let first = Data.lossColumns(ofMetrics: URL(fileURLWithPath: scratch.path("one/metrics.csv")))
        let second = Data.lossColumns(ofMetrics: URL(fileURLWithPath: scratch.path("two/metrics.csv")))
        #expect(first.count == 3 && second.count == 3 && first[0] == second[0])
        for (a, b) in zip(first.dropFirst(), second.dropFirst()) {
            let x = a.split(separator: ",").compactMap { Double($0) }, y = b.split(separator: ",").compactMap { Double($0) }
            #expect(x.count == y.count && x.count >= 8)
            for (u, v) in zip(x, y) { #expect(abs(u - v) <= 1e-3 * max(1, abs(u)), "\(a) vs \(b)") }
        }
        // Resumed with one process more epochs: the run's position does not depend on the rank count.
        let resumed = try Tool.run(["train", "--resume", scratch.path("two"), "--epochs", "3", "--data-dir", data.path])
        #expect(resumed.status == 0, "\(resumed.output)")
    }

    /// The repository's scripts folder (network-hosts.sh, mpirun-hosts.sh, netns-agent.sh).
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// Two hosts made as network namespaces joined by a bridge, links shaped to 1 Gbit/s by tc,
    /// one rank in each over Open MPI's TCP transport (no shared memory): two epochs end where
    /// one process ends, in both gradient formats' tolerance, and the hosts are removed after.
    /// Needs root (CAP_NET_ADMIN) and iproute2, as CI has.
    @Test(.enabled(if: getuid() == 0, "network namespaces need root"))
    func anEpochOnTwoNetworkHostsEndsWhereOneProcessEnds() throws {
        let scratch = try ScratchFolder("mpi-hosts")
        let data = try scratch.tinyDataset()
        // Network 9: its own bridge and namespaces, apart from any a user made for benchmarks.
        let hosts = Self.scripts.appendingPathComponent("network-hosts.sh").path
        let up = try Tool.run([hosts, "up", "2", "--rate", "1gbit", "--network", "9"], program: "bash")
        defer {
            let down = try? Tool.run([hosts, "down", "--network", "9"], program: "bash")
            #expect(down?.status == 0, "\(down?.output ?? "")")
            let left = (try? Tool.run(["ip", "netns", "list"], program: "env"))?.output ?? ""
            #expect(!left.contains("vae9-host-"), "namespaces left behind: \(left)")
        }
        try #require(up.status == 0, "\(up.output)")
        let one = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("one"), epochs: 2))
        #expect(one.status == 0, "\(one.output)")
        let first = Data.lossColumns(ofMetrics: URL(fileURLWithPath: scratch.path("one/metrics.csv")))
        for (format, tolerance) in [("fp32", 1e-3), ("bf16", 2e-2)] {
            let out = scratch.path("hosts-\(format)")
            let two = try Tool.run(["VAE_NETWORK=9", "bash", Self.scripts.appendingPathComponent("mpirun-hosts.sh").path, "2", Tool.executable.path]
                                   + Tool.trainArguments(data: data, out: out, epochs: 2) + ["--gradient-sums", format], program: "env")
            #expect(two.status == 0 && two.output.contains("done:") && two.output.contains("2 processes: gradients summed in \(format)"), "\(two.output)")
            let second = Data.lossColumns(ofMetrics: URL(fileURLWithPath: out + "/metrics.csv"))
            #expect(first.count == 3 && second.count == 3 && first[0] == second[0])
            for (a, b) in zip(first.dropFirst(), second.dropFirst()) {
                let x = a.split(separator: ",").compactMap { Double($0) }, y = b.split(separator: ",").compactMap { Double($0) }
                #expect(x.count == y.count && x.count >= 8)
                for (u, v) in zip(x, y) { #expect(abs(u - v) <= tolerance * max(1, abs(u)), "\(format): \(a) vs \(b)") }
            }
        }
    }

    @Test func aRankThatCannotReadItsDataEndsTheJobNamingIt() throws {
        let scratch = try ScratchFolder("mpi-fail")
        let data = try scratch.tinyDataset()
        let good = Tool.trainArguments(data: data, out: scratch.path("run"), epochs: 1)
        let bad = Tool.trainArguments(data: scratch.url.appendingPathComponent("missing"), out: scratch.path("run"), epochs: 1)
        // MPMD: rank 0 reads the data, rank 1 is given a folder that does not exist.
        let started = Date()
        let result = try Self.run(["-np", "1", Tool.executable.path] + good + [":", "-np", "1", Tool.executable.path] + bad)
        #expect(result.status != 0, "\(result.output)")
        #expect(result.output.contains("rank 1 of 2"), "\(result.output)")
        #expect(Date().timeIntervalSince(started) < 60, "the job must end, not hang")
    }

    @Test func aKilledRankEndsTheJob() throws {
        let scratch = try ScratchFolder("mpi-kill")
        let data = try scratch.tinyDataset()
        let (process, pipe) = try Tool.start(Self.options + ["-np", "2", Tool.executable.path]
                                             + Tool.trainArguments(data: data, out: scratch.path("run"), epochs: 100000), program: "mpirun")
        // Rank 1: the vae process whose environment says OMPI_COMM_WORLD_RANK=1.
        var victim: Int32?
        let deadline = Date().addingTimeInterval(30)
        while victim == nil, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry), let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) else { continue }
                let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if variables.contains("OMPI_COMM_WORLD_RANK=1"), variables.contains(where: { $0.hasPrefix("OMPI_COMM_WORLD_SIZE=2") }),
                   (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains(scratch.path("run")) == true {
                    victim = pid
                }
            }
        }
        let pid = try #require(victim, "rank 1 was not found")
        Thread.sleep(forTimeInterval: 1)  // training under way
        kill(pid, SIGKILL)
        let killed = Date()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        #expect(process.terminationStatus != 0, "\(text)")
        #expect(Date().timeIntervalSince(killed) < 60, "the job must end, not hang")
        #expect(text.contains("rank 1"), "mpirun names the rank: \(text)")
    }
}
