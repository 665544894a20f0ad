import CCairo
import Foundation
import Persistence

/// A picture drawn with cairo, rendered as PNG (anti-aliased raster) or SVG (vector).
protocol CairoPicture {
    var width: Double { get }
    var height: Double { get }
    /// Draws the whole picture with the cairo context `cr`, in points from the top left.
    func draw(_ cr: OpaquePointer)
}

extension CairoPicture {
    /// The picture as PNG bytes.
    func renderPNG() throws(PictureError) -> Data {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width.rounded(.up)), Int32(height.rounded(.up))) else {
            throw .encodingFailed(reason: "cairo could not create a surface")
        }
        defer { cairo_surface_destroy(surface) }
        drawOn(surface)
        return try StreamCollector.collect { collector in
            cairo_surface_write_to_png_stream(surface, StreamCollector.write, collector)
        }
    }

    /// The picture as SVG bytes.
    func renderSVG() throws(PictureError) -> Data {
        let collector = StreamCollector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        guard let surface = cairo_svg_surface_create_for_stream(StreamCollector.write, unmanaged.toOpaque(), width, height) else {
            throw .encodingFailed(reason: "cairo could not create an SVG surface")
        }
        drawOn(surface)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw .encodingFailed(reason: String(cString: cairo_status_to_string(status))) }
        return collector.data
    }

    /// Writes PNG, or SVG when the file name ends in `.svg`, atomically.
    func writeRendered(to url: URL) throws(PictureError) {
        let data = url.pathExtension.lowercased() == "svg" ? try renderSVG() : try renderPNG()
        do { try writeAtomically(data, to: url) } catch { throw .writeFailed(path: url.path, reason: error.reason) }
    }

    private func drawOn(_ surface: OpaquePointer) {
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        draw(cr)
    }
}

/// Shows `string` with its box aligned at (x, y): `alignX` 0 left, 0.5 centre, 1 right; likewise
/// `alignY` 0 top, 1 bottom.
func showText(_ cr: OpaquePointer, _ string: String, x: Double, y: Double, alignX: Double, alignY: Double) {
    var extents = cairo_text_extents_t()
    cairo_text_extents(cr, string, &extents)
    cairo_move_to(cr, x - extents.width * alignX - extents.x_bearing, y - extents.height * alignY - extents.y_bearing)
    cairo_show_text(cr, string)
}

/// Shows `string` centred at x, its top at y, in the largest size from `size` down to 9 points
/// whose width fits `maximumWidth`; at 9 points a string still too wide loses characters from
/// its end, replaced by an ellipsis.
func showFittedText(_ cr: OpaquePointer, _ string: String, x: Double, y: Double, maximumWidth: Double, size: Double) {
    var extents = cairo_text_extents_t()
    var fontSize = size
    while true {
        cairo_set_font_size(cr, fontSize)
        cairo_text_extents(cr, string, &extents)
        if extents.x_advance <= maximumWidth || fontSize <= 9 { break }
        fontSize -= 0.5
    }
    var shown = string
    while extents.x_advance > maximumWidth && shown.count > 1 {
        shown = String(shown.dropLast(2)) + "…"
        cairo_text_extents(cr, shown, &extents)
    }
    showText(cr, shown, x: x, y: y, alignX: 0.5, alignY: 0)
}

func setColour(_ cr: OpaquePointer, _ colour: Colour, alpha: Double = 1) {
    if alpha < 1 {
        cairo_set_source_rgba(cr, colour.red, colour.green, colour.blue, alpha)
    } else {
        cairo_set_source_rgb(cr, colour.red, colour.green, colour.blue)
    }
}

/// Collects the bytes cairo writes through a stream callback.
final class StreamCollector {
    var data = Data()

    static let write: cairo_write_func_t = { closure, bytes, length in
        let collector = Unmanaged<StreamCollector>.fromOpaque(closure!).takeUnretainedValue()
        collector.data.append(bytes!, count: Int(length))
        return CAIRO_STATUS_SUCCESS
    }

    static func collect(_ body: (UnsafeMutableRawPointer) -> cairo_status_t) throws(PictureError) -> Data {
        let collector = StreamCollector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        let status = body(unmanaged.toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else { throw .encodingFailed(reason: String(cString: cairo_status_to_string(status))) }
        return collector.data
    }
}
