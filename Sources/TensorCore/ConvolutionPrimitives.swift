import CDNNL

/// The oneDNN primitives of one convolution shape, created once and kept for the process.
///
/// A set holds the three convolution primitive descriptors (forward, backward-data,
/// backward-weights) with `format_tag::any`, so oneDNN picks its fastest (blocked) layouts; the
/// primitives themselves are made on first use (an evaluation never builds the backward ones).
/// Where a tensor's layout differs from what a primitive wants (PyTorch's weight layout, a planar
/// input), a reorder primitive, also made once, converts it into a pooled buffer. Outputs keep
/// the layout their primitive writes (planar or channel-blocked, see `ImageLayout`).
///
/// In the convolution's own terms, the source has `sourceChannels` and the destination
/// `destinationChannels`. A convolution op reads the source and writes the destination; a
/// transposed one the other way round (its input is the destination).
final class ConvolutionPrimitives {
    struct Key: Hashable {
        var transposed: Bool
        var batch: Int
        var sourceChannels: Int
        var destinationChannels: Int
        var source: SpatialPair
        var destination: SpatialPair
        var kernel: SpatialPair
        var stride: SpatialPair
        var paddingBefore: SpatialPair
        var paddingAfter: SpatialPair
        var hasBias: Bool
        var inputLayout: ImageLayout
        var threads: Int
        /// The type of what each pass reads (fp32, or bf16: its inputs and weights rounded, the
        /// results it writes fp32).
        var precision: Precision
    }

    /// Where a reorder sits; each place converts one fixed pair of layouts.
    enum Place: Hashable {
        case input, inputForGradient, weightsForward, weightsBackwardData, outputGradientForData, outputGradientForWeights
        case inputGradient, weightGradient, output
    }

    let key: Key
    let context: OneDNN.Context

    // Our tensors' descriptors.
    let inputDescriptor: dnnl_memory_desc_t
    let outputDescriptor: dnnl_memory_desc_t
    let outputLayout: ImageLayout
    /// The key's precision, or fp32 where bf16 would leave oneDNN only its reference loops.
    let effectivePrecision: Precision
    let plainWeights: dnnl_memory_desc_t
    let biasDescriptor: dnnl_memory_desc_t

    // The primitives' descriptors, in the convolution's terms.
    let forwardDescriptor: dnnl_primitive_desc_t
    let backwardDataDescriptor: dnnl_primitive_desc_t
    let backwardWeightsDescriptor: dnnl_primitive_desc_t
    let forwardSource, forwardWeights, forwardDestination: dnnl_memory_desc_t
    let dataSource, dataWeights, dataDestination: dnnl_memory_desc_t
    let weightsSource, weightsGradient, weightsDestination: dnnl_memory_desc_t

    private var forwardCall: PrimitiveCall?
    private var backwardDataCall: PrimitiveCall?
    private var backwardWeightsCall: PrimitiveCall?
    private var reorders: [Place: Reorder] = [:]

    /// The set for `key`, created on first use.
    static func shared(_ key: Key) -> ConvolutionPrimitives {
        OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
        let context = OneDNN.context
        return context.cached(\.convolutions, key) { ConvolutionPrimitives(key: key, context: context) }
    }

    private init(key: Key, context: OneDNN.Context) {
        self.key = key
        self.context = context
        let sourceSize = ImageBatchSize(batch: key.batch, channels: key.sourceChannels, height: key.source.height, width: key.source.width)
        let destinationSize = ImageBatchSize(batch: key.batch, channels: key.destinationChannels,
                                             height: key.destination.height, width: key.destination.width)
        let (inputSize, outputSize) = key.transposed ? (destinationSize, sourceSize) : (sourceSize, destinationSize)
        inputDescriptor = Self.descriptor(inputSize, key.inputLayout)
        plainWeights = OneDNN.descriptor([key.destinationChannels, key.sourceChannels, key.kernel.height, key.kernel.width], dnnl_oihw)
        biasDescriptor = OneDNN.descriptor([key.destinationChannels], dnnl_x)
        // The output may take a blocked layout only when its channels fill whole blocks. The input
        // side keeps the layout the previous layer wrote when that is blocked (oneDNN's own), so
        // consecutive layers never reorder; a planar input is left to oneDNN when its channels
        // fill blocks (a reshaped dense output) and read as it is otherwise (the image itself).
        let outputTag = outputSize.channels % 8 == 0 ? dnnl_format_tag_any : dnnl_nchw
        let shapeText = "\(key.transposed ? "transposed " : "")convolution \(sourceSize) -> \(destinationSize), kernel \(key.kernel)"
        // oneDNN has no fast kernel for some shapes in a given layout (a 1-channel output read
        // from blocked input) or type, and then falls back to its reference loops, a thousand
        // times slower: then the input side is left to oneDNN (and the input is reordered), and
        // failing that a bf16 shape runs in fp32.
        let layerTag = Self.inputTag(key.inputLayout, channels: inputSize.channels)
        let attempts = (key.precision == .bf16 ? [Precision.bf16, .fp32] : [.fp32]).flatMap { [($0, layerTag), ($0, dnnl_format_tag_any)] }
        var chosen: (precision: Precision, forward: dnnl_primitive_desc_t, data: dnnl_primitive_desc_t, weights: dnnl_primitive_desc_t)?
        for (index, (precision, inputTag)) in attempts.enumerated() {
            let made = Self.makeDescriptors(key, precision: precision, inputTag: inputTag, outputTag: outputTag, context: context, what: shapeText)
            let descriptors = [made.forward, made.data, made.weights]
            if index == attempts.count - 1 || !descriptors.contains(where: { OneDNN.implementationName($0).hasPrefix("ref") }) {
                chosen = (precision, made.forward, made.data, made.weights)
                break
            }
            descriptors.forEach { dnnl_primitive_desc_destroy($0) }
        }
        effectivePrecision = chosen!.precision
        (forwardDescriptor, backwardDataDescriptor, backwardWeightsDescriptor) = (chosen!.forward, chosen!.data, chosen!.weights)

        func query(_ descriptor: dnnl_primitive_desc_t, _ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(descriptor, what, index)!.pointee
        }
        forwardSource = query(forwardDescriptor, dnnl_query_src_md)
        forwardWeights = query(forwardDescriptor, dnnl_query_weights_md)
        forwardDestination = query(forwardDescriptor, dnnl_query_dst_md)
        dataSource = query(backwardDataDescriptor, dnnl_query_diff_src_md)
        dataWeights = query(backwardDataDescriptor, dnnl_query_weights_md)
        dataDestination = query(backwardDataDescriptor, dnnl_query_diff_dst_md)
        weightsSource = query(backwardWeightsDescriptor, dnnl_query_src_md)
        weightsGradient = query(backwardWeightsDescriptor, dnnl_query_diff_weights_md)
        weightsDestination = query(backwardWeightsDescriptor, dnnl_query_diff_dst_md)

        // The output keeps the layout its producer writes when that is one of ours.
        let produced = key.transposed ? dataSource : forwardDestination
        let layout = Self.layout(of: produced, size: outputSize)
        outputLayout = layout ?? .planar
        outputDescriptor = layout == nil ? Self.descriptor(outputSize, .planar) : produced
    }

    /// The three primitive descriptors with the input and output sides described by these tags.
    private static func makeDescriptors(_ key: Key, precision: Precision, inputTag: dnnl_format_tag_t, outputTag: dnnl_format_tag_t, context: OneDNN.Context,
                                        what shapeText: String)
        -> (forward: dnnl_primitive_desc_t, data: dnnl_primitive_desc_t, weights: dnnl_primitive_desc_t) {
        let sourceSize = ImageBatchSize(batch: key.batch, channels: key.sourceChannels, height: key.source.height, width: key.source.width)
        let destinationSize = ImageBatchSize(batch: key.batch, channels: key.destinationChannels,
                                             height: key.destination.height, width: key.destination.width)
        // What a pass reads has the key's operand type; what it writes is f32: the forward pass reads
        // source and weights, backward-data the destination's gradient and the weights,
        // backward-weights the source and the destination's gradient.
        let operand = OneDNN.operandType(precision)
        let sourceTag = key.transposed ? outputTag : inputTag, destinationTag = key.transposed ? inputTag : outputTag
        var source = OneDNN.descriptor(sourceSize.shape(.planar), sourceTag, type: operand)
        var sourceResult = OneDNN.descriptor(sourceSize.shape(.planar), sourceTag)
        var destination = OneDNN.descriptor(destinationSize.shape(.planar), destinationTag, type: operand)
        var destinationResult = OneDNN.descriptor(destinationSize.shape(.planar), destinationTag)
        let weightDimensions = [key.destinationChannels, key.sourceChannels, key.kernel.height, key.kernel.width]
        var weights = OneDNN.descriptor(weightDimensions, dnnl_format_tag_any, type: operand)
        var weightsResult = OneDNN.descriptor(weightDimensions, dnnl_format_tag_any)
        var bias = OneDNN.descriptor([key.destinationChannels], dnnl_x)
        let fusedBias = key.hasBias && !key.transposed
        let strides = [dnnl_dim_t(key.stride.height), dnnl_dim_t(key.stride.width)]
        let before = [dnnl_dim_t(key.paddingBefore.height), dnnl_dim_t(key.paddingBefore.width)]
        let after = [dnnl_dim_t(key.paddingAfter.height), dnnl_dim_t(key.paddingAfter.width)]

        var forward = dnnl_convolution_desc_t()
        OneDNN.check(withUnsafePointer(to: &bias) { biasPointer in
            dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, &source, &weights,
                                               fusedBias ? biasPointer : nil, &destinationResult, strides, before, after)
        }, "describing the forward \(shapeText)")
        let forwardDescriptor = create(&forward, hint: nil, context: context, what: "forward \(shapeText)")

        var data = dnnl_convolution_desc_t()
        OneDNN.check(dnnl_convolution_backward_data_desc_init(&data, dnnl_convolution_direct, &sourceResult, &weights, &destination, strides, before, after),
                     "describing the backward-data \(shapeText)")
        let dataDescriptor = create(&data, hint: forwardDescriptor, context: context, what: "backward-data \(shapeText)")

        var gradients = dnnl_convolution_desc_t()
        OneDNN.check(withUnsafePointer(to: &bias) { biasPointer in
            dnnl_convolution_backward_weights_desc_init(&gradients, dnnl_convolution_direct, &source, &weightsResult,
                                                        fusedBias ? biasPointer : nil, &destination, strides, before, after)
        }, "describing the backward-weights \(shapeText)")
        let weightsDescriptor = create(&gradients, hint: forwardDescriptor, context: context, what: "backward-weights \(shapeText)")
        return (forwardDescriptor, dataDescriptor, weightsDescriptor)
    }

    deinit {
        dnnl_primitive_desc_destroy(forwardDescriptor)
        dnnl_primitive_desc_destroy(backwardDataDescriptor)
        dnnl_primitive_desc_destroy(backwardWeightsDescriptor)
    }

    private static func create(_ operation: UnsafeMutablePointer<dnnl_convolution_desc_t>, hint: dnnl_primitive_desc_t?,
                               context: OneDNN.Context, what: String) -> dnnl_primitive_desc_t {
        var descriptor: dnnl_primitive_desc_t?
        let attributes = OneDNN.makeAttributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        OneDNN.check(dnnl_primitive_desc_create(&descriptor, operation, attributes, context.engine, hint), "creating the \(what) descriptor")
        context.createdPrimitives += 1
        return descriptor!
    }

    /// The format the primitives are asked to read an input of `layout` in (see `init`).
    static func inputTag(_ layout: ImageLayout, channels: Int) -> dnnl_format_tag_t {
        switch layout {
        case .planar: channels % 8 == 0 ? dnnl_format_tag_any : dnnl_nchw
        case .blocked(8): dnnl_nChw8c
        case .blocked(16): dnnl_nChw16c
        case let .blocked(block): preconditionFailure("no oneDNN format for channel blocks of \(block)")
        }
    }

    static func descriptor(_ size: ImageBatchSize, _ layout: ImageLayout) -> dnnl_memory_desc_t {
        switch layout {
        case .planar: OneDNN.descriptor(size.shape(.planar), dnnl_nchw)
        case .blocked(8): OneDNN.descriptor(size.shape(.planar), dnnl_nChw8c)
        case .blocked(16): OneDNN.descriptor(size.shape(.planar), dnnl_nChw16c)
        case let .blocked(block): preconditionFailure("no oneDNN format for channel blocks of \(block)")
        }
    }

    /// Which of our layouts a primitive's descriptor is, if any.
    static func layout(of descriptor: dnnl_memory_desc_t, size: ImageBatchSize) -> ImageLayout? {
        var candidates: [ImageLayout] = [.planar]
        for block in [8, 16] where size.channels % block == 0 { candidates.append(.blocked(block)) }
        return candidates.first { OneDNN.equal(Self.descriptor(size, $0), descriptor) }
    }

    /// The output's shape.
    var outputShape: [Int] {
        let channels = key.transposed ? key.sourceChannels : key.destinationChannels
        let pixels = key.transposed ? key.source : key.destination
        return ImageBatchSize(batch: key.batch, channels: channels, height: pixels.height, width: pixels.width).shape(outputLayout)
    }

    var report: String {
        let names = implementations
        let moves = reorders.map { "\($0.key) \($0.value.destinationCount)" }.sorted().joined(separator: ", ")
        return "\(key.transposed ? "transposed " : "")N\(key.batch) \(key.sourceChannels)x\(key.source) <-> \(key.destinationChannels)x\(key.destination) k\(key.kernel) s\(key.stride) input \(key.inputLayout) output \(outputLayout)\(key.precision == .fp32 ? "" : effectivePrecision == .bf16 ? ", bf16" : ", fp32 (bf16 has only reference loops)"): \(names.forward) / \(names.backwardData) / \(names.backwardWeights); reorders: \(moves)"
    }

    var implementations: (forward: String, backwardData: String, backwardWeights: String) {
        (OneDNN.implementationName(forwardDescriptor), OneDNN.implementationName(backwardDataDescriptor),
         OneDNN.implementationName(backwardWeightsDescriptor))
    }

    // MARK: - Primitives, made on first use

    /// Sets the calling thread's OpenMP count to the one the set was made for: a primitive made
    /// on first use, maybe on another thread (a backward pass), matches its descriptors.
    private func matchThreads() {
        if omp_get_max_threads() != Int32(key.threads) { omp_set_num_threads(Int32(key.threads)) }
    }

    private var forwardPrimitive: PrimitiveCall {
        if let forwardCall { return forwardCall }
        matchThreads()
        var arguments: [(Int32, dnnl_memory_desc_t)] = [(CDNNL_ARG_SRC, forwardSource), (CDNNL_ARG_WEIGHTS, forwardWeights), (CDNNL_ARG_DST, forwardDestination)]
        if key.hasBias && !key.transposed { arguments.append((CDNNL_ARG_BIAS, biasDescriptor)) }
        let call = PrimitiveCall(descriptor: forwardDescriptor, arguments: arguments, context: context, what: "convolution forward")
        forwardCall = call
        return call
    }

    private var backwardDataPrimitive: PrimitiveCall {
        if let backwardDataCall { return backwardDataCall }
        matchThreads()
        let call = PrimitiveCall(descriptor: backwardDataDescriptor,
                                 arguments: [(CDNNL_ARG_DIFF_DST, dataDestination), (CDNNL_ARG_WEIGHTS, dataWeights), (CDNNL_ARG_DIFF_SRC, dataSource)],
                                 context: context, what: "convolution backward-data")
        backwardDataCall = call
        return call
    }

    private var backwardWeightsPrimitive: PrimitiveCall {
        if let backwardWeightsCall { return backwardWeightsCall }
        matchThreads()
        var arguments: [(Int32, dnnl_memory_desc_t)] = [(CDNNL_ARG_SRC, weightsSource), (CDNNL_ARG_DIFF_DST, weightsDestination),
                                                        (CDNNL_ARG_DIFF_WEIGHTS, weightsGradient)]
        if key.hasBias && !key.transposed { arguments.append((CDNNL_ARG_DIFF_BIAS, biasDescriptor)) }
        let call = PrimitiveCall(descriptor: backwardWeightsDescriptor, arguments: arguments, context: context, what: "convolution backward-weights")
        backwardWeightsCall = call
        return call
    }

    private func reorder(_ place: Place, from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t) -> Reorder {
        if let existing = reorders[place] { return existing }
        matchThreads()
        let created = Reorder(from: source, to: destination, context: context)
        reorders[place] = created
        return created
    }

    // MARK: - Moving values between layouts

    /// `pointer` (laid out as `have`) as the primitive wants it: itself, or a reordered copy in a
    /// pooled buffer, which the returned storage keeps alive.
    fileprivate func operand(_ place: Place, _ pointer: UnsafePointer<Float>, have: dnnl_memory_desc_t, want: dnnl_memory_desc_t)
        -> (pointer: UnsafeMutableRawPointer, storage: TensorStorage?) {
        if OneDNN.equal(have, want) { return (UnsafeMutableRawPointer(mutating: pointer), nil) }
        let converted = TensorStorage(uninitializedCount: OneDNN.floatCount(want))
        reorder(place, from: have, to: want).run(from: pointer, to: converted.pointer, context: context)
        return (UnsafeMutableRawPointer(converted.pointer), converted)
    }

    /// Has `produce` write a result laid out as `produced`, and leaves it in `target` (laid out
    /// as `wanted`), overwriting it or adding to it.
    private func deliver(_ place: Place, produced: dnnl_memory_desc_t, into target: UnsafeMutablePointer<Float>, wanted: dnnl_memory_desc_t,
                         accumulate: Bool, _ produce: (UnsafeMutableRawPointer) -> Void) {
        let same = OneDNN.equal(produced, wanted)
        if same && !accumulate {
            produce(UnsafeMutableRawPointer(target))
            return
        }
        let scratch = TensorStorage(uninitializedCount: OneDNN.floatCount(produced))
        produce(UnsafeMutableRawPointer(scratch.pointer))
        if same {
            Self.add(scratch.pointer, into: target, count: OneDNN.floatCount(wanted))
        } else if !accumulate {
            reorder(place, from: produced, to: wanted).run(from: scratch.pointer, to: target, context: context)
        } else {
            let converted = TensorStorage(uninitializedCount: OneDNN.floatCount(wanted))
            reorder(place, from: produced, to: wanted).run(from: scratch.pointer, to: converted.pointer, context: context)
            Self.add(converted.pointer, into: target, count: converted.count)
        }
    }

    private static func add(_ source: UnsafeMutablePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        forEachVector(count) { i, lanes in storeVector(loadVector(source, i, lanes), target, i, lanes, accumulate: true) }
    }

    // MARK: - The ops

    /// One value in the layout and type a primitive reads, converted at most once per pass: a
    /// second primitive that wants the same descriptor reads the same copy.
    private final class Converted {
        private var copies: [(want: dnnl_memory_desc_t, value: (pointer: UnsafeMutableRawPointer, storage: TensorStorage?))] = []
        let values: UnsafePointer<Float>
        let have: dnnl_memory_desc_t

        init(_ values: UnsafePointer<Float>, have: dnnl_memory_desc_t) { (self.values, self.have) = (values, have) }

        func pointer(_ place: Place, want: dnnl_memory_desc_t, in primitives: ConvolutionPrimitives) -> UnsafeMutableRawPointer {
            if let copy = copies.first(where: { OneDNN.equal($0.want, want) }) { return copy.value.pointer }
            let value = primitives.operand(place, values, have: have, want: want)
            copies.append((want, value))
            return value.pointer
        }
    }

    /// y = conv(x, w) + b, rectified in place when `relu` (one pass over y, no buffer of its
    /// own); backward, dy ⊙ [y > 0] (y > 0 exactly where the pre-activation is) feeds the
    /// convolution's gradients.
    func convolve(_ x: Tensor, weight: Tensor, bias: Tensor?, relu: Bool) -> Tensor {
        OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        // The input as the forward pass reads it, kept for the weight gradient.
        let input = Converted(x.pointer, have: inputDescriptor)
        var output: TensorStorage? = nil  // y, for the ReLU's mask
        let y = Tensor.result(shape: outputShape, inputs: inputs) { [self] g0 in
            OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
            let masked = relu ? Self.rectifiedGradient(g0, output: output!) : nil
            let g = masked.map { UnsafePointer($0.pointer) } ?? g0
            let gradient = Converted(g, have: outputDescriptor)
            x.accumulateGradient { dx, accumulate in
                let w = operand(.weightsBackwardData, weight.pointer, have: plainWeights, want: dataWeights)
                let outputGradient = gradient.pointer(.outputGradientForData, want: dataDestination, in: self)
                deliver(.inputGradient, produced: dataSource, into: dx, wanted: inputDescriptor, accumulate: accumulate) { result in
                    backwardDataPrimitive.run([outputGradient, w.pointer, result], context: context)
                }
                withExtendedLifetime(w.storage) {}
            }
            guard weight.requiresGradient || (bias?.requiresGradient ?? false) else { return }
            let source = input.pointer(.inputForGradient, want: weightsSource, in: self)
            let outputGradient = gradient.pointer(.outputGradientForWeights, want: weightsDestination, in: self)
            let weightGradient = TensorStorage(uninitializedCount: OneDNN.floatCount(weightsGradient))
            let biasGradient = TensorStorage(uninitializedCount: key.hasBias ? key.destinationChannels : 0)
            var buffers = [source, outputGradient, UnsafeMutableRawPointer(weightGradient.pointer)]
            if key.hasBias { buffers.append(UnsafeMutableRawPointer(biasGradient.pointer)) }
            backwardWeightsPrimitive.run(buffers, context: context)
            weight.accumulateGradient { dw, accumulate in
                deliver(.weightGradient, produced: weightsGradient, into: dw, wanted: plainWeights, accumulate: accumulate) { result in
                    result.assumingMemoryBound(to: Float.self).update(from: weightGradient.pointer, count: weightGradient.count)
                }
            }
            bias?.accumulateGradient { db, accumulate in
                Self.store(biasGradient.pointer, into: db, count: key.destinationChannels, accumulate: accumulate)
            }
            withExtendedLifetime((input, gradient, masked)) {}
        }
        let source = input.pointer(.input, want: forwardSource, in: self)
        let w = operand(.weightsForward, weight.pointer, have: plainWeights, want: forwardWeights)
        deliver(.output, produced: forwardDestination, into: y.pointer, wanted: outputDescriptor, accumulate: false) { result in
            var buffers = [source, w.pointer, result]
            if let bias { buffers.append(UnsafeMutableRawPointer(bias.pointer)) }
            forwardPrimitive.run(buffers, context: context)
        }
        withExtendedLifetime((input, w.storage)) {}
        if relu {
            ImageLayoutKernels.rectify(y.pointer, count: y.storage.count)
            if y.isRecorded { output = y.storage }
        }
        return y
    }

    /// The transposed convolution of x by w, plus b, rectified when `relu` in the same pass that
    /// adds the bias; backward as `convolve`'s.
    func transposedConvolve(_ x: Tensor, weight: Tensor, bias: Tensor?, relu: Bool) -> Tensor {
        OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        let outputSize = ImageBatchSize(batch: key.batch, channels: key.sourceChannels, height: key.source.height, width: key.source.width)
        let layout = outputLayout
        // The input (the convolution's destination) as the forward pass reads it, kept for the
        // weight gradient.
        let input = Converted(x.pointer, have: inputDescriptor)
        var output: TensorStorage? = nil  // y, for the ReLU's mask
        let y = Tensor.result(shape: outputShape, inputs: inputs) { [self] g0 in
            OneDNN.lock.lock(); defer { OneDNN.lock.unlock() }
            let masked = relu ? Self.rectifiedGradient(g0, output: output!) : nil
            let g = masked.map { UnsafePointer($0.pointer) } ?? g0
            let gradient = Converted(g, have: outputDescriptor)
            x.accumulateGradient { dx, accumulate in  // the convolution's forward pass of g
                let outputGradient = gradient.pointer(.outputGradientForData, want: forwardSource, in: self)
                let w = operand(.weightsForward, weight.pointer, have: plainWeights, want: forwardWeights)
                deliver(.inputGradient, produced: forwardDestination, into: dx, wanted: inputDescriptor, accumulate: accumulate) { result in
                    forwardPrimitive.run([outputGradient, w.pointer, result], context: context)
                }
                withExtendedLifetime(w.storage) {}
            }
            weight.accumulateGradient { dw, accumulate in  // the convolution's weight gradient with source g, destination x
                let source = gradient.pointer(.outputGradientForWeights, want: weightsSource, in: self)
                let destination = input.pointer(.inputForGradient, want: weightsDestination, in: self)
                deliver(.weightGradient, produced: weightsGradient, into: dw, wanted: plainWeights, accumulate: accumulate) { result in
                    backwardWeightsPrimitive.run([source, destination, result], context: context)
                }
            }
            bias?.accumulateGradient { db, accumulate in
                ImageLayoutKernels.sumChannels(g, into: db, size: outputSize, layout: layout, accumulate: accumulate)
            }
            withExtendedLifetime((input, gradient, masked)) {}
        }
        let source = input.pointer(.input, want: dataDestination, in: self)
        let w = operand(.weightsBackwardData, weight.pointer, have: plainWeights, want: dataWeights)
        deliver(.output, produced: dataSource, into: y.pointer, wanted: outputDescriptor, accumulate: false) { result in
            backwardDataPrimitive.run([source, w.pointer, result], context: context)
        }
        withExtendedLifetime((input, w.storage)) {}
        if let bias {
            ImageLayoutKernels.addChannelBias(bias.pointer, to: y.pointer, size: outputSize, layout: layout, relu: relu)
        } else if relu {
            ImageLayoutKernels.rectify(y.pointer, count: y.storage.count)
        }
        if relu && y.isRecorded { output = y.storage }
        return y
    }

    /// dy ⊙ [y > 0] in a pooled buffer of y's length, split across `ParallelLoop`.
    private static func rectifiedGradient(_ g: UnsafePointer<Float>, output y: TensorStorage) -> TensorStorage {
        let masked = TensorStorage(uninitializedCount: y.count)
        let outputPointer = UnsafePointer(y.pointer), target = masked.pointer
        ParallelLoop.shared.run(count: y.count) { start, end in
            forEachVector(end &- start) { i, lanes in
                var value = loadVector(g + start, i, lanes)
                value.replace(with: 0, where: loadVector(outputPointer + start, i, lanes) .<= 0)
                storeVector(value, target + start, i, lanes)
            }
        }
        return masked
    }

    private static func store(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
        forEachVector(count) { i, lanes in storeVector(loadVector(source, i, lanes), target, i, lanes, accumulate: accumulate) }
    }
}
