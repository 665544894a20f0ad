import Foundation

/// The feature networks shipped with the toolkit: `ImageClassifier`s trained by `vae classify`
/// (seed 1, 12 epochs) whose 128 penultimate features are the space `vae score` measures sample
/// quality in.
///
/// | dataset | file | test accuracy |
/// |---|---|---|
/// | mnist | FeatureNetworks/mnist.safetensors | recorded in the file |
/// | fashion-mnist | FeatureNetworks/fashion-mnist.safetensors | recorded in the file |
public enum FeatureNetwork {
    /// The datasets with a shipped feature network.
    public static let datasets = ["mnist", "fashion-mnist"]

    /// The shipped feature network for the named dataset, nil for any other dataset.
    public static func shipped(forDataset name: String) -> URL? {
        guard datasets.contains(name) else { return nil }
        return Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "FeatureNetworks")
    }

    /// The shipped feature network for the named dataset, loaded.
    public static func loadShipped(forDataset name: String) throws(ClassifierFileError) -> ImageClassifier? {
        guard let url = shipped(forDataset: name) else { return nil }
        return try ImageClassifier.load(from: url).classifier
    }
}
