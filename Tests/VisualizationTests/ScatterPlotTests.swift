import Foundation
import Testing
import Visualization

/// The `<path .../>` elements of an SVG, with spaces removed (cairo versions differ in spacing
/// and in writing colours as style properties or attributes).
func svgPaths(_ svg: String) -> [String] {
    svg.components(separatedBy: "<path").dropFirst().map { element in
        String(element.prefix { $0 != ">" }).replacingOccurrences(of: " ", with: "")
    }
}

/// How cairo writes a colour: rgb(r%,g%,b%) with up to 6 decimals, trailing zeros dropped.
func svgColour(_ colour: Colour) -> String {
    func percent(_ value: Double) -> String {
        var text = String(format: "%.6f", value * 100)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "%"
    }
    return "rgb(\(percent(colour.red)),\(percent(colour.green)),\(percent(colour.blue)))"
}

@Suite struct ScatterPlotTests {
    @Test func scatterSVGHoldsOneMarkPerPointAndOneLegendEntryPerLabel() throws {
        // Three classes with 5, 7 and 2 points, interleaved.
        let classes = [0, 1, 1, 0, 2, 1, 0, 1, 1, 0, 2, 1, 1, 0]
        let xs = classes.indices.map { Double($0) }, ys = classes.indices.map { Double($0 * $0) / 10 }
        let plot = ScatterPlot(title: "latent means", xLabel: "z0", yLabel: "z1", xs: xs, ys: ys, classes: classes,
                               classNames: ["zero", "one", "two"])
        let svg = String(decoding: try plot.svgData(), as: UTF8.self)
        let paths = svgPaths(svg)
        for label in 0..<3 {
            let colour = svgColour(Colour.qualitative[label])
            let marks = paths.filter { $0.contains(colour) }
            let translucent = marks.filter { $0.contains("opacity:0.6") || $0.contains("opacity=\"0.6\"") }
            #expect(translucent.count == classes.filter { $0 == label }.count, "points of class \(label)")
            #expect(marks.count - translucent.count == 1, "legend entries of class \(label)")
        }
        // Colours of classes not shown do not appear.
        #expect(!paths.contains { $0.contains(svgColour(Colour.qualitative[3])) })
        let png = try plot.pngData()
        #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    }

    @Test func plotRowPlacesItsPlotsSideBySide() throws {
        let plot = LinePlot(title: "a", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(0, 1), (1, 2)], colour: Colour.qualitative[0])])
        let row = PlotRow([plot, plot])
        #expect(row.width == 2 * plot.width && row.height == plot.height)
        let svg = String(decoding: try row.svgData(), as: UTF8.self)
        // Each plot strokes its line and its legend sample in the series colour.
        #expect(svgPaths(svg).filter { $0.contains(svgColour(Colour.qualitative[0])) }.count == 4)
    }
}
