// Train a VAE on MNIST for one epoch, then decode samples from the prior and write them as a PNG:
// the library's whole path in a page. Run it from this folder:
//
//     swift run -c release TrainAndSample [MNIST folder] [images to train on]
//
// The MNIST folder defaults to the copy the toolkit ships (../../data/mnist from here).
import Foundation
import VAEToolkit

let arguments = CommandLine.arguments.dropFirst()
let dataFolder = arguments.first.map { URL(fileURLWithPath: $0) }
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../data/mnist").standardizedFileURL
let trainingImages = arguments.dropFirst().first.flatMap { Int($0) } ?? 60_000

do {
    // The data: MNIST's two splits as [count, 1 x 28 x 28] values in [0, 1], with labels.
    let data = try DatasetCatalog(dataDirectory: dataFolder).loadSplits(.mnist)
    let train = data.train.prefix(trainingImages), test = data.test.prefix(1000)

    // The model and its training: PyTorch's example VAE (784-400-20), one epoch.
    var configuration = Preset.named("pytorch-example")!.configuration
    configuration.epochs = 1
    let trainer = try Trainer(configuration: configuration, train: train, test: test)
    let epoch = try trainer.trainFullEpoch()
    let figures = trainer.evaluateTest(epoch: 1)
    print(String(format: "trained on %d images: train loss %.2f, test loss %.2f nats per image", train.count, epoch.loss, figures.loss))

    // New images: z ~ N(0, I) decoded by the trained decoder, in an 8 x 8 grid.
    var generator = RandomGenerator(seed: 1)
    let grid = LatentExplorer(model: trainer.model).priorSampleGrid(count: 64, temperature: 1, columns: 8, scale: 2, using: &generator)
    try grid.writePNG(to: URL(fileURLWithPath: "samples.png"))
    print("wrote samples.png")
} catch {
    print("error: \(error)")
    exit(1)
}
