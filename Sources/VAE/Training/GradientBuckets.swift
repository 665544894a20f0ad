import TensorCore

/// The parameters' gradients summed over a process group in buckets, each started the moment
/// the backward pass has finished every gradient in it, so that communication overlaps the rest
/// of the backward pass (PyTorch's DistributedDataParallel; Li et al., "PyTorch Distributed:
/// Experiences on Accelerating Data Parallel Training", VLDB 2020).
///
/// A bucket is a contiguous run of the `ParameterPack`'s tensors, taken from the pack's end (the
/// layers nearest the loss, whose gradients the backward pass finishes first) and filled to at
/// least `capacity` values, so each bucket is one slice of the flat gradient buffer and one
/// message. A step: `begin()`, then `backward(afterEachNode: buckets.finished)`, then `finish()`,
/// after which the flat buffer holds the sums. Every process of the group must build its
/// buckets from the same model (the same pack and capacity); the buckets then start in the same
/// order everywhere, because every process runs the same graph.
package final class GradientBuckets {
    /// One bucket: the pack's tensors `tensors`, the flat buffer's `offset ..< offset + count`.
    package struct Bucket: Equatable, Sendable {
        /// The indices of its tensors in the pack.
        package let tensors: Range<Int>
        /// Where its slice of the flat gradient buffer starts.
        package let offset: Int
        /// The values in its slice.
        package let count: Int
    }

    /// The buckets, in the order the backward pass usually fills them (the pack's end first).
    package let buckets: [Bucket]
    private let pack: ParameterPack
    private let group: any ProcessGroup
    private let bucketOfTensor: [ObjectIdentifier: Int]
    private var unfinished: [Int]
    private var started: [Bool]

    /// Buckets of at least `capacity` values (the last, the pack's start, may be smaller).
    package init(pack: ParameterPack, group: any ProcessGroup, capacity: Int = 1 << 18) {
        precondition(capacity >= 1, "a bucket holds at least one value")
        var buckets: [Bucket] = []
        var end = pack.tensors.count
        while end > 0 {
            var start = end - 1, count = pack.tensors[start].count
            while start > 0 && count < capacity {
                start -= 1
                count += pack.tensors[start].count
            }
            buckets.append(Bucket(tensors: start..<end, offset: pack.offsets[start], count: count))
            end = start
        }
        var bucketOfTensor: [ObjectIdentifier: Int] = [:]
        for (index, bucket) in buckets.enumerated() {
            for tensor in bucket.tensors { bucketOfTensor[ObjectIdentifier(pack.tensors[tensor])] = index }
        }
        self.buckets = buckets
        self.pack = pack
        self.group = group
        self.bucketOfTensor = bucketOfTensor
        unfinished = buckets.map(\.tensors.count)
        started = Array(repeating: false, count: buckets.count)
    }

    /// Readies a step: no gradient is final yet.
    package func begin() {
        for index in buckets.indices {
            unfinished[index] = buckets[index].tensors.count
            started[index] = false
        }
    }

    /// The backward pass's `afterEachNode`: counts the parameters among `finalLeaves` off their
    /// buckets, starts the sum of each bucket that is now whole, and lets started sums move on.
    package func finished(_ finalLeaves: [Tensor]) {
        for leaf in finalLeaves {
            guard let index = bucketOfTensor[ObjectIdentifier(leaf)] else { continue }
            unfinished[index] -= 1
            if unfinished[index] == 0 { start(index) }
        }
        group.advanceSums()
    }

    /// Starts the buckets the backward pass did not finish (parameters it never reached, in
    /// bucket order), then waits for every sum.
    package func finish() {
        for index in buckets.indices where !started[index] { start(index) }
        group.finishSums()
    }

    private func start(_ index: Int) {
        let bucket = buckets[index]
        pack.settleGradients(of: bucket.tensors)
        started[index] = true
        group.startSum(pack.gradients + bucket.offset, count: bucket.count)
    }
}
