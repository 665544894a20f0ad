import Foundation

/// Grids of code indices from a CSV file as `vae encode` writes them for a VQ-VAE, perhaps edited
/// by hand: the header `index,label,c_0,…,c_{P−1}` (P = h · w positions), then one grid per line,
/// its index and label (either may be empty) and P whole numbers, each a code 0..<K. Read as
/// strictly as an option: every problem names the file, the line and the column.
public struct CodeGridTable: Equatable, Sendable {
    /// The grids' indices, grid after grid, [count · P].
    public let codes: [Int32]
    /// The grids.
    public let count: Int

    /// The most grids read from one file.
    public static let maximumGrids = 10_000

    /// The grids of the file at `url` for a model of `positions` codes per grid from a codebook of `codebookSize`.
    public static func read(from url: URL, positions: Int, codebookSize: Int) throws(CodeGridTableError) -> CodeGridTable {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw CodeGridTableError(file: url.path, line: nil, problem: "cannot be read: \(error.localizedDescription)") }
        guard data.count <= (maximumGrids + 1) * (positions + 2) * 12 else {
            throw CodeGridTableError(file: url.path, line: nil, problem: "\(data.count) bytes is more than \(maximumGrids) grids of \(positions) codes can take")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CodeGridTableError(file: url.path, line: nil, problem: "is not UTF-8 text") }
        return try parse(text, file: url.path, positions: positions, codebookSize: codebookSize)
    }

    /// The grids of `text` (see the type); `file` names it in errors.
    public static func parse(_ text: String, file: String, positions: Int, codebookSize: Int) throws(CodeGridTableError) -> CodeGridTable {
        // "\r\n" is one Character in Swift, so both line ends are separators.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        let header = "index,label," + (0..<positions).map { "c_\($0)" }.joined(separator: ",")
        guard let first = lines.first, first == header else {
            let found = lines.first.map { "'\($0.prefix(60))\($0.count > 60 ? "…" : "")'" } ?? "nothing"
            throw CodeGridTableError(file: file, line: 1, problem: "the header must be index,label,c_0,…,c_\(positions - 1) (\(positions) codes a grid, as `vae encode` writes for this model), found \(found)")
        }
        guard lines.count > 1 else { throw CodeGridTableError(file: file, line: nil, problem: "holds no grids: one line of codes a grid follows the header") }
        guard lines.count - 1 <= maximumGrids else { throw CodeGridTableError(file: file, line: nil, problem: "holds \(lines.count - 1) grids; at most \(maximumGrids) are read") }
        var codes: [Int32] = []
        codes.reserveCapacity((lines.count - 1) * positions)
        for (offset, line) in lines.dropFirst().enumerated() {
            let number = offset + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == positions + 2 else {
                throw CodeGridTableError(file: file, line: number, problem: "has \(fields.count) fields; expected \(positions + 2) (index, label and \(positions) codes)")
            }
            for (column, field) in fields.dropFirst(2).enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                guard let value = Int(trimmed) else {
                    throw CodeGridTableError(file: file, line: number, problem: "c_\(column) is not a whole number: '\(trimmed.prefix(20))'")
                }
                guard (0..<codebookSize).contains(value) else {
                    throw CodeGridTableError(file: file, line: number, problem: "c_\(column) is \(value), outside the codebook: each code must be 0...\(codebookSize - 1)")
                }
                codes.append(Int32(value))
            }
        }
        return CodeGridTable(codes: codes, count: lines.count - 1)
    }
}

/// A code-grid table that cannot be used: the file, the line (from 1) and what is wrong.
public struct CodeGridTableError: Error, LocalizedError, Equatable, Sendable {
    /// The file.
    public let file: String
    /// The line at fault, when one is.
    public let line: Int?
    /// What is wrong and what was expected.
    public let problem: String

    /// "FILE line N: PROBLEM".
    public var errorDescription: String? { "\(file)\(line.map { " line \($0)" } ?? ""): \(problem)" }
}
