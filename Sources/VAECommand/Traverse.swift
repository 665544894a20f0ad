import ArgumentParser
import Datasets
import Foundation
import LatentTools
import VAE

struct Traverse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One row per latent dimension, varied across a range with the others held at an image's mu.",
        discussion: """
        Rows are sorted by each dimension's KL from the prior averaged over the test set, most informative first \
        (the order and the KLs are printed); dimensions with KL near 0 are unused and their rows do not change.

        Example: vae traverse runs/pytorch-example --index 0 --steps 11 --range=-3,3
        """)

    @OptionGroup var model: ModelArguments
    @Option(parsing: .unconditional, help: "Index (0-based) of the test image whose mu the other dimensions hold.") var index = 0
    @Option(help: "A PNG file to take mu from instead.") var image: String?
    @Option(help: "Only these dimensions (0-based), comma-separated; default all.") var dimensions: String?
    @Option(parsing: .unconditional, help: "Only the N most informative of them.") var top: Int?
    @Option(parsing: .unconditional, help: "The range each dimension runs over, low,high.") var range = "-3,3"
    @Option(parsing: .unconditional, help: "Values per row.") var steps = 11
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Option(help: "The PNG file to write (default: traversal.png in the run folder).") var out: String?
    @Option(parsing: .unconditional, help: "A conditional model decodes every cell as this class (default: the image's own; a picture is encoded with it).")
    var label: Int?

    func validate() throws {
        guard (2...100).contains(steps) else { throw ValidationError("--steps must be 2...100, got \(steps)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        _ = try parseRange(range, option: "range")
        if let dimensions { _ = try parseIntegers(dimensions, option: "dimensions") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
    }

    func run() throws {
        var (loaded, explorer) = try model.load()
        let conditional = loaded.model.condition != .none
        let given = try model.checkedLabel(label, for: loaded, required: image != nil, purpose: " (a picture has no label to encode it with)")
        let chosen = try dimensions.map { try parseIntegers($0, option: "dimensions") } ?? Array(0..<explorer.latentSize)
        try checkDimensions(chosen, latentSize: explorer.latentSize, option: "dimensions")
        let url = try outputFile(out, default: loaded.defaultOutput("traversal.png"), extensions: ["png"])
        let test = try model.images(.test, of: loaded)
        let base: [Float]
        if let image {
            let imported = try model.importPictures([image], for: loaded)[0]
            print("\(image): \(imported.description)")
            base = loaded.model.encode(images: imported.values, labels: given.map { [$0] } ?? []).mean(0)
            try explorer.setLabel(given)
        } else {
            let own = conditional ? try labelsOf([index], in: test, path: model.run) : []
            base = loaded.model.encode(images: try selectImages(indices: [index], from: test, split: .test), labels: own).mean(0)
            try explorer.setLabel(given ?? own.first)
        }
        if let label = explorer.label { print("every cell decoded as \(model.className(label, for: loaded))") }
        let kl = loaded.model.encode(images: test.pixels, labels: conditional ? test.labels : []).klPerDimension
        let order = Array(LatentExplorer.informativeOrder(klPerDimension: kl).filter(chosen.contains).prefix(top ?? .max))
        let values = evenlySpaced(steps, over: try parseRange(range, option: "range"))
        let picture = explorer.traversalGrid(base: base, dimensions: order, values: values, scale: scale)
        try write(picture, to: url)
        print(String(format: "each row varies one dimension from %.2f to %.2f; others held at mu of %@", values.first!, values.last!,
                     image ?? "test image \(index)"))
        for (row, dimension) in order.enumerated() {
            print(String(format: "  row %2d: z%-3d KL %.3f nats (mean over the test set)", row + 1, dimension, kl[dimension]))
        }
    }
}
