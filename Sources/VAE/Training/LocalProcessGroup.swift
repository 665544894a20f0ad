import Foundation
import Synchronization

/// N "processes" that are threads of one process: a `ProcessGroup` whose collectives meet at a
/// shared rendezvous, so that data-parallel training (each member training a shard of every
/// batch) can be run and tested without `mpirun`. Sums are taken in rank order, so every member
/// gets the same bits.
public final class LocalProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let rendezvous: Rendezvous

    /// The `size` members of one group; give member r to the thread of rank r.
    public static func make(size: Int) -> [LocalProcessGroup] {
        precondition(size >= 1, "a group has at least one member")
        let rendezvous = Rendezvous(size: size)
        return (0..<size).map { LocalProcessGroup(rank: $0, size: size, rendezvous: rendezvous) }
    }

    private init(rank: Int, size: Int, rendezvous: Rendezvous) { (self.rank, self.size, self.rendezvous) = (rank, size, rendezvous) }

    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let total = rendezvous.exchange(rank: rank, Array(UnsafeBufferPointer(start: values, count: count))) { parts in
            var total = [Float](repeating: 0, count: count)
            for part in parts {
                precondition(part.count == count, "every member must sum the same count")
                for index in 0..<count { total[index] += part[index] }
            }
            return total
        }
        total.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
    }

    public func sum(_ values: inout [Double]) {
        let count = values.count
        values = rendezvous.exchange(rank: rank, values) { parts in
            var total = [Double](repeating: 0, count: count)
            for part in parts {
                precondition(part.count == count, "every member must sum the same count")
                for index in 0..<count { total[index] += part[index] }
            }
            return total
        }
    }

    public func broadcast(_ bytes: inout [UInt8], from root: Int) {
        bytes = rendezvous.exchange(rank: rank, bytes) { parts in parts[root] }
    }

    public func abort(_ message: String) -> Never {
        preconditionFailure("rank \(rank) of a local process group aborted: \(message)")
    }
}

/// Where the members of a `LocalProcessGroup` meet: each collective waits for all `size`
/// contributions, combines them once, and hands every member the result before the next one
/// starts (a generation counter keeps successive collectives apart).
private final class Rendezvous: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var parts: [Any?]
    private var arrived = 0
    private var departed = 0
    private var result: Any?
    private var generation = 0

    init(size: Int) {
        self.size = size
        parts = Array(repeating: nil, count: size)
    }

    func exchange<Value>(rank: Int, _ value: Value, combine: ([Value]) -> Value) -> Value {
        condition.lock()
        defer { condition.unlock() }
        // Wait until the previous collective's results have all been taken.
        while departed != 0 { condition.wait() }
        let mine = generation
        parts[rank] = value
        arrived += 1
        if arrived == size {
            result = combine(parts.map { $0 as! Value })
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        let value = result as! Value
        departed += 1
        if departed == size {
            (arrived, departed, result) = (0, 0, nil)
            parts = Array(repeating: nil, count: size)
            condition.broadcast()
        }
        return value
    }
}
