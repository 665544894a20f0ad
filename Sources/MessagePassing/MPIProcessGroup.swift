import CMPI
import Foundation
import VAE

/// The processes of an `mpirun` job as a `ProcessGroup`, over Open MPI's `MPI_COMM_WORLD`.
/// Gradients travel as one `MPI_Allreduce` of the flat gradient buffer per step.
public final class MPIProcessGroup: ProcessGroup {
    /// This process's rank.
    public let rank: Int
    /// The job's process count.
    public let size: Int

    /// Whether this process was started by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`), so
    /// that plain `vae train` never touches MPI.
    public static var isLaunchedByMPI: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// Joins the job: `MPI_Init` (once per process), with errors returned rather than fatal so
    /// that they can be reported with the rank.
    public init() {
        if vae_mpi_is_initialized() == 0 {
            let status = vae_mpi_initialize()
            precondition(status == 0, "MPI_Init failed with code \(status)")
        }
        rank = Int(vae_mpi_rank())
        size = Int(vae_mpi_size())
    }

    /// Leaves the job (`MPI_Finalize`); after it no call may be made.
    public func finish() {
        if vae_mpi_is_finalized() == 0 { _ = vae_mpi_finalize() }
    }

    /// Sums in place with `MPI_Allreduce` (in chunks of at most 2^30 values, MPI's `int` count).
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var done = 0
        while done < count {
            let chunk = min(count - done, 1 << 30)
            let status = vae_mpi_sum_floats(values + done, Int32(chunk))
            if status != 0 { abort("MPI_Allreduce of \(chunk) floats failed with code \(status)") }
            done += chunk
        }
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
