import Benchmarks
import CKernels
import TensorCore
import Testing
import VAE
import VAEModels

/// The FLOP a convolution layer's pass does, which `vae bench conv` divides by the cores' peak
/// to give a step's floor.
@Suite struct ConvolutionFlopsTests {
    /// Counts the multiply-adds of the layer's convolution in its scatter form, pixel by pixel:
    /// each input pixel i of the smaller side and each tap t adds to output pixel i · s − p + t of
    /// the larger side when that pixel exists (a transposed convolution's forward pass as written;
    /// a convolution's backward-data pass).
    static func bruteForce(_ layer: ConvolutionLayerBenchmark.Layer) -> Double {
        let size = layer.batch
        let (k, s, p) = (layer.kernel, layer.stride, layer.padding)
        let smallHeight: Int, smallWidth: Int, largeHeight: Int, largeWidth: Int
        if layer.transposed {
            (smallHeight, smallWidth) = (size.height, size.width)
            largeHeight = (size.height - 1) * s - 2 * p + k + layer.outputPadding.height
            largeWidth = (size.width - 1) * s - 2 * p + k + layer.outputPadding.width
        } else {
            (largeHeight, largeWidth) = (size.height, size.width)
            smallHeight = (size.height + 2 * p - k) / s + 1
            smallWidth = (size.width + 2 * p - k) / s + 1
        }
        var pairs = 0
        for y in 0..<smallHeight {
            for x in 0..<smallWidth {
                for row in 0..<k {
                    for column in 0..<k {
                        let (outY, outX) = (y * s - p + row, x * s - p + column)
                        if outY >= 0 && outY < largeHeight && outX >= 0 && outX < largeWidth { pairs += 1 }
                    }
                }
            }
        }
        return 2 * Double(size.batch * size.channels * layer.outputChannels * pairs)
    }

    static func layer(transposed: Bool, channels: Int, height: Int, width: Int, out: Int, kernel: Int, stride: Int, padding: Int,
                      outputPadding: Int = 0) -> ConvolutionLayerBenchmark.Layer {
        ConvolutionLayerBenchmark.Layer(name: "test", transposed: transposed, batch: ImageBatchSize(batch: 3, channels: channels, height: height, width: width),
                                        outputChannels: out, kernel: kernel, stride: stride, padding: padding,
                                        outputPadding: SpatialPair(outputPadding), inputGradient: true)
    }

    @Test func aPassCountsOnlyTheTapsThatLandOnTheInput() {
        let layers = [
            Self.layer(transposed: false, channels: 2, height: 9, width: 7, out: 5, kernel: 4, stride: 2, padding: 1),
            Self.layer(transposed: false, channels: 3, height: 8, width: 8, out: 4, kernel: 3, stride: 1, padding: 1),
            Self.layer(transposed: false, channels: 1, height: 6, width: 5, out: 2, kernel: 3, stride: 2, padding: 0),
            Self.layer(transposed: true, channels: 4, height: 4, width: 3, out: 2, kernel: 4, stride: 2, padding: 1),
            Self.layer(transposed: true, channels: 3, height: 7, width: 7, out: 1, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
            Self.layer(transposed: true, channels: 5, height: 5, width: 6, out: 3, kernel: 3, stride: 1, padding: 1),
        ]
        for layer in layers {
            #expect(ConvolutionLayerBenchmark.flops(of: layer) == Self.bruteForce(layer), "\(layer)")
        }
        // Padding's taps are left out: a 4x4 stride-2 convolution from 8x8 to 4x4 with padding 1
        // uses 14 of the 16 (output, tap) pairs along each axis.
        let edge = Self.layer(transposed: false, channels: 1, height: 8, width: 8, out: 1, kernel: 4, stride: 2, padding: 1)
        #expect(ConvolutionLayerBenchmark.flops(of: edge) == 2 * 3 * 14 * 14)
    }

    @Test func aTrainingStepCountsThreePassesWhereTheInputNeedsAGradient() {
        var first = Self.layer(transposed: false, channels: 1, height: 8, width: 8, out: 2, kernel: 4, stride: 2, padding: 1)
        first.inputGradient = false
        let second = Self.layer(transposed: true, channels: 2, height: 4, width: 4, out: 1, kernel: 4, stride: 2, padding: 1)
        let step = ConvolutionLayerBenchmark.trainingStepFlops(layers: [first, second], denseWeights: 100, batch: 3)
        #expect(step == 2 * ConvolutionLayerBenchmark.flops(of: first) + 3 * ConvolutionLayerBenchmark.flops(of: second) + 3 * 2 * 100 * 3)
    }

    /// dsprites-conv's step: its eight layers' passes and three passes through its dense weights
    /// (1024 -> 256, the two heads 256 -> 10, 10 -> 256, 256 -> 1024) at batch 64.
    @Test func theDSpritesModelsStepIsItsLayersAndItsDenseWeights() throws {
        let configuration = try #require(Preset.named("dsprites-conv")).configuration
        let architecture = try #require(configuration.model.architecture(as: ConvolutionalModelConfiguration.self))
        var generator = RandomGenerator(seed: 1)
        let model = try configuration.model.makeModel(using: &generator)
        let layers = ConvolutionLayerBenchmark.layers(of: architecture, batch: 64)
        #expect(layers.count == 8 && layers.filter(\.transposed).count == 4 && !layers[0].inputGradient)
        let convolutions = layers.reduce(0.0) { $0 + Self.bruteForce($1) * ($1.inputGradient ? 3 : 2) }
        let dense = 3 * 2 * Double(1024 * 256 + 2 * 256 * 10 + 10 * 256 + 256 * 1024) * 64
        #expect(ConvolutionLayerBenchmark.trainingStepFlops(of: architecture, model: model, batch: 64) == convolutions + dense)
        #expect(abs((convolutions + dense) / 1e9 - 5.585) < 0.001)
    }

    @Test func thePeakLoopsRunWhereTheProcessorHasThem() {
        let fp32 = CorePeak.gigaflops(.fp32)
        #expect((fp32 != nil) == (vae_kernels_have_avx512() == 1))
        if let fp32 { #expect(fp32.isFinite && fp32 > 0) }
        let bf16 = CorePeak.gigaflops(.bf16, threads: 2)
        #expect((bf16 != nil) == (vae_kernels_have_avx512_bf16() == 1))
        if let bf16 { #expect(bf16.isFinite && bf16 > 0) }
    }
}
