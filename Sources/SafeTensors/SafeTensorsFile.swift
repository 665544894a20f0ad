import Foundation
import Persistence

/// Named F32 tensors in the safetensors format (the format of PyTorch's and Hugging Face's
/// `safetensors` package), so checkpoints load with `safetensors.torch.load_file`.
///
/// Layout: an 8-byte little-endian header length N; N bytes of JSON mapping each name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (plus an optional
/// `"__metadata__"` of string pairs), padded with spaces to a multiple of 8; then the data,
/// little-endian, row-major, each tensor at its offsets relative to the start of the data.
public struct SafeTensorsFile: Equatable {
    /// One tensor: its shape and float32 values.
    public struct Entry: Equatable {
        /// The sizes, outermost first.
        public var shape: [Int]
        /// The values, row-major; as many as the shape's product.
        public var values: [Float]

        /// A tensor of `shape` holding `values`.
        public init(shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
            self.shape = shape
            self.values = values
        }
    }

    /// The tensors by name.
    public var tensors: [String: Entry]
    /// The header's `__metadata__` string pairs.
    public var metadata: [String: String]

    /// A file holding `tensors` and `metadata`.
    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    // MARK: - Writing

    /// The file's bytes. Tensors are laid out in name order.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let entry = tensors[name]!
            header[name] = ["dtype": "F32", "shape": entry.shape, "data_offsets": [offset, offset + entry.values.count * 4]] as [String: Any]
            offset += entry.values.count * 4
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            #if _endian(little)
            tensors[name]!.values.withUnsafeBytes { data.append(contentsOf: $0) }  // already little-endian: one copy
            #else
            tensors[name]!.values.withUnsafeBufferPointer { values in
                values.forEach { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
            #endif
        }
        return data
    }

    /// Writes the file atomically (temporary file, then rename).
    public func write(to url: URL) throws(SafeTensorsError) {
        do {
            try writeAtomically(encoded(), to: url)
        } catch {
            throw .writeFailed(file: url.path, reason: error.reason)
        }
    }

    // MARK: - Reading

    /// Reads and validates a safetensors file: the header's JSON, every entry's dtype, shape and offsets,
    /// and (F32 only here) that every value is finite.
    /// - Throws: `SafeTensorsError` naming the file, the tensor and what was wrong.
    public static func read(from url: URL) throws(SafeTensorsError) -> SafeTensorsFile {
        let data: Data
        do { data = try readFile(url) } catch { throw .unreadable(file: url.path, reason: error.reason) }
        return try decode(data, file: url.path)
    }

    /// Parses and validates `data`; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws(SafeTensorsError) -> SafeTensorsFile {
        guard data.count >= 8 else { throw .truncated(file: file, expectedBytes: 8, foundBytes: data.count) }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            // A header length beyond the file and no JSON after it: another kind of file, not a cut one.
            if data.count > 8, data[data.startIndex + 8] != UInt8(ascii: "{") {
                throw .malformedHeader(file: file, reason: "it does not start with an 8-byte header length followed by a JSON header (is it a safetensors file?)")
            }
            throw .truncated(file: file, expectedBytes: headerLength > UInt64(Int.max - 8) ? Int.max : 8 + Int(headerLength), foundBytes: data.count)
        }
        let headerBytes = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw .malformedHeader(file: file, reason: "the \(headerLength)-byte header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataBytes = data.count - dataStart
        var result = SafeTensorsFile()
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let metadata = value as? [String: String] else {
                    throw .malformedHeader(file: file, reason: "__metadata__ must map strings to strings")
                }
                result.metadata = metadata
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shapeValues = fields["shape"] as? [Any], let offsetValues = fields["data_offsets"] as? [Any] else {
                throw .malformedHeader(file: file, reason: "tensor '\(name)' needs dtype, shape and data_offsets")
            }
            let shape = try integers(shapeValues, field: "shape", tensor: name, file: file)
            let offsets = try integers(offsetValues, field: "data_offsets", tensor: name, file: file)
            guard offsets.count == 2 else { throw .malformedHeader(file: file, reason: "tensor '\(name)': data_offsets must hold two integers") }
            guard dtype == "F32" else { throw .unsupportedDType(file: file, tensor: name, dtype: dtype) }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataBytes else {
                throw .offsetsOutOfBounds(file: file, tensor: name, begin: begin, end: end, dataBytes: dataBytes)
            }
            guard let bytes = SafeTensorsError.byteCount(shape), bytes == end - begin else {
                throw .sizeMismatch(file: file, tensor: name, shape: shape, bytes: end - begin)
            }
            let elements = bytes / 4
            var values = [Float](repeating: 0, count: elements)
            data.withUnsafeBytes { raw in
                let source = raw.baseAddress! + dataStart + begin
                for i in 0..<elements {
                    values[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
            }
            result.tensors[name] = Entry(shape: shape, values: values)
            ranges.append((begin, end, name))
        }
        ranges.sort { $0.0 < $1.0 }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.0 < previous.1 {
            throw .malformedHeader(file: file, reason: "tensors '\(previous.2)' and '\(next.2)' overlap in the data section")
        }
        return result
    }

    private static func integers(_ values: [Any], field: String, tensor: String, file: String) throws(SafeTensorsError) -> [Int] {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
                  number.doubleValue >= 0, number.doubleValue < 1e15 else {
                throw .malformedHeader(file: file, reason: "tensor '\(tensor)': \(field) must hold non-negative integers")
            }
            result.append(number.intValue)
        }
        return result
    }
}
