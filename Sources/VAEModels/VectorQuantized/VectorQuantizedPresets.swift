import Datasets
import VAE

/// The VQ-VAE kind's presets.
enum VectorQuantizedPresets {
    static var all: [Preset] {
        [
            Preset(name: "vq-mnist",
                   summary: "a VQ-VAE for 28x28 digits: conv 32 and 64 (4x4, stride 2) and 64 (3x3), a 1x1 conv to a 7x7 grid of 16-dimensional codes from a codebook of 128 (moving averages, decay 0.99; commitment 0.25; dead codes restarted); deconv 64 and 32 (4x4, stride 2), deconv 1 (3x3); ReLU, Gaussian (squared error) on the grey levels, Adam 1e-3, batch 128, 30 epochs; then `vae train-prior` fits its PixelCNN prior",
                   configuration: TrainingConfiguration(preset: "vq-mnist", model: ModelSpecification(VectorQuantizedConfiguration.digits), epochs: 30)),
            Preset(name: "vq-colour",
                   summary: "a VQ-VAE for colour images of 32x32 (--images FOLDER): conv 64 and 128 (4x4, stride 2) and 128 (3x3), a 1x1 conv to an 8x8 grid of 32-dimensional codes from a codebook of 256 (moving averages, decay 0.99; commitment 0.25; dead codes restarted); deconv 128 and 64 (4x4, stride 2), deconv 3 (3x3); ReLU, Gaussian (squared error) on the colour levels, Adam 2e-4 (the paper's), batch 32, 30 epochs",
                   // At Adam's 1e-3 the decoder's ReLUs all die within the first epoch on the emoji (its
                   // output turns constant: test MSE 0.0758 from then on); at the paper's 2e-4 the test
                   // MSE is 0.021 after 3 epochs (seed 1).
                   configuration: TrainingConfiguration(preset: "vq-colour", model: ModelSpecification(VectorQuantizedConfiguration.colour), learningRate: 2e-4,
                                                        batchSize: 32, epochs: 30, evaluationBatchSize: 250)),
        ]
    }
}

extension VectorQuantizedConfiguration {
    /// The `vq-mnist` preset's architecture: keras-io's VQ-VAE example (vq_vae.py: conv 32 and 64
    /// at stride 2, a 1x1 conv to 16 channels, a codebook of 128 on the 7x7 grid, and the mirror)
    /// with 4x4 kernels as the conv kind's `conv-mnist` has them, and one more 3x3 convolution
    /// before the projection. That layer widens each code's view of the image (10 to 18 pixels),
    /// so fewer codes see only blank background: after one epoch (seed 1) the test perplexity is
    /// 96 of 128 against 74 without it, at about the same squared error (0.0047 and 0.0048).
    public static let digits = VectorQuantizedConfiguration(
        encoderConvolutions: [32, 64].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) }
            + [ConvolutionLayer(channels: 64, kernel: 3, stride: 1, padding: 1)],
        codeDimension: 16, codebookSize: 128,
        decoderConvolutions: [64, 32].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) })

    /// The `vq-colour` preset's architecture for 3x32x32 images: `digits` widened (64 and 128
    /// channels) to an 8x8 grid of 32-dimensional codes from 256.
    public static let colour = VectorQuantizedConfiguration(
        imageShape: ImageShape(channels: 3, height: 32, width: 32),
        encoderConvolutions: [64, 128].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) }
            + [ConvolutionLayer(channels: 128, kernel: 3, stride: 1, padding: 1)],
        codeDimension: 32, codebookSize: 256,
        decoderConvolutions: [128, 64].map { ConvolutionLayer(channels: $0, kernel: 4, stride: 2, padding: 1) })
}
