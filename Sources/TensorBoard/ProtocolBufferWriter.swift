/// The protocol-buffer wire format, written by hand for the few messages an event file holds
/// (TensorFlow's `Event`, `Summary`, `TensorProto`, TensorBoard's hparams plugin data): each field
/// is a key, (number << 3) | wire type, then a varint (0), 8 little-endian bytes (1), a
/// length-prefixed run of bytes (2) or 4 little-endian bytes (5).
struct ProtocolBufferWriter {
    /// The message so far.
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32, int64 or enum field (a negative value takes ten bytes, as the format has it).
    mutating func integer(_ field: Int, _ value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    /// A bool field.
    mutating func flag(_ field: Int, _ value: Bool) { integer(field, value ? 1 : 0) }

    /// A double field.
    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A float field.
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A bytes field.
    mutating func data(_ field: Int, _ value: some Collection<UInt8>) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string field (UTF-8).
    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    /// A nested message field.
    mutating func message(_ field: Int, _ body: (inout ProtocolBufferWriter) -> Void) {
        var nested = ProtocolBufferWriter()
        body(&nested)
        data(field, nested.bytes)
    }
}
