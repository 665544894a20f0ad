import ArgumentParser
import Datasets
import Foundation
import LatentTools
import VAE

struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A strip of images from one image to another through the latent space.",
        discussion: """
        The strip shows the first input, the images decoded along the path from mu(first) to mu(second) (--steps \
        of them, both ends included), then the second input. --path spherical follows the great circle, which \
        keeps to where N(0, I) puts its mass.

        Example: vae interpolate runs/pytorch-example --from 0 --to 1 --steps 10 --path spherical
        """)

    @OptionGroup var model: ModelArguments
    @Option(parsing: .unconditional, help: "Index (0-based) of the first test image.") var from = 0
    @Option(parsing: .unconditional, help: "Index (0-based) of the second test image.") var to = 1
    @Option(help: "A PNG file to start from instead.") var fromImage: String?
    @Option(help: "A PNG file to end at instead.") var toImage: String?
    @Option(parsing: .unconditional, help: "Decoded images along the path, both ends included.") var steps = 10
    @Option(help: "The path between the two codes.") var path: InterpolationPath = .linear
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Option(help: "The PNG file to write (default: interpolation.png in the run folder).") var out: String?
    @Flag(help: "A hierarchical model: move every latent group between the two images' codes, not only the top one (the lower groups otherwise take their prior means).")
    var allGroups = false
    @Option(parsing: .unconditional, help: "A conditional model decodes the whole path as this class (default: the first image's; pictures are encoded with it).")
    var label: Int?

    func validate() throws {
        guard (2...200).contains(steps) else { throw ValidationError("--steps must be 2...200, got \(steps)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
    }

    func run() throws {
        var (loaded, explorer) = try model.load()
        try model.refuseDiscreteCodes(loaded, command: "interpolate")
        let conditional = loaded.model.condition != .none
        let given = try model.checkedLabel(label, for: loaded, required: fromImage != nil || toImage != nil,
                                           purpose: " (pictures have no label to encode them with)")
        let url = try outputFile(out, default: loaded.defaultOutput("interpolation.png"), extensions: ["png"])
        var ends: [[Float]] = []
        var endLabels: [Int] = []
        var test: ImageDataset?
        for (index, image) in [(from, fromImage), (to, toImage)] {
            if let image {
                let imported = try model.importPictures([image], for: loaded)[0]
                print("\(image): \(imported.description)")
                ends.append(imported.values)
                if let given { endLabels.append(given) }
            } else {
                if test == nil { test = try model.images(.test, of: loaded) }
                ends.append(try selectImages(indices: [index], from: test!, split: .test))
                if conditional { endLabels += try labelsOf([index], in: test!, path: model.run) }
            }
        }
        if conditional {
            try explorer.setLabel(given ?? endLabels[0])
            print("decoded as \(model.className(explorer.label!, for: loaded)) along the whole path")
        }
        if allGroups { _ = try hierarchicalModel(loaded.model, option: "--all-groups", run: model.run) }
        let strip = explorer.interpolationStrip(from: ends[0], to: ends[1], imageLabels: endLabels, steps: steps, path: path, scale: scale,
                                                allGroups: allGroups)
        try write(strip, to: url)
        let groups = loaded.model is any LowerGroupDecoding ? (allGroups ? ", every latent group moved" : ", the top group moved (the lower at their prior means)") : ""
        print("\(fromImage ?? "test image \(from)") -> \(toImage ?? "test image \(to)"): \(steps) steps, \(path) path\(groups), inputs at both ends")
    }
}
