import CZlib
import Persistence
import Foundation

/// The element types of a NumPy array this reader accepts, by their `descr` string
/// (little-endian, or byte-sized).
public enum NumpyElementType: String, Sendable, CaseIterable {
    case uint8 = "|u1"
    case int32 = "<i4"
    case int64 = "<i8"
    case float32 = "<f4"
    case float64 = "<f8"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .uint8: 1
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }
}

/// The header of a `.npy` array: `descr`, `fortran_order` and `shape`, as NumPy's format
/// (version 1, 2 or 3) writes them: the magic `\x93NUMPY`, a version, a little-endian header
/// length (2 bytes in version 1, 4 after), then a Python dict literal padded with spaces.
public struct NumpyHeader: Equatable, Sendable {
    /// The type of every element.
    public let elementType: NumpyElementType
    /// The dimensions, outermost first (C order: the last varies fastest).
    public let shape: [Int]
    /// The bytes of the header itself, magic to newline: the data starts there.
    public let headerBytes: Int

    /// The number of elements, the product of `shape` (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// The bytes of the data.
    public var dataBytes: Int { count * elementType.size }

    /// A header of `elementType` and `shape` (as written, `headerBytes` is computed by `encoded`).
    public init(elementType: NumpyElementType, shape: [Int], headerBytes: Int = 0) {
        (self.elementType, self.shape, self.headerBytes) = (elementType, shape, headerBytes)
    }

    /// The version 1.0 header NumPy writes for this array: its dict padded with spaces and a
    /// newline to a multiple of 64 bytes.
    public var encoded: [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dictionary = Array("{'descr': '\(elementType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let unpadded = 10 + dictionary.count + 1
        dictionary += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
        let length = dictionary.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + dictionary
    }

    /// Parses a header from the start of `bytes` (which may hold more); `name` is for errors.
    /// Returns nil when `bytes` is too short to hold the whole header yet.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws(NumpyArchiveError) -> NumpyHeader? {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10 else { return nil }
        guard Array(bytes[0..<6]) == magic else { throw .array(name, "it does not start with NumPy's magic \\x93NUMPY: not a .npy array") }
        let major = bytes[6]
        let (lengthBytes, start): (Int, Int)
        switch major {
        case 1: (lengthBytes, start) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { return nil }
            (lengthBytes, start) = ((0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }, 12)
        default: throw .array(name, "format version \(major).\(bytes[7]); versions 1, 2 and 3 are read")
        }
        guard lengthBytes <= 1 << 20 else { throw .array(name, "a header of \(lengthBytes) bytes; NumPy's are under 1 MB") }
        guard bytes.count >= start + lengthBytes else { return nil }
        guard let text = String(bytes: bytes[start..<(start + lengthBytes)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw .array(name, "its header is not text")
        }
        func field(_ key: String) throws(NumpyArchiveError) -> Substring {
            guard let range = text.range(of: "'\(key)':") else { throw .array(name, "its header lacks '\(key)' (found \(text.trimmingCharacters(in: .whitespacesAndNewlines)))") }
            return text[range.upperBound...].drop { $0 == " " }
        }
        let descrField = try field("descr")
        guard descrField.first == "'", let close = descrField.dropFirst().firstIndex(of: "'") else {
            throw .array(name, "its 'descr' is not a quoted type string (a structured or object array?)")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<close])
        let normalised = descr == "<u1" || descr == ">u1" ? "|u1" : descr
        guard let elementType = NumpyElementType(rawValue: normalised) else {
            throw .array(name, "element type '\(descr)'; read are \(NumpyElementType.allCases.map(\.rawValue).joined(separator: ", ")) (little-endian)")
        }
        let fortran = try field("fortran_order")
        if fortran.hasPrefix("True") { throw .array(name, "it is stored in Fortran order; C order is read (save it with np.ascontiguousarray)") }
        guard fortran.hasPrefix("False") else { throw .array(name, "its 'fortran_order' is neither True nor False") }
        let shapeField = try field("shape")
        guard shapeField.first == "(", let closing = shapeField.firstIndex(of: ")") else { throw .array(name, "its 'shape' is not a tuple") }
        let parts = shapeField[shapeField.index(after: shapeField.startIndex)..<closing].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        var elements = 1
        for part in parts {
            guard let dimension = Int(part.hasSuffix("L") ? String(part.dropLast()) : part), dimension >= 0 else {
                throw .array(name, "shape entry '\(part)' is not a whole number ≥ 0")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= NumpyArchive.maximumElements else { throw .array(name, "shape \(parts.joined(separator: ", ")) has more elements than are read (\(NumpyArchive.maximumElements))") }
            (elements, shape) = (product, shape + [dimension])
        }
        return NumpyHeader(elementType: elementType, shape: shape, headerBytes: start + lengthBytes)
    }
}

/// A whole array read into memory: its header and its data, C order, little-endian.
public struct NumpyArray: Sendable {
    /// The type and shape.
    public let header: NumpyHeader
    /// The data's bytes.
    public let bytes: [UInt8]

    /// An array of `header`'s type and shape holding `bytes` (exactly `header.dataBytes` of them).
    public init(header: NumpyHeader, bytes: [UInt8]) {
        precondition(bytes.count == header.dataBytes, "\(bytes.count) bytes for an array of \(header.dataBytes)")
        (self.header, self.bytes) = (header, bytes)
    }

    /// A float64 array of `shape` from `values` (C order).
    public init(float64 values: [Double], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(header: NumpyHeader(elementType: .float64, shape: shape), bytes: values.withUnsafeBytes { Array($0) })
    }

    /// An int64 array of `shape` from `values` (C order).
    public init(int64 values: [Int64], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(header: NumpyHeader(elementType: .int64, shape: shape), bytes: values.withUnsafeBytes { Array($0) })
    }

    /// The elements as Doubles (any element type; int64 beyond 2⁵³ rounds).
    public var doubles: [Double] {
        bytes.withUnsafeBytes { raw in
            switch header.elementType {
            case .uint8: raw.map(Double.init)
            case .int32: (0..<header.count).map { Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .int64: (0..<header.count).map { Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            case .float32: (0..<header.count).map { Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
            case .float64: (0..<header.count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            }
        }
    }
}

/// Why a `.npz` archive or one of its arrays was refused; each message names the file, the
/// array and what was expected.
public enum NumpyArchiveError: Error, LocalizedError, Equatable {
    /// The archive as a whole: missing, unreadable, or not a zip file NumPy writes.
    case archive(file: String, reason: String)
    /// One array of the archive (`file` is filled in by the archive).
    case array(String, String, file: String = "")
    /// The archive lacks an array a reader needs.
    case missingArray(file: String, name: String, found: [String])

    /// The file, the array and the problem.
    public var errorDescription: String? {
        switch self {
        case let .archive(file, reason): "\(file): \(reason)"
        case let .array(name, reason, file): "\(file.isEmpty ? "" : "\(file): ")array '\(name)': \(reason)"
        case let .missingArray(file, name, found):
            "\(file): no array '\(name)' in the archive (it holds \(found.isEmpty ? "none" : found.joined(separator: ", ")))"
        }
    }

    func naming(_ file: String) -> NumpyArchiveError {
        if case let .array(name, reason, "") = self { return .array(name, reason, file: file) }
        return self
    }
}

/// A NumPy `.npz` archive: a zip file of `.npy` arrays (`np.savez`, stored, or
/// `np.savez_compressed`, deflated), ZIP64 records included, as NumPy writes them.
///
/// Reading streams an array through zlib's inflate in chunks, checks the entry's CRC-32 and
/// its inflated length against the zip's records and the `.npy` header, and never inflates
/// more than the header declares, so a damaged or foreign file is refused with what was wrong
/// instead of a crash or a wrong array. Writing deflates each array into a zip NumPy reads.
public struct NumpyArchive {
    /// The largest number of elements an array may declare (2³³: the 3 × 10⁹ pixels of dSprites fit).
    public static let maximumElements = 1 << 33

    /// One member of the zip file.
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    /// The file read.
    public let url: URL
    let entries: [Entry]
    let fileSize: Int

    /// The arrays' names, without `.npy`, in the archive's order.
    public var arrayNames: [String] { entries.map(\.name).map { $0.hasSuffix(".npy") ? String($0.dropLast(4)) : $0 } }

    /// Opens `url` and reads its zip directory.
    public init(url: URL) throws(NumpyArchiveError) {
        self.url = url
        let path = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw .archive(file: path, reason: "no such file") }
        guard !isFolder.boolValue else { throw .archive(file: path, reason: "it is a folder, not a .npz file") }
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw .archive(file: path, reason: "cannot open it: \(error.localizedDescription)") }
        defer { try? handle.close() }
        let size: Int
        do { size = Int(try handle.seekToEnd()) } catch { throw .archive(file: path, reason: error.localizedDescription) }
        fileSize = size
        func read(_ offset: Int, _ count: Int) throws(NumpyArchiveError) -> [UInt8] {
            guard offset >= 0, count >= 0, offset + count <= size else {
                throw .archive(file: path, reason: "a zip record points to bytes \(offset)..<\(offset + count), past the end of the \(size)-byte file (truncated or damaged)")
            }
            do {
                try handle.seek(toOffset: UInt64(offset))
                let data = try handle.read(upToCount: count) ?? Data()
                guard data.count == count else { throw NumpyArchiveError.archive(file: path, reason: "short read") }
                return [UInt8](data)
            } catch let error as NumpyArchiveError { throw error } catch { throw .archive(file: path, reason: error.localizedDescription) }
        }
        // The end-of-central-directory record: 22 bytes and a comment of up to 65,535.
        let tailLength = min(size, 22 + 65_535)
        let tail = try read(size - tailLength, tailLength)
        guard tail.count >= 22, let end = stride(from: tail.count - 22, through: 0, by: -1).first(where: { Self.u32(tail, $0) == 0x0605_4B50 }) else {
            throw .archive(file: path, reason: size >= 4 && Array(tail.prefix(4)) == [0x50, 0x4B, 0x03, 0x04] ? "a zip file without its directory at the end (truncated)" : "not a zip archive (a .npz file is one); no end-of-directory record found")
        }
        var count = Int(Self.u16(tail, end + 10)), directorySize = Int(Self.u32(tail, end + 12)), directoryOffset = Int(Self.u32(tail, end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the record points to the ZIP64 end record.
            let locatorOffset = size - tailLength + end - 20
            let locator = try read(locatorOffset, 20)
            guard Self.u32(locator, 0) == 0x0706_4B50 else { throw .archive(file: path, reason: "its directory needs ZIP64 records and has none") }
            let record = try read(Int(Self.u64(locator, 8)), 56)
            guard Self.u32(record, 0) == 0x0606_4B50 else { throw .archive(file: path, reason: "its ZIP64 end record is damaged") }
            (count, directorySize, directoryOffset) = (Int(Self.u64(record, 32)), Int(Self.u64(record, 40)), Int(Self.u64(record, 48)))
        }
        guard count <= 10_000, directorySize <= 64 << 20 else { throw .archive(file: path, reason: "a directory of \(count) entries and \(directorySize) bytes; a .npz has a few arrays") }
        let directory = try read(directoryOffset, directorySize)
        var entries: [Entry] = []
        var at = 0
        for index in 0..<count {
            guard at + 46 <= directory.count, Self.u32(directory, at) == 0x0201_4B50 else {
                throw .archive(file: path, reason: "directory entry \(index + 1) of \(count) is damaged")
            }
            let nameLength = Int(Self.u16(directory, at + 28)), extraLength = Int(Self.u16(directory, at + 30)), commentLength = Int(Self.u16(directory, at + 32))
            guard at + 46 + nameLength + extraLength + commentLength <= directory.count else { throw .archive(file: path, reason: "directory entry \(index + 1) runs past the directory") }
            let name = String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            var size = Int(Self.u32(directory, at + 24)), compressed = Int(Self.u32(directory, at + 20)), offset = Int(Self.u32(directory, at + 42))
            // The ZIP64 extra field holds, in this order, those of the three that overflowed.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = Self.u16(directory, extra), length = Int(Self.u16(directory, extra + 2))
                if id == 0x0001 {
                    var field = extra + 4
                    for keyPath in [0, 1, 2] {
                        let value = keyPath == 0 ? size : keyPath == 1 ? compressed : offset
                        guard value == 0xFFFF_FFFF else { continue }
                        guard field + 8 <= extra + 4 + length else { throw .archive(file: path, reason: "'\(name)': its ZIP64 field is too short") }
                        let wide = Int(Self.u64(directory, field))
                        if keyPath == 0 { size = wide } else if keyPath == 1 { compressed = wide } else { offset = wide }
                        field += 8
                    }
                }
                extra += 4 + length
            }
            entries.append(Entry(name: name, method: Self.u16(directory, at + 10), flags: Self.u16(directory, at + 8), crc: Self.u32(directory, at + 16),
                                 compressedSize: compressed, size: size, localHeaderOffset: offset))
            at += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// The header of array `name`, read from the start of its entry.
    public func header(of name: String) throws(NumpyArchiveError) -> NumpyHeader {
        var found: NumpyHeader?
        try stream(name, stopAfterHeader: true) { header, _ in found = header }
        return found!
    }

    /// The whole of array `name`, checked against `expected` element types and, where given, a
    /// shape (`nil` entries match any size).
    public func array(_ name: String, of types: Set<NumpyElementType>? = nil, shape expectedShape: [Int?]? = nil) throws(NumpyArchiveError) -> NumpyArray {
        var header: NumpyHeader?
        var bytes: [UInt8] = []
        try stream(name) { found, chunk throws(NumpyArchiveError) in
            if header == nil {
                try Self.check(found, name: name, types: types, shape: expectedShape)
                header = found
                bytes.reserveCapacity(found.dataBytes)
            }
            bytes.append(contentsOf: chunk)
        }
        return NumpyArray(header: header!, bytes: bytes)
    }

    /// Refuses `header` unless its type is among `types` and its shape matches `shape`.
    static func check(_ header: NumpyHeader, name: String, types: Set<NumpyElementType>?, shape: [Int?]?) throws(NumpyArchiveError) {
        if let types, !types.contains(header.elementType) {
            throw .array(name, "element type \(header.elementType.rawValue), expected \(types.map(\.rawValue).sorted().joined(separator: " or "))")
        }
        if let shape, shape.count != header.shape.count || zip(shape, header.shape).contains(where: { $0 != nil && $0 != $1 }) {
            throw .array(name, "shape (\(header.shape.map(String.init).joined(separator: ", "))), expected (\(shape.map { $0.map(String.init) ?? "any" }.joined(separator: ", ")))")
        }
    }

    /// Inflates array `name`'s data and hands it to `body` in chunks (with the header each
    /// time), checking the CRC-32 and the lengths at the end. `stopAfterHeader` ends once the
    /// header is read (with an empty chunk).
    public func stream(_ name: String, stopAfterHeader: Bool = false,
                       _ body: (NumpyHeader, UnsafeRawBufferPointer) throws(NumpyArchiveError) -> Void) throws(NumpyArchiveError) {
        let path = url.path
        guard let entry = entries.first(where: { $0.name == name + ".npy" || $0.name == name }) else {
            throw .missingArray(file: path, name: name, found: arrayNames)
        }
        do {
            try inflate(entry, stopAfterHeader: stopAfterHeader, body)
        } catch {
            throw error.naming(path)
        }
    }

    private func inflate(_ entry: Entry, stopAfterHeader: Bool,
                         _ body: (NumpyHeader, UnsafeRawBufferPointer) throws(NumpyArchiveError) -> Void) throws(NumpyArchiveError) {
        let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
        guard entry.flags & 1 == 0 else { throw .array(name, "it is encrypted") }
        guard entry.method == 0 || entry.method == 8 else { throw .array(name, "zip compression method \(entry.method); stored (0) and deflated (8) are read") }
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw .archive(file: url.path, reason: "cannot open it") }
        defer { try? handle.close() }
        func read(_ offset: Int, _ count: Int) throws(NumpyArchiveError) -> [UInt8] {
            guard offset >= 0, offset + count <= fileSize else { throw .array(name, "its data runs past the end of the file (truncated)") }
            guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.read(upToCount: count), data.count == count else {
                throw .array(name, "cannot read \(count) bytes at \(offset)")
            }
            return [UInt8](data)
        }
        let local = try read(entry.localHeaderOffset, 30)
        guard Self.u32(local, 0) == 0x0403_4B50 else { throw .array(name, "its local zip header is damaged") }
        var remaining = entry.compressedSize
        var position = entry.localHeaderOffset + 30 + Int(Self.u16(local, 26)) + Int(Self.u16(local, 28))
        guard position + remaining <= fileSize else { throw .array(name, "its \(remaining) compressed bytes run past the end of the file (truncated)") }

        var stream = z_stream()
        if entry.method == 8 {
            guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .array(name, "zlib failed to start") }
        }
        defer { if entry.method == 8 { inflateEnd(&stream) } }
        let chunkSize = 1 << 20
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { input.deallocate(); output.deallocate() }
        var pending: [UInt8] = []        // inflated bytes while the header is not yet whole
        var header: NumpyHeader?
        var produced = 0                 // inflated bytes in all
        var crc = crc32(0, nil, 0)

        /// Checks and hands on `chunk` of the inflated entry; true once the caller wants no more.
        func deliver(_ chunk: UnsafeRawBufferPointer) throws(NumpyArchiveError) -> Bool {
            produced += chunk.count
            guard produced <= entry.size else { throw .array(name, "it inflates to more than the \(entry.size) bytes its zip record declares") }
            crc = crc32(crc, chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(chunk.count))
            if let header {
                try body(header, chunk)
                return false
            }
            pending.append(contentsOf: chunk)
            let parsed = try pending.withUnsafeBytes { bytes in
                Result { () throws(NumpyArchiveError) in try NumpyHeader.parse(bytes, name: name) }
            }.get()
            guard let parsed else { return false }
            guard entry.size == parsed.headerBytes + parsed.dataBytes else {
                throw .array(name, "its header declares \(parsed.dataBytes) bytes of \(parsed.elementType.rawValue) in shape (\(parsed.shape.map(String.init).joined(separator: ", "))), its zip record holds \(entry.size - parsed.headerBytes)")
            }
            header = parsed
            if stopAfterHeader {
                try body(parsed, UnsafeRawBufferPointer(start: nil, count: 0))
                return true
            }
            let data = Array(pending[parsed.headerBytes...])
            pending = []
            try data.withUnsafeBytes { bytes in Result { () throws(NumpyArchiveError) in try body(parsed, bytes) } }.get()
            return false
        }

        /// The next compressed (or stored) bytes of the entry into `input`; their count.
        func refill() throws(NumpyArchiveError) -> Int {
            let count = min(remaining, chunkSize)
            let bytes = try read(position, count)
            bytes.withUnsafeBytes { input.copyMemory(from: $0) }
            (position, remaining) = (position + count, remaining - count)
            return count
        }

        if entry.method == 0 {
            while remaining > 0 {
                let count = try refill()
                if try deliver(UnsafeRawBufferPointer(rebasing: input[0..<count])) { return }
            }
        } else {
            var ended = false
            while !ended {
                if stream.avail_in == 0, remaining > 0 {
                    let count = try refill()
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    stream.avail_in = UInt32(count)
                }
                stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(chunkSize)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let count = chunkSize - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END: ended = true
                case Z_OK: break
                case Z_BUF_ERROR where stream.avail_in == 0 && remaining == 0:
                    throw .array(name, "its deflated data ends early (truncated)")
                default:
                    throw .array(name, "its deflated data is damaged (zlib: \(stream.msg.map { String(cString: $0) } ?? "error \(status)"))")
                }
                if count > 0, try deliver(UnsafeRawBufferPointer(rebasing: output[0..<count])) { return }
            }
            guard remaining == 0, stream.avail_in == 0 else { throw .array(name, "its deflated data ends before its zip record does (damaged)") }
        }
        guard header != nil else { throw .array(name, "it ends inside its .npy header (\(produced) bytes)") }
        guard produced == entry.size else { throw .array(name, "it inflates to \(produced) bytes, its zip record declares \(entry.size) (truncated)") }
        guard crc == entry.crc else { throw .array(name, "its CRC-32 is \(String(format: "%08x", crc)), its zip record says \(String(format: "%08x", entry.crc)) (damaged)") }
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
}

/// Builds a `.npz` archive in memory, each array deflated as `np.savez_compressed` does, and
/// writes it atomically. For arrays of up to 4 GiB each (no ZIP64 records are written), with
/// the archive itself (compressed) in memory.
public struct NumpyArchiveWriter {
    private var body: [UInt8] = []
    private var directory: [UInt8] = []
    private var count = 0

    /// An empty archive.
    public init() {}

    /// Adds a whole array under `name`.
    public mutating func add(_ name: String, _ array: NumpyArray) {
        add(name, header: array.header) { emit in array.bytes.withUnsafeBytes { emit($0) } }
    }

    /// Adds array `name` (stored as `name.npy`) of `header`'s type and shape; `produce` hands
    /// its data, C order, to the function it is given, in as many pieces as it likes, exactly
    /// `header.dataBytes` in all.
    public mutating func add(_ name: String, header: NumpyHeader, produce: ((UnsafeRawBufferPointer) -> Void) -> Void) {
        let encodedHeader = header.encoded
        let size = encodedHeader.count + header.dataBytes
        precondition(size < 0xFFFF_FFFF && body.count < 0xFFFF_FFFF, "arrays and archives of 4 GiB or more need ZIP64 records, which this writer does not write")
        var stream = z_stream()
        precondition(deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var compressed: [UInt8] = []
        var crc = crc32(0, nil, 0)
        var given = 0
        let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
        defer { output.deallocate() }
        func feed(_ bytes: UnsafeRawBufferPointer, finish: Bool) {
            // (crc32 with no bytes would return the initial value, not `crc`.)
            if bytes.count > 0 { crc = crc32(crc, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(bytes.count)) }
            given += bytes.count
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = UInt32(bytes.count)
            repeat {
                stream.next_out = output.baseAddress
                stream.avail_out = UInt32(output.count)
                let status = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "zlib deflate failed: \(status)")
                compressed.append(contentsOf: output[0..<(output.count - Int(stream.avail_out))])
                if finish, status == Z_STREAM_END { return }
            } while stream.avail_in > 0 || stream.avail_out == 0 || finish
        }
        encodedHeader.withUnsafeBytes { feed($0, finish: false) }
        produce { piece in
            // Pieces larger than 1 GiB go in parts (zlib counts in 32 bits).
            var start = 0
            while start < piece.count {
                let end = min(piece.count, start + (1 << 30))
                feed(UnsafeRawBufferPointer(rebasing: piece[start..<end]), finish: false)
                start = end
            }
        }
        precondition(given == size, "array '\(name)': \(given - encodedHeader.count) bytes produced for a header of \(header.dataBytes)")
        feed(UnsafeRawBufferPointer(start: nil, count: 0), finish: true)
        let fileName = Array((name + ".npy").utf8)
        let offset = body.count
        func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
        // Version 2.0, no flags, deflate, a fixed time stamp (1980-01-01) so the bytes depend on the arrays alone.
        let common = u16(20) + u16(0) + u16(8) + u16(0) + u16(0x21) + u32(Int(crc)) + u32(compressed.count) + u32(size) + u16(fileName.count) + u16(0)
        body += u32(0x0403_4B50) + common + fileName + compressed
        directory += u32(0x0201_4B50) + u16(20) + common + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset) + fileName
        count += 1
    }

    /// The archive's length in bytes.
    public var byteCount: Int { body.count + directory.count + 22 }

    /// The archive's bytes: the entries, their directory and its end record.
    public var bytes: [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
        return body + directory + u32(0x0605_4B50) + u16(0) + u16(0) + u16(count) + u16(count) + u32(directory.count) + u32(body.count) + u16(0)
    }

    /// Writes the archive to `url` atomically.
    public func write(to url: URL) throws(FileWriteError) {
        try writeAtomically(Data(bytes), to: url)
    }
}
