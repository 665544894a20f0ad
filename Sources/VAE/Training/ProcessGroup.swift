import TensorCore

/// The processes that train one model together, data-parallel: every process holds the whole
/// model, takes a disjoint shard of each global batch, and sums its gradients with the others'
/// before every process applies the same optimizer step (`Trainer` does this when given a group
/// of more than one). `MessagePassing.MPIProcessGroup` is the group of an `mpirun` job; `LocalProcessGroup` a
/// group of threads in one process.
///
/// Every call is collective: each process of the group makes it, in the same order, with the
/// same counts, or the job hangs; a process that fails must end the whole job (`abort`).
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0..<size; process 0 alone writes files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values[0..<count]` on every process by their sum over the processes.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// Replaces `values` on every process by their elementwise sum over the processes.
    func sum(_ values: inout [Double])
    /// Starts replacing `values[0..<count]` by their sum over the processes; the sum is in place
    /// when `finishSums()` returns, and until then the buffer is neither read nor written. Sums
    /// are started in the same order on every process. (By default: summed at once, with `sum`.)
    func startSum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// Lets the started sums move on without waiting for them (MPI progresses a nonblocking
    /// collective only inside its calls). By default nothing.
    func advanceSums()
    /// Returns when every started sum is in place.
    func finishSums()
    /// Process `root`'s `bytes` on every process (the others' arguments are replaced).
    func broadcast(_ bytes: inout [UInt8], from root: Int)
    /// Ends the whole job at once, every process, after `message` is printed with this rank.
    func abort(_ message: String) -> Never
}

extension ProcessGroup {
    /// Sums at once, with `sum` (a group without nonblocking sums).
    public func startSum(_ values: UnsafeMutablePointer<Float>, count: Int) { sum(values, count: count) }
    /// Nothing: every sum finished when it started.
    public func advanceSums() {}
    /// Nothing: every sum finished when it started.
    public func finishSums() {}

    /// Rows `lo..<hi` of a batch of `rows` that this process takes: a contiguous, balanced share
    /// (the first `rows % size` processes take one more).
    public func shard(of rows: Int) -> Range<Int> {
        let base = rows / size, extra = rows % size
        let lo = rank * base + min(rank, extra)
        return lo..<(lo + base + (rank < extra ? 1 : 0))
    }

    /// Sums the parameters' gradients over the processes (each process then holds the total).
    public func sumGradients(of parameters: ParameterPack) {
        parameters.settleGradients()
        sum(parameters.gradients, count: parameters.count)
    }

    /// Whether any process says `flag` (a collective OR).
    public func any(_ flag: Bool) -> Bool {
        var values = [flag ? 1.0 : 0.0]
        sum(&values)
        return values[0] > 0
    }
}
