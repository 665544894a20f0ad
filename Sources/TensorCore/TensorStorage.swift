import Foundation

/// A contiguous Float32 buffer that a tensor reads and writes.
///
/// An owning storage takes its memory from `BufferPool.shared` and gives it back when released,
/// so a training loop that builds the same graph every step allocates nothing in steady state.
/// A view storage points into memory that another object owns (for example one slice of a
/// `ParameterPack`'s flat buffer) and keeps that owner alive.
package final class TensorStorage: @unchecked Sendable {
    /// The first of `count` floats.
    package let pointer: UnsafeMutablePointer<Float>
    /// How many floats the storage holds.
    package let count: Int
    private let owner: AnyObject?
    private let pooled: Bool

    /// Uninitialised memory for `count` floats from the pool.
    package init(uninitializedCount count: Int) {
        precondition(count >= 0, "storage count must be non-negative, got \(count)")
        self.pointer = BufferPool.shared.take(count)
        self.count = count
        self.owner = nil
        self.pooled = true
    }

    /// `count` zeros.
    package convenience init(zerosCount count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// A view of `count` floats at `pointer`, kept valid by `owner`.
    package init(viewOf pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
        self.pooled = false
    }

    deinit {
        if pooled { BufferPool.shared.give(pointer, count: count) }
    }

    /// The storage's floats as a buffer.
    package var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// A free list of Float32 buffers keyed by exact length.
///
/// Training builds the same graph each step, so the lengths asked for repeat and every request
/// after the first step is served from the list. Buffers are 64-byte aligned (one cache line,
/// one AVX-512 register). The pool keeps at most `retainedLimitBytes` of idle memory.
package final class BufferPool: @unchecked Sendable {
    /// The process's one pool.
    package static let shared = BufferPool()

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var retainedBytes = 0
    private let retainedLimitBytes = 2 << 30
    private var systemAllocations = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        lock.lock()
        if let pointer = free[count]?.popLast() {
            retainedBytes -= count &* 4
            lock.unlock()
            return pointer
        }
        systemAllocations += 1
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        lock.lock()
        if retainedBytes + count &* 4 <= retainedLimitBytes {
            free[count, default: []].append(pointer)
            retainedBytes += count &* 4
            lock.unlock()
        } else {
            lock.unlock()
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// The number of system allocations so far; a steady-state training step leaves it unchanged.
    package var allocationCount: Int {
        lock.lock(); defer { lock.unlock() }
        return systemAllocations
    }
}
