import Foundation
import Synchronization

/// A hyperparameter's value in TensorBoard's HParams view.
public enum HyperparameterValue: Equatable, Sendable {
    /// A number (`number_value`).
    case number(Double)
    /// A string (`string_value`).
    case text(String)
    /// A boolean (`bool_value`).
    case flag(Bool)
}

/// How a run ended, for TensorBoard's HParams view (its `Status`).
public enum SessionStatus: Int, Sendable {
    /// The run finished.
    case success = 1
    /// The run failed (its loss stopped being finite).
    case failure = 2
    /// The run is still going.
    case running = 3
}

/// An event file could not be created or written.
public struct EventFileError: Error, LocalizedError, Equatable {
    /// The file.
    public let path: String
    /// What went wrong.
    public let reason: String
    /// "cannot write the TensorBoard event file PATH: REASON".
    public var errorDescription: String? { "cannot write the TensorBoard event file \(path): \(reason)" }
}

/// Writes a TensorBoard event file: TFRecords (a little-endian UInt64 length, its masked
/// CRC-32C, the payload, the payload's masked CRC-32C) each holding a serialised TensorFlow
/// `Event`. The first event names the format ("brain.Event:2"); then scalars (`simple_value`),
/// PNG images, markdown text (the text plugin's string tensor), the HParams plugin's session
/// start and end, and `SessionLog` starts, each at a step and a wall time.
///
/// Events are kept in memory until `flush()` appends them to the file, so that a caller can
/// make what the file holds follow its own checkpoints. The file is named
/// `events.out.tfevents.<seconds>.<host>.<process>.<count>` (TensorBoard reads every file whose
/// name holds "tfevents") and is never overwritten: each writer makes a new one.
public final class EventFileWriter {
    /// The file written.
    public let url: URL
    private let handle: FileHandle
    private var pending: [UInt8] = []
    /// Writers made by this process so far (the file name's last part).
    private static let made = Atomic<Int>(0)

    /// A new event file in `folder` (created when missing), beginning with the version event.
    /// - Throws: `EventFileError` when the folder or the file cannot be made.
    public init(folder: URL, wallTime: Date = Date()) throws(EventFileError) {
        let count = Self.made.add(1, ordering: .relaxed).newValue
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        url = folder.appendingPathComponent("events.out.tfevents.\(Int(wallTime.timeIntervalSince1970)).\(host).\(getpid()).\(count)")
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw EventFileError(path: url.path, reason: error.localizedDescription)
        }
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw EventFileError(path: url.path, reason: String(cString: strerror(errno))) }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        append(wallTime: wallTime.timeIntervalSince1970, step: 0) { $0.string(3, "brain.Event:2") }
        try flush()
    }

    /// The events not yet in the file, as bytes.
    public var pendingBytes: Int { pending.count }

    /// One event: wall time, step, then what `what` writes (a field of `Event`), as a record.
    private func append(wallTime: Double, step: Int, _ what: (inout ProtocolBufferWriter) -> Void) {
        var event = ProtocolBufferWriter()
        event.double(1, wallTime)
        event.integer(2, step)
        what(&event)
        let length = withUnsafeBytes(of: UInt64(event.bytes.count).littleEndian) { Array($0) }
        pending += length
        withUnsafeBytes(of: MaskedCRC32C.masked(length).littleEndian) { pending.append(contentsOf: $0) }
        pending += event.bytes
        withUnsafeBytes(of: MaskedCRC32C.masked(event.bytes).littleEndian) { pending.append(contentsOf: $0) }
    }

    /// A `Summary` event with one value: the tag, then what `value` writes.
    private func summary(_ tag: String, step: Int, wallTime: Double, _ value: @escaping (inout ProtocolBufferWriter) -> Void) {
        append(wallTime: wallTime, step: step) { event in
            event.message(5) { summary in
                summary.message(1) { entry in
                    entry.string(1, tag)
                    value(&entry)
                }
            }
        }
    }

    /// A scalar at `step` (TensorBoard's Scalars view; a `simple_value`, as a float).
    public func scalar(_ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        summary(tag, step: step, wallTime: wallTime) { $0.float(2, Float(value)) }
    }

    /// A PNG image of `width` x `height` pixels with `channels` (1 grey, 3 RGB, 4 RGBA) at `step`.
    public func image(_ tag: String, png: [UInt8], width: Int, height: Int, channels: Int, step: Int,
                      wallTime: Double = Date().timeIntervalSince1970) {
        summary(tag, step: step, wallTime: wallTime) { entry in
            entry.message(4) { image in
                image.integer(1, height)
                image.integer(2, width)
                image.integer(3, channels)
                image.data(4, png)
            }
        }
    }

    /// Markdown text at `step` (the text plugin: a scalar string tensor).
    public func text(_ tag: String, _ markdown: String, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        summary(tag, step: step, wallTime: wallTime) { entry in
            entry.message(9) { metadata in metadata.message(1) { $0.string(1, "text") } }
            entry.message(8) { tensor in
                tensor.integer(1, 7)  // DT_STRING
                tensor.message(2) { _ in }  // a scalar's shape: no dimensions
                tensor.string(8, markdown)
            }
        }
    }

    /// The run's hyperparameters for the HParams view (its `SessionStartInfo`, in the session
    /// group `group`), which TensorBoard pairs with the run's last scalars as metrics.
    public func sessionStart(hyperparameters: [(name: String, value: HyperparameterValue)], group: String,
                             startTime: Double = Date().timeIntervalSince1970) {
        hyperparametersSummary("_hparams_/session_start_info", step: 0) { data in
            data.message(3) { start in
                for (name, value) in hyperparameters {
                    start.message(1) { entry in
                        entry.string(1, name)
                        entry.message(2) { protobufValue in
                            switch value {
                            case let .number(number): protobufValue.double(2, number)
                            case let .text(text): protobufValue.string(3, text)
                            case let .flag(flag): protobufValue.flag(4, flag)
                            }
                        }
                    }
                }
                start.string(4, group)
                start.double(5, startTime)
            }
        }
    }

    /// How the run ended, for the HParams view (its `SessionEndInfo`).
    public func sessionEnd(_ status: SessionStatus, step: Int, endTime: Double = Date().timeIntervalSince1970) {
        hyperparametersSummary("_hparams_/session_end_info", step: step) { data in
            data.message(4) { end in
                end.integer(1, status.rawValue)
                end.double(2, endTime)
            }
        }
    }

    /// A summary of the HParams plugin: its plugin data (version 0) in the metadata and the
    /// empty float tensor its own writer puts beside it.
    private func hyperparametersSummary(_ tag: String, step: Int, _ content: (inout ProtocolBufferWriter) -> Void) {
        var data = ProtocolBufferWriter()
        data.integer(1, 0)
        content(&data)
        let bytes = data.bytes
        summary(tag, step: step, wallTime: Date().timeIntervalSince1970) { entry in
            entry.message(9) { metadata in
                metadata.message(1) { plugin in
                    plugin.string(1, "hparams")
                    plugin.data(2, bytes)
                }
            }
            entry.message(8) { tensor in
                tensor.integer(1, 1)  // DT_FLOAT
                tensor.message(2) { shape in shape.message(2) { $0.integer(1, 0) } }  // shape (0,)
            }
        }
    }

    /// A `SessionLog` START at `step`: a reader drops the events of this file's run at `step` and
    /// later that it read before (a run resumed from a checkpoint takes up its steps again).
    public func sessionLogStart(step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        append(wallTime: wallTime, step: step) { event in event.message(7) { $0.integer(1, 1) } }
    }

    /// Appends the pending events to the file.
    /// - Throws: `EventFileError` when the write fails (the events stay pending).
    public func flush() throws(EventFileError) {
        guard !pending.isEmpty else { return }
        do {
            try handle.write(contentsOf: pending)
        } catch {
            throw EventFileError(path: url.path, reason: error.localizedDescription)
        }
        pending.removeAll(keepingCapacity: true)
    }
}
