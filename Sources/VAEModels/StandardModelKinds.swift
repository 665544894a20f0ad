import Synchronization
import VAE

/// The toolkit's own model kinds: the MLP VAE ("mlp"), the convolutional VAE ("conv"), the
/// coordinate decoder with a learned affine transform ("affine"), the MLP VAE with several
/// stochastic layers ("hierarchical-mlp") and the hierarchical convolutional VAE ("hierarchical") and the VQ-VAE ("vq"). A new kind of the toolkit adds
/// one line here; a kind defined in another package calls `ModelKinds.register` itself.
public enum StandardModelKinds {
    /// The kinds, in the order `vae presets` lists their presets.
    public static let all: [any ModelArchitecture.Type] = [
        MLPConfiguration.self,
        ConvolutionalModelConfiguration.self,
        AffineModelConfiguration.self,
        HierarchicalMLPConfiguration.self,
        HierarchicalConvolutionalConfiguration.self,
        VectorQuantizedConfiguration.self,
    ]

    private static let registered = Atomic<Bool>(false)

    /// Registers the toolkit's kinds (once; later calls do nothing). The toolkit calls it
    /// wherever it reads presets, run folders or model files.
    public static func register() {
        guard !registered.load(ordering: .acquiring) else { return }
        for kind in all { ModelKinds.register(kind) }
        registered.store(true, ordering: .releasing)
    }
}

extension Preset {
    /// Every preset of every registered kind (the toolkit's registered first), in the order
    /// `vae presets` lists them.
    public static var all: [Preset] {
        StandardModelKinds.register()
        return ModelKinds.all.flatMap { $0.presets }
    }

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }
}

extension ModelSpecification {
    /// An MLP VAE of `configuration`.
    public static func mlp(_ configuration: MLPConfiguration) -> ModelSpecification { ModelSpecification(configuration) }
    /// A convolutional VAE of `configuration`.
    public static func convolutional(_ configuration: ConvolutionalModelConfiguration) -> ModelSpecification { ModelSpecification(configuration) }
    /// The affine kind (a coordinate decoder that learns an affine transform) of `configuration`.
    public static func affine(_ configuration: AffineModelConfiguration) -> ModelSpecification { ModelSpecification(configuration) }
}
