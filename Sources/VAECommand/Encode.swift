import ArgumentParser
import Datasets
import Foundation
import LatentTools
import Persistence
import VAE

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The latent means and log-variances of a dataset split (with labels) or of PNG files, as CSV.",
        discussion: """
        Columns: index,label (or file for PNGs), mu_0 ... mu_{d-1}, logvar_0 ... logvar_{d-1}: q(z | x) = \
        N(mu, diag exp(logvar)). PNG files of any size, colour or grey, are converted to the dataset's form first \
        (28x28 grey, light ink on dark, centred by mass), and the conversion is printed.

        Example: vae encode runs/pytorch-example --split test --out latents.csv
        """)

    @OptionGroup var model: ModelArguments
    @Option(help: "The split to encode.") var split: DatasetSplit = .test
    @Option(parsing: .unconditional, help: "A conditional model's class to encode pictures given with --images as.") var label: Int?
    @Option(name: .customLong("image"), help: "A PNG file to encode instead (repeat for more).") var images: [String] = []
    @Option(parsing: .unconditional, help: "Images per batch.") var batchSize = 1000
    @Option(help: "The CSV file to write (default: latents-<split>.csv or latents-images.csv in the run folder).") var out: String?

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        let (loaded, explorer) = try model.load()
        let url = try outputFile(out, default: loaded.defaultOutput(images.isEmpty ? "latents-\(split.rawValue).csv" : "latents-images.csv"), extensions: ["csv"])
        let text: String
        let codes: LatentCodes
        if !images.isEmpty {
            let imported = try model.importPictures(images, for: loaded)
            for (path, image) in zip(images, imported) { print("\(path): \(image.description)") }
            let given = try model.checkedLabel(label, for: loaded, required: true, purpose: " (pictures have no label to encode them with)")
            codes = loaded.model.encode(images: imported.flatMap { $0.values }, labels: given.map { Array(repeating: $0, count: imported.count) } ?? [],
                                        batchSize: batchSize)
            text = codes.csv(labels: nil, files: images)
        } else {
            let dataset = try model.images(split, of: loaded)
            if label != nil { throw CommandFailure("--label applies to pictures given with --images; dataset images are encoded with their own labels") }
            let conditional = loaded.model.condition != .none
            if conditional && !dataset.isLabelled { throw CommandFailure("\(model.run) is a conditional model, but the dataset's images have no labels to encode them with") }
            codes = loaded.model.encode(images: dataset.pixels, labels: conditional ? dataset.labels : [], batchSize: batchSize)
            text = codes.csv(labels: dataset.labels)
        }
        do { try writeAtomically(Data(text.utf8), to: url) } catch { throw CommandFailure(error.localizedDescription) }
        let kl = codes.klPerDimension
        print("wrote \(url.path): \(codes.count) rows, \(codes.size) latent dimensions")
        print(String(format: "mean KL(q(z|x) || N(0, I)) %.3f nats; per dimension: ", kl.reduce(0, +))
              + kl.map { String(format: "%.2f", $0) }.joined(separator: " "))
    }
}
