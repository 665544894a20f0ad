// Load a run folder written by `vae train` (any model kind) and draw the path in latent space
// between two test images, as `vae interpolate` does. Run it from the Examples folder:
//
//     swift run -c release LoadAndInterpolate RUN [first index] [second index]
//
// It writes interpolation.png in the current folder.
import Foundation
import VAEToolkit

let arguments = Array(CommandLine.arguments.dropFirst())
guard let runPath = arguments.first else {
    print("usage: LoadAndInterpolate RUN [first index] [second index]")
    exit(2)
}
let first = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 0
let second = arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1

do {
    // The model, of whatever kind the run trained, and the run's own test images.
    let loaded = try LoadedModel.load(path: runPath, preset: Preset.named("pytorch-example")!.configuration)
    let test = try loaded.images(.test, catalog: DatasetCatalog())
    guard test.count > max(first, second), first >= 0, second >= 0 else {
        print("error: the test split has \(test.count) images; indices must be 0...\(test.count - 1)")
        exit(1)
    }
    // A conditional model decodes the path with the first image's label.
    var explorer = try LatentExplorer(model: loaded.model)
    let labels = loaded.model.condition == .none ? [] : [test.labels[first], test.labels[second]]
    try explorer.setLabel(labels.first)
    let strip = explorer.interpolationStrip(from: Array(test.image(first)), to: Array(test.image(second)), imageLabels: labels,
                                            steps: 10, path: .spherical, scale: 2)
    try strip.writePNG(to: URL(fileURLWithPath: "interpolation.png"))
    print("\(loaded.model.specification.kind) model from \(runPath): test images \(first) -> \(second), wrote interpolation.png")
} catch {
    print("error: \(error.localizedDescription)")
    exit(1)
}
