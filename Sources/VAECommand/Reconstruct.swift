import ArgumentParser
import Datasets
import Foundation
import LatentTools
import TensorCore
import VAE

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A grid of test images (or PNG files) above their reconstructions.",
        discussion: """
        Rows of up to --columns inputs, each followed by a row of their reconstructions: decoded from z = mu with \
        --mean, otherwise from one z sampled from q(z | x) (seeded). PNG files given with --image are converted to \
        the dataset's form first (28x28 grey, light ink on dark, centred), and the conversion is printed.

        Example: vae reconstruct runs/pytorch-example --count 16 --mean --out reconstruct.png
        """)

    @OptionGroup var model: ModelArguments
    @Option(parsing: .unconditional, help: "How many images, from the first of the split.") var count = 16
    @Option(help: "Which images instead, by index (0-based), comma-separated, e.g. 0,5,7.") var indices: String?
    @Option(name: .customLong("image"), help: "A PNG file to reconstruct instead (repeat for more).") var images: [String] = []
    @Option(help: "The split to take images from.") var split: DatasetSplit = .test
    @Flag(help: "Decode z = mu instead of a sampled z.") var mean = false
    @Option(parsing: .unconditional, help: "Images per row.") var columns = 8
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Option(parsing: .unconditional, help: "Seed for the sampled z.") var seed: UInt64 = 1
    @Option(help: "The PNG file to write (default: reconstruct.png in the run folder).") var out: String?
    @Option(parsing: .unconditional, help: "A conditional model decodes every image as this class (each encoded with its own label): its style written as another class. Pictures given with --images are encoded with it too.")
    var label: Int?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1, got \(columns)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        if let indices { _ = try parseIntegers(indices, option: "indices") }
    }

    func run() throws {
        var (loaded, explorer) = try model.load()
        try explorer.setLabel(model.checkedLabel(label, for: loaded, required: !images.isEmpty,
                                                purpose: " (pictures have no label to encode them with)"))
        let url = try outputFile(out, default: loaded.defaultOutput("reconstruct.png"), extensions: ["png"])
        let pixels: [Float]
        var imageLabels: [Int] = []
        if !images.isEmpty {
            let imported = try model.importPictures(images, for: loaded)
            for (path, image) in zip(images, imported) { print("\(path): \(image.description)") }
            pixels = imported.flatMap { $0.values }
            imageLabels = explorer.labels(count: imported.count)
        } else {
            let dataset = try model.images(split, of: loaded)
            let chosen = try indices.map { try parseIntegers($0, option: "indices") } ?? Array(0..<min(count, dataset.count))
            pixels = try selectImages(indices: chosen, from: dataset, split: split)
            if loaded.model.condition != .none { imageLabels = try labelsOf(chosen, in: dataset, path: model.run) }
        }
        if let label = explorer.label { print("each image encoded with its own label, decoded as \(model.className(label, for: loaded))") }
        var generator: RandomGenerator? = mean ? nil : RandomGenerator(seed: seed)
        let grid = explorer.reconstructionGrid(images: pixels, imageLabels: imageLabels, columns: columns, scale: scale, using: &generator)
        try write(grid, to: url)
        if loaded.model is any DiscreteLatentModel {
            print("reconstructions decoded from each image's nearest codes")
        } else {
            print(mean ? "reconstructions decoded from z = mu" : "reconstructions decoded from one sampled z per image (seed \(seed))")
        }
    }
}
