import ArgumentParser
import Foundation
import LatentTools

struct Manifold: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a grid over two latent dimensions into one picture.",
        discussion: """
        By default a Keras-style grid: --grid values per axis at the quantiles of N(0, 1) for probabilities evenly \
        spaced from 0.05 to 0.95, so each cell covers an equal share of the prior; with --range the values are \
        evenly spaced over that range instead. The other dimensions are held at 0 (the prior's mean). The first \
        dimension runs left to right, the second bottom to top, as in `vae scatter`. Without --dimensions the grid \
        spans the two most informative dimensions (the largest KL from the prior over the test set, as `vae \
        traverse` orders them), in index order, so a model whose z0 and z1 carry nothing still shows what it learned.

        Example: vae manifold runs/design-a --grid 20 --out manifold.png
        """)

    @OptionGroup var model: ModelArguments
    @Option(help: "The two latent dimensions (0-based), horizontal then vertical (default: the two most informative).") var dimensions: String?
    @Option(parsing: .unconditional, help: "Values per axis.") var grid = 20
    @Option(parsing: .unconditional, help: "Evenly spaced values over low,high instead of normal quantiles, e.g. -3,3.") var range: String?
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 1
    @Option(help: "The PNG file to write (default: manifold.png in the run folder).") var out: String?
    @Option(parsing: .unconditional, help: "A conditional model's class to decode the manifold as.") var label: Int?

    func validate() throws {
        guard (2...100).contains(grid) else { throw ValidationError("--grid must be 2...100, got \(grid)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        if let dimensions, try parseIntegers(dimensions, option: "dimensions").count != 2 {
            throw ValidationError("--dimensions needs two dimensions, such as 0,1; got '\(dimensions)'")
        }
        if let range { _ = try parseRange(range, option: "range") }
    }

    func run() throws {
        var (loaded, explorer) = try model.load()
        try model.refuseDiscreteCodes(loaded, command: "manifold")
        try explorer.setLabel(model.checkedLabel(label, for: loaded, required: true))
        let pair: [Int]
        if let dimensions {
            pair = try parseIntegers(dimensions, option: "dimensions")
        } else if explorer.latentSize == 2 {
            pair = [0, 1]
        } else {
            let test = try model.images(.test, of: loaded)
            let kl = loaded.model.encode(images: test.pixels, labels: loaded.model.condition != .none ? test.labels : []).klPerDimension
            pair = LatentExplorer.informativeOrder(klPerDimension: kl).prefix(2).sorted()
            print(String(format: "the two most informative of %d dimensions: z%d (KL %.3f nats) and z%d (KL %.3f nats); --dimensions picks others",
                         explorer.latentSize, pair[0], kl[pair[0]], pair[1], kl[pair[1]]))
        }
        try checkDimensions(pair, latentSize: explorer.latentSize, option: "dimensions")
        guard pair[0] != pair[1] else { throw CommandFailure("--dimensions needs two different dimensions, got \(pair[0]) twice") }
        let url = try outputFile(out, default: loaded.defaultOutput("manifold.png"), extensions: ["png"])
        let values = try range.map { evenlySpaced(grid, over: try parseRange($0, option: "range")) } ?? NormalQuantile.grid(count: grid)
        let picture = explorer.manifoldGrid(horizontal: pair[0], vertical: pair[1], xValues: values, yValues: values,
                                            base: [Float](repeating: 0, count: explorer.latentSize), scale: scale)
        try write(picture, to: url)
        print(String(format: "z%d (left to right) and z%d (bottom to top) from %.3f to %.3f in %d steps%@; other dimensions at 0",
                     pair[0], pair[1], values.first!, values.last!, grid, range == nil ? " (N(0,1) quantiles 0.05...0.95)" : ""))
    }
}
