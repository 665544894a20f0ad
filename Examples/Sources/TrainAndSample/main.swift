// Train a VAE on MNIST for one epoch, then decode samples from the prior and write them as a PNG:
// the library's whole path in a page. Run it from this folder:
//
//     swift run -c release TrainAndSample [images to train on] [MNIST folder]   (in Examples/)
//
// Without a folder the catalog finds the MNIST the toolkit ships, in the toolkit's checkout
// (wherever the dependency lives), or Debian's packaged datasets.
import Foundation
import VAEToolkit

let arguments = CommandLine.arguments.dropFirst()
let trainingImages = arguments.first.flatMap { Int($0) } ?? 60_000
let dataFolder = arguments.dropFirst().first.map { URL(fileURLWithPath: $0) }

do {
    // One engine thread (OpenBLAS, oneDNN, the elementwise loops): the default, said aloud.
    ComputeThreads.set(1)

    // The data: MNIST's two splits as [count, 1 x 28 x 28] values in [0, 1], with labels.
    let data = try DatasetCatalog(dataDirectory: dataFolder).loadSplits(.mnist)
    print(data.report)
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
    let grid = try LatentExplorer(model: trainer.model).priorSampleGrid(count: 64, temperature: 1, columns: 8, scale: 2, using: &generator)
    try grid.writePNG(to: URL(fileURLWithPath: "samples.png"))
    print("wrote samples.png")
} catch {
    print("error: \(error.localizedDescription)")
    exit(1)
}
