import Datasets
import NN
import SafeTensors
import VAE

extension MLPConfiguration {
    /// The architecture of a model file made elsewhere, read off its tensor shapes: PyTorch's
    /// example names (`fc1`, `fc21`, `fc22`, `fc3`, `fc4`) or this tool's
    /// (`encoder.hidden.N`, `encoder.mean`, `encoder.spread`, ...). Activation, variance head,
    /// likelihood and initialiser cannot be read off shapes and come from `base`.
    /// Returns nil when the names fit neither scheme.
    public static func inferred(from file: SafeTensorsFile, base: MLPConfiguration) -> MLPConfiguration? {
        var configuration = base
        if let first = file.tensors["fc1.weight"]?.shape, first.count == 2, let mean = file.tensors["fc21.weight"]?.shape, mean.count == 2 {
            configuration.imageShape = shape(for: first[1], base: base.imageShape)
            configuration.hiddenSizes = [first[0]]
            configuration.latentSize = mean[0]
            return configuration
        }
        var hidden: [Int] = []
        var input: Int?
        while let shape = file.tensors["encoder.hidden.\(hidden.count).weight"]?.shape, shape.count == 2 {
            if hidden.isEmpty { input = shape[1] }
            hidden.append(shape[0])
        }
        guard let input, !hidden.isEmpty, let mean = file.tensors["encoder.mean.weight"]?.shape, mean.count == 2 else { return nil }
        configuration.imageShape = shape(for: input, base: base.imageShape)
        configuration.hiddenSizes = hidden
        configuration.latentSize = mean[0]
        return configuration
    }

    /// The base's image shape when it has `count` values, else a grey square (or one row).
    static func shape(for count: Int, base: ImageShape) -> ImageShape {
        base.count == count ? base : ImageShape.square(count: count) ?? .grey(height: 1, width: count)
    }
}
