// Loops over contiguous Float32 buffers, 16 lanes at a time, with a masked tail.
//
// Every elementwise kernel is written as a body over (offset, lanes) that loads with `loadVector`,
// computes on FloatVector and writes with `storeVector`; the tail (count % 16 elements) goes through
// the same body with lanes < 16.

/// Calls `body(offset, lanes)` for each 16-float block of `0..<count`: `lanes` is 16 except for
/// the last, partial block (count % 16 floats), which comes through the same body.
@inlinable @inline(__always)
package func forEachVector(_ count: Int, _ body: (_ offset: Int, _ lanes: Int) -> Void) {
    var offset = 0
    while offset &+ 16 <= count {
        body(offset, 16)
        offset &+= 16
    }
    if offset < count { body(offset, count &- offset) }
}

/// Loads `pointer[offset..<offset+lanes]` into a vector; lanes past `lanes` are zero.
@inlinable @inline(__always)
package func loadVector(_ pointer: UnsafePointer<Float>, _ offset: Int, _ lanes: Int) -> FloatVector {
    if lanes == 16 { return UnsafeRawPointer(pointer + offset).loadUnaligned(as: FloatVector.self) }
    var vector = FloatVector(repeating: 0)
    for lane in 0..<lanes { vector[lane] = pointer[offset &+ lane] }
    return vector
}

/// Loads `pointer[offset..<offset+lanes]` into a vector; lanes past `lanes` are zero.
@inlinable @inline(__always)
package func loadVector(_ pointer: UnsafeMutablePointer<Float>, _ offset: Int, _ lanes: Int) -> FloatVector {
    loadVector(UnsafePointer(pointer), offset, lanes)
}

/// Writes `vector` to `pointer[offset..<offset+lanes]`, adding to what is there when `accumulate`.
@inlinable @inline(__always)
package func storeVector(_ vector: FloatVector, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int, _ lanes: Int, accumulate: Bool = false) {
    let value = accumulate ? vector + loadVector(pointer, offset, lanes) : vector
    if lanes == 16 {
        UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value, as: FloatVector.self)
    } else {
        for lane in 0..<lanes { pointer[offset &+ lane] = value[lane] }
    }
}

/// Sum of `count` floats with a vector accumulator (a scalar loop would not vectorise).
@inlinable
package func vectorSum(_ pointer: UnsafePointer<Float>, _ count: Int) -> Float {
    var accumulator = FloatVector(repeating: 0)
    forEachVector(count) { offset, lanes in accumulator += loadVector(pointer, offset, lanes) }
    return accumulator.sum()
}
