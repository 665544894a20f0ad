import Foundation
import SafeTensors
import TensorCore

extension Module {
    /// The parameters and buffers as safetensors entries under their dotted keys (Linear weights
    /// [out, in], PyTorch's layout).
    public func stateDictionary(metadata: [String: String] = [:]) -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: metadata)
        for (key, tensor) in namedState() {
            file.tensors[key] = .init(shape: tensor.shape, values: tensor.scalars)
        }
        return file
    }

    /// Writes the parameters to a safetensors file, atomically.
    public func save(to url: URL, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try stateDictionary(metadata: metadata).write(to: url)
    }

    /// Copies every parameter and buffer from `file` (named `fileName` in errors). Every key must be
    /// present with the model's shape; the model is left unchanged when any is not.
    public func load(_ file: SafeTensorsFile, fileName: String) throws(SafeTensorsError) {
        let parameters = namedState()
        for (key, tensor) in parameters {
            guard let entry = file.tensors[key] else {
                throw .missingTensor(file: fileName, tensor: key, available: file.tensors.keys.sorted())
            }
            guard entry.shape == tensor.shape else {
                throw .shapeMismatch(file: fileName, tensor: key, expected: tensor.shape, found: entry.shape)
            }
            if let index = entry.values.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteValue(file: fileName, tensor: key, index: index, value: entry.values[index])
            }
        }
        for (key, tensor) in parameters {
            file.tensors[key]!.values.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: tensor.count) }
        }
    }

    /// Reads a safetensors file and loads it (see `load(_:fileName:)`).
    public func load(from url: URL) throws(SafeTensorsError) {
        try load(SafeTensorsFile.read(from: url), fileName: url.path)
    }
}
