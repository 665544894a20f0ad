import Foundation
import Testing
import NN
import SafeTensors
import TensorCore

/// A two-level model with PyTorch's names for the MLP VAE's layers.
final class TinyVAE: Module {
    let fc1: Linear, fc21: Linear, fc22: Linear
    let decoder: MultilayerPerceptron

    init(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        fc1 = Linear(inputSize: 6, outputSize: 4, using: &generator)
        fc21 = Linear(inputSize: 4, outputSize: 2, using: &generator)
        fc22 = Linear(inputSize: 4, outputSize: 2, using: &generator)
        decoder = MultilayerPerceptron(sizes: [2, 4, 6], activation: .relu, using: &generator)
    }
}

@Suite struct ModuleTests {
    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vae-tests-\(UUID().uuidString)-\(name)")
    }

    @Test func parametersAreFoundByReflectionAsDottedKeys() {
        let keys = TinyVAE(seed: 1).namedParameters().map(\.key)
        #expect(keys == ["fc1.weight", "fc1.bias", "fc21.weight", "fc21.bias", "fc22.weight", "fc22.bias",
                         "decoder.layers.0.weight", "decoder.layers.0.bias", "decoder.layers.1.weight", "decoder.layers.1.bias"])
        #expect(TinyVAE(seed: 1).parameterCount == 28 + 10 + 10 + 12 + 30)
    }

    @Test func linearInitialisationIsPyTorchsUniformBound() {
        var generator = RandomGenerator(seed: 3)
        let layer = Linear(inputSize: 400, outputSize: 300, using: &generator)
        let bound = 1 / Float(400).squareRoot()
        let weights = layer.weight.scalars, bias = layer.bias!.scalars
        #expect(layer.weight.shape == [300, 400] && bias.count == 300)
        #expect(weights.allSatisfy { abs($0) <= bound } && bias.allSatisfy { abs($0) <= bound })
        // Uniform(-b, b) has variance b²/3.
        let variance = weights.reduce(0.0) { $0 + Double($1 * $1) } / Double(weights.count)
        #expect(abs(variance - Double(bound * bound) / 3) < 0.02 * Double(bound * bound))
        #expect((weights.max()! - bound) > -0.01 * bound)
    }

    @Test func checkpointRoundTripRestoresEveryParameter() throws {
        let url = temporaryFile("model.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let original = TinyVAE(seed: 1)
        try original.save(to: url, metadata: ["format": "pt"])
        let restored = TinyVAE(seed: 2)
        #expect(restored.parameters[0].scalars != original.parameters[0].scalars)
        try restored.load(from: url)
        for (a, b) in zip(original.namedParameters(), restored.namedParameters()) {
            #expect(a.key == b.key && a.tensor.scalars == b.tensor.scalars)
        }
        let reread = try SafeTensorsFile.read(from: url)
        #expect(reread.tensors["fc1.weight"]?.shape == [4, 6] && reread.metadata == ["format": "pt"])
    }

    @Test func checkpointForAnotherArchitectureIsRejectedNamingTheTensor() throws {
        let url = temporaryFile("other.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var generator = RandomGenerator(seed: 1)
        try MultilayerPerceptron(sizes: [6, 5], activation: .relu, using: &generator).save(to: url)
        let model = TinyVAE(seed: 1)
        let before = model.parameters.map(\.scalars)
        #expect(throws: SafeTensorsError.missingTensor(file: url.path, tensor: "fc1.weight", available: ["layers.0.bias", "layers.0.weight"])) {
            try model.load(from: url)
        }
        var file = model.stateDictionary()
        file.tensors["fc21.weight"] = .init(shape: [3, 4], values: Array(repeating: 0, count: 12))
        #expect(throws: SafeTensorsError.shapeMismatch(file: "edited", tensor: "fc21.weight", expected: [2, 4], found: [3, 4])) {
            try model.load(file, fileName: "edited")
        }
        #expect(model.parameters.map(\.scalars) == before)
        let message = SafeTensorsError.shapeMismatch(file: "f", tensor: "fc21.weight", expected: [2, 4], found: [3, 4]).localizedDescription
        #expect(message.contains("fc21.weight") && message.contains("[3, 4]") && message.contains("[2, 4]"))
    }
}
