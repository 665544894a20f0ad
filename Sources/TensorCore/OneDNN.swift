import CDNNL
import Foundation
import Synchronization

/// The oneDNN library (Debian's libdnnl 2.6, OpenMP threading) behind the convolution ops.
///
/// One CPU engine and one stream serve the process. Primitives are created once per shape and
/// kept (`ConvolutionPrimitives`); every creation and every execution happens under `lock`, so
/// callers on several threads take turns, as with OpenBLAS. Layers never see this type: they
/// call `Tensor.convolution2D` and `Tensor.transposedConvolution2D`.
package enum OneDNN {
    /// Held around primitive creation and execution (recursive: an op's helpers nest).
    static let lock = NSRecursiveLock()

    final class Context: @unchecked Sendable {
        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
        var convolutions: [ConvolutionPrimitives.Key: ConvolutionPrimitives] = [:]
        var matrices: [MatrixPrimitive.Key: MatrixPrimitive] = [:]
        var conversions: [BFloat16Conversion.Key: BFloat16Conversion] = [:]
        var createdPrimitives = 0

        init() {
            var engine: dnnl_engine_t?
            OneDNN.check(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
            var stream: dnnl_stream_t?
            OneDNN.check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "creating a stream")
            self.engine = engine!
            self.stream = stream!
        }

        /// The object kept under `key` in one of the caches, made by `make` on first use (under
        /// `OneDNN.lock`).
        func cached<Key: Hashable, Value>(_ cache: ReferenceWritableKeyPath<Context, [Key: Value]>, _ key: Key, _ make: () -> Value) -> Value {
            if let existing = self[keyPath: cache][key] { return existing }
            let created = make()
            self[keyPath: cache][key] = created
            return created
        }
    }

    /// Created on first use, under `lock`.
    nonisolated(unsafe) static var sharedContext: Context?

    static var context: Context {
        lock.lock(); defer { lock.unlock() }
        if let sharedContext { return sharedContext }
        let created = Context()
        sharedContext = created
        return created
    }

    /// Stops with the library's status name: every call is made with shapes the op has already
    /// checked, so a failure is a defect, not a user error.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        guard status != dnnl_success else { return }
        let names: [UInt32: String] = [
            dnnl_out_of_memory.rawValue: "out of memory", dnnl_invalid_arguments.rawValue: "invalid arguments",
            dnnl_unimplemented.rawValue: "unimplemented", dnnl_iterator_ends.rawValue: "iterator ends",
            dnnl_runtime_error.rawValue: "runtime error", dnnl_not_required.rawValue: "not required",
        ]
        fatalError("oneDNN failed \(what()): \(names[status.rawValue] ?? "status \(status.rawValue)")")  // a defect: keep the message in release builds
    }

    // MARK: - Threads

    /// Sets the OpenMP thread count oneDNN's primitives run with (`BLAS.setThreadCount` calls
    /// it with the same count). Primitives remember the count they were created with, so the
    /// cache is keyed by it.
    package static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        lock.lock(); defer { lock.unlock() }
        configuredThreads.store(count, ordering: .sequentiallyConsistent)
        omp_set_num_threads(Int32(count))
    }

    /// The OpenMP thread count new primitives get on the calling thread (OpenMP keeps one count
    /// per thread; every oneDNN entry point first adopts the process's count, see `adoptThreads`).
    package static var threadCount: Int { Int(omp_get_max_threads()) }

    /// The process's OpenMP thread count for oneDNN, whichever thread calls: set by
    /// `setThreadCount`; until then 1 (see `BLAS.threadsChosen`), or the count `OMP_NUM_THREADS`
    /// gives. 0 until first settled.
    private static let configuredThreads = Atomic<Int>(0)

    /// Sets the calling thread's OpenMP count to the process's (see `configuredThreads`), so a
    /// program that trains on another thread than the one that chose the count (a task of Swift
    /// concurrency, a server's request) runs with it too.
    static func adoptThreads() {
        var wanted = configuredThreads.load(ordering: .sequentiallyConsistent)
        if wanted == 0 {
            let settled = BLAS.environmentSetsThreads(["OMP_NUM_THREADS"]) ? Int(omp_get_max_threads()) : 1
            wanted = configuredThreads.compareExchange(expected: 0, desired: settled, ordering: .sequentiallyConsistent).exchanged ? settled
                : configuredThreads.load(ordering: .sequentiallyConsistent)
        }
        if omp_get_max_threads() != Int32(wanted) { omp_set_num_threads(Int32(wanted)) }
    }

    /// Runs `body` (the creation and execution of a small primitive) with at most `threads`
    /// OpenMP threads, then restores the count. Waking a sleeping worker costs more than a
    /// small product or conversion gains from it: at two threads oneDNN's bf16 matmul of
    /// 128x400·400x20 ran at 31 GFLOP/s against 127 on one.
    static func withThreads<Result>(_ threads: Int, _ body: () -> Result) -> Result {
        let current = threadCount
        guard threads < current else { return body() }
        omp_set_num_threads(Int32(threads))
        defer { omp_set_num_threads(Int32(current)) }
        return body()
    }

    /// How idle OpenMP workers wait between parallel regions, as libgomp read it at start
    /// (`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`): workers that spin keep the second core busy
    /// while OpenBLAS or the elementwise helper wants it.
    package static var waitPolicyDescription: String {
        let environment = ProcessInfo.processInfo.environment
        if let policy = environment["OMP_WAIT_POLICY"] {
            return "OMP_WAIT_POLICY=\(policy)" + (policy.uppercased() == "PASSIVE" ? " (idle workers sleep)" : "")
        }
        if let spins = environment["GOMP_SPINCOUNT"] { return "GOMP_SPINCOUNT=\(spins)" }
        return "libgomp default (idle workers spin about 300000 times before sleeping)"
    }

    // MARK: - Accounting

    /// Primitives (and their descriptors) created so far; a steady-state training step leaves
    /// it unchanged.
    package static var primitiveCount: Int {
        lock.lock(); defer { lock.unlock() }
        return sharedContext?.createdPrimitives ?? 0
    }

    /// One line per convolution shape in use: its primitives' implementations and the reorders
    /// it runs (where, and how many floats), for benchmarks and debugging.
    package static var convolutionReport: [String] {
        lock.lock(); defer { lock.unlock() }
        guard let context = sharedContext else { return [] }
        return context.convolutions.values.map { $0.report }.sorted()
    }

    /// The implementation oneDNN chose for a primitive descriptor, e.g. "jit:avx2".
    static func implementationName(_ descriptor: dnnl_primitive_desc_t) -> String {
        var name: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name)
        return name.map { String(cString: $0) } ?? "?"
    }

    /// Time accounting for benchmarks, as `BLAS.isTiming`: while on, every convolution primitive
    /// execution adds its wall time to `timedSeconds`, and every matmul and bf16 conversion to
    /// `matrixSeconds`. For the benchmark's single calling thread only.
    nonisolated(unsafe) package static var isTiming = false
    nonisolated(unsafe) package static var timedSeconds = 0.0
    nonisolated(unsafe) package static var matrixSeconds = 0.0
    /// The part of `timedSeconds` spent in reorders (layout conversions).
    nonisolated(unsafe) package static var reorderSeconds = 0.0

    // MARK: - Attributes

    /// New primitive attributes (the caller destroys them) with a user-managed scratchpad: in
    /// the library's default mode the scratchpad belongs to the creating thread, so a primitive
    /// made on one thread fails ("invalid arguments") when run on another, as a server's
    /// requests are. `PrimitiveCall` gives each primitive its own scratchpad instead; every
    /// execution holds `lock`, so no scratchpad is used by two executions at once.
    static func makeAttributes() -> dnnl_primitive_attr_t {
        var attributes: dnnl_primitive_attr_t?
        check(dnnl_primitive_attr_create(&attributes), "creating primitive attributes")
        check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "choosing a user scratchpad")
        return attributes!
    }

    // MARK: - Memory descriptors

    /// A memory descriptor for `dimensions` of `type` (f32 unless said) in format `tag`
    /// (`dnnl_format_tag_any` lets a primitive choose).
    static func descriptor(_ dimensions: [Int], _ tag: dnnl_format_tag_t, type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        let dims = dimensions.map { dnnl_dim_t($0) }
        check(dnnl_memory_desc_init_by_tag(&descriptor, Int32(dims.count), dims, type, tag), "describing memory \(dimensions)")
        return descriptor
    }

    /// oneDNN's type for the operands of `precision`.
    static func operandType(_ precision: Precision) -> dnnl_data_type_t { precision == .bf16 ? dnnl_bf16 : dnnl_f32 }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// Floats that hold a descriptor's memory (padding included; bf16 values two to a float,
    /// rounded up).
    static func floatCount(_ descriptor: dnnl_memory_desc_t) -> Int {
        var descriptor = descriptor
        return (dnnl_memory_desc_get_size(&descriptor) + 3) / 4
    }
}

/// One primitive with a memory object per argument; `run` points the memories at the call's
/// buffers and executes.
final class PrimitiveCall {
    /// Which of `OneDNN`'s time accounts an execution adds to.
    enum Account { case convolution, matrix }

    let primitive: dnnl_primitive_t
    private let account: Account
    private var memories: [(argument: Int32, memory: dnnl_memory_t)] = []
    /// The execution arguments, made once; `run` only changes the memories' data handles.
    private var executionArguments: [dnnl_exec_arg_t] = []
    /// The primitive's own scratchpad (see `OneDNN.makeAttributes`), nil when it needs none.
    private var scratchpad: (storage: TensorStorage, memory: dnnl_memory_t)?
    /// The OpenMP thread count it was created with, and runs with on any calling thread.
    private let threads: Int32

    /// `descriptor` is owned by the caller; the primitive is created from it here.
    init(descriptor: dnnl_primitive_desc_t, arguments: [(Int32, dnnl_memory_desc_t)], context: OneDNN.Context, what: String,
         account: Account = .convolution) {
        self.account = account
        threads = omp_get_max_threads()
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, descriptor), "creating the \(what) primitive")
        self.primitive = primitive!
        context.createdPrimitives += 1
        for (argument, descriptor) in arguments {
            var memory: dnnl_memory_t?
            var descriptor = descriptor
            OneDNN.check(dnnl_memory_create(&memory, &descriptor, context.engine, nil), "creating memory for the \(what) primitive")
            memories.append((argument, memory!))
            executionArguments.append(dnnl_exec_arg_t(arg: argument, memory: memory!))
        }
        if let scratchpadDescriptor = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0),
           dnnl_memory_desc_get_size(scratchpadDescriptor) > 0 {
            let storage = TensorStorage(uninitializedCount: OneDNN.floatCount(scratchpadDescriptor.pointee))
            var memory: dnnl_memory_t?
            OneDNN.check(dnnl_memory_create(&memory, scratchpadDescriptor, context.engine, storage.pointer), "creating the \(what) scratchpad")
            scratchpad = (storage, memory!)
            executionArguments.append(dnnl_exec_arg_t(arg: CDNNL_ARG_SCRATCHPAD, memory: memory!))
        }
    }

    /// Executes with `buffers[i]` as the memory of the i-th argument given at creation.
    func run(_ buffers: [UnsafeMutableRawPointer], context: OneDNN.Context) {
        precondition(buffers.count == memories.count, "primitive takes \(memories.count) buffers, got \(buffers.count)")
        let started = OneDNN.isTiming ? BLAS.now() : 0
        if omp_get_max_threads() != threads { omp_set_num_threads(threads) }
        for index in memories.indices {
            OneDNN.check(dnnl_memory_set_data_handle(memories[index].memory, buffers[index]), "setting a buffer")
        }
        OneDNN.check(dnnl_primitive_execute(primitive, context.stream, Int32(executionArguments.count), executionArguments), "executing a primitive")
        OneDNN.check(dnnl_stream_wait(context.stream), "waiting for the stream")
        if OneDNN.isTiming {
            switch account {
            case .convolution: OneDNN.timedSeconds += BLAS.now() - started
            case .matrix: OneDNN.matrixSeconds += BLAS.now() - started
            }
        }
    }
}

/// A layout conversion between two memory descriptors of the same tensor.
final class Reorder {
    let call: PrimitiveCall
    let destinationCount: Int

    init(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t, context: OneDNN.Context) {
        var descriptor: dnnl_primitive_desc_t?
        var source = source, destination = destination
        let attributes = OneDNN.makeAttributes()
        defer { dnnl_primitive_attr_destroy(attributes) }
        OneDNN.check(dnnl_reorder_primitive_desc_create(&descriptor, &source, context.engine, &destination, context.engine, attributes),
                     "describing a reorder")
        call = PrimitiveCall(descriptor: descriptor!, arguments: [(CDNNL_ARG_FROM, source), (CDNNL_ARG_TO, destination)],
                             context: context, what: "reorder")
        dnnl_primitive_desc_destroy(descriptor)
        destinationCount = OneDNN.floatCount(destination)
    }

    func run(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, context: OneDNN.Context) {
        let started = OneDNN.isTiming ? BLAS.now() : 0
        call.run([UnsafeMutableRawPointer(mutating: source), UnsafeMutableRawPointer(destination)], context: context)
        if OneDNN.isTiming { OneDNN.reorderSeconds += BLAS.now() - started }
    }
}
