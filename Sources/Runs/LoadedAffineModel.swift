import Datasets
import Foundation
import SafeTensors
import TensorCore
import VAE

/// A design-B model found from a run folder (its config.json and model.safetensors) or from a
/// model file that carries `affine_configuration` in its metadata.
public struct LoadedAffineModel {
    public let model: AffineVAE
    public let modelFile: URL
    public let run: RunFolder?
    public let dataset: String

    public static func load(path: String) throws(RunError) -> LoadedAffineModel {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw .notFound(path: url.path, expected: "a design-B run folder (vae train --preset affine-small) or its model.safetensors")
        }
        let run: RunFolder? = isFolder.boolValue ? RunFolder(url) : nil
        var dataset = "mnist"
        if let run {
            guard let record = AffineSession.readRecord(run) else {
                throw .notARun(path: url.path, reason: "its config.json is not a design-B run's (train one with --preset affine or affine-small)")
            }
            dataset = record.affineConfiguration.dataset
        }
        let modelURL = run?.model ?? url
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: modelURL) } catch { throw .invalidFile(path: modelURL.path, reason: error.localizedDescription) }
        guard let text = file.metadata["affine_configuration"],
              let configuration = try? JSONDecoder().decode(AffineModelConfiguration.self, from: Data(text.utf8)) else {
            throw .invalidFile(path: modelURL.path, reason: "it carries no affine_configuration: it is not a design-B model")
        }
        var generator = RandomGenerator(seed: 0)
        let model = AffineVAE(configuration, using: &generator)
        do { try model.load(file, fileName: modelURL.path) } catch {
            throw .invalidFile(path: modelURL.path, reason: "it does not fit its recorded architecture \(configuration.architectureName): \(error.localizedDescription)")
        }
        return LoadedAffineModel(model: model, modelFile: modelURL, run: run, dataset: dataset)
    }

    /// Where an output goes without --out: in the run folder, or beside the model file.
    public func defaultOutput(_ name: String) -> URL { LoadedModel.defaultOutput(name, run: run, modelFile: modelFile) }
}
