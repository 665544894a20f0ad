/// CRC-32C (Castagnoli, the reflected polynomial 0x82F63B78) as TFRecord files checksum their
/// lengths and payloads, and its "masked" form: ((crc >> 15) | (crc << 17)) + 0xA282EAD8,
/// which TensorFlow stores so that a CRC of data holding CRCs stays well distributed.
public enum MaskedCRC32C {
    /// The 256-entry table of the byte-at-a-time algorithm.
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    /// The CRC-32C of `bytes` (initial value and final XOR 0xFFFFFFFF; "123456789" gives 0xE3069283).
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The masked CRC-32C of `bytes`, as a TFRecord stores it.
    public static func masked(_ bytes: some Collection<UInt8>) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
