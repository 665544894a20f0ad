import ArgumentParser
import Datasets
import Foundation
import TensorCore
import VAE
import VAEEvaluation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small image classifier on a labelled dataset, to judge a conditional model's samples.",
        discussion: """
        The classifier (conv 32 and 64, 3x3 stride 2, dense 128, softmax; Adam 1e-3, batch 128) trains on the \
        training split and reports its accuracy on the test split; the file records both with the image shape and \
        class names. `vae sample RUN --classifier FILE` then reports the share of a conditional model's samples of \
        each class that it assigns to that class.

        Example: vae classify --dataset mnist --epochs 5 --out runs/classifier-mnist.safetensors
        """)

    @Option(help: "The labelled dataset.") var dataset: DatasetName = .mnist
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(parsing: .unconditional, help: "Training epochs.") var epochs = 5
    @Option(parsing: .unconditional, help: "Random seed (weights and shuffling).") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "OpenBLAS and oneDNN threads.") var blasThreads = 1
    @Option(help: "The safetensors file to write (default: runs/classifier-DATASET.safetensors).") var out: String?

    func validate() throws {
        guard (1...1000).contains(epochs) else { throw ValidationError("--epochs must be 1...1000, got \(epochs)") }
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let url = try outputFile(out, default: URL(fileURLWithPath: "runs/classifier-\(dataset.rawValue).safetensors"), extensions: ["safetensors"])
        let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        let data: LoadedDataset
        do { data = try catalog.loadSplits(dataset) } catch { throw CommandFailure(error.localizedDescription) }
        print(data.report)
        let started = Date()
        let classifier = ImageClassifier.train(on: data.train, epochs: epochs, seed: seed) { epoch, loss in
            print(String(format: "epoch %d: train cross-entropy %.4f (%.0f s)", epoch, loss, Date().timeIntervalSince(started)))
        }
        let accuracy = classifier.accuracy(on: data.test)
        do { try classifier.save(to: url, testAccuracy: accuracy) } catch { throw CommandFailure(error.localizedDescription) }
        print(String(format: "test accuracy %.2f%% (%d images)", 100 * accuracy, data.test.count))
        print("wrote \(url.path)")
    }
}
