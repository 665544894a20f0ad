import ArgumentParser
import Datasets
import Foundation
import TensorCore
import VAE
import VAEEvaluation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small image classifier on labelled images: the judge of a conditional model's samples, and the feature network of `vae score`.",
        discussion: """
        The classifier (LeNet-style: conv 32, 64 and 64, each 3x3 stride 2 with ReLU, dense 128 with ReLU, softmax; \
        Adam 1e-3, batch 128, the rate halved over the last half of the epochs, each image moved up to --shift pixels) trains on the training split and \
        reports its accuracy on the test split; the file records both with the architecture, image shape and class \
        names. Its 128 features (the dense layer before the softmax) are the space `vae score --features FILE` \
        compares samples in. `vae sample RUN --classifier FILE` reports the share of a conditional model's samples of \
        each class that it assigns to that class.

        The feature networks shipped for MNIST and Fashion-MNIST were made with
          vae classify --dataset mnist --epochs 12 --seed 1                     (99.22% on the test set)
          vae classify --dataset fashion-mnist --epochs 20 --seed 1 --shift 1   (92.51%)

        Examples: vae classify --dataset mnist --epochs 12 --out runs/classifier-mnist.safetensors
                  vae classify --images ~/pictures/labelled --image-size 32 --out runs/classifier-pictures.safetensors
        """)

    @OptionGroup(title: "Data (labelled: a named dataset or an image folder with one subfolder per class)") var data: DataOptions
    @Option(parsing: .unconditional, help: "Training epochs.") var epochs = 12
    @Option(parsing: .unconditional, help: "Random seed (weights and shuffling; an image folder's held-out share).") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Move each training image by a random offset of up to N pixels each way (0: off).") var shift = 2
    @Option(parsing: .unconditional, help: "OpenBLAS and oneDNN threads.") var blasThreads = 1
    @Option(help: "The safetensors file to write (default: runs/classifier-DATASET.safetensors).") var out: String?

    func validate() throws {
        guard (1...1000).contains(epochs) else { throw ValidationError("--epochs must be 1...1000, got \(epochs)") }
        guard (0...16).contains(shift) else { throw ValidationError("--shift must be 0...16, got \(shift)") }
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        try data.refuseFolderOptionsWithoutAFolder()
        if data.dataset == .dsprites && data.images == nil {
            throw ValidationError("--dataset dsprites: the classifier learns MNIST, Fashion-MNIST or an image folder; dSprites' factors are known for every image, so its models are scored by `vae eval --disentanglement`")
        }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let name = data.images.map { URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent } ?? (data.dataset ?? .mnist).rawValue
        let url = try outputFile(out, default: URL(fileURLWithPath: "runs/classifier-\(name).safetensors"), extensions: ["safetensors"])
        let loaded: LoadedDataset
        do { loaded = try data.catalog.loadSplits(dataset: (data.dataset ?? .mnist).rawValue, folder: data.folder(seed: seed)) } catch {
            throw CommandFailure(error.localizedDescription)
        }
        print(loaded.report)
        guard loaded.train.isLabelled, loaded.train.classCount >= 2 else {
            throw CommandFailure("\(loaded.folder) has no labels: a classifier needs one subfolder per class (at least two)")
        }
        guard loaded.test.count > 0 else { throw CommandFailure("\(loaded.folder) has no test images to measure the classifier on") }
        let started = Date()
        let classifier = ImageClassifier.train(on: loaded.train, epochs: epochs, seed: seed, shift: shift) { epoch, loss in
            print(String(format: "epoch %d: train cross-entropy %.4f (%.0f s)", epoch, loss, Date().timeIntervalSince(started)))
        }
        let accuracy = classifier.accuracy(on: loaded.test)
        do { try classifier.save(to: url, testAccuracy: accuracy) } catch { throw CommandFailure(error.localizedDescription) }
        print(String(format: "test accuracy %.2f%% (%d images)", 100 * accuracy, loaded.test.count))
        print("wrote \(url.path)")
    }
}
