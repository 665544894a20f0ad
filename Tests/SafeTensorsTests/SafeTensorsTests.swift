import Foundation
import Testing
import Persistence
import SafeTensors

@Suite struct SafeTensorsTests {
    let sample = SafeTensorsFile(
        tensors: ["fc1.weight": .init(shape: [2, 3], values: [1, -2, 3.5, 0, .pi, -1e-30]),
                  "fc1.bias": .init(shape: [2], values: [0.25, -0.75])],
        metadata: ["format": "pt"])

    /// A file's bytes from a literal header and data.
    func bytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        var result = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { result.append(contentsOf: $0) }
        result.append(contentsOf: Array(header.utf8))
        result.append(contentsOf: data)
        return result
    }

    @Test func roundTripPreservesNamesShapesValuesAndMetadata() throws {
        let decoded = try SafeTensorsFile.decode(sample.encoded(), file: "memory")
        #expect(decoded == sample)
    }

    @Test func encodingFollowsTheSpecification() {
        let data = sample.encoded()
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + length) % 8 == 0)
        let header = String(decoding: data[8..<(8 + length)], as: UTF8.self)
        #expect(header.contains(#""fc1.bias":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}"#))
        #expect(header.contains(#""fc1.weight":{"data_offsets":[8,32],"dtype":"F32","shape":[2,3]}"#))
        #expect(data.count == 8 + length + 32)
        // Little-endian F32: 0.25 is 0x3E800000.
        #expect(Array(data[(8 + length)..<(8 + length + 4)]) == [0x00, 0x00, 0x80, 0x3E])
    }

    @Test func fileRoundTripIsAtomicAndLeavesNoTemporaryFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        try sample.write(to: url)
        try sample.write(to: url)  // overwriting works
        #expect(try SafeTensorsFile.read(from: url) == sample)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
        #expect(throws: SafeTensorsError.self) { try sample.write(to: folder.appendingPathComponent("missing/model.safetensors")) }
    }

    /// Written by the reference implementation (Python `safetensors.numpy.save_file`, 0.4+):
    /// fc1.weight = arange(6).reshape(2, 3), fc1.bias = [0.5, -1], metadata format=pt.
    @Test func fileWrittenByTheReferenceLibraryDecodes() throws {
        let data = Data(base64Encoded: "oAAAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJmYzEuYmlhcyI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzAsOF19LCJmYzEud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOls4LDMyXX19ICAgAAAAPwAAgL8AAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=")!
        let file = try SafeTensorsFile.decode(data, file: "reference")
        #expect(file.tensors["fc1.weight"] == .init(shape: [2, 3], values: [0, 1, 2, 3, 4, 5]))
        #expect(file.tensors["fc1.bias"] == .init(shape: [2], values: [0.5, -1]))
        #expect(file.metadata == ["format": "pt"])
    }

    @Test func truncatedFileIsRejected() {
        let full = sample.encoded()
        #expect(throws: SafeTensorsError.truncated(file: "cut", expectedBytes: 8, foundBytes: 5)) {
            try SafeTensorsFile.decode(full.prefix(5), file: "cut")
        }
        // Cut inside the data: the last tensor's offsets fall outside.
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.decode(full.prefix(full.count - 4), file: "cut") }
        #expect(throws: SafeTensorsError.truncated(file: "cut", expectedBytes: 8 + 1000, foundBytes: 10)) {
            try SafeTensorsFile.decode(bytes(header: "{}", declaredLength: 1000), file: "cut")
        }
    }

    @Test func malformedHeaderIsRejected() {
        #expect(throws: SafeTensorsError.malformedHeader(file: "bad", reason: "the 8-byte header is not a JSON object")) {
            try SafeTensorsFile.decode(bytes(header: "not json"), file: "bad")
        }
        #expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile.decode(bytes(header: #"{"w":{"dtype":"F32","shape":[1]}}"#), file: "bad")
        }
    }

    @Test func offsetsOutsideTheDataAreRejectedNamingTheTensor() {
        #expect(throws: SafeTensorsError.offsetsOutOfBounds(file: "f", tensor: "w", begin: 0, end: 16, dataBytes: 8)) {
            try SafeTensorsFile.decode(bytes(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 8)), file: "f")
        }
        #expect(throws: SafeTensorsError.sizeMismatch(file: "f", tensor: "w", shape: [3], bytes: 8)) {
            try SafeTensorsFile.decode(bytes(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), file: "f")
        }
        let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.decode(bytes(header: overlapping, data: Array(repeating: 0, count: 12)), file: "f") }
    }

    @Test func wrongDTypeIsRejectedNamingTheTensor() {
        #expect(throws: SafeTensorsError.unsupportedDType(file: "f", tensor: "w", dtype: "F16")) {
            try SafeTensorsFile.decode(bytes(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), file: "f")
        }
        let message = SafeTensorsError.unsupportedDType(file: "model.safetensors", tensor: "fc1.weight", dtype: "F16").localizedDescription
        #expect(message.contains("model.safetensors") && message.contains("fc1.weight") && message.contains("F32"))
    }

    @Test func missingFileIsReportedByPath() {
        #expect(throws: SafeTensorsError.unreadable(file: "/nonexistent/model.safetensors", reason: "no such file or folder")) {
            try SafeTensorsFile.read(from: URL(fileURLWithPath: "/nonexistent/model.safetensors"))
        }
        let folder = FileManager.default.temporaryDirectory
        #expect(throws: SafeTensorsError.unreadable(file: folder.path, reason: "it is a folder, not a file")) {
            try SafeTensorsFile.read(from: folder)
        }
    }

    @Test func shapesWhoseSizeOverflowsAreRejectedWithoutOverflowingTheCheck() {
        // 2^62 elements and more: the byte count (or the element count) does not fit an Int.
        for shape in ["[2147483648, 2147483648]", "[4294967296, 4294967296, 4294967296]", "[999999999999999, 999999999999999]"] {
            let header = #"{"w": {"dtype": "F32", "shape": \#(shape), "data_offsets": [0, 0]}}"#
            #expect { try SafeTensorsFile.decode(bytes(header: header), file: "big.safetensors") } throws: { error in
                let message = (error as? SafeTensorsError)?.localizedDescription ?? ""
                return message.contains("big.safetensors: tensor 'w' has shape") && message.contains("more bytes than a file can hold")
            }
        }
        #expect(SafeTensorsError.byteCount([3, 5]) == 60 && SafeTensorsError.byteCount([1 << 62]) == nil && SafeTensorsError.byteCount([]) == 4)
    }
}

@Suite struct ErrorTextTests {
    @Test func foundationErrorCodesBecomeWordsAUserCanActOn() {
        #expect(plainDescription(of: NSError(domain: NSURLErrorDomain, code: NSURLErrorTimedOut)) == "the server did not answer in time")
        #expect(plainDescription(of: NSError(domain: NSURLErrorDomain, code: NSURLErrorCannotConnectToHost)) == "the connection was refused")
        #expect(plainDescription(of: CocoaError(.fileReadNoSuchFile)) == "no such file or folder")
        #expect(plainDescription(of: CocoaError(.fileWriteFileExists)) == "a file of that name is in the way")
        #expect(plainDescription(of: FileReadError(path: "/x", reason: "it is a folder, not a file")) == "it is a folder, not a file")
        #expect(describeErrno(ENOSPC) == "no space left on the device" && describeErrno(EISDIR) == "it is a folder, not a file")
    }

    @Test func aJSONFieldOfTheWrongKindIsNamedByItsPath() throws {
        struct Inner: Decodable { var seed: UInt64; var count: Int }
        struct Outer: Decodable { var configuration: Inner }
        func problem(_ text: String) -> String {
            do { _ = try JSONDecoder().decode(Outer.self, from: Data(text.utf8)); return "" } catch {
                return JSONDecoding.describe(error, data: Data(text.utf8))
            }
        }
        #expect(problem(#"{"configuration": {"seed": -5, "count": 1}}"#) == "configuration.seed: expected a non-negative integer, got -5")
        #expect(problem(#"{"configuration": {"seed": 5, "count": "many"}}"#).hasPrefix("configuration.count: expected an integer"))
        #expect(problem(#"{"configuration": {"seed": 5}}"#) == "the field 'count' in configuration is missing")
        #expect(problem(#"{"configuration": "#) == "it is not valid JSON")
    }
}

@Suite struct ForeignFileTests {
    @Test func aTextFileIsReportedAsNotSafetensorsRatherThanTruncated() {
        let json = Data(#"{"tool": "vae", "version": "0.3.0"}"#.utf8)
        #expect(throws: SafeTensorsError.malformedHeader(file: "config.json", reason: "it does not start with an 8-byte header length followed by a JSON header (is it a safetensors file?)")) {
            try SafeTensorsFile.decode(json, file: "config.json")
        }
    }
}
