import ArgumentParser
import Datasets
import Foundation
import LatentTools
import VAE

struct Scatter: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The test set's latent means in a plane, coloured by label (PNG and SVG).",
        discussion: """
        A 2-d latent is shown as it is. A larger one is projected onto its first two principal components (the \
        title says so), or shows two chosen dimensions with --dimensions. One translucent dot per image, one legend \
        entry per label. Without --out, writes scatter.png and scatter.svg in the run folder; with --out, the one \
        file its extension names.

        Example: vae scatter runs/design-a --out scatter.png
        """)

    @OptionGroup var model: ModelArguments
    @Option(help: "The split to show.") var split: DatasetSplit = .test
    @Option(help: "Two latent dimensions to show (0-based), e.g. 0,1; default: PCA for more than 2.") var dimensions: String?
    @Option(parsing: .unconditional, help: "Show only the first N images of the split.") var count: Int?
    @Option(help: "The file to write, .png or .svg (default: both, scatter.png and scatter.svg in the run folder).") var out: String?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
        if let dimensions, try parseIntegers(dimensions, option: "dimensions").count != 2 {
            throw ValidationError("--dimensions needs two dimensions, such as 0,1; got '\(dimensions)'")
        }
    }

    func run() throws {
        let (loaded, explorer) = try model.load()
        try model.refuseDiscreteCodes(loaded, command: "scatter")
        let latentSize = explorer.latentSize
        let projection: LatentProjection
        if let dimensions {
            let pair = try parseIntegers(dimensions, option: "dimensions")
            try checkDimensions(pair, latentSize: latentSize, option: "dimensions")
            guard pair[0] != pair[1] else { throw CommandFailure("--dimensions needs two different dimensions, got \(pair[0]) twice") }
            projection = .dimensions(pair[0], pair[1])
        } else if latentSize == 2 {
            projection = .dimensions(0, 1)
        } else if latentSize > 2 {
            projection = .principalComponents
        } else {
            throw CommandFailure("the model has a 1-d latent space; a scatter plot needs at least 2 dimensions")
        }
        let urls = try out.map { [try outputFile($0, default: loaded.defaultOutput("scatter.png"), extensions: ["png", "svg"])] }
            ?? [try outputFile(nil, default: loaded.defaultOutput("scatter.png"), extensions: ["png"]), loaded.defaultOutput("scatter.svg")]
        let datasetName = model.dataset?.rawValue ?? loaded.configuration.imageFolder.map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? loaded.configuration.dataset
        let dataset = try model.images(split, of: loaded).prefix(count ?? Int.max)
        let shown = dataset.count
        if loaded.model.condition != .none && !dataset.isLabelled {
            throw CommandFailure("\(model.run) is a conditional model, but the dataset's images have no labels to encode them with")
        }
        let codes: LatentCodes = loaded.model.encode(images: dataset.pixels, labels: dataset.labels)
        let labels: [Int] = dataset.isLabelled ? dataset.labels : [Int](repeating: 0, count: shown)
        let classNames: [String] = dataset.isLabelled ? dataset.classNames : ["unlabelled"]
        let plot = codes.scatterPlot(labels: labels, classNames: classNames, projection: projection,
                                     subject: "\(loaded.configuration.model.architectureName) on \(datasetName) \(split.rawValue), \(shown) images")
        for url in urls {
            do { try plot.write(to: url) } catch { throw CommandFailure(error.localizedDescription) }
            print("wrote \(url.path)")
        }
        print(plot.title + " (" + plot.xLabel + " vs " + plot.yLabel + ")")
    }
}
