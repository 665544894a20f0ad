import ArgumentParser
import VAE
import VAEModels
import VAEModels

#if canImport(Glibc)
import Glibc
#endif
import Foundation

@main
struct VAETool: ParsableCommand {
    static func main() {
        OpenMPWaiting.makePassive()
        StandardModelKinds.register()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train, evaluate and inspect variational autoencoders on the CPU.",
        version: ToolVersion.current,
        subcommands: [
            Train.self, TrainPrior.self, Evaluate.self, Score.self, Reconstruct.self, Sample.self, Encode.self, Scatter.self, Manifold.self,
            Interpolate.self, Traverse.self, Explore.self, Curves.self, Compare.self, Sweep.self, Normalize.self, Classify.self, Presets.self, DataCommand.self, Bench.self, Demo.self,
        ]
    )
}

/// libgomp (oneDNN's threads) reads `OMP_WAIT_POLICY` once, when it is loaded, before `main`.
/// Its default lets an idle worker spin about 300,000 rounds after each parallel region, which
/// keeps the second core from OpenBLAS's worker and the elementwise helper: measured on
/// keras-conv at 2 threads (`vae bench conv --threads 2`, alternating four times), sgemm took
/// 5-11% of the step with spinning workers and 2% with passive ones, and the step 0.113 s
/// against 0.102 s (medians). So the tool runs itself again, once, with
/// `OMP_WAIT_POLICY=PASSIVE`, unless `OMP_WAIT_POLICY` or `GOMP_SPINCOUNT` is set already
/// (set either to choose otherwise). If the re-execution fails, it carries on as it is.
enum OpenMPWaiting {
    static func makePassive() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMP_WAIT_POLICY"] == nil, environment["GOMP_SPINCOUNT"] == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        var arguments: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &arguments)
        for argument in arguments { free(argument) }  // execv returned: it failed
    }
}
