import Foundation

/// The feature networks shipped with the toolkit: `ImageClassifier`s trained by `vae classify`
/// whose 128 penultimate features are the space `vae score` measures sample quality in. Each
/// file records its test accuracy.
///
/// | dataset | made by | test accuracy |
/// |---|---|---|
/// | mnist | `vae classify --dataset mnist --epochs 12 --seed 1` | 99.22% |
/// | fashion-mnist | `vae classify --dataset fashion-mnist --epochs 20 --seed 1 --shift 1` | 92.51% |
public enum FeatureNetwork {
    /// The datasets with a shipped feature network.
    public static let datasets = ["mnist", "fashion-mnist"]

    /// The folders searched, in order: the package's resource bundle beside the executable (where
    /// SwiftPM puts it, and where a copy of the tool should take it), then the toolkit's own
    /// checkout. (`Bundle.module` is not used: it stops the program when neither exists.)
    public static var folders: [URL] {
        [Bundle.main.bundleURL.appendingPathComponent("VAEToolkit_VAEEvaluation.resources/FeatureNetworks"),
         URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FeatureNetworks")]
    }

    /// The shipped feature network for the named dataset: nil for any other dataset, or when the
    /// file is in none of the folders searched.
    public static func shipped(forDataset name: String) -> URL? {
        guard datasets.contains(name) else { return nil }
        return folders.map { $0.appendingPathComponent("\(name).safetensors") }.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The shipped feature network for the named dataset, loaded.
    public static func loadShipped(forDataset name: String) throws(ClassifierFileError) -> ImageClassifier? {
        guard let url = shipped(forDataset: name) else { return nil }
        return try ImageClassifier.load(from: url).classifier
    }
}
