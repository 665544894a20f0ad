import CDNNL
import Datasets
import Foundation
import NN
import TensorCore
import VAE
import VAEModels

/// Per layer of a convolutional VAE: our convolution ops against the same oneDNN primitives
/// called directly (one primitive per pass, preallocated buffers in the layouts oneDNN chose,
/// no reorders but one: where oneDNN has only its reference kernel for the blocked layout the
/// previous layer writes, the direct pass reorders its input first, as our op must), in the same
/// run, alternating. A transposed layer's direct passes are the convolution primitives it runs
/// on: its forward pass is a convolution's backward-data pass (without the bias, which our op
/// adds in a pass of its own); its backward pass a convolution's forward pass (the input
/// gradient) and backward-weights pass. A transposed layer's forward pass is also timed against
/// oneDNN's deconvolution primitive with bias, the primitive oneDNN offers for the whole layer.
/// GFLOP/s count 2 · N · C_out · H_out · W_out · C_in · kH · kW per pass (of the convolution)
/// for each.
public struct ConvolutionLayerBenchmark {
    public struct Layer: Sendable {
        public var name: String
        public var transposed: Bool
        public var batch: ImageBatchSize
        public var outputChannels: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int
        public var outputPadding: SpatialPair
        /// Whether the layer's input needs a gradient (not for the first encoder layer).
        public var inputGradient: Bool

        /// A layer taking `batch` (its input's size) to `outputChannels` channels.
        public init(name: String, transposed: Bool, batch: ImageBatchSize, outputChannels: Int, kernel: Int, stride: Int, padding: Int,
                    outputPadding: SpatialPair, inputGradient: Bool) {
            (self.name, self.transposed, self.batch, self.outputChannels) = (name, transposed, batch, outputChannels)
            (self.kernel, self.stride, self.padding, self.outputPadding, self.inputGradient) = (kernel, stride, padding, outputPadding, inputGradient)
        }
    }

    public struct Row: Sendable {
        public var layer: String
        public var pass: String
        public var flops: Double
        public var oursSeconds: Double
        public var directSeconds: Double
        public var implementation: String
        /// Direct time over ours: the share of the primitive's speed our op delivers.
        public var share: Double { directSeconds / oursSeconds }
    }

    public let rounds: Int
    public init(rounds: Int) { self.rounds = rounds }

    /// The convolution layers of `configuration` at `batch` images.
    public static func layers(of configuration: ConvolutionalModelConfiguration, batch: Int) -> [Layer] {
        var layers: [Layer] = []
        var channels = configuration.imageShape.channels, height = configuration.imageShape.height, width = configuration.imageShape.width
        if case let .success(grids) = configuration.encoderGrids {
            for (index, (layer, grid)) in zip(configuration.encoderConvolutions, grids).enumerated() {
                layers.append(Layer(name: "encoder conv \(index + 1) \(channels)->\(layer.channels) \(height)x\(width)->\(grid.height)x\(grid.width)",
                                    transposed: false, batch: ImageBatchSize(batch: batch, channels: channels, height: height, width: width),
                                    outputChannels: layer.channels, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                    outputPadding: SpatialPair(0), inputGradient: index > 0))
                (channels, height, width) = (layer.channels, grid.height, grid.width)
            }
        }
        if case let .success(stages) = configuration.decoderStages, let grid = configuration.decoderGrid {
            (channels, height, width) = (grid.channels, grid.height, grid.width)
            for (index, stage) in stages.enumerated() {
                let layer = stage.layer
                let outHeight = transposedConvolutionOutputLength(input: height, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                                                  outputPadding: stage.outputPadding.height)!
                let outWidth = transposedConvolutionOutputLength(input: width, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                                                 outputPadding: stage.outputPadding.width)!
                let name = index == stages.count - 1 ? "output deconv" : "decoder deconv \(index + 1)"
                layers.append(Layer(name: "\(name) \(channels)->\(layer.channels) \(height)x\(width)->\(outHeight)x\(outWidth)", transposed: true,
                                    batch: ImageBatchSize(batch: batch, channels: channels, height: height, width: width),
                                    outputChannels: layer.channels, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                    outputPadding: stage.outputPadding, inputGradient: true))
                (channels, height, width) = (layer.channels, outHeight, outWidth)
            }
        }
        return layers
    }

    public func run(_ layer: Layer) -> [Row] {
        var generator = RandomGenerator(seed: 11)
        let size = layer.batch
        let k = layer.kernel
        let weightShape = layer.transposed ? [size.channels, layer.outputChannels, k, k] : [layer.outputChannels, size.channels, k, k]
        let x = Tensor.randomUniform(size.shape(.planar), low: 0, high: 1, using: &generator, requiresGradient: layer.inputGradient)
        let weight = Tensor.randomUniform(weightShape, low: -0.1, high: 0.1, using: &generator, requiresGradient: true)
        let bias = Tensor.randomUniform([layer.outputChannels], low: -0.1, high: 0.1, using: &generator, requiresGradient: true)
        let stride = SpatialPair(layer.stride), padding = SpatialPair(layer.padding)
        // The layer's input as the previous layer hands it over (channel-blocked when it would be).
        let input = layer.inputGradient && size.channels % 8 == 0 ? Self.blockedLikeOneDNN(x) : x
        func forward() -> Tensor {
            layer.transposed
                ? Tensor.transposedConvolution2D(input, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: layer.outputPadding)
                : Tensor.convolution2D(input, weight: weight, bias: bias, stride: stride, padding: padding)
        }
        let output = forward()
        let gradient = Tensor.randomUniform(output.shape, low: -1, high: 1, using: &generator)
        func backward() {
            for tensor in [input, x, weight, bias] { tensor.zeroGradient() }
            output.propagateOwnGradient(gradient)
        }

        // The convolution in its own terms: source -> destination.
        let outputSize = output.imageBatchSize
        let (source, destination) = layer.transposed ? (outputSize, size) : (size, outputSize)
        let direct = DirectConvolution(source: source, destination: destination, kernel: k, stride: layer.stride, padding: layer.padding,
                                       bias: !layer.transposed, transposed: layer.transposed, inputLayout: input.imageLayout!)
        let flops = 2 * Double(destination.batch * destination.channels * destination.height * destination.width) * Double(source.channels * k * k)

        var oursForward: [Double] = [], oursBackward: [Double] = [], directForward: [Double] = [], directBackward: [Double] = []
        var deconvolutionForward: [Double] = []
        for _ in 0..<rounds {
            oursForward.append(Self.time { _ = forward() })
            directForward.append(Self.time { layer.transposed ? direct.backwardData() : direct.forward() })
            if direct.deconvolutionImplementation != nil { deconvolutionForward.append(Self.time { _ = direct.deconvolutionForward() }) }
            oursBackward.append(Self.time { backward() })
            directBackward.append(Self.time {
                if layer.inputGradient { layer.transposed ? direct.forward() : direct.backwardData() }
                direct.backwardWeights()
            })
        }
        let passes = layer.inputGradient ? 2.0 : 1.0
        let names = direct.implementations
        func named(_ pass: Int) -> String {
            [names.forward, names.backwardData, names.backwardWeights][pass] + (direct.reordersInput(before: pass) ? " after an input reorder" : "")
        }
        var rows = [
            Row(layer: layer.name, pass: "forward", flops: flops, oursSeconds: oursForward.min()!, directSeconds: directForward.min()!,
                implementation: named(layer.transposed ? 1 : 0)),
            Row(layer: layer.name, pass: layer.inputGradient ? "backward (data + weights)" : "backward (weights)", flops: flops * passes,
                oursSeconds: oursBackward.min()!, directSeconds: directBackward.min()!,
                implementation: (layer.inputGradient ? named(layer.transposed ? 0 : 1) + " + " : "") + named(2)),
        ]
        if let name = direct.deconvolutionImplementation {
            rows.insert(Row(layer: layer.name, pass: "forward, against oneDNN's deconvolution primitive with bias", flops: flops,
                            oursSeconds: oursForward.min()!, directSeconds: deconvolutionForward.min()!, implementation: name), at: 1)
        }
        return rows
    }

    /// x blocked as oneDNN's fastest layout here would block it (8 lanes with AVX2, 16 with AVX-512),
    /// found by asking a convolution what it writes.
    static func blockedLikeOneDNN(_ x: Tensor) -> Tensor {
        let size = x.imageBatchSize
        let probe = Tensor.convolution2D(Tensor.zeros([1, 1, 3, 3]), weight: Tensor.zeros([size.channels, 1, 1, 1]), bias: nil)
        if case let .blocked(block) = probe.imageLayout, size.channels % block == 0 {
            let blocked = x.detached().blockedImages(block)
            return Tensor(shape: blocked.shape, storage: blocked.storage, requiresGradient: x.requiresGradient)
        }
        return x
    }

    static func time(_ body: () -> Void) -> Double {
        let started = BLAS.now()
        body()
        return BLAS.now() - started
    }

    /// The FLOP of one pass of `layer`'s convolution (any of its three passes: forward,
    /// backward-data, backward-weights), counting only kernel taps that land on the input, as
    /// oneDNN's kernels do: 2 · N · C_in · C_out · P_h · P_w, where P is the number of (output,
    /// tap) pairs along an axis whose input index o · s − p + t lies inside the input. A
    /// transposed layer counts the convolution it transposes (from its output to its input).
    public static func flops(of layer: Layer) -> Double {
        let size = layer.batch
        func pairs(_ input: Int, _ outputPadding: Int) -> Int {
            let (small, large): (Int, Int) = layer.transposed
                ? (input, transposedConvolutionOutputLength(input: input, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                                            outputPadding: outputPadding)!)
                : (convolutionOutputLength(input: input, kernel: layer.kernel, stride: layer.stride, padding: layer.padding)!, input)
            var count = 0
            for output in 0..<small {
                for tap in 0..<layer.kernel where (0..<large).contains(output * layer.stride - layer.padding + tap) { count += 1 }
            }
            return count
        }
        return 2 * Double(size.batch * size.channels * layer.outputChannels)
            * Double(pairs(size.height, layer.outputPadding.height) * pairs(size.width, layer.outputPadding.width))
    }

    /// The FLOP of one training step of a convolutional model: each layer's forward,
    /// backward-weights and (where its input needs one) backward-data passes, and three passes
    /// through `denseWeights` dense weights (2 FLOP per weight and image each) at `batch` images.
    /// What the loss, the activations and the optimizer do is left out: the floor it gives is a
    /// lower bound.
    public static func trainingStepFlops(layers: [Layer], denseWeights: Int, batch: Int) -> Double {
        let convolutions = layers.reduce(0.0) { $0 + flops(of: $1) * ($1.inputGradient ? 3 : 2) }
        return convolutions + 3 * 2 * Double(denseWeights * batch)
    }

    /// The FLOP of one training step of `model`, built from `configuration`, at `batch` images:
    /// its convolution layers' passes and three passes through its two-dimensional parameters
    /// (the dense layers' weights).
    public static func trainingStepFlops(of configuration: ConvolutionalModelConfiguration, model: Module, batch: Int) -> Double {
        let denseWeights = model.parameters.filter { $0.shape.count == 2 }.reduce(0) { $0 + $1.count }
        return trainingStepFlops(layers: layers(of: configuration, batch: batch), denseWeights: denseWeights, batch: batch)
    }

    public static func table(_ rows: [Row]) -> String {
        var lines = ["| layer | pass | ours ms | ours GFLOP/s | oneDNN direct ms | direct GFLOP/s | share | primitive |", "|---|---|---|---|---|---|---|---|"]
        for row in rows {
            lines.append(String(format: "| %@ | %@ | %.2f | %.0f | %.2f | %.0f | %.0f%% | %@ |", row.layer, row.pass, row.oursSeconds * 1e3,
                                row.flops / row.oursSeconds / 1e9, row.directSeconds * 1e3, row.flops / row.directSeconds / 1e9,
                                100 * row.share, row.implementation))
        }
        return lines.joined(separator: "\n")
    }
}

/// The three convolution primitives of one shape called directly through oneDNN's C API, with
/// `format_tag::any` layouts and buffers allocated once.
final class DirectConvolution {
    private var engine: dnnl_engine_t?
    private var stream: dnnl_stream_t?
    private var forwardPrimitive: dnnl_primitive_t?
    private var dataPrimitive: dnnl_primitive_t?
    private var weightsPrimitive: dnnl_primitive_t?
    private var forwardArguments: [dnnl_exec_arg_t] = []
    private var dataArguments: [dnnl_exec_arg_t] = []
    private var weightsArguments: [dnnl_exec_arg_t] = []
    private var memories: [dnnl_memory_t?] = []
    /// Where the layer's blocked input leaves oneDNN only its reference kernels, the input side
    /// is left to oneDNN, and a pass that reads the input must first reorder it from the blocked
    /// layout the previous layer writes, as our op does: these reorders run before the forward
    /// (for a transposed layer, the backward-data) and backward-weights primitives.
    private var inputReorders: [(primitive: dnnl_primitive_t?, arguments: [dnnl_exec_arg_t])?] = [nil, nil, nil]
    let implementations: (forward: String, backwardData: String, backwardWeights: String)
    /// For a transposed layer, oneDNN's own deconvolution primitive with bias (forward), the
    /// primitive oneDNN offers for the whole layer, and its implementation's name.
    private var deconvolutionPrimitive: dnnl_primitive_t?
    private var deconvolutionArguments: [dnnl_exec_arg_t] = []
    private(set) var deconvolutionImplementation: String?
    /// Whether the forward (0), backward-data (1) or backward-weights (2) pass starts with an
    /// input reorder (see `inputReorders`).
    func reordersInput(before pass: Int) -> Bool { inputReorders[pass] != nil }

    /// The layouts follow our ops' rule: the op's input side in the layout the previous layer
    /// hands over (`inputLayout`: its blocked format, or planar read as it is when its channels do
    /// not fill blocks of 8, else oneDNN's choice); the output side oneDNN's choice when its
    /// channels fill blocks, planar otherwise.
    init(source: ImageBatchSize, destination: ImageBatchSize, kernel: Int, stride: Int, padding: Int, bias: Bool,
         transposed: Bool, inputLayout: ImageLayout) {
        dnnl_engine_create(&engine, dnnl_cpu, 0)
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        func describe(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
            var descriptor = dnnl_memory_desc_t()
            dnnl_memory_desc_init_by_tag(&descriptor, Int32(dims.count), dims.map { dnnl_dim_t($0) }, dnnl_f32, tag)
            return descriptor
        }
        func inputTag(_ channels: Int) -> dnnl_format_tag_t {
            switch inputLayout {
            case .blocked(8): dnnl_nChw8c
            case .blocked(16): dnnl_nChw16c
            default: channels % 8 == 0 ? dnnl_format_tag_any : dnnl_nchw
            }
        }
        func outputTag(_ channels: Int) -> dnnl_format_tag_t { channels % 8 == 0 ? dnnl_format_tag_any : dnnl_nchw }
        var sourceDescriptor = describe([source.batch, source.channels, source.height, source.width],
                                        transposed ? outputTag(source.channels) : inputTag(source.channels))
        var destinationDescriptor = describe([destination.batch, destination.channels, destination.height, destination.width],
                                             transposed ? inputTag(destination.channels) : outputTag(destination.channels))
        var weightsDescriptor = describe([destination.channels, source.channels, kernel, kernel], dnnl_format_tag_any)
        var biasDescriptor = describe([destination.channels], dnnl_x)
        let strides = [dnnl_dim_t(stride), dnnl_dim_t(stride)], before = [dnnl_dim_t(padding), dnnl_dim_t(padding)]
        let after = [dnnl_dim_t((destination.height - 1) * stride + kernel - source.height - padding),
                     dnnl_dim_t((destination.width - 1) * stride + kernel - source.width - padding)]
        var forwardDescriptor: dnnl_primitive_desc_t?, dataDescriptor: dnnl_primitive_desc_t?, weightsGradientDescriptor: dnnl_primitive_desc_t?
        let engineHandle = engine
        func createDescriptors() {
            var forward = dnnl_convolution_desc_t(), data = dnnl_convolution_desc_t(), weights = dnnl_convolution_desc_t()
            withUnsafePointer(to: &biasDescriptor) { biasPointer in
                _ = dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, &sourceDescriptor, &weightsDescriptor,
                                                       bias ? biasPointer : nil, &destinationDescriptor, strides, before, after)
                _ = dnnl_convolution_backward_weights_desc_init(&weights, dnnl_convolution_direct, &sourceDescriptor, &weightsDescriptor,
                                                                bias ? biasPointer : nil, &destinationDescriptor, strides, before, after)
            }
            _ = dnnl_convolution_backward_data_desc_init(&data, dnnl_convolution_direct, &sourceDescriptor, &weightsDescriptor, &destinationDescriptor,
                                                         strides, before, after)
            precondition(dnnl_primitive_desc_create(&forwardDescriptor, &forward, nil, engineHandle, nil) == dnnl_success)
            precondition(dnnl_primitive_desc_create(&dataDescriptor, &data, nil, engineHandle, forwardDescriptor) == dnnl_success)
            precondition(dnnl_primitive_desc_create(&weightsGradientDescriptor, &weights, nil, engineHandle, forwardDescriptor) == dnnl_success)
        }
        func name(_ descriptor: dnnl_primitive_desc_t?) -> String {
            var text: UnsafePointer<CChar>?
            dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &text)
            return text.map { String(cString: $0) } ?? "?"
        }
        createDescriptors()
        // As our ops do: when a blocked input side leaves oneDNN only its reference loops, the
        // input side is left to oneDNN instead.
        let blockedInput = transposed ? destinationDescriptor : sourceDescriptor
        var inputLeftToOneDNN = false
        if case .blocked = inputLayout, [forwardDescriptor, dataDescriptor, weightsGradientDescriptor].contains(where: { name($0).hasPrefix("ref") }) {
            inputLeftToOneDNN = true
            for descriptor in [forwardDescriptor, dataDescriptor, weightsGradientDescriptor] { dnnl_primitive_desc_destroy(descriptor) }
            if transposed {
                destinationDescriptor = describe([destination.batch, destination.channels, destination.height, destination.width], dnnl_format_tag_any)
            } else {
                sourceDescriptor = describe([source.batch, source.channels, source.height, source.width], dnnl_format_tag_any)
            }
            createDescriptors()
        }
        implementations = (name(forwardDescriptor), name(dataDescriptor), name(weightsGradientDescriptor))
        var allocated: [dnnl_memory_t?] = []
        func memory(_ descriptor: dnnl_primitive_desc_t?, _ query: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_t? {
            var result: dnnl_memory_t?
            var md = dnnl_primitive_desc_query_md(descriptor, query, index)!.pointee
            dnnl_memory_create(&result, &md, engine, UnsafeMutableRawPointer(bitPattern: -1))  // DNNL_MEMORY_ALLOCATE
            var handle: UnsafeMutableRawPointer?
            dnnl_memory_get_data_handle(result, &handle)
            memset(handle!, 0, dnnl_memory_desc_get_size(&md))
            allocated.append(result)
            return result
        }
        forwardArguments = [dnnl_exec_arg_t(arg: CDNNL_ARG_SRC, memory: memory(forwardDescriptor, dnnl_query_src_md)),
                            dnnl_exec_arg_t(arg: CDNNL_ARG_WEIGHTS, memory: memory(forwardDescriptor, dnnl_query_weights_md)),
                            dnnl_exec_arg_t(arg: CDNNL_ARG_DST, memory: memory(forwardDescriptor, dnnl_query_dst_md))]
        if bias { forwardArguments.append(dnnl_exec_arg_t(arg: CDNNL_ARG_BIAS, memory: memory(forwardDescriptor, dnnl_query_weights_md, 1))) }
        dataArguments = [dnnl_exec_arg_t(arg: CDNNL_ARG_DIFF_DST, memory: memory(dataDescriptor, dnnl_query_diff_dst_md)),
                         dnnl_exec_arg_t(arg: CDNNL_ARG_WEIGHTS, memory: memory(dataDescriptor, dnnl_query_weights_md)),
                         dnnl_exec_arg_t(arg: CDNNL_ARG_DIFF_SRC, memory: memory(dataDescriptor, dnnl_query_diff_src_md))]
        weightsArguments = [dnnl_exec_arg_t(arg: CDNNL_ARG_SRC, memory: memory(weightsGradientDescriptor, dnnl_query_src_md)),
                            dnnl_exec_arg_t(arg: CDNNL_ARG_DIFF_DST, memory: memory(weightsGradientDescriptor, dnnl_query_diff_dst_md)),
                            dnnl_exec_arg_t(arg: CDNNL_ARG_DIFF_WEIGHTS, memory: memory(weightsGradientDescriptor, dnnl_query_diff_weights_md))]
        if bias { weightsArguments.append(dnnl_exec_arg_t(arg: CDNNL_ARG_DIFF_BIAS, memory: memory(weightsGradientDescriptor, dnnl_query_diff_weights_md, 1))) }
        if inputLeftToOneDNN {
            // The passes that read the input: forward (src) or, transposed, backward-data (diff_dst);
            // and backward-weights (src, or diff_dst when transposed).
            let readers: [(slot: Int, descriptor: dnnl_primitive_desc_t?, query: dnnl_query_t, arguments: [dnnl_exec_arg_t], argument: Int32)] = transposed
                ? [(1, dataDescriptor, dnnl_query_diff_dst_md, dataArguments, CDNNL_ARG_DIFF_DST),
                   (2, weightsGradientDescriptor, dnnl_query_diff_dst_md, weightsArguments, CDNNL_ARG_DIFF_DST)]
                : [(0, forwardDescriptor, dnnl_query_src_md, forwardArguments, CDNNL_ARG_SRC),
                   (2, weightsGradientDescriptor, dnnl_query_src_md, weightsArguments, CDNNL_ARG_SRC)]
            for reader in readers {
                var wanted = dnnl_primitive_desc_query_md(reader.descriptor, reader.query, 0)!.pointee
                var have = blockedInput
                guard dnnl_memory_desc_equal(&wanted, &have) == 0,
                      let target = reader.arguments.first(where: { $0.arg == reader.argument })?.memory else { continue }
                var source: dnnl_memory_t?
                dnnl_memory_create(&source, &have, engine, UnsafeMutableRawPointer(bitPattern: -1))  // DNNL_MEMORY_ALLOCATE
                var handle: UnsafeMutableRawPointer?
                dnnl_memory_get_data_handle(source, &handle)
                memset(handle!, 0, dnnl_memory_desc_get_size(&have))
                allocated.append(source)
                var reorderDescriptor: dnnl_primitive_desc_t?
                precondition(dnnl_reorder_primitive_desc_create(&reorderDescriptor, &have, engine, &wanted, engine, nil) == dnnl_success)
                var reorder: dnnl_primitive_t?
                dnnl_primitive_create(&reorder, reorderDescriptor)
                dnnl_primitive_desc_destroy(reorderDescriptor)
                inputReorders[reader.slot] = (reorder, [dnnl_exec_arg_t(arg: CDNNL_ARG_FROM, memory: source), dnnl_exec_arg_t(arg: CDNNL_ARG_TO, memory: target)])
            }
        }
        if transposed {
            // The layer's input is the convolution's destination; its output the source.
            var input = describe([destination.batch, destination.channels, destination.height, destination.width], inputTag(destination.channels))
            var output = describe([source.batch, source.channels, source.height, source.width], outputTag(source.channels))
            var weights = describe([source.channels, destination.channels, kernel, kernel], dnnl_format_tag_any)
            var layerBias = describe([source.channels], dnnl_x)
            var operation = dnnl_deconvolution_desc_t()
            var descriptor: dnnl_primitive_desc_t?
            if dnnl_deconvolution_forward_desc_init(&operation, dnnl_forward_training, dnnl_deconvolution_direct, &input, &weights, &layerBias,
                                                    &output, strides, before, after) == dnnl_success,
               dnnl_primitive_desc_create(&descriptor, &operation, nil, engine, nil) == dnnl_success {
                // oneDNN's reference loops (a thousand times slower) are not timed.
                if !name(descriptor).hasPrefix("ref") {
                    deconvolutionImplementation = name(descriptor)
                    deconvolutionArguments = [dnnl_exec_arg_t(arg: CDNNL_ARG_SRC, memory: memory(descriptor, dnnl_query_src_md)),
                                              dnnl_exec_arg_t(arg: CDNNL_ARG_WEIGHTS, memory: memory(descriptor, dnnl_query_weights_md)),
                                              dnnl_exec_arg_t(arg: CDNNL_ARG_BIAS, memory: memory(descriptor, dnnl_query_weights_md, 1)),
                                              dnnl_exec_arg_t(arg: CDNNL_ARG_DST, memory: memory(descriptor, dnnl_query_dst_md))]
                    dnnl_primitive_create(&deconvolutionPrimitive, descriptor)
                }
                dnnl_primitive_desc_destroy(descriptor)
            }
        }
        memories = allocated
        dnnl_primitive_create(&forwardPrimitive, forwardDescriptor)
        dnnl_primitive_create(&dataPrimitive, dataDescriptor)
        dnnl_primitive_create(&weightsPrimitive, weightsGradientDescriptor)
        for descriptor in [forwardDescriptor, dataDescriptor, weightsGradientDescriptor] { dnnl_primitive_desc_destroy(descriptor) }
        // One untimed run of each, as our ops have had.
        self.forward(); self.backwardData(); self.backwardWeights(); _ = self.deconvolutionForward()
    }

    deinit {
        for primitive in [forwardPrimitive, dataPrimitive, weightsPrimitive, deconvolutionPrimitive] + inputReorders.compactMap({ $0?.primitive }) {
            dnnl_primitive_destroy(primitive)
        }
        for memory in memories { dnnl_memory_destroy(memory) }
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    func forward() { reorderInput(0); execute(forwardPrimitive, forwardArguments) }
    func backwardData() { reorderInput(1); execute(dataPrimitive, dataArguments) }
    func backwardWeights() { reorderInput(2); execute(weightsPrimitive, weightsArguments) }

    /// Runs oneDNN's deconvolution primitive with bias; false when there is none.
    func deconvolutionForward() -> Bool {
        guard deconvolutionPrimitive != nil else { return false }
        execute(deconvolutionPrimitive, deconvolutionArguments)
        return true
    }

    private func reorderInput(_ slot: Int) {
        if let reorder = inputReorders[slot] { execute(reorder.primitive, reorder.arguments) }
    }

    private func execute(_ primitive: dnnl_primitive_t?, _ arguments: [dnnl_exec_arg_t]) {
        dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments)
        dnnl_stream_wait(stream)
    }
}
