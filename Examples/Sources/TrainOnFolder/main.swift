// Train a convolutional VAE on your own folder of PNG or JPEG pictures, then draw its
// reconstructions of held-out pictures and new samples from the prior. Run it from this folder:
//
//     swift run -c release TrainOnFolder FOLDER [side] [epochs] [images to train on]   (in Examples/)
//
// The folder holds one subfolder per class (or just the pictures), with train/ and test/
// subfolders or not (then 10% is held out). Every picture is cropped to a centred square, resized
// to side x side (32 by default) and kept in colour. `vae data --images FOLDER` describes a folder
// the same way; `vae data --export mnist --to FOLDER` writes one to try this on.
import Foundation
import VAEToolkit

let arguments = Array(CommandLine.arguments.dropFirst())
guard let folder = arguments.first else {
    print("usage: TrainOnFolder FOLDER [side] [epochs] [images to train on]")
    exit(2)
}
func number(_ index: Int, default value: Int) -> Int {
    guard index < arguments.count else { return value }
    guard let parsed = Int(arguments[index]), parsed > 0 else {
        print("error: argument \(index + 1) must be a positive whole number, got '\(arguments[index])'")
        exit(2)
    }
    return parsed
}
let side = number(1, default: 32), epochs = number(2, default: 5), limit = number(3, default: Int.max)

do {
    // The data: every picture decoded, cropped and resized; the decoded folder is cached, so a
    // second run starts at once unless a file changed.
    let options = ImageFolderOptions(path: folder, height: side, width: side, centreCrop: true, colour: .colour)
    let data = try ImageFolder.load(options)
    print(data.report)
    // A folder's images come sorted by class: a limited run takes a seeded random subset.
    var shuffle = RandomGenerator(seed: 7)
    func sample(_ set: ImageDataset, _ count: Int) -> ImageDataset {
        count >= set.count ? set : set.subset((0..<set.count).shuffled(using: &shuffle).prefix(count))
    }
    let train = sample(data.train, limit), test = sample(data.test, 1000)

    // The model: the conv-mnist preset's layers, fitted to these pictures' shape (the decoder's
    // starting grid and output paddings are derived from it), and its training settings.
    var configuration = Preset.named("conv-mnist")!.configuration
    configuration.dataset = "folder"
    configuration.imageFolder = options
    configuration.model = configuration.model.fitted(to: train.shape)
    configuration.epochs = epochs
    let trainer = try Trainer(configuration: configuration, train: train, test: test)
    print("training a convolutional VAE on \(train.count) pictures of \(train.shape), \(trainer.model.parameterCount) parameters")
    for epoch in 1...epochs {
        let summary = try trainer.trainFullEpoch()
        // The preset keeps a moving average of the weights: evaluate and draw it, as `vae train` does.
        let figures = trainer.withAveragedWeights { trainer.evaluateTest(epoch: epoch) }
        print(String(format: "epoch %d: train loss %.2f, test loss %.2f nats per picture (%.1f s)", epoch, summary.loss, figures.loss,
                     summary.seconds))
    }

    // Pictures of the averaged weights: 16 held-out pictures above their reconstructions (z = μ),
    // and 32 samples.
    try trainer.withAveragedWeights {
        let explorer = try LatentExplorer(model: trainer.model)
        var meanCodes: RandomGenerator? = nil
        let originals = Array(test.pixels.prefix(16 * test.valuesPerImage))
        try explorer.reconstructionGrid(images: originals, columns: 8, scale: 2, using: &meanCodes)
            .writePNG(to: URL(fileURLWithPath: "folder-reconstructions.png"))
        var generator = RandomGenerator(seed: 1)
        try explorer.priorSampleGrid(count: 32, temperature: 1, columns: 8, scale: 2, using: &generator)
            .writePNG(to: URL(fileURLWithPath: "folder-samples.png"))
    }
    print("wrote folder-reconstructions.png and folder-samples.png")
} catch {
    print("error: \(error.localizedDescription)")
    exit(1)
}
