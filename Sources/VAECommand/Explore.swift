import ArgumentParser
import Datasets
import ExplorerServer
import Foundation
import NN
import Runs
import Synchronization
import VAE

struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explore a run's latent space in the browser: sliders, a 2-d pad, the test set's scatter plot.",
        discussion: """
        Starts a web server for the run (any model kind) and prints its address; open it in a browser. The page \
        has a slider for each latent dimension (most informative first, by KL over the test set), a pad that moves \
        two dimensions at once, the test set's latent means as a scatter plot (click a point to start from its \
        code), test images and your own PNG or JPEG pictures as starting points, interpolation between two \
        points, a class selector for a conditional model, and the learned transform's switch and render size for a model that has one. \
        For a VQ-VAE the page is its code grid instead: a test image's (or your picture's) grid of code indices, \
        one editable cell per position, decoded as you edit it beside the original; with a code prior in the run \
        (`vae train-prior`) it also draws grids from the prior, of a chosen class when the prior is conditional. \
        Every picture is decoded by the server with the run's model as the sliders move. "random z" draws from \
        --sampler: the prior, or a Gaussian mixture or second-stage VAE fitted to the training set's codes (as \
        `vae sample` and `vae score` fit and save them).

        The server binds 127.0.0.1 (this machine only) unless --host says otherwise, and serves only this run and \
        its own page. Ctrl-C stops it.

        Examples: vae explore runs/latest
                  vae explore runs/conv-mnist --sampler gmm
        """)

    @OptionGroup var model: ModelArguments
    @OptionGroup(title: "Sampler") var samplers: SamplerOptions
    @Option(help: "The address to listen on: 127.0.0.1 is this machine only; another address warns.") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "The port to listen on (0: any free port).") var port = 8080
    @Option(parsing: .unconditional, help: "Test images encoded for the scatter plot, the KL order and starting points.") var testImages = 10_000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard testImages >= 1 else { throw ValidationError("--test-images must be at least 1, got \(testImages)") }
        guard !host.isEmpty, host.count <= 255 else { throw ValidationError("--host must be an address or a host name, got '\(host)'") }
    }

    func run() throws {
        let (loaded, _) = try model.load()
        let test = try model.images(.test, of: loaded)
        let subject: ExplorerRoutes.Subject
        if let discrete = loaded.model as? any DiscreteLatentModel {
            guard samplers.sampler == .prior else {
                throw CommandFailure("--sampler \(samplers.sampler.rawValue): \(model.run) is a VQ-VAE; its grids are drawn from its code prior (`vae train-prior`), not from a fitted sampler")
            }
            let prior = try existingCodePrior(of: discrete, loaded: loaded, run: model.run)?.network
            do { subject = .codeGrid(try CodeGridService(loaded: loaded, test: test, maximumImages: testImages, prior: prior)) } catch {
                throw CommandFailure("\(model.run): \(error.problem)")
            }
        } else {
            let sampler = try samplers.sampler(for: loaded, arguments: model) { print($0) }
            do {
                subject = .latentSpace(try LatentSpaceService(loaded: loaded, test: test, maximumImages: testImages, sampler: sampler,
                                                                      samplerName: samplers.sampler.rawValue))
            } catch {
                throw CommandFailure("\(model.run): \(error.problem)")
            }
        }
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            FileHandle.standardError.write(Data("warning: listening on \(host), not loopback: anyone who can reach this machine can use the explorer\n".utf8))
        }
        let run = model.run
        let app = ExplorerRoutes.application(subject, host: host, port: port) { boundHost, boundPort in
            print("exploring \(run) at http://\(boundHost.contains(":") ? "[\(boundHost)]" : boundHost):\(boundPort)/ (Ctrl-C stops)")
            fflush(nil)
        }
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<Error?>(nil)
        Task {
            do { try await app.runService() } catch { outcome.withLock { $0 = error } }
            finished.signal()
        }
        finished.wait()
        if let error = outcome.withLock({ $0 }) {
            let reason = "\(error)".contains("Address already in use") ? "the address is already in use (another server? try --port 0)" : "\(error)"
            throw CommandFailure("cannot serve on \(host):\(port): \(reason)")
        }
        print("stopped")
    }
}
