import CMPI
import Foundation
import TensorCore
import VAE

/// The processes of an `mpirun` job as a `ProcessGroup`, over Open MPI's `MPI_COMM_WORLD`.
///
/// Gradients travel as nonblocking all-reduces (`MPI_Iallreduce`), one per gradient bucket,
/// started while the backward pass still runs (`GradientBuckets`), in fp32 or in bfloat16
/// (`sumPrecision`, half the bytes). Open MPI moves a nonblocking collective on only inside MPI
/// calls (its TCP transport has no progress thread of its own), so a thread of this group starts
/// the buckets' sums and tests them every 50 µs, sleeping in between, until `finishSums`; the
/// calling thread meanwhile computes. MPI is initialised with `MPI_THREAD_SERIALIZED`: that
/// thread calls MPI only between `startSum` and `finishSums`, and the caller only outside.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    /// This process's rank.
    public let rank: Int
    /// The job's process count.
    public let size: Int
    /// The number format float sums (`sum`, `startSum`) travel in: fp32, or bf16, where each
    /// process's values are rounded to bfloat16 (relative error at most 2⁻⁹) and every partial
    /// sum is rounded again, so the result is within about (processes) · 2⁻⁹ of the exact sum
    /// relative to the largest magnitude. Every process must use the same.
    public let sumPrecision: Precision

    /// A buffer being summed: its values, and in bf16 their bfloat16 copy.
    private struct Sum {
        let values: UnsafeMutablePointer<Float>
        let count: Int
        let staging: UnsafeMutablePointer<UInt16>?
    }
    /// Guards `queued`, `finishing` and `idle` between the caller and the progress thread.
    private let condition = NSCondition()
    /// Sums handed over by `startSum` and not yet started by the progress thread.
    private var queued: [Sum] = []
    /// Set by `finishSums`: the progress thread waits for every sum, then sets `idle`.
    private var finishing = false
    /// Whether every handed-over sum is complete (the progress thread makes no MPI call).
    private var idle = true
    /// The sums started and not yet finished, and their requests (the progress thread's alone).
    private var started: [Sum] = []
    private var requests: [MPI_Request?] = []
    /// bfloat16 buffers, one per summed buffer address, kept from step to step.
    private var stagingBuffers: [UnsafeMutablePointer<Float>: (buffer: UnsafeMutablePointer<UInt16>, capacity: Int)] = [:]
    /// Whether MPI allows a second thread; without it the caller tests the sums in `advanceSums`.
    private let hasProgressThread: Bool
    /// Whether every process of the job runs on this machine (MPI's shared-memory split), where
    /// a sum is a copy through memory rather than a message over a network.
    public let isOneMachine: Bool

    /// Whether this process was started by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`), so
    /// that plain `vae train` never touches MPI.
    public static var isLaunchedByMPI: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// Joins the job: `MPI_Init_thread` (once per process), with errors returned rather than
    /// fatal so that they can be reported with the rank.
    public init(sumPrecision: Precision = .fp32) {
        self.sumPrecision = sumPrecision
        if vae_mpi_is_initialized() == 0 {
            // Open MPI's nonblocking all-reduce (libnbc) picks a binomial tree (a reduce to one
            // process, then a broadcast: every byte crosses a link twice, one way at a time) for
            // in-place sums on fewer than 4 processes; the ring sends each process's share once
            // each way, at the link's full duplex. 1 Gbit/s, 2 processes, 3 MB: waited 2.7 s per
            // epoch with the tree, 1.3 s with the ring. An explicit setting of the user's wins.
            setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0)
            let status = vae_mpi_initialize()
            precondition(status == 0, "MPI_Init failed with code \(status)")
        }
        rank = Int(vae_mpi_rank())
        size = Int(vae_mpi_size())
        hasProgressThread = vae_mpi_threads_serialized() != 0
        isOneMachine = Int(vae_mpi_local_size()) == size
        if hasProgressThread {
            // The group lives as long as the process (MPI is initialised once): the thread keeps it.
            let thread = Thread { self.progressLoop() }
            thread.name = "MPI gradient sums"
            thread.start()
        }
    }

    /// Sums in place with `MPI_Allreduce` (in chunks of at most 2^30 values, MPI's `int` count),
    /// in `sumPrecision`.
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        if sumPrecision == .bf16 {
            startSum(values, count: count)
            finishSums()
            return
        }
        var done = 0
        while done < count {
            let chunk = min(count - done, 1 << 30)
            let status = vae_mpi_sum_floats(values + done, Int32(chunk))
            if status != 0 { abort("MPI_Allreduce of \(chunk) floats failed with code \(status)") }
            done += chunk
        }
    }

    /// Hands the buffer to the progress thread, which starts its `MPI_Iallreduce`s (chunks of
    /// at most 2^30 values) in `sumPrecision`: in bf16 the values are first rounded into a
    /// bfloat16 copy, here.
    public func startSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var staging: UnsafeMutablePointer<UInt16>?
        if sumPrecision == .bf16 {
            if let kept = stagingBuffers[values], kept.capacity >= count {
                staging = kept.buffer
            } else {
                stagingBuffers[values]?.buffer.deallocate()
                staging = .allocate(capacity: count)
                stagingBuffers[values] = (staging!, count)
            }
            for index in 0..<count { staging![index] = vae_bfloat16_bits(values[index]) }
        }
        let sum = Sum(values: values, count: count, staging: staging)
        guard hasProgressThread else { return startRequests(of: sum) }
        condition.lock()
        queued.append(sum)
        idle = false
        condition.signal()
        condition.unlock()
    }

    /// Without a progress thread, `MPI_Testall` over the started sums; with one, nothing.
    public func advanceSums() {
        if !hasProgressThread { _ = testStarted() }
    }

    /// Returns when every started sum is complete; bf16 sums are widened back into their buffers.
    public func finishSums() {
        if hasProgressThread {
            condition.lock()
            finishing = true
            condition.broadcast()
            while !idle { condition.wait() }
            finishing = false
            condition.unlock()
        } else {
            waitForStarted()
        }
    }

    /// The progress thread: starts handed-over sums, tests them every 50 µs while any is open,
    /// and sleeps on the condition while none is; when the caller is finishing and every sum is
    /// complete, says so (`idle`) and sleeps until the next sum.
    private func progressLoop() {
        while true {
            condition.lock()
            while queued.isEmpty && started.isEmpty && (!finishing || idle) { condition.wait() }
            let new = queued
            queued.removeAll(keepingCapacity: true)
            condition.unlock()
            for sum in new { startRequests(of: sum) }
            if !started.isEmpty, !testStarted() {
                usleep(50)
                continue
            }
            condition.lock()
            if queued.isEmpty && finishing {
                idle = true
                condition.broadcast()
            }
            condition.unlock()
        }
    }

    private func startRequests(of sum: Sum) {
        started.append(sum)
        var done = 0
        while done < sum.count {
            let chunk = min(sum.count - done, 1 << 30)
            var request: MPI_Request? = vae_mpi_request_null()
            let status = if let staging = sum.staging { vae_mpi_start_sum_bfloat16(staging + done, Int32(chunk), &request) }
                         else { vae_mpi_start_sum_floats(sum.values + done, Int32(chunk), &request) }
            if status != 0 { abort("MPI_Iallreduce of \(chunk) values failed with code \(status)") }
            requests.append(request)
            done += chunk
        }
    }

    /// `MPI_Testall` over the started sums; when all are complete, widens the bf16 ones and
    /// forgets them, and returns true.
    private func testStarted() -> Bool {
        guard !requests.isEmpty else { return true }
        var done: Int32 = 0
        let status = vae_mpi_test_all(Int32(requests.count), &requests, &done)
        if status != 0 { abort("MPI_Testall of \(requests.count) sums failed with code \(status)") }
        if done != 0 { completeStarted() }
        return done != 0
    }

    private func waitForStarted() {
        guard !requests.isEmpty else { return }
        let status = vae_mpi_wait_all(Int32(requests.count), &requests)
        if status != 0 { abort("MPI_Waitall of \(requests.count) sums failed with code \(status)") }
        completeStarted()
    }

    private func completeStarted() {
        for sum in started {
            guard let staging = sum.staging else { continue }
            for index in 0..<sum.count { sum.values[index] = vae_bfloat16_value(staging[index]) }
        }
        started.removeAll(keepingCapacity: true)
        requests.removeAll(keepingCapacity: true)
    }

    /// Leaves the job (`MPI_Finalize`); after it no call may be made.
    public func finish() {
        if vae_mpi_is_finalized() == 0 { _ = vae_mpi_finalize() }
    }

    /// Sums in place with `MPI_Allreduce`.
    public func sum(_ values: inout [Double]) {
        let count = values.count
        let status = values.withUnsafeMutableBufferPointer { vae_mpi_sum_doubles($0.baseAddress, Int32(count)) }
        if status != 0 { abort("MPI_Allreduce of \(count) doubles failed with code \(status)") }
    }

    /// `MPI_Bcast` of the length, then of the bytes.
    public func broadcast(_ bytes: inout [UInt8], from root: Int) {
        var header = [UInt8](repeating: 0, count: 8)
        if rank == root { withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { header = Array($0) } }
        var status = header.withUnsafeMutableBytes { vae_mpi_broadcast_bytes($0.baseAddress, 8, Int32(root)) }
        if status != 0 { abort("MPI_Bcast failed with code \(status)") }
        let count = Int(header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        if rank != root { bytes = [UInt8](repeating: 0, count: count) }
        status = bytes.withUnsafeMutableBytes { vae_mpi_broadcast_bytes($0.baseAddress, Int32(count), Int32(root)) }
        if status != 0 { abort("MPI_Bcast of \(count) bytes failed with code \(status)") }
    }

    /// Prints `message` naming this rank, then `MPI_Abort`: mpirun ends every process of the job.
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: rank \(rank) of \(size): \(message)\n".utf8))
        _ = vae_mpi_abort(1)
        exit(1)
    }

    /// Seconds on MPI's clock (`MPI_Wtime`).
    public static var time: Double { vae_mpi_time() }
}
