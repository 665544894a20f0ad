import ArgumentParser
import Datasets
import Foundation
import Persistence
import Runs
import TensorCore
import VAE

/// `vae train` for the design-B presets: trains, writes the run folder, and at the end prints the
/// figures of `vae normalize` on the test set.
enum AffineTraining {
    static func run(configuration: AffineTrainingConfiguration, out: String?, catalog: DatasetCatalog, blasThreads: Int) throws {
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        let folder = RunFolder(URL(fileURLWithPath: out ?? "runs/\(configuration.preset)-\(stamp.string(from: Date()))"))
        let session: AffineSession
        do { session = try AffineSession.start(configuration: configuration, folder: folder, catalog: catalog, blasThreads: blasThreads) } catch {
            throw CommandFailure(error.localizedDescription)
        }
        try train(session)
    }

    static func run(resume folder: RunFolder, catalog: DatasetCatalog, epochs: Int?) throws {
        let session: AffineSession
        do { session = try AffineSession.resume(folder: folder, catalog: catalog, epochs: epochs) } catch { throw CommandFailure(error.localizedDescription) }
        print("resuming after epoch \(session.trainer.completedEpochs)")
        try train(session)
    }

    static func train(_ session: AffineSession) throws {
        let configuration = session.trainer.configuration
        print("training \(configuration.preset): \(configuration.model.architectureName), transform \(configuration.model.transformForm.rawValue) form, \(session.trainer.model.parameterCount) parameters")
        print(String(format: "data %@ (%d train / %d validation / %d test); adam lr %g, batch %d, %d epochs, seed %llu; loss %g CE + MSE + %g KL (per element)",
                     configuration.dataset, session.trainer.train.count, session.trainer.validation.count, session.test.count,
                     configuration.learningRate, configuration.batchSize, configuration.epochs, configuration.seed,
                     configuration.classifierWeight, configuration.effectiveKLWeight))
        print(BLAS.tuneForProcessor() + ", \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s")")
        print("run folder: \(session.folder.url.path)")
        fflush(nil)
        signal(SIGINT) { _ in
            interruptRequested.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
        let isTerminal = isatty(STDOUT_FILENO) == 1
        let finished: Bool
        do {
            finished = try session.run(shouldStop: { interruptRequested.load(ordering: .relaxed) }, onBatch: { epoch, done, total, loss in
                if isTerminal { FileHandle.standardOutput.write(Data(String(format: "\repoch %3d  %d/%d  loss %.5f", epoch, done, total, loss).utf8)) }
            }, onEpoch: { row, validation in
                if isTerminal { FileHandle.standardOutput.write(Data("\r".utf8)) }
                let s = row.summary
                print(String(format: "epoch %3d  loss %.5f  mse %.5f  ce %.4f  kl %.4f  validation mse %.5f accuracy %.2f%%  %.1f s  %.0f images/s",
                             row.epoch, s[0], s[1], s[2], s[3], s[4], 100 * s[5], s[6], s[7]))
                if validation.isCollapsed {
                    print("warning: every latent dimension's KL is near 0 (the KL term has collapsed the latents); lower --kl-weight")
                }
                fflush(nil)
            })
        } catch { throw CommandFailure(error.localizedDescription) }
        guard finished else {
            print("\ninterrupted; the run folder holds the last finished epoch. Continue with: vae train --resume \(session.folder.url.path)")
            throw ExitCode(130)
        }
        print("done: \(session.folder.url.path); figures on the test set:")
        let report = session.trainer.model.normalizationReport(session.test)
        printReport(report)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(report), to: session.folder.url.appendingPathComponent("normalization.json"))
        } catch { throw CommandFailure(error.localizedDescription) }
    }

    static func printReport(_ report: NormalizationReport) {
        print(String(format: "input slant %.3f", report.inputSlant))
        print(String(format: "normalized slant %.3f", report.normalizedSlant))
        print(String(format: "within-class standard deviation of the slant: input %.3f, normalized %.3f",
                     report.inputSlantWithinClassDeviation, report.normalizedSlantWithinClassDeviation))
        print(String(format: "reconstruction MSE (transform on, z = mu) %.4f", report.reconstructionMSE))
        print(String(format: "classifier accuracy %.2f%% on %d images", 100 * report.accuracy, report.images))
        print(String(format: "84x84 rendering averaged to 28x28 vs the 28x28 rendering: mean |difference| %.4f (%d images)",
                     report.resolutionDifference, report.resolutionImages))
        print("KL per dimension (content z0-z9, transform z10-z15): " + report.klPerDimension.map { String(format: "%.2f", $0) }.joined(separator: " "))
        if report.isCollapsed { print("warning: the latents have collapsed (all KL near 0): the figures above describe a mean digit") }
    }
}
