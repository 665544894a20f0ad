import Foundation
import Runs
import Testing

/// The code-grid table `vae sample --codes` reads: what `vae encode` writes, edited or not; every
/// malformed line refused naming the line and the column.
@Suite struct CodeGridTableTests {
    static let header = "index,label,c_0,c_1,c_2,c_3"

    @Test func aTableAsEncodeWritesItReadsBackWithCarriageReturnsAndEmptyLabels() throws {
        let table = try CodeGridTable.parse(Self.header + "\r\n0,3,1,2,3,0\r\n1,, 4 ,0,0,1\n\n", file: "t.csv", positions: 4, codebookSize: 5)
        #expect(table.count == 2 && table.codes == [1, 2, 3, 0, 4, 0, 0, 1])
    }

    @Test(arguments: [
        ("index,label,c_0,c_1,c_2\n0,1,1,2,3", "t.csv line 1: the header must be index,label,c_0,…,c_3 (4 codes a grid"),
        (Self.header + "\n", "t.csv: holds no grids"),
        (Self.header + "\n0,1,1,2,3", "t.csv line 2: has 5 fields; expected 6"),
        (Self.header + "\n0,1,1,2,3,0\n1,1,1,2,x,0", "t.csv line 3: c_2 is not a whole number: 'x'"),
        (Self.header + "\n0,1,1,2,3,5", "t.csv line 2: c_3 is 5, outside the codebook: each code must be 0...4"),
        (Self.header + "\n0,1,-1,2,3,4", "t.csv line 2: c_0 is -1, outside the codebook"),
        ("", "t.csv line 1: the header must be"),
    ])
    func malformedTablesAreRefusedNamingTheLineAndColumn(text: String, expected: String) {
        #expect {
            _ = try CodeGridTable.parse(text, file: "t.csv", positions: 4, codebookSize: 5)
        } throws: { error in
            let message = (error as? CodeGridTableError)?.errorDescription ?? ""
            return message.hasPrefix(expected) || message.contains(expected)
        }
    }
}
