import ArgumentParser
import Datasets
import Foundation
import LatentTools
import Persistence
import Runs
import SafeTensors
import TensorCore
import VAE

extension SamplerKind: ExpressibleByArgument {}

/// `--sampler` and the settings of the fitted samplers, shared by `vae sample`, `vae score` and
/// `vae explore`.
struct SamplerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where latent vectors come from: prior (N(0, I)), gmm (a Gaussian mixture fitted by EM to the training set's posterior means), or two-stage (a second VAE trained on them, Dai & Wipf 2019). A fitted sampler is saved in the run folder and reused while the model file is unchanged.", valueName: "sampler"))
    var sampler: SamplerKind = .prior
    @Option(parsing: .unconditional, help: "The Gaussian mixture's components (full covariances).") var components = 10
    @Option(parsing: .unconditional, help: "The second-stage VAE's training epochs.") var secondStageEpochs = 40
    @Option(parsing: .unconditional, help: "The seed of a sampler's fit (k-means++ and EM, or the second stage's weights and order).") var samplerSeed: UInt64 = 1
    @Flag(help: "Fit the sampler again even when the run folder holds one fitted with these settings.") var refit = false

    func validate() throws {
        guard (1...1000).contains(components) else { throw ValidationError("--components must be 1...1000, got \(components)") }
        guard (1...10_000).contains(secondStageEpochs) else { throw ValidationError("--second-stage-epochs must be 1...10000, got \(secondStageEpochs)") }
    }

    /// The settings a saved sampler must have been fitted with to be reused.
    func settings(modelDigest: String) -> [String: String] {
        var settings = ["model_sha256": modelDigest, "seed": "\(samplerSeed)"]
        switch sampler {
        case .prior: break
        case .gmm: settings["fit_components"] = "\(components)"
        case .twoStage: settings["fit_epochs"] = "\(secondStageEpochs)"
        }
        return settings
    }

    /// The chosen sampler for `loaded`: the prior; or the fitted one saved beside the model when
    /// it was fitted to this model file with these settings; or a new fit on the training set's
    /// posterior means, saved there. `log` receives what happens.
    func sampler(for loaded: LoadedModel, arguments: ModelArguments, log: (String) -> Void) throws -> any LatentSampler {
        guard let fileName = sampler.fileName else { return PriorSampler(model: loaded.model) }
        let url = loaded.defaultOutput(fileName)
        let digest: String
        do { digest = try SHA256.hex(ofFile: loaded.modelFile) } catch { throw CommandFailure("\(loaded.modelFile.path): \(plainDescription(of: error))") }
        let wanted = settings(modelDigest: digest)
        if !refit, FileManager.default.fileExists(atPath: url.path) {
            let file: SafeTensorsFile
            do { file = try SafeTensorsFile.read(from: url) } catch { throw CommandFailure(error.localizedDescription) }
            if wanted.allSatisfy({ file.metadata[$0.key] == $0.value }) {
                do {
                    let fitted: any LatentSampler = sampler == .gmm ? try GaussianMixture.read(file, path: url.path) : try TwoStageVAE.read(file, path: url.path)
                    guard fitted.latentSize == loaded.model.latentSize else {
                        throw CommandFailure("\(url.path) draws \(fitted.latentSize)-dimensional codes; the model's latent space has \(loaded.model.latentSize)")
                    }
                    log("sampler: \(url.path) (\(sampler.summary), reused)")
                    return fitted
                } catch let error as SamplerFileError { throw CommandFailure(error.description) }
            }
            log("sampler: \(url.path) was fitted to another model file or with other settings; fitting again")
        }
        let training: ImageDataset
        do { training = try loaded.images(.train, dataset: arguments.dataset?.rawValue, catalog: arguments.catalog) } catch {
            throw CommandFailure("--sampler \(sampler.rawValue) needs a fitted sampler, and \(url.path) does not hold one fitted to this model; fitting one needs the training set, which cannot be read: \(error.localizedDescription)")
        }
        let started = Date()
        let codes = loaded.model.encode(images: training.pixels, labels: loaded.model.usesLabels ? training.labels : [])
        let d = codes.size
        let file: SafeTensorsFile
        let fitted: any LatentSampler
        switch sampler {
        case .prior:
            preconditionFailure("the prior needs no fit")
        case .gmm:
            guard codes.count >= components * (d + 1) else {
                throw CommandFailure("--components \(components): a mixture of \(components) full-covariance Gaussians in \(d) dimensions needs at least \(components * (d + 1)) training images, the run has \(codes.count)")
            }
            let mixture = GaussianMixture.fit(rows: codes.means, dimension: d, components: components, seed: samplerSeed)
            log(String(format: "sampler: fitted %d Gaussians (full covariances) to %d posterior means in %d EM iterations, mean log-density %.3f nats (%.1f s)",
                       components, codes.count, mixture.iterations, mixture.logLikelihood ?? .nan, Date().timeIntervalSince(started)))
            (fitted, file) = (mixture, mixture.file(metadata: wanted))
        case .twoStage:
            let model = TwoStageVAE.train(codes: codes.means, dimension: d, epochs: secondStageEpochs, seed: samplerSeed) { epoch, loss, gamma in
                if epoch == 1 || epoch % 10 == 0 || epoch == secondStageEpochs {
                    log(String(format: "sampler: second stage epoch %d: loss %.3f, gamma %.5f (%.0f s)", epoch, loss, gamma, Date().timeIntervalSince(started)))
                }
            }
            (fitted, file) = (model, model.file(metadata: wanted))
        }
        do { try file.write(to: url) } catch { throw CommandFailure(error.localizedDescription) }
        log("sampler: wrote \(url.path)")
        return fitted
    }
}
