import ArgumentParser
import Datasets
import Foundation
import Persistence
import Runs
import TensorCore
import VAE
import VAEEvaluation
import VAEModels
import Visualization

struct Normalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "For a model with a learned affine transform: digits, their reconstructions, and the same latent decoded with the transform off (normalised).",
        discussion: """
        Writes a picture of three rows: the inputs (test digits or PNG files), their reconstructions with the learned \
        affine transform, and the same latent decoded with A = I: the normalised digits. --size renders on a finer \
        coordinate grid (any resolution). Also writes the 6 transform parameters (the means of the last 6 latent \
        dimensions) per image as CSV, and prints the figures on the whole test set: input and normalised slant (mean \
        |mu11/mu02|) with their within-class standard deviations, the reconstruction MSE, the classifier's accuracy, \
        and how closely an 84x84 rendering averaged down matches the 28x28 one.

        Example: vae normalize runs/affine-small --count 12 --size 84 --out normalized.png
        """)

    @Argument(help: ArgumentHelp("A design-B run folder or its model.safetensors.", valueName: "run")) var path: String
    @Option(parsing: .unconditional, help: "How many test images, from the first.") var count = 10
    @Option(help: "Which test images instead (0-based), comma-separated.") var indices: String?
    @Option(name: .customLong("image"), help: "A PNG file instead (repeat for more).") var images: [String] = []
    @Option(parsing: .unconditional, help: "Render at this many pixels per side (28 is the training size).") var size = 28
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Flag(help: "Skip the figures over the whole test set.") var noFigures = false
    @Option(help: "The PNG file to write (default: normalized.png in the run folder); the parameters go beside it as <name>-transforms.csv.") var out: String?
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(parsing: .unconditional, help: "OpenBLAS threads.") var blasThreads = 1

    func validate() throws {
        guard (1...200).contains(count) else { throw ValidationError("--count must be 1...200, got \(count)") }
        guard (4...512).contains(size) else { throw ValidationError("--size must be 4...512, got \(size)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if let indices { _ = try parseIntegers(indices, option: "indices") }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let loaded: LoadedModel
        do { loaded = try LoadedModel.load(path: path, preset: Preset.named("affine-small")!.configuration) } catch { throw CommandFailure(error.localizedDescription) }
        let model = loaded.model
        guard let rendering = model.rendering, rendering.hasSwitchableTransform, model.imageShape.channels == 1,
              let transform = rendering.transformDimensions else {
            throw CommandFailure("\(loaded.modelFile.path) holds a \(loaded.configuration.model.kindDescription) (\(loaded.configuration.model.kind)), whose decoder has no transform to switch off; vae normalize needs a model with one, of grey images (train one with --preset affine-small)")
        }
        let trainingSide = rendering.trainingSize.width
        let url = try outputFile(out, default: loaded.defaultOutput("normalized.png"), extensions: ["png"])
        let tableURL = url.deletingLastPathComponent().appendingPathComponent(url.deletingPathExtension().lastPathComponent + "-transforms.csv")
        let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        let name = DatasetName(rawValue: loaded.configuration.dataset) ?? .mnist
        var test: ImageDataset?
        func testSet() throws -> ImageDataset {
            if let test { return test }
            do { test = try loaded.images(.test, catalog: catalog) } catch { throw CommandFailure(error.localizedDescription) }
            return test!
        }
        var pixels: [Float] = [], keys: [String] = []
        if !images.isEmpty {
            for path in images {
                let imported = try importPicture(path, for: loaded, dataset: name)
                print("\(path): \(imported.description)")
                pixels += imported.values
                keys.append(path.contains(",") ? "\"\(path)\"" : path)
            }
        } else {
            let dataset = try testSet()
            let chosen = try indices.map { try parseIntegers($0, option: "indices") } ?? Array(0..<min(count, dataset.count))
            pixels = try selectImages(indices: chosen, from: dataset, split: .test)
            keys = chosen.map { "\($0),\(dataset.labels[$0])" }
        }
        let shown = keys.count, latent = model.latentSize
        let means = model.encode(images: pixels, batchSize: 500).means
        let reconstructed = rendering.render(latents: means, height: size, width: size, transformOn: true)
        let normalized = rendering.render(latents: means, height: size, width: size, transformOn: false)
        let inputs = resized(pixels, from: trainingSide, to: size)
        let cell = size * size
        let cells: [[Float]?] = (0..<shown).map { Array(inputs[($0 * cell)..<(($0 + 1) * cell)]) }
            + (0..<shown).map { Array(reconstructed[($0 * cell)..<(($0 + 1) * cell)]) }
            + (0..<shown).map { Array(normalized[($0 * cell)..<(($0 + 1) * cell)]) }
        let picture = ImageGrid.make(cells: cells, shape: .grey(height: size, width: size), columns: shown, scale: scale)
        var table = [(images.isEmpty ? "index,label" : "file") + "," + transform.indices.map { "p\($0 + 1)" }.joined(separator: ",")]
        for row in 0..<shown {
            table.append(([keys[row]] + transform.map { "\(means[row * latent + $0])" }).joined(separator: ","))
        }
        try write(picture, to: url)
        do { try writeAtomically(Data((table.joined(separator: "\n") + "\n").utf8), to: tableURL) } catch { throw CommandFailure(error.localizedDescription) }
        print("rows: inputs, reconstructions (learned transform), normalised (transform off), at \(size)x\(size)")
        print("wrote \(tableURL.path) (the 6 transform parameters per image)")
        guard !noFigures else { return }
        let dataset = try testSet()
        print("figures on the \(dataset.count) test images (z = mu):")
        Self.printReport(NormalizationReport.measure(model, on: dataset)!, transform: transform)
    }

    /// Nearest-neighbour resampling of square images from `side` to `target` pixels per side.
    func resized(_ images: [Float], from side: Int, to target: Int) -> [Float] {
        guard side != target else { return images }
        let count = images.count / (side * side)
        var out = [Float](repeating: 0, count: count * target * target)
        for image in 0..<count {
            for y in 0..<target {
                for x in 0..<target {
                    out[image * target * target + y * target + x] = images[image * side * side + (y * side / target) * side + x * side / target]
                }
            }
        }
        return out
    }

    /// After training a model with a switchable transform (of grey images): the figures on the
    /// test set, printed and kept as normalization.json. Other models: nothing.
    static func finishTraining(_ session: TrainingSession) throws {
        let model = session.trainer.model
        guard model.imageShape.channels == 1, let transform = model.rendering?.transformDimensions,
              let report = NormalizationReport.measure(model, on: session.trainer.test) else { return }
        print("figures on the test set:")
        printReport(report, transform: transform)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(report), to: session.folder.url.appendingPathComponent("normalization.json"))
        } catch { throw CommandFailure(error.localizedDescription) }
    }

    static func printReport(_ report: NormalizationReport, transform: Range<Int>) {
        print(String(format: "input slant %.3f", report.inputSlant))
        print(String(format: "normalized slant %.3f", report.normalizedSlant))
        print(String(format: "within-class standard deviation of the slant: input %.3f, normalized %.3f",
                     report.inputSlantWithinClassDeviation, report.normalizedSlantWithinClassDeviation))
        print(String(format: "reconstruction MSE (transform on, z = mu) %.4f", report.reconstructionMSE))
        if let accuracy = report.accuracy { print(String(format: "classifier accuracy %.2f%% on %d images", 100 * accuracy, report.images)) }
        print(String(format: "84x84 rendering averaged to 28x28 vs the 28x28 rendering: mean |difference| %.4f (%d images)",
                     report.resolutionDifference, report.resolutionImages))
        print("KL per dimension (content z0-z\(transform.lowerBound - 1), transform z\(transform.lowerBound)-z\(transform.upperBound - 1)): "
              + report.klPerDimension.map { String(format: "%.2f", $0) }.joined(separator: " "))
        if report.isCollapsed { print("warning: the latents have collapsed (all KL near 0): the figures above describe a mean digit") }
    }
}
