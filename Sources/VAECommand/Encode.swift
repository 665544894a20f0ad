import ArgumentParser
import Datasets
import Foundation
import LatentTools
import NN
import Persistence
import Runs
import TensorCore
import VAE
import VAEEvaluation

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The latent means and log-variances of a dataset split (with labels) or of PNG files, as CSV.",
        discussion: """
        Columns: index,label (or file for PNGs), mu_0 ... mu_{d-1}, logvar_0 ... logvar_{d-1}: q(z | x) = \
        N(mu, diag exp(logvar)). PNG files of any size, colour or grey, are converted to the dataset's form first \
        (28x28 grey, light ink on dark, centred by mass), and the conversion is printed.

        For a model of dSprites (or with --dataset dsprites), --count N images drawn uniformly from its 737,280 (all \
        of them without --count; by --seed) are written instead, one row each: index, the six factor values in \
        columns named after the factors (color, shape, scale, orientation, posX, posY), then mu_0 ... mu_{d-1}, \
        the posterior means: what the disentanglement metrics read, for computing your own.

        Example: vae encode runs/pytorch-example --split test --out latents.csv
        Example: vae encode runs/dsprites-btcvae --dataset dsprites --count 10000 --out codes.csv
        """)

    @OptionGroup var model: ModelArguments
    @Option(help: "The split to encode.") var split: DatasetSplit = .test
    @Option(parsing: .unconditional, help: "A conditional model's class to encode pictures given with --images as.") var label: Int?
    @Option(name: .customLong("image"), help: "A PNG file to encode instead (repeat for more).") var images: [String] = []
    @Option(parsing: .unconditional, help: "Images per batch.") var batchSize = 1000
    @Option(help: "The CSV file to write (default: latents-<split>.csv, latents-images.csv or latents-dsprites.csv in the run folder).") var out: String?
    @Option(parsing: .unconditional, help: "dSprites: the images to encode, drawn uniformly without replacement (default: all 737,280).") var count: Int?
    @Option(parsing: .unconditional, help: "dSprites: the seed of the draw of --count images.") var seed: UInt64 = 0

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    }

    func run() throws {
        let (loaded, _) = try model.load()
        if images.isEmpty && (model.dataset ?? DatasetName(rawValue: loaded.configuration.dataset)) == .dsprites && loaded.configuration.imageFolder == nil || model.dataset == .dsprites {
            return try encodeDSprites(loaded)
        }
        if count != nil { throw ValidationError("--count applies to dSprites (a model of dsprites, or --dataset dsprites); a split is encoded whole") }
        if let discrete = loaded.model as? any DiscreteLatentModel { return try encodeCodes(discrete, loaded: loaded) }
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

    /// A VQ-VAE's code indices: index, label, then c_0 ... c_{h·w−1}, the nearest code of each grid
    /// position in raster order.
    func encodeCodes(_ discrete: any DiscreteLatentModel, loaded: LoadedModel) throws {
        if !images.isEmpty || label != nil { throw ValidationError("--image and --label do not apply to a VQ-VAE's codes; a dataset split is encoded") }
        let dataset = try model.images(split, of: loaded)
        let url = try outputFile(out, default: loaded.defaultOutput("codes-\(split.rawValue).csv"), extensions: ["csv"])
        let grids = CodeGrids(model: discrete, images: dataset, batchSize: batchSize)
        let positions = discrete.codePositions
        var text = "index,label," + (0..<positions).map { "c_\($0)" }.joined(separator: ",") + "\n"
        for row in 0..<grids.count {
            text += "\(row),\(dataset.isLabelled ? String(dataset.labels[row]) : ""),"
            text += grids.codes[(row * positions)..<((row + 1) * positions)].map { String($0) }.joined(separator: ",") + "\n"
        }
        do { try writeAtomically(Data(text.utf8), to: url) } catch { throw CommandFailure(error.localizedDescription) }
        var counts = [Int](repeating: 0, count: discrete.codebookSize)
        for code in grids.codes { counts[Int(code)] += 1 }
        print("wrote \(url.path): \(grids.count) rows of \(discrete.codeGrid.height)x\(discrete.codeGrid.width) code indices (0...\(discrete.codebookSize - 1))")
        print(String(format: "codes used %d of %d, perplexity %.2f", counts.filter { $0 > 0 }.count, discrete.codebookSize, VectorQuantizer.perplexity(counts: counts)))
    }

    /// Writes `--count` drawn dSprites images' factor values and posterior means.
    func encodeDSprites(_ loaded: LoadedModel) throws {
        if !images.isEmpty { throw ValidationError("--image does not go with dSprites' images; give one or the other") }
        guard loaded.model.imageShape == .grey(height: DSprites.side, width: DSprites.side) else {
            throw CommandFailure("the model in \(loaded.modelFile.path) takes \(loaded.model.imageShape) images; dSprites' are 1x64x64")
        }
        let factorImages: FactorImages
        do { factorImages = try model.catalog.loadFactorImages() } catch { throw CommandFailure(error.localizedDescription) }
        if let count, count > factorImages.count { throw ValidationError("--count \(count) is more than dSprites' \(factorImages.count) images") }
        let url = try outputFile(out, default: loaded.defaultOutput("latents-dsprites.csv"), extensions: ["csv"])
        var generator = RandomGenerator(seed: seed)
        let indices = count.map { Array(generator.permutation(factorImages.count).prefix($0)).sorted() } ?? Array(0..<factorImages.count)
        let factors = factorImages.factors
        let progress = ProgressLine(total: indices.count, label: "encoding dSprites")
        let (means, size) = factorImages.encodedMeans(indices, model: loaded.model, batchSize: batchSize) { progress.update($0) }
        var text = "index," + factors.map(\.name).joined(separator: ",") + (0..<size).map { ",mu_\($0)" }.joined() + "\n"
        for (row, index) in indices.enumerated() {
            text += String(index)
            for factor in factors.indices { text += "," + String(factorImages.values[index * factors.count + factor]) }
            for dimension in 0..<size { text += "," + String(means[row * size + dimension]) }
            text += "\n"
        }
        progress.finish()
        do { try writeAtomically(Data(text.utf8), to: url) } catch { throw CommandFailure(error.localizedDescription) }
        print("wrote \(url.path): \(indices.count) dSprites images (\(count == nil ? "all" : "drawn by seed \(seed)")), factors \(factors.map(\.name).joined(separator: ", ")) and \(size) posterior means")
    }
}
