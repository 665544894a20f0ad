import ArgumentParser
import Datasets
import Foundation
import LatentTools
import Persistence
import Runs
import TensorCore
import VAE
import VAEEvaluation
import Visualization

struct Traverse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One row per latent dimension, varied across a range with the others held at an image's mu.",
        discussion: """
        Rows are sorted by each dimension's KL from the prior averaged over the test set, most informative first \
        (the order and the KLs are printed); dimensions with KL near 0 are unused and their rows do not change.
        With --animate the same traversal is also written as a looping GIF (giflib), one frame per step: frame k \
        shows every row's image at the k-th value, top to bottom in the grid's order.
        For a model of dSprites each row is labelled with the factor it tracks best: the largest I(z_j; v_k) / H(v_k) \
        over 10,000 random dSprites images (their means in 20 bins, as MIG measures it).

        Example: vae traverse runs/pytorch-example --index 0 --steps 11 --range=-3,3
        Example: vae traverse runs/dsprites-btcvae --animate --steps 15
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
    @Flag(help: "Also write the traversal as an animated GIF, one frame per step.") var animate = false
    @Option(help: "The GIF file to write with --animate (default: the PNG's name with .gif).") var animation: String?
    @Option(parsing: .unconditional, help: "Each GIF frame's duration, in hundredths of a second.") var delay = 20

    func validate() throws {
        guard (2...100).contains(steps) else { throw ValidationError("--steps must be 2...100, got \(steps)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        _ = try parseRange(range, option: "range")
        if let dimensions { _ = try parseIntegers(dimensions, option: "dimensions") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
        guard (1...6000).contains(delay) else { throw ValidationError("--delay must be 1...6000 hundredths of a second, got \(delay)") }
        if animation != nil && !animate { throw ValidationError("--animation FILE names the GIF of --animate; add --animate") }
    }

    func run() throws {
        var (loaded, explorer) = try model.load()
        try model.refuseDiscreteCodes(loaded, command: "traverse")
        let conditional = loaded.model.condition != .none
        let given = try model.checkedLabel(label, for: loaded, required: image != nil, purpose: " (a picture has no label to encode it with)")
        let chosen = try dimensions.map { try parseIntegers($0, option: "dimensions") } ?? Array(0..<explorer.latentSize)
        try checkDimensions(chosen, latentSize: explorer.latentSize, option: "dimensions")
        let url = try outputFile(out, default: loaded.defaultOutput("traversal.png"), extensions: ["png"])
        let gifURL = animate ? try outputFile(animation, default: url.deletingPathExtension().appendingPathExtension("gif"), extensions: ["gif"]) : nil
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
        let factors = try factorsTracked(loaded)
        if let factors {
            // A dimension the posterior hardly uses (mean KL under 0.05 nats) tracks nothing.
            let labels = order.map { kl[$0] < 0.05 ? "z\($0) unused" : "z\($0) \(factors[$0].name)" }
            let data: Data
            // ImageGrid's layout: cells of the image's height between 1-pixel lines, all scaled.
            let cellHeight = Double(loaded.model.imageShape.height + 1) * Double(scale)
            let centres = order.indices.map { Double(scale) + Double($0) * cellHeight + Double(loaded.model.imageShape.height * scale) / 2 }
            do { data = try RowLabelledPicture(picture: picture, labels: labels, rowCentres: centres).pngData() } catch { throw CommandFailure(error.localizedDescription) }
            do { try writeAtomically(data, to: url) } catch { throw CommandFailure(error.localizedDescription) }
        } else {
            try write(picture, to: url)
        }
        if let gifURL {
            // Frame k: column k of the grid, every row's image at the k-th value.
            // ImageGrid's layout: column k spans its image and the lines either side.
            let step = (loaded.model.imageShape.width + 1) * scale, cellWidth = (loaded.model.imageShape.width + 2) * scale
            let frames = values.indices.map { column -> Picture in
                var pixels: [UInt8] = []
                pixels.reserveCapacity(cellWidth * picture.height * picture.channels)
                for y in 0..<picture.height {
                    let start = (y * picture.width + column * step) * picture.channels
                    pixels += picture.pixels[start..<(start + cellWidth * picture.channels)]
                }
                return Picture(width: cellWidth, height: picture.height, channels: picture.channels, pixels: pixels)
            }
            do { try AnimatedGIF(frames: frames, delay: delay).writeGIF(to: gifURL) } catch { throw CommandFailure(error.localizedDescription) }
            print("wrote \(gifURL.path): \(frames.count) frames of \(cellWidth)x\(picture.height), \(delay) hundredths of a second each, looping")
        }
        print(String(format: "each row varies one dimension from %.2f to %.2f; others held at mu of %@", values.first!, values.last!,
                     image ?? "test image \(index)"))
        for (row, dimension) in order.enumerated() {
            let tracked = factors.map { String(format: "; %@ %@ (I/H %.3f)", kl[dimension] < 0.05 ? "unused; best" : "tracks", $0[dimension].name, $0[dimension].share) } ?? ""
            print(String(format: "  row %2d: z%-3d KL %.3f nats (mean over the test set)%@", row + 1, dimension, kl[dimension], tracked))
        }
    }

    /// For a model of dSprites, each dimension's best-tracked factor and its normalised mutual
    /// information I(z_j; v_k) / H(v_k) over 10,000 random images (seed 0); nil for other models.
    func factorsTracked(_ loaded: LoadedModel) throws -> [(name: String, share: Double)]? {
        guard (model.dataset ?? DatasetName(rawValue: loaded.configuration.dataset)) == .dsprites, loaded.configuration.imageFolder == nil || model.dataset == .dsprites,
              loaded.model.imageShape == .grey(height: DSprites.side, width: DSprites.side), loaded.model.condition == .none else { return nil }
        let images: FactorImages
        do { images = try model.catalog.loadFactorImages() } catch { throw CommandFailure(error.localizedDescription) }
        var generator = RandomGenerator(seed: 0)
        let indices = Array(generator.permutation(images.count).prefix(10_000))
        let (means, size) = images.encodedMeans(indices, model: loaded.model)
        let varying = images.factors.indices.filter { images.factors[$0].count > 1 }
        let classes = indices.map(images.classes(ofImage:))
        var columns: [[Double]] = []
        for j in 0..<size {
            columns.append(indices.indices.map { (row: Int) -> Double in Double(means[row * size + j]) })
        }
        let factorColumns: [[Int]] = varying.map { (k: Int) -> [Int] in classes.map { $0[k] } }
        let result = MutualInformationGap.score(codes: columns, factors: factorColumns)
        return result.information.map { row in
            let shares = zip(row, result.entropies).map { $0 / $1 }
            let best = shares.indices.max { shares[$0] < shares[$1] }!
            return (images.factors[varying[best]].name, shares[best])
        }
    }
}
